import { isUtf8 } from 'node:buffer';
import { isKeyriteError, KeyriteError } from '../errors';
import type { ErrorCode } from '../error-codes';
import { EVENT_TYPES, type TranscriptEvent } from './event-types';
import { eventRow } from './html';
import { layoutEvent, type LayoutEvent } from './layout-event';
import { linkEvent, notUtf8, readEventLine } from './parse';

/**
 * The per-line half of verifying transcript.jsonl, for one range of whole lines: each line is
 * decoded on its own, checked by readEventLine (JSON, shape, canonical form, own hash), linked to
 * the line before it within the range, and its row of the printable record rendered and encoded
 * as UTF-8. The ranges of a file are checked in parallel by worker threads (verify-worker.ts) or
 * one after another on the calling thread; mergeChunks joins them in file order.
 */
export interface ChunkJob {
  /** The whole file (a SharedArrayBuffer when workers read it). */
  bytes: Uint8Array;
  /** Byte offsets: `start` begins a line; `end` is just after a '\n' (or the file's end). */
  start: number;
  end: number;
  /** Line number of the line at `start`. */
  firstLine: number;
}

export interface ChunkError {
  code: ErrorCode;
  message: string;
  details: Record<string, unknown>;
}

/**
 * The layout events of a range a worker checked, by column, because structured-cloning 100k
 * small objects to the main thread cost more than checking them:
 * type and step/actor as numbers (strings listed once), times joined by '\n', and the kept data
 * as one JSON array (0 for none). eventsOf() rebuilds the objects.
 */
export interface LayoutColumns {
  count: number;
  /** Index into EVENT_TYPES. */
  types: Uint8Array;
  /** Index into `strings`, or -1 for null. */
  steps: Int32Array;
  actors: Int32Array;
  strings: string[];
  ceremony: string;
  ats: string;
  data: string;
}

export interface ChunkResult {
  firstLine: number;
  /**
   * The layout events of the range's lines that passed, in order, up to the first error: the
   * objects themselves on the thread that checked them, by column when a worker posts them
   * (postedResult).
   */
  events: LayoutEvent[] | LayoutColumns;
  /** The chain fields the next range's first event links to. */
  first: { seq: number; prev: string; ceremony: string } | null;
  last: { seq: number; hash: string; ceremony: string } | null;
  /** The first problem in the range in file order (the link of its first line excepted), or null. */
  error: ChunkError | null;
  /** First line of the range that is not UTF-8, or 0. Such a line outranks every other problem. */
  badUtf8Line: number;
  /** The events' table rows, UTF-8, back to back; row i ends at rowEnds[i]. */
  rows: Uint8Array;
  rowEnds: Uint32Array;
  /** Bytes after the last '\n' of the range (only the file's last range can have any). */
  tailBytes: number;
}

export function checkChunk(job: ChunkJob): ChunkResult {
  const { bytes, start, end, firstLine } = job;
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const events: LayoutEvent[] = [];
  const result: ChunkResult = { firstLine, events, first: null, last: null, error: null, badUtf8Line: 0, rows: new Uint8Array(0), rowEnds: new Uint32Array(0), tailBytes: 0 };
  // One check for the whole range; only a range that fails is searched for its line.
  if (!isUtf8(buf.subarray(start, end))) {
    result.badUtf8Line = firstBadUtf8Line(buf, start, end, firstLine);
    return result;
  }
  const rows = new RowWriter(end - start);
  let previous: { seq: number; hash: string; ceremony: string } | null = null;
  let lineNo = firstLine;
  let pos = start;
  try {
    for (;;) {
      const nl = buf.indexOf(0x0a, pos);
      if (nl === -1 || nl >= end) break;
      const line = buf.toString('utf8', pos, nl);
      // Every line before this one linked, so the event expected here is the line's number.
      const e: TranscriptEvent = readEventLine(line, lineNo, lineNo);
      if (!previous) result.first = { seq: e.seq, prev: e.prev, ceremony: e.ceremony };
      // The file's first line links to the genesis; a later range's first line is linked by
      // mergeChunks to the event before it, which another thread checked.
      if (previous || lineNo === 1) linkEvent(e, lineNo, previous);
      rows.add(eventRow(e));
      events.push(layoutEvent(e));
      previous = { seq: e.seq, hash: e.hash, ceremony: e.ceremony };
      lineNo++;
      pos = nl + 1;
    }
  } catch (e) {
    if (!isKeyriteError(e)) throw e;
    result.error = { code: e.code, message: e.message, details: e.details };
  }
  result.last = previous;
  result.rows = rows.bytes();
  result.rowEnds = rows.ends();
  result.tailBytes = result.error ? 0 : end - pos;
  return result;
}

/**
 * The rows' UTF-8 bytes, back to back. Each row is encoded as soon as it is rendered: batching
 * them into one write per 64K characters was measured slower (the rows waiting for their batch
 * survived into the old generation, doubling the time spent collecting garbage).
 */
class RowWriter {
  private buf: Buffer;
  private used = 0;
  private endsOf = new Uint32Array(1024);
  private count = 0;

