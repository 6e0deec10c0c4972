/**
 * The closed list of transcript event types. Each is documented, with its data fields, in
 * docs/formats.md ("Transcript"). Adding a type is a format change: append it, never rename.
 */
export const EVENT_TYPES = [
  'CEREMONY_STARTED',
  'TRANSCRIPT_KEY_CREATED',
  'PREFLIGHT_RECORDED',
  'NETWORK_OVERRIDE',
  'PARTICIPANT_CHECKED_IN',
  'STEP_STARTED',
  'STEP_CONFIRMED',
  'STEP_COMPLETED',
  'HSM_LOGIN',
  'KEY_GENERATED',
  'SELF_TEST_PASSED',
  'KEY_USED',
  'SIGNATURE_GENERATED',
  'BACKUP_WRITTEN',
  'BACKUP_VERIFIED',
  'SHARE_ISSUED',
  'SHARE_CONFIRMED',
  'SHARE_ACCEPTED',
  'SHARE_REJECTED',
  'KEK_REBUILT',
  'KEY_RESTORED',
  'IDENTITY_PROVEN',
  'PUBLIC_KEY_EXPORTED',
  'CERTIFICATE_ISSUED',
  'CSR_ISSUED',
  'KEY_DESTROYED',
  'KEY_ABSENCE_VERIFIED',
  'KEY_STATUS_CHANGED',
  'STATEMENT_RECORDED',
  'DRILL_SHARES_EXPORTED',
  'SHARES_RESPLIT',
  'CEREMONY_RESUMED',
  'ERROR_RECORDED',
  'CEREMONY_ABORTED',
  'CEREMONY_SEALED',
  'SHARE_CARD_PRINTED',
  'SHARE_RESHOW_REQUESTED',
  'SHARE_REDISPLAYED',
  'OPENPGP_KEY_ENROLLED',
  'OPENPGP_KEY_REJECTED',
  'SHARE_SEALED',
  'SHARE_UNDECRYPTABLE',
] as const;

export type EventType = (typeof EVENT_TYPES)[number];

const EVENT_TYPE_SET: ReadonlySet<string> = new Set(EVENT_TYPES);

export function isEventType(value: unknown): value is EventType {
  return typeof value === 'string' && EVENT_TYPE_SET.has(value);
}

/** One line of transcript.jsonl. Field order here is irrelevant: the line is canonical JSON. */
export interface TranscriptEvent {
  /** 1 for the first event, then +1 each. */
  seq: number;
  /** ISO 8601 UTC, e.g. 2025-06-01T09:30:00.000Z. */
  at: string;
  /** Ceremony id; the same on every line. */
  ceremony: string;
  /** Script step id, or null for events outside a step. */
  step: string | null;
  /** personId of who acted, or null for Keyrite itself. */
  actor: string | null;
  type: EventType;
  /** Evidence (fingerprints, file hashes, token serials) — never secrets. */
  data: Record<string, unknown>;
  /** Previous event's hash; GENESIS_PREV for the first. */
  prev: string;
  /** SHA-256 hex of the canonical event without `hash`. */
  hash: string;
}

/** What a caller gives makeEvent: the event without the chain fields it computes. */
export type EventFields = Omit<TranscriptEvent, 'seq' | 'prev' | 'hash'>;

export const GENESIS_PREV = '0'.repeat(64);

/** The canonical (RFC 8785) member order of an event line: keys sorted by UTF-16 code units. */
export const EVENT_KEYS = ['actor', 'at', 'ceremony', 'data', 'hash', 'prev', 'seq', 'step', 'type'] as const;

export const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;
export const HEX64 = /^[0-9a-f]{64}$/;

/** Files of a sealed bundle written by sealBundle (the engine writes keys/, backup/, … before). */
export const BUNDLE_FILES = {
  transcript: 'transcript.jsonl',
  signature: 'transcript.sig',
  key: 'transcript-key.pem',
  html: 'transcript.html',
  sums: 'SHA256SUMS',
} as const;

export function transcriptKeyLabel(ceremonyId: string): string {
  return `keyrite-transcript-${ceremonyId}`;
}
