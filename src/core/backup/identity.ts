import { createPublicKey, randomBytes, type KeyObject } from 'node:crypto';
import { pkcs11js, type P11 } from '../hsm/pkcs11js';
import { assertNever, KeyriteError } from '../errors';
import type { HsmProfile } from '../hsm/profile';
import { parseKeyType, type KeySpec } from '../hsm/key-spec';
import { importedVerifyKeyTemplate, restoredSigningKeyTemplate, toP11Template } from '../hsm/templates';
import { spkiFingerprint } from '../hsm/public-key';
import { attrBool, type Handle, type HsmSession } from '../hsm/session';
import { defaultSignatureAlgorithm, signData, verifyWithPublicKey } from '../hsm/sign';

/** Evidence that a key in a token is the key that was backed up. Not secret. */
export interface IdentityProof {
  fingerprintMatches: boolean;
  spkiSha256: string;
  signatureVerified: boolean;
  mechanism: string;
  challengeSha256: string;
}

export interface KeyIdentity {
  keyType: string;
  spkiDer: string; // base64
  spkiSha256: string;
}

/**
 * Prove `privateKey` is the backed-up key: every fingerprint we can get from the token equals the
 * backup's, and a signature made in the token over a fresh challenge verifies under the ORIGINAL
 * public key (checked by Node, not by the token).
 */
export function proveIdentity(session: HsmSession, privateKey: Handle, identity: KeyIdentity, tokenFingerprints: string[]): IdentityProof {
  const spki = Buffer.from(identity.spkiDer, 'base64');
  const spec = parseKeyType(identity.keyType);
  const original = createPublicKey({ key: spki, format: 'der', type: 'spki' });
  const alg = defaultSignatureAlgorithm(spec.algorithm, spec.bits);
  const fingerprints = [spkiFingerprint(spki), ...tokenFingerprints];
  const fingerprintMatches = fingerprints.every((f) => f === identity.spkiSha256);
  const challenge = Buffer.concat([Buffer.from('keyrite backup identity check\n'), randomBytes(32)]);
  const signed = signData(session, privateKey, alg, challenge);
  const signatureVerified = verifyWithPublicKey(original, alg, challenge, signed.signature);
  return { fingerprintMatches, spkiSha256: identity.spkiSha256, signatureVerified, mechanism: signed.mechanism, challengeSha256: signed.dataSha256 };
}

export function assertProof(proof: IdentityProof, where: string): void {
  if (!proof.fingerprintMatches || !proof.signatureVerified) {
    const what = !proof.fingerprintMatches ? 'its public key fingerprint differs from the backup\'s' : 'a signature it made does not verify under the original public key';
    throw new KeyriteError('BACKUP_IDENTITY_MISMATCH', `The key unwrapped ${where} is not the key that was backed up: ${what}. It was destroyed; do not rely on this backup.`, { details: { ...proof } });
  }
}

/** RSA private keys carry their modulus and exponent in the clear: a second fingerprint. */
export function privateKeyFingerprints(session: HsmSession, privateKey: Handle, spec: KeySpec): string[] {
  if (spec.algorithm !== 'rsa') return []; // EC private keys do not carry the public point (CKA_EC_POINT) in PKCS#11
  const a = session.getAttributesLenient(privateKey, [pkcs11js.CKA_MODULUS, pkcs11js.CKA_PUBLIC_EXPONENT]);
  const n = a.get(pkcs11js.CKA_MODULUS);
  const e = a.get(pkcs11js.CKA_PUBLIC_EXPONENT);
  if (!n || !e) return [];
  const key = createPublicKey({ key: { kty: 'RSA', n: strip(n).toString('base64url'), e: strip(e).toString('base64url') }, format: 'jwk' });
  return [spkiFingerprint(key.export({ type: 'spki', format: 'der' }))];
}

/** Public key object template from the backup's SPKI (verify only, like keygen makes it). */
export function publicKeyTemplate(spkiDer: Buffer, spec: KeySpec, label: string, id: Buffer): P11.Template {
  const key: KeyObject = createPublicKey({ key: spkiDer, format: 'der', type: 'spki' });
  const jwk = key.export({ format: 'jwk' });
  if (spec.algorithm === 'rsa') {
    return toP11Template(importedVerifyKeyTemplate(spec, { label, id, modulus: Buffer.from(jwk.n!, 'base64url'), publicExponent: Buffer.from(jwk.e!, 'base64url') }));
  }
  const point = Buffer.concat([Buffer.from([0x04]), Buffer.from(jwk.x!, 'base64url'), Buffer.from(jwk.y!, 'base64url')]);
  return toP11Template(importedVerifyKeyTemplate(spec, { label, id, ecPoint: derOctetString(point) }));
}