  constructor(rangeBytes: number) {
    this.buf = Buffer.allocUnsafeSlow(Math.max(1024, Math.ceil(rangeBytes * 1.2)));
  }

  add(row: string): void {
    // UTF-8 takes at most 3 bytes per UTF-16 code unit; write() would cut silently.
    if (this.used + row.length * 3 > this.buf.length) {
      const bigger = Buffer.allocUnsafeSlow(Math.max(this.buf.length * 2, this.used + row.length * 3));
      this.buf.copy(bigger, 0, 0, this.used);
      this.buf = bigger;
    }
    this.used += this.buf.write(row, this.used, 'utf8');
    const n = this.count;
    if (n === this.endsOf.length) {
      const bigger = new Uint32Array(n * 2);
      bigger.set(this.endsOf);
      this.endsOf = bigger;
    }
    this.endsOf[n] = this.used;
    this.count = n + 1;
  }

  bytes(): Uint8Array {
    return new Uint8Array(this.buf.buffer, this.buf.byteOffset, this.used);
  }

  ends(): Uint32Array {
    return this.endsOf.subarray(0, this.count);
  }
}

/** A result as a worker posts it: the events by column (structured-cloning objects cost more). */
export function postedResult(r: ChunkResult): ChunkResult {
  return Array.isArray(r.events) ? { ...r, events: columnsOf(r.events) } : r;
}

/** The events of a range's result, rebuilt from columns when a worker sent them. */
export function eventsOfResult(r: ChunkResult): LayoutEvent[] {
  return Array.isArray(r.events) ? r.events : eventsOf(r.events, r.firstLine);
}

export function eventCount(r: ChunkResult): number {
  return Array.isArray(r.events) ? r.events.length : r.events.count;
}

function columnsOf(events: readonly LayoutEvent[]): LayoutColumns {
  const columns = new ColumnWriter();
  for (const e of events) columns.add(e);
  return columns.done();
}

const TYPE_INDEX: ReadonlyMap<string, number> = new Map(EVENT_TYPES.map((t, i) => [t, i]));

class ColumnWriter {
  count = 0;
  private types = new Uint8Array(1024);
  private steps = new Int32Array(1024);
  private actors = new Int32Array(1024);
  private strings: string[] = [];
  private stringIndex = new Map<string, number>();
  private ceremony = '';
  private ats: string[] = [];
  private data: unknown[] = [];

  add(e: LayoutEvent): void {
    const n = this.count;
    if (n === this.types.length) {
      this.types = grow(this.types, new Uint8Array(n * 2));
      this.steps = grow(this.steps, new Int32Array(n * 2));
      this.actors = grow(this.actors, new Int32Array(n * 2));
    }
    this.types[n] = TYPE_INDEX.get(e.type)!;
    this.steps[n] = this.intern(e.step);
    this.actors[n] = this.intern(e.actor);
    if (n === 0) this.ceremony = e.ceremony;
    this.ats.push(e.at);
    let empty = true;
    for (const _ in e.data) {
      empty = false;
      break;
    }
    this.data.push(empty ? 0 : e.data);
    this.count++;
  }

  done(): LayoutColumns {
    const n = this.count;
    return { count: n, types: this.types.slice(0, n), steps: this.steps.slice(0, n), actors: this.actors.slice(0, n), strings: this.strings, ceremony: this.ceremony, ats: this.ats.join('\n'), data: JSON.stringify(this.data) };
  }

  private intern(text: string | null): number {
    if (text === null) return -1;
    let i = this.stringIndex.get(text);
    if (i === undefined) {
      i = this.strings.length;
      this.strings.push(text);
      this.stringIndex.set(text, i);
    }
    return i;
  }
}

function grow<T extends Uint8Array | Int32Array>(from: T, to: T): T {
  to.set(from);
  return to;
}

/** The layout events of a range, rebuilt from their columns. */
export function eventsOf(c: LayoutColumns, firstSeq: number): LayoutEvent[] {
  const out: LayoutEvent[] = new Array<LayoutEvent>(c.count);
  if (c.count === 0) return [];
  const ats = c.ats.split('\n');
  const data = JSON.parse(c.data) as Array<Record<string, unknown> | 0>;
  for (let i = 0; i < c.count; i++) {
    const step = c.steps[i];
    const actor = c.actors[i];
    const d = data[i];
    out[i] = { seq: firstSeq + i, at: ats[i], ceremony: c.ceremony, step: step === -1 ? null : c.strings[step], actor: actor === -1 ? null : c.strings[actor], type: EVENT_TYPES[c.types[i]], data: d === 0 ? {} : d };
  }
  return out;
}

function firstBadUtf8Line(buf: Buffer, start: number, end: number, firstLine: number): number {
  let line = firstLine;
  for (let pos = start; pos < end; line++) {
    const nl = buf.indexOf(0x0a, pos);
    const stop = nl === -1 || nl >= end ? end : nl;
    if (!isUtf8(buf.subarray(pos, stop))) return line;
    pos = stop + 1;
  }
  return line;
}

/** A chunk error back as the KeyriteError it was on the thread that found it. */
export function chunkError(e: ChunkError): KeyriteError {
  return new KeyriteError(e.code, e.message, { details: e.details });
}

export { notUtf8 };
