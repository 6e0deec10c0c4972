import { pkcs11js, type P11 } from './pkcs11js';
import { CURVES, type KeySpec } from './key-spec';

/**
 * PKCS#11 templates as typed objects, one documented field per CKA_* Keyrite sets (graphene's
 * model), built by one intention-named builder per purpose below. A field left undefined is not
 * sent; every builder states sensitive/extractable explicitly. Nothing else in Keyrite writes a
 * raw attribute array for a key.
 */
export interface KeyTemplate {
  /** CKA_CLASS */
  class: 'private' | 'public' | 'secret';
  /** CKA_KEY_TYPE */
  keyType: 'rsa' | 'ec' | 'aes';
  /** CKA_TOKEN: persists in the token (true) or dies with the session (false). */
  token: boolean;
  /** CKA_PRIVATE: visible only after login. */
  private: boolean;
  /** CKA_LABEL */
  label: string;
  /** CKA_ID */
  id?: Buffer;
  /** CKA_SENSITIVE: never readable in the clear. Secret and private keys state it. */
  sensitive?: boolean;
  /** CKA_EXTRACTABLE: may leave the token wrapped. Secret and private keys state it. */
  extractable?: boolean;
  /** CKA_WRAP_WITH_TRUSTED: may be wrapped only by a key with CKA_TRUSTED (made by the SO). */
  wrapWithTrusted?: boolean;
  /** CKA_TRUSTED: this key may wrap CKA_WRAP_WITH_TRUSTED keys; only the SO can set it. */
  trusted?: boolean;
  /** CKA_SIGN / CKA_SIGN_RECOVER / CKA_VERIFY / CKA_VERIFY_RECOVER */
  sign?: boolean;
  signRecover?: boolean;
  verify?: boolean;
  verifyRecover?: boolean;
  /** CKA_ENCRYPT / CKA_DECRYPT / CKA_WRAP / CKA_UNWRAP / CKA_DERIVE */
  encrypt?: boolean;
  decrypt?: boolean;
  wrap?: boolean;
  unwrap?: boolean;
  derive?: boolean;
  /** CKA_MODIFIABLE: attributes can be changed after creation. */
  modifiable?: boolean;
  /** CKA_COPYABLE (PKCS#11 2.40): C_CopyObject may duplicate it, possibly with weaker attributes. */
  copyable?: boolean;
  /** CKA_VALUE (secret keys imported into the token) */
  value?: Buffer;
  /** CKA_MODULUS_BITS / CKA_PUBLIC_EXPONENT / CKA_MODULUS (RSA) */
  modulusBits?: number;
  publicExponent?: Buffer;
  modulus?: Buffer;
  /** CKA_EC_PARAMS / CKA_EC_POINT (EC) */
  ecParams?: Buffer;
  ecPoint?: Buffer;
}

const A = pkcs11js;
const CLASS = { private: A.CKO_PRIVATE_KEY, public: A.CKO_PUBLIC_KEY, secret: A.CKO_SECRET_KEY } as const;
const KEY_TYPE = { rsa: A.CKK_RSA, ec: A.CKK_EC, aes: A.CKK_AES } as const;

/**
 * Field → CKA_*, in the order they are sent. CKA_MODIFIABLE goes last: SoftHSM applies an unwrap
 * template attribute by attribute and refuses any attribute after CKA_MODIFIABLE=false as a
 * change to a read-only object (docs/hsm-notes.md).
 */
