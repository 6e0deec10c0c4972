import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectHsm, type HsmConnection } from '../../src/core/hsm/connect';
import { generateKeyPair } from '../../src/core/hsm/keygen';
import { parseKeyType, type KeyType } from '../../src/core/hsm/key-spec';
import { exportPublicKey, issueCrossCertificate, issueCsr, issueRootCertificate, loadCertProfile, type SignatureEvent } from '../../src/core/x509';
import { createTestHsm } from '../helpers/softhsm';

const hsm = createTestHsm(['x509']);
const work = mkdtempSync(path.join(os.tmpdir(), 'keyrite-x509-'));
let conn: HsmConnection;

const TYPES: KeyType[] = ['rsa-3072', 'rsa-4096', 'ec-p256', 'ec-p384', 'ec-p521'];
const label = (t: KeyType): string => `ca-${t}`;

beforeAll(() => {
  conn = connectHsm(hsm.config('x509'));
  conn.session.login(hsm.userPin);
  // Each key type once per file: RSA-4096 generation takes seconds on SoftHSM.
  for (const t of TYPES) generateKeyPair(conn.session, { spec: parseKeyType(t), label: label(t) });
});
afterAll(() => conn?.close());

function file(name: string, text: string): string {
  const p = path.join(work, name);
  writeFileSync(p, text);
  return p;
}

function openssl(args: string[]): { status: number; out: string } {
  const r = spawnSync('openssl', args, { encoding: 'utf8' });
  return { status: r.status ?? -1, out: `${r.stdout}${r.stderr}` };
}

/** The TBS bytes of a certificate or CSR: the first element inside the outer SEQUENCE. */
function firstInnerElement(der: Buffer): Buffer {
  const len = (at: number): [number, number] => {
    const b = der[at];
    if (b < 0x80) return [b, 1];
    const n = b & 0x7f;
    let v = 0;
    for (let i = 1; i <= n; i++) v = v * 256 + der[at + i];
    return [v, 1 + n];
  };
  const [, outerLenBytes] = len(1);
  const start = 1 + outerLenBytes;
  const [innerLen, innerLenBytes] = len(start + 1);
  return der.subarray(start, start + 1 + innerLenBytes + innerLen);
}

const EXPECTED_SIG: Record<KeyType, string> = {
  'rsa-2048': 'rsassaPss',
  'rsa-3072': 'rsassaPss',
  'rsa-4096': 'rsassaPss',
  'ec-p256': 'ecdsa-with-SHA256',
  'ec-p384': 'ecdsa-with-SHA384',
  'ec-p521': 'ecdsa-with-SHA512',
};

describe('public key export', () => {
  it.each(TYPES)('%s: openssl reads the SPKI and the fingerprint is SHA-256 of its DER', (t) => {
    const pub = exportPublicKey(conn.session, label(t));
    const spec = parseKeyType(t);
    expect(pub.algorithm).toBe(spec.algorithm);
    expect(pub.bits).toBe(spec.bits);
    const pem = file(`${t}.pub.pem`, pub.pem);
    const text = execFileSync('openssl', ['pkey', '-pubin', '-in', pem, '-noout', '-text']).toString();
    expect(text).toContain(spec.algorithm === 'rsa' ? `Public-Key: (${spec.bits} bit)` : `NIST CURVE: ${spec.algorithm === 'ec' ? spec.curve : ''}`);
    const der = execFileSync('openssl', ['pkey', '-pubin', '-in', pem, '-outform', 'DER']);
    expect(der.equals(pub.spkiDer)).toBe(true);
    expect(pub.fingerprint.hex).toBe(createHash('sha256').update(der).digest('hex'));
    expect(pub.fingerprint.colonHex).toBe(pub.fingerprint.hex.toUpperCase().match(/../g)!.join(':'));
    expect(pub.fingerprint.words).toHaveLength(6);
  });
});

