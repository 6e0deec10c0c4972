import { createCipheriv, createDecipheriv } from 'node:crypto';
import { zeroize } from '../errors';

/**
 * RFC 5649 (AES key wrap with padding) in Node's OpenSSL, the same algorithm an outsider runs
 * with `openssl enc -id-aes256-wrap-pad -iv A65959A6` or Python's
 * `cryptography.hazmat.primitives.keywrap.aes_key_unwrap_with_padding`. Keyrite uses it only
 * while it holds the KEK anyway (backup and restore), to check that what the HSM wrote is
 * standard RFC 5649 over exact DER PKCS#8.
 */
const ALTERNATIVE_IV = Buffer.from('a65959a6', 'hex');
const CIPHER = 'id-aes256-wrap-pad';

/** Unwrap; throws when the integrity check fails (wrong KEK, damaged blob, or not RFC 5649). */
export function rfc5649Unwrap(kek: Uint8Array, wrapped: Uint8Array): Buffer {
  const d = createDecipheriv(CIPHER, kek, ALTERNATIVE_IV);
  const a = d.update(wrapped);
  const b = d.final();
  const out = Buffer.concat([a, b]);
  zeroize(a, b);
  return out;
}

export function rfc5649Wrap(kek: Uint8Array, plaintext: Uint8Array): Buffer {
  const c = createCipheriv(CIPHER, kek, ALTERNATIVE_IV);
  return Buffer.concat([c.update(plaintext), c.final()]);
}

/** The range of plaintext lengths a blob of `wrappedLength` bytes can carry (RFC 5649 §4.1). */
export function rfc5649PlaintextRange(wrappedLength: number): { min: number; max: number } {
  return { min: Math.max(1, wrappedLength - 15), max: wrappedLength - 8 };
}

/**
 * Length of the DER value that starts `der` (tag, length, contents), or null when it does not
 * start with a definite-length SEQUENCE — PKCS#8 PrivateKeyInfo is one.
 */
export function derSequenceLength(der: Uint8Array): number | null {
  if (der.length < 2 || der[0] !== 0x30) return null;
  const first = der[1];
  if (first < 0x80) return 2 + first;
  const n = first & 0x7f;
  if (n === 0 || n > 4 || der.length < 2 + n) return null; // 0x80 = indefinite length: not DER
  let len = 0;
  for (let i = 0; i < n; i++) len = len * 256 + der[2 + i];
  if (len < 0x80 || (n > 1 && der[2] === 0)) return null; // not the shortest form: not DER
  return 2 + n + len;
}
