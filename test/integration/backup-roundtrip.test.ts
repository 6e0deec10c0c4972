import { createCipheriv } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { combine } from 'shamir-secret-sharing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBackup, decodeShare, parseBackup, readBackupFile, resplitBackup, restoreBackup, type BackupResult, type DecodedShare } from '../../src/core/backup';
import { connectHsm, type HsmConnection } from '../../src/core/hsm/connect';
import { findKeyPair, generateKeyPair } from '../../src/core/hsm/keygen';
import { parseKeyType } from '../../src/core/hsm/key-spec';
import type { HsmSession } from '../../src/core/hsm/session';
import { createTestModule, TEST_MODULES } from '../helpers/modules';
import { opensslSpkiOf, opensslUnwrap, pythonUnwrap } from '../helpers/outsider';
import { derSequenceLength, rfc5649Wrap } from '../../src/core/backup/rfc5649';
import { checkWrappedKey, normalizeWrappedKey } from '../../src/core/backup/wrap-format';
import { spkiFingerprint } from '../../src/core/hsm/public-key';

const tmp = (): string => mkdtempSync(path.join(os.tmpdir(), 'keyrite-backup-it-'));
const custodians = ['Ana', 'Ben', 'Chloé', 'Dev', 'Eun'];

const decodeAll = (r: BackupResult): DecodedShare[] => r.shares.map((s) => decodeShare(`${s.header}\n${s.words.join(' ')}`));

function subsets<T>(items: T[], k: number): T[][] {
  if (k === 0) return [[]];
  if (items.length < k) return [];
  const [first, ...rest] = items;
  return [...subsets(rest, k - 1).map((s) => [first, ...s]), ...subsets(rest, k)];
}

/** All objects on a token (user logged in), to prove a failure left nothing behind. */
function objectCount(session: HsmSession): number {
  return session.find({}, 1000).length;
}

function removeKey(session: HsmSession, label: string): void {
  for (const h of session.find({ label })) session.destroy(h);
}

async function rebuildKek(r: BackupResult): Promise<Buffer> {
  const shares = decodeAll(r).slice(0, 3).map((s) => new Uint8Array(s.share));
  return Buffer.from(await combine(shares));
}