const FIELDS: Array<[keyof KeyTemplate, number]> = [
  ['token', A.CKA_TOKEN], ['private', A.CKA_PRIVATE], ['label', A.CKA_LABEL], ['id', A.CKA_ID],
  ['sensitive', A.CKA_SENSITIVE], ['extractable', A.CKA_EXTRACTABLE], ['wrapWithTrusted', A.CKA_WRAP_WITH_TRUSTED], ['trusted', A.CKA_TRUSTED],
  ['sign', A.CKA_SIGN], ['signRecover', A.CKA_SIGN_RECOVER], ['verify', A.CKA_VERIFY], ['verifyRecover', A.CKA_VERIFY_RECOVER],
  ['encrypt', A.CKA_ENCRYPT], ['decrypt', A.CKA_DECRYPT], ['wrap', A.CKA_WRAP], ['unwrap', A.CKA_UNWRAP], ['derive', A.CKA_DERIVE],
  ['copyable', A.CKA_COPYABLE],
  ['value', A.CKA_VALUE], ['modulusBits', A.CKA_MODULUS_BITS], ['publicExponent', A.CKA_PUBLIC_EXPONENT], ['modulus', A.CKA_MODULUS],
  ['ecParams', A.CKA_EC_PARAMS], ['ecPoint', A.CKA_EC_POINT],
  ['modifiable', A.CKA_MODIFIABLE],
];

/** The pkcs11js attribute array for a typed template (a new array; the input is not touched). */
export function toP11Template(t: KeyTemplate, options: { omit?: Array<keyof KeyTemplate> } = {}): P11.Template {
  const out: P11.Template = [
    { type: A.CKA_CLASS, value: CLASS[t.class] },
    { type: A.CKA_KEY_TYPE, value: KEY_TYPE[t.keyType] },
  ];
  for (const [field, type] of FIELDS) {
    const value = t[field];
    if (value === undefined || options.omit?.includes(field)) continue;
    out.push({ type, value: value as P11.Template[number]['value'] });
  }
  return out;
}

/**
 * How a private signing key may ever leave the token:
 * - `non-extractable`: never (transcript keys, operators' test keys).
 * - `wrap-with-trusted`: only wrapped under a KEK the security officer marked CKA_TRUSTED; a user
 *   with the PIN cannot wrap it under a key of their choosing. The default for root keys.
 * - `wrap-untrusted`: wrapped under any wrapping key the user holds — an explicit,
 *   policy-permitted choice for tokens that do not enforce CKA_WRAP_WITH_TRUSTED.
 */
export type KeyCustody = 'non-extractable' | 'wrap-with-trusted' | 'wrap-untrusted';

export const KEY_CUSTODIES: readonly KeyCustody[] = ['non-extractable', 'wrap-with-trusted', 'wrap-untrusted'];

export interface SigningKeyPairTemplates {
  mechanism: P11.Mechanism;
  publicKey: KeyTemplate;
  privateKey: KeyTemplate;
}

/**
 * A ceremony signing key pair, generated in the token. The private half signs and does nothing
 * else (no sign-recover, decrypt, unwrap or derive: key separation), is sensitive, cannot be
 * changed or copied afterwards (so nobody can turn on a usage or make an extractable copy), and
 * is extractable only as its custody says.
 */
export function signingKeyPairTemplates(req: { spec: KeySpec; label: string; id: Buffer; custody: KeyCustody }): SigningKeyPairTemplates {
  const { spec, label, id, custody } = req;
  const keyType = spec.algorithm;
  const publicKey: KeyTemplate = {
    class: 'public',
    keyType,
    token: true, // persists: the public half is exported later
    private: false, // public keys are readable without login
    label,
    id,
    verify: true, // verify only (key separation)
    verifyRecover: false,
    encrypt: false,
    wrap: false,
    derive: false,
    modifiable: false, // nobody turns on encrypt/wrap later
    ...(spec.algorithm === 'rsa'
      ? { modulusBits: spec.bits, publicExponent: Buffer.from([0x01, 0x00, 0x01]) } // F4
      : { ecParams: CURVES[spec.curve].ecParams }),
  };
  const privateKey: KeyTemplate = {
    class: 'private',
    keyType,
    token: true, // persists in the token
    private: true, // invisible without login
    label,
    id,
    sensitive: true, // never revealed in the clear
    extractable: custody !== 'non-extractable', // leaves the token only wrapped, and only when its custody allows
    ...(custody === 'non-extractable' ? {} : { wrapWithTrusted: custody === 'wrap-with-trusted' }),
    sign: true, // signing only (key separation)
    signRecover: false, // recoverable signatures are a different use of the key
    decrypt: false,
    unwrap: false,
    derive: false,
    modifiable: false, // no later C_SetAttributeValue can widen its usage or custody
    copyable: false, // no C_CopyObject to a copy with weaker attributes
  };
  const mechanism = { mechanism: spec.algorithm === 'rsa' ? A.CKM_RSA_PKCS_KEY_PAIR_GEN : A.CKM_EC_KEY_PAIR_GEN };
  return { mechanism, publicKey, privateKey };
}

