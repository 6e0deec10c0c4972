import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeFileAtomic } from '../../src/core/fs/atomic-write';
import { makeEvent } from '../../src/core/transcript/event';
import { assertNoSecrets } from '../../src/core/transcript/secrets';
import { formatSha256Sums, parseSha256Sums } from '../../src/core/transcript/sha256sums';

const ev = (data: Record<string, unknown>) => makeEvent(null, { at: '2025-06-01T09:00:00.000Z', ceremony: 'c1', step: 'backup', actor: 'p-ada', type: 'SHARE_ISSUED', data });
const PIN = '123456';
const KEK = '00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff';
const WORDS = 'legal winner thank year wave sausage worth useful legal winner thank yellow';

describe('assertNoSecrets', () => {
  it.each([
    ['a PIN as a value', { pin: PIN }, 'data.pin'],
    ['a PIN inside a sentence', { note: `the PIN is ${PIN}.` }, 'data.note'],
    ['a PIN as a number', { code: 123456 }, 'data.code'],
    ['KEK bytes in upper case hex, nested', { backup: { parts: [`KEK=${KEK.toUpperCase()}`] } }, 'data.backup.parts[0]'],
    ['share words', { share: WORDS }, 'data.share'],
    ['a secret as a field name', { [WORDS]: true }, 'a field name in data'],
  ])('catches %s', (_name, data, field) => {
    let error: unknown;
    try {
      assertNoSecrets(ev(data), [PIN, KEK, WORDS]);
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({ code: 'TRANSCRIPT_SECRET_LEAK', details: { seq: 1, type: 'SHARE_ISSUED', field } });
    const message = (error as Error).message.toLowerCase();
    for (const s of [PIN, KEK, WORDS]) expect(message).not.toContain(s);
  });

  it('does not mistake a short PIN inside a hex fingerprint for a leak', () => {
    expect(() => assertNoSecrets(ev({ spkiSha256: `ab${PIN}cd`.padEnd(64, '0'), serial: 'x1234567' }), [PIN])).not.toThrow();
  });

  it('ignores empty secrets and passes clean evidence', () => {
    expect(() => assertNoSecrets(ev({ shareDigest: 'ff'.repeat(32), index: 2 }), ['', PIN, KEK, WORDS])).not.toThrow();
  });
});

describe('SHA256SUMS', () => {
  it('round-trips the sha256sum format', () => {
    const entries = [{ file: 'keys/a.pem', sha256: 'a'.repeat(64) }, { file: 'transcript.jsonl', sha256: 'b'.repeat(64) }];
    const text = formatSha256Sums(entries);
    expect(text).toBe(`${'a'.repeat(64)}  keys/a.pem\n${'b'.repeat(64)}  transcript.jsonl\n`);
    expect(parseSha256Sums(text)).toEqual(entries);
  });

  it.each([
    ['a short hash', `${'a'.repeat(63)}  x\n`],
    ['a path climbing out', `${'a'.repeat(64)}  ../x\n`],
    ['an absolute path', `${'a'.repeat(64)}  /etc/passwd\n`],
    ['a duplicate', `${'a'.repeat(64)}  x\n${'b'.repeat(64)}  x\n`],
    ['no final newline', `${'a'.repeat(64)}  x`],
  ])('refuses %s (BUNDLE_SUMS_INVALID)', (_n, text) => {
    expect(() => parseSha256Sums(text)).toThrow(expect.objectContaining({ code: 'BUNDLE_SUMS_INVALID' }));
  });
});

describe('writeFileAtomic', () => {
  it('replaces a file whole and leaves no temporary file', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'keyrite-atomic-'));
    const file = path.join(dir, 'a.txt');
    writeFileSync(file, 'old');
    await writeFileAtomic(file, 'new');
    expect(readFileSync(file, 'utf8')).toBe('new');
    expect(readdirSync(dir)).toEqual(['a.txt']);
  });

  it('in exclusive mode refuses to replace an existing file', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'keyrite-atomic-'));
    const file = path.join(dir, 'a.txt');
    writeFileSync(file, 'old');
    await expect(writeFileAtomic(file, 'new', { exclusive: true })).rejects.toMatchObject({ code: 'EEXIST' });
    expect(readFileSync(file, 'utf8')).toBe('old');
    expect(readdirSync(dir)).toEqual(['a.txt']);
  });
});
