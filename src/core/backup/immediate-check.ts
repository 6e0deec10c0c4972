import { parseKeyType } from '../hsm/key-spec';
import type { Handle, HsmSession } from '../hsm/session';
import type { BackupFile } from './backup-file';
import { assertProof, privateKeyFingerprints, proveIdentity, unwrapTemplate, vendorUnwrapAttributes, type IdentityProof } from './identity';
import { rfc5649Mechanism } from './wrap-format';

/**
 * Right after a backup is written: unwrap the blob AS READ BACK FROM THE FILE into a session
 * object in the same token, prove it is the original key, destroy it. A backup that cannot
 * restore is found now, while the original key still exists, not at recovery time.
 */
export function immediateBackupCheck(session: HsmSession, kek: Handle, backup: BackupFile): IdentityProof {
  const spec = parseKeyType(backup.keyType);
  const { mechanism } = rfc5649Mechanism(session, 'check the backup');
  let copy: Handle | undefined;
  try {
    copy = session.unwrapKey(mechanism, kek, Buffer.from(backup.wrappedKey, 'base64'), unwrapTemplate(spec, {
      token: false, // session object: gone with the session even if destroy below never runs
      copyableAttribute: session.module.profile.copyableAttribute,
      label: `${backup.keyLabel} (backup check)`,
      id: Buffer.from(backup.ckaId, 'hex'),
      vendor: vendorUnwrapAttributes(session.module.profile, spec, Buffer.from(backup.spkiDer, 'base64')),
    }));
    const proof = proveIdentity(session, copy, backup, privateKeyFingerprints(session, copy, spec));
    assertProof(proof, 'for the immediate backup check');
    return proof;
  } finally {
    if (copy) {
      try {
        session.destroy(copy);
      } catch {
        // A session object; it dies with the session regardless.
      }
    }
  }
}