/**
 * A signing key restored from a backup (the unwrap template): sensitive, never extractable again
 * (a restored copy is not backed up from here), sign only, unchangeable, not copyable.
 */
export function restoredSigningKeyTemplate(spec: KeySpec, opts: { token: boolean; label: string; id: Buffer }): KeyTemplate {
  return {
    class: 'private',
    keyType: spec.algorithm,
    token: opts.token,
    private: true,
    label: opts.label,
    id: opts.id,
    sensitive: true,
    extractable: false,
    sign: true,
    signRecover: false,
    decrypt: false,
    unwrap: false,
    derive: false,
    modifiable: false,
    copyable: false,
  };
}

/** The public half of a restored key, imported from the backup's SPKI: verify only. */
export function importedVerifyKeyTemplate(spec: KeySpec, opts: { label: string; id: Buffer } & ({ modulus: Buffer; publicExponent: Buffer } | { ecPoint: Buffer })): KeyTemplate {
  const { label, id, ...material } = opts;
  return {
    class: 'public',
    keyType: spec.algorithm,
    token: true,
    private: false,
    label,
    id,
    verify: true,
    verifyRecover: false,
    encrypt: false,
    wrap: false,
    derive: false,
    modifiable: false,
    ...material,
    ...(spec.algorithm === 'ec' ? { ecParams: CURVES[spec.curve].ecParams } : {}),
  };
}

/**
 * An AES-256 KEK imported for one backup or restore: a session object (never stored in the
 * token), sensitive and non-extractable, wrap and/or unwrap only. Made by the security officer it
 * is CKA_TRUSTED (so it can wrap wrap-with-trusted keys) and public, since the SO can create
 * public objects only; a session object is still invisible to other applications.
 */
export function kekTemplate(value: Buffer, usage: { wrap: boolean; unwrap: boolean }, owner: 'user' | 'so'): KeyTemplate {
  return {
    class: 'secret',
    keyType: 'aes',
    value,
    token: false,
    private: owner === 'user',
    label: 'keyrite-kek (session)',
    sensitive: true,
    extractable: false,
    ...(owner === 'so' ? { trusted: true } : {}),
    wrap: usage.wrap,
    unwrap: usage.unwrap,
    encrypt: false,
    decrypt: false,
    sign: false,
    verify: false,
    derive: false,
  };
}

/**
 * A throw-away copy of the KEK whose only usage is the key check value: CKA_SIGN for AES-CMAC or
 * CKA_ENCRYPT for AES-ECB of a zero block. Keeps the KEK itself wrap/unwrap-only.
 */
export function kcvKeyTemplate(value: Buffer, method: 'aes-cmac' | 'aes-ecb'): KeyTemplate {
  return {
    class: 'secret',
    keyType: 'aes',
    value,
    token: false,
    private: true,
    label: 'keyrite-kcv (session)',
    sensitive: true,
    extractable: false,
    sign: method === 'aes-cmac',
    encrypt: method === 'aes-ecb',
    decrypt: false,
    verify: false,
    wrap: false,
    unwrap: false,
    derive: false,
  };
}
