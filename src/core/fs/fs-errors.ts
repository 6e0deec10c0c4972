import { KeyriteError } from '../errors';

/**
 * File-system failures while writing ceremony output, as sentences a custodian can act on.
 * Returns null for anything that is not a file-system error.
 */
export function fileSystemError(e: unknown): KeyriteError | null {
  const err = e as NodeJS.ErrnoException;
  if (!err || typeof err.code !== 'string' || typeof err.syscall !== 'string') return null;
  const where = err.path ? `'${err.path}'` : 'the output folder';
  const details = { errno: err.code, path: err.path ?? null, syscall: err.syscall };
  switch (err.code) {
    case 'ENOSPC':
    case 'EDQUOT':
      return new KeyriteError('OUTPUT_DISK_FULL', `The disk or medium holding ${where} is full. Free space (or mount a larger medium at the same place), then retry this step; nothing recorded so far was lost.`, { details, cause: e });
    case 'EROFS':
      return new KeyriteError('OUTPUT_READ_ONLY', `The medium holding ${where} is read-only. Use a writable medium, then retry this step.`, { details, cause: e });
    case 'ENOENT':
    case 'ENODEV':
    case 'ENXIO':
    case 'EIO':
      return new KeyriteError('OUTPUT_MEDIA_REMOVED', `Keyrite could not write ${where} (${err.code}): the output medium may have been removed. Reinsert it at the same place, then retry this step.`, { details, cause: e });
    case 'EACCES':
    case 'EPERM':
      return new KeyriteError('OUTPUT_PERMISSION', `Keyrite is not allowed to write ${where}. Fix the folder's permissions, then retry this step.`, { details, cause: e });
    default:
      return null;
  }
}
