import { existsSync } from 'node:fs';
import { KeyriteError, zeroize } from '../errors';
import type { Handle, HsmSession } from '../hsm/session';
import { backupFilePath, readBackupFile, writeBackupFile, type BackupFile } from './backup-file';
import { checked, checkKeyId, type BackupResult } from './create-backup';
import { immediateBackupCheck } from './immediate-check';
import { issueShares, checkSplitPolicy } from './issue-shares';
import { assertKcv } from './kcv-check';
import { destroyKek, importKek } from './kek';
import { combineShares } from './share-check';
import type { DecodedShare } from './share-codec';
import { formatSplitId } from './split-id';
import { checkWrappedKey, rfc5649Mechanism } from './wrap-format';

export interface ResplitOptions {
  threshold: number;
  count: number;
  custodians: string[];
  ceremonyId: string;
  outDir: string;
  now?: Date;
}

/**
 * Share rotation: rebuild the KEK from the old shares, check its KCV, split it again under a NEW
 * split id and write a new backup file (same wrapped key and KCV). The old shares stay valid for
 * the old file; retiring them is a custody matter recorded by the ceremony.
 */
export async function resplitBackup(session: HsmSession, backup: BackupFile, shares: DecodedShare[], opts: ResplitOptions): Promise<BackupResult> {
  checkSplitPolicy(opts);
  checkKeyId(backup.keyId);
  const target = backupFilePath(opts.outDir, backup.keyId);
  if (existsSync(target)) throw new KeyriteError('BACKUP_EXISTS', `Backup file '${target}' already exists; Keyrite never overwrites a backup. Write the re-split backup to another output folder.`, { details: { file: target } });
  rfc5649Mechanism(session, 'check the backup');

  const kek = await combineShares(backup, shares);
  let kekHandle: Handle | undefined;
  try {
    assertKcv(session, kek, backup);
    checkWrappedKey(kek, backup);
    kekHandle = importKek(session, kek, { wrap: false, unwrap: true });
    let splitIdRaw = session.random(4);
    while (formatSplitId(splitIdRaw) === backup.split.id) splitIdRaw = session.random(4);
    const { issued, split } = await issueShares(kek, splitIdRaw, opts);
    zeroize(kek);
    const next: BackupFile = { ...backup, split, ceremonyId: opts.ceremonyId, createdAt: (opts.now ?? new Date()).toISOString() };
    const file = writeBackupFile(opts.outDir, next);
    const reread = readBackupFile(file);
    const immediateCheck = checked(() => immediateBackupCheck(session, kekHandle!, reread), file);
    return { file, backup: reread, shares: issued, kcv: reread.kek.kcv, kcvMethod: reread.kek.kcvMethod, wrapTrust: reread.wrapTrust, immediateCheck, trimmedBytes: 0 };
  } finally {
    zeroize(kek);
    destroyKek(session, kekHandle);
  }
}
