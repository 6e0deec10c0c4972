import { randomBytes } from 'node:crypto';
import { pkcs11js, type P11 } from './pkcs11js';
import { KeyriteError } from '../errors';
import { CURVES, describeKeySpec, type KeySpec } from './key-spec';
import { readPublicKey, type PublicKeyInfo } from './public-key';
import { attrBool, type Handle, type HsmSession } from './session';
import { mechanismName, signData, verifyWithPublicKey, type HashName, type SignatureAlgorithm } from './sign';

export interface KeyGenRequest {
  spec: KeySpec;
  label: string;
  /** CKA_ID; defaults to the label's UTF-8 bytes so keys can be found by either. */
  id?: Buffer;
  /**
   * Generate the private key extractable-but-sensitive so it can be wrapped under a KEK for
   * backup. Default false: non-extractable, the key can never leave the token.
   */
  wrappable?: boolean;
  /** With `wrappable`: also require a trusted wrapping key (CKA_WRAP_WITH_TRUSTED). */
  wrapWithTrusted?: boolean;
}

/** What the token says about the private key after generation; recorded as evidence. */
export interface KeyAttributeReport {
  token: boolean;
  private: boolean;
  sensitive: boolean;
  alwaysSensitive: boolean;
  extractable: boolean;
  neverExtractable: boolean;
  local: boolean;
  sign: boolean;
  decrypt: boolean;
  unwrap: boolean;
  derive: boolean;
  wrapWithTrusted: boolean | null;
  publicVerify: boolean;
  publicEncrypt: boolean;
  publicWrap: boolean;
}

export interface KeyPair {
  label: string;
  id: Buffer;
  privateKey: Handle;
  publicKey: Handle;
  publicInfo: PublicKeyInfo;
}

export interface GeneratedKey extends KeyPair {
  spec: KeySpec;
  attributes: KeyAttributeReport;
}

/**
 * Templates are explicit: every attribute that matters for safety is set, never left to the
 * token's defaults, and each line says why.
 */
export function keyPairTemplates(req: KeyGenRequest): { mechanism: P11.Mechanism; publicTemplate: P11.Template; privateTemplate: P11.Template } {
  const id = req.id ?? Buffer.from(req.label, 'utf8');
  const wrappable = req.wrappable === true;
  const publicTemplate: P11.Template = [
    { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PUBLIC_KEY },
    { type: pkcs11js.CKA_TOKEN, value: true }, // persists: the public half is exported later
    { type: pkcs11js.CKA_PRIVATE, value: false }, // public keys are readable without login
    { type: pkcs11js.CKA_LABEL, value: req.label },
    { type: pkcs11js.CKA_ID, value: id },
    { type: pkcs11js.CKA_VERIFY, value: true }, // signing key: verify only (key separation)
    { type: pkcs11js.CKA_ENCRYPT, value: false },
    { type: pkcs11js.CKA_WRAP, value: false },
    { type: pkcs11js.CKA_DERIVE, value: false },
  ];
  const privateTemplate: P11.Template = [
    { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PRIVATE_KEY },
    { type: pkcs11js.CKA_TOKEN, value: true }, // persists in the token
    { type: pkcs11js.CKA_PRIVATE, value: true }, // invisible without login
    { type: pkcs11js.CKA_LABEL, value: req.label },
    { type: pkcs11js.CKA_ID, value: id },
    { type: pkcs11js.CKA_SENSITIVE, value: true }, // never revealed in the clear
    { type: pkcs11js.CKA_EXTRACTABLE, value: wrappable }, // only wrapped (under the KEK) when asked for
    { type: pkcs11js.CKA_SIGN, value: true }, // signing only (key separation)
    { type: pkcs11js.CKA_DECRYPT, value: false },
    { type: pkcs11js.CKA_UNWRAP, value: false },
    { type: pkcs11js.CKA_DERIVE, value: false },
  ];
  if (wrappable && req.wrapWithTrusted) {
    privateTemplate.push({ type: pkcs11js.CKA_WRAP_WITH_TRUSTED, value: true }); // only a trusted KEK may wrap it
  }
  const spec = req.spec;
  if (spec.algorithm === 'rsa') {
    publicTemplate.push(
      { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_RSA },
      { type: pkcs11js.CKA_MODULUS_BITS, value: spec.bits },
      { type: pkcs11js.CKA_PUBLIC_EXPONENT, value: Buffer.from([0x01, 0x00, 0x01]) }, // F4
    );
    privateTemplate.push({ type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_RSA });
    return { mechanism: { mechanism: pkcs11js.CKM_RSA_PKCS_KEY_PAIR_GEN }, publicTemplate, privateTemplate };
  }
  publicTemplate.push(
    { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_EC },
    { type: pkcs11js.CKA_EC_PARAMS, value: CURVES[spec.curve].ecParams },
  );
  privateTemplate.push({ type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_EC });
  return { mechanism: { mechanism: pkcs11js.CKM_EC_KEY_PAIR_GEN }, publicTemplate, privateTemplate };
}

