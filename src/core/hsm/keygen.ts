import { randomBytes } from 'node:crypto';
import { pkcs11js, type P11 } from './pkcs11js';
import { assertNever, isKeyriteError, KeyriteError } from '../errors';
import { requireKeyLabel } from '../text/plain-text';
import { describeKeyType } from '../keys/key-types';
import { describeKeySpec, type KeySpec } from './key-spec';
import { readPublicKey, type PublicKeyInfo } from './public-key';
import { attrBool, type Handle, type HsmSession } from './session';
import { signingKeyPairTemplates, toP11Template, type KeyCustody, type SigningKeyPairTemplates } from './templates';
import { mechanismName, signData, verifyWithPublicKey, type HashName, type SignatureAlgorithm } from './sign';

export interface KeyGenRequest {
  spec: KeySpec;
  label: string;
  /** CKA_ID; defaults to the label's UTF-8 bytes so keys can be found by either. */
  id?: Buffer;
  /** How the private key may ever leave the token (see KeyCustody); default: never. */
  custody?: KeyCustody;
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
  signRecover: boolean;
  decrypt: boolean;
  unwrap: boolean;
  derive: boolean;
  /** null: the token does not report the attribute (it cannot enforce it either). */
  wrapWithTrusted: boolean | null;
  modifiable: boolean | null;
  copyable: boolean | null;
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
  custody: KeyCustody;
  attributes: KeyAttributeReport;
}

/** The generation mechanism and pkcs11js templates for a signing key pair (see signingKeyPairTemplates). */
export function keyPairTemplates(req: KeyGenRequest): { mechanism: P11.Mechanism; publicTemplate: P11.Template; privateTemplate: P11.Template } {
  const t = signingKeyPairTemplates({ spec: req.spec, label: req.label, id: req.id ?? Buffer.from(req.label, 'utf8'), custody: req.custody ?? 'non-extractable' });
  return { mechanism: t.mechanism, publicTemplate: toP11Template(t.publicKey), privateTemplate: toP11Template(t.privateKey) };
}

/**
 * Generate a key pair in the token, then read back and check what the token made. A key whose
 * attributes differ from the request is destroyed at once (it was never used) and refused.
 */
