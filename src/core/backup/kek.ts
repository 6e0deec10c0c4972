import { pkcs11js } from '../hsm/pkcs11js';
import { kcvKeyTemplate, kekTemplate, toP11Template } from '../hsm/templates';
import { KeyriteError, zeroize } from '../errors';
import type { Handle, HsmSession } from '../hsm/session';

export type KcvMethod = 'aes-cmac' | 'aes-ecb';
export type WrapTrust = 'trusted' | 'untrusted';

export const KEK_BYTES = 32;

function withValue<T>(kek: Uint8Array, fn: (value: Buffer) => T): T {
  const value = Buffer.from(kek); // pkcs11js wants a Buffer; this copy is zeroized at once
  try {
    return fn(value);
  } finally {
    zeroize(value);
  }
}

/** Import the KEK as a session key usable only to wrap/unwrap (as the logged-in user). */
export function importKek(session: HsmSession, kek: Uint8Array, usage: { wrap: boolean; unwrap: boolean }): Handle {
  requireKekLength(kek);
  return withValue(kek, (value) => session.createObject(toP11Template(kekTemplate(value, usage, 'user')), 'import the backup KEK'));
}

/**
 * Import the KEK as a TRUSTED session key, for keys generated with CKA_WRAP_WITH_TRUSTED. Only
 * the security officer may set CKA_TRUSTED, and the SO and the user cannot be logged in at the
 * same time, so: user out, SO in, create, SO out, user back in. Private-key handles obtained
 * before this are invalid afterwards (look keys up again).
 */
export function importTrustedKek(session: HsmSession, kek: Uint8Array, pins: { user: string; so: string }): Handle {
  requireKekLength(kek);
  session.logout();
  let handle: Handle | undefined;
  try {
    session.login(pins.so, 'so');
    handle = withValue(kek, (value) => session.createObject(toP11Template(kekTemplate(value, { wrap: true, unwrap: true }, 'so')), 'import the trusted backup KEK (as security officer)'));
  } finally {
    session.logout();
    session.login(pins.user, 'user');
  }
  return handle;
}

export function destroyKek(session: HsmSession, handle: Handle | undefined): void {
  if (!handle) return;
  try {
    session.destroy(handle);
  } catch {
    // A session object dies with the session anyway; the original error (if any) matters more.
  }
}

/** The KCV method this token offers: AES-CMAC when it has CKM_AES_CMAC, else AES-ECB. */
export function chooseKcvMethod(session: HsmSession, prefer?: KcvMethod): KcvMethod {
  const mechs = session.mechanisms();
  const cmac = mechs.includes(pkcs11js.CKM_AES_CMAC);
  const ecb = mechs.includes(pkcs11js.CKM_AES_ECB);
  if (prefer === 'aes-ecb' && ecb) return 'aes-ecb';
  if (cmac && prefer !== 'aes-ecb') return 'aes-cmac';
  if (ecb) return 'aes-ecb';
  throw new KeyriteError('HSM_MECHANISM_UNSUPPORTED', `Token '${session.token.label}' supports neither CKM_AES_CMAC nor CKM_AES_ECB, so Keyrite cannot compute the KEK check value. Use an HSM that offers one of them.`, { details: { mechanism: 'CKM_AES_CMAC | CKM_AES_ECB' } });
}

/**
 * Key check value, computed inside the HSM: AES-CMAC (or AES-ECB) of one 16-byte zero block,
 * first 8 bytes, lowercase hex. It runs on a throw-away copy of the key whose only usage is
 * CKA_SIGN (CMAC) or CKA_ENCRYPT (ECB), destroyed right after; the KEK object itself stays
 * wrap/unwrap-only.
 */
export function computeKcv(session: HsmSession, kek: Uint8Array, method: KcvMethod): string {
  requireKekLength(kek);
  const A = pkcs11js;
  const mech = method === 'aes-cmac' ? A.CKM_AES_CMAC : A.CKM_AES_ECB;
  session.requireMechanism(mech, method === 'aes-cmac' ? 'CKM_AES_CMAC' : 'CKM_AES_ECB', 'check the KEK (key check value)');
  const handle = withValue(kek, (value) =>
    session.createObject(toP11Template(kcvKeyTemplate(value, method)), 'prepare the KEK check value'),
  );
  try {
    const zero = Buffer.alloc(16);
    const out = method === 'aes-cmac' ? session.sign({ mechanism: mech }, handle, zero, 16) : session.encrypt({ mechanism: mech }, handle, zero, 16);
    return out.subarray(0, 8).toString('hex');
  } finally {
    destroyKek(session, handle);
  }
}

function requireKekLength(kek: Uint8Array): void {
  if (kek.length !== KEK_BYTES) throw new KeyriteError('INTERNAL_KEK_LENGTH', `A KEK is ${KEK_BYTES} bytes, not ${kek.length}.`);
}