describe.each(TEST_MODULES)('backups on %s', (moduleName) => {
  const hsm = createTestModule(moduleName, ['source', 'target']);
  let source: HsmConnection;
  let target: HsmConnection;

  beforeAll(() => {
    source = connectHsm(hsm.config('source'));
    source.session.login(hsm.userPin);
    target = connectHsm(hsm.config('target'));
    target.session.login(hsm.userPin);
  });
  afterAll(() => {
    source?.close();
    target?.close();
  });

  describe.each(['ec-p384', 'rsa-3072'] as const)('%s key backed up 3-of-5', (type) => {
    const label = `ceremony-${type}`;
    let result: BackupResult;

    beforeAll(async () => {
      generateKeyPair(source.session, { spec: parseKeyType(type), label, custody: 'wrap-untrusted' });
      result = await createBackup(source.session, { keyLabel: label, keyId: `${type}-root`, threshold: 3, count: 5, custodians, ceremonyId: 'cer-it', outDir: tmp(), now: new Date('2025-06-01T12:00:00Z') });
    });

    it('writes the backup file, issues 5 shares and passes the immediate check', () => {
      const b = readBackupFile(result.file);
      expect(result.file.endsWith(path.join('backup', `${type}-root.backup.json`))).toBe(true);
      expect(b).toEqual(result.backup);
      expect(b).toMatchObject({ formatVersion: 2, wrapFormat: 'rfc5649', wrapMechanism: hsm.rfc5649Mechanism, keyType: type, keyLabel: label, wrapTrust: 'untrusted', keyUsage: ['sign'], createdAt: '2025-06-01T12:00:00.000Z', split: { threshold: 3, count: 5 } });
      expect(b.spkiSha256).toBe(findKeyPair(source.session, label).publicInfo.fingerprint);
      expect(b.split.shares.map((s) => s.custodian)).toEqual(custodians);
      expect(result.shares.map((s) => s.header)).toEqual([1, 2, 3, 4, 5].map((i) => `share ${i} of 5 · needs 3 · split ${b.split.id}`));
      expect(result.immediateCheck).toMatchObject({ fingerprintMatches: true, signatureVerified: true, spkiSha256: b.spkiSha256 });
      expect(result.kcvMethod).toBe('aes-cmac');
      // The session KEK and check objects are gone; only the key pair is on the source token.
      expect(source.session.find({ class: 'secret' })).toHaveLength(0);
    });

    it('the blob is RFC 5649 over exact DER PKCS#8: plain openssl and Python cryptography recover the key, no trailing bytes', async () => {
      const kek = await rebuildKek(result);
      const blob = Buffer.from(result.backup.wrappedKey, 'base64');
      const pkcs8 = opensslUnwrap(kek, blob);
      expect(pkcs8.length).toBe(result.backup.pkcs8Length);
      expect(derSequenceLength(pkcs8)).toBe(pkcs8.length);
      expect(spkiFingerprint(opensslSpkiOf(pkcs8))).toBe(result.backup.spkiSha256);
      pkcs8.fill(0);
      expect(pythonUnwrap(kek, blob)).toEqual({ length: result.backup.pkcs8Length, spkiSha256: result.backup.spkiSha256 });
      kek.fill(0);
    });

    it('records the AES-CMAC KCV of the KEK (cross-checked with openssl)', async () => {
      const kek = await rebuildKek(result);
      const zero = path.join(tmp(), 'zero');
      writeFileSync(zero, Buffer.alloc(16));
      const mac = execFileSync('openssl', ['mac', '-cipher', 'AES-256-CBC', '-macopt', `hexkey:${kek.toString('hex')}`, '-in', zero, 'CMAC']).toString().trim().toLowerCase();
      expect(result.kcv).toBe(mac.slice(0, 16));
      kek.fill(0);
    });

    it('restores into the target token from EVERY 3-subset of the 5 shares, proving identity each time', async () => {
      const shares = decodeAll(result);
      const combos = subsets(shares, 3);
      expect(combos).toHaveLength(10);
      for (const combo of combos) {
        const restored = await restoreBackup(target.session, result.backup, combo);
        expect(restored.proof).toMatchObject({ fingerprintMatches: true, signatureVerified: true });
        expect(restored.spkiSha256).toBe(result.backup.spkiSha256);
        const pair = findKeyPair(target.session, label);
        expect(pair.publicInfo.fingerprint).toBe(result.backup.spkiSha256);
        const attrs = target.session.getAttributesLenient(pair.privateKey, [0x103 /* CKA_SENSITIVE */, 0x162 /* CKA_EXTRACTABLE */, 0x108 /* CKA_SIGN */, 0x105 /* CKA_DECRYPT */, 0x1 /* CKA_TOKEN */, 0x10c /* CKA_DERIVE */, 0x170 /* CKA_MODIFIABLE */]);
        // Unchangeable too (docs/formats.md), also where the token adds a usage on unwrap (NSS) and Keyrite corrects it.
        expect([...attrs.values()].map((v) => v?.[0])).toEqual([1, 0, 1, 0, 1, 0, 0]);
        expect(target.session.find({ class: 'private', label })).toHaveLength(1);
        expect(pair.id.toString('hex')).toBe(result.backup.ckaId);
        removeKey(target.session, label);
      }
      expect(target.session.find({ class: 'secret' })).toHaveLength(0);
    });
  });

  describe('bad input at recovery', () => {
    const label = 'bad-input-key';
    let result: BackupResult;
    let shares: DecodedShare[];
    let other: BackupResult;

    beforeAll(async () => {
      generateKeyPair(source.session, { spec: parseKeyType('ec-p256'), label, custody: 'wrap-untrusted' });
      result = await createBackup(source.session, { keyLabel: label, keyId: 'bad-input', threshold: 3, count: 5, custodians, ceremonyId: 'cer-bad', outDir: tmp() });
      shares = decodeAll(result);
      other = await createBackup(source.session, { keyLabel: label, keyId: 'bad-input', threshold: 3, count: 5, custodians, ceremonyId: 'cer-other', outDir: tmp() });
    });

    const expectNothingCreated = async (fn: () => Promise<unknown>, code: string, text: string): Promise<void> => {
      const before = objectCount(target.session);
      await expect(fn()).rejects.toMatchObject({ code, message: expect.stringContaining(text) });
      expect(objectCount(target.session)).toBe(before);
      expect(target.session.find({ label })).toHaveLength(0);
    };

    it('SHARE_FOREIGN_SPLIT: a share from another split (same key, other backup)', async () => {
      await expectNothingCreated(() => restoreBackup(target.session, result.backup, [shares[0], shares[1], decodeAll(other)[2]]), 'SHARE_MIXED_SPLITS', 'different splits');
      await expectNothingCreated(() => restoreBackup(target.session, result.backup, decodeAll(other).slice(0, 3)), 'SHARE_FOREIGN_SPLIT', 'belongs to another ceremony or split');
    });

    it('SHARE_DUPLICATE and SHARE_TOO_FEW', async () => {
      await expectNothingCreated(() => restoreBackup(target.session, result.backup, [shares[0], shares[1], shares[1]]), 'SHARE_DUPLICATE', 'entered twice');
      await expectNothingCreated(() => restoreBackup(target.session, result.backup, [shares[0], shares[4]]), 'SHARE_TOO_FEW', '1 more share is needed');
    });

    it('BACKUP_KCV_MISMATCH: the KCV is checked before anything is unwrapped', async () => {
      const altered = { ...result.backup, kek: { ...result.backup.kek, kcv: result.backup.kek.kcv.replace(/^./, (c) => (c === '0' ? '1' : '0')) } };
      await expectNothingCreated(() => restoreBackup(target.session, altered, shares.slice(0, 3)), 'BACKUP_KCV_MISMATCH', 'Nothing was unwrapped');
      expect(target.session.find({ class: 'secret' })).toHaveLength(0);
    });

    it('BACKUP_WRAPPED_KEY_DAMAGED: a tampered wrapped blob fails its RFC 5649 integrity check before the HSM sees it', async () => {
      const blob = Buffer.from(result.backup.wrappedKey, 'base64');
      blob[blob.length - 5] ^= 0x40;
      const tampered = { ...result.backup, wrappedKey: blob.toString('base64') };
      await expectNothingCreated(() => restoreBackup(target.session, tampered, shares.slice(1, 4)), 'BACKUP_WRAPPED_KEY_DAMAGED', 'Nothing was unwrapped');
      expect(target.session.find({ class: 'secret' })).toHaveLength(0);
    });

    it('BACKUP_PKCS8_LENGTH: a recorded length that differs from the unwrapped PKCS#8 is refused', async () => {
      for (const delta of [-1, 1, -7]) {
        const altered = { ...result.backup, pkcs8Length: result.backup.pkcs8Length! + delta };
        await expectNothingCreated(() => restoreBackup(target.session, altered, shares.slice(0, 3)), 'BACKUP_PKCS8_LENGTH', `records exactly ${altered.pkcs8Length}`);
      }
    });

    it('a blob that is exact PKCS#8 followed by zero bytes is never written: Keyrite re-wraps exact; a v1 backup with such a blob still restores on this module', async () => {
      const kek = await rebuildKek(result);
      const pkcs8 = opensslUnwrap(kek, Buffer.from(result.backup.wrappedKey, 'base64'));
      // What Keyrite wrote before format version 2 on SoftHSM: PKCS#8 zero-padded to a multiple of 8.
      const padded = Buffer.concat([pkcs8, Buffer.alloc(8 - (pkcs8.length % 8 || 8) + 8)]);
      const paddedBlob = rfc5649Wrap(kek, padded);
      const normal = normalizeWrappedKey(kek, paddedBlob, 'CKM_AES_KEY_WRAP_PAD');
      expect(normal.pkcs8Length).toBe(pkcs8.length);
      expect(normal.trimmedBytes).toBe(padded.length - pkcs8.length);
      expect(opensslUnwrap(kek, normal.wrapped)).toEqual(pkcs8);
      // Non-zero bytes after the DER are refused outright.
      const junk = Buffer.concat([pkcs8, Buffer.from([1, 2, 3])]);
      expect(() => normalizeWrappedKey(kek, rfc5649Wrap(kek, junk), 'CKM_AES_KEY_WRAP_KWP')).toThrow(expect.objectContaining({ code: 'BACKUP_WRAP_TRAILING_BYTES' }));
      expect(() => checkWrappedKey(kek, { keyId: 'junk', wrappedKey: rfc5649Wrap(kek, junk).toString('base64') })).toThrow(expect.objectContaining({ code: 'BACKUP_PKCS8_LENGTH' }));
      expect(() => checkWrappedKey(kek, { keyId: 'padded', wrappedKey: paddedBlob.toString('base64'), pkcs8Length: pkcs8.length })).toThrow(expect.objectContaining({ code: 'BACKUP_PKCS8_LENGTH' }));
      // A format version 1 file (no wrapFormat, no length, zero-padded blob) still restores where the module takes it.
      const { wrapFormat: _f, pkcs8Length: _l, ...rest } = result.backup;
      const v1 = parseBackup(JSON.stringify({ ...rest, formatVersion: 1, wrapMechanism: 'CKM_AES_KEY_WRAP_PAD', wrappedKey: paddedBlob.toString('base64') }), 'v1.backup.json');
      pkcs8.fill(0);
      padded.fill(0);
      kek.fill(0);
      // Both SoftHSM and NSS accept the zero-padded PKCS#8 of old backups.
      const restored = await restoreBackup(target.session, v1, shares.slice(0, 3), { label: 'from-v1' });
      expect(restored.proof).toMatchObject({ fingerprintMatches: true, signatureVerified: true });
      removeKey(target.session, 'from-v1');
    });

    it('HSM_LABEL_EXISTS: the target token already holds a key with that label', async () => {
      generateKeyPair(target.session, { spec: parseKeyType('ec-p256'), label: 'occupied' });
      const before = objectCount(target.session);
      await expect(restoreBackup(target.session, result.backup, shares.slice(0, 3), { label: 'occupied' })).rejects.toMatchObject({ code: 'HSM_LABEL_EXISTS', message: expect.stringContaining("labelled 'occupied'") });
      expect(objectCount(target.session)).toBe(before);
      removeKey(target.session, 'occupied');
    });

    it('restores under another label when asked', async () => {
      const r = await restoreBackup(target.session, result.backup, shares.slice(2, 5), { label: 'renamed' });
      expect(r.label).toBe('renamed');
      expect(findKeyPair(target.session, 'renamed').publicInfo.fingerprint).toBe(result.backup.spkiSha256);
      removeKey(target.session, 'renamed');
    });

    it('BACKUP_EXISTS: never overwrites a backup file', async () => {
      const out = path.dirname(path.dirname(result.file));
      await expect(createBackup(source.session, { keyLabel: label, keyId: 'bad-input', threshold: 2, count: 2, custodians: ['a', 'b'], ceremonyId: 'x', outDir: out })).rejects.toMatchObject({ code: 'BACKUP_EXISTS' });
    });

    it('BACKUP_KEY_NOT_WRAPPABLE: a non-extractable key cannot be backed up', async () => {
      generateKeyPair(source.session, { spec: parseKeyType('ec-p256'), label: 'locked-in' });
      await expect(createBackup(source.session, { keyLabel: 'locked-in', keyId: 'locked', threshold: 2, count: 3, custodians: ['a', 'b', 'c'], ceremonyId: 'x', outDir: tmp() })).rejects.toMatchObject({ code: 'BACKUP_KEY_NOT_WRAPPABLE' });
    });
  });

  describe('KCV via AES-ECB, trusted KEK, share rotation', () => {
    it('AES-ECB KCV (where CMAC is missing) matches Node, and restores', async () => {
      generateKeyPair(source.session, { spec: parseKeyType('ec-p256'), label: 'ecb-kcv', custody: 'wrap-untrusted' });
      const r = await createBackup(source.session, { keyLabel: 'ecb-kcv', keyId: 'ecb-kcv', threshold: 2, count: 3, custodians: ['a', 'b', 'c'], ceremonyId: 'x', outDir: tmp(), kcvMethod: 'aes-ecb' });
      expect(r.kcvMethod).toBe('aes-ecb');
      const kek = Buffer.from(await combine(decodeAll(r).slice(0, 2).map((s) => new Uint8Array(s.share))));
      expect(r.kcv).toBe(createCipheriv('aes-256-ecb', kek, null).update(Buffer.alloc(16)).subarray(0, 8).toString('hex'));
      kek.fill(0);
      const restored = await restoreBackup(target.session, r.backup, decodeAll(r).slice(1));
      expect(restored.proof.signatureVerified).toBe(true);
      removeKey(target.session, 'ecb-kcv');
    });

    it('a CKA_WRAP_WITH_TRUSTED key needs the trusted KEK (SO-created), which wraps it and is recorded', async () => {
      if (!hsm.trustedWrapKeys) {
        // NSS: the SO PIN is empty and fixed; no trusted KEK. Refused by profile, before the HSM is asked.
        generateKeyPair(source.session, { spec: parseKeyType('ec-p384'), label: 'wwt-key', custody: 'wrap-untrusted' });
        await expect(createBackup(source.session, { keyLabel: 'wwt-key', keyId: 'wwt', threshold: 2, count: 3, custodians: ['a', 'b', 'c'], ceremonyId: 'x', outDir: tmp(), trustedKek: true, pins: { user: hsm.userPin, so: hsm.soPin } }))
          .rejects.toMatchObject({ code: 'BACKUP_TRUSTED_KEK_UNSUPPORTED', message: expect.stringContaining('cannot create a trusted KEK') });
        expect(source.session.find({ class: 'secret' })).toHaveLength(0);
        return;
      }
      generateKeyPair(source.session, { spec: parseKeyType('ec-p384'), label: 'wwt-key', custody: 'wrap-with-trusted' });
      const base = { keyLabel: 'wwt-key', keyId: 'wwt', threshold: 2, count: 3, custodians: ['a', 'b', 'c'], ceremonyId: 'x' };
      await expect(createBackup(source.session, { ...base, outDir: tmp() })).rejects.toMatchObject({ code: 'BACKUP_TRUSTED_KEK_REQUIRED' });
      await expect(createBackup(source.session, { ...base, outDir: tmp(), trustedKek: true })).rejects.toMatchObject({ code: 'BACKUP_TRUSTED_KEK_PINS' });
      const r = await createBackup(source.session, { ...base, outDir: tmp(), trustedKek: true, pins: { user: hsm.userPin, so: hsm.soPin } });
      expect(r.wrapTrust).toBe('trusted');
      expect(r.backup.wrapTrust).toBe('trusted');
      expect(r.immediateCheck.signatureVerified).toBe(true);
      expect(source.session.isLoggedIn).toBe('user');
      expect(source.session.find({ class: 'secret' })).toHaveLength(0);
      const restored = await restoreBackup(target.session, r.backup, decodeAll(r).slice(0, 2));
      expect(restored.proof.fingerprintMatches).toBe(true);
      removeKey(target.session, 'wwt-key');
    });

    it('re-splits with a new split id: same wrapped key and KCV, new shares restore, old ones are foreign', async () => {
      generateKeyPair(source.session, { spec: parseKeyType('ec-p384'), label: 'rotating', custody: 'wrap-untrusted' });
      const first = await createBackup(source.session, { keyLabel: 'rotating', keyId: 'rotating', threshold: 3, count: 5, custodians, ceremonyId: 'gen', outDir: tmp() });
      const oldShares = decodeAll(first);
      const second = await resplitBackup(source.session, first.backup, [oldShares[4], oldShares[2], oldShares[0]], { threshold: 2, count: 3, custodians: ['Fay', 'Gus', 'Hal'], ceremonyId: 'rot', outDir: tmp() });
      expect(second.backup.split.id).not.toBe(first.backup.split.id);
      expect(second.backup.wrappedKey).toBe(first.backup.wrappedKey);
      expect(second.kcv).toBe(first.kcv);
      expect(second.backup).toMatchObject({ ceremonyId: 'rot', split: { threshold: 2, count: 3 } });
      expect(second.immediateCheck.signatureVerified).toBe(true);
      await expect(restoreBackup(target.session, second.backup, oldShares.slice(0, 3))).rejects.toMatchObject({ code: 'SHARE_FOREIGN_SPLIT' });
      const restored = await restoreBackup(target.session, second.backup, decodeAll(second).slice(1));
      expect(restored.proof.signatureVerified).toBe(true);
      removeKey(target.session, 'rotating');
    });
  });
});