/**
 * Generate a key pair in the token, then read back and check what the token made. A key whose
 * attributes differ from the request is destroyed at once (it was never used) and refused.
 */
export function generateKeyPair(session: HsmSession, req: KeyGenRequest): GeneratedKey {
  if (!req.label) throw new KeyriteError('KEY_LABEL_MISSING', 'A key label is required.');
  const existing = session.find({ label: req.label });
  if (existing.length > 0) {
    throw new KeyriteError('HSM_LABEL_EXISTS', `Token '${session.token.label}' already holds ${existing.length} object(s) labelled '${req.label}'. Keyrite refuses to create a second key with the same label; choose another label or remove the old key in a destruction ceremony.`, { details: { label: req.label } });
  }
  const mech = req.spec.algorithm === 'rsa' ? pkcs11js.CKM_RSA_PKCS_KEY_PAIR_GEN : pkcs11js.CKM_EC_KEY_PAIR_GEN;
  session.requireMechanism(mech, req.spec.algorithm === 'rsa' ? 'CKM_RSA_PKCS_KEY_PAIR_GEN' : 'CKM_EC_KEY_PAIR_GEN', `generate an ${describeKeySpec(req.spec)} key`);
  const { mechanism, publicTemplate, privateTemplate } = keyPairTemplates(req);
  const pair = session.generateKeyPair(mechanism, publicTemplate, privateTemplate);
  try {
    const attributes = readKeyAttributes(session, pair.privateKey, pair.publicKey);
    const problems = attributeProblems(attributes, { ...req, reportsLocal: session.module.profile.reportsLocal });
    const publicInfo = readPublicKey(session, pair.publicKey);
    if (publicInfo.algorithm !== req.spec.algorithm || publicInfo.bits !== req.spec.bits) {
      problems.push(`the public key is ${publicInfo.algorithm.toUpperCase()}-${publicInfo.bits}, not ${describeKeySpec(req.spec)}`);
    }
    if (problems.length > 0) {
      throw new KeyriteError('HSM_KEY_ATTRIBUTES_WRONG', `Token '${session.token.label}' generated a key that does not match what Keyrite asked for: ${problems.join('; ')}. The key was destroyed unused.`, { details: { problems, attributes } });
    }
    return { label: req.label, id: req.id ?? Buffer.from(req.label, 'utf8'), spec: req.spec, privateKey: pair.privateKey, publicKey: pair.publicKey, publicInfo, attributes };
  } catch (e) {
    try {
      session.destroy(pair.privateKey);
      session.destroy(pair.publicKey);
    } catch {
      // The original error matters more than the cleanup.
    }
    throw e;
  }
}

export function readKeyAttributes(session: HsmSession, privateKey: Handle, publicKey: Handle): KeyAttributeReport {
  const A = pkcs11js;
  const p = session.getAttributesLenient(privateKey, [
    A.CKA_TOKEN, A.CKA_PRIVATE, A.CKA_SENSITIVE, A.CKA_ALWAYS_SENSITIVE, A.CKA_EXTRACTABLE, A.CKA_NEVER_EXTRACTABLE,
    A.CKA_LOCAL, A.CKA_SIGN, A.CKA_DECRYPT, A.CKA_UNWRAP, A.CKA_DERIVE, A.CKA_WRAP_WITH_TRUSTED,
  ]);
  const q = session.getAttributesLenient(publicKey, [A.CKA_VERIFY, A.CKA_ENCRYPT, A.CKA_WRAP]);
  const b = (m: Map<number, Buffer | undefined>, t: number): boolean => attrBool(m.get(t)) ?? false;
  const wwt = attrBool(p.get(A.CKA_WRAP_WITH_TRUSTED));
  return {
    token: b(p, A.CKA_TOKEN),
    private: b(p, A.CKA_PRIVATE),
    sensitive: b(p, A.CKA_SENSITIVE),
    alwaysSensitive: b(p, A.CKA_ALWAYS_SENSITIVE),
    extractable: b(p, A.CKA_EXTRACTABLE),
    neverExtractable: b(p, A.CKA_NEVER_EXTRACTABLE),
    local: b(p, A.CKA_LOCAL),
    sign: b(p, A.CKA_SIGN),
    decrypt: b(p, A.CKA_DECRYPT),
    unwrap: b(p, A.CKA_UNWRAP),
    derive: b(p, A.CKA_DERIVE),
    wrapWithTrusted: wwt === undefined ? null : wwt,
    publicVerify: b(q, A.CKA_VERIFY),
    publicEncrypt: b(q, A.CKA_ENCRYPT),
    publicWrap: b(q, A.CKA_WRAP),
  };
}

