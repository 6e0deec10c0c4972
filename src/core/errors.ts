import type { ErrorCode } from './error-codes';

export type { ErrorCode } from './error-codes';

/**
 * The one error type Keyrite raises on purpose. `code` is stable (DOMAIN_REASON) so callers,
 * tests and the UI can branch on it; `message` is a sentence a custodian can act on.
 * `details` carries structured, non-secret context; `cause` keeps the original error for logs.
 * Codes are data (src/core/error-codes/): tsc refuses a code that is not in the registry.
 */
export class KeyriteError extends Error {
  readonly code: ErrorCode;
  readonly details: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, options: { details?: Record<string, unknown>; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'KeyriteError';
    this.code = code;
    this.details = options.details ?? {};
  }

  toJSON(): { code: ErrorCode; message: string; details: Record<string, unknown> } {
    return { code: this.code, message: this.message, details: this.details };
  }
}

export function isKeyriteError(e: unknown, code?: ErrorCode): e is KeyriteError {
  return e instanceof KeyriteError && (code === undefined || e.code === code);
}

/** For exhaustive switches: the compiler proves this is unreachable. */
export function assertNever(value: never, what = 'value'): never {
  throw new KeyriteError('INTERNAL_UNREACHABLE', `Unexpected ${what}: ${JSON.stringify(value)}.`);
}

/** Overwrite a buffer that held a secret. Safe on undefined and on already-detached views. */
export function zeroize(...buffers: Array<Uint8Array | undefined | null>): void {
  for (const b of buffers) {
    if (b && b.byteLength > 0) b.fill(0);
  }
}
