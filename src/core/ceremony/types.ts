/**
 * The ceremony engine's public shapes. The runner is pull-based: a driver (terminal runner,
 * answers file, desktop UI over IPC) asks `view()` what the current step needs, then calls
 * `provide(input)`. Nothing here is secret except the inputs marked so, which the runner uses
 * and forgets (never stored, never in events, never echoed back in a view).
 */
import type { ErrorCode } from '../error-codes';
import type { CeremonyListRow } from '../store/ceremonies';

export type ActionName =
  | 'preflight' | 'checkIn' | 'hsmLogin' | 'generateKey' | 'selfTest' | 'createBackup'
  | 'handOutShares' | 'collectShares' | 'restoreBackup' | 'proveIdentity' | 'exportPublicKey'
  | 'issueRootCert' | 'issueCsr' | 'issueCrossCert' | 'destroyKey' | 'recordStatement'
  | 'resplitShares' | 'updateKeyStatus' | 'seal';

export interface Participant {
  /** Short stable id, e.g. "alice". */
  id: string;
  name: string;
  roles: string[];
}

export interface RoleSpec {
  id: string;
  title: string;
  min: number;
  max: number;
}

/** 'aborted': the step that was running when the ceremony was aborted (not done). */
export type StepStatus = 'pending' | 'running' | 'done' | 'aborted';

export interface StepSummary {
  index: number;
  id: string;
  title: string;
  action: ActionName | null;
  status: StepStatus;
}

export interface StatementField {
  id: string;
  label: string;
  /** 'bags': one tamper-evident bag serial per share handed out (the chain of custody). */
  kind: 'text' | 'serial' | 'sha256' | 'person' | 'bags';
  required: boolean;
  /** For 'bags': the shares handed out, one row each, in share-index order. */
  rows?: BagRow[];
}

/** A share handed out in this ceremony, for which a bag serial is recorded. */
export interface BagRow {
  shareIndex: number;
  custodian: string;
  custodianId: string | null;
}

/** What the current step is waiting for. Exactly one at a time. */
export type Need =
  | { kind: 'participants'; roles: RoleSpec[] }
  | { kind: 'preflightOverride'; interfaces: string[]; message: string }
  | { kind: 'pin'; user: 'user' | 'so'; tokenLabel: string; role: string; message: string }
  | { kind: 'signoff'; remaining: Record<string, number>; signed: Array<{ personId: string; name: string; role: string }>; attestation: string }
  | { kind: 'openpgpConfirm' } & OpenPgpConfirmNeed
  | {
      kind: 'shareHandout'; custodian: Participant; shareIndex: number; of: number;
      /**
       * Words on screen: privacy → reveal → confirm. Sealed to an OpenPGP key (`sealed` present):
       * seal → confirm; the words are never shown in either phase.
       */
      phase: 'privacy' | 'reveal' | 'confirm' | 'seal';
      header?: string; confirmPositions?: number[]; shareCards?: boolean;
      /** Present when this custodian enrolled an OpenPGP key at check-in: see SealedHandout. */
      sealed?: SealedHandout;
    }
  | { kind: 'shareEntry'; accepted: Array<{ index: number; custodian: string }>; needed: number; threshold: number; splitId: string }
  | { kind: 'statement'; fields: StatementField[] }
  | { kind: 'continue'; message: string; irreversible?: IrreversibleAct }
  | { kind: 'done' };

/**
 * At check-in, one per custodian who presented an OpenPGP public key, in check-in order. The UI
 * shows the fingerprint as `fingerprintGroups` (to compare with the custodian's own device, e.g.
 * `gpg --card-status` or `gpg --fingerprint`) and as `fingerprintWords` (PGP word list, read aloud
 * by the custodian while the room follows on screen), plus user ids, algorithm and expiry. The
 * custodian then types the last `tailLength` hex digits of the fingerprint as their own device
 * shows it (spaces and case ignored) and sends `{ kind: 'openpgpConfirm', typed }`; or says "this
 * is not my key" with `{ kind: 'openpgpReject' }` (the key is dropped, recorded, and that custodian
 * receives words on screen instead). Nothing here is secret.
 */
export interface OpenPgpConfirmNeed {
  custodian: Participant;
  fingerprint: string;
  /** The fingerprint in groups of four hex digits. */
  fingerprintGroups: string;
  /** The fingerprint as PGP words (even/odd list), for reading aloud. */
  fingerprintWords: string[];
  userIds: string[];
  /** e.g. "ecdh curve25519", "rsa 3072". */
  algorithm: string;
  /** ISO time the key (or its encryption subkey) expires, or null. */
  expires: string | null;
  /** How many trailing hex digits of the fingerprint the custodian types (8). */
  tailLength: number;
  /** Enrolled custodians still to confirm after this one. */
  remaining: number;
}

