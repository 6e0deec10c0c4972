import { KeyriteError } from '../errors';
import { canonicalJson, nonJsonPath, sha256Hex } from './canonical';
import { GENESIS_PREV, ISO_UTC, isEventType, type EventFields, type TranscriptEvent } from './event-types';

/** SHA-256 hex over the canonical JSON of the event without its `hash` member. */
export function eventHash(e: Omit<TranscriptEvent, 'hash'>): string {
  const { seq, at, ceremony, step, actor, type, data, prev } = e;
  return sha256Hex(canonicalJson({ seq, at, ceremony, step, actor, type, data, prev }));
}

/**
 * The next event of a chain. `data` is copied (through its canonical form), so later changes
 * to the caller's object cannot make the event disagree with its hash.
 */
export function makeEvent(prev: TranscriptEvent | null, fields: EventFields): TranscriptEvent {
  return makeEventLine(prev, fields).event;
}

/**
 * makeEvent, and the event's line of transcript.jsonl (eventLine(event)) assembled from the same
 * canonical pieces the hash was computed over, so a writer need not serialize the event again.
 */
export function makeEventLine(prev: TranscriptEvent | null, fields: EventFields): { event: TranscriptEvent; line: string } {
  const invalid = (what: string): KeyriteError =>
    new KeyriteError('TRANSCRIPT_EVENT_INVALID', `Keyrite cannot record this ${String(fields.type)} event: ${what}.`, { details: { type: fields.type, seq: prev ? prev.seq + 1 : 1 } });
  if (!isEventType(fields.type)) throw invalid(`'${String(fields.type)}' is not a transcript event type`);
  if (typeof fields.at !== 'string' || !ISO_UTC.test(fields.at)) throw invalid(`the time '${String(fields.at)}' is not ISO 8601 UTC (YYYY-MM-DDTHH:MM:SS[.sss]Z)`);
  if (typeof fields.ceremony !== 'string' || fields.ceremony.length === 0) throw invalid('the ceremony id is empty');
  if (prev && prev.ceremony !== fields.ceremony) throw invalid(`it belongs to ceremony '${fields.ceremony}' but the chain is ceremony '${prev.ceremony}'`);
  if (fields.step !== null && typeof fields.step !== 'string') throw invalid('the step must be a string or null');
  if (fields.actor !== null && typeof fields.actor !== 'string') throw invalid('the actor must be a string or null');
  if (fields.data === null || typeof fields.data !== 'object' || Array.isArray(fields.data)) throw invalid('its data must be an object');
  const bad = nonJsonPath(fields.data);
  if (bad) throw invalid(`${bad} is not plain JSON (strings, finite numbers, booleans, null, arrays, plain objects)`);
  const dataText = canonicalJson(fields.data);
  const data = JSON.parse(dataText) as Record<string, unknown>;
  const base = {
    seq: prev ? prev.seq + 1 : 1,
    at: fields.at,
    ceremony: fields.ceremony,
    step: fields.step,
    actor: fields.actor,
    type: fields.type,
    data,
    prev: prev ? prev.hash : GENESIS_PREV,
  };
  const { head, tail } = canonicalParts(base, dataText);
  const hash = sha256Hex(`${head},${tail}`);
  return { event: { ...base, hash }, line: `${head},"hash":"${hash}",${tail}` };
}

/**
 * canonicalJson(base) with `data` already in canonical form, in two parts around where `hash` goes:
 * the members in RFC 8785 order (by UTF-16 code units: actor, at, ceremony, data, [hash,] prev,
 * seq, step, type), each value through canonicalJson — so the data is serialised once, not again
 * inside the whole event. `${head},${tail}` is what the hash covers; with the hash between them it
 * is the event's line. test/unit/transcript-events.test.ts holds both equal to canonicalize() for
 * random events.
 */
function canonicalParts(b: Omit<TranscriptEvent, 'hash'>, dataText: string): { head: string; tail: string } {
  const c = canonicalJson;
  return {
    head: `{"actor":${c(b.actor)},"at":${c(b.at)},"ceremony":${c(b.ceremony)},"data":${dataText}`,
    tail: `"prev":${c(b.prev)},"seq":${c(b.seq)},"step":${c(b.step)},"type":${c(b.type)}}`,
  };
}

/** The event's line in transcript.jsonl: canonical JSON of the whole event, without newline. */
export function eventLine(e: TranscriptEvent): string {
  return canonicalJson(e);
}

/** The exact bytes of transcript.jsonl: every line followed by '\n', the last one included. */
export function transcriptText(events: readonly TranscriptEvent[]): string {
  let text = '';
  for (const e of events) text += eventLine(e) + '\n';
  return text;
}
