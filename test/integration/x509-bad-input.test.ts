import { X509Certificate as NodeX509Certificate } from 'node:crypto';
import { SubjectKeyIdentifierExtension } from '@peculiar/x509';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectHsm, type HsmConnection } from '../../src/core/hsm/connect';
import { generateKeyPair, keyPairTemplates } from '../../src/core/hsm/keygen';
import { parseKeyType, type KeySpec } from '../../src/core/hsm/key-spec';
import { loadPolicy } from '../../src/core/policy';
import {
  exportPublicKey,
  issueCrossCertificate,
  issueCsr,
  issueRootCertificate,
  loadCertProfile,
  type CertProfile,
  type SignatureEvent,
} from '../../src/core/x509';
import { lintAfterSigning, type CertificatePlan } from '../../src/core/x509/lint';
import { findSigningKey } from '../../src/core/x509/public-key';
import { nodeCrypto } from '../../src/core/x509/hsm-crypto';
import { subjectToName, parseSubject } from '../../src/core/x509/subject';
import { createTestHsm } from '../helpers/softhsm';

const hsm = createTestHsm(['x509-bad']);
let conn: HsmConnection;

beforeAll(() => {
  conn = connectHsm(hsm.config('x509-bad'));
  conn.session.login(hsm.userPin);
  generateKeyPair(conn.session, { spec: parseKeyType('ec-p384'), label: 'good' });
  generateKeyPair(conn.session, { spec: parseKeyType('ec-p256'), label: 'other' });
  generateKeyPair(conn.session, { spec: parseKeyType('rsa-2048'), label: 'rsa2048' });
  generateKeyPair(conn.session, { spec: parseKeyType('rsa-3072'), label: 'rsa3072' });
  // A public key whose private half is not in the token (as after importing someone's public key).
  const half = generateKeyPair(conn.session, { spec: parseKeyType('ec-p256'), label: 'public-only' });
  conn.session.destroy(half.privateKey);
  // RSA-1024: Keyrite never generates it, so make it with the raw templates to prove the policy refuses it.
  const weak = keyPairTemplates({ spec: { type: 'rsa-2048', algorithm: 'rsa', bits: 1024 } as unknown as KeySpec, label: 'rsa1024' });
  conn.session.generateKeyPair(weak.mechanism, weak.publicTemplate, weak.privateTemplate);
});
afterAll(() => conn?.close());

const root = (overrides: Partial<CertProfile> = {}): CertProfile => loadCertProfile('root-ca', { subject: 'CN=Bad Input Root', days: 365, ...overrides });

/** Run `fn` and return the KeyriteError it throws, asserting that no signature was made. */
async function refused(fn: (onSignature: (e: SignatureEvent) => void) => Promise<unknown>): Promise<{ code: string; message: string; details: Record<string, unknown> }> {
  const events: SignatureEvent[] = [];
  const error = await fn((e) => events.push(e)).then(
    () => {
      throw new Error('expected a refusal');
    },
    (e: unknown) => e as { code: string; message: string; details: Record<string, unknown> },
  );
  expect(events).toEqual([]);
  return error;
}

describe('key lookup', () => {
  it.each([
    ['export pub', () => Promise.resolve().then(() => exportPublicKey(conn.session, 'no-such-key'))],
    ['root certificate', (on: (e: SignatureEvent) => void) => issueRootCertificate(conn.session, { label: 'no-such-key', profile: root(), onSignature: on })],
    ['CSR', (on: (e: SignatureEvent) => void) => issueCsr(conn.session, { label: 'no-such-key', subject: 'CN=x', onSignature: on })],
  ])('%s: a label that does not exist is HSM_KEY_NOT_FOUND', async (_name, fn) => {
    const e = await refused(fn);
    expect(e.code).toBe('HSM_KEY_NOT_FOUND');
    expect(e.message).toContain("'no-such-key'");
  });

  it.each([
    ['root certificate', (on: (e: SignatureEvent) => void) => issueRootCertificate(conn.session, { label: 'public-only', profile: root(), onSignature: on })],
    ['CSR', (on: (e: SignatureEvent) => void) => issueCsr(conn.session, { label: 'public-only', subject: 'CN=x', onSignature: on })],
  ])('%s: a public key without its private half is X509_PRIVATE_KEY_MISSING', async (_name, fn) => {
    const e = await refused(fn);
    expect(e.code).toBe('X509_PRIVATE_KEY_MISSING');
    expect(e.message).toContain("Key 'public-only' has no private key");
    expect(e.message).toContain('Only its public half is on the token');
  });

  it('the public half alone can still be exported', () => {
    expect(exportPublicKey(conn.session, 'public-only').algorithm).toBe('ec');
  });
});

