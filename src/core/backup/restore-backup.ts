import { crashPoint } from '../fault';
import { KeyriteError, zeroize } from '../errors';
import { parseKeyType } from '../hsm/key-spec';
import { readPublicKey } from '../hsm/public-key';
import { pkcs11js, type P11 } from '../hsm/pkcs11js';
import type { Handle, HsmSession } from '../hsm/session';
import type { BackupFile } from './backup-file';
import { assertProof, enforceUnwrapTemplate, isLockedTokenObject, lockRestoredKey, privateKeyFingerprints, proveIdentity, publicKeyTemplate, unwrapAttributesWrong, unwrapTemplate, vendorUnwrapAttributes, type IdentityProof } from './identity';
import { checkWrappedKey, rfc5649Mechanism } from './wrap-format';
import { assertKcv } from './kcv-check';
import { destroyKek, importKek } from './kek';
import { combineShares } from './share-check';
import type { DecodedShare } from './share-codec';

export interface RestoreResult {
  label: string;
  spkiSha256: string;
  proof: IdentityProof;
}

/**
 * Recover a backed-up key into the target token (user logged in): check the shares, rebuild the
 * KEK, check its KCV, unwrap as a sensitive, non-extractable token key with the original label,
 * id and usage, destroy the KEK, recreate the public key object, prove identity. On any failure
 * nothing is left in the target token.
 */
export async function restoreBackup(session: HsmSession, backup: BackupFile, shares: DecodedShare[], opts: { label?: string; watchKek?: (kek: Uint8Array) => void } = {}): Promise<RestoreResult> {
  const label = opts.label ?? backup.keyLabel;
  const existing = session.find({ label });
  if (existing.length > 0) {
    throw new KeyriteError('HSM_LABEL_EXISTS', `Token '${session.token.label}' already holds ${existing.length} object(s) labelled '${label}'. Keyrite will not restore over it: restore under another label, or into an empty token.`, { details: { label, tokenLabel: session.token.label } });
  }
  // The TARGET module's RFC 5649 mechanism, whatever the source module used: the format is the same.
  const { mechanism } = rfc5649Mechanism(session, 'unwrap the backed-up key');
  const spec = parseKeyType(backup.keyType);
  const id = Buffer.from(backup.ckaId, 'hex');

  const kek = await combineShares(backup, shares);
  opts.watchKek?.(kek);
  let kekHandle: Handle | undefined;
  let privateKey: Handle | undefined;
  let publicKey: Handle | undefined;
  try {
    assertKcv(session, kek, backup);
    checkWrappedKey(kek, backup);
    kekHandle = importKek(session, kek, { wrap: false, unwrap: true });
    zeroize(kek);
    const vendor = vendorUnwrapAttributes(session.module.profile, spec, Buffer.from(backup.spkiDer, 'base64'));
    const where = `into token '${session.token.label}'`;
    const unwrap = (locked: boolean): { template: P11.Template; key: Handle } => {
      // Locked: the token key itself. Unlocked: a session object to correct and then copy, locked, into the token.
      const template = unwrapTemplate(spec, { token: locked, label, id, vendor, copyableAttribute: session.module.profile.copyableAttribute, locked });
      try {
        return { template, key: session.unwrapKey(mechanism, kekHandle!, Buffer.from(backup.wrappedKey, 'base64'), template) };
      } catch (e) {
        throw new KeyriteError('BACKUP_UNWRAP_FAILED', `The wrapped key in backup '${backup.keyId}' did not unwrap, although the KEK is right (its check value matched): the wrapped key in the file is damaged or was altered. Nothing was created in token '${session.token.label}'; use another copy of the backup file.`, {
          details: { keyId: backup.keyId, tokenLabel: session.token.label, hsmCode: e instanceof KeyriteError ? e.code : null },
          cause: e,
        });
      }
    };
    // Unchangeable from its creation (docs/formats.md: restored keys are non-modifiable).
    let unwrapped = unwrap(true);
    privateKey = unwrapped.key;
    if (unwrapAttributesWrong(session, privateKey, unwrapped.template).length > 0) {
      // The token did not follow the template (NSS adds CKA_DERIVE to an EC key, CKA_DECRYPT to an
      // RSA key), and an unchangeable key cannot be corrected: unwrap a changeable session copy,
      // correct it, then lock it into the token (lockRestoredKey).
      session.destroy(privateKey);
      privateKey = undefined;
      unwrapped = unwrap(false);
      privateKey = unwrapped.key;
    }
    crashPoint('restore:unwrapped');
    destroyKek(session, kekHandle);
    kekHandle = undefined;
    enforceUnwrapTemplate(session, privateKey, unwrapped.template, where);
    privateKey = lockRestoredKey(session, privateKey, unwrapped.template, where);
    crashPoint('restore:locked');
    publicKey = session.createObject(publicKeyTemplate(Buffer.from(backup.spkiDer, 'base64'), spec, label, id), 'create the restored public key');
    crashPoint('restore:public-created');
    const fromToken = readPublicKey(session, publicKey).fingerprint;
    const proof = proveIdentity(session, privateKey, backup, [fromToken, ...privateKeyFingerprints(session, privateKey, spec)]);
    assertProof(proof, where);
    return { label, spkiSha256: backup.spkiSha256, proof };
  } catch (e) {
    for (const h of [privateKey, publicKey]) {
      if (!h) continue;
      try {
        session.destroy(h);
      } catch {
        // Report the original failure; a leftover would still be found by label and refused next time.
      }
    }
    throw e;
  } finally {
    zeroize(kek);
    destroyKek(session, kekHandle);
  }
}

