import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, linkSync, openSync, promises as fs, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * Every file Keyrite writes to a bundle is either absent or complete, also across a power cut:
 * write a temporary file in the same folder, fsync it, move it into place, fsync the folder.
 * `exclusive`: hard-link instead of rename, which fails with EEXIST rather than replace a file
 * that exists (or appeared meanwhile): Keyrite refuses rather than overwrites.
 */
export interface AtomicWriteOptions {
  exclusive?: boolean;
  /** File mode (default 0644); 0600 for anything only its owner may read. Set before any byte is written. */
  mode?: number;
  /** Called once the temporary file is complete and synced, before it is moved into place (crash tests name this instant). */
  onTempWritten?: () => void;
}

function tempName(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.keyrite-tmp-${randomBytes(6).toString('hex')}`);
}

export async function writeFileAtomic(file: string, data: string | Uint8Array, options: AtomicWriteOptions = {}): Promise<void> {
  const tmp = tempName(file);
  const handle = await fs.open(tmp, 'wx', options.mode ?? 0o644);
  try {
    if (options.mode !== undefined) await handle.chmod(options.mode); // exactly this mode, whatever the umask
    await handle.writeFile(data);
    await handle.sync();
  } catch (e) {
    await handle.close();
    await fs.rm(tmp, { force: true });
    throw e;
  }
  await handle.close();
  options.onTempWritten?.();
  try {
    if (options.exclusive) await fs.link(tmp, file);
    else await fs.rename(tmp, file);
  } finally {
    await fs.rm(tmp, { force: true });
  }
  await syncDir(path.dirname(file));
}

/** The same, synchronously, for callers that cannot await. */
export function writeFileAtomicSync(file: string, data: string | Uint8Array, options: AtomicWriteOptions = {}): void {
  const tmp = tempName(file);
  const fd = openSync(tmp, 'wx', 0o644);
  try {
    try {
      writeFileSync(fd, data);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    if (options.exclusive) linkSync(tmp, file);
    else renameSync(tmp, file);
  } finally {
    rmSync(tmp, { force: true });
  }
  const dfd = openSync(path.dirname(file), 'r');
  try {
    fsyncSync(dfd);
  } finally {
    closeSync(dfd);
  }
}

export async function syncDir(dir: string): Promise<void> {
  const handle = await fs.open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