/**
 * Vendor attributes the target module's profile needs on a private-key unwrap (NSS: CKA_NSS_DB
 * = the EC public point), with values taken from the backup's SPKI.
 */
export function vendorUnwrapAttributes(profile: HsmProfile, spec: KeySpec, spkiDer: Buffer): P11.Template {
  return profile.unwrapAttributes
    .filter((a) => a.keyTypes.includes(spec.algorithm))
    .map((a) => {
      switch (a.value) {
        case 'ec-point':
          return { type: a.type, value: ecPoint(spkiDer) };
        default:
          return assertNever(a.value, 'unwrap attribute value source');
      }
    });
}

/** The uncompressed EC point (04 ‖ x ‖ y) of an EC SPKI. */
function ecPoint(spkiDer: Buffer): Buffer {
  const jwk = createPublicKey({ key: spkiDer, format: 'der', type: 'spki' }).export({ format: 'jwk' });
  if (!jwk.x || !jwk.y) throw new KeyriteError('BACKUP_INVALID', 'The backup\'s public key is not an EC key, so its point cannot be given to the token.');
  return Buffer.concat([Buffer.from([0x04]), Buffer.from(jwk.x, 'base64url'), Buffer.from(jwk.y, 'base64url')]);
}

/**
 * Private key template for an unwrapped key: sensitive, never extractable again, sign only, and
 * unchangeable when `locked`. Unlocked, CKA_MODIFIABLE is left to the token: some modules ignore
 * part of an unwrap template (NSS adds CKA_DECRYPT to RSA keys, CKA_DERIVE to EC keys), and only a modifiable key can
 * have that usage switched off again before lockRestoredKey makes it unchangeable.
 * CKA_COPYABLE is left out where the module's profile says it fails on it (NSS).
 */
export function unwrapTemplate(spec: KeySpec, opts: { token: boolean; label: string; id: Buffer; vendor?: P11.Template; copyableAttribute?: boolean; locked?: boolean }): P11.Template {
  const omit: Array<'modifiable' | 'copyable'> = [...(opts.locked ? [] : ['modifiable' as const]), ...(opts.copyableAttribute === false ? ['copyable' as const] : [])];
  return [...(opts.vendor ?? []), ...toP11Template(restoredSigningKeyTemplate(spec, opts), { omit })];
}

/** The checked attributes of an unwrapped key that differ from what its template asked for. */
export function unwrapAttributesWrong(session: HsmSession, key: Handle, template: P11.Template): number[] {
  const A = pkcs11js;
  const checked = [A.CKA_SENSITIVE, A.CKA_EXTRACTABLE, A.CKA_SIGN, A.CKA_DECRYPT, A.CKA_UNWRAP, A.CKA_DERIVE, A.CKA_PRIVATE];
  const wanted = new Map(template.filter((a) => checked.includes(a.type) && typeof a.value === 'boolean').map((a) => [a.type, a.value as boolean]));
  const got = session.getAttributesLenient(key, [...wanted.keys()]);
  return [...wanted.entries()].filter(([t, v]) => got.get(t) !== undefined && (got.get(t)![0] !== 0) !== v).map(([t]) => t);
}

/**
 * Read back what the token made of an unwrap template and insist on it: some modules ignore part
 * of the template (NSS sets CKA_DECRYPT on an unwrapped RSA key). A usage flag the token added is
 * switched off where the token allows it; anything still wrong is refused (the caller destroys
 * the key).
 */
