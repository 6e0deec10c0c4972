import { wordlist } from '@scure/bip39/wordlists/english.js';
import { spkiFingerprint } from '../hsm/public-key';
import { bytesToElevenBits } from '../text/eleven-bit';

/**
 * A public key's identity as people compare it: SHA-256 of the SPKI DER.
 * `hex` is lowercase without separators (as in backup files and events), `colonHex` is uppercase
 * with colons (as `openssl x509 -fingerprint` and most HSM tools print), `words` is the short
 * read-aloud form described in docs/formats.md ("Public keys and certificates").
 */
export interface Fingerprint {
  hex: string;
  colonHex: string;
  words: string[];
}

/** Six BIP-39 words carry the first 66 bits of the digest: enough to catch a swapped key by voice. */
export const FINGERPRINT_WORD_COUNT = 6;

export function fingerprintFromHex(hex: string): Fingerprint {
  const digest = Buffer.from(hex, 'hex');
  return { hex, colonHex: colonHex(digest), words: digestWords(digest, FINGERPRINT_WORD_COUNT) };
}

export function fingerprintOf(spkiDer: Buffer): Fingerprint {
  return fingerprintFromHex(spkiFingerprint(spkiDer));
}

export function colonHex(bytes: Buffer): string {
  return (bytes.toString('hex').toUpperCase().match(/../g) ?? []).join(':');
}

/** Word i is the big-endian 11-bit group starting at bit 11·i of the digest (BIP-39 English list). */
export function digestWords(digest: Buffer, count: number): string[] {
  return bytesToElevenBits(digest).slice(0, count).map((g) => wordlist[g]);
}
