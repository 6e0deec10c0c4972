import { KeyriteError, type ErrorCode } from '../errors';
import { pkcs11js, type P11 } from './pkcs11js';

/**
 * One place that turns PKCS#11 return values into Keyrite errors: a stable code, the operation
 * that failed and a sentence that says what to do next. Anything unmapped keeps its CKR name.
 */
export interface CkrContext {
  /** What Keyrite was doing, e.g. "log in", "generate key pair". */
  operation: string;
  tokenLabel?: string;
  /** Extra, non-secret context, e.g. attempts left for a PIN. */
  hint?: string;
}

interface CkrEntry {
  code: ErrorCode;
  sentence: (c: CkrContext) => string;
}

const token = (c: CkrContext): string => (c.tokenLabel ? `token '${c.tokenLabel}'` : 'the token');

/** A return value's name as pkcs11js declares it: a typo in the table below fails tsc. */
type CkrName = Extract<keyof typeof P11, `CKR_${string}`>;

const CKR_TABLE: Partial<Record<CkrName, CkrEntry>> = {
  CKR_PIN_INCORRECT: {
    code: 'HSM_PIN_INCORRECT',
    sentence: (c) => `Wrong PIN for ${token(c)}.${c.hint ? ' ' + c.hint : ''} Check the PIN and try again.`,
  },
  CKR_PIN_LOCKED: {
    code: 'HSM_PIN_LOCKED',
    sentence: (c) => `The PIN of ${token(c)} is locked after too many wrong attempts. The security officer must unlock or reset it before this step can continue.`,
  },
  CKR_PIN_LEN_RANGE: {
    code: 'HSM_PIN_LENGTH',
    sentence: (c) => `The PIN for ${token(c)} has the wrong length. Check the PIN and try again.`,
  },
  CKR_PIN_EXPIRED: {
    code: 'HSM_PIN_EXPIRED',
    sentence: (c) => `The PIN of ${token(c)} has expired. Change it with the token's own tools, then retry.`,
  },
  CKR_TOKEN_NOT_PRESENT: {
    code: 'HSM_TOKEN_NOT_PRESENT',
    sentence: (c) => `${cap(token(c))} is not present. Insert it and retry this step.`,
  },
  CKR_DEVICE_REMOVED: {
    code: 'HSM_TOKEN_NOT_PRESENT',
    sentence: (c) => `${cap(token(c))} was removed while Keyrite was trying to ${c.operation}. Insert it and retry this step.`,
  },
  CKR_DEVICE_ERROR: {
    code: 'HSM_DEVICE_ERROR',
    sentence: (c) => `${cap(token(c))} reported a device error while Keyrite was trying to ${c.operation}. Check the HSM's connection and status, then retry this step.`,
  },
  CKR_DEVICE_MEMORY: {
    code: 'HSM_DEVICE_MEMORY',
    sentence: (c) => `${cap(token(c))} has no memory left to ${c.operation}. Free space on the token, then retry.`,
  },
  CKR_SESSION_CLOSED: {
    code: 'HSM_SESSION_CLOSED',
    sentence: (c) => `The session with ${token(c)} was closed while Keyrite was trying to ${c.operation}. Retry this step; Keyrite will open a new session.`,
  },
  CKR_SESSION_HANDLE_INVALID: {
    code: 'HSM_SESSION_CLOSED',
    sentence: (c) => `The session with ${token(c)} is no longer valid (it was closed or the token was reset) while Keyrite was trying to ${c.operation}. Retry this step.`,
  },
  CKR_USER_NOT_LOGGED_IN: {
    code: 'HSM_NOT_LOGGED_IN',
    sentence: (c) => `Nobody is logged in to ${token(c)}, so Keyrite cannot ${c.operation}. Log in with the crypto officer's PIN first.`,
  },
  CKR_USER_ALREADY_LOGGED_IN: {
    code: 'HSM_ALREADY_LOGGED_IN',
    sentence: (c) => `Someone is already logged in to ${token(c)}. Log out first, then retry.`,
  },
  CKR_USER_ANOTHER_ALREADY_LOGGED_IN: {
    code: 'HSM_ALREADY_LOGGED_IN',
    sentence: (c) => `Another user is already logged in to ${token(c)}. Log that user out first, then retry.`,
  },
  CKR_USER_PIN_NOT_INITIALIZED: {
    code: 'HSM_PIN_NOT_INITIALIZED',
    sentence: (c) => `The user PIN of ${token(c)} has not been set. Initialize the token's user PIN first.`,
  },
  CKR_MECHANISM_INVALID: {
    code: 'HSM_MECHANISM_UNSUPPORTED',
    sentence: (c) => `${cap(token(c))} does not support the mechanism needed to ${c.operation}.`,
  },
  CKR_MECHANISM_PARAM_INVALID: {
    code: 'HSM_MECHANISM_PARAM_INVALID',
    sentence: (c) => `${cap(token(c))} refused the mechanism parameters used to ${c.operation}.`,
  },
  CKR_KEY_SIZE_RANGE: {
    code: 'HSM_KEY_SIZE_UNSUPPORTED',
    sentence: (c) => `${cap(token(c))} does not support this key size (while trying to ${c.operation}).`,
  },
  CKR_TEMPLATE_INCONSISTENT: {
    code: 'HSM_TEMPLATE_REFUSED',
    sentence: (c) => `${cap(token(c))} refused the key attributes Keyrite asked for (while trying to ${c.operation}). The token's policy may forbid them.`,
  },
  CKR_TEMPLATE_INCOMPLETE: {
    code: 'HSM_TEMPLATE_REFUSED',
    sentence: (c) => `${cap(token(c))} needs more key attributes than Keyrite gave (while trying to ${c.operation}).`,
  },
  CKR_ATTRIBUTE_VALUE_INVALID: {
    code: 'HSM_TEMPLATE_REFUSED',
    sentence: (c) => `${cap(token(c))} refused an attribute value (while trying to ${c.operation}).`,
  },
  CKR_ATTRIBUTE_TYPE_INVALID: {
    code: 'HSM_TEMPLATE_REFUSED',
    sentence: (c) => `${cap(token(c))} does not know an attribute Keyrite used (while trying to ${c.operation}).`,
  },
  CKR_ATTRIBUTE_SENSITIVE: {
    code: 'HSM_ATTRIBUTE_SENSITIVE',
    sentence: (c) => `${cap(token(c))} will not reveal a sensitive attribute (while trying to ${c.operation}).`,
  },
  CKR_ATTRIBUTE_READ_ONLY: {
    code: 'HSM_ATTRIBUTE_READ_ONLY',
    sentence: (c) => `${cap(token(c))} will not change a read-only attribute (while trying to ${c.operation}).`,
  },
  CKR_KEY_UNEXTRACTABLE: {
    code: 'HSM_KEY_UNEXTRACTABLE',
    sentence: (c) => `The key cannot be exported from ${token(c)}: it was generated non-extractable, so it cannot be backed up.`,
  },
  CKR_KEY_NOT_WRAPPABLE: {
    code: 'HSM_KEY_UNEXTRACTABLE',
    sentence: (c) => `The key cannot be wrapped by this KEK on ${token(c)} (it may require a trusted wrapping key).`,
  },
  CKR_KEY_FUNCTION_NOT_PERMITTED: {
    code: 'HSM_KEY_USAGE_REFUSED',
    sentence: (c) => `The key's usage flags on ${token(c)} do not allow Keyrite to ${c.operation}.`,
  },
  CKR_KEY_TYPE_INCONSISTENT: {
    code: 'HSM_KEY_TYPE_MISMATCH',
    sentence: (c) => `The key type does not fit the mechanism used to ${c.operation}.`,
  },
  CKR_KEY_HANDLE_INVALID: {
    code: 'HSM_KEY_NOT_FOUND',
    sentence: (c) => `The key Keyrite tried to use on ${token(c)} no longer exists (while trying to ${c.operation}).`,
  },
  CKR_OBJECT_HANDLE_INVALID: {
    code: 'HSM_KEY_NOT_FOUND',
    sentence: (c) => `The object Keyrite tried to use on ${token(c)} no longer exists (while trying to ${c.operation}).`,
  },
  CKR_WRAPPED_KEY_INVALID: {
    code: 'HSM_WRAPPED_KEY_INVALID',
    sentence: () => `The wrapped key in the backup is damaged or was not made with this KEK; nothing was restored.`,
  },
  CKR_WRAPPED_KEY_LEN_RANGE: {
    code: 'HSM_WRAPPED_KEY_INVALID',
    sentence: () => `The wrapped key in the backup has an impossible length (truncated or altered); nothing was restored.`,
  },
  CKR_ENCRYPTED_DATA_INVALID: {
    code: 'HSM_WRAPPED_KEY_INVALID',
    sentence: () => `The wrapped key in the backup does not decrypt under this KEK; nothing was restored.`,
  },
  CKR_SIGNATURE_INVALID: {
    code: 'HSM_SIGNATURE_INVALID',
    sentence: (c) => `A signature did not verify on ${token(c)} (while trying to ${c.operation}).`,
  },
  CKR_DATA_LEN_RANGE: {
    code: 'HSM_DATA_LENGTH',
    sentence: (c) => `The data is the wrong length for the mechanism used to ${c.operation}.`,
  },
  CKR_BUFFER_TOO_SMALL: {
    code: 'HSM_BUFFER_TOO_SMALL',
    sentence: (c) => `Keyrite's output buffer was too small to ${c.operation}; this is a bug, please report it.`,
  },
  CKR_CRYPTOKI_NOT_INITIALIZED: {
    code: 'HSM_NOT_INITIALIZED',
    sentence: (c) => `The PKCS#11 module was not initialized when Keyrite tried to ${c.operation}. Restart this step.`,
  },
  CKR_SLOT_ID_INVALID: {
    code: 'HSM_SLOT_INVALID',
    sentence: (c) => `The slot holding ${token(c)} disappeared while Keyrite was trying to ${c.operation}. Check the HSM connection and retry.`,
  },
  CKR_TOKEN_WRITE_PROTECTED: {
    code: 'HSM_TOKEN_READ_ONLY',
    sentence: (c) => `${cap(token(c))} is write-protected, so Keyrite cannot ${c.operation}.`,
  },
  CKR_GENERAL_ERROR: {
    code: 'HSM_GENERAL_ERROR',
    sentence: (c) => `${cap(token(c))} reported a general error while Keyrite was trying to ${c.operation}. Nothing further was done; retry the step or check the HSM.`,
  },
  CKR_FUNCTION_FAILED: {
    code: 'HSM_FUNCTION_FAILED',
    sentence: (c) => `${cap(token(c))} could not ${c.operation} (CKR_FUNCTION_FAILED). Retry the step or check the HSM.`,
  },
  CKR_ARGUMENTS_BAD: {
    code: 'HSM_ARGUMENTS_BAD',
    sentence: (c) => `The PKCS#11 module rejected Keyrite's arguments while trying to ${c.operation}; this is a bug, please report it.`,
  },
  CKR_OPERATION_ACTIVE: {
    code: 'HSM_OPERATION_ACTIVE',
    sentence: (c) => `Another operation is still running on the session with ${token(c)}. Retry this step.`,
  },
};

