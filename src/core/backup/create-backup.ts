import { existsSync } from 'node:fs';
import { KeyriteError, zeroize } from '../errors';
import { findKeyPair, readKeyAttributes } from '../hsm/keygen';
import { parseKeyType, type KeySpec } from '../hsm/key-spec';
import type { PublicKeyInfo } from '../hsm/public-key';
import { BACKUP_KEY_ID_RE, keyTypeName } from '../keys/key-types';
import type { Handle, HsmSession } from '../hsm/session';
import { backupFilePath, readBackupFile, writeBackupFile, BACKUP_FORMAT_VERSION, type BackupFile } from './backup-file';
import type { IdentityProof } from './identity';
import { immediateBackupCheck } from './immediate-check';
import { normalizeWrappedKey, rfc5649Mechanism, WRAP_FORMAT } from './wrap-format';
import { issueShares, checkSplitPolicy, type IssuedShare } from './issue-shares';
import { chooseKcvMethod, computeKcv, destroyKek, importKek, importTrustedKek, KEK_BYTES, type KcvMethod, type WrapTrust } from './kek';

export interface BackupResult {
  file: string;
  backup: BackupFile;
  /** Secret words inside: hand each to its custodian, never log or store. */
  shares: IssuedShare[];
  kcv: string;
  kcvMethod: KcvMethod;
  wrapTrust: WrapTrust;
  immediateCheck: IdentityProof;
  /** Zero bytes the module appended after the PKCS#8 and Keyrite removed (re-wrapped exact). */
  trimmedBytes: number;
}

export interface CreateBackupOptions {
  keyLabel: string;
  keyId: string;
  threshold: number;
  count: number;
  custodians: string[];
  ceremonyId: string;
  outDir: string;
  /** Wrap with a trusted KEK (needed for keys generated with CKA_WRAP_WITH_TRUSTED). Needs `pins`. */
  trustedKek?: boolean;
  /** User and SO PINs, only for `trustedKek` (the SO must create the trusted KEK). Never stored. */
  pins?: { user: string; so: string };
  /** Force the KCV method (default: AES-CMAC where the token has it, else AES-ECB). */
  kcvMethod?: KcvMethod;
  now?: Date;
  /** Shown the KEK while it exists, so the caller's secret guard can refuse it in any event (it keeps digests only). */
  watchKek?: (kek: Uint8Array) => void;
}

/**
 * Back up a ceremony key: fresh KEK from the HSM's RNG, KCV, wrap (RFC 5649 over exact DER
 * PKCS#8, whichever mechanism yields it on this module), split m-of-n,
 * zeroize, write the backup file atomically, re-read it, then unwrap the re-read blob in the same
 * token and prove it is the same key. The session KEK is destroyed before returning.
 */
