import { KeyriteError } from '../errors';
import type { PublicKeyInfo } from '../hsm/public-key';
import { describeKeyType, keyTypeName } from '../keys/key-types';
import { defaultSignatureAlgorithm, type SignatureAlgorithm, type SignatureScheme } from '../hsm/sign';
import type { Algorithm } from './webcrypto-types';

/**
 * Hashes a profile may name. SHA-1 is accepted here only so that the key policy, not a parser,
 * refuses it (with its rule id) before anything is signed.
 */
export type ProfileHash = 'SHA-1' | 'SHA-256' | 'SHA-384' | 'SHA-512';

export interface RequestedAlgorithm {
  scheme?: SignatureScheme;
  hash?: ProfileHash;
}

/** The scheme/hash to sign with: the profile's choice, else Keyrite's default for the key. */
export function chooseAlgorithm(key: PublicKeyInfo, requested: RequestedAlgorithm): { scheme: SignatureScheme; hash: ProfileHash } {
  const fallback = defaultSignatureAlgorithm(key.algorithm, key.bits);
  const scheme = requested.scheme ?? fallback.scheme;
  const hash = requested.hash ?? fallback.hash;
  const fits = key.algorithm === 'ec' ? scheme === 'ecdsa' : scheme === 'rsa-pss' || scheme === 'rsa-pkcs1';
  if (!fits) {
    throw new KeyriteError('X509_ALGORITHM_MISMATCH', `A ${key.algorithm === 'ec' ? `EC ${key.curve}` : `RSA-${key.bits}`} key cannot sign with ${scheme}. Use ${key.algorithm === 'ec' ? 'ecdsa' : 'rsa-pss or rsa-pkcs1'} in the profile.`, { details: { scheme, keyAlgorithm: key.algorithm } });
  }
  return { scheme, hash };
}

/** Narrow to what the HSM signer can do; call only after the policy has passed the hash. */
export function signableAlgorithm(alg: { scheme: SignatureScheme; hash: ProfileHash }): SignatureAlgorithm {
  if (alg.hash === 'SHA-1') {
    throw new KeyriteError('POLICY_VIOLATION', 'SHA-1 is forbidden for signatures: it is broken. Use SHA-256, SHA-384 or SHA-512. (rule sig.hash.forbidden)', { details: { rule: 'sig.hash.forbidden', violations: [] } });
  }
  return { scheme: alg.scheme, hash: alg.hash };
}

/**
 * The WebCrypto algorithm @peculiar/x509 encodes as the certificate's signatureAlgorithm. It is
 * also the signing key's `algorithm`, because the generator lets the key's algorithm override.
 */
export function webCryptoAlgorithm(alg: SignatureAlgorithm, key: PublicKeyInfo): Algorithm & Record<string, unknown> {
  switch (alg.scheme) {
    case 'ecdsa':
      return { name: 'ECDSA', namedCurve: key.curve, hash: { name: alg.hash } };
    case 'rsa-pss':
      // Salt length = hash length, as signData's CKM_SHAxxx_RSA_PKCS_PSS parameters use.
      return { name: 'RSA-PSS', hash: { name: alg.hash }, saltLength: { 'SHA-256': 32, 'SHA-384': 48, 'SHA-512': 64 }[alg.hash] };
    case 'rsa-pkcs1':
      return { name: 'RSASSA-PKCS1-v1_5', hash: { name: alg.hash } };
  }
}

/** The policy's key-type string for a public key: 'rsa-3072', 'ec-p384'. */
export function policyKeyType(key: PublicKeyInfo): string {
  return keyTypeName(key);
}

export function describeKey(key: PublicKeyInfo): string {
  return describeKeyType(key);
}
