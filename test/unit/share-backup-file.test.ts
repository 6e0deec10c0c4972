import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BACKUP_FORMAT_VERSION, parseBackup, readBackupFile, serializeBackup, writeBackupFile, type BackupFile } from '../../src/core/backup/backup-file';
import { issueShares, type IssuedShare } from '../../src/core/backup/issue-shares';
import { checkShareAgainstBackup, checkShareSet, combineShares } from '../../src/core/backup/share-check';
import { decodeShare, encodeShare, type DecodedShare } from '../../src/core/backup/share-codec';
import { spkiFingerprint } from '../../src/core/hsm/public-key';

const tmp = (): string => mkdtempSync(path.join(os.tmpdir(), 'keyrite-backup-unit-'));

/** A backup record around a real split of a random KEK (no HSM: the wrapped key is filler here). */
async function syntheticBackup(threshold = 3, count = 5): Promise<{ backup: BackupFile; issued: IssuedShare[]; kek: Buffer }> {
  const kek = randomBytes(32);
  const { issued, split } = await issueShares(kek, randomBytes(4), { threshold, count, custodians: Array.from({ length: count }, (_, i) => `Custodian ${i + 1}`) });
  const spki = generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey.export({ type: 'spki', format: 'der' });
  const backup: BackupFile = {
    formatVersion: 2, keyId: 'ecp384-test', keyLabel: 'test key', ckaId: 'abcd', keyType: 'ec-p384', keyUsage: ['sign'],
    spkiDer: spki.toString('base64'), spkiSha256: spkiFingerprint(spki), wrapMechanism: 'CKM_AES_KEY_WRAP_KWP', wrapFormat: 'rfc5649', pkcs8Length: 56, wrapTrust: 'untrusted',
    wrappedKey: randomBytes(64).toString('base64'), kek: { algorithm: 'AES-256', kcv: '0011223344556677', kcvMethod: 'aes-cmac' },
    split, ceremonyId: 'cer-1', createdAt: '2025-01-02T03:04:05.000Z',
  };
  return { backup, issued, kek };
}

const decode = (s: IssuedShare): DecodedShare => decodeShare(s.words.join(' '));

function err(fn: () => unknown): { code: string; message: string; details: Record<string, unknown> } {
  try {
    fn();
  } catch (e) {
    return e as { code: string; message: string; details: Record<string, unknown> };
  }
  throw new Error('expected an error');
}