export function generateKeyPair(session: HsmSession, req: KeyGenRequest): GeneratedKey {
  if (!req.label) throw new KeyriteError('KEY_LABEL_MISSING', 'A key label is required.');
  requireKeyLabel(req.label);
  const existing = session.find({ label: req.label });
  if (existing.length > 0) {
    throw new KeyriteError('HSM_LABEL_EXISTS', `Token '${session.token.label}' already holds ${existing.length} object(s) labelled '${req.label}'. Keyrite refuses to create a second key with the same label; choose another label or remove the old key in a destruction ceremony.`, { details: { label: req.label } });
  }
  const mech = req.spec.algorithm === 'rsa' ? pkcs11js.CKM_RSA_PKCS_KEY_PAIR_GEN : pkcs11js.CKM_EC_KEY_PAIR_GEN;
  session.requireMechanism(mech, req.spec.algorithm === 'rsa' ? 'CKM_RSA_PKCS_KEY_PAIR_GEN' : 'CKM_EC_KEY_PAIR_GEN', `generate an ${describeKeySpec(req.spec)} key`);
  const custody = req.custody ?? 'non-extractable';
  const templates = signingKeyPairTemplates({ spec: req.spec, label: req.label, id: req.id ?? Buffer.from(req.label, 'utf8'), custody });
  const pair = generateWithOptionalAttributes(session, templates);
  try {
    const attributes = readKeyAttributes(session, pair.privateKey, pair.publicKey);
    if (custody === 'wrap-with-trusted' && attributes.wrapWithTrusted !== true) {
      throw new KeyriteError('HSM_TRUSTED_WRAP_UNSUPPORTED', `Token '${session.token.label}' does not keep CKA_WRAP_WITH_TRUSTED on a new key, so it cannot restrict wrapping of the key to a security officer's trusted KEK. The key was destroyed unused. Use a token that enforces it, or — if the key policy permits (custody.untrusted-kek) — run the ceremony with --param trustedKek=false, which is recorded in the transcript.`, { details: { tokenLabel: session.token.label, wrapWithTrusted: attributes.wrapWithTrusted } });
    }
    const problems = attributeProblems(attributes, { custody, reportsLocal: session.module.profile.reportsLocal });
    const publicInfo = readPublicKey(session, pair.publicKey);
    if (publicInfo.algorithm !== req.spec.algorithm || publicInfo.bits !== req.spec.bits) {
      problems.push(`the public key is ${describeKeyType(publicInfo)}, not ${describeKeySpec(req.spec)}`);
    }
    if (problems.length > 0) {
      throw new KeyriteError('HSM_KEY_ATTRIBUTES_WRONG', `Token '${session.token.label}' generated a key that does not match what Keyrite asked for: ${problems.join('; ')}. The key was destroyed unused.`, { details: { problems, attributes } });
    }
    return { label: req.label, id: req.id ?? Buffer.from(req.label, 'utf8'), spec: req.spec, custody, privateKey: pair.privateKey, publicKey: pair.publicKey, publicInfo, attributes };
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

/**
 * CKA_COPYABLE is PKCS#11 2.40; a 2.20 token refuses it as an unknown attribute, and NSS softokn
 * fails the whole generation with CKR_GENERAL_ERROR (its profile says so). Such a token has
 * no C_CopyObject semantics to restrict either, so the pair is generated again without it (the
 * read-back then reports copyable as null, which the transcript records).
 */
function generateWithOptionalAttributes(session: HsmSession, t: SigningKeyPairTemplates): P11.KeyPair {
  // A module known to fail on it (its profile says so) is not asked at all.
  if (session.module.profile.copyableAttribute === false) {
    return session.generateKeyPair(t.mechanism, toP11Template(t.publicKey), toP11Template(t.privateKey, { omit: ['copyable'] }));
  }
  try {
    return session.generateKeyPair(t.mechanism, toP11Template(t.publicKey), toP11Template(t.privateKey));
  } catch (e) {
    if (!isKeyriteError(e, 'HSM_TEMPLATE_REFUSED') || e.details.ckr !== 'CKR_ATTRIBUTE_TYPE_INVALID') throw e;
    return session.generateKeyPair(t.mechanism, toP11Template(t.publicKey), toP11Template(t.privateKey, { omit: ['copyable'] }));
  }
}

export function readKeyAttributes(session: HsmSession, privateKey: Handle, publicKey: Handle): KeyAttributeReport {
  const A = pkcs11js;
  const p = session.getAttributesLenient(privateKey, [
    A.CKA_TOKEN, A.CKA_PRIVATE, A.CKA_SENSITIVE, A.CKA_ALWAYS_SENSITIVE, A.CKA_EXTRACTABLE, A.CKA_NEVER_EXTRACTABLE,
    A.CKA_LOCAL, A.CKA_SIGN, A.CKA_SIGN_RECOVER, A.CKA_DECRYPT, A.CKA_UNWRAP, A.CKA_DERIVE, A.CKA_WRAP_WITH_TRUSTED,
    A.CKA_MODIFIABLE, A.CKA_COPYABLE,
  ]);
  const q = session.getAttributesLenient(publicKey, [A.CKA_VERIFY, A.CKA_ENCRYPT, A.CKA_WRAP]);
  const b = (m: Map<number, Buffer | undefined>, t: number): boolean => attrBool(m.get(t)) ?? false;
  const optional = (t: number): boolean | null => attrBool(p.get(t)) ?? null;
  return {
    token: b(p, A.CKA_TOKEN),
    private: b(p, A.CKA_PRIVATE),
    sensitive: b(p, A.CKA_SENSITIVE),
    alwaysSensitive: b(p, A.CKA_ALWAYS_SENSITIVE),
    extractable: b(p, A.CKA_EXTRACTABLE),
    neverExtractable: b(p, A.CKA_NEVER_EXTRACTABLE),
    local: b(p, A.CKA_LOCAL),
    sign: b(p, A.CKA_SIGN),
    signRecover: b(p, A.CKA_SIGN_RECOVER),
    decrypt: b(p, A.CKA_DECRYPT),
    unwrap: b(p, A.CKA_UNWRAP),
    derive: b(p, A.CKA_DERIVE),
    wrapWithTrusted: optional(A.CKA_WRAP_WITH_TRUSTED),
    modifiable: optional(A.CKA_MODIFIABLE),
    copyable: optional(A.CKA_COPYABLE),
    publicVerify: b(q, A.CKA_VERIFY),
    publicEncrypt: b(q, A.CKA_ENCRYPT),
    publicWrap: b(q, A.CKA_WRAP),
  };
}

/**
 * The rules a ceremony signing key must satisfy. `local` and `alwaysSensitive` prove the key was
 * born in the token and never seen in the clear; the custody decides extractability. Modifiable
 * and copyable are checked where the token reports them (null: a token without the attribute).
 */
export function attributeProblems(a: KeyAttributeReport, req: { custody: KeyCustody; generated?: boolean; reportsLocal?: boolean }): string[] {
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
  expect(!a.signRecover, 'CKA_SIGN_RECOVER is true (signing keys make ordinary signatures only)');
  expect(!a.decrypt, 'CKA_DECRYPT is true (signing keys must not decrypt)');
  expect(!a.unwrap, 'CKA_UNWRAP is true (signing keys must not unwrap)');
  expect(!a.derive, 'CKA_DERIVE is true');
  expect(a.modifiable !== true, 'CKA_MODIFIABLE is true (its usage or custody could be changed later)');
  expect(a.copyable !== true, 'CKA_COPYABLE is true (a copy with weaker attributes could be made)');
  expect(a.publicVerify, 'the public key cannot verify');
  expect(!a.publicEncrypt, 'the public key can encrypt (signing keys must not)');
  expect(!a.publicWrap, 'the public key can wrap');
  switch (req.custody) {
    case 'non-extractable':
      expect(!a.extractable, 'CKA_EXTRACTABLE is true (the key could be exported)');
      expect(a.neverExtractable || req.generated === false, 'CKA_NEVER_EXTRACTABLE is false');
      break;
    case 'wrap-with-trusted':
      expect(a.extractable, 'CKA_EXTRACTABLE is false, so the key cannot be wrapped for backup');
      expect(a.wrapWithTrusted === true, 'CKA_WRAP_WITH_TRUSTED is not set (any wrapping key of the user could export the key)');
      break;
    case 'wrap-untrusted':
      expect(a.extractable, 'CKA_EXTRACTABLE is false, so the key cannot be wrapped for backup');
      break;
    default:
      assertNever(req.custody, 'key custody');
  }
  return problems;
}

/** The custody a key's attributes show (for keys found on the token, e.g. on resume). */
export function observedCustody(a: KeyAttributeReport): KeyCustody {
  if (!a.extractable) return 'non-extractable';
  return a.wrapWithTrusted === true ? 'wrap-with-trusted' : 'wrap-untrusted';
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
