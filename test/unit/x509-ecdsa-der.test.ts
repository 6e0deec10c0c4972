import { AsnEcSignatureFormatter } from '@peculiar/x509';
import { generateKeyPairSync, sign, verify } from 'node:crypto';
import { describe, expect, it } from 'vitest';

// Keyrite relies on @peculiar/x509's formatter to turn the raw r||s CKM_ECDSA returns into the
// DER ECDSA-Sig-Value X.509 needs. These known answers pin its behaviour on the edge cases:
// a high bit that needs a 0x00 pad, leading zeros that must be dropped, long-form lengths.
const formatter = new AsnEcSignatureFormatter();
const toDer = (curve: string, raw: Buffer): Buffer => Buffer.from(formatter.toAsnSignature({ name: 'ECDSA', namedCurve: curve } as never, raw)!);

describe('raw r||s → DER (known answers)', () => {
  it('P-256: r with the high bit set gains a 0x00; s with a leading zero loses it', () => {
    const raw = Buffer.from('80' + '11'.repeat(31) + '007f' + '22'.repeat(30), 'hex');
    expect(toDer('P-256', raw).toString('hex')).toBe('3044' + '0221' + '0080' + '11'.repeat(31) + '021f' + '7f' + '22'.repeat(30));
  });

  it('P-521: 66-byte halves and a long-form SEQUENCE length', () => {
    const raw = Buffer.from('01' + 'ff'.repeat(65) + '0000' + 'ab'.repeat(64), 'hex');
    expect(toDer('P-521', raw).toString('hex')).toBe('308187' + '0242' + '01' + 'ff'.repeat(65) + '0241' + '00' + 'ab'.repeat(64));
  });

  it.each([
    ['P-256', 'prime256v1', 'sha256'],
    ['P-384', 'secp384r1', 'sha384'],
    ['P-521', 'secp521r1', 'sha512'],
  ])('%s: a raw signature converted to DER verifies with OpenSSL (via Node) as DER', (curve, namedCurve, hash) => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve });
    for (let i = 0; i < 20; i++) {
      const data = Buffer.from(`message ${i}`);
      const raw = sign(hash, data, { key: privateKey, dsaEncoding: 'ieee-p1363' });
      expect(verify(hash, data, { key: publicKey, dsaEncoding: 'der' }, toDer(curve, raw))).toBe(true);
    }
  });
});
