// @peculiar/x509 needs the Reflect metadata API before it loads.
import 'reflect-metadata';
import { BasicConstraintsExtension, KeyUsagesExtension, Pkcs10CertificateRequest, Pkcs10CertificateRequestGenerator, SubjectKeyIdentifierExtension, type Extension } from '@peculiar/x509';
import { webcrypto } from 'node:crypto';
import { KeyriteError } from '../errors';
import type { HsmSession } from '../hsm/session';
import type { SignatureScheme } from '../hsm/sign';
import { chooseAlgorithm, signableAlgorithm, type ProfileHash } from './algorithm';
import { createHsmSigner, nodeCrypto, type SignatureEvent } from './hsm-crypto';
import { keyIdentifier } from './key-identifier';
import { keyUsageFlags, Lint, parsedSignatureAlgorithm } from './lint';
import { toPem } from './pem';
import { enforcePolicy, policyOrDefault, type KeyPolicy } from './policy-checks';
import { CA_EXTENSIONS, loadCertProfile, type CertProfile } from './profile';
import { findSigningKey } from './public-key';
import { parseSubject, subjectToName } from './subject';
import type { CryptoKey } from './webcrypto-types';

export interface CsrOptions {
  label: string;
  subject: string;
  hash?: ProfileHash;
  scheme?: SignatureScheme;
  /** Default: resources/profiles/csr.yaml (an intermediate CA key; requests CA extensions). */
  profile?: CertProfile;
  policy?: KeyPolicy;
  onSignature?: (e: SignatureEvent) => void;
}

/**
 * A PKCS#10 request for token key `label`, signed inside the HSM, for another CA to certify.
 * Checked against the key policy before signing; re-parsed and its signature verified after.
 */
export async function issueCsr(session: HsmSession, opts: CsrOptions): Promise<{ pem: string; der: Buffer; lint: string[] }> {
  const key = findSigningKey(session, opts.label);
  const name = subjectToName(parseSubject(opts.subject));
  const profile = opts.profile ?? loadCertProfile('csr');
  const policy = policyOrDefault(opts.policy);
  const chosen = chooseAlgorithm(key.publicInfo, { scheme: opts.scheme ?? profile.scheme, hash: opts.hash ?? profile.hash });
  const before = enforcePolicy(policy, {
    keys: [{ key: key.publicInfo, purpose: profile.purpose }],
    signature: { scheme: chosen.scheme, hash: chosen.hash, purpose: profile.purpose },
    validity: { purpose: profile.purpose, days: profile.days },
  });
  const alg = signableAlgorithm(chosen);
  const signer = createHsmSigner(session, key, alg, { purpose: 'csr', onSignature: opts.onSignature });
  // The generator exports the public key through the provider: give it a real WebCrypto key made from the token's SPKI.
  const publicKey = await webcrypto.subtle.importKey('spki', key.publicInfo.spkiDer, signer.algorithm as webcrypto.AlgorithmIdentifier, true, ['verify']);
  const ext = profile.extensions ?? CA_EXTENSIONS;
  const extensions: Extension[] = [
    new BasicConstraintsExtension(ext.basicConstraints.ca, profile.pathLength, ext.basicConstraints.critical),
    new KeyUsagesExtension(keyUsageFlags(ext.keyUsage.usages), ext.keyUsage.critical),
  ];
  if (ext.subjectKeyIdentifier) extensions.push(new SubjectKeyIdentifierExtension(keyIdentifier(key.publicInfo.spkiDer), false));
  const csr = await Pkcs10CertificateRequestGenerator.create(
    { name, keys: { publicKey: publicKey as unknown as CryptoKey, privateKey: signer.privateKey }, signingAlgorithm: signer.algorithm, extensions },
    signer.crypto,
  );
  const der = Buffer.from(csr.rawData);

  const lint = new Lint('after signing');
  let parsed: Pkcs10CertificateRequest;
  try {
    parsed = new Pkcs10CertificateRequest(der);
  } catch (e) {
    throw new KeyriteError('CERT_LINT_FAILED', `Request lint failed after signing (rule csr.parse): the request does not parse (${(e as Error).message}). Nothing was written.`, { details: { rule: 'csr.parse' }, cause: e });
  }
  lint.check('csr.subject.match', Buffer.from(parsed.subjectName.toArrayBuffer()).equals(Buffer.from(name.toArrayBuffer())), () => `subject '${parsed.subject}' is not the requested one`);
  lint.check('csr.spki.match', Buffer.from(parsed.publicKey.rawData).equals(key.publicInfo.spkiDer), () => "the request's public key is not the token key's");
  const sig = parsedSignatureAlgorithm(parsed.signatureAlgorithm as unknown as { name: string; hash?: unknown });
  lint.check('csr.signature-algorithm.match', sig.scheme === alg.scheme && sig.hash === alg.hash, () => `the request says ${sig.scheme} with ${sig.hash}, the plan was ${alg.scheme} with ${alg.hash}`);
  lint.check('csr.signature.verify', await parsed.verify(nodeCrypto), () => "the request's signature does not verify with its public key");
  return { pem: toPem(der, 'CERTIFICATE REQUEST'), der, lint: [...before.map((l) => `before signing: ${l}`), ...lint.lines.map((l) => `after signing: ${l}`)] };
}