/**
 * What an interrupted restore left under the backup's label, settled before the step runs again
 * (docs/crash-safety.md): 'none'; 'complete' — the pair restoreBackup makes (one private key with
 * the attributes it insists on and the backup's CKA_ID, one public key that is the backup's), to
 * be adopted; or 'redone' — a restore cut short (the private key alone, or not yet corrected and
 * locked), whose objects were destroyed here so that the restore runs again from the shares. Only
 * objects proven to be this backup's key (a signature that verifies under its public key) are
 * destroyed; anything else under the label is refused (HSM_LABEL_EXISTS).
 */
export function settleInterruptedRestore(session: HsmSession, backup: BackupFile): 'none' | 'complete' | 'redone' {
  const label = backup.keyLabel;
  const all = session.find({ label });
  if (all.length === 0) return 'none';
  const privates = session.find({ class: 'private', label });
  const publics = session.find({ class: 'public', label });
  const refuse = (): KeyriteError =>
    new KeyriteError('HSM_LABEL_EXISTS', `Token '${session.token.label}' already holds a different key labelled '${label}'. Restore into a fresh token.`, { details: { label } });
  if (privates.length !== 1 || publics.length > 1 || privates.length + publics.length !== all.length) throw refuse();
  if (publics.length === 1 && readPublicKey(session, publics[0]).fingerprint !== backup.spkiSha256) throw refuse();
  const spec = parseKeyType(backup.keyType);
  const id = Buffer.from(backup.ckaId, 'hex');
  const template = unwrapTemplate(spec, { token: true, label, id, copyableAttribute: session.module.profile.copyableAttribute, locked: true });
  const idOf = (h: Handle): Buffer | undefined => session.getAttributesLenient(h, [pkcs11js.CKA_ID]).get(pkcs11js.CKA_ID);
  const finished = publics.length === 1 && isLockedTokenObject(session, privates[0]) && unwrapAttributesWrong(session, privates[0], template).length === 0 && id.equals(idOf(privates[0]) ?? Buffer.alloc(0));
  if (finished) return 'complete';
  let ours = false;
  try {
    ours = proveIdentity(session, privates[0], backup, []).signatureVerified;
  } catch {
    // A key that cannot sign is not one restoreBackup made: refused below.
  }
  if (!ours) throw refuse();
  for (const h of all) session.destroy(h);
  return 'redone';
}
