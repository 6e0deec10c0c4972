import { pkcs11js } from './pkcs11js';
import { KeyriteError } from '../errors';
import { ckrCall } from './ckr';
import type { Pkcs11Module } from './pkcs11-module';

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

/** Tokens are found by label: slot ids are not stable (SoftHSM assigns random ones). */
export function findToken(module: Pkcs11Module, label: string): TokenSummary {
  const tokens = listTokens(module).filter((t) => t.present);
  const matches = tokens.filter((t) => t.label === label);
  if (matches.length === 1) return matches[0];
  if (matches.length > 1) {
    throw new KeyriteError('HSM_TOKEN_AMBIGUOUS', `${matches.length} tokens are labelled '${label}' (serials ${matches.map((t) => t.serial).join(', ')}). Relabel one of them or remove it before the ceremony.`, { details: { label } });
  }
  const known = tokens.map((t) => `'${t.label}'`).join(', ') || 'none';
  throw new KeyriteError('HSM_TOKEN_NOT_FOUND', `No token labelled '${label}' was found in module '${module.path}' (tokens present: ${known}). Insert the token or choose another label.`, { details: { label, present: tokens.map((t) => t.label) } });
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
