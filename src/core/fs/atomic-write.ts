import { randomBytes } from 'node:crypto';
import { closeSync, fchmodSync, fsync, fsyncSync, linkSync, openSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

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

const fsyncAsync = promisify(fsync);

/**
 * Asynchronous where it waits on the disk, synchronous elsewhere: the fsyncs of the file and of its
 * folder go through libuv's thread pool (the event loop stays free while the disk works); opening,
 * writing a bundle-sized buffer, closing, linking and removing are microseconds each, and every
 * trip through the pool costs ~40 µs of CPU on two threads (issue #18). Same calls, same order,
 * same durability as writeFileAtomicSync.
 */
export async function writeFileAtomic(file: string, data: string | Uint8Array, options: AtomicWriteOptions = {}): Promise<void> {
  const tmp = tempName(file);
  const fd = openSync(tmp, 'wx', options.mode ?? 0o644);
  try {
    if (options.mode !== undefined) fchmodSync(fd, options.mode); // exactly this mode, whatever the umask
    writeFileSync(fd, data);
    await fsyncAsync(fd);
  } catch (e) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw e;
  }
  closeSync(fd);
  options.onTempWritten?.();
  try {
    if (options.exclusive) linkSync(tmp, file);
    else renameSync(tmp, file);
  } finally {
    rmSync(tmp, { force: true });
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
  syncDirSync(path.dirname(file));
}

/** fsync a folder, so a name just linked, renamed or removed in it survives a power cut. */
export function syncDirSync(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

export async function syncDir(dir: string): Promise<void> {
  const fd = openSync(dir, 'r');
  try {
    await fsyncAsync(fd);
  } finally {
    closeSync(fd);
  }
}
