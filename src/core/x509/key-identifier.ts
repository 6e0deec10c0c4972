import { createHash } from 'node:crypto';
import { KeyriteError } from '../errors';

/**
 * A key identifier as RFC 5280 §4.2.1.2 method 1 defines it (and @peculiar/x509's
 * SubjectKeyIdentifierExtension.create computes it): the SHA-1 of the SPKI's subjectPublicKey BIT
 * STRING, without its tag, length and unused-bits byte. Lowercase hex, as the extensions take it.
 * Computed here with node:crypto on this thread: the library's way parses the SPKI with asn1js and
 * hashes through WebCrypto, a trip through libuv's pool each time, and a certificate needs it three
 * times (its own key, the issuer's, the lint's expectation) (issue #18).
 */
export function keyIdentifier(spkiDer: Uint8Array): string {
  return createHash('sha1').update(subjectPublicKeyBits(spkiDer)).digest('hex');
}

/** The subjectPublicKey bits of SubjectPublicKeyInfo ::= SEQUENCE { algorithm SEQUENCE, subjectPublicKey BIT STRING }. */
function subjectPublicKeyBits(der: Uint8Array): Uint8Array {
  const spki = tlv(der, 0, 0x30);
  if (spki.end !== der.length) throw notSpki('bytes follow the SubjectPublicKeyInfo');
  const algorithm = tlv(der, spki.start, 0x30);
  const bits = tlv(der, algorithm.end, 0x03);
  if (bits.end !== spki.end) throw notSpki('something follows the subjectPublicKey');
  // A key is whole bytes: the first content byte (the count of unused bits) must be 0.
  if (bits.start >= bits.end || der[bits.start] !== 0) throw notSpki('the subjectPublicKey is not whole bytes');
  return der.subarray(bits.start + 1, bits.end);
}

/** One DER tag-length-value at `at` with the expected tag: where its content starts and ends. */
function tlv(der: Uint8Array, at: number, tag: number): { start: number; end: number } {
  if (at + 2 > der.length || der[at] !== tag) throw notSpki(`expected tag 0x${tag.toString(16)} at byte ${at}`);
  let length = der[at + 1];
  let start = at + 2;
  if (length & 0x80) {
    const count = length & 0x7f;
    // DER: the long form only for 128 and up, with no leading zero byte; 4 bytes are plenty for a key.
    if (count === 0 || count > 4 || start + count > der.length || der[start] === 0) throw notSpki(`bad length at byte ${at}`);
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + der[start + i];
    if (length < 0x80) throw notSpki(`bad length at byte ${at}`);
    start += count;
  }
  const end = start + length;
  if (end > der.length) throw notSpki(`the element at byte ${at} runs past the end`);
  return { start, end };
}

function notSpki(why: string): KeyriteError {
  // Keyrite builds every SPKI it certifies from the token's key: a malformed one is Keyrite's bug.
  return new KeyriteError('INTERNAL_UNREACHABLE', `Unexpected public key: it is not a DER SubjectPublicKeyInfo (${why}), so its key identifier cannot be computed.`, { details: { why } });
}
