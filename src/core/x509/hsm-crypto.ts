import { webcrypto } from 'node:crypto';
import { KeyriteError } from '../errors';
import type { KeyPair } from '../hsm/keygen';
import { CURVES } from '../hsm/key-spec';
import type { HsmSession } from '../hsm/session';
import { signData, type SignatureAlgorithm } from '../hsm/sign';
import { webCryptoAlgorithm } from './algorithm';
import type { Algorithm, AlgorithmIdentifier, BufferSource, Crypto, CryptoKey } from './webcrypto-types';

/** Reported for every signature the token makes, so the transcript can record KEY_USED / SIGNATURE_GENERATED. */
export interface SignatureEvent {
  keyLabel: string;
  mechanism: string;
  /** SHA-256 (hex) of the bytes signed (the TBS structure), never the bytes themselves. */
  dataSha256: string;
  /** What was signed: 'root-certificate', 'csr' or 'cross-certificate'. */
  purpose: string;
}

export interface HsmSigner {
  /** Pass to every @peculiar/x509 generator call; the library's global provider is never used. */
  crypto: Crypto;
  /** Stands in for the private key: carries only its algorithm; signing goes to the token. */
  privateKey: CryptoKey;
  algorithm: Algorithm;
  signatures: SignatureEvent[];
}

const toBuffer = (data: BufferSource): Buffer =>
  ArrayBuffer.isView(data) ? Buffer.from(data.buffer, data.byteOffset, data.byteLength) : Buffer.from(data as ArrayBuffer);

/**
 * A WebCrypto provider whose `sign` is the HSM. Everything that is not signing with this one key
 * (digests for key identifiers, SPKI export, verification) goes to Node's WebCrypto; anything
 * else asked of it is refused so a library change cannot silently make it generate keys.
 */
export function createHsmSigner(
  session: HsmSession,
  pair: KeyPair,
  alg: SignatureAlgorithm,
  report: { purpose: string; onSignature?: (e: SignatureEvent) => void },
): HsmSigner {
  const algorithm = webCryptoAlgorithm(alg, pair.publicInfo);
  const privateKey = { type: 'private', extractable: false, algorithm, usages: ['sign'] } as unknown as CryptoKey;
  const signatures: SignatureEvent[] = [];
  const subtle = {
    async sign(requested: AlgorithmIdentifier, key: CryptoKey, data: BufferSource): Promise<ArrayBuffer> {
      if (key !== privateKey) throw new KeyriteError('X509_SIGNER_MISUSE', 'The HSM signer was asked to sign with a key it does not hold. This is a bug in Keyrite; report it.');
      const name = typeof requested === 'string' ? requested : requested.name;
      if (name !== algorithm.name) throw new KeyriteError('X509_SIGNER_MISUSE', `The certificate library asked for a ${name} signature, but the key signs with ${algorithm.name}. This is a bug in Keyrite; report it.`);
      const signed = signData(session, pair.privateKey, alg, toBuffer(data));
      if (alg.scheme === 'ecdsa' && pair.publicInfo.curve && signed.signature.length !== 2 * CURVES[pair.publicInfo.curve].coordinateBytes) {
        // The library turns raw r||s into DER by splitting at the curve size: a wrong length would corrupt it.
        throw new KeyriteError('HSM_SIGNATURE_INVALID', `Token '${session.token.label}' returned a ${signed.signature.length}-byte ECDSA signature for ${pair.publicInfo.curve}; expected raw r||s of ${2 * CURVES[pair.publicInfo.curve].coordinateBytes} bytes.`);
      }
      const event: SignatureEvent = { keyLabel: pair.label, mechanism: signed.mechanism, dataSha256: signed.dataSha256, purpose: report.purpose };
      signatures.push(event);
      report.onSignature?.(event);
      return new Uint8Array(signed.signature).buffer;
    },
    digest: (a: AlgorithmIdentifier, data: BufferSource) => webcrypto.subtle.digest(a, data),
    exportKey: (format: 'spki', key: CryptoKey) => webcrypto.subtle.exportKey(format, key as webcrypto.CryptoKey),
    importKey: (...args: Parameters<typeof webcrypto.subtle.importKey>) => webcrypto.subtle.importKey(...args),
    verify: (...args: Parameters<typeof webcrypto.subtle.verify>) => webcrypto.subtle.verify(...args),
  };
  const crypto = {
    subtle: new Proxy(subtle, {
      get(target, prop, receiver) {
        if (prop in target) return Reflect.get(target, prop, receiver);
        return () => {
          throw new KeyriteError('X509_SIGNER_MISUSE', `The certificate library asked the HSM signer for '${String(prop)}', which Keyrite does not provide. This is a bug in Keyrite; report it.`);
        };
      },
    }),
    // Random values come from the token's RNG, like the serial numbers.
    getRandomValues<T extends ArrayBufferView | null>(array: T): T {
      if (array) {
        const bytes = session.random(array.byteLength);
        new Uint8Array(array.buffer, array.byteOffset, array.byteLength).set(bytes);
      }
      return array;
    },
    randomUUID: () => webcrypto.randomUUID(),
  } as unknown as Crypto;
  return { crypto, privateKey, algorithm, signatures };
}

/** Node's WebCrypto, passed explicitly where the library verifies or hashes outside any signer. */
export const nodeCrypto = webcrypto as unknown as Crypto;
