import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { WORDS } from '../../src/core/backup/wordlist';
import { makeEvent } from '../../src/core/transcript/event';
import { SecretGuard } from '../../src/core/transcript/secrets';

const ev = (data: Record<string, unknown>) => makeEvent(null, { at: '2026-06-01T09:00:00.000Z', ceremony: 'c1', step: 'collect', actor: null, type: 'ERROR_RECORDED', data });
const share = (seed: number[]) => seed.map((n) => WORDS[n % WORDS.length]);
// Distinct words: a real share is 363 random bits, so a repeated run ("abandon abandon …") is not a case to guard.
const wordsArb = fc.uniqueArray(fc.integer({ min: 0, max: 2047 }), { minLength: 33, maxLength: 33, selector: (n) => WORDS[n].slice(0, 4) }).map(share);
const KEK = Buffer.from('00112233445566778899aabbccddeeff0f1e2d3c4b5a69788796a5b4c3d2e1f0', 'hex');

function leakOf(guard: SecretGuard, data: Record<string, unknown>): unknown {
  try {
    guard.check(ev(data));
    return null;
  } catch (e) {
    return e;
  }
}

describe('SecretGuard: share words', () => {
  it('refuses any 4-word window of a share, however it is written into an event (seeded property)', () => {
    fc.assert(
      fc.property(wordsArb, fc.integer({ min: 0, max: 29 }), fc.constantFrom('sentence', 'array', 'upper', 'prefixes', 'fieldname', 'quoted'), (words, at, form) => {
        const guard = new SecretGuard();
        guard.addShareWords(words);
        const w = words.slice(at, at + 4);
        const data: Record<string, unknown> = {
          sentence: { message: `Word ${at + 1} is wrong: ${w.join(' ')} then.` },
          array: { words: w },
          upper: { note: w.join('\n').toUpperCase() },
          prefixes: { typed: w.map((x) => x.slice(0, 4)).join(', ') },
          fieldname: { [w.join('-')]: true },
          quoted: { message: w.map((x) => `'${x}'`).join(', ') },
        }[form]!;
        const e = leakOf(guard, data);
        expect(e).toMatchObject({ code: 'TRANSCRIPT_SECRET_LEAK', details: { kind: 'share words', seq: 1, type: 'ERROR_RECORDED' } });
        expect((e as Error).message).not.toContain(w.join(' '));
        expect(Object.keys((e as { details: object }).details).sort()).toEqual(['field', 'kind', 'seq', 'type']);
      }),
      { seed: 1502, numRuns: 300 },
    );
  });

  it('passes codes, positions, single words and 3-word runs (seeded property)', () => {
    fc.assert(
      fc.property(wordsArb, fc.integer({ min: 0, max: 30 }), (words, at) => {
        const guard = new SecretGuard();
        guard.addShareWords(words);
        const data = { code: 'SHARE_CHECKSUM', positions: [at + 1, at + 2], kind: 'swap', hint: words[at], run: words.slice(at, at + 3).join(' '), fingerprint: 'ab'.repeat(32) };
        expect(leakOf(guard, data)).toBeNull();
      }),
      { seed: 1503, numRuns: 300 },
    );
  });

  it('learns the windows of typed text too, including numbering and a header line', () => {
    const words = share([...Array(33).keys()].map((i) => i * 61));
    const guard = new SecretGuard();
    guard.addShareWords([`share 1 of 5 · needs 3 · split 7F3A-91C2\n${words.map((w, i) => `${i + 1}. ${w}`).join('\n')}`]);
    expect(leakOf(guard, { text: words.slice(20, 24).join(' ') })).toMatchObject({ code: 'TRANSCRIPT_SECRET_LEAK' });
  });
});

describe('SecretGuard: KEK bytes and PINs', () => {
  it.each([
    ['hex', KEK.toString('hex')],
    ['HEX inside text', `kek=${KEK.toString('hex').toUpperCase()};`],
    ['base64', KEK.toString('base64')],
    ['base64url', KEK.toString('base64url')],
    ['raw bytes', `x${KEK.toString('latin1')}y`],
  ])('refuses the KEK as %s', (_form, text) => {
    const guard = new SecretGuard();
    guard.addKek(new Uint8Array(KEK));
    expect(leakOf(guard, { value: text })).toMatchObject({ code: 'TRANSCRIPT_SECRET_LEAK', details: { kind: 'key-encryption-key bytes', field: 'data.value' } });
  });

  it('keeps guarding after the KEK buffer is zeroized (it kept digests, not the bytes)', () => {
    const kek = new Uint8Array(KEK);
    const guard = new SecretGuard();
    guard.addKek(kek);
    kek.fill(0);
    expect(leakOf(guard, { value: KEK.toString('hex') })).toMatchObject({ code: 'TRANSCRIPT_SECRET_LEAK' });
    expect(leakOf(guard, { value: Buffer.alloc(32).toString('hex'), kcv: KEK.toString('hex').slice(0, 6) })).toBeNull();
  });

  it.each([
    ['as a value', { pin: '246810' }, true],
    ['in a sentence', { message: 'PIN 246810 was refused' }, true],
    ['as a number', { n: 246810 }, true],
    ['in a fingerprint (chance)', { spkiSha256: `ab246810cd`.padEnd(64, '0') }, false],
    ['a different number', { n: 2468100 }, false],
  ])('a PIN %s', (_name, data, leaks) => {
    const guard = new SecretGuard();
    guard.addPin('246810');
    expect(leakOf(guard, data) !== null).toBe(leaks);
  });

  it('does not match a short all-digit PIN against key sizes and years (documented limit)', () => {
    const guard = new SecretGuard();
    guard.addPin('2048');
    expect(leakOf(guard, { keyType: 'rsa-2048', at: '2048-01-01' })).toBeNull();
    guard.addPin('pw-2048!');
    expect(leakOf(guard, { note: 'the PIN was pw-2048! indeed' })).toMatchObject({ code: 'TRANSCRIPT_SECRET_LEAK', details: { kind: 'a PIN' } });
  });
});