describe('self-signed root certificate signed in the HSM', () => {
  it.each(TYPES)('%s: openssl verifies it and shows the CA extensions, critical', async (t) => {
    const events: SignatureEvent[] = [];
    const profile = loadCertProfile('root-ca', { subject: `CN=Keyrite Test Root ${t}, O=Keyrite Tests, C=NL`, days: 3650 });
    const root = await issueRootCertificate(conn.session, { label: label(t), profile, onSignature: (e) => events.push(e) });
    const pem = file(`${t}.root.pem`, root.pem);

    const v = openssl(['verify', '-CAfile', pem, pem]);
    expect(v.out).toContain(`${pem}: OK`);
    expect(v.status).toBe(0);

    const text = execFileSync('openssl', ['x509', '-in', pem, '-noout', '-text']).toString();
    expect(text).toMatch(/X509v3 Basic Constraints: critical\s+CA:TRUE\s/);
    expect(text).toMatch(/X509v3 Key Usage: critical\s+Certificate Sign, CRL Sign\s/);
    expect(text).toMatch(/X509v3 Subject Key Identifier:\s+[0-9A-F:]{59}\s/);
    expect(text).toMatch(/X509v3 Authority Key Identifier:\s+(keyid:)?[0-9A-F:]{59}\s/);
    expect(text).not.toMatch(/Subject Key Identifier: critical|Authority Key Identifier: critical/);
    expect(text).toContain(`Signature Algorithm: ${EXPECTED_SIG[t]}`);
    expect(text).toContain('Subject: CN = Keyrite Test Root');
    expect(text).toContain('Version: 3 (0x2)');

    // Serial: ≥ 64 random bits, positive, and the one reported.
    expect(root.serialHex.length).toBeGreaterThanOrEqual(16);
    const serial = execFileSync('openssl', ['x509', '-in', pem, '-noout', '-serial']).toString().trim();
    expect(BigInt(`0x${serial.replace('serial=', '')}`)).toBe(BigInt(`0x${root.serialHex}`));

    // Validity as asked, and the key certified is the token's.
    expect(new Date(root.notAfter).getTime() - new Date(root.notBefore).getTime()).toBe(3650 * 86_400_000);
    expect(root.fingerprint.hex).toBe(exportPublicKey(conn.session, label(t)).fingerprint.hex);
    expect(root.lint.some((l) => l.includes('x509.signature.verify: ok'))).toBe(true);
    expect(root.lint.some((l) => l.startsWith('before signing: sig.hash.forbidden: ok'))).toBe(true);

    // Exactly one signature, reported with the digest of what was signed (the TBS certificate).
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ keyLabel: label(t), purpose: 'root-certificate' });
    expect(events[0].mechanism).toMatch(t.startsWith('ec') ? /^CKM_ECDSA/ : /^CKM_SHA(384|512)_RSA_PKCS_PSS$/);
    expect(events[0].dataSha256).toBe(createHash('sha256').update(firstInnerElement(root.der)).digest('hex'));
  });

  it.each([
    { t: 'rsa-3072' as KeyType, scheme: 'rsa-pkcs1' as const, hash: 'SHA-256' as const, shows: 'sha256WithRSAEncryption' },
    { t: 'rsa-3072' as KeyType, scheme: 'rsa-pss' as const, hash: 'SHA-256' as const, shows: 'rsassaPss' },
    { t: 'rsa-4096' as KeyType, scheme: 'rsa-pkcs1' as const, hash: 'SHA-512' as const, shows: 'sha512WithRSAEncryption' },
    { t: 'ec-p256' as KeyType, scheme: 'ecdsa' as const, hash: 'SHA-384' as const, shows: 'ecdsa-with-SHA384' },
    { t: 'ec-p521' as KeyType, scheme: 'ecdsa' as const, hash: 'SHA-256' as const, shows: 'ecdsa-with-SHA256' },
  ])('$t with $scheme/$hash and pathLength 1 verifies with openssl', async ({ t, scheme, hash, shows }) => {
    const profile = loadCertProfile('root-ca', { subject: `CN=Variant ${t} ${scheme} ${hash}`, days: 30, scheme, hash, pathLength: 1 });
    const root = await issueRootCertificate(conn.session, { label: label(t), profile });
    const pem = file(`${t}-${scheme}-${hash}.root.pem`, root.pem);
    expect(openssl(['verify', '-CAfile', pem, pem]).status).toBe(0);
    const text = execFileSync('openssl', ['x509', '-in', pem, '-noout', '-text']).toString();
    expect(text).toContain(`Signature Algorithm: ${shows}`);
    expect(text).toMatch(/X509v3 Basic Constraints: critical\s+CA:TRUE, pathlen:1\s/);
    if (scheme === 'rsa-pss') expect(text).toContain(`Hash Algorithm: ${hash.replace('-', '').toLowerCase()}`);
  });

  it('a 25-year root (past 2050, GeneralizedTime) is within policy and verifies', async () => {
    const profile = loadCertProfile('root-ca', { subject: 'CN=Long Root', days: 9131 });
    const root = await issueRootCertificate(conn.session, { label: label('ec-p384'), profile });
    const pem = file('long.root.pem', root.pem);
    expect(openssl(['verify', '-CAfile', pem, pem]).status).toBe(0);
    expect(new Date(root.notAfter).getUTCFullYear()).toBeGreaterThanOrEqual(2050);
  });
});

