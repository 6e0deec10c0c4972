import { createHash, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { PublicKeyInfo } from '../../src/core/hsm/public-key';
import { loadPolicy } from '../../src/core/policy';
import { lintBeforeSigning, type CertificatePlan } from '../../src/core/x509/lint';
import { CA_EXTENSIONS } from '../../src/core/x509/profile';

// Real keys made by Node stand in for token keys: the pre-signing lint only reads public keys.
function info(keyObject: KeyObject, algorithm: 'rsa' | 'ec', bits: number, curve?: 'P-256' | 'P-384' | 'P-521'): PublicKeyInfo {
  const spkiDer = keyObject.export({ type: 'spki', format: 'der' });
  return { algorithm, bits, curve, keyObject, spkiDer, fingerprint: createHash('sha256').update(spkiDer).digest('hex') };
}
const ec384 = info(generateKeyPairSync('ec', { namedCurve: 'secp384r1' }).publicKey, 'ec', 384, 'P-384');
const ec256 = info(generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey, 'ec', 256, 'P-256');
const policy = loadPolicy();
const notBefore = new Date('2030-01-01T00:00:00Z');

function plan(change: Partial<CertificatePlan> = {}): CertificatePlan {
  return {
    kind: 'root',
    purpose: 'root-signing',
    subjectKey: ec384,
    issuerKey: ec384,
    issuerPurpose: 'root-signing',
    algorithm: { scheme: 'ecdsa', hash: 'SHA-384' },
    notBefore,
    notAfter: new Date(notBefore.getTime() + 3650 * 86_400_000),
    serial: Buffer.from('1122334455667788990011223344556677', 'hex').subarray(0, 16),
    extensions: CA_EXTENSIONS,
    ...change,
  };
}

describe('lint before signing', () => {
  it('a good plan passes and lists the rules checked', () => {
    const lines = lintBeforeSigning(plan(), policy);
    for (const rule of ['x509.validity.order', 'validity.max', 'sig.hash.forbidden', 'key.ec.curve', 'x509.serial.entropy', 'x509.basic-constraints.critical', 'x509.key-usage.critical']) {
      expect(lines).toContain(`${rule}: ok`);
    }
  });

  it('a policy warning is reported, not thrown (P-256 allowed, P-384 recommended)', () => {
    const lines = lintBeforeSigning(plan({ subjectKey: ec256, issuerKey: ec256, algorithm: { scheme: 'ecdsa', hash: 'SHA-256' } }), policy);
    expect(lines.some((l) => l.startsWith('key.ec.recommended-curve: warning:'))).toBe(true);
  });

  it.each([
    { name: 'notAfter = notBefore', change: { notAfter: notBefore }, code: 'X509_VALIDITY_INVALID', rule: 'x509.validity.order' },
    { name: 'SHA-1', change: { algorithm: { scheme: 'ecdsa' as const, hash: 'SHA-1' as const } }, code: 'POLICY_VIOLATION', rule: 'sig.hash.forbidden' },
    { name: 'validity over the policy', change: { notAfter: new Date(notBefore.getTime() + 9132 * 86_400_000) }, code: 'POLICY_VIOLATION', rule: 'validity.max' },
    { name: 'a negative serial', change: { serial: Buffer.from('ff11223344556677889900aabbccddee', 'hex') }, code: 'CERT_LINT_FAILED', rule: 'x509.serial.positive' },
    { name: 'a zero serial', change: { serial: Buffer.alloc(16) }, code: 'CERT_LINT_FAILED', rule: 'x509.serial.positive' },
    { name: 'a 64-bit-or-less serial', change: { serial: Buffer.from('0102030405060708', 'hex') }, code: 'CERT_LINT_FAILED', rule: 'x509.serial.entropy' },
    { name: 'a 21-octet serial', change: { serial: Buffer.alloc(21, 1) }, code: 'CERT_LINT_FAILED', rule: 'x509.serial.entropy' },
    { name: 'a negative pathLength', change: { pathLength: -1 }, code: 'CERT_LINT_FAILED', rule: 'x509.path-length' },
    { name: 'no AKI', change: { extensions: { ...CA_EXTENSIONS, authorityKeyIdentifier: false } }, code: 'CERT_LINT_FAILED', rule: 'x509.authority-key-identifier' },
    { name: 'an issuer certificate that is not a CA', change: { kind: 'cross' as const, subjectKey: ec256, issuerCertificate: { ca: false, keyCertSign: true, notAfter: new Date('2060-01-01') } }, code: 'CERT_LINT_FAILED', rule: 'x509.issuer.ca' },
  ])('$name → $code ($rule)', ({ change, code, rule }) => {
    expect(() => lintBeforeSigning(plan(change), policy)).toThrow(expect.objectContaining({ code, details: expect.objectContaining({ rule }) }));
  });

  it('a cross-certificate that outlives its issuer gets a warning', () => {
    const lines = lintBeforeSigning(plan({ kind: 'cross', subjectKey: ec256, issuerCertificate: { ca: true, keyCertSign: true, notAfter: new Date('2031-01-01') } }), policy);
    expect(lines.some((l) => l.startsWith('x509.issuer.validity: warning:'))).toBe(true);
  });
});
