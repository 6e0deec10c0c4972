import { KeyriteError } from '../errors';
import { describeKeyType, keyTypeName, readKeyType } from '../keys/key-types';

/**
 * The key types Keyrite can generate. Parsed and refused before anything touches the HSM.
 * Written as `rsa-3072` or `ec-p384` on the command line and in ceremony scripts.
 */
export type KeyType = 'rsa-2048' | 'rsa-3072' | 'rsa-4096' | 'ec-p256' | 'ec-p384' | 'ec-p521';

export type KeySpec =
  | { type: KeyType; algorithm: 'rsa'; bits: 2048 | 3072 | 4096 }
  | { type: KeyType; algorithm: 'ec'; curve: EcCurve; bits: 256 | 384 | 521 };

export type EcCurve = 'P-256' | 'P-384' | 'P-521';

export interface CurveInfo {
  curve: EcCurve;
  bits: 256 | 384 | 521;
  /** DER of the named-curve OID, as CKA_EC_PARAMS wants it. */
  ecParams: Buffer;
  /** Bytes of one coordinate (and of r and s in a raw ECDSA signature). */
  coordinateBytes: number;
  /** Default hash for ECDSA with this curve. */
  hash: 'SHA-256' | 'SHA-384' | 'SHA-512';
  openssl: string;
}

export const CURVES: Record<EcCurve, CurveInfo> = {
  'P-256': { curve: 'P-256', bits: 256, ecParams: Buffer.from('06082a8648ce3d030107', 'hex'), coordinateBytes: 32, hash: 'SHA-256', openssl: 'prime256v1' },
  'P-384': { curve: 'P-384', bits: 384, ecParams: Buffer.from('06052b81040022', 'hex'), coordinateBytes: 48, hash: 'SHA-384', openssl: 'secp384r1' },
  'P-521': { curve: 'P-521', bits: 521, ecParams: Buffer.from('06052b81040023', 'hex'), coordinateBytes: 66, hash: 'SHA-512', openssl: 'secp521r1' },
};

export const KEY_TYPES: readonly KeyType[] = ['rsa-2048', 'rsa-3072', 'rsa-4096', 'ec-p256', 'ec-p384', 'ec-p521'];

/** A key type Keyrite can generate, read with the one reader (src/core/keys/key-types.ts); anything else is refused. */
export function parseKeyType(input: string): KeySpec {
  const read = readKeyType(input);
  if (read?.algorithm === 'rsa') {
    const bits = read.bits;
    if (bits === 2048 || bits === 3072 || bits === 4096) return { type: keyTypeName(read) as KeyType, algorithm: 'rsa', bits };
    throw new KeyriteError('KEY_TYPE_UNSUPPORTED', `RSA-${bits} is not supported: Keyrite generates RSA keys of 2048, 3072 or 4096 bits only.`, { details: { input } });
  }
  if (read?.algorithm === 'ec') {
    const n = read.bits;
    if (n === 256 || n === 384 || n === 521) return { type: keyTypeName(read) as KeyType, algorithm: 'ec', curve: read.curve as EcCurve, bits: n };
    throw new KeyriteError('KEY_TYPE_UNSUPPORTED', `Curve P-${n} is not supported: Keyrite generates EC keys on P-256, P-384 or P-521 only.`, { details: { input } });
  }
  throw new KeyriteError('KEY_TYPE_UNSUPPORTED', `Unknown key type '${input}'. Use one of: ${KEY_TYPES.join(', ')}.`, { details: { input } });
}

export function describeKeySpec(spec: KeySpec): string {
  return describeKeyType(spec);
}
