import { KeyriteError } from '../errors';
import { eventLine } from '../transcript/event';
import { readEventLine } from '../transcript/parse';
import type { TranscriptEvent } from '../transcript/event-types';
import { crashPoint } from '../fault';
import type { Store } from './db';
import { sameFolderKey } from '../fs/output-dir';

/**
 * The ceremony tables behind a typed repository: ceremony rows, the runner's state (JSON, with
 * the schema version of its shape and a compare-and-set counter), the event chain, the seal
 * record and the holder row. The state machine calls these; it holds no SQL.
 */

/** Version of the runner state's JSON shape. Bump it (and teach `load` the old one) when the shape changes. */
export const CEREMONY_STATE_SCHEMA = 1;

export type CeremonyStatus = 'running' | 'sealed' | 'aborted';

export interface CeremonyRecord<S> {
  id: string;
  scriptId: string;
  scriptVersion: string;
  scriptSha256: string;
  scriptPath: string;
  title: string;
  status: CeremonyStatus;
  currentStep: number;
  parameters: Record<string, unknown>;
  state: S;
  /** Compare-and-set counter: every saved change names the version it started from. */
  stateVersion: number;
  outDir: string;
  demo: boolean;
  createdAt: string;
  updatedAt: string;
}

/** A ceremony about to be stored: the record's fixed fields, its steps, and when it started. */
export type NewCeremony<S> = Pick<CeremonyRecord<S>, 'id' | 'scriptId' | 'scriptVersion' | 'scriptSha256' | 'scriptPath' | 'title' | 'parameters' | 'state' | 'outDir' | 'demo'> & {
  steps: Array<{ id: string; title: string }>;
  at: string;
};

/** One committed change of a ceremony: its new events, state, position and status, all or nothing. */
export interface StateChange<S> {
  id: string;
  /** The version this change was computed from; the save fails if the store moved on since. */
  expectedVersion: number;
  events: readonly TranscriptEvent[];
  /** eventLine() of each of `events`, when the caller made them with their lines (makeEventLine). */
  lines?: readonly string[];
  state: S;
  /** JSON.stringify(state), when the caller has already made it. */
  stateJson?: string;
  currentStep: number;
  status: CeremonyStatus;
  at: string;
  /**
   * Where the ceremony stood at `expectedVersion` (the runner's last commit). When the change keeps
   * that position and status, the step rows already say so and are not rewritten.
   */
  from?: { currentStep: number; status: CeremonyStatus };
}

/** What the seal committed: everything needed to (re)write the bundle without the HSM. */
export interface SealRecord {
  ceremonyId: string;
  finalHash: string;
  /** DER signature over transcript.jsonl by the transcript key. */
  signature: Buffer;
  publicKeyPem: string;
  spkiSha256: string;
  sealedAt: string;
}

export interface HolderRow {
  ceremonyId: string;
  pid: number;
  host: string;
  program: string;
  since: string;
}

export interface CeremonyListRow {
  id: string;
  scriptId: string;
  title: string;
  status: CeremonyStatus;
  currentStep: number;
  stepCount: number;
  currentStepTitle: string | null;
  outDir: string;
  createdAt: string;
  updatedAt: string;
}

interface CeremonyRow {
  id: string;
  script_id: string;
  script_version: string;
  script_sha256: string;
  script_path: string;
  title: string;
  status: CeremonyStatus;
  current_step: number;
  parameters: string;
  state: string;
  state_version: number;
  state_schema: number;
  out_dir: string;
  demo: number;
  created_at: string;
  updated_at: string;
}

/** At most this many rows per INSERT: the distinct statements kept by Store.run stay few (1…32 rows). */
const EVENTS_PER_INSERT = 32;

export class CeremonyRepository {
  constructor(readonly store: Store) {}

