import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Worker } from 'node:worker_threads';
import { KeyriteError } from '../errors';
import { checkChunk, chunkError, eventCount, eventsOfResult, type ChunkJob, type ChunkResult } from './line-check';
import type { LayoutEvent } from './layout-event';
import { cutOff, emptyTranscript, linkEvent, notUtf8 } from './parse';

/**
 * Below this size the lines are checked on the calling thread: starting a worker thread costs
 * ~30 ms, more than it saves on a small transcript (measured: see docs/formats.md, "Verifying").
 */
export const MIN_BYTES_PER_WORKER = 16 * 1024 * 1024;
const MAX_WORKERS = 4;

/** The transcript's lines, checked: light events in file order and their rendered table rows. */
export interface CheckedLines {
  events: LayoutEvent[];
  /** The last event's hash (the final transcript hash). */
  finalHash: string;
  /** Hands event `seq`'s row bytes to `write`. */
  writeRow(seq: number, write: (src: Uint8Array, start: number, end: number) => void): void;
}

/**
 * How many worker threads check a transcript of `bytes`: `requested` when given (0 = none),
 * else one per 16 MB up to one fewer than the cores (the calling thread checks a range too).
 * KEYRITE_VERIFY_WORKERS overrides the default.
 */
export function workerCount(bytes: number, requested?: number): number {
  const fromEnv = process.env.KEYRITE_VERIFY_WORKERS;
  const wanted = requested ?? (fromEnv !== undefined && /^\d+$/.test(fromEnv) ? Number(fromEnv) : undefined);
  if (wanted !== undefined) return Math.min(wanted, MAX_WORKERS);
  if (bytes < MIN_BYTES_PER_WORKER) return 0;
  // node:os and node:worker_threads are loaded only when workers may start: most bundles are
  // small, and loading them is part of every verify's start-up.
  const cores = process.getBuiltinModule('node:os').availableParallelism();
  // On one core a worker only adds its start-up to the same work.
  if (cores < 2) return 0;
  return Math.max(0, Math.min(cores - 1, MAX_WORKERS, Math.floor(bytes / MIN_BYTES_PER_WORKER)));
}

const WORKER_FILES = ['transcript-verify-worker.mjs', 'transcript-verify-worker.js'];

/**
 * The worker's script, built next to the code that runs it: out/cli (esbuild: this module may sit
 * in out/cli/chunks) and out/main (electron-vite). Run from the TypeScript sources (vitest), the
 * CLI build the test set-up makes of the same sources.
 */
export function workerScript(): string | null {
  const here = import.meta.url;
  const dirs = here.endsWith('.ts') ? ['../../../out/cli/'] : ['./', '../'];
  for (const dir of dirs) {
    for (const name of WORKER_FILES) {
      const file = fileURLToPath(new URL(dir + name, here));
      if (existsSync(file)) return file;
    }
  }
  return null;
}

/** Worker threads for checking lines, started before the file is read so their start-up overlaps it. */
export class LineWorkers {
  private constructor(private readonly workers: Worker[]) {}

  /** `count` workers, or null when there is no worker script (the caller checks on its own thread). */
  static start(count: number): LineWorkers | null {
    if (count <= 0) return null;
    const script = workerScript();
    if (!script) {
      // Asked for by name: say so rather than quietly checking on one thread.
      if (process.env.KEYRITE_VERIFY_WORKERS) {
        throw new KeyriteError('INTERNAL_VERIFY_WORKER_MISSING', `Keyrite's transcript worker script (${WORKER_FILES[0]}) is missing next to ${fileURLToPath(import.meta.url)}, so KEYRITE_VERIFY_WORKERS=${process.env.KEYRITE_VERIFY_WORKERS} cannot be honoured. Reinstall Keyrite, or unset KEYRITE_VERIFY_WORKERS to verify on one thread.`, { details: { workers: count } });
      }
      return null;
    }
    const { Worker } = process.getBuiltinModule('node:worker_threads');
    return new LineWorkers(Array.from({ length: count }, () => new Worker(script)));
  }

  get size(): number {
    return this.workers.length;
  }

  /**
   * Each worker takes pieces from `queue` (see PieceQueue) until none is left, handing each
   * result to `onResult` as it comes; settles when every worker has run out of pieces.
   */
  run(bytes: Uint8Array, pieces: readonly Piece[], queue: PieceQueue, onResult: (index: number, result: ChunkResult) => void): Promise<void> {
    const message: WorkerJob = { bytes, pieces, next: queue.next };
    return Promise.all(
      this.workers.map(
        (w) =>
          new Promise<void>((resolve, reject) => {
            const done = (): void => {
              w.off('message', onMessage).off('error', onError).off('exit', onExit);
            };
            const onMessage = (m: WorkerAnswer): void => {
              if (!m.ok) {
                done();
                reject(new Error(`transcript worker failed: ${m.error}`));
              } else if (m.result) onResult(m.index, m.result);
              else {
                done();
                resolve();
              }
            };
            const onError = (e: unknown): void => {
              done();
              reject(e instanceof Error ? e : new Error(`transcript worker failed: ${String(e)}`));
            };
            const onExit = (code: number): void => onError(new Error(`transcript worker exited (code ${code}) before it answered`));
            w.on('message', onMessage).on('error', onError).on('exit', onExit);
            w.postMessage(message);
          }),
      ),
    ).then(() => undefined);
  }

  /** Ends the threads; again is a no-op. */
  close(): void {
    for (const w of this.workers.splice(0)) void w.terminate();
  }
}