export function enforceUnwrapTemplate(session: HsmSession, key: Handle, template: P11.Template, where: string): void {
  const A = pkcs11js;
  const wrong = (): number[] => unwrapAttributesWrong(session, key, template);
  let bad = wrong();
  // Only usage flags may be switched off afterwards; SENSITIVE/EXTRACTABLE/PRIVATE wrong means a broken token.
  const fixable = bad.filter((t) => [A.CKA_DECRYPT, A.CKA_UNWRAP, A.CKA_DERIVE].includes(t) && template.some((a) => a.type === t && a.value === false));
  if (fixable.length > 0 && fixable.length === bad.length) {
    try {
      session.setAttributes(key, fixable.map((type) => ({ type, value: false })));
    } catch {
      // Reported below with the attributes that stayed wrong.
    }
    bad = wrong();
  }
  if (bad.length > 0) {
    const names = bad.map((t) => attributeName(t)).join(', ');
    throw new KeyriteError('BACKUP_RESTORED_ATTRIBUTES', `Token '${session.token.label}' did not give the key unwrapped ${where} the attributes Keyrite asked for (${names} wrong, and the token would not change them). It was destroyed; a restored ceremony key must be sensitive, non-extractable and sign-only.`, { details: { attributes: bad.map((t) => attributeName(t)) } });
  }
}

/**
 * Make a restored key an unchangeable token object once its attributes are right (docs/formats.md:
 * restored keys are non-modifiable); returns its handle. Left modifiable, anyone with the user PIN
 * could later turn a usage on (decrypt, derive, sign-recover) or relabel it. A key unwrapped
 * changeable — a session object, so that a usage the token added could be switched off — is
 * copied into the token with CKA_MODIFIABLE false (PKCS#11 lets a copy be more restricted, and
 * NSS, which adds those usages, keeps CKA_MODIFIABLE as created), the copy is checked and the
 * session object destroyed. A token that cannot is refused like any other attribute it would not
 * give (the caller destroys the key).
 */
export function lockRestoredKey(session: HsmSession, key: Handle, template: P11.Template, where: string): Handle {
  const A = pkcs11js;
  const locked = (h: Handle): boolean => isLockedTokenObject(session, h);
  if (locked(key)) return key;
  let copy: Handle | undefined;
  try {
    copy = session.copyObject(key, [{ type: A.CKA_TOKEN, value: true }, { type: A.CKA_MODIFIABLE, value: false }], 'make the restored key unchangeable');
    if (locked(copy) && unwrapAttributesWrong(session, copy, template).length === 0) {
      session.destroy(key);
      return copy;
    }
  } catch {
    // Reported below.
  }
  if (copy) {
    try {
      session.destroy(copy);
    } catch {
      // The caller destroys the original; a leftover copy is found by label and refused next time.
    }
  }
  throw new KeyriteError('BACKUP_RESTORED_ATTRIBUTES', `Token '${session.token.label}' did not give the key unwrapped ${where} the attributes Keyrite asked for (CKA_MODIFIABLE wrong, and the token would not make an unchangeable copy). It was destroyed; a restored ceremony key must be sensitive, non-extractable, sign-only and unchangeable.`, { details: { attributes: ['CKA_MODIFIABLE'] } });
}

/** A token object (it outlives the session) that cannot be changed (CKA_MODIFIABLE false). */
export function isLockedTokenObject(session: HsmSession, h: Handle): boolean {
  const A = pkcs11js;
  const a = session.getAttributesLenient(h, [A.CKA_MODIFIABLE, A.CKA_TOKEN]);
  return attrBool(a.get(A.CKA_MODIFIABLE)) === false && attrBool(a.get(A.CKA_TOKEN)) === true;
}

function attributeName(type: number): string {
  const A = pkcs11js;
  const names: Record<number, string> = { [A.CKA_SENSITIVE]: 'CKA_SENSITIVE', [A.CKA_EXTRACTABLE]: 'CKA_EXTRACTABLE', [A.CKA_SIGN]: 'CKA_SIGN', [A.CKA_DECRYPT]: 'CKA_DECRYPT', [A.CKA_UNWRAP]: 'CKA_UNWRAP', [A.CKA_DERIVE]: 'CKA_DERIVE', [A.CKA_PRIVATE]: 'CKA_PRIVATE' };
  return names[type] ?? `0x${type.toString(16)}`;
}

function derOctetString(content: Buffer): Buffer {
  const len = content.length;
  const header = len < 0x80 ? Buffer.from([0x04, len]) : len < 0x100 ? Buffer.from([0x04, 0x81, len]) : Buffer.from([0x04, 0x82, len >> 8, len & 0xff]);
  return Buffer.concat([header, content]);
}

function strip(b: Buffer): Buffer {
  let i = 0;
  while (i < b.length - 1 && b[i] === 0) i++;
  return b.subarray(i);
}
