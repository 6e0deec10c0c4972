// @peculiar/x509 needs the Reflect metadata API before it loads.
import 'reflect-metadata';
import {
  AuthorityKeyIdentifierExtension,
  BasicConstraintsExtension,
  KeyUsagesExtension,
  type Name,
  SubjectKeyIdentifierExtension,
  X509Certificate,
  X509CertificateGenerator,
  type Extension,
} from '@peculiar/x509';
import { KeyriteError } from '../errors';
import type { KeyPair } from '../hsm/keygen';
import { readPublicKey } from '../hsm/public-key';
import type { HsmSession } from '../hsm/session';
import { chooseAlgorithm, signableAlgorithm } from './algorithm';
import { fingerprintOf, type Fingerprint } from './fingerprint';
import { keyIdentifier } from './key-identifier';
import { createHsmSigner, type SignatureEvent } from './hsm-crypto';
import { checkValidityOrder, DAY_MS, keyUsageFlags, Lint, lintAfterSigning, lintBeforeSigning, type CertificatePlan } from './lint';
import { toPem } from './pem';
import { policyOrDefault, type KeyPolicy } from './policy-checks';
import { CA_EXTENSIONS, type CertProfile } from './profile';
import { findSigningKey } from './public-key';
import { drawSerial } from './serial';
import { parseSubject, subjectToName } from './subject';

export interface IssuedCertificate {
  pem: string;
  der: Buffer;
  serialHex: string;
  /** SHA-256 of the certified key's SPKI (the key's identity, the same as `export pub` prints). */
  fingerprint: Fingerprint;
  notBefore: string;
  notAfter: string;
  lint: string[];
  /** The certificate as the lint after signing parsed and checked it (from `der`). */
  certificate: X509Certificate;
}

/** notBefore defaults to now, cut to whole seconds because X.509 times carry no fractions. */
export function resolveValidity(profile: CertProfile): { notBefore: Date; notAfter: Date } {
  const notBefore = new Date(Math.floor((profile.notBefore ?? new Date()).getTime() / 1000) * 1000);
  if (profile.notAfter) return { notBefore, notAfter: new Date(Math.floor(profile.notAfter.getTime() / 1000) * 1000) };
  if (!Number.isFinite(profile.days) || !Number.isInteger(profile.days)) {
    throw new KeyriteError('X509_VALIDITY_INVALID', `The validity must be a whole number of days, not ${profile.days}.`, { details: { rule: 'x509.validity.order', days: profile.days } });
  }
  return { notBefore, notAfter: new Date(notBefore.getTime() + profile.days * DAY_MS) };
}

interface CaCertificateRequest {
  kind: 'root' | 'cross';
  subject: KeyPair;
  issuer: KeyPair;
  issuerPurpose: CertPlanPurpose;
  issuerName?: Name;
  issuerCert?: X509Certificate;
  profile: CertProfile;
  policy?: KeyPolicy;
  onSignature?: (e: SignatureEvent) => void;
}
type CertPlanPurpose = CertificatePlan['issuerPurpose'];

async function issueCaCertificate(session: HsmSession, req: CaCertificateRequest): Promise<IssuedCertificate & { plan: CertificatePlan }> {
  const { profile } = req;
  const subjectName = subjectToName(parseSubject(profile.subject));
  const { notBefore, notAfter } = resolveValidity(profile);
  checkValidityOrder(new Lint('before signing'), notBefore, notAfter);
  const policy = policyOrDefault(req.policy);
  const chosen = chooseAlgorithm(req.issuer.publicInfo, profile);
  const issuerBc = req.issuerCert?.getExtension(BasicConstraintsExtension);
  const issuerKu = req.issuerCert?.getExtension(KeyUsagesExtension);
  const plan: CertificatePlan = {
    kind: req.kind,
    purpose: profile.purpose,
    subjectKey: req.subject.publicInfo,
    issuerKey: req.issuer.publicInfo,
    issuerPurpose: req.issuerPurpose,
    algorithm: chosen,
    notBefore,
    notAfter,
    serial: drawSerial(session),
    pathLength: profile.pathLength,
    extensions: profile.extensions ?? CA_EXTENSIONS,
    issuerCertificate: req.issuerCert
      ? { ca: issuerBc?.ca === true, keyCertSign: issuerKu !== null && issuerKu !== undefined && (issuerKu.usages & keyUsageFlags(['keyCertSign'])) !== 0, notAfter: req.issuerCert.notAfter }
      : undefined,
  };
  const before = lintBeforeSigning(plan, policy);

  const alg = signableAlgorithm(chosen);
  const signer = createHsmSigner(session, req.issuer, alg, { purpose: req.kind === 'root' ? 'root-certificate' : 'cross-certificate', onSignature: req.onSignature });
  const subjectKeyId = keyIdentifier(req.subject.publicInfo.spkiDer);
  const ski = new SubjectKeyIdentifierExtension(subjectKeyId, false);
  // A self-signed root is its own issuer: the same key, the same identifier.
  const sameKey = Buffer.compare(req.subject.publicInfo.spkiDer, req.issuer.publicInfo.spkiDer) === 0;
  const issuerSki = req.issuerCert?.getExtension(SubjectKeyIdentifierExtension)?.keyId ?? (sameKey ? subjectKeyId : keyIdentifier(req.issuer.publicInfo.spkiDer));
  const ext = plan.extensions;
  const extensions: Extension[] = [
    new BasicConstraintsExtension(ext.basicConstraints.ca, plan.pathLength, ext.basicConstraints.critical),
    new KeyUsagesExtension(keyUsageFlags(ext.keyUsage.usages), ext.keyUsage.critical),
  ];
  if (ext.subjectKeyIdentifier) extensions.push(ski);
  if (ext.authorityKeyIdentifier) extensions.push(new AuthorityKeyIdentifierExtension(issuerSki, false));
  const issuerName = req.issuerName ?? subjectName;
  const cert = await X509CertificateGenerator.create(
    {
      serialNumber: plan.serial.toString('hex'),
      subject: subjectName,
      issuer: issuerName,
      notBefore,
      notAfter,
      publicKey: req.subject.publicInfo.spkiDer,
      signingKey: signer.privateKey,
      signingAlgorithm: signer.algorithm,
      extensions,
    },
    signer.crypto,
  );
  const der = Buffer.from(cert.rawData);
  const { lines: after, certificate } = await lintAfterSigning(der, { plan, subjectName, issuerName, authorityKeyId: issuerSki, issuerCertDer: req.issuerCert ? Buffer.from(req.issuerCert.rawData) : undefined }, policy);
  return {
    pem: toPem(der, 'CERTIFICATE'),
    der,
    serialHex: plan.serial.toString('hex'),
    fingerprint: fingerprintOf(req.subject.publicInfo.spkiDer),
    notBefore: notBefore.toISOString(),
    notAfter: notAfter.toISOString(),
    lint: [...before.map((l) => `before signing: ${l}`), ...after.map((l) => `after signing: ${l}`)],
    certificate,
    plan,
  };
}

