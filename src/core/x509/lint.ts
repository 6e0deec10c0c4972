// @peculiar/x509 needs the Reflect metadata API before it loads.
import 'reflect-metadata';
import { X509Certificate as NodeX509Certificate } from 'node:crypto';
import {
  AuthorityKeyIdentifierExtension,
  BasicConstraintsExtension,
  KeyUsageFlags,
  KeyUsagesExtension,
  SubjectKeyIdentifierExtension,
  X509Certificate,
  type Name,
} from '@peculiar/x509';
import { KeyriteError, type ErrorCode } from '../errors';
import type { PublicKeyInfo } from '../hsm/public-key';
import type { SignatureScheme } from '../hsm/sign';
import type { ProfileHash } from './algorithm';
import { keyIdentifier } from './key-identifier';
import { enforcePolicy, type CertPurpose, type KeyPolicy } from './policy-checks';
import type { KeyUsageName, ProfileExtensions } from './profile';

export const DAY_MS = 86_400_000;

/** Lint lines are "<rule>: ok" or "<rule>: warning: <message>"; a failed error rule throws instead. */
export class Lint {
  readonly lines: string[] = [];

  constructor(private readonly stage: 'before signing' | 'after signing') {}

  check(rule: string, ok: boolean, message: () => string, code: ErrorCode = 'CERT_LINT_FAILED'): void {
    if (ok) {
      this.lines.push(`${rule}: ok`);
      return;
    }
    const afterNote = this.stage === 'after signing' ? ' The signed certificate was discarded; nothing was written.' : ' Nothing was signed.';
    throw new KeyriteError(code, `Certificate lint failed ${this.stage} (rule ${rule}): ${message()}.${afterNote}`, { details: { rule, stage: this.stage } });
  }

  warn(rule: string, ok: boolean, message: () => string): void {
    this.lines.push(ok ? `${rule}: ok` : `${rule}: warning: ${message()}`);
  }

  add(lines: string[]): void {
    this.lines.push(...lines);
  }
}

export interface CertificatePlan {
  kind: 'root' | 'cross';
  purpose: CertPurpose;
  subjectKey: PublicKeyInfo;
  issuerKey: PublicKeyInfo;
  /** Purpose of the signing key: the profile's for a root, root-signing for the old root of a cross-certificate. */
  issuerPurpose: CertPurpose;
  algorithm: { scheme: SignatureScheme; hash: ProfileHash };
  notBefore: Date;
  notAfter: Date;
  serial: Buffer;
  pathLength?: number;
  extensions: ProfileExtensions;
  /** Cross-certificates: what the old root's certificate says. */
  issuerCertificate?: { ca: boolean; notAfter: Date; keyCertSign: boolean };
}

export function validityDays(notBefore: Date, notAfter: Date): number {
  return Math.ceil((notAfter.getTime() - notBefore.getTime()) / DAY_MS);
}

const usageFlag: Record<KeyUsageName, number> = {
  digitalSignature: KeyUsageFlags.digitalSignature,
  nonRepudiation: KeyUsageFlags.nonRepudiation,
  keyEncipherment: KeyUsageFlags.keyEncipherment,
  dataEncipherment: KeyUsageFlags.dataEncipherment,
  keyAgreement: KeyUsageFlags.keyAgreement,
  keyCertSign: KeyUsageFlags.keyCertSign,
  cRLSign: KeyUsageFlags.cRLSign,
};

export function keyUsageFlags(usages: KeyUsageName[]): number {
  return usages.reduce((acc, u) => acc | usageFlag[u], 0);
}

/** The validity rule comes first: it has its own error code so a caller can tell a typo from a policy limit. */
export function checkValidityOrder(lint: Lint, notBefore: Date, notAfter: Date): void {
  lint.check('x509.validity.order', notAfter.getTime() > notBefore.getTime(), () => `notAfter (${notAfter.toISOString()}) must be later than notBefore (${notBefore.toISOString()}). Give a positive number of days`, 'X509_VALIDITY_INVALID');
}

/**
 * Lint the to-be-signed certificate against the profile rules and the key policy. Throws
 * X509_VALIDITY_INVALID, POLICY_VIOLATION or CERT_LINT_FAILED naming the rule.
 */