describe('backup file', () => {
  it('is written atomically, re-read equal, and never overwritten', async () => {
    const { backup } = await syntheticBackup();
    const out = tmp();
    const file = writeBackupFile(out, backup);
    expect(file).toBe(path.join(out, 'backup', 'ecp384-test.backup.json'));
    expect(readBackupFile(file)).toEqual(backup);
    expect(readdirSync(path.dirname(file))).toEqual(['ecp384-test.backup.json']); // no temp file left
    const e = err(() => writeBackupFile(out, { ...backup, ceremonyId: 'other' }));
    expect(e.code).toBe('BACKUP_EXISTS');
    expect(readBackupFile(file).ceremonyId).toBe('cer-1');
  });

  it.each([
    ['empty', () => '', 'BACKUP_CORRUPT', 'is empty'],
    ['truncated', (t: string) => t.slice(0, t.length / 2), 'BACKUP_CORRUPT', 'ends too early'],
    ['not JSON', (t: string) => t.replace('"formatVersion"', 'formatVersion'), 'BACKUP_CORRUPT', 'not valid JSON'],
    ['a list', () => '[1,2]', 'BACKUP_CORRUPT', 'a list'],
    ['version 3', (t: string) => t.replace('"formatVersion": 2', '"formatVersion": 3'), 'BACKUP_VERSION', 'format version 3'],
    ['v2 without its length', (t: string) => t.replace(/"pkcs8Length": \d+,/, ''), 'BACKUP_INVALID', 'field pkcs8Length is missing'],
    ['v2 without its format', (t: string) => t.replace(/"wrapFormat": "rfc5649",/, ''), 'BACKUP_INVALID', 'field wrapFormat is missing'],
    ['other wrap format', (t: string) => t.replace('"rfc5649"', '"rfc3394"'), 'BACKUP_INVALID', 'field wrapFormat'],
    ['length too short for the blob', (t: string) => t.replace(/"pkcs8Length": \d+/, '"pkcs8Length": 48'), 'BACKUP_INVALID', 'an RFC 5649 blob of 64 bytes cannot carry'],
    ['length too long for the blob', (t: string) => t.replace(/"pkcs8Length": \d+/, '"pkcs8Length": 57'), 'BACKUP_INVALID', 'field pkcs8Length is 57'],
    ['unknown mechanism', (t: string) => t.replace('CKM_AES_KEY_WRAP_KWP', 'CKM_AES_KEY_WRAP'), 'BACKUP_INVALID', 'field wrapMechanism'],
    ['v1 with KWP', (t: string) => t.replace('"formatVersion": 2', '"formatVersion": 1').replace(/"wrapFormat": "rfc5649",/, '').replace(/"pkcs8Length": \d+,/, ''), 'BACKUP_INVALID', 'must be CKM_AES_KEY_WRAP_PAD in format version 1'],
    ['v1 with a v2 field', (t: string) => t.replace('"formatVersion": 2', '"formatVersion": 1').replace('CKM_AES_KEY_WRAP_KWP', 'CKM_AES_KEY_WRAP_PAD'), 'BACKUP_INVALID', 'exists only from format version 2'],
    ['missing KCV', (t: string) => t.replace(/"kcv": "[0-9a-f]+",/, ''), 'BACKUP_INVALID', 'field kek.kcv'],
    ['bad digest', (t: string) => t.replace(/"digest": "[0-9a-f]{4}/, '"digest": "zzzz'), 'BACKUP_INVALID', 'field split.shares[0].digest'],
    // The first hex digit changed to another one, whatever it was (a fixed '0' is no change 1 time in 16).
    ['SPKI hash wrong', (t: string) => t.replace(/"spkiSha256": "([0-9a-f])/, (_m, c: string) => `"spkiSha256": "${c === '0' ? '1' : '0'}`), 'BACKUP_INVALID', 'field spkiSha256'],
    ['a key label that walks out of a folder', (t: string) => t.replace('"keyLabel": "test key"', '"keyLabel": "../../etc/x"'), 'BACKUP_INVALID', 'field keyLabel'],
    ['a key label with an ANSI escape', (t: string) => t.replace('"keyLabel": "test key"', '"keyLabel": "test\\u001b[2J"'), 'BACKUP_INVALID', 'field keyLabel'],
    ['a 5000-character key label', (t: string) => t.replace('"keyLabel": "test key"', `"keyLabel": "${'k'.repeat(5000)}"`), 'BACKUP_INVALID', 'field keyLabel'],
    ['unknown field', (t: string) => t.replace('"keyId"', '"extra": 1, "keyId"'), 'BACKUP_INVALID', '(top level)'],
  ])('reading a %s file gives %s', async (_name, mutate, code, text) => {
    const { backup } = await syntheticBackup();
    const t = serializeBackup(backup);
    const file = path.join(tmp(), 'x.backup.json');
    writeFileSync(file, mutate(t));
    const e = err(() => readBackupFile(file));
    expect(e.code).toBe(code);
    expect(e.message).toContain(text);
  });

  it('BACKUP_INVALID names cross-field problems: share list size', async () => {
    const { backup } = await syntheticBackup();
    const e = err(() => parseBackup(JSON.stringify({ ...backup, split: { ...backup.split, shares: backup.split.shares.slice(0, 4) } }), 'mem'));
    expect(e).toMatchObject({ code: 'BACKUP_INVALID', details: { field: 'split.shares' } });
  });

  it('BACKUP_NOT_FOUND for a missing file', () => {
    expect(err(() => readBackupFile(path.join(tmp(), 'nope.json'))).code).toBe('BACKUP_NOT_FOUND');
  });

  it('writes format version 2', () => expect(BACKUP_FORMAT_VERSION).toBe(2));

  it('still reads format version 1 (SoftHSM CKM_AES_KEY_WRAP_PAD, no format or length recorded)', async () => {
    const { backup } = await syntheticBackup();
    const { wrapFormat: _f, pkcs8Length: _l, ...rest } = backup;
    const v1 = { ...rest, formatVersion: 1, wrapMechanism: 'CKM_AES_KEY_WRAP_PAD' };
    expect(parseBackup(JSON.stringify(v1), 'v1')).toEqual(v1);
  });
});

describe('checking shares against the backup (before any KEK exists)', () => {
  it('accepts each genuine share and names its custodian', async () => {
    const { backup, issued } = await syntheticBackup();
    issued.forEach((s) => expect(checkShareAgainstBackup(backup, decode(s))).toEqual({ index: s.index, custodian: s.custodian }));
  });

  it('SHARE_FOREIGN_SPLIT: a share from another split', async () => {
    const a = await syntheticBackup();
    const b = await syntheticBackup();
    const e = err(() => checkShareAgainstBackup(a.backup, decode(b.issued[0])));
    expect(e.code).toBe('SHARE_FOREIGN_SPLIT');
    expect(e.message).toContain('belongs to another ceremony or split');
  });

  it('SHARE_DIGEST_MISMATCH: well-formed share whose bytes were altered (checksum recomputed)', async () => {
    const { backup, issued } = await syntheticBackup();
    const s = decode(issued[1]);
    s.share[4] ^= 0x01;
    const altered = decodeShare(encodeShare(s).join(' ')); // passes the word checksum
    const e = err(() => checkShareAgainstBackup(backup, altered));
    expect(e.code).toBe('SHARE_DIGEST_MISMATCH');
    expect(e.message).toContain('Share 2 (custodian Custodian 2) is well-formed but is not the share that was issued');
  });

  it('SHARE_THRESHOLD_MISMATCH: the threshold field was changed (checksum recomputed)', async () => {
    const { backup, issued } = await syntheticBackup();
    const changed = decodeShare(encodeShare({ ...decode(issued[0]), threshold: 2 }).join(' '));
    const e = err(() => checkShareAgainstBackup(backup, changed));
    expect(e.code).toBe('SHARE_THRESHOLD_MISMATCH');
    expect(e.message).toContain('split 3-of-5');
  });

  it('SHARE_INDEX_RANGE: a share number the backup does not have', async () => {
    const { backup, issued } = await syntheticBackup();
    const shrunk = { ...backup, split: { ...backup.split, count: 4, shares: backup.split.shares.slice(0, 4) } };
    const e = err(() => checkShareAgainstBackup(shrunk, { ...decode(issued[4]), count: 4 }));
    expect(e.code).toBe('SHARE_INDEX_RANGE');
    expect(e.message).toContain('shares 1 to 4 only');
  });

  it('SHARE_DUPLICATE, SHARE_TOO_FEW (how many more), SHARE_MIXED_SPLITS', async () => {
    const { backup, issued } = await syntheticBackup();
    const other = await syntheticBackup();
    const [s1, s2, s3] = issued.map(decode);
    expect(err(() => checkShareSet(backup, [s1, s2, decode(issued[1])]))).toMatchObject({ code: 'SHARE_DUPLICATE', details: { index: 2 } });
    const few = err(() => checkShareSet(backup, [s1, s3]));
    expect(few).toMatchObject({ code: 'SHARE_TOO_FEW', details: { have: 2, needed: 3, more: 1 } });
    expect(few.message).toContain('1 more share is needed');
    expect(err(() => checkShareSet(backup, [s1]))).toMatchObject({ code: 'SHARE_TOO_FEW', details: { more: 2 } });
    expect(err(() => checkShareSet(backup, [s1, s2, decode(other.issued[2])])).code).toBe('SHARE_MIXED_SPLITS');
  });

  it('any 3 genuine shares rebuild the KEK', async () => {
    const { backup, issued, kek } = await syntheticBackup();
    const shares = issued.map(decode);
    const rebuilt = await combineShares(backup, [shares[4], shares[0], shares[2]]);
    expect(Buffer.from(rebuilt).equals(kek)).toBe(true);
  });
});

describe('issuing shares', () => {
  it.each([[1, 3], [3, 2], [2, 17]])('refuses a %i-of-%i split', async (threshold, count) => {
    await expect(issueShares(randomBytes(32), randomBytes(4), { threshold, count, custodians: Array.from({ length: count }, () => 'x') })).rejects.toMatchObject({ code: 'BACKUP_SPLIT_INVALID' });
  });
  it('refuses a custodian list of the wrong length', async () => {
    await expect(issueShares(randomBytes(32), randomBytes(4), { threshold: 2, count: 3, custodians: ['a', 'b'] })).rejects.toMatchObject({ code: 'BACKUP_CUSTODIANS' });
  });
  it('does not keep the words anywhere in the backup record', async () => {
    const { backup, issued } = await syntheticBackup();
    const text = serializeBackup(backup);
    for (const s of issued) expect(text).not.toContain(s.words.slice(0, 3).join(' '));
  });
});