/**
 * A self-signed root CA certificate for the token key `label`, signed inside the HSM.
 * Linted before signing (profile rules and key policy) and after (re-parsed, signature verified).
 */
export async function issueRootCertificate(
  session: HsmSession,
  opts: { label: string; profile: CertProfile; policy?: KeyPolicy; onSignature?: (e: SignatureEvent) => void },
): Promise<IssuedCertificate> {
  const key = findSigningKey(session, opts.label);
  const { plan: _plan, ...issued } = await issueCaCertificate(session, { kind: 'root', subject: key, issuer: key, issuerPurpose: opts.profile.purpose, profile: opts.profile, policy: opts.policy, onSignature: opts.onSignature });
  return issued;
}

/** Parse a PEM (or DER) certificate given by the caller; X509_CERT_INVALID when it is not one. */
export function parseCertificate(pemOrDer: string | Buffer, what: string): X509Certificate {
  try {
    return new X509Certificate(pemOrDer);
  } catch (e) {
    throw new KeyriteError('X509_CERT_INVALID', `The ${what} is not a readable X.509 certificate (${(e as Error).message}). Give the PEM file exported when that key was certified.`, { cause: e });
  }
}

/**
 * A cross-certificate: the key `subjectLabel` (a new root) certified by `issuerLabel` (the old
 * root), whose certificate `issuerCertPem` supplies the issuer name and key identifier. Refused
 * with X509_ISSUER_MISMATCH when that certificate is not for the issuer key.
 */
export async function issueCrossCertificate(
  session: HsmSession,
  opts: { issuerLabel: string; issuerCertPem: string; subjectLabel: string; profile: CertProfile; policy?: KeyPolicy; onSignature?: (e: SignatureEvent) => void },
): Promise<IssuedCertificate> {
  const issuerCert = parseCertificate(opts.issuerCertPem, "old root's certificate");
  const issuer = findSigningKey(session, opts.issuerLabel);
  if (!Buffer.from(issuerCert.publicKey.rawData).equals(issuer.publicInfo.spkiDer)) {
    throw new KeyriteError('X509_ISSUER_MISMATCH', `The certificate given for the issuer (subject '${issuerCert.subject}') is not for key '${opts.issuerLabel}': its public key differs. Give the certificate of key '${opts.issuerLabel}'.`, { details: { issuerLabel: opts.issuerLabel, certificateSubject: issuerCert.subject } });
  }
  const subjectKey = session.findOne({ class: 'public', label: opts.subjectLabel }, 'public key');
  const subject: KeyPair = { label: opts.subjectLabel, id: Buffer.alloc(0), privateKey: Buffer.alloc(0), publicKey: subjectKey, publicInfo: readPublicKey(session, subjectKey) };
  if (subject.publicInfo.spkiDer.equals(issuer.publicInfo.spkiDer)) {
    throw new KeyriteError('X509_CROSS_SAME_KEY', `Keys '${opts.issuerLabel}' and '${opts.subjectLabel}' are the same key; a cross-certificate certifies a new key with an old one.`, { details: { issuerLabel: opts.issuerLabel, subjectLabel: opts.subjectLabel } });
  }
  const { plan: _plan, ...issued } = await issueCaCertificate(session, {
    kind: 'cross',
    subject,
    issuer,
    issuerPurpose: 'root-signing',
    issuerName: issuerCert.subjectName,
    issuerCert,
    profile: opts.profile,
    policy: opts.policy,
    onSignature: opts.onSignature,
  });
  return issued;
}