/**
 * A share hand-out sealed to the custodian's OpenPGP key instead of shown (no words, ever).
 * - phase 'seal': the UI shows recipient, fingerprint and `defaultDir`, lets the operator choose
 *   the output directory (the custodian's removable medium; `share:pickSealDir` opens a dialog)
 *   and sends `{ kind: 'shareSeal', dir? }` (no dir: `defaultDir`). Keyrite encrypts the share to
 *   the key and writes `file` there atomically (never overwriting).
 * - phase 'confirm' (proof of possession): `file` is present; the UI shows its name, full path,
 *   SHA-256 and the recipient fingerprint. The custodian decrypts it on their own device
 *   (`gpg --decrypt FILE`) and types back the words at `confirmPositions` (1-based on screen, as
 *   for on-screen shares) with `{ kind: 'shareConfirm', words }` — checked exactly like an
 *   on-screen read-back. If they cannot decrypt it, the UI sends `{ kind: 'shareCannotDecrypt' }`:
 *   the whole split becomes void and is recorded, the custodian moves to words, and the step asks
 *   to continue (and for the SO PIN for a trusted KEK) to make a fresh backup and split.
 * A printed card for a sealed share (share:printCard, phase 'confirm') carries split id, index and
 * the ciphertext's SHA-256, never words.
 */
export interface SealedHandout {
  recipientFingerprint: string;
  fingerprintGroups: string;
  /** Where the file goes when `shareSeal` names no directory: `<outDir>/sealed-shares`. */
  defaultDir: string;
  /** Present once written (phase 'confirm'). */
  file?: { name: string; path: string; dir: string; sha256: string };
}

/** A participant as checked in; `openpgpKey` is an armored OpenPGP public key (custodians only, optional). */
export type ParticipantEntry = Participant & { openpgpKey?: string };

/**
 * An act that cannot be undone (a key made or destroyed in the HSM): drivers default to "No" and
 * ask for the token label (and the key id, when there is one) to be typed before they continue.
 */
export interface IrreversibleAct {
  act: 'generate' | 'destroy';
  tokenLabel: string;
  keyId?: string;
  keyType?: string;
}

/** How a person signed off: typed their own name or initials (the desktop and terminal), or an answers file. */
export type SignoffMethod = 'typed-name' | 'typed-initials' | 'answers-file';

/** What a driver sends. `pin`, `words` and `text` are secret: used, then dropped. */
export type StepInput =
  | { kind: 'participants'; participants: ParticipantEntry[] }
  | { kind: 'openpgpConfirm'; typed: string } // last tailLength hex digits of the fingerprint, from the custodian's own device
  | { kind: 'openpgpReject' } // "this is not my key": enrolment dropped, recorded; words on screen instead
  | { kind: 'preflightOverride'; reason: string; personId: string }
  | { kind: 'pin'; pin: string }
  | { kind: 'signoff'; personId: string; role?: string; method?: SignoffMethod; typed?: string }
  | { kind: 'shareAck' } // privacy confirmed ("others look away") or share written down
  | { kind: 'shareReshow' } // the custodian asks to see the share again: back through the privacy gate, recorded
  | { kind: 'shareConfirm'; words: string[] } // re-entry of the requested words, in confirmPositions order (also proof of possession of a sealed share)
  | { kind: 'shareSeal'; dir?: string } // sealed hand-out: write the encrypted share file into dir (default SealedHandout.defaultDir)
  | { kind: 'shareCannotDecrypt' } // sealed hand-out: the custodian cannot open the file: fresh split, recorded
  | { kind: 'share'; text: string } // typed words, or the text of a decrypted sealed-share file (same decoder)
  | { kind: 'statement'; values: Record<string, string> }
  | { kind: 'continue' };

export interface CeremonyView {
  ceremonyId: string;
  scriptId: string;
  title: string;
  status: 'running' | 'sealed' | 'aborted';
  demo: boolean;
  outDir: string;
  participants: Participant[];
  steps: StepSummary[];
  current: null | {
    index: number;
    id: string;
    title: string;
    say: string;
    action: ActionName | null;
    confirm: Record<string, number>;
    need: Need;
    /** Evidence from this step's action so far (non-secret), for display. */
    evidence: Record<string, unknown> | null;
  };
  /**
   * Shown to the person at the reveal phase of a hand-out, and only in the answer to the input that
   * revealed it (provide), never in a later view: a re-display goes back through the privacy gate.
   * Secret.
   */
  revealedShare?: { custodian: string; header: string; words: string[] };
  chainHead: { seq: number; hash: string };
  /** The last problem the previous input caused (wrong PIN, mistyped word…), for display. */
  lastError: { code: ErrorCode; message: string; details?: Record<string, unknown> } | null;
  sealed?: { finalHash: string; finalHashWords: string[]; keyFingerprintWords: string[]; bundle: string };
}

/** A printable share card, rendered in memory for the printer. Secret: never stored, logged or written. */
export interface ShareCard {
  html: string;
  index: number;
  custodian: string;
}

/** A ceremony in the list: the store's row as it is (one shape, so the two cannot drift). */
export type CeremonySummary = CeremonyListRow;

export interface ScriptSummary {
  id: string;
  title: string;
  version: string;
  description: string;
  file: string;
  sha256: string;
}