export function lintBeforeSigning(plan: CertificatePlan, policy: KeyPolicy): string[] {
  const lint = new Lint('before signing');
  checkValidityOrder(lint, plan.notBefore, plan.notAfter);
  lint.add(
    enforcePolicy(policy, {
      keys: plan.kind === 'cross' ? [{ key: plan.subjectKey, purpose: plan.purpose }, { key: plan.issuerKey, purpose: plan.issuerPurpose }] : [{ key: plan.subjectKey, purpose: plan.purpose }],
      signature: { scheme: plan.algorithm.scheme, hash: plan.algorithm.hash, purpose: plan.issuerPurpose },
      validity: { purpose: plan.purpose, days: validityDays(plan.notBefore, plan.notAfter) },
    }),
  );
  const s = plan.serial;
  lint.check('x509.serial.positive', s.length > 0 && (s[0] & 0x80) === 0 && s.some((b) => b !== 0), () => 'the serial number must be a positive integer');
  lint.check('x509.serial.entropy', s.length >= 9 && s.length <= 20, () => `the serial number has ${s.length} bytes; it needs at least 64 random bits and at most 20 octets (RFC 5280 §4.1.2.2)`);
  const ext = plan.extensions;
  lint.check('x509.basic-constraints.ca', ext.basicConstraints.ca, () => 'a CA certificate needs basicConstraints CA:TRUE');
  lint.check('x509.basic-constraints.critical', ext.basicConstraints.critical, () => 'basicConstraints must be critical in a CA certificate (RFC 5280 §4.2.1.9)');
  lint.check('x509.path-length', plan.pathLength === undefined || (Number.isInteger(plan.pathLength) && plan.pathLength >= 0), () => `pathLength ${plan.pathLength} must be a whole number of 0 or more`);
  const usages = ext.keyUsage.usages;
  lint.check('x509.key-usage.cert-sign', usages.includes('keyCertSign') && usages.includes('cRLSign'), () => `a CA certificate's keyUsage must include keyCertSign and cRLSign (it has ${usages.join(', ')})`);
  lint.check('x509.key-usage.critical', ext.keyUsage.critical, () => 'keyUsage must be critical in a CA certificate (RFC 5280 §4.2.1.3)');
  lint.check('x509.subject-key-identifier', ext.subjectKeyIdentifier, () => 'a CA certificate must carry a subjectKeyIdentifier (RFC 5280 §4.2.1.2)');
  lint.check('x509.authority-key-identifier', ext.authorityKeyIdentifier, () => 'the profile must include an authorityKeyIdentifier so paths can be built to the signing key');
  if (plan.issuerCertificate) {
    const ic = plan.issuerCertificate;
    lint.check('x509.issuer.ca', ic.ca && ic.keyCertSign, () => "the issuer's certificate is not a CA certificate allowed to sign certificates (basicConstraints CA:TRUE and keyUsage keyCertSign)");
    lint.warn('x509.issuer.validity', plan.notAfter.getTime() <= ic.notAfter.getTime(), () => `the certificate would outlive its issuer's certificate (${ic.notAfter.toISOString()}); paths through it stop working then`);
  }
  return lint.lines;
}

export interface IssuedExpectation {
  plan: CertificatePlan;
  subjectName: Name;
  issuerName: Name;
  /** The issuer's SKI (hex) that the AKI must carry. */
  authorityKeyId: string;
  /** For a cross-certificate: the old root's certificate, which must be recognised as its issuer. */
  issuerCertDer?: Buffer;
}

const sameBytes = (a: ArrayBuffer | Uint8Array, b: ArrayBuffer | Uint8Array): boolean => Buffer.from(a as ArrayBuffer).equals(Buffer.from(b as ArrayBuffer));

/** Read scheme/hash back from the certificate's signatureAlgorithm. */
export function parsedSignatureAlgorithm(alg: { name: string; hash?: unknown; saltLength?: unknown }): { scheme: SignatureScheme | 'unknown'; hash: string; saltLength?: number } {
  const hashName = typeof alg.hash === 'string' ? alg.hash : ((alg.hash as { name?: string } | undefined)?.name ?? 'unknown');
  const scheme = alg.name === 'ECDSA' ? 'ecdsa' : alg.name === 'RSA-PSS' ? 'rsa-pss' : alg.name === 'RSASSA-PKCS1-v1_5' ? 'rsa-pkcs1' : 'unknown';
  return { scheme, hash: hashName.toUpperCase(), saltLength: typeof alg.saltLength === 'number' ? alg.saltLength : undefined };
}

/**
 * Re-parse the signed certificate and check it the same way, plus its signature with the
 * issuer's public key (Node/OpenSSL, not the HSM that made it). Throws CERT_LINT_FAILED or
 * POLICY_VIOLATION naming the rule; returns the lint lines and the certificate as parsed and
 * checked here (so the caller need not parse it again).
 */
