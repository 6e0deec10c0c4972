import { KeyriteError, zeroize } from '../errors';
import { parseKeyType } from '../hsm/key-spec';
import { readPublicKey } from '../hsm/public-key';
import type { P11 } from '../hsm/pkcs11js';
import type { Handle, HsmSession } from '../hsm/session';
import type { BackupFile } from './backup-file';
import { assertProof, enforceUnwrapTemplate, lockRestoredKey, privateKeyFingerprints, proveIdentity, publicKeyTemplate, unwrapAttributesWrong, unwrapTemplate, vendorUnwrapAttributes, type IdentityProof } from './identity';
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
    destroyKek(session, kekHandle);
    kekHandle = undefined;
    enforceUnwrapTemplate(session, privateKey, unwrapped.template, where);
    privateKey = lockRestoredKey(session, privateKey, unwrapped.template, where);
    publicKey = session.createObject(publicKeyTemplate(Buffer.from(backup.spkiDer, 'base64'), spec, label, id), 'create the restored public key');
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
