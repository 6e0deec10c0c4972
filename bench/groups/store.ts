import path from 'node:path';
import { rmSync, statSync } from 'node:fs';
import sqlite3 from 'sqlite3';
import { CeremonyService } from '../../src/core/ceremony/service';
import { storePath } from '../../src/core/config/paths';
import type { HsmConfig } from '../../src/core/hsm/config';
import { CeremonyRepository } from '../../src/core/store/ceremonies';
import { Store } from '../../src/core/store/db';
import { MIGRATIONS } from '../../src/core/store/migrations';
import { eventLine, makeEvent, type TranscriptEvent } from '../../src/core/transcript';
import { demoHsm } from '../lib/ceremony';
import { stepEvents } from '../lib/events';
import { belowCheck, ratioCheck, ratioOf, type Row } from '../lib/row';
import { interleave, nowMs, stats } from '../lib/stats';
import { benchDir } from '../lib/token';

const EVENTS_PER_STEP = 5;

/**
 * 5. Store: (a) steps appended the way the runner appends them — one BEGIN IMMEDIATE … COMMIT
 * per step holding its events (made with makeEvent) and the ceremony's new state, written by
 * CeremonyRepository.save (compare-and-set on the state version, step rows), WAL +
 * synchronous=FULL — against the same events and state written with sqlite3 directly (same
 * pragmas, the same INSERTs and state UPDATE through Database#run, lines made beforehand, no
 * step-rows UPDATE); (b) resuming a ceremony with 100k events in its chain
 * (`CeremonyService.open` + `view`, what `keyrite ceremony resume` and the app do) against
 * resuming one with a real demo ceremony's 78.
 */