function cap(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/**
 * pkcs11js reports failures inconsistently: most calls throw Pkcs11Error with a numeric
 * `.code` and a message starting with the CKR name, but some (C_CreateObject,
 * C_SetAttributeValue) throw a plain Error("CKR_X:16"). Both reduce to a CKR name here.
 */
export function ckrName(error: unknown): string | undefined {
  if (!(error instanceof Error)) return undefined;
  const m = /\b(CKR_[A-Z0-9_]+)\b/.exec(error.message);
  if (m) return m[1];
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'number') return ckrNameFromNumber(code);
  return undefined;
}

/**
 * Number → CKR name, taken from pkcs11js's own constants (all of PKCS#11 v2.40's CKR_* values)
 * rather than restated here, so a code this table does not map still gets its proper name.
 */
const CKR_NAMES: ReadonlyMap<number, string> = new Map(
  Object.entries(pkcs11js)
    .filter((entry): entry is [string, number] => entry[0].startsWith('CKR_') && typeof entry[1] === 'number')
    .map(([name, value]) => [value, name]),
);

export function ckrNameFromNumber(code: number): string {
  return CKR_NAMES.get(code) ?? `CKR_0x${code.toString(16).padStart(8, '0')}`;
}

/** Convert whatever pkcs11js threw into a KeyriteError; KeyriteErrors pass through untouched. */
export function toHsmError(error: unknown, context: CkrContext): KeyriteError {
  if (error instanceof KeyriteError) return error;
  const ckr = ckrName(error);
  const entry = ckr ? CKR_TABLE[ckr as CkrName] : undefined;
  const details: Record<string, unknown> = { operation: context.operation, ckr: ckr ?? null };
  if (context.tokenLabel) details.tokenLabel = context.tokenLabel;
  if (entry) return new KeyriteError(entry.code, entry.sentence(context), { details, cause: error });
  const what = ckr ?? (error instanceof Error ? error.message : String(error));
  return new KeyriteError(
    'HSM_ERROR',
    `The HSM failed to ${context.operation} (${what}). Nothing further was done; retry the step or check the HSM.`,
    { details, cause: error },
  );
}

/** Run one PKCS#11 call and convert its failure. */
export function ckrCall<T>(context: CkrContext, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw toHsmError(e, context);
  }
}
