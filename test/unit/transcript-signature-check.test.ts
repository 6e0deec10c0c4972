import { generateKeyPairSync, sign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { verifiedBefore, verifyTranscriptSignature } from '../../src/core/transcript/signature-check';

const pair = () => generateKeyPairSync('ec', { namedCurve: 'secp384r1' });
const signed = (text: string, privateKey: ReturnType<typeof pair>['privateKey']) => {
  const bytes = Buffer.from(text, 'utf8');
  return { bytes, signature: sign('sha384', bytes, { key: privateKey, dsaEncoding: 'der' }) };
};

describe('transcript signature check: only the exact triple that verified is known', () => {
  it('a triple is known once it verified, and not before', () => {
    const { publicKey, privateKey } = pair();
    const { bytes, signature } = signed('{"seq":1}\n', privateKey);
    expect(verifiedBefore(bytes, publicKey, signature)).toBe(false);
    expect(verifyTranscriptSignature(bytes, publicKey, signature)).toBe(true);
    expect(verifiedBefore(bytes, publicKey, signature)).toBe(true);
    // A copy of the same bytes (as read back from disk) is the same triple.
    expect(verifiedBefore(Buffer.from(bytes), publicKey, Buffer.from(signature))).toBe(true);
  });

  it('a changed byte, signature or key is checked for real and fails', () => {
    const { publicKey, privateKey } = pair();
    const { bytes, signature } = signed('{"seq":1,"x":"aaaa"}\n', privateKey);
    expect(verifyTranscriptSignature(bytes, publicKey, signature)).toBe(true);
    // Same length, one byte changed: the remembered length matches, the SHA-256 does not.
    const changed = Buffer.from(bytes);
    changed[changed.length - 4] ^= 0x01;
    expect(verifiedBefore(changed, publicKey, signature)).toBe(false);
    expect(verifyTranscriptSignature(changed, publicKey, signature)).toBe(false);
    const badSignature = Buffer.from(signature);
    badSignature[badSignature.length - 1] ^= 0x01;
    expect(verifiedBefore(bytes, publicKey, badSignature)).toBe(false);
    expect(verifyTranscriptSignature(bytes, publicKey, badSignature)).toBe(false);
    const other = pair().publicKey;
    expect(verifiedBefore(bytes, other, signature)).toBe(false);
    expect(verifyTranscriptSignature(bytes, other, signature)).toBe(false);
    // A failure is not remembered; the triple that verified still is.
    expect(verifiedBefore(bytes, publicKey, signature)).toBe(true);
  });

  it('a malformed signature is invalid, not an exception', () => {
    const { publicKey } = pair();
    expect(verifyTranscriptSignature(Buffer.from('x'), publicKey, Buffer.from('not DER'))).toBe(false);
  });

  it('only the last triple is remembered', () => {
    const { publicKey, privateKey } = pair();
    const a = signed('a\n', privateKey);
    const b = signed('b\n', privateKey);
    expect(verifyTranscriptSignature(a.bytes, publicKey, a.signature)).toBe(true);
    expect(verifyTranscriptSignature(b.bytes, publicKey, b.signature)).toBe(true);
    expect(verifiedBefore(a.bytes, publicKey, a.signature)).toBe(false);
    expect(verifiedBefore(b.bytes, publicKey, b.signature)).toBe(true);
  });
});
