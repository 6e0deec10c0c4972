import { APP_ERRORS } from './app';
import { BACKUP_ERRORS } from './backup';
import { CEREMONY_ERRORS } from './ceremony';
import { CLI_ERRORS } from './cli';
import { HSM_ERRORS } from './hsm';
import { INPUT_ERRORS } from './input';
import { INTERNAL_ERRORS } from './internal';
import type { ErrorMeta } from './meta';
import { STORAGE_ERRORS } from './storage';
import { TRANSCRIPT_ERRORS } from './transcript';
import { X509_ERRORS } from './x509';

export { FIXERS, type ErrorMeta, type Fixer } from './meta';

/**
 * Every error code Keyrite raises, by domain. Each domain file is an `as const` table, so
 * `ErrorCode` is the union of their keys and tsc checks every `new KeyriteError('…')` literal.
 * docs/errors.md is generated from this (node build/errors-doc.mjs).
 */
export const ERROR_DOMAINS = [
  { name: 'hsm', title: 'HSM and PKCS#11 module', codes: HSM_ERRORS },
  { name: 'backup', title: 'Backups, shares and the word list', codes: BACKUP_ERRORS },
  { name: 'ceremony', title: 'Ceremonies, answers, policy and the key inventory', codes: CEREMONY_ERRORS },
  { name: 'transcript', title: 'Transcripts, seals and bundles', codes: TRANSCRIPT_ERRORS },
  { name: 'x509', title: 'Certificates, requests and profiles', codes: X509_ERRORS },
  { name: 'storage', title: 'Store, output folders, resources and settings', codes: STORAGE_ERRORS },
  { name: 'app', title: 'Desktop app, IPC and printing', codes: APP_ERRORS },
  { name: 'cli', title: 'The keyrite command line', codes: CLI_ERRORS },
  { name: 'input', title: 'Files named on the command line or in the desktop app', codes: INPUT_ERRORS },
  { name: 'internal', title: "Keyrite's own bugs", codes: INTERNAL_ERRORS },
] as const;

export const ERROR_CODES = {
  ...HSM_ERRORS,
  ...BACKUP_ERRORS,
  ...CEREMONY_ERRORS,
  ...TRANSCRIPT_ERRORS,
  ...X509_ERRORS,
  ...STORAGE_ERRORS,
  ...APP_ERRORS,
  ...CLI_ERRORS,
  ...INPUT_ERRORS,
  ...INTERNAL_ERRORS,
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export function isErrorCode(code: string): code is ErrorCode {
  return Object.hasOwn(ERROR_CODES, code);
}

/**
 * The metadata of a code. A code that is not in the registry (one that crossed a process
 * boundary as a plain string, say) is treated as a bug: not retryable, fixed by a developer.
 */
export function errorMeta(code: string): ErrorMeta {
  return isErrorCode(code) ? ERROR_CODES[code] : UNKNOWN;
}

const UNKNOWN: ErrorMeta = { fixedBy: 'developer', retryable: false, endsHsmSession: false, summary: 'An error code Keyrite does not know.' };
