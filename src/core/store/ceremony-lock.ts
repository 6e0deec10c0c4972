import { mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sqlite3 from 'sqlite3';
import { KeyriteError } from '../errors';
import type { CeremonyRepository, HolderRow } from './ceremonies';

/**
 * One process per ceremony. The lock is an exclusive sqlite lock (an fcntl lock on Linux and
 * macOS, LockFileEx on Windows) on a small per-ceremony file, held by a dedicated connection
 * inside an open `BEGIN EXCLUSIVE` for as long as the process works on the ceremony. The kernel
 * drops it when the process dies, kill -9 included, so a crash never leaves a stale lock; and
 * sqlite keeps per-connection lock state inside a process, so a second service in the same
 * process (another window of the desktop app) is refused as well. The holder row in the store
 * only says who holds it, for the refusal's sentence: the lock decides.
 */
export class CeremonyLock {
  private constructor(
    readonly ceremonyId: string,
    private readonly db: sqlite3.Database,
    private readonly repo: CeremonyRepository,
    readonly holder: HolderRow,
  ) {}

  static async acquire(repo: CeremonyRepository, ceremonyId: string): Promise<CeremonyLock> {
    const dir = path.join(path.dirname(repo.store.file), 'locks');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    // Ceremony ids are letters, digits, '.', '_' and '-'; anything else cannot name a file here.
    const file = path.join(dir, `${ceremonyId.replace(/[^A-Za-z0-9._-]/g, '_')}.lock`);
    const db = await new Promise<sqlite3.Database>((resolve, reject) => {
      const d = new sqlite3.Database(file, sqlite3.OPEN_READWRITE | sqlite3.OPEN_CREATE, (err) => (err ? reject(lockError(err, file)) : resolve(d)));
    });
    try {
      // No busy wait: a held lock is an answer, not something to queue behind.
      await exec(db, 'PRAGMA busy_timeout = 0');
      await exec(db, 'BEGIN EXCLUSIVE');
    } catch (e) {
      await close(db);
      if ((e as { code?: string }).code === 'SQLITE_BUSY' || (e as { code?: string }).code === 'SQLITE_LOCKED') throw inUse(ceremonyId, await currentHolder(repo, ceremonyId));
      throw lockError(e, file);
    }
    const holder: HolderRow = { ceremonyId, pid: process.pid, host: os.hostname(), program: process.versions.electron ? 'the Keyrite desktop app' : 'the keyrite command', since: new Date().toISOString() };
    try {
      await repo.setHolder(holder);
    } catch (e) {
      await exec(db, 'ROLLBACK').catch(() => undefined);
      await close(db);
      throw e;
    }
    return new CeremonyLock(ceremonyId, db, repo, holder);
  }

  /** Give the ceremony back (the kernel does the same if the process dies first). */
  async release(): Promise<void> {
    await this.repo.clearHolder(this.ceremonyId, this.holder.pid, this.holder.since).catch(() => undefined);
    await exec(this.db, 'ROLLBACK').catch(() => undefined);
    await close(this.db);
  }
}

/**
 * The holder row of the process that has the lock. A row left by a holder that died (kill -9
 * cannot clean up) or not yet written by a holder that just took the lock is not the answer:
 * wait a moment for the live holder's row.
 */
async function currentHolder(repo: CeremonyRepository, ceremonyId: string): Promise<HolderRow | undefined> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const row = await repo.holder(ceremonyId).catch(() => undefined);
    if (row && (row.host !== os.hostname() || isAlive(row.pid))) return row;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return undefined;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function inUse(ceremonyId: string, holder: HolderRow | undefined): KeyriteError {
  const who = holder ? `${holder.program} (process ${holder.pid} on ${holder.host}, since ${holder.since})` : 'another Keyrite process';
  return new KeyriteError('CEREMONY_IN_USE', `Ceremony '${ceremonyId}' is being run by ${who}. A ceremony runs in one place at a time: continue it there, or close that window or stop that process, then resume here with \`keyrite ceremony resume ${ceremonyId}\`.`, {
    details: { id: ceremonyId, pid: holder?.pid ?? null, host: holder?.host ?? null, since: holder?.since ?? null },
  });
}

function lockError(err: unknown, file: string): KeyriteError {
  if (err instanceof KeyriteError) return err;
  return new KeyriteError('STORE_UNAVAILABLE', `Keyrite cannot use its ceremony lock file '${file}' (${err instanceof Error ? err.message : String(err)}). Check that the folder exists and is writable.`, { details: { file }, cause: err });
}

function exec(db: sqlite3.Database, sql: string): Promise<void> {
  return new Promise((resolve, reject) => db.exec(sql, (err) => (err ? reject(err) : resolve())));
}

function close(db: sqlite3.Database): Promise<void> {
  return new Promise((resolve) => db.close(() => resolve()));
}
