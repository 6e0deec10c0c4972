import type { P11 } from '../hsm/pkcs11js';
import { KeyriteError, zeroize } from '../errors';
import { WRAP_MECHANISMS, type WrapMechanismName } from '../hsm/profile';
import type { HsmSession } from '../hsm/session';
import { derSequenceLength, rfc5649PlaintextRange, rfc5649Unwrap, rfc5649Wrap } from './rfc5649';

/** The one backup blob format: RFC 5649 over exact DER PKCS#8 (docs/formats.md). */
export const WRAP_FORMAT = 'rfc5649';

export interface WrapMechanismChoice {
  name: WrapMechanismName;
  mechanism: P11.Mechanism;
}

/**
 * The mechanism that yields RFC 5649 on this session's module: the first of its profile's
 * `rfc5649Mechanisms` the token offers. CKM_AES_KEY_WRAP_PAD is used only where the profile says
 * the module emits RFC 5649 with it (SoftHSM); on others it is RFC 3394 + PKCS#7 padding.
 */
export function rfc5649Mechanism(session: HsmSession, purpose: string): WrapMechanismChoice {
  const profile = session.module.profile;
  const offered = new Set(session.mechanisms());
  const name = profile.rfc5649Mechanisms.find((n) => offered.has(WRAP_MECHANISMS[n]));
  if (name) return { name, mechanism: { mechanism: WRAP_MECHANISMS[name] } };
  const padOnly = offered.has(WRAP_MECHANISMS.CKM_AES_KEY_WRAP_PAD) && !profile.rfc5649Mechanisms.includes('CKM_AES_KEY_WRAP_PAD');
  throw new KeyriteError('HSM_MECHANISM_UNSUPPORTED', `Token '${session.token.label}' offers none of ${profile.rfc5649Mechanisms.join(', ')}, which Keyrite needs to ${purpose} in the standard RFC 5649 format.${padOnly ? ' It offers CKM_AES_KEY_WRAP_PAD, but on this module (profile ' + profile.name + ') that mechanism is not known to produce RFC 5649; if it does, say so in its profile (resources/hsm-profiles).' : ''} Use an HSM that offers CKM_AES_KEY_WRAP_KWP.`, {
    details: { mechanism: profile.rfc5649Mechanisms.join(' | '), profile: profile.name },
  });
}

export interface CheckedBlob {
  /** RFC 5649 over exactly `pkcs8Length` bytes of DER PKCS#8. */
  wrapped: Buffer;
  pkcs8Length: number;
  /** Zero bytes the module had appended after the PKCS#8 (SoftHSM), removed by re-wrapping. */
  trimmedBytes: number;
}

/**
 * Check, with the KEK Keyrite holds anyway while it splits it, that the module's blob really is
 * RFC 5649 over DER PKCS#8. Some modules (SoftHSM) wrap PKCS#8 followed by zero bytes up to a
 * multiple of 8; strict parsers (Python `cryptography`) reject that, so the exact DER is wrapped
 * again, under the same KEK, with the same algorithm. The plaintext is zeroized at once; the
 * immediate backup check then unwraps the result in the HSM and proves the key's identity.
 */
export function normalizeWrappedKey(kek: Uint8Array, moduleBlob: Buffer, mechanism: WrapMechanismName): CheckedBlob {
  let plain: Buffer | undefined;
  try {
    try {
      plain = rfc5649Unwrap(kek, moduleBlob);
    } catch (e) {
      throw new KeyriteError('BACKUP_WRAP_NOT_RFC5649', `The HSM wrapped the key with ${mechanism}, but the result is not RFC 5649 (its integrity check fails under the KEK). This module's profile names the wrong mechanism: nothing was written. Correct resources/hsm-profiles for this module (see docs/hsm-notes.md).`, { details: { mechanism }, cause: e });
    }
    const length = pkcs8LengthOf(plain);
    if (length === plain.length) return { wrapped: moduleBlob, pkcs8Length: length, trimmedBytes: 0 };
    if (!plain.subarray(length).every((b) => b === 0)) {
      throw new KeyriteError('BACKUP_WRAP_TRAILING_BYTES', `The HSM wrapped the key as PKCS#8 followed by ${plain.length - length} bytes that are not zero padding. Keyrite does not know what they are and wrote nothing. Report this module's behaviour (docs/hsm-notes.md).`, { details: { mechanism, pkcs8Length: length, plaintextLength: plain.length } });
    }
    return { wrapped: rfc5649Wrap(kek, plain.subarray(0, length)), pkcs8Length: length, trimmedBytes: plain.length - length };
  } finally {
    zeroize(plain);
  }
}