  /** The ceremony row, its steps and its first events, in the caller's transaction. */
  async create<S>(tx: Store, c: NewCeremony<S>, events: readonly TranscriptEvent[], lines?: readonly string[]): Promise<void> {
    // The bundle folder is claimed here, under the store's write lock: two ceremonies started at
    // once into one folder both found it empty, ran to the end (two keys made, two sets of shares
    // handed out) and only then failed at the seal on each other's files (SEAL_UNEXPECTED_FILE).
    // Compared by the folder each name leads to: a link or another spelling of the same folder is the same folder.
    const target = sameFolderKey(c.outDir);
    const running = await tx.all<{ id: string; out_dir: string }>("SELECT id, out_dir FROM ceremonies WHERE status = 'running'");
    const busy = running.find((r) => r.out_dir === c.outDir || sameFolderKey(r.out_dir) === target);
    if (busy) {
      throw new KeyriteError('CEREMONY_OUT_IN_USE', `The output folder '${c.outDir}' is the bundle folder of ceremony ${busy.id}, which has not finished: two ceremonies never share a bundle folder. Choose another folder, or resume (\`keyrite ceremony resume ${busy.id}\`) or abort that ceremony.`, { details: { dir: c.outDir, ceremonyId: busy.id } });
    }
    await tx.run(
      `INSERT INTO ceremonies (id, script_id, script_version, script_sha256, script_path, title, status, current_step, parameters, state, state_version, state_schema, out_dir, demo, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, 'running', 0, ?, ?, 1, ?, ?, ?, ?, ?)`,
      [c.id, c.scriptId, c.scriptVersion, c.scriptSha256, c.scriptPath, c.title, JSON.stringify(c.parameters), JSON.stringify(c.state), CEREMONY_STATE_SCHEMA, c.outDir, c.demo ? 1 : 0, c.at, c.at],
    );
    // One statement for all the rows (a script has a few dozen steps at most, each 6 parameters).
    if (c.steps.length > 0) {
      await tx.run(
        `INSERT INTO steps (ceremony_id, idx, step_id, title, status, started_at) VALUES ${c.steps.map(() => '(?, ?, ?, ?, ?, ?)').join(', ')}`,
        c.steps.flatMap((s, i) => [c.id, i, s.id, s.title, i === 0 ? 'running' : 'pending', i === 0 ? c.at : null]),
      );
    }
    await this.insertEvents(tx, c.id, events, lines);
  }

  async get<S>(id: string): Promise<CeremonyRecord<S> | undefined> {
    const row = await this.store.get<CeremonyRow>('SELECT * FROM ceremonies WHERE id = ?', [id]);
    if (!row) return undefined;
    if (row.state_schema > CEREMONY_STATE_SCHEMA) {
      throw new KeyriteError('STORE_TOO_NEW', `Ceremony '${id}' was saved by a newer Keyrite (state schema ${row.state_schema}, this one knows ${CEREMONY_STATE_SCHEMA}). Resume it with the newer Keyrite.`, { details: { id } });
    }
    return {
      id: row.id,
      scriptId: row.script_id,
      scriptVersion: row.script_version,
      scriptSha256: row.script_sha256,
      scriptPath: row.script_path,
      title: row.title,
      status: row.status,
      currentStep: row.current_step,
      parameters: JSON.parse(row.parameters) as Record<string, unknown>,
      state: JSON.parse(row.state) as S,
      stateVersion: row.state_version,
      outDir: row.out_dir,
      demo: row.demo === 1,
      createdAt: row.created_at,
      updatedAt: row.updated_at,
    };
  }

  /**
   * The head of the ceremony's chain, checked: the next event links to it, so a damaged tail row
   * would poison everything recorded after. This is the store's integrity check where it matters
   * (Store.open no longer reads the whole file): it costs the same for any store size.
   */
  async lastEvent(id: string): Promise<TranscriptEvent | null> {
    const last = await this.store.get<{ seq: number; line: string; hash: string }>('SELECT seq, line, hash FROM events WHERE ceremony_id = ? ORDER BY seq DESC LIMIT 1', [id]);
    if (!last) return null;
    let e: TranscriptEvent;
    try {
      e = readEventLine(last.line, last.seq, last.seq);
    } catch (cause) {
      throw tailDamaged(this.store.file, id, last.seq, (cause as Error).message, cause);
    }
    if (e.seq !== last.seq || e.hash !== last.hash || e.ceremony !== id) {
      throw tailDamaged(this.store.file, id, last.seq, `its row says seq ${last.seq} and hash ${last.hash.slice(0, 16)}…, its event says seq ${e.seq}, hash ${e.hash.slice(0, 16)}… of ceremony '${e.ceremony}'`);
    }
    return e;
  }

