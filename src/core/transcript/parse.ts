import { hash as oneShotHash } from 'node:crypto';
import { KeyriteError } from '../errors';
import { canonicalJson, keysSortedDeep } from './canonical';
import { EVENT_KEYS, GENESIS_PREV, ISO_UTC, isEventType, type TranscriptEvent } from './event-types';
import type { LayoutEvent } from './layout-event';

/**
 * Parse transcript.jsonl strictly. Every line must be an event in canonical JSON whose hash is
 * right, whose seq is the line number and whose prev is the previous line's hash. The first
 * problem wins: the error names its line (details.line) and, when known, its seq (details.seq).
 *
 * Speed: the canonical check is JSON.stringify(parsed) === line plus a key-order walk (native,
 * no re-serialization), and the hash is taken over the line with its `"hash":"…",` member cut
 * out, which is the canonical event without `hash` (members of a canonical object serialize
 * independently). canonicalize() only runs for lines the fast check cannot decide.
 */
export function parseTranscript(text: string): TranscriptEvent[] {
  if (text.length === 0) throw emptyTranscript();
  const lines = text.split('\n');
  // A well-formed file ends with '\n', so split() leaves one empty string after it.
  const complete = lines.length - 1;
  const events: TranscriptEvent[] = [];
  let previous: TranscriptEvent | null = null;
  for (let i = 0; i < complete; i++) {
    const e = parseLine(lines[i], i + 1, previous);
    events.push(e);
    previous = e;
  }
  if (lines[complete].length > 0) throw cutOff(complete + 1);
  return events;
}

/** The last line has no newline: the file was cut or appended to. */
export function cutOff(line: number): KeyriteError {
  return new KeyriteError('TRANSCRIPT_TRUNCATED', `The transcript is cut off: line ${line} does not end with a newline, so the file was truncated or appended to. Use the original transcript.jsonl from the sealed bundle.`, { details: { line, seq: line } });
}

export function emptyTranscript(): KeyriteError {
  return new KeyriteError('TRANSCRIPT_EMPTY', 'The transcript is empty: it holds no events.', { details: { line: 1 } });
}

/** A line that is not UTF-8 (details.seq is the line: the line holds no readable seq). */
export function notUtf8(line: number): KeyriteError {
  return new KeyriteError('TRANSCRIPT_NOT_JSON', `Line ${line} of the transcript is not valid UTF-8 text: the file was damaged.`, { details: { line, seq: line } });
}

function parseLine(line: string, lineNo: number, previous: TranscriptEvent | null): TranscriptEvent {
  const expectedSeq = previous ? previous.seq + 1 : 1;
  const e = readEventLine(line, lineNo, expectedSeq);
  linkEvent(e, lineNo, previous);
  return e;
}

/**
 * One line on its own: JSON, an event's shape, canonical form and its own hash — everything but
 * the link to its neighbours (linkEvent), so lines can be checked in any order or in parallel.
 * `expectedSeq` only names the event in errors when the line holds no usable seq.
 */
