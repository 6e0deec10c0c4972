import { constants, createHash, verify as nodeVerify, type KeyObject } from 'node:crypto';
import { pkcs11js, type P11 } from './pkcs11js';
import { KeyriteError } from '../errors';
import type { Handle, HsmSession } from './session';

export type HashName = 'SHA-256' | 'SHA-384' | 'SHA-512';
export type SignatureScheme = 'ecdsa' | 'rsa-pss' | 'rsa-pkcs1';

export interface SignatureAlgorithm {
  scheme: SignatureScheme;
  hash: HashName;
}

const HASH_LEN: Record<HashName, number> = { 'SHA-256': 32, 'SHA-384': 48, 'SHA-512': 64 };
const NODE_HASH: Record<HashName, string> = { 'SHA-256': 'sha256', 'SHA-384': 'sha384', 'SHA-512': 'sha512' };

const PSS_MECH: Record<HashName, { mech: number; hashAlg: number; mgf: number }> = {
  'SHA-256': { mech: pkcs11js.CKM_SHA256_RSA_PKCS_PSS, hashAlg: pkcs11js.CKM_SHA256, mgf: pkcs11js.CKG_MGF1_SHA256 },
  'SHA-384': { mech: pkcs11js.CKM_SHA384_RSA_PKCS_PSS, hashAlg: pkcs11js.CKM_SHA384, mgf: pkcs11js.CKG_MGF1_SHA384 },
  'SHA-512': { mech: pkcs11js.CKM_SHA512_RSA_PKCS_PSS, hashAlg: pkcs11js.CKM_SHA512, mgf: pkcs11js.CKG_MGF1_SHA512 },
};
const PKCS1_MECH: Record<HashName, number> = {
  'SHA-256': pkcs11js.CKM_SHA256_RSA_PKCS,
  'SHA-384': pkcs11js.CKM_SHA384_RSA_PKCS,
  'SHA-512': pkcs11js.CKM_SHA512_RSA_PKCS,
};

export function hashLength(hash: HashName): number {
  return HASH_LEN[hash];
}

export function digest(hash: HashName, data: Uint8Array): Buffer {
  return createHash(NODE_HASH[hash]).update(data).digest();
}

export function mechanismName(alg: SignatureAlgorithm): string {
  const h = alg.hash.replace('-', '');
  switch (alg.scheme) {
    case 'ecdsa':
      return `CKM_ECDSA (${alg.hash} computed by Keyrite)`;
    case 'rsa-pss':
      return `CKM_${h}_RSA_PKCS_PSS`;
    case 'rsa-pkcs1':
      return `CKM_${h}_RSA_PKCS`;
  }
}

export interface SignResult {
  /** RSA: the signature; ECDSA: raw r||s as the token returns it. */
  signature: Buffer;
  mechanism: string;
  /** SHA-256 of the data signed, hex: evidence for the transcript, never the data itself. */
  dataSha256: string;
}

/**
 * Sign inside the token. ECDSA: the digest is computed here and CKM_ECDSA signs it, which every
 * PKCS#11 token supports (hash-and-sign ECDSA mechanisms are optional). RSA: the token hashes.
 */
export function signData(session: HsmSession, privateKey: Handle, alg: SignatureAlgorithm, data: Buffer): SignResult {
  const dataSha256 = createHash('sha256').update(data).digest('hex');
  switch (alg.scheme) {
    case 'ecdsa': {
      const signature = session.sign({ mechanism: pkcs11js.CKM_ECDSA }, privateKey, digest(alg.hash, data), 256);
      return { signature, mechanism: mechanismName(alg), dataSha256 };
    }
    case 'rsa-pss': {
      const m = PSS_MECH[alg.hash];
      const mechanism: P11.Mechanism = {
        mechanism: m.mech,
        parameter: { type: pkcs11js.CK_PARAMS_RSA_PSS, hashAlg: m.hashAlg, mgf: m.mgf, saltLen: HASH_LEN[alg.hash] } as P11.RsaPSS,
      };
      return { signature: session.sign(mechanism, privateKey, data, 1024), mechanism: mechanismName(alg), dataSha256 };
    }
    case 'rsa-pkcs1':
      return { signature: session.sign({ mechanism: PKCS1_MECH[alg.hash] }, privateKey, data, 1024), mechanism: mechanismName(alg), dataSha256 };
  }
}

/** Verify outside the token with Node, so the check does not trust the HSM that signed. */
export function verifyWithPublicKey(publicKey: KeyObject, alg: SignatureAlgorithm, data: Buffer, signature: Buffer): boolean {
  const hash = NODE_HASH[alg.hash];
  switch (alg.scheme) {
    case 'ecdsa':
      return nodeVerify(hash, data, { key: publicKey, dsaEncoding: 'ieee-p1363' }, signature);
    case 'rsa-pss':
      return nodeVerify(hash, data, { key: publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: HASH_LEN[alg.hash] }, signature);
    case 'rsa-pkcs1':
      return nodeVerify(hash, data, { key: publicKey, padding: constants.RSA_PKCS1_PADDING }, signature);
  }
}

export function defaultSignatureAlgorithm(algorithm: 'rsa' | 'ec', bits: number): SignatureAlgorithm {
  if (algorithm === 'rsa') return { scheme: 'rsa-pss', hash: bits >= 4096 ? 'SHA-512' : bits >= 3072 ? 'SHA-384' : 'SHA-256' };
  return { scheme: 'ecdsa', hash: bits >= 521 ? 'SHA-512' : bits >= 384 ? 'SHA-384' : 'SHA-256' };
}

export function parseHashName(input: string): HashName {
  const t = input.toUpperCase().replace(/^SHA-?/, 'SHA-');
  if (t === 'SHA-256' || t === 'SHA-384' || t === 'SHA-512') return t;
  throw new KeyriteError('SIGNATURE_HASH_UNSUPPORTED', `Hash '${input}' is not allowed: use SHA-256, SHA-384 or SHA-512.`);
}
