import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { pkcs11js } from './pkcs11js';
import { KeyriteError } from '../errors';
import { CURVES, type EcCurve } from './key-spec';
import type { Handle, HsmSession } from './session';

export interface PublicKeyInfo {
  algorithm: 'rsa' | 'ec';
  /** Modulus bits for RSA, field bits for EC. */
  bits: number;
  curve?: EcCurve;
  keyObject: KeyObject;
  spkiDer: Buffer;
  /** SHA-256 of the SPKI DER, lowercase hex without separators. */
  fingerprint: string;
}

export function curveFromEcParams(ecParams: Buffer): EcCurve {
  for (const info of Object.values(CURVES)) {
    if (info.ecParams.equals(ecParams)) return info.curve;
  }
  throw new KeyriteError('HSM_CURVE_UNSUPPORTED', `The token's key uses an EC curve Keyrite does not support (parameters ${ecParams.toString('hex')}). Keyrite supports P-256, P-384 and P-521.`);
}

/**
 * CKA_EC_POINT is, per PKCS#11 v2.20+, a DER OCTET STRING wrapping the uncompressed point.
 * Some old modules return the bare point; accept both.
 */
export function unwrapEcPoint(raw: Buffer, coordinateBytes: number): Buffer {
  const pointLength = 1 + 2 * coordinateBytes;
  if (raw.length === pointLength && raw[0] === 0x04) return raw;
  if (raw[0] !== 0x04) throw new KeyriteError('HSM_PUBLIC_KEY_INVALID', 'The token returned an EC public point Keyrite cannot read (not an OCTET STRING).');
  let offset = 2;
  let length = raw[1];
  if (length & 0x80) {
    const n = length & 0x7f;
    length = 0;
    for (let i = 0; i < n; i++) length = (length << 8) | raw[2 + i];
    offset = 2 + n;
  }
  const point = raw.subarray(offset, offset + length);
  if (point.length !== pointLength || point[0] !== 0x04) {
    throw new KeyriteError('HSM_PUBLIC_KEY_INVALID', 'The token returned an EC public point that is not an uncompressed point of the expected size.');
  }
  return point;
}

const b64u = (b: Buffer): string => b.toString('base64url');

/** Build the public key from its token attributes; Node encodes the SPKI (no hand-written DER). */
export function readPublicKey(session: HsmSession, publicKey: Handle): PublicKeyInfo {
  const keyType = session.getAttributes(publicKey, [pkcs11js.CKA_KEY_TYPE]).get(pkcs11js.CKA_KEY_TYPE)!;
  const kt = keyType.length >= 8 ? Number(keyType.readBigUInt64LE(0)) : keyType.readUInt32LE(0);
  let keyObject: KeyObject;
  let bits: number;
  let curve: EcCurve | undefined;
  if (kt === pkcs11js.CKK_RSA) {
    const a = session.getAttributes(publicKey, [pkcs11js.CKA_MODULUS, pkcs11js.CKA_PUBLIC_EXPONENT]);
    const n = stripLeadingZeros(a.get(pkcs11js.CKA_MODULUS)!);
    const e = stripLeadingZeros(a.get(pkcs11js.CKA_PUBLIC_EXPONENT)!);
    keyObject = publicKeyFromJwk({ kty: 'RSA', n: b64u(n), e: b64u(e) });
    bits = n.length * 8 - Math.clz32(n[0]) + 24;
  } else if (kt === pkcs11js.CKK_EC) {
    const a = session.getAttributes(publicKey, [pkcs11js.CKA_EC_PARAMS, pkcs11js.CKA_EC_POINT]);
    curve = curveFromEcParams(a.get(pkcs11js.CKA_EC_PARAMS)!);
    const size = CURVES[curve].coordinateBytes;
    const point = unwrapEcPoint(a.get(pkcs11js.CKA_EC_POINT)!, size);
    keyObject = publicKeyFromJwk({ kty: 'EC', crv: curve, x: b64u(point.subarray(1, 1 + size)), y: b64u(point.subarray(1 + size)) });
    bits = CURVES[curve].bits;
  } else {
    throw new KeyriteError('HSM_KEY_TYPE_UNSUPPORTED', `The key is of PKCS#11 key type ${kt}, which Keyrite does not handle (RSA and EC only).`);
  }
  const spkiDer = keyObject.export({ type: 'spki', format: 'der' });
  return { algorithm: kt === pkcs11js.CKK_RSA ? 'rsa' : 'ec', bits, curve, keyObject, spkiDer, fingerprint: spkiFingerprint(spkiDer) };
}

/**
 * createPublicKey from a JWK, remembered by the JWK's exact members: importing an EC point checks
 * it (a scalar multiplication, ~1 ms for P-384) and a ceremony reads the same key back from the
 * token some ten times. The attributes are still read from the token each time and the key is
 * looked up by all of them, so a different key is never answered from here. KeyObjects are
 * immutable; callers get their own SPKI buffer (below).
 */
function publicKeyFromJwk(jwk: { kty: 'RSA'; n: string; e: string } | { kty: 'EC'; crv: string; x: string; y: string }): KeyObject {
  const id = jwk.kty === 'RSA' ? `RSA ${jwk.n} ${jwk.e}` : `EC ${jwk.crv} ${jwk.x} ${jwk.y}`;
  const known = importedKeys.get(id);
  if (known) return known;
  const key = createPublicKey({ key: jwk, format: 'jwk' });
  importedKeys.set(id, key);
  if (importedKeys.size > IMPORTED_KEYS_LIMIT) importedKeys.delete(importedKeys.keys().next().value as string);
  return key;
}
const importedKeys = new Map<string, KeyObject>();
const IMPORTED_KEYS_LIMIT = 64;

export function spkiFingerprint(spkiDer: Buffer): string {
  return createHash('sha256').update(spkiDer).digest('hex');
}

function stripLeadingZeros(b: Buffer): Buffer {
  let i = 0;
  while (i < b.length - 1 && b[i] === 0) i++;
  return b.subarray(i);
}