/** A range of whole lines (ChunkJob without the file, which a worker is sent once). */
export type Piece = Omit<ChunkJob, 'bytes'>;

/** What a worker is sent: the file in shared memory, its pieces, and the shared next-piece counter. */
export interface WorkerJob {
  bytes: Uint8Array;
  pieces: readonly Piece[];
  next: Int32Array;
}

/** A worker's answers: one per piece it checked, then `{ ok: true }` when it found none left. */
export type WorkerAnswer = { ok: true; index: number; result: ChunkResult } | { ok: true; index?: undefined; result?: undefined } | { ok: false; error: string };

/**
 * The next piece to check, shared by this thread and the workers: whoever is free takes it
 * (Atomics.add), so no thread waits for a slower one (a worker still starting, this thread still
 * hashing). Which thread checks a piece changes nothing: the results are joined in file order.
 */
export class PieceQueue {
  readonly next = new Int32Array(new SharedArrayBuffer(4));

  constructor(private readonly count: number) {}

  /** The index of a piece nobody has taken, or -1. */
  take(): number {
    return takePiece(this.next, this.count);
  }
}

export function takePiece(next: Int32Array, count: number): number {
  const i = Atomics.add(next, 0, 1);
  return i < count ? i : -1;
}

/**
 * Pieces of about this size when workers help: small enough for the load to even out, large
 * enough that each piece's set-up is noise.
 */
const PIECE_BYTES = 1024 * 1024;

/**
 * Check every line of `bytes`. With `workers`, the file is cut into pieces of whole lines that
 * this thread and the workers take in turn (PieceQueue); without, this thread checks it in one
 * range. The workers are handed their work first, then `meanwhile` runs (the caller's whole-file
 * work: hashes, the signature), then this thread takes pieces until none is left, so all of it
 * overlaps the workers. This thread's share is checked by the time this returns; the promise
 * settles when the workers' is. `pieceBytes` is for tests (many pieces from a small file).
 */
export async function checkLines(bytes: Uint8Array, workers: LineWorkers | null, meanwhile: () => void = () => undefined, pieceBytes = PIECE_BYTES): Promise<CheckedLines> {
  if (bytes.length === 0) throw emptyTranscript();
  const jobs = splitLines(bytes, workers ? Math.max(workers.size + 1, Math.ceil(bytes.length / pieceBytes)) : 1);
  const results = new Array<ChunkResult>(jobs.length);
  const queue = new PieceQueue(jobs.length);
  const remote = workers
    ? workers.run(
        bytes,
        jobs.map(({ start, end, firstLine }) => ({ start, end, firstLine })),
        queue,
        (i, r) => (results[i] = r),
      )
    : Promise.resolve();
  remote.catch(() => undefined); // awaited below; not an unhandled rejection meanwhile
  meanwhile();
  for (let i = queue.take(); i !== -1; i = queue.take()) results[i] = checkChunk(jobs[i]);
  await remote;
  return mergeChunks(results);
}

/** `parts` ranges of whole lines, cut at the first '\n' after each even split, with their first line numbers. */
export function splitLines(bytes: Uint8Array, parts: number): ChunkJob[] {
  const jobs: ChunkJob[] = [];
  let start = 0;
  let line = 1;
  for (let k = 1; k <= parts && start < bytes.length; k++) {
    let end = bytes.length;
    if (k < parts) {
      const nl = bytes.indexOf(0x0a, Math.max(start, Math.floor((bytes.length * k) / parts)));
      end = nl === -1 ? bytes.length : nl + 1;
    }
    jobs.push({ bytes, start, end, firstLine: line });
    for (let i = bytes.indexOf(0x0a, start); i !== -1 && i < end; i = bytes.indexOf(0x0a, i + 1)) line++;
    start = end;
  }
  return jobs;
}

/**
 * The ranges' results in file order, as one sequential walk would have found them: a line that is
 * not UTF-8 anywhere comes first (the file is decoded before it is read), then the first problem
 * in file order — a range's first line is linked here to the previous range's last event.
 */
export function mergeChunks(chunks: ChunkResult[]): CheckedLines {
  const badUtf8 = chunks.find((c) => c.badUtf8Line > 0);
  if (badUtf8) throw notUtf8(badUtf8.badUtf8Line);
  let previous: ChunkResult | null = null;
  for (const c of chunks) {
    if (previous && c.first) linkEvent(c.first, c.firstLine, previous.last);
    if (c.error) throw chunkError(c.error);
    previous = c;
  }
  const last = chunks.at(-1);
  if (!last) throw emptyTranscript();
  const complete = chunks.reduce((n, c) => n + eventCount(c), 0);
  if (last.tailBytes > 0) throw cutOff(complete + 1);
  if (complete === 0 || !last.last) throw emptyTranscript();
  // Every event linked, so each one's seq is its line number.
  const events = chunks.length === 1 ? eventsOfResult(chunks[0]) : chunks.flatMap(eventsOfResult);
  return {
    events,
    finalHash: last.last.hash,
    writeRow(seq, write) {
      // The last range starting at or before `seq` (binary search: there are many pieces).
      let lo = 0;
      let hi = chunks.length - 1;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if (chunks[mid].firstLine <= seq) lo = mid;
        else hi = mid - 1;
      }
      const k = lo;
      const c = chunks[k];
      const i = seq - c.firstLine;
      write(c.rows, i === 0 ? 0 : c.rowEnds[i - 1], c.rowEnds[i]);
    },
  };
}