describe('refused by the key policy before signing', () => {
  it.each([
    { name: 'SHA-1 in a root profile', label: 'good', profile: () => root({ hash: 'SHA-1' }), rule: 'sig.hash.forbidden', text: 'SHA-1 is forbidden' },
    { name: 'SHA-1 with RSA-PKCS1', label: 'rsa3072', profile: () => root({ scheme: 'rsa-pkcs1', hash: 'SHA-1' }), rule: 'sig.hash.forbidden', text: 'SHA-1 is forbidden' },
    { name: 'an RSA-1024 key', label: 'rsa1024', profile: () => root(), rule: 'key.rsa.min-size', text: 'RSA-1024 is too weak' },
    { name: 'an RSA-2048 root key (CA keys need 3072)', label: 'rsa2048', profile: () => root(), rule: 'key.rsa.root-min-size', text: 'RSA-2048 is too small for a root-signing key' },
    { name: 'validity longer than policy (root)', label: 'good', profile: () => root({ days: 9132 }), rule: 'validity.max', text: 'at most 9131 days' },
    { name: 'validity longer than policy (cross profile)', label: 'good', profile: () => loadCertProfile('cross-cert', { subject: 'CN=x', days: 10000 }), rule: 'validity.max', text: '10000 days were requested' },
  ])('$name → POLICY_VIOLATION ($rule)', async ({ label, profile, rule, text }) => {
    const e = await refused((on) => issueRootCertificate(conn.session, { label, profile: profile(), onSignature: on }));
    expect(e.code).toBe('POLICY_VIOLATION');
    expect(e.details.rule).toBe(rule);
    expect(e.message).toContain(text);
  });

  it('SHA-1 in a CSR → POLICY_VIOLATION (sig.hash.forbidden)', async () => {
    const e = await refused((on) => issueCsr(conn.session, { label: 'good', subject: 'CN=x', hash: 'SHA-1', onSignature: on }));
    expect(e.code).toBe('POLICY_VIOLATION');
    expect(e.details.rule).toBe('sig.hash.forbidden');
  });

  it('an RSA-1024 key in a CSR → POLICY_VIOLATION (key.rsa.min-size)', async () => {
    const e = await refused((on) => issueCsr(conn.session, { label: 'rsa1024', subject: 'CN=x', onSignature: on }));
    expect(e.code).toBe('POLICY_VIOLATION');
    expect(e.details.rule).toBe('key.rsa.min-size');
  });

  it('a custom policy is honoured (shorter maximum validity)', async () => {
    const policy = loadPolicy();
    const strict = { ...policy, purposes: { ...policy.purposes, 'root-signing': { ...policy.purposes['root-signing'], maxValidityDays: 100 } } };
    const e = await refused((on) => issueRootCertificate(conn.session, { label: 'good', profile: root({ days: 101 }), policy: strict, onSignature: on }));
    expect(e.code).toBe('POLICY_VIOLATION');
    expect(e.details.rule).toBe('validity.max');
  });
});

