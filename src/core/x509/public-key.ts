import { KeyriteError } from '../errors';
import type { KeyPair } from '../hsm/keygen';
import { readPublicKey } from '../hsm/public-key';
import { pkcs11js } from '../hsm/pkcs11js';
import type { HsmSession } from '../hsm/session';
import { fingerprintFromHex, type Fingerprint } from './fingerprint';
import { toPem } from './pem';

export interface ExportedPublicKey {
  spkiDer: Buffer;
  pem: string;
  fingerprint: Fingerprint;
  algorithm: 'rsa' | 'ec';
  bits: number;
}

/** The SPKI of a token key, built from its public attributes (no login needed for public objects). */
export function exportPublicKey(session: HsmSession, label: string): ExportedPublicKey {
  const handle = session.findOne({ class: 'public', label }, 'public key');
  const info = readPublicKey(session, handle);
  return { spkiDer: info.spkiDer, pem: toPem(info.spkiDer, 'PUBLIC KEY'), fingerprint: fingerprintFromHex(info.fingerprint), algorithm: info.algorithm, bits: info.bits };
}

/**
 * The key pair that will sign. HSM_KEY_NOT_FOUND when the label is unknown; X509_PRIVATE_KEY_MISSING
 * when only the public half is there (an imported public key, or the session is not logged in).
 */
export function findSigningKey(session: HsmSession, label: string): KeyPair {
  const publicKey = session.findOne({ class: 'public', label }, 'public key');
  const privates = session.find({ class: 'private', label });
  if (privates.length === 0) {
    const why = session.isLoggedIn ? 'Only its public half is on the token, so it cannot sign. Use the label of a key generated in this token.' : 'The session is not logged in, and private keys are only visible after login. Log in with the user PIN and retry.';
    throw new KeyriteError('X509_PRIVATE_KEY_MISSING', `Key '${label}' has no private key on token '${session.token.label}'. ${why}`, { details: { label, loggedIn: session.isLoggedIn !== null } });
  }
  const privateKey = privates.length === 1 ? privates[0] : session.findOne({ class: 'private', label }, 'private key');
  const id = session.getAttributes(privateKey, [pkcs11js.CKA_ID]).get(pkcs11js.CKA_ID) ?? Buffer.alloc(0);
  return { label, id: Buffer.from(id), privateKey, publicKey, publicInfo: readPublicKey(session, publicKey) };
}
