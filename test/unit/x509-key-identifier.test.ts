import 'reflect-metadata';
import { SubjectKeyIdentifierExtension } from '@peculiar/x509';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { nodeCrypto } from '../../src/core/x509/hsm-crypto';
import { keyIdentifier } from '../../src/core/x509/key-identifier';

const spki = (key: ReturnType<typeof generateKeyPairSync>['publicKey']): Buffer => key.export({ type: 'spki', format: 'der' });

// A fixed P-256 SPKI (test/unit/x509-fingerprint.test.ts): it ends with its 65-byte uncompressed point.
const FIXED = Buffer.from('MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAELiNfNWiz9C9T11X4XrFH0bazZVogL8fqBn1UXYd8z/0hShDKjQm6uGKFo4ve20qjhK0jc+RnL3baMibuXY2fvA==', 'base64');

describe('keyIdentifier: RFC 5280 method 1, as @peculiar/x509 computes it', () => {
  it('a fixed SPKI: SHA-1 of the point without the BIT STRING header', () => {
    expect(keyIdentifier(FIXED)).toBe(createHash('sha1').update(FIXED.subarray(FIXED.length - 65)).digest('hex'));
  });

  it.each([
    { name: 'EC P-256', make: () => generateKeyPairSync('ec', { namedCurve: 'prime256v1' }) },
    { name: 'EC P-384', make: () => generateKeyPairSync('ec', { namedCurve: 'secp384r1' }) },
    { name: 'EC P-521', make: () => generateKeyPairSync('ec', { namedCurve: 'secp521r1' }) },
    { name: 'RSA 2048', make: () => generateKeyPairSync('rsa', { modulusLength: 2048 }) },
    { name: 'RSA 4096', make: () => generateKeyPairSync('rsa', { modulusLength: 4096 }) },
  ])('$name: the same identifier as SubjectKeyIdentifierExtension.create', async ({ make }) => {
    const der = spki(make().publicKey);
    const theirs = (await SubjectKeyIdentifierExtension.create(der, false, nodeCrypto)).keyId;
    expect(keyIdentifier(der)).toBe(theirs);
    expect(new SubjectKeyIdentifierExtension(keyIdentifier(der), false).rawData).toEqual((await SubjectKeyIdentifierExtension.create(der, false, nodeCrypto)).rawData);
  });

  const good = spki(generateKeyPairSync('ec', { namedCurve: 'secp384r1' }).publicKey);
  const withByte = (at: number, value: number): Buffer => {
    const b = Buffer.from(good);
    b[at] = value;
    return b;
  };
  const bitsAt = good.length - 97 - 1; // P-384: BIT STRING content is 1 + 97 bytes, at the end
  it.each([
    { name: 'trailing bytes', der: Buffer.concat([good, Buffer.from([0])]) },
    { name: 'cut short', der: good.subarray(0, good.length - 1) },
    { name: 'not a SEQUENCE', der: withByte(0, 0x31) },
    { name: 'subjectPublicKey not a BIT STRING', der: withByte(bitsAt - 2, 0x04) },
    { name: 'unused bits in the key', der: withByte(bitsAt, 0x01) },
    { name: 'empty', der: Buffer.alloc(0) },
  ])('refuses a malformed SPKI: $name', ({ der }) => {
    expect(() => keyIdentifier(der)).toThrow(expect.objectContaining({ code: 'INTERNAL_UNREACHABLE' }));
  });
});