export function readEventLine(line: string, lineNo: number, expectedSeq: number): TranscriptEvent {
  if (line.length === 0) {
    throw new KeyriteError('TRANSCRIPT_NOT_CANONICAL', `Line ${lineNo} of the transcript is blank; a transcript has exactly one event per line and no blank lines.`, { details: { line: lineNo, seq: expectedSeq } });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch (cause) {
    throw new KeyriteError('TRANSCRIPT_NOT_JSON', `Line ${lineNo} of the transcript is not JSON (${(cause as Error).message}). The file was damaged or edited.`, { details: { line: lineNo, seq: expectedSeq }, cause });
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new KeyriteError('TRANSCRIPT_EVENT_INVALID', `Line ${lineNo} of the transcript is JSON but not an event object.`, { details: { line: lineNo, seq: expectedSeq } });
  }
  const o = parsed as Record<string, unknown>;
  const problem = shapeProblem(o);
  if (problem) {
    throw new KeyriteError('TRANSCRIPT_EVENT_INVALID', `Event ${lineDetails(lineNo, o.seq, expectedSeq).seq} (line ${lineNo}) is not a valid transcript event: ${problem}.`, { details: lineDetails(lineNo, o.seq, expectedSeq) });
  }

  // Canonical when JSON.stringify gives the line back and every object's keys (the event's own
  // included) are in RFC 8785 order: JSON.parse keeps the line's key order, so the two together
  // prove it without re-serializing. Anything this cannot vouch for goes to canonicalize().
  const e = o as unknown as TranscriptEvent;
  let canonical: boolean;
  try {
    canonical = (JSON.stringify(o) === line && keysSortedDeep(o)) || canonicalJson(o) === line;
  } catch (cause) {
    // Lines Keyrite never writes: a number beyond double range (1e400 parses to Infinity, which
    // RFC 8785 cannot write) or data nested thousands deep (the serializers run out of stack).
    const tooDeep = cause instanceof RangeError;
    throw new KeyriteError(
      'TRANSCRIPT_NOT_CANONICAL',
      tooDeep
        ? `Event ${String(o.seq)} (line ${lineNo}) nests its data too deeply to be canonical JSON that Keyrite wrote: it was edited after it was written.`
        : `Event ${String(o.seq)} (line ${lineNo}) holds a number that has no canonical JSON form (RFC 8785: beyond the range of a double, such as 1e400): it was edited after it was written.`,
      { details: lineDetails(lineNo, o.seq, expectedSeq), cause },
    );
  }
  if (!canonical) {
    throw new KeyriteError('TRANSCRIPT_NOT_CANONICAL', `Event ${o.seq} (line ${lineNo}) is not in canonical JSON (RFC 8785): it was re-formatted or edited after it was written.`, { details: lineDetails(lineNo, o.seq, expectedSeq) });
  }

  // The canonical event without `hash` is the line with its `"hash":…,` member cut out (members
  // of a canonical object serialize independently). Where that member is (hashMember) is proved
  // there. crypto.hash (one-shot) is about twice as fast as createHash() for short inputs.
  const at = hashMember(line);
  const computed = oneShotHash('sha256', line.slice(0, at.start) + line.slice(at.end), 'hex');
  if (computed !== e.hash) {
    throw new KeyriteError('TRANSCRIPT_EVENT_HASH', `Event ${e.seq} (line ${lineNo}, ${e.type}) does not match its own hash: its content was changed after it was recorded.`, { details: { ...lineDetails(lineNo, o.seq, expectedSeq), expected: e.hash, computed } });
  }
  return e;
}

/**
 * Where the event's own `"hash":"…",` member is in a line already proved to be a canonical event
 * (JSON, the nine event keys in RFC 8785 order, `hash` and `prev` strings): `line.slice(start, end)`.
 *
 * Why searching is enough. In JSON text a `"` inside a string is always escaped, i.e. preceded by
 * a backslash, so the `"` right after the `,` in `,"hash":"` is not inside a string. It cannot end
 * one either (a string's closing quote is followed by `:`, `,`, `}` or `]`, not by `h`), so it
 * opens the key `hash`, whose value is a string (the last `"`). Such a member can also sit in an
 * object inside `data`, but in canonical order `data` comes before `hash` and every member after
 * `hash` (`prev`, `seq`, `step`, `type`) is a string, a number or null, holding no key: the last
 * occurrence in the line is the event's own. Its value is followed by the next member, `prev`,
 * and `,"prev":` cannot occur inside that value for the same reason.
 */
export function hashMember(line: string): { start: number; end: number } {
  // The member is near the end (prev, seq, step and type follow it): a forward search over the
  // last 320 characters, keeping the last match, is much faster than lastIndexOf; lastIndexOf
  // answers when no match is that close.
  let at = line.indexOf(HASH_KEY, Math.max(0, line.length - 320));
  if (at === -1) at = line.lastIndexOf(HASH_KEY);
  else for (let next = line.indexOf(HASH_KEY, at + 1); next !== -1; next = line.indexOf(HASH_KEY, next + 1)) at = next;
  const start = at + 1;
  return { start, end: line.indexOf(',"prev":', start + 8) + 1 };
}

const HASH_KEY = ',"hash":"';

/** An error's line and seq: the event's own seq when it has a number there, else the one expected. */
function lineDetails(lineNo: number, seq: unknown, expectedSeq: number): { line: number; seq: number } {
  return { line: lineNo, seq: typeof seq === 'number' ? seq : expectedSeq };
}

/** The chain rules between an event (checked by readEventLine) and the one before it. */
export function linkEvent(e: Pick<TranscriptEvent, 'seq' | 'prev' | 'ceremony'>, lineNo: number, previous: { seq: number; hash: string; ceremony: string } | null): void {
  const expectedSeq = previous ? previous.seq + 1 : 1;
  if (e.seq !== expectedSeq) {
    throw new KeyriteError('TRANSCRIPT_SEQ', `Line ${lineNo} holds event ${e.seq} where event ${expectedSeq} was expected: events were removed, repeated or reordered.`, { details: { line: lineNo, seq: e.seq, expectedSeq } });
  }
  const expectedPrev = previous ? previous.hash : GENESIS_PREV;
  if (e.prev !== expectedPrev) {
    throw new KeyriteError('TRANSCRIPT_CHAIN_BROKEN', `Event ${e.seq} (line ${lineNo}) does not link to the event before it: its prev is not the previous event's hash, so the chain was broken (an event was removed, replaced or inserted).`, { details: { line: lineNo, seq: e.seq, expectedPrev } });
  }
  if (previous && e.ceremony !== previous.ceremony) {
    throw new KeyriteError('TRANSCRIPT_CEREMONY_MISMATCH', `Event ${e.seq} (line ${lineNo}) belongs to ceremony '${e.ceremony}', but the transcript is ceremony '${previous.ceremony}'.`, { details: { line: lineNo, seq: e.seq } });
  }
}

/**
 * The rules of a sealed chain on top of parseTranscript: it starts with CEREMONY_STARTED, ends
 * with exactly one CEREMONY_SEALED whose data.events (when given) is the number of events.
 */
export function checkSealedChain(events: readonly LayoutEvent[]): void {
  const first = events[0];
  if (!first) throw emptyTranscript();
  if (first.type !== 'CEREMONY_STARTED') {
    throw new KeyriteError('TRANSCRIPT_EVENT_INVALID', `Event 1 is ${first.type}; a transcript starts with CEREMONY_STARTED.`, { details: { seq: 1, line: 1 } });
  }
  const sealedAt = events.findIndex((e) => e.type === 'CEREMONY_SEALED');
  if (sealedAt === -1) {
    const last = events[events.length - 1];
    throw new KeyriteError('TRANSCRIPT_TRUNCATED', `The transcript ends at event ${last.seq} (${last.type}) without the CEREMONY_SEALED event: events at its end are missing.`, { details: { seq: last.seq, line: last.seq } });
  }
  if (sealedAt !== events.length - 1) {
    const extra = events[sealedAt + 1];
    throw new KeyriteError('TRANSCRIPT_EVENT_AFTER_SEAL', `Event ${extra.seq} (${extra.type}) comes after CEREMONY_SEALED (event ${events[sealedAt].seq}): nothing may be added to a sealed transcript.`, { details: { seq: extra.seq, line: extra.seq } });
  }
  const sealed = events[sealedAt];
  if (sealed.data.events !== undefined && sealed.data.events !== sealed.seq) {
    throw new KeyriteError('TRANSCRIPT_SEAL_COUNT', `CEREMONY_SEALED (event ${sealed.seq}) says the transcript has ${String(sealed.data.events)} events, but it has ${sealed.seq}.`, { details: { seq: sealed.seq, line: sealed.seq } });
  }
}

/** Why `o` is not an event object (fields, types), or null. Only the cheap checks run per line. */
function shapeProblem(o: Record<string, unknown>): string | null {
  let count = 0;
  for (const _ in o) count++;
  if (count !== EVENT_KEYS.length || !hasEveryEventKey(o)) {
    const missing = EVENT_KEYS.filter((k) => !Object.prototype.hasOwnProperty.call(o, k));
    if (missing.length > 0) return `missing ${missing.join(', ')}`;
    return `unexpected field(s) ${Object.keys(o).filter((k) => !(EVENT_KEYS as readonly string[]).includes(k)).join(', ')}`;
  }
  if (typeof o.seq !== 'number' || !Number.isSafeInteger(o.seq) || o.seq < 1) return 'seq is not a positive integer';
  if (typeof o.at !== 'string' || !ISO_UTC.test(o.at)) return 'at is not an ISO 8601 UTC time';
  if (typeof o.ceremony !== 'string' || o.ceremony.length === 0) return 'ceremony is not a non-empty string';
  if (o.step !== null && typeof o.step !== 'string') return 'step is neither a string nor null';
  if (o.actor !== null && typeof o.actor !== 'string') return 'actor is neither a string nor null';
  if (!isEventType(o.type)) return `'${String(o.type)}' is not a transcript event type`;
  if (o.data === null || typeof o.data !== 'object' || Array.isArray(o.data)) return 'data is not an object';
  // prev and hash need no format check of their own: they must equal a SHA-256 hex computed later.
  if (typeof o.prev !== 'string') return 'prev is not a string';
  if (typeof o.hash !== 'string') return 'hash is not a string';
  return null;
}

// A loop rather than EVENT_KEYS.every(k => …): this runs once per line, and a closure made per call
// is measurable while the code is still cold (most of a 10k-line verify).
function hasEveryEventKey(o: Record<string, unknown>): boolean {
  for (const k of EVENT_KEYS) if (!Object.prototype.hasOwnProperty.call(o, k)) return false;
  return true;
}
