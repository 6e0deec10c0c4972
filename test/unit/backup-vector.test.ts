import { execFileSync } from 'node:child_process';
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { derSequenceLength, rfc5649PlaintextRange, rfc5649Unwrap, rfc5649Wrap } from '../../src/core/backup/rfc5649';
import { checkWrappedKey, normalizeWrappedKey, pkcs8LengthFits } from '../../src/core/backup/wrap-format';
import { spkiFingerprint } from '../../src/core/hsm/public-key';
import fc from 'fast-check';

// The backup test vector of docs/formats.md ("Backup file", "Test vector"): RFC 6979 A.2.5's
// P-256 key as PKCS#8, wrapped with RFC 5649 under the KEK 00..1f.
const KEK = Buffer.from('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f', 'hex');
const PKCS8 = Buffer.from('308187020100301306072a8648ce3d020106082a8648ce3d030107046d306b0201010420c9afa9d845ba75166b5c215767b1d6934e50c3db36e89b127b8a622b120f6721a1440342000460fed4ba255a9d31c961eb74c6356d68c049b8923b61fa6ce669622e60f29fb67903fe1008b8bc99a41ae9e95628bc64f2f1b20c2d7e9f5177a3c294d4462299', 'hex');
const WRAPPED = 'AExTOTqsJNDt11uLLDT4SCk442kDjijNCleQ5ymeLXc30GfaBfu4mnksM9HTVl2lu9Im9y/k8OPnVAXyOw70DuMq1wx5YgEAX4rBk6IT5B/hAXKnYStdB9klvzxtTXjOFA9Ehdj9NolGqv1dfwFa4M/uouBg/s7aP92GAWMrmJuOjqnjUapbqlyGa8UOIb4+ZMpC8jj35GQ=';
const SPKI_SHA256 = '5a7a78cca4a0f420d9bc62bb669c3c2759e39f723d3ae10dcbe0f0815a07ecd4';

describe('backup test vector (docs/formats.md)', () => {
  it('is printed in docs/formats.md exactly as tested here', () => {
    const doc = readFileSync(path.resolve(__dirname, '../../docs/formats.md'), 'utf8');
    for (const v of [KEK.toString('hex'), PKCS8.toString('hex'), WRAPPED, SPKI_SHA256]) expect(doc).toContain(v);
  });

  it('Keyrite wraps the PKCS#8 to exactly the documented blob (RFC 5649 is deterministic)', () => {
    expect(rfc5649Wrap(KEK, PKCS8).toString('base64')).toBe(WRAPPED);
    expect(rfc5649Unwrap(KEK, Buffer.from(WRAPPED, 'base64'))).toEqual(PKCS8);
    expect(derSequenceLength(PKCS8)).toBe(138);
    expect(spkiFingerprint(createPublicKey(createPrivateKey({ key: PKCS8, format: 'der', type: 'pkcs8' })).export({ type: 'spki', format: 'der' }))).toBe(SPKI_SHA256);
  });

  it('plain openssl recovers it with the documented command, to the PKCS#8 and nothing after', () => {
    const out = execFileSync('openssl', ['enc', '-d', '-id-aes256-wrap-pad', '-K', KEK.toString('hex'), '-iv', 'A65959A6'], { input: Buffer.from(WRAPPED, 'base64') });
    expect(out).toEqual(PKCS8);
  });

  it('Python cryptography recovers the same private key', () => {
    const py = 'import sys,base64\nfrom cryptography.hazmat.primitives.keywrap import aes_key_unwrap_with_padding\nfrom cryptography.hazmat.primitives.serialization import load_der_private_key\nk=load_der_private_key(aes_key_unwrap_with_padding(bytes(range(32)), base64.b64decode(sys.argv[1])), None)\nprint(hex(k.private_numbers().private_value))';
    expect(execFileSync('python3', ['-c', py, WRAPPED]).toString().trim()).toBe('0xc9afa9d845ba75166b5c215767b1d6934e50c3db36e89b127b8a622b120f6721');
  });

  it('a damaged blob or a wrong KEK fails the integrity check with a coded error', () => {
    const blob = Buffer.from(WRAPPED, 'base64');
    blob[20] ^= 1;
    expect(() => checkWrappedKey(KEK, { keyId: 'v', wrappedKey: blob.toString('base64'), pkcs8Length: 138 })).toThrow(expect.objectContaining({ code: 'BACKUP_WRAPPED_KEY_DAMAGED' }));
    const wrongKek = Buffer.from(KEK);
    wrongKek[0] ^= 1;
    expect(() => checkWrappedKey(wrongKek, { keyId: 'v', wrappedKey: WRAPPED, pkcs8Length: 138 })).toThrow(expect.objectContaining({ code: 'BACKUP_WRAPPED_KEY_DAMAGED' }));
    expect(() => checkWrappedKey(KEK, { keyId: 'v', wrappedKey: WRAPPED, pkcs8Length: 138 })).not.toThrow();
  });
});

describe('RFC 5649 blob normalisation (property, seeded)', () => {
  it('any DER SEQUENCE followed by zero padding normalises to exactly the DER; the length always fits the blob', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 3, maxLength: 600 }), fc.integer({ min: 0, max: 15 }), (body, pad) => {
        const inner = Buffer.concat([Buffer.from([0x02, 0x01, 0x00]), Buffer.from(body)]);
        const len = inner.length;
        const header = len < 0x80 ? Buffer.from([0x30, len]) : len < 0x100 ? Buffer.from([0x30, 0x81, len]) : Buffer.from([0x30, 0x82, len >> 8, len & 0xff]);
        const der = Buffer.concat([header, inner]);
        const blob = rfc5649Wrap(KEK, Buffer.concat([der, Buffer.alloc(pad)]));
        const n = normalizeWrappedKey(KEK, blob, 'CKM_AES_KEY_WRAP_PAD');
        expect(n.pkcs8Length).toBe(der.length);
        expect(n.trimmedBytes).toBe(pad);
        expect(rfc5649Unwrap(KEK, n.wrapped)).toEqual(der);
        expect(pkcs8LengthFits(n.wrapped.length, der.length)).toBe(true);
        const r = rfc5649PlaintextRange(n.wrapped.length);
        expect(der.length).toBeGreaterThanOrEqual(r.min);
      }),
      { seed: 5649, numRuns: 200 },
    );
  });

  it('refuses what is not RFC 5649 (an RFC 3394 + PKCS#7 blob, as NSS makes with 0x210A) and what is not PKCS#8', () => {
    const c = execFileSync('openssl', ['enc', '-id-aes256-wrap', '-K', KEK.toString('hex'), '-iv', 'A6A6A6A6A6A6A6A6'], { input: Buffer.concat([PKCS8, Buffer.alloc(6, 6)]) });
    expect(() => normalizeWrappedKey(KEK, c, 'CKM_AES_KEY_WRAP_PAD')).toThrow(expect.objectContaining({ code: 'BACKUP_WRAP_NOT_RFC5649' }));
    expect(() => normalizeWrappedKey(KEK, rfc5649Wrap(KEK, Buffer.from('not a key at all')), 'CKM_AES_KEY_WRAP_KWP')).toThrow(expect.objectContaining({ code: 'BACKUP_WRAP_NOT_PKCS8' }));
  });
});
