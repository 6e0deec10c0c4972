import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import sqlite3 from 'sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { Store } from '../../src/core/store/db';

/**
 * Store.run keeps one prepared statement per SQL text for the connection's life (one trip through
 * sqlite3's thread pool instead of three). What must hold: a failed statement does not poison the
 * next use of the same SQL, transactions still commit or roll back whole, concurrent callers get
 * their own results, and close() finalizes them so the connection really closes (the WAL file is
 * removed only by the last connection's clean close).
 */
const dir = mkdtempSync(path.join(os.tmpdir(), 'keyrite-store-stmts-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

async function scratch(): Promise<Store> {
  const store = await Store.open(path.join(dir, `${++n}.sqlite`));
  await store.exec('CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT NOT NULL)');
  return store;
}

const INSERT = 'INSERT INTO t (k, v) VALUES (?, ?)';

function rawCount(file: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const db = new sqlite3.Database(file, sqlite3.OPEN_READONLY, (err) => {
      if (err) return reject(err);
      db.get('SELECT COUNT(*) AS n FROM t', (e, row: { n: number }) => db.close(() => (e ? reject(e) : resolve(row.n))));
    });
  });
}

describe('Store.run with kept statements', () => {
  it('a constraint failure is a coded error, and the same SQL works again right after', async () => {
    const store = await scratch();
    try {
      expect(await store.run(INSERT, [1, 'a'])).toEqual({ lastID: 1, changes: 1 });
      await expect(store.run(INSERT, [1, 'again'])).rejects.toMatchObject({ code: 'STORE_ERROR' });
      await expect(store.run(INSERT, [2, null])).rejects.toMatchObject({ code: 'STORE_ERROR' });
      expect(await store.run(INSERT, [2, 'b'])).toEqual({ lastID: 2, changes: 1 });
      expect(await store.run('UPDATE t SET v = ? WHERE k > ?', ['z', 0])).toMatchObject({ changes: 2 });
      await expect(store.run('INSERT INTO nowhere VALUES (?)', [1])).rejects.toMatchObject({ code: 'STORE_ERROR' });
      await expect(store.run('INSERT INTO nowhere VALUES (?)', [1])).rejects.toMatchObject({ code: 'STORE_ERROR' });
      expect(await store.all('SELECT k, v FROM t ORDER BY k')).toEqual([{ k: 1, v: 'z' }, { k: 2, v: 'z' }]);
    } finally {
      await store.close();
    }
  });

  it('a transaction that throws leaves nothing, and the next one commits (kept BEGIN/COMMIT/ROLLBACK)', async () => {
    const store = await scratch();
    try {
      await expect(store.transaction(async (tx) => {
        await tx.run(INSERT, [1, 'a']);
        await tx.run(INSERT, [1, 'duplicate']);
      })).rejects.toMatchObject({ code: 'STORE_ERROR' });
      await expect(store.transaction(async (tx) => {
        await tx.run(INSERT, [5, 'a']);
        throw new Error('the step failed');
      })).rejects.toThrow('the step failed');
      expect(await store.all('SELECT k FROM t')).toEqual([]);
      await store.transaction(async (tx) => {
        await tx.run(INSERT, [1, 'a']);
        await tx.run(INSERT, [2, 'b']);
      });
      expect(await rawCount(store.file)).toBe(2);
    } finally {
      await store.close();
    }
  });

  it('concurrent transactions through the same statements each commit whole, failures roll back whole (seeded property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.record({ rows: fc.integer({ min: 1, max: 4 }), fail: fc.boolean() }), { minLength: 1, maxLength: 12 }), async (txs) => {
        const store = await scratch();
        try {
          let next = 0;
          const results = await Promise.allSettled(txs.map((t) => store.transaction(async (tx) => {
            const keys: number[] = [];
            for (let i = 0; i < t.rows; i++) {
              const k = ++next;
              const { lastID } = await tx.run(INSERT, [k, `tx${k}`]);
              expect(lastID).toBe(k);
              keys.push(k);
            }
            if (t.fail) await tx.run(INSERT, [keys[0], 'duplicate']);
            return keys;
          })));
          const committed = results.flatMap((r, i) => (r.status === 'fulfilled' ? r.value : (expect(txs[i].fail).toBe(true), [])));
          expect(results.filter((r) => r.status === 'rejected')).toHaveLength(txs.filter((t) => t.fail).length);
          const rows = await store.all<{ k: number }>('SELECT k FROM t ORDER BY k');
          expect(rows.map((r) => r.k)).toEqual(committed.sort((a, b) => a - b));
        } finally {
          await store.close();
        }
      }),
      { seed: 1811, numRuns: 25 },
    );
  });

  it('close() finalizes the kept statements, so the connection closes (the WAL file goes) and the file reopens', async () => {
    const store = await scratch();
    const file = store.file;
    await store.transaction(async (tx) => {
      await tx.run(INSERT, [1, 'a']);
    });
    await store.run('UPDATE t SET v = ? WHERE k = ?', ['b', 1]);
    expect(existsSync(`${file}-wal`)).toBe(true);
    await store.close();
    expect(existsSync(`${file}-wal`)).toBe(false);
    const again = await Store.open(file, { create: false });
    try {
      expect(await again.get('SELECT v FROM t WHERE k = 1')).toEqual({ v: 'b' });
    } finally {
      await again.close();
    }
  });
});