/**
 * The rules a freshly generated ceremony key must satisfy. `local` and `alwaysSensitive` prove
 * the key was born in the token and never seen in the clear.
 */
export function attributeProblems(a: KeyAttributeReport, req: { wrappable?: boolean; generated?: boolean; reportsLocal?: boolean }): string[] {
  const problems: string[] = [];
  const expect = (ok: boolean, text: string): void => {
    if (!ok) problems.push(text);
  };
  expect(a.token, 'CKA_TOKEN is false (the key would vanish with the session)');
  expect(a.private, 'CKA_PRIVATE is false');
  expect(a.sensitive, 'CKA_SENSITIVE is false (the key could be read in the clear)');
  expect(a.alwaysSensitive || req.generated === false, 'CKA_ALWAYS_SENSITIVE is false');
  // Some modules (NSS) report CKA_LOCAL=false even on keys they generated: their profile says so.
  expect(a.local || req.generated === false || req.reportsLocal === false, 'CKA_LOCAL is false (the key was not generated in the token)');
  expect(a.sign, 'CKA_SIGN is false');
  expect(!a.decrypt, 'CKA_DECRYPT is true (signing keys must not decrypt)');
  expect(!a.unwrap, 'CKA_UNWRAP is true (signing keys must not unwrap)');
  expect(!a.derive, 'CKA_DERIVE is true');
  expect(a.publicVerify, 'the public key cannot verify');
  expect(!a.publicEncrypt, 'the public key can encrypt (signing keys must not)');
  expect(!a.publicWrap, 'the public key can wrap');
  if (req.wrappable) {
    expect(a.extractable, 'CKA_EXTRACTABLE is false, so the key cannot be wrapped for backup');
  } else {
    expect(!a.extractable, 'CKA_EXTRACTABLE is true (the key could be exported)');
    expect(a.neverExtractable || req.generated === false, 'CKA_NEVER_EXTRACTABLE is false');
  }
  return problems;
}

export interface SelfTestResult {
  algorithm: string;
  mechanism: string;
  hash: HashName;
  challengeSha256: string;
  verifiedBy: 'node-crypto';
}

/** Self-test algorithms per key type: two hashes each, as the ceremony checklist asks. */
export function selfTestAlgorithms(spec: { algorithm: 'rsa' | 'ec' }): SignatureAlgorithm[] {
  return spec.algorithm === 'rsa'
    ? [{ scheme: 'rsa-pss', hash: 'SHA-256' }, { scheme: 'rsa-pss', hash: 'SHA-384' }]
    : [{ scheme: 'ecdsa', hash: 'SHA-256' }, { scheme: 'ecdsa', hash: 'SHA-384' }];
}

/**
 * Sign a fresh random challenge inside the token and verify it outside, with the public key the
 * token exported. Proves the pair works and the exported public key is the right one.
 */
export function selfTest(session: HsmSession, pair: KeyPair): SelfTestResult[] {
  const results: SelfTestResult[] = [];
  for (const alg of selfTestAlgorithms(pair.publicInfo)) {
    const challenge = Buffer.concat([Buffer.from('keyrite self-test\n'), randomBytes(32)]);
    const signed = signData(session, pair.privateKey, alg, challenge);
    if (!verifyWithPublicKey(pair.publicInfo.keyObject, alg, challenge, signed.signature)) {
      throw new KeyriteError('HSM_SELF_TEST_FAILED', `Self-test failed for key '${pair.label}': a ${mechanismName(alg)} signature made by the token does not verify with the key's public half. Do not use this key; destroy it and generate a new one.`, { details: { label: pair.label, mechanism: mechanismName(alg) } });
    }
    results.push({ algorithm: pair.publicInfo.algorithm, mechanism: signed.mechanism, hash: alg.hash, challengeSha256: signed.dataSha256, verifiedBy: 'node-crypto' });
  }
  return results;
}

/** Find a key pair by label (and optionally id). The public half must exist; the private half must too unless allowed missing. */
export function findKeyPair(session: HsmSession, label: string): KeyPair {
  const publicKey = session.findOne({ class: 'public', label }, 'public key');
  const privateKey = session.findOne({ class: 'private', label }, 'private key');
  const idRaw = session.getAttributes(privateKey, [pkcs11js.CKA_ID]).get(pkcs11js.CKA_ID) ?? Buffer.alloc(0);
  return { label, id: Buffer.from(idRaw), privateKey, publicKey, publicInfo: readPublicKey(session, publicKey) };
}
