/**
 * What every Keyrite error code says about itself, beyond its message: who can fix it, whether
 * the same step can simply be tried again, and whether the HSM session must be dropped. The
 * runner, the CLI and docs/errors.md read these instead of guessing from a code's prefix.
 */
export const FIXERS = ['custodian', 'operator', 'administrator', 'developer'] as const;

/**
 * - custodian: the person at the keyboard holding a share or a PIN (retype, re-enter);
 * - operator: whoever runs the ceremony or the CLI (insert the token, free disk space, pick
 *   another folder, resume);
 * - administrator: whoever owns the configuration (scripts, policy, profiles, settings, the HSM);
 * - developer: nobody on site — a bug in Keyrite to report.
 */
export type Fixer = (typeof FIXERS)[number];

export interface ErrorMeta {
  readonly fixedBy: Fixer;
  /** The same step can be tried again once the person fixed the cause, without editing a file. */
  readonly retryable: boolean;
  /** The token may be gone or reset: drop the PKCS#11 session so the next attempt logs in afresh. */
  readonly endsHsmSession: boolean;
  /** The message Keyrite shows, with '…' where it names the file, token, key or value. */
  readonly summary: string;
}

export type ErrorTable = Readonly<Record<string, ErrorMeta>>;