export async function run(opts: { quick: boolean }): Promise<Row[]> {
  const dir = benchDir('store');
  try {
    return [await append(dir, opts.quick), ...(await resume(dir, opts.quick))];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const STATE_OBJECT = { tokenLabel: 'keyrite-demo', phase: 'action', participants: [], signoffs: [], keys: {}, handedOut: [], collected: [], artifacts: {}, actionState: {}, evidence: null };
const STATE = JSON.stringify(STATE_OBJECT);

function insertCeremony(id: string): [string, unknown[]] {
  const now = new Date().toISOString();
  return [
    `INSERT INTO ceremonies (id, script_id, script_version, script_sha256, script_path, title, status, current_step, parameters, state, out_dir, demo, created_at, updated_at)
     VALUES (?, 'root-key-generation', '1', ?, '/nonexistent/root-key-generation.yaml', 'Root key generation', 'running', 0, '{}', ?, '/tmp/bundle', 1, ?, ?)`,
    [id, '0'.repeat(64), STATE, now, now],
  ];
}

async function append(dir: string, quick: boolean): Promise<Row> {
  const id = 'bench-append';
  const store = await Store.open(path.join(dir, 'keyrite.sqlite'));
  const raw = await Raw.open(path.join(dir, 'raw.sqlite'));
  try {
    const [sql, params] = insertCeremony(id);
    await store.run(sql, params as never[]);
    await raw.run(sql, params);
    let head: TranscriptEvent | null = null;
    // The runner's own write: CeremonyRepository.save, a compare-and-set on the state version.
    const repo = new CeremonyRepository(store);
    let version = 0;
    let rawSeq = 0;
    let step = 0;
    let rawStep = 0;
    const keyrite = async (): Promise<number> => {
      const at = new Date().toISOString();
      const t0 = nowMs();
      await store.transaction(async (tx) => {
        const events: TranscriptEvent[] = [];
        for (const fields of stepEvents(id, step, at)) events.push((head = makeEvent(head, fields)));
        version = await repo.save(tx, { id, expectedVersion: version, events, state: STATE_OBJECT, currentStep: step, status: 'running', at });
      });
      step += 1;
      return nowMs() - t0;
    };
    // The direct side writes lines of the same size, made before the clock starts.
    const template = (() => {
      let prev: TranscriptEvent | null = null;
      return stepEvents(id, 0, new Date().toISOString()).map((f) => (prev = makeEvent(prev, f)));
    })();
    const raw1 = async (): Promise<number> => {
      const rows = template.map((e) => [id, ++rawSeq, eventLine(e), e.hash]);
      const at = new Date().toISOString();
      const t0 = nowMs();
      await raw.run('BEGIN IMMEDIATE');
      for (const r of rows) await raw.run('INSERT INTO events (ceremony_id, seq, line, hash) VALUES (?, ?, ?, ?)', r);
      await raw.run('UPDATE ceremonies SET state = ?, current_step = ?, status = ?, updated_at = ? WHERE id = ?', [STATE, rawStep++, 'running', at, id]);
      await raw.run('COMMIT');
      return nowMs() - t0;
    };
    const rounds = quick ? 40 : 250;
    const samples = await interleave([{ name: 'keyrite', run: keyrite }, { name: 'raw', run: raw1 }], { rounds, warmup: 10 });
    const k = stats(samples.get('keyrite')!);
    const r = stats(samples.get('raw')!);
    const ratio = ratioOf(k, r);
    const perSecond = (EVENTS_PER_STEP * 1000) / k.median;
    // What Keyrite computes per step before it touches the database, alone.
    const making: number[] = [];
    for (let i = 0; i < 200; i++) {
      let prev: TranscriptEvent | null = head;
      const t0 = nowMs();
      for (const fields of stepEvents(id, i, new Date().toISOString())) eventLine((prev = makeEvent(prev, fields)));
      making.push(nowMs() - t0);
    }
    const make = stats(making).median;
    return {
      id: '5a',
      group: 'Store',
      name: `append one step (${EVENTS_PER_STEP} events + state) per transaction: ${perSecond.toFixed(0)} events/s`,
      keyrite: { label: 'Store.transaction + makeEvent', unit: 'ms', stats: k },
      reference: { label: 'sqlite3 directly, same pragmas and statements', unit: 'ms', stats: r },
      ratio,
      target: 'ratio ≤ 1.2 (proposed)',
      checks: [ratioCheck(ratio, 1.2)],
      notes: [
        `WAL, synchronous=FULL, one BEGIN IMMEDIATE … COMMIT per step as the runner writes them; ${rounds} interleaved transactions per side. Median ${perSecond.toFixed(0)} events/s (${(1000 / k.median).toFixed(0)} step transactions/s) through Keyrite, ${((EVENTS_PER_STEP * 1000) / r.median).toFixed(0)} events/s directly: the fsync at COMMIT sets the pace. Making the events alone (makeEvent + eventLine ×${EVENTS_PER_STEP}) takes ${(make * 1000).toFixed(0)} µs per step.`,
        `What differs besides: Keyrite's side also makes its events inside the timing and runs one more statement (the step rows' UPDATE, ${EVENTS_PER_STEP + 4} statements per transaction against ${EVENTS_PER_STEP + 3}); it keeps each write statement prepared for the connection's life (Store.run), one trip through libuv's thread pool per statement, where Database#run (the direct side, as plain sqlite3 code is written) prepares, runs and finalizes every time.`,
        'The issue sets no target for the store; ratio ≤ 1.2 is the budget this benchmark proposes (Keyrite adds canonical JSON and a SHA-256 per event and its promise/queue wrapper, which should be small next to a durable commit).',
      ],
      why: `on this disk a durable commit takes under a millisecond, so Keyrite's own work per step shows: making the ${EVENTS_PER_STEP} events (canonical JSON, SHA-256, the line) takes ${(make * 1000).toFixed(0)} µs of the ${((k.median - r.median) * 1000).toFixed(0)} µs difference in medians, and its transaction runs one statement more (the step rows); the rest is the Store's promise and queue wrapper, not broken down further. On slower storage, where the fsync costs milliseconds, the ratio falls towards 1`,
    };
  } finally {
    await store.close();
    await raw.close();
  }
}

async function resume(dir: string, quick: boolean): Promise<Row[]> {
  const sides: Array<{ name: string; events: number; home: string; hsm: HsmConfig; id: string; conf: string }> = [];
  for (const [name, events] of [['long', 100_000], ['short', 78]] as const) {
    const home = path.join(dir, `home-${name}`);
    const hsm = demoHsm(home);
    const conf = process.env.SOFTHSM2_CONF!;
    const service = await CeremonyService.open({ home, hsm });
    let id: string;
    try {
      id = (await service.start({ script: 'root-key-generation', outDir: path.join(home, 'bundle'), demo: true })).ceremonyId;
    } finally {
      await service.close();
    }
    await bulkExtend(storePath(home), id, events);
    sides.push({ name, events, home, hsm, id, conf });
  }
  const split = new Map<string, { open: number[]; view: number[] }>(sides.map((s) => [s.name, { open: [], view: [] }]));
  const runSide = (s: (typeof sides)[number]) => async (): Promise<number> => {
    process.env.SOFTHSM2_CONF = s.conf;
    const t0 = nowMs();
    const service = await CeremonyService.open({ home: s.home, hsm: s.hsm, storeMustExist: true });
    const t1 = nowMs();
    const view = await service.view(s.id);
    const t2 = nowMs();
    await service.close();
    if (view.status !== 'running' || view.current?.id !== 'check-in' || view.chainHead.seq < s.events) throw new Error(`bench: resume of the ${s.name} chain came back wrong`);
    split.get(s.name)!.open.push(t1 - t0);
    split.get(s.name)!.view.push(t2 - t1);
    return t2 - t0;
  };
  const rounds = quick ? 3 : 15;
  const samples = await interleave(sides.map((s) => ({ name: s.name, run: runSide(s) })), { rounds, warmup: 1 });
  const k = stats(samples.get('long')!);
  const r = stats(samples.get('short')!);
  const ratio = ratioOf(k, r);
  const med = (name: string, part: 'open' | 'view'): number => stats(split.get(name)![part]).median;
  const openLong = stats(split.get('long')!.open);
  const openShort = stats(split.get('short')!.open);
  const openRatio = ratioOf(openLong, openShort);
  const size = mib(storePath(sides[0].home));
  return [
    {
      id: '5b',
      group: 'Store',
      name: 'resume a ceremony with 100k events in its chain',
      keyrite: { label: 'open + view, 100k-event chain', unit: 'ms', stats: k },
      reference: { label: 'open + view, 78-event chain (a real demo ceremony)', unit: 'ms', stats: r },
      ratio,
      target: '< 1 s (proposed)',
      checks: [belowCheck(k.median, 1000, 'ms')],
      notes: [
        `CeremonyService.open (Store.open: pragmas, schema, migrations; policy) then view(id) (CeremonyRunner.load: the ceremony row, the chain head by primary key with its line re-hashed and checked against its row, a CEREMONY_RESUMED event committed). Medians: open ${med('long', 'open').toFixed(1)} ms vs ${med('short', 'open').toFixed(1)} ms, load+view ${med('long', 'view').toFixed(1)} ms vs ${med('short', 'view').toFixed(1)} ms.`,
        'The 100k events were inserted in bulk for the set-up (a valid chain made with makeEvent). The issue sets no target; < 1 s is the budget proposed here (resuming after a crash should feel immediate).',
      ],
      why: `open takes ${med('long', 'open').toFixed(0)} ms against ${med('short', 'open').toFixed(0)} ms and loading the ceremony ${med('long', 'view').toFixed(1)} ms vs ${med('short', 'view').toFixed(1)} ms on this (loaded) machine`,
    },
    {
      id: '5c',
      group: 'Store',
      name: `Store.open of a 100k-event store (${size} MiB) vs a 78-event one`,
      keyrite: { label: 'CeremonyService.open, 100k-event store', unit: 'ms', stats: openLong },
      reference: { label: 'CeremonyService.open, 78-event store', unit: 'ms', stats: openShort },
      ratio: openRatio,
      target: 'ratio ≤ 1.5 (open does not grow with the store)',
      checks: [ratioCheck(openRatio, 1.5)],
      notes: [
        `The open half of 5b, measured in the same interleaved rounds. Store.open no longer runs PRAGMA quick_check (which read all ${size} MiB, 7.5× a small store's open in commit 0292519): it reads the header and the schema; the chain head a ceremony builds on is checked when the ceremony is loaded, and Store.checkIntegrity() runs the whole-file check on demand.`,
      ],
      why: `opening took ${openLong.median.toFixed(1)} ms against ${openShort.median.toFixed(1)} ms; nothing in Store.open reads the events any more, so the difference is noise on this shared machine (or the page cache: the 100k-event file is ${size} MiB)`,
    },
  ];
}

function mib(file: string): string {
  return (statSync(file).size / 2 ** 20).toFixed(0);
}

/** Extend a ceremony's chain to `total` events in one transaction (set-up only). */
async function bulkExtend(file: string, id: string, total: number): Promise<void> {
  const db = await Raw.open(file);
  try {
    const last = await db.get<{ line: string }>('SELECT line FROM events WHERE ceremony_id = ? ORDER BY seq DESC LIMIT 1', [id]);
    let head = last ? (JSON.parse(last.line) as TranscriptEvent) : null;
    const at = new Date().toISOString();
    await db.run('BEGIN');
    for (let step = 0; (head?.seq ?? 0) < total; step++) {
      for (const fields of stepEvents(id, step, at)) {
        if ((head?.seq ?? 0) >= total) break;
        head = makeEvent(head, fields);
        await db.run('INSERT INTO events (ceremony_id, seq, line, hash) VALUES (?, ?, ?, ?)', [id, head.seq, eventLine(head), head.hash]);
      }
    }
    await db.run('COMMIT');
  } finally {
    await db.close();
  }
}

/** sqlite3 with nothing of Keyrite's: the reference side, and the bulk loader. */
class Raw {
  private constructor(private readonly db: sqlite3.Database) {}

  static async open(file: string): Promise<Raw> {
    const db = await new Promise<sqlite3.Database>((resolve, reject) => {
      const d = new sqlite3.Database(file, (err) => (err ? reject(err) : resolve(d)));
    });
    const raw = new Raw(db);
    await raw.exec('PRAGMA busy_timeout = 3000; PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;');
    const hasSchema = await raw.get<{ n: number }>("SELECT COUNT(*) AS n FROM sqlite_master WHERE name = 'events'");
    if (!hasSchema?.n) await raw.exec(MIGRATIONS.join('\n'));
    return raw;
  }

  exec(sql: string): Promise<void> {
    return new Promise((resolve, reject) => this.db.exec(sql, (err) => (err ? reject(err) : resolve())));
  }

  run(sql: string, params: unknown[] = []): Promise<void> {
    return new Promise((resolve, reject) => this.db.run(sql, params, (err) => (err ? reject(err) : resolve())));
  }

  get<T>(sql: string, params: unknown[] = []): Promise<T | undefined> {
    return new Promise((resolve, reject) => this.db.get(sql, params, (err, row) => (err ? reject(err) : resolve(row as T | undefined))));
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.db.close(() => resolve()));
  }
}
