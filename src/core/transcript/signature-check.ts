import { createHash, verify as nodeVerify, type KeyObject } from 'node:crypto';

/**
 * The ECDSA-SHA384 check of a transcript signature, remembering the last triple that verified in
 * this process. The seal checks the HSM's signature outside the HSM, writes the bundle from the
 * stored record (the same triple again) and then verifies the bundle as `keyrite verify` does (the
 * same triple read back from disk): the check is a pure function of the transcript bytes, the key
 * and the signature, so once that exact triple verified, its answer is known. Only the exact triple
 * counts — the transcript by its length and SHA-256, the key by its SPKI DER, the signature byte
 * for byte; anything else is checked.
 */
interface Verified {
  length: number;
  sha256: string;
  spkiDer: Buffer;
  signature: Buffer;
}
let last: Verified | null = null;

/** True when exactly this (transcript, key, signature) verified before in this process. */
export function verifiedBefore(bytes: Uint8Array, key: KeyObject, signature: Buffer): boolean {
  // Cheap comparisons first: the transcript is hashed only when everything else matches.
  if (!last || last.length !== bytes.length || !last.signature.equals(signature)) return false;
  if (!last.spkiDer.equals(spkiDerOf(key))) return false;
  return createHash('sha256').update(bytes).digest('hex') === last.sha256;
}

/** The signature check itself (a malformed signature is just invalid); a pass is remembered. */
export function verifyTranscriptSignature(bytes: Uint8Array, key: KeyObject, signature: Buffer): boolean {
  if (verifiedBefore(bytes, key, signature)) return true;
  let ok: boolean;
  try {
    ok = nodeVerify('sha384', bytes, { key, dsaEncoding: 'der' }, signature);
  } catch {
    ok = false;
  }
  if (ok) rememberVerified(bytes, key, signature);
  return ok;
}

function rememberVerified(bytes: Uint8Array, key: KeyObject, signature: Buffer): void {
  last = { length: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex'), spkiDer: spkiDerOf(key), signature: Buffer.from(signature) };
}

function spkiDerOf(key: KeyObject): Buffer {
  return key.export({ type: 'spki', format: 'der' });
}
