import path from 'node:path';
import sqlite3 from 'sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { Store } from '../../src/core/store/db';
import { KeyRecords } from '../../src/core/store/key-records';
import { MIGRATIONS } from '../../src/core/store/migrations';
import { tempDir } from '../helpers/ceremony';

/**
 * Store.open applies every pending migration in ONE transaction (issue #18: one durable commit,
 * not one per migration): a store ends at the current schema whole, or stays where it was. An old
 * store migrates to the same schema a new one gets.
 */
const dir = tempDir('migrations');
const open: Store[] = [];
afterAll(async () => {
  for (const s of open) await s.close();
});

/** A store as Keyrite's first schema left it: migration 1 and its version row, nothing after. */
function oldStore(file: string, extraSql = ''): Promise<void> {
  return new Promise((resolve, reject) => {
    const db = new sqlite3.Database(file, (err) => {
      if (err) return reject(err);
      db.exec(`CREATE TABLE schema_version (version INTEGER NOT NULL); ${MIGRATIONS[0]}; INSERT INTO schema_version (version) VALUES (1); ${extraSql}`, (e) => db.close(() => (e ? reject(e) : resolve())));
    });
  });
}

async function schema(store: Store): Promise<{ versions: number[]; tables: Array<{ name: string; sql: string }> }> {
  const versions = (await store.all<{ version: number }>('SELECT version FROM schema_version ORDER BY version')).map((r) => r.version);
  const tables = await store.all<{ name: string; sql: string }>("SELECT name, sql FROM sqlite_master WHERE type = 'table' ORDER BY name");
  return { versions, tables };
}

describe('migrations', () => {
  it('a new store and an old one end at the same, current schema', async () => {
    const fresh = await Store.open(path.join(dir, 'new.sqlite'));
    open.push(fresh);
    const oldFile = path.join(dir, 'old.sqlite');
    await oldStore(oldFile);
    const migrated = await Store.open(oldFile, { create: false });
    open.push(migrated);
    const all = MIGRATIONS.map((_, i) => i + 1);
    expect((await schema(fresh)).versions).toEqual(all);
    expect(await schema(migrated)).toEqual(await schema(fresh));
  });

  it('a migration that fails leaves the store at its old version: the ones before it in the same open are undone too', async () => {
    const file = path.join(dir, 'clash.sqlite');
    // Migration 3 adds ceremonies.state_version: a column of that name already there makes it fail.
    await oldStore(file, 'ALTER TABLE ceremonies ADD COLUMN state_version INTEGER;');
    await expect(Store.open(file, { create: false })).rejects.toMatchObject({ code: 'STORE_ERROR' });
    const raw = await new Promise<{ versions: number[]; stepColumns: string[] }>((resolve, reject) => {
      const db = new sqlite3.Database(file, sqlite3.OPEN_READONLY, (err) => {
        if (err) return reject(err);
        db.all('SELECT version FROM schema_version ORDER BY version', (e1, v: Array<{ version: number }>) => {
          db.all('PRAGMA table_info(steps)', (e2, c: Array<{ name: string }>) => db.close(() => (e1 || e2 ? reject(e1 ?? e2) : resolve({ versions: v.map((r) => r.version), stepColumns: c.map((r) => r.name) }))));
        });
      });
    });
    expect(raw.versions).toEqual([1]);
    // Migration 2 (steps.title) ran in the same transaction and was rolled back with it.
    expect(raw.stepColumns).not.toContain('title');
  });
});

describe('migration 4: key id claims', () => {
  it('a ceremony stopped inside its key generation before the upgrade keeps its key id: the next one gets another number', async () => {
    const file = path.join(dir, 'v3-mid-keygen.sqlite');
    const state = (keyId: string | null) => JSON.stringify({ actionState: keyId ? { keyId } : {} });
    const ceremony = (id: string, status: string, keyId: string | null) =>
      `INSERT INTO ceremonies (id, script_id, script_version, script_sha256, script_path, title, status, current_step, parameters, state, out_dir, created_at, updated_at)
       VALUES ('${id}', 'root-key', '1', 'x', 'x', 't', '${status}', 1, '{}', '${state(keyId)}', '/tmp/${id}', '2026-01-01', '2026-01-02');
       INSERT INTO steps (ceremony_id, idx, step_id, status) VALUES ('${id}', 0, 'hsm', 'done'), ('${id}', 1, 'generate', 'running');`;
    await new Promise<void>((resolve, reject) => {
      const db = new sqlite3.Database(file, (err) => {
        if (err) return reject(err);
        const upTo3 = MIGRATIONS.slice(0, 3).join(';\n');
        const rows = [ceremony('c-mid', 'running', 'ROOT-EC-2026-0003'), ceremony('c-before', 'running', null), ceremony('c-gone', 'aborted', 'ROOT-EC-2026-0009')].join('\n');
        db.exec(`CREATE TABLE schema_version (version INTEGER NOT NULL); ${upTo3}; INSERT INTO schema_version (version) VALUES (1), (2), (3); ${rows}`, (e) => db.close(() => (e ? reject(e) : resolve())));
      });
    });
    const store = await Store.open(file, { create: false });
    open.push(store);
    const claims = await store.all<{ key_id: string; ceremony_id: string; step_id: string }>('SELECT key_id, ceremony_id, step_id FROM key_id_claims');
    // The running ceremony's id is claimed under its own step (a resume gets it back); an aborted
    // ceremony's state is not read, and one that had not reached its key yet claims nothing.
    expect(claims).toEqual([{ key_id: 'ROOT-EC-2026-0003', ceremony_id: 'c-mid', step_id: 'generate' }]);
    // What the next key id is allocated from.
    expect(await new KeyRecords(store).idsStartingWith('ROOT-EC-2026-')).toContain('ROOT-EC-2026-0003');
  });
});

describe('first use by several processes at once', () => {
  // Found by racing `keyrite ceremony run` processes on a fresh KEYRITE_HOME: each read version 0,
  // then each applied migration 1 in turn, and all but the first failed with "table ceremonies
  // already exists" (STORE_ERROR). Four connections opening one new file at once is the same race.
  it('every opener of a new store gets the current schema, migrated once', async () => {
    const file = path.join(dir, 'first-use.sqlite');
    const stores = await Promise.all([1, 2, 3, 4].map(() => Store.open(file)));
    open.push(...stores);
    for (const s of stores) expect((await schema(s)).versions).toEqual(MIGRATIONS.map((_, i) => i + 1));
  });

  it('an old store opened by several processes at once is migrated once', async () => {
    const file = path.join(dir, 'old-first-use.sqlite');
    await oldStore(file);
    const stores = await Promise.all([1, 2, 3].map(() => Store.open(file, { create: false })));
    open.push(...stores);
    for (const s of stores) expect((await schema(s)).versions).toEqual(MIGRATIONS.map((_, i) => i + 1));
  });
});