describe('malformed requests', () => {
  it.each([
    ['CN=', 'CN has an empty value'],
    ['XX=foo', "'XX' is not an attribute Keyrite accepts"],
    ['CN', "has no '='"],
    ['', 'it is empty'],
    ['O=Example', 'it has no CN'],
    ['CN=Root, C=Netherlands', 'C must be a two-letter'],
    ['CN=Root,, O=x', "'' has no '='"],
  ])('subject %j → X509_SUBJECT_INVALID', async (subject, text) => {
    for (const run of [
      (on: (e: SignatureEvent) => void) => issueRootCertificate(conn.session, { label: 'good', profile: root({ subject }), onSignature: on }),
      (on: (e: SignatureEvent) => void) => issueCsr(conn.session, { label: 'good', subject, onSignature: on }),
    ]) {
      const e = await refused(run);
      expect(e.code).toBe('X509_SUBJECT_INVALID');
      expect(e.message).toContain(text);
    }
  });

  it.each([
    { name: 'notAfter before notBefore', profile: () => root({ notBefore: new Date('2030-01-01T00:00:00Z'), notAfter: new Date('2029-12-31T00:00:00Z') }) },
    { name: 'notAfter equal to notBefore', profile: () => root({ notBefore: new Date('2030-01-01T00:00:00Z'), notAfter: new Date('2030-01-01T00:00:00Z') }) },
    { name: 'zero days', profile: () => root({ days: 0 }) },
    { name: 'negative days', profile: () => root({ days: -30 }) },
  ])('$name → X509_VALIDITY_INVALID', async ({ profile }) => {
    const e = await refused((on) => issueRootCertificate(conn.session, { label: 'good', profile: profile(), onSignature: on }));
    expect(e.code).toBe('X509_VALIDITY_INVALID');
    expect(e.details.rule).toBe('x509.validity.order');
    expect(e.message).toContain('must be later than notBefore');
  });

  it('ECDSA asked of an RSA key → X509_ALGORITHM_MISMATCH', async () => {
    const e = await refused((on) => issueRootCertificate(conn.session, { label: 'rsa3072', profile: root({ scheme: 'ecdsa' }), onSignature: on }));
    expect(e.code).toBe('X509_ALGORITHM_MISMATCH');
  });

  it.each([
    { name: 'keyUsage not critical', extensions: { basicConstraints: { ca: true, critical: true }, keyUsage: { usages: ['keyCertSign' as const, 'cRLSign' as const], critical: false }, subjectKeyIdentifier: true, authorityKeyIdentifier: true }, rule: 'x509.key-usage.critical' },
    { name: 'basicConstraints not critical', extensions: { basicConstraints: { ca: true, critical: false }, keyUsage: { usages: ['keyCertSign' as const, 'cRLSign' as const], critical: true }, subjectKeyIdentifier: true, authorityKeyIdentifier: true }, rule: 'x509.basic-constraints.critical' },
    { name: 'not a CA', extensions: { basicConstraints: { ca: false, critical: true }, keyUsage: { usages: ['keyCertSign' as const, 'cRLSign' as const], critical: true }, subjectKeyIdentifier: true, authorityKeyIdentifier: true }, rule: 'x509.basic-constraints.ca' },
    { name: 'no cRLSign', extensions: { basicConstraints: { ca: true, critical: true }, keyUsage: { usages: ['keyCertSign' as const], critical: true }, subjectKeyIdentifier: true, authorityKeyIdentifier: true }, rule: 'x509.key-usage.cert-sign' },
    { name: 'no SKI', extensions: { basicConstraints: { ca: true, critical: true }, keyUsage: { usages: ['keyCertSign' as const, 'cRLSign' as const], critical: true }, subjectKeyIdentifier: false, authorityKeyIdentifier: true }, rule: 'x509.subject-key-identifier' },
  ])('a profile with $name → CERT_LINT_FAILED ($rule) before signing', async ({ extensions, rule }) => {
    const e = await refused((on) => issueRootCertificate(conn.session, { label: 'good', profile: root({ extensions }), onSignature: on }));
    expect(e.code).toBe('CERT_LINT_FAILED');
    expect(e.details.rule).toBe(rule);
    expect(e.message).toContain('Nothing was signed');
  });
});