  async events(id: string): Promise<TranscriptEvent[]> {
    return (await this.lines(id)).map((line) => JSON.parse(line) as TranscriptEvent);
  }

  /** The ceremony's chain as stored: each event's line of transcript.jsonl (canonical JSON, no newline), in order. */
  async lines(id: string): Promise<string[]> {
    const rows = await this.store.all<{ line: string }>('SELECT line FROM events WHERE ceremony_id = ? ORDER BY seq', [id]);
    return rows.map((r) => r.line);
  }

  /**
   * Save one change inside the caller's transaction, as a compare-and-set on the state version:
   * if another process saved a change since `expectedVersion` was read, nothing is written and
   * CEREMONY_STATE_CONFLICT is thrown. Step rows follow the position (rewritten only when it moved). Returns the new version.
   */
  async save<S>(tx: Store, change: StateChange<S>): Promise<number> {
    const { changes } = await tx.run(
      'UPDATE ceremonies SET state = ?, state_schema = ?, current_step = ?, status = ?, updated_at = ?, state_version = state_version + 1 WHERE id = ? AND state_version = ?',
      [change.stateJson ?? JSON.stringify(change.state), CEREMONY_STATE_SCHEMA, change.currentStep, change.status, change.at, change.id, change.expectedVersion],
    );
    if (changes !== 1) throw stateConflict(change.id);
    await this.insertEvents(tx, change.id, change.events, change.lines);
    const moved = change.from?.currentStep !== change.currentStep || change.from.status !== change.status;
    // A sealed or aborted ceremony has no running step; steps before the position are done.
    const running = change.status === 'running' ? change.currentStep : -1;
    const doneBelow = change.status === 'sealed' ? Number.MAX_SAFE_INTEGER : change.currentStep;
    if (moved) await tx.run(
      `UPDATE steps SET
         finished_at = CASE WHEN idx < ?2 AND status != 'done' THEN ?3 ELSE finished_at END,
         started_at = CASE WHEN idx = ?1 AND status != 'running' THEN ?3 ELSE started_at END,
         status = CASE WHEN idx < ?2 THEN 'done' WHEN idx = ?1 THEN 'running' ELSE 'pending' END
       WHERE ceremony_id = ?4`,
      [running, doneBelow, change.at, change.id],
    );
    crashPoint('store:before-commit');
    return change.expectedVersion + 1;
  }

  /**
   * One multi-row INSERT per batch of events (a step's events are a handful): every statement is a
   * trip through libuv's thread pool, and the rows of one statement go in whole or not at all.
   */
  private async insertEvents(tx: Store, id: string, events: readonly TranscriptEvent[], lines?: readonly string[]): Promise<void> {
    for (let i = 0; i < events.length; i += EVENTS_PER_INSERT) {
      const batch = events.slice(i, i + EVENTS_PER_INSERT);
      try {
        await tx.run(`INSERT INTO events (ceremony_id, seq, line, hash) VALUES ${batch.map(() => '(?, ?, ?, ?)').join(', ')}`, batch.flatMap((e, j) => [id, e.seq, lines?.[i + j] ?? eventLine(e), e.hash]));
      } catch (caught) {
        // The same seq twice: another process wrote this ceremony's chain (the version check
        // catches that first; this is the backstop for rows written without it).
        if (/UNIQUE|PRIMARY KEY|CONSTRAINT/i.test(String((caught as { cause?: Error }).cause?.message ?? caught))) throw stateConflict(id);
        throw caught;
      }
    }
  }

