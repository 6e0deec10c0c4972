import { pkcs11js } from './pkcs11js';
import { KeyriteError } from '../errors';
import { ckrCall } from './ckr';
import type { Pkcs11Module } from './pkcs11-module';
import type { TokenSelector } from './config';

export interface TokenFlags {
  loginRequired: boolean;
  userPinInitialized: boolean;
  tokenInitialized: boolean;
  writeProtected: boolean;
  rng: boolean;
  userPinCountLow: boolean;
  userPinFinalTry: boolean;
  userPinLocked: boolean;
  soPinCountLow: boolean;
  soPinFinalTry: boolean;
  soPinLocked: boolean;
}

export interface TokenSummary {
  /** Slot handle as pkcs11js wants it (8 bytes). Valid only inside this process. */
  slot: Buffer;
  /** Slot id as a decimal string, for display. */
  slotId: string;
  slotDescription: string;
  present: boolean;
  label: string;
  serial: string;
  manufacturer: string;
  model: string;
  firmware: string;
  hardware: string;
  flags: TokenFlags;
  minPinLength: number;
  maxPinLength: number;
}

// Missing from pkcs11js's type definitions (present at run time); the PKCS#11 value is fixed.
const CKF_TOKEN_PRESENT = 0x1;

const f = (flags: number, bit: number): boolean => (flags & bit) !== 0;

export function tokenFlags(flags: number): TokenFlags {
  return {
    loginRequired: f(flags, pkcs11js.CKF_LOGIN_REQUIRED),
    userPinInitialized: f(flags, pkcs11js.CKF_USER_PIN_INITIALIZED),
    tokenInitialized: f(flags, pkcs11js.CKF_TOKEN_INITIALIZED),
    writeProtected: f(flags, pkcs11js.CKF_WRITE_PROTECTED),
    rng: f(flags, pkcs11js.CKF_RNG),
    userPinCountLow: f(flags, pkcs11js.CKF_USER_PIN_COUNT_LOW),
    userPinFinalTry: f(flags, pkcs11js.CKF_USER_PIN_FINAL_TRY),
    userPinLocked: f(flags, pkcs11js.CKF_USER_PIN_LOCKED),
    soPinCountLow: f(flags, pkcs11js.CKF_SO_PIN_COUNT_LOW),
    soPinFinalTry: f(flags, pkcs11js.CKF_SO_PIN_FINAL_TRY),
    soPinLocked: f(flags, pkcs11js.CKF_SO_PIN_LOCKED),
  };
}

const version = (v: { major: number; minor: number }): string => `${v.major}.${v.minor}`;

export function readToken(module: Pkcs11Module, slot: Buffer): TokenSummary {
  const api = module.api;
  const slotInfo = ckrCall({ operation: 'read slot information' }, () => api.C_GetSlotInfo(slot));
  const present = f(slotInfo.flags, CKF_TOKEN_PRESENT);
  const base = {
    slot,
    slotId: slot.readBigUInt64LE(0).toString(),
    slotDescription: slotInfo.slotDescription.trim(),
    present,
  };
  if (!present) {
    return { ...base, label: '', serial: '', manufacturer: '', model: '', firmware: '', hardware: '', flags: tokenFlags(0), minPinLength: 0, maxPinLength: 0 };
  }
  const info = ckrCall({ operation: 'read token information' }, () => api.C_GetTokenInfo(slot));
  return {
    ...base,
    label: info.label.trim(),
    serial: info.serialNumber.trim(),
    manufacturer: info.manufacturerID.trim(),
    model: info.model.trim(),
    firmware: version(info.firmwareVersion),
    hardware: version(info.hardwareVersion),
    flags: tokenFlags(info.flags),
    minPinLength: info.minPinLen,
    maxPinLength: info.maxPinLen,
  };
}

/** Every slot the module reports, with its token when one is present. */
export function listTokens(module: Pkcs11Module): TokenSummary[] {
  const slots = ckrCall({ operation: 'list slots' }, () => module.api.C_GetSlotList(false));
  return slots.map((slot) => readToken(module, slot));
}

/** What identifies the wanted token: its label, and any of serial/model/manufacturer. */
export interface TokenQuery extends TokenSelector {
  /** Empty: any label (the token is chosen by the other fields). */
  label: string;
}

