import type { OpenPgpRecipient } from '../backup/openpgp-recipient';
import type { HsmConnection } from '../hsm/connect';
import { DEMO_USER_PIN, type HsmConfig } from '../hsm/config';
import type { Pkcs11Factory } from '../hsm/pkcs11-module';
import type { HsmSession } from '../hsm/session';
import type { KeyCustody } from '../hsm/templates';
import type { KeyPolicy } from '../policy';
import type { Store } from '../store/db';
import type { BackupRef, Inventory } from '../inventory';
import type { EventType, TranscriptEvent, TranscriptSigner } from '../transcript';
import type { Parameters } from './parameters';
import type { InterfaceLister } from './preflight';
import type { CeremonySecrets } from './secrets';
import type { CeremonyScript, ScriptStep } from './script';
import type { IrreversibleAct, Need, Participant, StepInput } from './types';

export interface RunnerDeps {
  store: Store;
  inventory: Inventory;
  policy: KeyPolicy;
  hsm: HsmConfig;
  appVersion: string;
  now: () => Date;
  interfaces?: InterfaceLister;
  pkcs11Factory?: Pkcs11Factory;
}

/** A key the ceremony works with, by role in the script ('ceremony', 'old', 'target', 'restored'). */
export interface KeyRef {
  keyId: string;
  label: string;
  type: string;
  spkiSha256: string;
  purpose: string;
  tokenLabel: string;
  /** How the key may leave the token, for keys this ceremony generated. */
  custody?: KeyCustody;
}

/**
 * The backup this ceremony made or re-split, as its later steps need it: the fields the inventory
 * records of every backup (inventory's `BackupRef`), plus the key it protects and the KEK's check value.
 */
export interface CeremonyBackup extends Pick<BackupRef, 'file' | 'splitId' | 'threshold' | 'count' | 'custodians'> {
  keyId: string;
  kcv: string;
  /**
   * For a share rotation: the backup file whose KEK this ceremony re-split. A void split is made
   * again from that file's shares (the key itself need not be in this HSM).
   */
  resplitOf?: string;
}

/**
 * A custodian's enrolled OpenPGP key. 'pending' until the custodian confirms the fingerprint;
 * 'rejected' (not their key) and 'undecryptable' (could not open a sealed share) put the
 * custodian back on words for the rest of the ceremony.
 */
export interface OpenPgpEnrolment extends OpenPgpRecipient {
  status: 'pending' | 'confirmed' | 'rejected' | 'undecryptable';
}

/**
 * Everything the runner persists about a ceremony besides events. Evidence and progress only:
 * never a PIN, KEK byte or share word.
 */
export interface CeremonyState {
  tokenLabel: string;
  participants: Participant[];
  phase: 'signoffFirst' | 'action' | 'signoff';
  /** Scratch space of the current step's action (non-secret), reset when the step completes. */
  actionState: Record<string, unknown>;
  evidence: Record<string, unknown> | null;
  signoffs: Array<{ personId: string; name: string; role: string }>;
  /** The transcript key's label, committed before the key is made (so a crash after is recognised). */
  transcriptKeyAnnounced?: string;
  transcriptKey?: { label: string; spkiSha256: string };
  keys: Record<string, KeyRef>;
  backup?: CeremonyBackup;
  handedOut: number[];
  collected: number[];
  artifacts: Record<string, { path: string; sha256: string }>;
  /** Custodians' OpenPGP public keys presented at check-in, by person id (public keys only: nothing secret). */
  openpgp?: Record<string, OpenPgpEnrolment>;
  /** Sealed share files written for the current split (removed when that split is voided). */
  sealedFiles?: Array<{ path: string; splitId: string; index: number; sha256?: string }>;
  sealed?: { finalHash: string; finalHashWords: string[]; keyFingerprintWords: string[]; bundle: string };
}

export interface PendingEvent {
  type: EventType;
  data: Record<string, unknown>;
  actor?: string | null;
  /** The step running when the event happened (the index may move on before it is written). */
  step?: string | null;
}

export interface ActionContext {
  readonly ceremonyId: string;
  readonly script: CeremonyScript;
  readonly step: ScriptStep;
  readonly params: Parameters;
  readonly state: CeremonyState;
  readonly outDir: string;
  readonly demo: boolean;
  readonly deps: RunnerDeps;
  /** Every live secret of the ceremony, and the guard every event passes before it is written. */
  readonly secrets: CeremonySecrets;
  now(): Date;
  /** The logged-in session; the runner asks for a PIN before calling an action that needs it. */
  session(): HsmSession;
  /** The connection (logged in or not), opened on first use. */
  connection(): HsmConnection;
  emit(type: EventType, data: Record<string, unknown>, actor?: string | null): void;
  /** Commit the events emitted so far and the state as it is now (a checkpoint inside an action). */
  checkpoint(extra?: (tx: Store) => Promise<void>): Promise<void>;
  /** Store work to run inside the transaction that completes the action. */
  onCommit(fn: (tx: Store) => Promise<void>): void;
  person(id: string): Participant;
  /** Every event of this ceremony so far, from the store. */
  events(): Promise<TranscriptEvent[]>;
  /**
   * Seal the ceremony (the seal action only): CEREMONY_SEALED, the transcript's signature by
   * `signer` and the sealed status are committed together, then the bundle is written from the
   * store. `data` is CEREMONY_SEALED's evidence; the runner adds the event count.
   */
  seal(signer: TranscriptSigner, data: Record<string, unknown>): Promise<void>;
}

export type ActionOutcome = 'done' | 'pending';

export interface ActionHandler {
  /** Needs the user to be logged in to the token before need()/run(). */
  requiresLogin: boolean;
  /** What the action waits for; null means it can run on 'continue'. */
  need(ctx: ActionContext): Need | null | Promise<Need | null>;
  /** Handle input for this action (not 'continue'); 'done' completes it. */
  provide?(ctx: ActionContext, input: StepInput): Promise<ActionOutcome>;
  /** Run the action. Must be safe to call again after a crash (reconcile, never do twice). */
  run?(ctx: ActionContext): Promise<ActionOutcome>;
  /** Evidence to show before the action runs (e.g. the key about to be destroyed). */
  preview?(ctx: ActionContext): Promise<Record<string, unknown> | null>;
  /** What cannot be undone when the action runs (a key made or destroyed), for drivers to confirm by typing. */
  irreversible?(ctx: ActionContext): IrreversibleAct | null | Promise<IrreversibleAct | null>;
  /** A message for the 'continue' prompt. */
  continueMessage?(ctx: ActionContext): string;
}

/** The crypto officer's PIN prompt, for the login step and for logging in again after a restart. */
export function userPinNeed(tokenLabel: string, demo: boolean): Need {
  return {
    kind: 'pin',
    user: 'user',
    tokenLabel,
    role: 'officer',
    message: `A crypto officer enters the user PIN of token '${tokenLabel}'.${demo ? ` (Demo token: the PIN is ${DEMO_USER_PIN}.)` : ''}`,
  };
}
