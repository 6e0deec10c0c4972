import type { IssuedShare } from '../backup/issue-shares';
import { encodeShare, type DecodedShare } from '../backup/share-codec';
import { zeroize } from '../errors';
import type { HsmConnection } from '../hsm/connect';
import { SecretGuard, type TranscriptEvent } from '../transcript';
import { shareTextWords } from '../../shared/share-text';
import type { StepInput } from './types';

/**
 * Every secret a running ceremony holds, in memory only, for as long as the runner lives (lost on
 * restart, by design): the logged-in connection, shares being handed out, shares typed in at
 * recovery (decoded), the PINs a trusted KEK needs. It is the one place that zeroizes them, and
 * it shows each to its SecretGuard first, so the runner can refuse any event that would carry one
 * — also after the secret itself is gone (the guard keeps digests, not copies).
 */
export class CeremonySecrets {
  /** The HSM connection; logged in, it is as good as the PIN. */
  conn?: HsmConnection;
  private issuedShares?: IssuedShare[];
  private collectedShares: DecodedShare[] = [];
  private pins: { so?: string; user?: string } | undefined;
  readonly guard = new SecretGuard();

  // ---------------------------------------------------------------- shares made here

  /** Shares made by createBackup / resplitShares, until each is handed out. */
  get issued(): readonly IssuedShare[] | undefined {
    return this.issuedShares;
  }

  holdIssued(shares: IssuedShare[]): void {
    this.forgetIssued();
    for (const s of shares) this.guard.addShareWords(s.words);
    this.issuedShares = shares.map((s) => ({ ...s, words: [...s.words] }));
    for (const s of shares) s.words.fill('');
  }

  /**
   * The words leave memory as soon as the last custodian confirmed theirs. The list stays (with
   * blank words) so the hand-out knows it happened in this run.
   */
  blankIssuedWords(): void {
    for (const s of this.issuedShares ?? []) s.words.fill('');
  }

  forgetIssued(): void {
    this.blankIssuedWords();
    this.issuedShares = undefined;
  }

  // ---------------------------------------------------------------- shares typed in

  /** Shares typed in at recovery (decoded), until the KEK is rebuilt. */
  get collected(): readonly DecodedShare[] {
    return this.collectedShares;
  }

  addCollected(share: DecodedShare): void {
    this.guard.addShareWords(encodeShare(share));
    this.collectedShares.push(share);
  }

  /** The Shamir share bytes are zeroized, as the share codec asks. */
  clearCollected(): void {
    zeroize(...this.collectedShares.map((s) => s.share));
    this.collectedShares = [];
  }

  // ---------------------------------------------------------------- PINs for a trusted KEK

  get backupPins(): { so?: string; user?: string } | undefined {
    return this.pins;
  }

  holdBackupPin(user: 'so' | 'user', pin: string): void {
    this.guard.addPin(pin);
    this.pins = { ...(this.pins ?? {}), [user]: pin };
  }

  /** JS strings cannot be overwritten; dropping the only reference is what can be done. */
  dropBackupPins(): void {
    this.pins = undefined;
  }

  // ---------------------------------------------------------------- what passes through

  /** A person's input may itself be secret (PIN, share words): the guard learns it before anything is recorded. */
  noteInput(input: StepInput): void {
    if (input.kind === 'pin') this.guard.addPin(input.pin);
    // The words only, as the decoder reads them: the header line of a decrypted share file
    // ("share 2 of 5 · … · split 7F3A-91C2") is evidence every event may carry, not a secret.
    else if (input.kind === 'share') this.guard.addShareWords(shareTextWords(input.text));
  }

  /** For the backup functions' `watchKek`: the KEK is seen while it exists, never kept. */
  readonly watchKek = (kek: Uint8Array): void => {
    this.guard.addKek(kek);
  };

  /** Throws TRANSCRIPT_SECRET_LEAK if the event carries a secret this ceremony has seen. */
  check(event: TranscriptEvent): void {
    this.guard.check(event);
  }

  /** Close the session and zeroize everything (the guard's digests stay: they reveal nothing usable). */
  zeroize(): void {
    this.conn?.close();
    this.conn = undefined;
    this.forgetIssued();
    this.clearCollected();
    this.dropBackupPins();
  }
}