export function describeTokenQuery(q: TokenQuery): string {
  const parts: string[] = [];
  if (q.label) parts.push(`labelled '${q.label}'`);
  if (q.serial !== undefined) parts.push(`with serial '${q.serial}'`);
  if (q.model !== undefined) parts.push(`of model '${q.model}'`);
  if (q.manufacturer !== undefined) parts.push(`made by '${q.manufacturer}'`);
  return parts.join(' ') || 'of any kind';
}

export function tokenMatches(t: TokenSummary, q: TokenQuery): boolean {
  return (q.label === '' || t.label === q.label)
    && (q.serial === undefined || t.serial === q.serial)
    && (q.model === undefined || t.model === q.model)
    && (q.manufacturer === undefined || t.manufacturer === q.manufacturer);
}

/**
 * Tokens are found by label (slot ids are not stable: SoftHSM assigns random ones), or by
 * serial/model where labels are not reliable (some modules rename them, e.g. OpenSC's
 * "label (UserPIN)"). A plain string is a label.
 */
export function findToken(module: Pkcs11Module, query: string | TokenQuery): TokenSummary {
  const q: TokenQuery = typeof query === 'string' ? { label: query } : query;
  const desc = describeTokenQuery(q);
  const tokens = listTokens(module).filter((t) => t.present);
  const matches = tokens.filter((t) => tokenMatches(t, q));
  if (matches.length === 1) return matches[0];
  if (matches.length > 1) {
    throw new KeyriteError('HSM_TOKEN_AMBIGUOUS', `${matches.length} tokens ${desc} are present (serials ${matches.map((t) => t.serial || '(none)').join(', ')}; labels ${matches.map((t) => `'${t.label}'`).join(', ')}). Name the token more exactly (a PKCS#11 URI with token= and serial=), or remove one before the ceremony.`, { details: { ...q } });
  }
  const known = tokens.map((t) => `'${t.label}' (serial ${t.serial || 'none'})`).join(', ') || 'none';
  throw new KeyriteError('HSM_TOKEN_NOT_FOUND', `No token ${desc} was found in module '${module.path}' (tokens present: ${known}). Insert the token or choose another one.`, { details: { ...q, present: tokens.map((t) => t.label) } });
}

/** PKCS#11 token labels are 32 bytes, blank-padded (CK_TOKEN_INFO.label, C_InitToken pLabel). */
export const TOKEN_LABEL_BYTES = 32;

/**
 * The label as C_InitToken must receive it: UTF-8, padded with spaces to 32 bytes. pkcs11js
 * passes the string as given, and modules read 32 bytes regardless (SoftHSM then stores NULs,
 * tpm2-pkcs11 refuses).
 */
export function padTokenLabel(label: string): string {
  const bytes = Buffer.byteLength(label, 'utf8');
  if (label.length === 0 || bytes > TOKEN_LABEL_BYTES) {
    throw new KeyriteError('HSM_TOKEN_LABEL_INVALID', `A token label must be 1 to ${TOKEN_LABEL_BYTES} bytes of UTF-8; '${label}' is ${bytes}. Choose a shorter label.`, { details: { label, bytes } });
  }
  if (label !== label.trimEnd()) {
    throw new KeyriteError('HSM_TOKEN_LABEL_INVALID', `The token label '${label}' ends in spaces, which PKCS#11 uses as padding: the token would report it without them. Remove the trailing spaces.`, { details: { label } });
  }
  return label + ' '.repeat(TOKEN_LABEL_BYTES - bytes);
}

/** Initialize the token in `slot` (C_InitToken) with a padded label. Destroys what the token held. */
export function initToken(module: Pkcs11Module, slot: Buffer, soPin: string, label: string): void {
  const padded = padTokenLabel(label);
  ckrCall({ operation: 'initialize the token', tokenLabel: label }, () => module.api.C_InitToken(slot, soPin, padded));
}

/** The PIN-counter flags, as a sentence for the "wrong PIN" message. */
export function pinAttemptsHint(flags: TokenFlags, user: 'user' | 'so'): string {
  const low = user === 'user' ? flags.userPinCountLow : flags.soPinCountLow;
  const finalTry = user === 'user' ? flags.userPinFinalTry : flags.soPinFinalTry;
  const locked = user === 'user' ? flags.userPinLocked : flags.soPinLocked;
  if (locked) return 'The PIN is now locked.';
  if (finalTry) return 'One attempt is left before the PIN locks.';
  if (low) return 'Few attempts are left before the PIN locks.';
  return 'The token does not report how many attempts are left; on most HSMs the PIN locks after a few wrong tries.';
}