describe('cross-certificate refusals', () => {
  it('an issuer certificate that is not for the issuer key → X509_ISSUER_MISMATCH', async () => {
    const otherRoot = await issueRootCertificate(conn.session, { label: 'other', profile: root({ subject: 'CN=Other Root' }) });
    const e = await refused((on) =>
      issueCrossCertificate(conn.session, { issuerLabel: 'good', issuerCertPem: otherRoot.pem, subjectLabel: 'rsa3072', profile: loadCertProfile('cross-cert', { subject: 'CN=New' }), onSignature: on }),
    );
    expect(e.code).toBe('X509_ISSUER_MISMATCH');
  });

  it('an issuer certificate that is not a certificate → X509_CERT_INVALID', async () => {
    const e = await refused((on) =>
      issueCrossCertificate(conn.session, { issuerLabel: 'good', issuerCertPem: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n', subjectLabel: 'rsa3072', profile: loadCertProfile('cross-cert', { subject: 'CN=New' }), onSignature: on }),
    );
    expect(e.code).toBe('X509_CERT_INVALID');
  });

  it('a subject key label that does not exist → HSM_KEY_NOT_FOUND', async () => {
    const goodRoot = await issueRootCertificate(conn.session, { label: 'good', profile: root({ subject: 'CN=Good Root' }) });
    const e = await refused((on) =>
      issueCrossCertificate(conn.session, { issuerLabel: 'good', issuerCertPem: goodRoot.pem, subjectLabel: 'no-such-key', profile: loadCertProfile('cross-cert', { subject: 'CN=New' }), onSignature: on }),
    );
    expect(e.code).toBe('HSM_KEY_NOT_FOUND');
  });
});

describe('lint after signing catches a certificate that differs from its plan', () => {
  async function signedRoot(): Promise<{ der: Buffer; plan: CertificatePlan }> {
    const r = await issueRootCertificate(conn.session, { label: 'good', profile: root({ subject: 'CN=Lint Root', pathLength: 0 }) });
    const cert = new NodeX509Certificate(r.der);
    const key = findSigningKey(conn.session, 'good');
    const plan: CertificatePlan = {
      kind: 'root', purpose: 'root-signing', subjectKey: key.publicInfo, issuerKey: key.publicInfo, issuerPurpose: 'root-signing',
      algorithm: { scheme: 'ecdsa', hash: 'SHA-384' }, notBefore: new Date(cert.validFrom), notAfter: new Date(cert.validTo),
      serial: Buffer.from(r.serialHex, 'hex'), pathLength: 0,
      extensions: { basicConstraints: { ca: true, critical: true }, keyUsage: { usages: ['keyCertSign', 'cRLSign'], critical: true }, subjectKeyIdentifier: true, authorityKeyIdentifier: true },
    };
    return { der: r.der, plan };
  }
  const names = () => ({ subjectName: subjectToName(parseSubject('CN=Lint Root')), issuerName: subjectToName(parseSubject('CN=Lint Root')) });

  it('the untouched certificate passes', async () => {
    const { der, plan } = await signedRoot();
    const authorityKeyId = (await SubjectKeyIdentifierExtension.create(plan.subjectKey.spkiDer, false, nodeCrypto)).keyId;
    const { lines } = await lintAfterSigning(der, { plan, ...names(), authorityKeyId }, loadPolicy());
    expect(lines).toContain('x509.signature.verify: ok');
  });

  it.each([
    { name: 'a corrupted signature', mutate: (der: Buffer) => { const d = Buffer.from(der); d[d.length - 5] ^= 0x01; return d; }, plan: (p: CertificatePlan) => p, rule: 'x509.signature.verify' },
    { name: 'an unexpected pathLength', mutate: (der: Buffer) => der, plan: (p: CertificatePlan) => ({ ...p, pathLength: 3 }), rule: 'x509.path-length' },
    { name: 'another serial', mutate: (der: Buffer) => der, plan: (p: CertificatePlan) => ({ ...p, serial: Buffer.from('0102030405060708090a', 'hex') }), rule: 'x509.serial.match' },
    { name: 'another hash', mutate: (der: Buffer) => der, plan: (p: CertificatePlan) => ({ ...p, algorithm: { scheme: 'ecdsa' as const, hash: 'SHA-512' as const } }), rule: 'x509.signature-algorithm.match' },
  ])('$name → CERT_LINT_FAILED ($rule)', async ({ mutate, plan: change, rule }) => {
    const { der, plan } = await signedRoot();
    const authorityKeyId = (await SubjectKeyIdentifierExtension.create(plan.subjectKey.spkiDer, false, nodeCrypto)).keyId;
    await expect(lintAfterSigning(mutate(der), { plan: change(plan), ...names(), authorityKeyId }, loadPolicy())).rejects.toMatchObject({
      code: 'CERT_LINT_FAILED',
      details: { rule, stage: 'after signing' },
      message: expect.stringContaining('The signed certificate was discarded'),
    });
  });
});
