import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, linkSync, lstatSync, mkdirSync, openSync, readSync, statSync, unlinkSync } from 'node:fs';
import path from 'node:path';
import sqlite3 from 'sqlite3';
import { checkHomeCanBeFolder } from '../config/paths';
import { syncDirSync } from '../fs/atomic-write';
import { KeyriteError } from '../errors';
import { MIGRATIONS } from './migrations';

export type Row = Record<string, unknown>;

const SQLITE_HEADER = Buffer.from('SQLite format 3\0', 'latin1');

/**
 * Only a missing file may become a new store. A zero-byte file (a copy that failed, a disk that
 * lost it) or a file that is not SQLite at all would otherwise be opened as a new, empty store,
 * hiding every ceremony that was recorded in the real one.
 */
function checkExistingStoreFile(file: string): void {
  let st;
  try {
    st = lstatSync(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw storeError(e, file, 'open');
  }
  if (st.isSymbolicLink()) st = statSync(file, { throwIfNoEntry: false }) ?? st;
  if (!st.isFile()) {
    throw new KeyriteError('STORE_NOT_A_FILE', `The Keyrite store '${file}' is ${st.isDirectory() ? 'a folder' : st.isSymbolicLink() ? 'a link to nothing' : 'not a regular file'}. Check KEYRITE_HOME; Keyrite keeps its store in a regular file.`, { details: { file } });
  }
  if (st.size === 0) {
    throw new KeyriteError('STORE_EMPTY_FILE', `The Keyrite store '${file}' is an empty (zero-byte) file, not a store: the real store was lost or replaced. Restore it from your last copy (or move the empty file away to start a new store on purpose); Keyrite will not start a new store in its place.`, { details: { file } });
  }
  const head = Buffer.alloc(SQLITE_HEADER.length);
  const fd = openSync(file, 'r');
  try {
    readSync(fd, head, 0, head.length, 0);
  } finally {
    closeSync(fd);
  }
  if (!head.equals(SQLITE_HEADER)) {
    throw new KeyriteError('STORE_NOT_A_STORE', `'${file}' is not a Keyrite store (it is not a SQLite database). Check KEYRITE_HOME; Keyrite will not overwrite it.`, { details: { file } });
  }
}
export type Param = string | number | bigint | null | Buffer;

/**
 * A new store appears whole: made under a name of its own, given its SQLite header (the WAL
 * switch writes page 1), then linked into place, which fails if another process got there first.
 * sqlite would create the file empty and write its header a moment later, and a second `keyrite`
 * started at once (two commands on a new KEYRITE_HOME) saw that empty file and refused it as a
 * lost store (STORE_EMPTY_FILE). A kill before the link leaves only the `.new-…` file behind.
 */
async function createStoreFile(file: string): Promise<void> {
  const fresh = `${file}.new-${randomBytes(4).toString('hex')}`;
  await new Promise<void>((resolve, reject) => {
    const db = new sqlite3.Database(fresh, sqlite3.OPEN_READWRITE | sqlite3.OPEN_CREATE, (err) => {
      if (err) return reject(storeError(err, fresh, 'open'));
      db.exec('PRAGMA journal_mode = WAL', (e) => db.close((e2) => (e || e2 ? reject(storeError(e ?? e2, fresh, 'write')) : resolve())));
    });
  });
  try {
    const fd = openSync(fresh, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    try {
      linkSync(fresh, file);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw storeError(e, file, 'open');
    }
  } finally {
    unlinkSync(fresh);
  }
  syncDirSync(path.dirname(file));
}

/**
 * The local store: one sqlite file (WAL, synchronous=FULL). sqlite3 is callback-only; this wraps
 * it in promises and serializes transactions so a step's result, its events and the next state
 * are written together or not at all.
 */
export class Store {
  private queue: Promise<unknown> = Promise.resolve();
  /** Prepared write statements by SQL text (see run()). */
  private readonly statements = new Map<string, Promise<sqlite3.Statement>>();
  private constructor(
    readonly file: string,
    private readonly db: sqlite3.Database,
  ) {}

  /**
   * Open (and migrate) the store. `create: false` refuses to make a new, empty database where one
   * was expected: a missing file then is an error, not a silent fresh start.
   */
  static async open(file: string, options: { create?: boolean } = {}): Promise<Store> {
    const create = options.create ?? true;
    if (!create && !existsSync(file)) {
      throw new KeyriteError('STORE_MISSING', `The Keyrite store '${file}' does not exist. Check KEYRITE_HOME; Keyrite will not start a new, empty store in place of a missing one.`, { details: { file } });
    }
    checkHomeCanBeFolder(path.dirname(file));
    mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    if (create && !existsSync(file)) await createStoreFile(file);
    checkExistingStoreFile(file);
    const db = await new Promise<sqlite3.Database>((resolve, reject) => {
      const mode = sqlite3.OPEN_READWRITE | (create ? sqlite3.OPEN_CREATE : 0) | sqlite3.OPEN_FULLMUTEX;
      const d = new sqlite3.Database(file, mode, (err) => (err ? reject(storeError(err, file, 'open')) : resolve(d)));
    });
    const store = new Store(file, db);
    try {
      // One exec, one trip through libuv's pool, run in this order. The busy timeout first: fail
      // fast rather than wait forever on another process's lock (switching to WAL may need one).
      await store.exec('PRAGMA busy_timeout = 3000; PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;');
      // No whole-file quick_check here: it reads every page, so opening a store of 100k events
      // took 7.5× as long as a small one. Reading the schema (below) proves the header and the
      // schema pages; a ceremony's own chain tail is checked when it is loaded
      // (CeremonyRepository.lastEvent), and checkIntegrity() runs the whole-file check on demand.
      await store.refuseForeignDatabase();
      await store.migrate();
    } catch (e) {
      await store.close();
      throw e instanceof KeyriteError ? e : storeError(e, file, 'open');
    }
    return store;
  }

  /**
   * The whole-file check (PRAGMA quick_check: every page, every index entry), on demand: its cost
   * grows with the store, so it is not part of open().
   */
  async checkIntegrity(): Promise<void> {
    const check = await this.get<{ quick_check: string }>('PRAGMA quick_check');
    if (check?.quick_check !== 'ok') {
      throw new KeyriteError('STORE_CORRUPT', `The Keyrite store '${this.file}' is damaged (${check?.quick_check ?? 'no answer'}). Keep the file for investigation and restore it from your last copy; Keyrite will not overwrite it.`, { details: { file: this.file } });
    }
  }

  /** A SQLite database with tables but no schema_version belongs to another program. */
  private async refuseForeignDatabase(): Promise<void> {
    const tables = await this.all<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table'");
    if (tables.length > 0 && !tables.some((t) => t.name === 'schema_version')) {
      throw new KeyriteError('STORE_FOREIGN', `'${this.file}' is a database of another program (tables ${tables.slice(0, 5).map((t) => t.name).join(', ')}), not a Keyrite store. Check KEYRITE_HOME; Keyrite will not write into it.`, { details: { file: this.file } });
    }
  }

  private async migrate(): Promise<void> {
    await this.exec('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)');
    if ((await this.schemaVersion()) === MIGRATIONS.length) return;
    // Every pending migration in one transaction: the store moves to the current schema whole or
    // not at all, with one durable commit rather than one per migration. The version is read again
    // under the write lock: another process opening the store at the same moment (two `keyrite`
    // commands on a new KEYRITE_HOME) may have migrated it while this one waited for the lock.
    await this.transaction(async (tx) => {
      const current = await tx.schemaVersion();
      for (let v = current + 1; v <= MIGRATIONS.length; v++) {
        await tx.exec(MIGRATIONS[v - 1]);
        await tx.run('INSERT INTO schema_version (version) VALUES (?)', [v]);
      }
    });
  }

  /** The store's schema version; STORE_TOO_NEW if a newer Keyrite wrote it. */
  private async schemaVersion(): Promise<number> {
    const row = await this.get<{ version: number }>('SELECT MAX(version) AS version FROM schema_version');
    const current = row?.version ?? 0;
    if (current > MIGRATIONS.length) {
      throw new KeyriteError('STORE_TOO_NEW', `The Keyrite store '${this.file}' was written by a newer Keyrite (schema ${current}, this one knows ${MIGRATIONS.length}). Use the newer Keyrite.`);
    }
    return current;
  }

  exec(sql: string): Promise<void> {
    return new Promise((resolve, reject) => this.db.exec(sql, (err) => (err ? reject(storeError(err, this.file, 'write')) : resolve())));
  }

  /**
   * INSERT/UPDATE/DELETE (and BEGIN/COMMIT) through a prepared statement kept for the connection's
   * life: sqlite3's Database#run prepares, steps and finalizes a statement each time, three trips
   * through libuv's thread pool where one does (half of the store's own cost per step). Only
   * statements that run to completion are kept — a SELECT left on its first row would hold a read
   * snapshot open — so reads stay with get()/all(). A statement that failed is finalized and
   * prepared afresh next time.
   */
  async run(sql: string, params: Param[] = []): Promise<{ lastID: number; changes: number }> {
    const stmt = await this.prepared(sql);
    if (!stmt) return this.runOnce(sql, params);
    return new Promise<{ lastID: number; changes: number }>((resolve, reject) =>
      stmt.run(params, function (err) {
        if (err) reject(err);
        else resolve({ lastID: this.lastID, changes: this.changes });
      }),
    ).catch((err) => {
      this.forget(sql, stmt);
      throw storeError(err, this.file, 'write');
    });
  }

  private runOnce(sql: string, params: Param[]): Promise<{ lastID: number; changes: number }> {
    return new Promise((resolve, reject) =>
      this.db.run(sql, params, function (err) {
        if (err) reject(err);
        else resolve({ lastID: this.lastID, changes: this.changes });
      }),
    ).catch((err) => {
      throw storeError(err, this.file, 'write');
    }) as Promise<{ lastID: number; changes: number }>;
  }

  /** The kept statement for `sql`, prepared on first use; undefined once the cache is full (then run() prepares each time). */
  private prepared(sql: string): Promise<sqlite3.Statement | undefined> {
    let p = this.statements.get(sql);
    if (!p) {
      if (this.statements.size >= STATEMENT_CACHE_LIMIT) return Promise.resolve(undefined);
      p = new Promise<sqlite3.Statement>((resolve, reject) => {
        const stmt = this.db.prepare(sql, (err) => (err ? reject(storeError(err, this.file, 'write')) : resolve(stmt)));
      });
      this.statements.set(sql, p);
      // A statement that cannot be prepared (a syntax error, a missing table) is not kept.
      p.catch(() => this.statements.delete(sql));
    }
    return p;
  }

  private forget(sql: string, stmt: sqlite3.Statement): void {
    this.statements.delete(sql);
    stmt.finalize();
  }

  get<T = Row>(sql: string, params: Param[] = []): Promise<T | undefined> {
    return new Promise((resolve, reject) => this.db.get(sql, params, (err, row) => (err ? reject(storeError(err, this.file, 'read')) : resolve(row as T | undefined))));
  }

  all<T = Row>(sql: string, params: Param[] = []): Promise<T[]> {
    return new Promise((resolve, reject) => this.db.all(sql, params, (err, rows) => (err ? reject(storeError(err, this.file, 'read')) : resolve(rows as T[]))));
  }

  /**
   * Run `fn` inside BEGIN IMMEDIATE … COMMIT. Transactions are queued: sqlite3 shares one
   * connection, so two interleaved transactions would otherwise nest.
   */
  transaction<T>(fn: (tx: Store) => Promise<T>): Promise<T> {
    const next = this.queue.then(async () => {
      await this.run('BEGIN IMMEDIATE');
      try {
        const result = await fn(this);
        await this.run('COMMIT');
        return result;
      } catch (e) {
        await this.run('ROLLBACK').catch(() => undefined);
        throw e;
      }
    });
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** Finalizes the kept statements first: sqlite refuses to close a connection that still has some. */
  async close(): Promise<void> {
    const kept = await Promise.allSettled([...this.statements.values()]);
    this.statements.clear();
    await Promise.all(kept.map((k) => (k.status === 'fulfilled' ? new Promise<void>((resolve) => k.value.finalize(() => resolve())) : undefined)));
    return new Promise((resolve) => this.db.close(() => resolve()));
  }
}

/** Distinct write statements Keyrite has are a few dozen; beyond this, run() prepares each time. */
const STATEMENT_CACHE_LIMIT = 128;

function storeError(err: unknown, file: string, what: 'open' | 'read' | 'write'): KeyriteError {
  if (err instanceof KeyriteError) return err;
  const code = (err as { code?: string }).code ?? '';
  const msg = err instanceof Error ? err.message : String(err);
  if (code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED') {
    return new KeyriteError('STORE_LOCKED', `The Keyrite store '${file}' is locked by another program (another Keyrite window or process?). Close it and retry; nothing was lost.`, { details: { file }, cause: err });
  }
  if (code === 'SQLITE_CORRUPT' || code === 'SQLITE_NOTADB') {
    return new KeyriteError('STORE_CORRUPT', `The Keyrite store '${file}' is damaged or is not a Keyrite database. Keep the file for investigation and restore it from your last copy; Keyrite will not overwrite it.`, { details: { file }, cause: err });
  }
  if (code === 'SQLITE_FULL') {
    return new KeyriteError('STORE_DISK_FULL', `The disk holding '${file}' is full, so Keyrite could not save. Free space and retry the step; the step was not recorded.`, { details: { file }, cause: err });
  }
  if (code === 'SQLITE_CANTOPEN' || code === 'SQLITE_READONLY' || code === 'SQLITE_PERM') {
    return new KeyriteError('STORE_UNAVAILABLE', `Keyrite cannot ${what} its store '${file}' (${msg}). Check that the folder exists and is writable.`, { details: { file }, cause: err });
  }
  return new KeyriteError('STORE_ERROR', `Keyrite could not ${what} its store '${file}' (${msg}).`, { details: { file }, cause: err });
}