/**
 * Before a restore: the blob must unwrap under the KEK to exactly `pkcs8Length` bytes of DER
 * PKCS#8. Backups of format version 1 recorded no length; theirs is taken from the DER and only
 * zero bytes may follow it (SoftHSM's padding).
 */
export function checkWrappedKey(kek: Uint8Array, backup: { keyId: string; wrappedKey: string; pkcs8Length?: number }): void {
  const blob = Buffer.from(backup.wrappedKey, 'base64');
  let plain: Buffer | undefined;
  try {
    try {
      plain = rfc5649Unwrap(kek, blob);
    } catch (e) {
      throw new KeyriteError('BACKUP_WRAPPED_KEY_DAMAGED', `The wrapped key in backup '${backup.keyId}' fails its RFC 5649 integrity check, although the KEK is right (its check value matched): the wrapped key in the file is damaged or was altered. Nothing was unwrapped; use another copy of the backup file.`, { details: { keyId: backup.keyId }, cause: e });
    }
    const length = pkcs8LengthOf(plain, backup.keyId);
    if (backup.pkcs8Length !== undefined && (length !== backup.pkcs8Length || plain.length !== length)) {
      throw new KeyriteError('BACKUP_PKCS8_LENGTH', `The wrapped key in backup '${backup.keyId}' unwraps to ${plain.length} bytes holding ${length} bytes of PKCS#8, but the backup records exactly ${backup.pkcs8Length}. Keyrite does not restore a blob that is not exactly the recorded key; use another copy of the backup file.`, { details: { keyId: backup.keyId, recorded: backup.pkcs8Length, plaintextLength: plain.length, derLength: length } });
    }
    if (backup.pkcs8Length === undefined && !plain.subarray(length).every((b) => b === 0)) {
      throw new KeyriteError('BACKUP_PKCS8_LENGTH', `The wrapped key in backup '${backup.keyId}' holds bytes after its PKCS#8 that are not zero padding. Use another copy of the backup file.`, { details: { keyId: backup.keyId, plaintextLength: plain.length, derLength: length } });
    }
  } finally {
    zeroize(plain);
  }
}

/** Cross-field check for a backup file: an RFC 5649 blob of this size carries this many bytes. */
export function pkcs8LengthFits(wrappedLength: number, pkcs8Length: number): boolean {
  const r = rfc5649PlaintextRange(wrappedLength);
  return wrappedLength % 8 === 0 && pkcs8Length >= r.min && pkcs8Length <= r.max;
}

function pkcs8LengthOf(plain: Buffer, keyId?: string): number {
  const length = derSequenceLength(plain);
  // PrivateKeyInfo ::= SEQUENCE { version INTEGER, privateKeyAlgorithm AlgorithmIdentifier, ... }
  const header = length === null ? 0 : plain[1] < 0x80 ? 2 : 2 + (plain[1] & 0x7f);
  if (length === null || length > plain.length || plain[header] !== 0x02) {
    throw new KeyriteError('BACKUP_WRAP_NOT_PKCS8', `The ${keyId ? `wrapped key in backup '${keyId}'` : 'key the HSM wrapped'} is not DER PKCS#8 once unwrapped. Keyrite does not call it a backup${keyId ? '; use another copy of the backup file' : ': nothing was written'}.`, { details: { keyId: keyId ?? null, plaintextLength: plain.length } });
  }
  return length;
}