  /** The seal's record, in the same transaction as CEREMONY_SEALED. */
  async saveSeal(tx: Store, seal: SealRecord): Promise<void> {
    await tx.run('INSERT INTO ceremony_seals (ceremony_id, final_hash, signature, public_key_pem, spki_sha256, sealed_at) VALUES (?, ?, ?, ?, ?, ?)', [
      seal.ceremonyId, seal.finalHash, seal.signature.toString('base64'), seal.publicKeyPem, seal.spkiSha256, seal.sealedAt,
    ]);
  }

  async seal(id: string): Promise<SealRecord | undefined> {
    const row = await this.store.get<{ final_hash: string; signature: string; public_key_pem: string; spki_sha256: string; sealed_at: string }>('SELECT * FROM ceremony_seals WHERE ceremony_id = ?', [id]);
    if (!row) return undefined;
    return { ceremonyId: id, finalHash: row.final_hash, signature: Buffer.from(row.signature, 'base64'), publicKeyPem: row.public_key_pem, spkiSha256: row.spki_sha256, sealedAt: row.sealed_at };
  }

  async list(): Promise<CeremonyListRow[]> {
    const rows = await this.store.all<{ id: string; script_id: string; title: string; status: CeremonyStatus; current_step: number; out_dir: string; created_at: string; updated_at: string }>(
      'SELECT id, script_id, title, status, current_step, out_dir, created_at, updated_at FROM ceremonies ORDER BY created_at DESC',
    );
    const steps = await this.store.all<{ ceremony_id: string; idx: number; step_id: string; title: string | null }>('SELECT ceremony_id, idx, step_id, title FROM steps');
    return rows.map((r) => {
      const own = steps.filter((s) => s.ceremony_id === r.id);
      const current = own.find((s) => s.idx === r.current_step);
      return {
        id: r.id,
        scriptId: r.script_id,
        title: r.title,
        status: r.status,
        currentStep: r.current_step,
        stepCount: own.length,
        currentStepTitle: r.status === 'running' && current ? current.title ?? current.step_id : null,
        outDir: r.out_dir,
        createdAt: r.created_at,
        updatedAt: r.updated_at,
      };
    });
  }

  // ------------------------------------------------------------ holder (who has the lock)

  async setHolder(h: HolderRow): Promise<void> {
    await this.store.run('INSERT OR REPLACE INTO ceremony_holders (ceremony_id, pid, host, program, since) VALUES (?, ?, ?, ?, ?)', [h.ceremonyId, h.pid, h.host, h.program, h.since]);
  }

  async holder(id: string): Promise<HolderRow | undefined> {
    const row = await this.store.get<{ ceremony_id: string; pid: number; host: string; program: string; since: string }>('SELECT * FROM ceremony_holders WHERE ceremony_id = ?', [id]);
    return row ? { ceremonyId: row.ceremony_id, pid: row.pid, host: row.host, program: row.program, since: row.since } : undefined;
  }

  /** Removes the holder row only if it is still this process's (a later holder's row stays). */
  async clearHolder(id: string, pid: number, since: string): Promise<void> {
    await this.store.run('DELETE FROM ceremony_holders WHERE ceremony_id = ? AND pid = ? AND since = ?', [id, pid, since]);
  }
}

function tailDamaged(file: string, id: string, seq: number, why: string, cause?: unknown): KeyriteError {
  return new KeyriteError('STORE_CORRUPT', `The last recorded event (${seq}) of ceremony '${id}' in the Keyrite store '${file}' is damaged: ${why}. Keep the file for investigation and restore it from your last copy; Keyrite will not record anything after a damaged event.`, { details: { file, id, seq }, cause });
}

export function stateConflict(id: string): KeyriteError {
  return new KeyriteError('CEREMONY_STATE_CONFLICT', `Another process changed ceremony '${id}' while this one was working on it, so this step was not saved. Only one Keyrite may run a ceremony at a time: close the other one, then resume with \`keyrite ceremony resume ${id}\`.`, { details: { id } });
}
