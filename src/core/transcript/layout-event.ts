import type { TranscriptEvent } from './event-types';

/**
 * An event as the printable record's layout, the summary and verify's later checks read it: no
 * chain fields, and `data` cut down to what they use (see layoutEvent). Verify's worker threads
 * send these, not the full events: cloning 100k full events to the main thread cost more than
 * checking them.
 */
export type LayoutEvent = Pick<TranscriptEvent, 'seq' | 'at' | 'ceremony' | 'step' | 'actor' | 'type' | 'data'>;

/** Types whose whole data is kept: rare, and read field by field in several places. */
const WHOLE_DATA: ReadonlySet<string> = new Set(['CEREMONY_STARTED', 'TRANSCRIPT_KEY_CREATED', 'KEY_GENERATED', 'KEY_RESTORED', 'STATEMENT_RECORDED', 'CEREMONY_ABORTED', 'CEREMONY_SEALED']);

/**
 * The fields of any other event's data that are read outside its own table row: a step's say text
 * and sign-offs (STEP_STARTED, STEP_CONFIRMED), check-ins (PARTICIPANT_CHECKED_IN), and the file
 * hashes the chain records (file, sha256, supersedes). STEP_COMPLETED's evidence is read only for
 * `skipped === true`.
 */
const KEPT_FIELDS = ['say', 'name', 'personId', 'role', 'roles', 'file', 'sha256', 'supersedes'] as const;

const hasOwn = (o: object, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k);

export function layoutEvent(e: TranscriptEvent): LayoutEvent {
  const { seq, at, ceremony, step, actor, type } = e;
  if (WHOLE_DATA.has(type)) return { seq, at, ceremony, step, actor, type, data: e.data };
  const data: Record<string, unknown> = {};
  for (const k of KEPT_FIELDS) if (hasOwn(e.data, k)) data[k] = e.data[k];
  const evidence = e.data.evidence as { skipped?: unknown } | null | undefined;
  if (evidence !== null && typeof evidence === 'object' && evidence.skipped === true) data.evidence = { skipped: true };
  return { seq, at, ceremony, step, actor, type, data };
}