export async function createBackup(session: HsmSession, opts: CreateBackupOptions): Promise<BackupResult> {
  checkSplitPolicy(opts);
  checkKeyId(opts.keyId);
  const target = backupFilePath(opts.outDir, opts.keyId);
  if (existsSync(target)) throw new KeyriteError('BACKUP_EXISTS', `Backup file '${target}' already exists; Keyrite never overwrites a backup. Choose another output folder or move the old file away first.`, { details: { file: target } });
  const trusted = opts.trustedKek === true;
  if (trusted && !session.module.profile.trustedWrapKeys) {
    const profile = session.module.profile;
    throw new KeyriteError('BACKUP_TRUSTED_KEK_UNSUPPORTED', `${profile.description} cannot create a trusted KEK (CKA_TRUSTED, set by the security officer${profile.soPinSettable ? '' : '; its SO PIN is fixed'}). Generate the key without CKA_WRAP_WITH_TRUSTED and back it up with an ordinary KEK, or use an HSM whose security officer can create trusted keys.`, { details: { profile: profile.name } });
  }
  if (trusted && !opts.pins) throw new KeyriteError('BACKUP_TRUSTED_KEK_PINS', 'A trusted KEK can only be created by the security officer: the SO PIN and the user PIN are needed for this backup.');
  const wrap = rfc5649Mechanism(session, 'wrap the key for backup');
  const kcvMethod = chooseKcvMethod(session, opts.kcvMethod);

  let pair = findKeyPair(session, opts.keyLabel);
  const spec = keySpecOf(pair.publicInfo);
  checkWrappable(session, pair.privateKey, pair.publicKey, opts.keyLabel, trusted);

  const kek = session.random(KEK_BYTES);
  opts.watchKek?.(kek);
  let kekHandle: Handle | undefined;
  try {
    const kcv = computeKcv(session, kek, kcvMethod);
    if (trusted) {
      kekHandle = importTrustedKek(session, kek, opts.pins!);
      pair = findKeyPair(session, opts.keyLabel); // handles to private objects do not survive the re-login
    } else {
      kekHandle = importKek(session, kek, { wrap: true, unwrap: true });
    }
    const blob = normalizeWrappedKey(kek, session.wrapKey(wrap.mechanism, kekHandle, pair.privateKey), wrap.name);
    const { issued, split } = await issueShares(kek, session.random(4), opts);
    zeroize(kek);

    const backup: BackupFile = {
      formatVersion: BACKUP_FORMAT_VERSION,
      keyId: opts.keyId,
      keyLabel: opts.keyLabel,
      ckaId: pair.id.toString('hex'),
      keyType: spec.type,
      keyUsage: ['sign'],
      spkiDer: pair.publicInfo.spkiDer.toString('base64'),
      spkiSha256: pair.publicInfo.fingerprint,
      wrapMechanism: wrap.name,
      wrapFormat: WRAP_FORMAT,
      pkcs8Length: blob.pkcs8Length,
      wrapTrust: trusted ? 'trusted' : 'untrusted',
      wrappedKey: blob.wrapped.toString('base64'),
      kek: { algorithm: 'AES-256', kcv, kcvMethod },
      split,
      ceremonyId: opts.ceremonyId,
      createdAt: (opts.now ?? new Date()).toISOString(),
    };
    const file = writeBackupFile(opts.outDir, backup);
    const reread = readBackupFile(file);
    const immediateCheck = checked(() => immediateBackupCheck(session, kekHandle!, reread), file);
    return { file, backup: reread, shares: issued, kcv, kcvMethod, wrapTrust: backup.wrapTrust, immediateCheck, trimmedBytes: blob.trimmedBytes };
  } finally {
    zeroize(kek);
    destroyKek(session, kekHandle);
  }
}

export function checked<T>(fn: () => T, file: string): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof KeyriteError && e.code === 'BACKUP_IDENTITY_MISMATCH') throw e;
    throw new KeyriteError('BACKUP_CHECK_FAILED', `The backup just written to '${file}' could not be restored in the immediate check (${e instanceof Error ? e.message : String(e)}). Do not rely on it: delete the file and its shares, then repeat the backup step.`, { details: { file }, cause: e });
  }
}

export function checkKeyId(keyId: string): void {
  if (!BACKUP_KEY_ID_RE.test(keyId)) {
    throw new KeyriteError('BACKUP_KEY_ID_INVALID', `Key id '${keyId}' cannot name a backup file: use letters, digits, dot, dash or underscore.`, { details: { keyId } });
  }
}

function keySpecOf(info: PublicKeyInfo): KeySpec {
  return parseKeyType(keyTypeName(info));
}

function checkWrappable(session: HsmSession, privateKey: Handle, publicKey: Handle, label: string, trusted: boolean): void {
  const a = readKeyAttributes(session, privateKey, publicKey);
  if (!a.extractable) {
    throw new KeyriteError('BACKUP_KEY_NOT_WRAPPABLE', `Key '${label}' was generated non-extractable, so it can never leave the token, not even wrapped. Only keys generated for backup (wrappable) can be backed up.`, { details: { label } });
  }
  if (!a.sensitive) {
    throw new KeyriteError('BACKUP_KEY_NOT_SENSITIVE', `Key '${label}' is not sensitive (it could be read in the clear); Keyrite refuses to back up a key that was ever exposed.`, { details: { label } });
  }
  if (!a.sign || a.decrypt || a.unwrap || a.derive) {
    throw new KeyriteError('BACKUP_KEY_USAGE', `Key '${label}' is not a sign-only key; Keyrite backs up ceremony signing keys only.`, { details: { label, sign: a.sign, decrypt: a.decrypt, unwrap: a.unwrap, derive: a.derive } });
  }
  if (a.wrapWithTrusted && !trusted) {
    throw new KeyriteError('BACKUP_TRUSTED_KEK_REQUIRED', `Key '${label}' may only be wrapped by a trusted KEK (CKA_WRAP_WITH_TRUSTED). Run the backup with a trusted KEK (security officer PIN needed).`, { details: { label } });
  }
}
