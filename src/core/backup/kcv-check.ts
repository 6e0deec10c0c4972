import { timingSafeEqual } from 'node:crypto';
import { KeyriteError } from '../errors';
import type { HsmSession } from '../hsm/session';
import type { BackupFile } from './backup-file';
import { computeKcv } from './kek';

/**
 * Compare the rebuilt KEK's check value with the backup's BEFORE anything is unwrapped: SoftHSM
 * (and other tokens) answer a wrong KEK with a bare CKR_GENERAL_ERROR, which says nothing.
 */
export function assertKcv(session: HsmSession, kek: Uint8Array, backup: BackupFile): void {
  const kcv = computeKcv(session, kek, backup.kek.kcvMethod);
  const a = Buffer.from(kcv, 'hex');
  const b = Buffer.from(backup.kek.kcv, 'hex');
  if (a.length !== b.length || !timingSafeEqual(a, b)) {
    throw new KeyriteError('BACKUP_KCV_MISMATCH', `The KEK rebuilt from these shares does not match backup '${backup.keyId}': its check value is ${kcv}, the backup records ${backup.kek.kcv}. Nothing was unwrapped. The shares or the backup file do not belong together (or the file's KEK check value was altered).`, {
      details: { keyId: backup.keyId, expected: backup.kek.kcv, actual: kcv, method: backup.kek.kcvMethod },
    });
  }
}
