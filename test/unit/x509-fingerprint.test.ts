import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { colonHex, digestWords, fingerprintOf } from '../../src/core/x509/fingerprint';
import { toPem } from '../../src/core/x509/pem';

// A fixed P-256 SPKI (made once with `openssl ecparam -genkey` + `openssl ec -pubout -outform DER`).
const SPKI = Buffer.from('MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAELiNfNWiz9C9T11X4XrFH0bazZVogL8fqBn1UXYd8z/0hShDKjQm6uGKFo4ve20qjhK0jc+RnL3baMibuXY2fvA==', 'base64');

describe('fingerprint format (known answers)', () => {
  it('hex, colon hex and words of a fixed SPKI', () => {
    // hex and colonHex checked against `sha256sum` and `openssl dgst -sha256 -c`; words against an
    // independent Python reading of the BIP-39 English list (11-bit groups, most significant first).
    expect(fingerprintOf(SPKI)).toEqual({
      hex: '80a902b3dd60b97a92570fbe5bbb57984fed7da8fb10b73a1d69e13fd5a7a2b7',
      colonHex: '80:A9:02:B3:DD:60:B9:7A:92:57:0F:BE:5B:BB:57:98:4F:ED:7D:A8:FB:10:B7:3A:1D:69:E1:3F:D5:A7:A2:B7',
      words: ['level', 'elite', 'provide', 'river', 'argue', 'run'],
    });
  });

  it.each([
    { digest: '00'.repeat(32), words: ['abandon', 'abandon', 'abandon', 'abandon', 'abandon', 'abandon'] },
    { digest: 'ff'.repeat(32), words: ['zoo', 'zoo', 'zoo', 'zoo', 'zoo', 'zoo'] },
    // 0x002008… = 00000000001|00000000010|00…: word 0 = 1 ('ability'), word 1 = 2 ('able').
    { digest: '002008' + '00'.repeat(29), words: ['ability', 'able', 'abandon', 'abandon', 'abandon', 'abandon'] },
  ])('words for digest $digest', ({ digest, words }) => {
    expect(digestWords(Buffer.from(digest, 'hex'), 6)).toEqual(words);
  });

  it('one changed SPKI byte changes every form', () => {
    const other = Buffer.from(SPKI);
    other[other.length - 1] ^= 1;
    const a = fingerprintOf(SPKI);
    const b = fingerprintOf(other);
    expect(b.hex).not.toBe(a.hex);
    expect(b.words).not.toEqual(a.words);
  });

  it('the test vector in docs/formats.md matches the code', () => {
    const doc = readFileSync('docs/formats.md', 'utf8');
    const section = doc.slice(doc.indexOf('## Public keys and certificates'));
    const field = (name: string): string => new RegExp(`^${name} +(.+)$`, 'm').exec(section)![1].trim();
    const fp = fingerprintOf(Buffer.from(field('SPKI \\(base64\\)'), 'base64'));
    expect(fp.hex).toBe(field('hex'));
    expect(fp.colonHex).toBe(field('colonHex'));
    expect(fp.words.join(' ')).toBe(field('words'));
  });

  it('colonHex is uppercase pairs', () => {
    expect(colonHex(Buffer.from([0x0a, 0xbc, 0xff]))).toBe('0A:BC:FF');
  });

  it('PEM armour uses 64-character lines', () => {
    const pem = toPem(Buffer.alloc(100, 7), 'PUBLIC KEY');
    const lines = pem.trim().split('\n');
    expect(lines[0]).toBe('-----BEGIN PUBLIC KEY-----');
    expect(lines.at(-1)).toBe('-----END PUBLIC KEY-----');
    expect(lines.slice(1, -1).map((l) => l.length)).toEqual([64, 64, 8]);
  });
});
