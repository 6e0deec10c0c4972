import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { WORDS } from '../../src/core/backup/wordlist';
import { makeEvent } from '../../src/core/transcript/event';
import { SecretGuard } from '../../src/core/transcript/secrets';

/**
 * SecretGuard hashes a window with SHA-256 only when a cheap fingerprint of it matches one of a
 * secret's (src/core/transcript/secrets.ts). These properties hold it to what hashing every
 * window caught: each secret form, anywhere in a long string, next to characters of its own
 * class (so the runs are longer than the secret), in values, arrays and field names — and, as a
 * differential check, exactly the leaks a plain-text reference finds, no more and no fewer.
 */
const ev = (data: Record<string, unknown>) => makeEvent(null, { at: '2026-06-01T09:00:00.000Z', ceremony: 'c1', step: 'backup', actor: null, type: 'ERROR_RECORDED', data });

function kindOf(guard: SecretGuard, data: Record<string, unknown>): string | null {
  try {
    guard.check(ev(data));
    return null;
  } catch (e) {
    expect(e).toMatchObject({ code: 'TRANSCRIPT_SECRET_LEAK' });
    return (e as { details: { kind: string } }).details.kind;
  }
}

const HEX = '0123456789abcdefABCDEF';
const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/-_';
/** Filler: the classes the scanner runs over, separators, and characters outside ASCII. */
const fillerChar = fc.oneof(
  fc.constantFrom(...HEX),
  fc.constantFrom(...B64),
  fc.constantFrom(' ', '\n', '"', ':', ',', '=', '.', '·'),
  fc.integer({ min: 0x80, max: 0xff }).map((c) => String.fromCharCode(c)),
  fc.integer({ min: 0x100, max: 0xd7ff }).map((c) => String.fromCharCode(c)),
);
const filler = (max: number) => fc.array(fillerChar, { maxLength: max }).map((a) => a.join(''));
const kekArb = fc.uint8Array({ minLength: 32, maxLength: 32 });

type Form = 'hex' | 'HEX' | 'base64' | 'base64url' | 'raw';
function formOf(kek: Uint8Array, form: Form): string {
  const b = Buffer.from(kek);
  switch (form) {
    case 'hex': return b.toString('hex');
    case 'HEX': return b.toString('hex').toUpperCase();
    case 'base64': return b.toString('base64');
    case 'base64url': return b.toString('base64url');
    case 'raw': return b.toString('latin1');
  }
}

/** Where in an event a string may sit. */
const placeArb = fc.constantFrom('value', 'nested', 'array', 'fieldName');
function place(text: string, where: string): Record<string, unknown> {
  if (where === 'value') return { note: text };
  if (where === 'nested') return { backup: { parts: ['x', { detail: text }] } };
  if (where === 'array') return { items: [1, 'two', text] };
  return { [text]: true };
}

