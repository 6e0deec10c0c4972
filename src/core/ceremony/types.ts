/**
 * The ceremony engine's public shapes. The runner is pull-based: a driver (terminal runner,
 * answers file, desktop UI over IPC) asks `view()` what the current step needs, then calls
 * `provide(input)`. Nothing here is secret except the inputs marked so, which the runner uses
 * and forgets (never stored, never in events, never echoed back in a view).
 */
import type { ErrorCode } from '../error-codes';

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
  | { kind: 'shareHandout'; custodian: Participant; shareIndex: number; of: number; phase: 'privacy' | 'reveal' | 'confirm'; header?: string; confirmPositions?: number[]; shareCards?: boolean }
  | { kind: 'shareEntry'; accepted: Array<{ index: number; custodian: string }>; needed: number; threshold: number; splitId: string }
  | { kind: 'statement'; fields: StatementField[] }
  | { kind: 'continue'; message: string; irreversible?: IrreversibleAct }
  | { kind: 'done' };

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
  | { kind: 'participants'; participants: Participant[] }
  | { kind: 'preflightOverride'; reason: string; personId: string }
  | { kind: 'pin'; pin: string }
  | { kind: 'signoff'; personId: string; role?: string; method?: SignoffMethod; typed?: string }
  | { kind: 'shareAck' } // privacy confirmed ("others look away") or share written down
  | { kind: 'shareReshow' } // the custodian asks to see the share again: back through the privacy gate, recorded
  | { kind: 'shareConfirm'; words: string[] } // re-entry of the requested words, in confirmPositions order
  | { kind: 'share'; text: string }
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

export interface CeremonySummary {
  id: string;
  scriptId: string;
  title: string;
  status: 'running' | 'sealed' | 'aborted';
  currentStep: number;
  stepCount: number;
  currentStepTitle: string | null;
  outDir: string;
  createdAt: string;
  updatedAt: string;
}

export interface ScriptSummary {
  id: string;
  title: string;
  version: string;
  description: string;
  file: string;
  sha256: string;
}