describe('PKCS#10 request signed in the HSM', () => {
  it.each(TYPES)('%s: openssl req -verify accepts it', async (t) => {
    const events: SignatureEvent[] = [];
    const csr = await issueCsr(conn.session, { label: label(t), subject: `CN=Keyrite Intermediate ${t}, O=Keyrite Tests`, onSignature: (e) => events.push(e) });
    const pem = file(`${t}.csr.pem`, csr.pem);
    const r = openssl(['req', '-in', pem, '-verify', '-noout', '-text']);
    expect(r.status).toBe(0);
    expect(r.out).toMatch(/verify OK/);
    expect(r.out).toContain(`Subject: CN = Keyrite Intermediate ${t}, O = Keyrite Tests`);
    expect(r.out).toContain('Requested Extensions:');
    expect(r.out).toMatch(/X509v3 Basic Constraints: critical\s+CA:TRUE/);
    // The request carries the token's key.
    const pub = execFileSync('openssl', ['req', '-in', pem, '-noout', '-pubkey']).toString();
    expect(pub).toBe(exportPublicKey(conn.session, label(t)).pem);
    expect(events).toEqual([expect.objectContaining({ keyLabel: label(t), purpose: 'csr', dataSha256: createHash('sha256').update(firstInnerElement(csr.der)).digest('hex') })]);
  });

  it('uses the requested scheme and hash', async () => {
    const csr = await issueCsr(conn.session, { label: label('rsa-3072'), subject: 'CN=PKCS1 Request', scheme: 'rsa-pkcs1', hash: 'SHA-384' });
    const pem = file('pkcs1.csr.pem', csr.pem);
    const r = openssl(['req', '-in', pem, '-verify', '-noout', '-text']);
    expect(r.status).toBe(0);
    expect(r.out).toContain('Signature Algorithm: sha384WithRSAEncryption');
  });
});

describe('cross-certificate (root rotation)', () => {
  it.each([
    { oldKey: 'ec-p384' as KeyType, newKey: 'rsa-4096' as KeyType },
    { oldKey: 'rsa-3072' as KeyType, newKey: 'ec-p521' as KeyType },
  ])('new $newKey root signed by old $oldKey root verifies against the old root', async ({ oldKey, newKey }) => {
    const oldRoot = await issueRootCertificate(conn.session, { label: label(oldKey), profile: loadCertProfile('root-ca', { subject: `CN=Old Root ${oldKey}`, days: 3650 }) });
    const newSubject = `CN=New Root ${newKey}, O=Keyrite Tests`;
    const newRoot = await issueRootCertificate(conn.session, { label: label(newKey), profile: loadCertProfile('root-ca', { subject: newSubject, days: 3650 }) });
    const events: SignatureEvent[] = [];
    const cross = await issueCrossCertificate(conn.session, {
      issuerLabel: label(oldKey),
      issuerCertPem: oldRoot.pem,
      subjectLabel: label(newKey),
      profile: loadCertProfile('cross-cert', { subject: newSubject }),
      onSignature: (e) => events.push(e),
    });
    const oldPem = file(`old-${oldKey}.pem`, oldRoot.pem);
    const newPem = file(`new-${newKey}.pem`, newRoot.pem);
    const crossPem = file(`cross-${oldKey}-${newKey}.pem`, cross.pem);

    const v = openssl(['verify', '-CAfile', oldPem, crossPem]);
    expect(v.out).toContain(`${crossPem}: OK`);
    expect(v.status).toBe(0);
    // The cross-certificate does not verify against the new root alone (it is the old key's signature).
    expect(openssl(['verify', '-CAfile', newPem, crossPem]).status).not.toBe(0);

    const text = execFileSync('openssl', ['x509', '-in', crossPem, '-noout', '-text']).toString();
    expect(text).toContain(`Issuer: CN = Old Root ${oldKey}`);
    expect(text).toContain(`Subject: CN = New Root ${newKey}, O = Keyrite Tests`);
    expect(text).toMatch(/X509v3 Basic Constraints: critical\s+CA:TRUE/);
    expect(text).toMatch(/X509v3 Key Usage: critical\s+Certificate Sign, CRL Sign/);
    // AKI = the old root's SKI; SKI = the new root's SKI.
    const ski = (pem: string): string => /Subject Key Identifier:\s+([0-9A-F:]+)/.exec(execFileSync('openssl', ['x509', '-in', pem, '-noout', '-text']).toString())![1];
    expect(text).toMatch(new RegExp(`Authority Key Identifier:\\s+(keyid:)?${ski(oldPem)}`));
    expect(ski(crossPem)).toBe(ski(newPem));
    expect(cross.fingerprint.hex).toBe(newRoot.fingerprint.hex);
    expect(events).toEqual([expect.objectContaining({ keyLabel: label(oldKey), purpose: 'cross-certificate' })]);
  });
});