describe('SecretGuard with its prefilter still refuses every secret form', () => {
  it('a KEK as hex, HEX, base64, base64url or raw bytes, at any position of a long string (seeded property)', () => {
    fc.assert(
      fc.property(kekArb, fc.constantFrom<Form>('hex', 'HEX', 'base64', 'base64url', 'raw'), filler(600), filler(600), placeArb, (kek, form, before, after, where) => {
        const guard = new SecretGuard();
        guard.addKek(kek);
        const text = `${before}${formOf(kek, form)}${after}`;
        // Raw bytes are looked for only in strings that hold a non-printable character (documented);
        // a KEK whose 32 bytes are all printable ASCII is text, and its hex/base64 forms are what count.
        const expectLeak = form !== 'raw' || /[^\x20-\x7e]/.test(text);
        expect(kindOf(guard, place(text, where))).toBe(expectLeak ? 'key-encryption-key bytes' : null);
      }),
      { seed: 1808, numRuns: 400 },
    );
  });

  it('four share words inside a long sentence of other words, in any case and with any separators (seeded property)', () => {
    const wordsArb = fc.uniqueArray(fc.integer({ min: 0, max: 2047 }), { minLength: 60, maxLength: 60, selector: (n) => WORDS[n].slice(0, 4) }).map((ns) => ns.map((n) => WORDS[n]));
    fc.assert(
      fc.property(
        wordsArb,
        fc.integer({ min: 0, max: 29 }),
        fc.array(fc.integer({ min: 33, max: 59 }), { maxLength: 80 }),
        fc.array(fc.integer({ min: 33, max: 59 }), { maxLength: 80 }),
        fc.constantFrom(' ', ', ', '\n', ' - ', '"; "'),
        fc.boolean(),
        placeArb,
        (words, at, before, after, sep, upper, where) => {
          const share = words.slice(0, 33); // the share; words 33..59 are other words, never in it
          const guard = new SecretGuard();
          guard.addShareWords(share);
          const run = share.slice(at, at + 4);
          const text = [...before.map((i) => words[i]), ...run, ...after.map((i) => words[i])].join(sep);
          expect(kindOf(guard, place(upper ? text.toUpperCase() : text, where))).toBe('share words');
          // Three of the four are not a leak; nor are the other words alone.
          const three = [...before.map((i) => words[i]), ...run.slice(0, 3), ...after.map((i) => words[i])].join(sep);
          expect(kindOf(guard, place(three, where))).toBeNull();
        },
      ),
      { seed: 1809, numRuns: 300 },
    );
  });

  it('finds exactly what a plain-text reference finds, on strings that mix near-misses and secrets (differential, seeded)', () => {
    const kek = Buffer.from('8f1e2d3c4b5a69788796a5b4c3d2e1f000112233445566778899aabbccddeeff', 'hex');
    const share = Array.from({ length: 33 }, (_, i) => WORDS[(i * 61) % 2048]);
    const pin = 'pw-2048!x';
    const hex = kek.toString('hex');
    const b64 = kek.toString('base64').replace(/=+$/, '').toLowerCase();
    const b64url = kek.toString('base64url').toLowerCase();
    // Pieces: whole secrets, secrets with one character changed or cut short, and filler.
    const mutate = (s: string, i: number) => `${s.slice(0, i % s.length)}${s[i % s.length] === 'q' ? 'r' : 'q'}${s.slice((i % s.length) + 1)}`;
    const piece = fc.oneof(
      fc.constantFrom(hex, hex.toUpperCase(), kek.toString('base64'), kek.toString('base64url'), share.slice(5, 9).join(' '), pin),
      fc.integer({ min: 0, max: 63 }).map((i) => mutate(hex, i)),
      fc.integer({ min: 0, max: 42 }).map((i) => mutate(kek.toString('base64'), i)),
      fc.integer({ min: 1, max: 63 }).map((i) => hex.slice(i)),
      fc.integer({ min: 0, max: 29 }).map((i) => share.slice(i, i + 3).join(' ')),
      fc.constantFrom(pin.slice(1), `${pin}z`, 'pw-2048'),
      filler(40),
    );
    const reference = (texts: string[]): boolean => {
      const windows = new Set(share.flatMap((_, i) => (i + 4 <= share.length ? [share.slice(i, i + 4).map((w) => w.slice(0, 4)).join(' ')] : [])));
      const tokensOf = (t: string) => t.normalize('NFKC').toLowerCase().split(/[^a-z]+/).filter(Boolean);
      const hasRun = (tokens: string[]) => tokens.some((_, i) => i + 4 <= tokens.length && windows.has(tokens.slice(i, i + 4).map((w) => w.slice(0, 4)).join(' ')));
      if (hasRun(texts.flatMap(tokensOf))) return true;
      return texts.some((t) => {
        const lower = t.toLowerCase();
        if (lower.includes(hex) || lower.includes(b64) || lower.includes(b64url)) return true;
        if (/[^\x20-\x7e]/.test(t) && t.includes(kek.toString('latin1'))) return true;
        const tokens = new Set([...lower.split(/[^0-9a-z]+/), ...lower.split(/[\s"'`,;:()[\]{}<>=]+/)]);
        return tokens.has(pin);
      });
    };
    fc.assert(
      fc.property(fc.array(fc.array(piece, { maxLength: 6 }).map((ps) => ps.join('')), { minLength: 1, maxLength: 4 }), (texts) => {
        const guard = new SecretGuard();
        guard.addKek(new Uint8Array(kek));
        guard.addShareWords(share);
        guard.addPin(pin);
        expect(kindOf(guard, { texts }) !== null).toBe(reference(texts));
      }),
      { seed: 1810, numRuns: 600 },
    );
  });
});