export async function lintAfterSigning(der: Buffer, expect: IssuedExpectation, policy: KeyPolicy): Promise<{ lines: string[]; certificate: X509Certificate }> {
  const lint = new Lint('after signing');
  const plan = expect.plan;
  let cert: X509Certificate;
  let nodeCert: NodeX509Certificate;
  try {
    cert = new X509Certificate(der);
    nodeCert = new NodeX509Certificate(der);
  } catch (e) {
    throw new KeyriteError('CERT_LINT_FAILED', `Certificate lint failed after signing (rule x509.parse): the certificate does not parse (${(e as Error).message}). Nothing was written.`, { details: { rule: 'x509.parse', stage: 'after signing' }, cause: e });
  }
  lint.check('x509.parse', true, () => '');
  lint.check('x509.serial.match', BigInt(`0x${cert.serialNumber}`) === BigInt(`0x${plan.serial.toString('hex')}`), () => `serial ${cert.serialNumber} is not the one drawn from the HSM (${plan.serial.toString('hex')})`);
  lint.check('x509.subject.match', sameBytes(cert.subjectName.toArrayBuffer(), expect.subjectName.toArrayBuffer()), () => `subject '${cert.subject}' is not the requested one`);
  lint.check('x509.issuer.match', sameBytes(cert.issuerName.toArrayBuffer(), expect.issuerName.toArrayBuffer()), () => `issuer '${cert.issuer}' is not the expected one`);
  lint.check('x509.validity.match', cert.notBefore.getTime() === plan.notBefore.getTime() && cert.notAfter.getTime() === plan.notAfter.getTime(), () => `validity ${cert.notBefore.toISOString()}–${cert.notAfter.toISOString()} differs from the plan`);
  lint.check('x509.spki.match', sameBytes(cert.publicKey.rawData, plan.subjectKey.spkiDer), () => "the certified public key is not the token key's");

  const types = cert.extensions.map((e) => e.type);
  lint.check('x509.extensions.unique', new Set(types).size === types.length, () => 'an extension appears twice');
  const bc = cert.getExtension(BasicConstraintsExtension);
  lint.check('x509.basic-constraints.ca', bc?.ca === true, () => 'basicConstraints CA:TRUE is missing');
  lint.check('x509.basic-constraints.critical', bc?.critical === true, () => 'basicConstraints is not critical');
  lint.check('x509.path-length', bc?.pathLength === plan.pathLength, () => `pathLength is ${bc?.pathLength ?? 'absent'}, expected ${plan.pathLength ?? 'absent'}`);
  const ku = cert.getExtension(KeyUsagesExtension);
  lint.check('x509.key-usage.cert-sign', ku !== null && ku.usages === keyUsageFlags(plan.extensions.keyUsage.usages), () => `keyUsage is ${ku?.usages ?? 'absent'}, expected ${plan.extensions.keyUsage.usages.join(' + ')}`);
  lint.check('x509.key-usage.critical', ku?.critical === true, () => 'keyUsage is not critical');
  const ski = cert.getExtension(SubjectKeyIdentifierExtension);
  const expectedSki = keyIdentifier(plan.subjectKey.spkiDer);
  lint.check('x509.subject-key-identifier', ski !== null && !ski.critical && ski.keyId === expectedSki, () => 'subjectKeyIdentifier is missing, critical, or not the SHA-1 of the subject key (RFC 5280 §4.2.1.2 method 1)');
  const aki = cert.getExtension(AuthorityKeyIdentifierExtension);
  lint.check('x509.authority-key-identifier', aki !== null && !aki.critical && aki.keyId === expect.authorityKeyId, () => "authorityKeyIdentifier is missing, critical, or not the issuer's key identifier");
  // basicConstraints, keyUsage, subjectKeyIdentifier, authorityKeyIdentifier: nothing else is issued.
  const knownOids = ['2.5.29.19', '2.5.29.15', '2.5.29.14', '2.5.29.35'];
  lint.check('x509.extensions.expected', types.every((t) => knownOids.includes(t)), () => `unexpected extension(s) ${types.filter((t) => !knownOids.includes(t)).join(', ')}`);

  const sig = parsedSignatureAlgorithm(cert.signatureAlgorithm as unknown as { name: string; hash?: unknown; saltLength?: unknown });
  lint.check('x509.signature-algorithm.match', sig.scheme === plan.algorithm.scheme && sig.hash === plan.algorithm.hash, () => `the certificate says ${sig.scheme} with ${sig.hash}, the plan was ${plan.algorithm.scheme} with ${plan.algorithm.hash}`);
  lint.add(
    enforcePolicy(policy, {
      keys: [{ key: plan.subjectKey, purpose: plan.purpose }],
      signature: { scheme: sig.scheme === 'unknown' ? plan.algorithm.scheme : sig.scheme, hash: sig.hash, purpose: plan.issuerPurpose },
      validity: { purpose: plan.purpose, days: validityDays(cert.notBefore, cert.notAfter) },
    }).map((l) => `after-signing ${l}`),
  );
  lint.check('x509.signature.verify', nodeCert.verify(plan.issuerKey.keyObject), () => "the signature does not verify with the issuer's public key");
  if (expect.issuerCertDer) {
    lint.check('x509.issuer.chain', nodeCert.checkIssued(new NodeX509Certificate(expect.issuerCertDer)), () => "OpenSSL does not accept the issuer's certificate as this certificate's issuer");
  } else {
    lint.check('x509.self-signed', nodeCert.checkIssued(nodeCert), () => 'OpenSSL does not accept the certificate as self-issued');
  }
  return { lines: lint.lines, certificate: cert };
}
