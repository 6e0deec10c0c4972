import { normalizePin } from './pin';
import { pkcs11js, type P11 } from './pkcs11js';
import { KeyriteError } from '../errors';
import { ckrCall, ckrName, toHsmError } from './ckr';
import type { Pkcs11Module } from './pkcs11-module';
import { pinAttemptsHint, readToken, type TokenSummary } from './token';

export type Handle = Buffer;
export type ObjectClass = 'private' | 'public' | 'secret';
export type UserType = 'user' | 'so';

const CLASS: Record<ObjectClass, number> = {
  private: pkcs11js.CKO_PRIVATE_KEY,
  public: pkcs11js.CKO_PUBLIC_KEY,
  secret: pkcs11js.CKO_SECRET_KEY,
};

export interface ObjectQuery {
  class?: ObjectClass;
  label?: string;
  id?: Buffer;
}

/**
 * One read/write session on one token. Every PKCS#11 call goes through `call()`, which turns a
 * CKR_* failure into a KeyriteError naming the token and the operation.
 */
export class HsmSession {
  private loggedIn: UserType | null = null;
  private open = true;

  private constructor(
    readonly module: Pkcs11Module,
    readonly token: TokenSummary,
    readonly handle: Handle,
  ) {}

  static open(module: Pkcs11Module, token: TokenSummary): HsmSession {
    const handle = ckrCall({ operation: 'open a session', tokenLabel: token.label }, () =>
      module.api.C_OpenSession(token.slot, pkcs11js.CKF_RW_SESSION | pkcs11js.CKF_SERIAL_SESSION),
    );
    return new HsmSession(module, token, handle);
  }

  get api(): P11.PKCS11 {
    return this.module.api;
  }

  get isLoggedIn(): UserType | null {
    return this.loggedIn;
  }

  call<T>(operation: string, fn: (api: P11.PKCS11, session: Handle) => T): T {
    if (!this.open) {
      throw new KeyriteError('HSM_SESSION_CLOSED', `The session with token '${this.token.label}' is already closed, so Keyrite cannot ${operation}. Retry this step.`, { details: { operation } });
    }
    return ckrCall({ operation, tokenLabel: this.token.label }, () => fn(this.module.api, this.handle));
  }

  /**
   * Log in. A wrong PIN is reported with what the token says about the attempts left (read from
   * the token flags right after the failure). The PIN itself goes no further than C_Login.
   */
  login(rawPin: string, user: UserType = 'user'): void {
    const type = user === 'user' ? pkcs11js.CKU_USER : pkcs11js.CKU_SO;
    const pin = normalizePin(rawPin, user === 'so' ? 'the SO PIN' : 'the PIN'); // every source, one rule
    try {
      this.module.api.C_Login(this.handle, type, pin);
    } catch (e) {
      const ckr = ckrName(e);
      if (ckr === 'CKR_USER_ALREADY_LOGGED_IN' || ckr === 'CKR_USER_ANOTHER_ALREADY_LOGGED_IN') {
        // PKCS#11 login state belongs to the application, not the session: another session of
        // this process is logged in. Log out and in again so this PIN is still checked; the other
        // session's holder will be asked for its PIN again when it next needs the token.
        this.module.api.C_Logout(this.handle);
        this.loggedIn = null;
        this.login(pin, user);
        return;
      }
      if (ckr === 'CKR_PIN_INCORRECT' || ckr === 'CKR_PIN_LEN_RANGE') {
        const flags = readToken(this.module, this.token.slot).flags;
        if ((user === 'user' && flags.userPinLocked) || (user === 'so' && flags.soPinLocked)) {
          throw toHsmError(Object.assign(new Error('CKR_PIN_LOCKED'), { cause: e }), { operation: 'log in', tokenLabel: this.token.label });
        }
        const err = toHsmError(e, { operation: 'log in', tokenLabel: this.token.label, hint: pinAttemptsHint(flags, user) });
        err.details.user = user;
        err.details.finalTry = user === 'user' ? flags.userPinFinalTry : flags.soPinFinalTry;
        err.details.countLow = user === 'user' ? flags.userPinCountLow : flags.soPinCountLow;
        throw err;
      }
      throw toHsmError(e, { operation: 'log in', tokenLabel: this.token.label });
    }
    this.loggedIn = user;
  }

  logout(): void {
    if (!this.loggedIn) return;
    try {
      this.module.api.C_Logout(this.handle);
    } catch (e) {
      if (ckrName(e) !== 'CKR_USER_NOT_LOGGED_IN') throw toHsmError(e, { operation: 'log out', tokenLabel: this.token.label });
    }
    this.loggedIn = null;
  }

  /** Log out (if needed) and close. Never throws: it runs in finally blocks. */
  close(): void {
    if (!this.open) return;
    try {
      if (this.loggedIn) this.module.api.C_Logout(this.handle);
    } catch {
      // The session may already be gone (token removed); closing must still proceed.
    }
    try {
      this.module.api.C_CloseSession(this.handle);
    } catch {
      // Same as above.
    }
    this.loggedIn = null;
    this.open = false;
  }

  random(length: number): Buffer {
    return this.call('generate random bytes', (api, s) => api.C_GenerateRandom(s, Buffer.alloc(length)));
  }

  find(query: ObjectQuery, max = 64): Handle[] {
    const template: P11.Template = [];
    if (query.class) template.push({ type: pkcs11js.CKA_CLASS, value: CLASS[query.class] });
    if (query.label !== undefined) template.push({ type: pkcs11js.CKA_LABEL, value: query.label });
    if (query.id !== undefined) template.push({ type: pkcs11js.CKA_ID, value: query.id });
    return this.call('search for keys', (api, s) => {
      api.C_FindObjectsInit(s, template);
      try {
        return api.C_FindObjects(s, max);
      } finally {
        api.C_FindObjectsFinal(s);
      }
    });
  }

  /** Find exactly one object or explain why not. */
  findOne(query: ObjectQuery, what: string): Handle {
    const found = this.find(query);
    if (found.length === 1) return found[0];
    const desc = describeQuery(query);
    if (found.length === 0) {
      throw new KeyriteError('HSM_KEY_NOT_FOUND', `No ${what} ${desc} is on token '${this.token.label}'. Check the label, or log in: private keys are only visible after login.`, { details: { ...plainQuery(query) } });
    }
    throw new KeyriteError('HSM_KEY_AMBIGUOUS', `${found.length} objects ${desc} are on token '${this.token.label}'; Keyrite needs exactly one. Remove the duplicates with the token's tools.`, { details: { ...plainQuery(query), count: found.length } });
  }

  getAttributes(handle: Handle, types: number[]): Map<number, Buffer> {
    const result = this.call('read key attributes', (api, s) => api.C_GetAttributeValue(s, handle, types.map((type) => ({ type }))));
    return new Map(result.map((a) => [a.type, a.value]));
  }

  /** Read attributes one by one so a missing or sensitive one gives undefined, not an error. */
  getAttributesLenient(handle: Handle, types: number[]): Map<number, Buffer | undefined> {
    const out = new Map<number, Buffer | undefined>();
    for (const type of types) {
      try {
        const [a] = this.module.api.C_GetAttributeValue(this.handle, handle, [{ type }]);
        out.set(type, a.value);
      } catch (e) {
        const ckr = ckrName(e);
        if (ckr === 'CKR_ATTRIBUTE_TYPE_INVALID' || ckr === 'CKR_ATTRIBUTE_SENSITIVE') out.set(type, undefined);
        else throw toHsmError(e, { operation: 'read key attributes', tokenLabel: this.token.label });
      }
    }
    return out;
  }

  setAttributes(handle: Handle, template: P11.Template): void {
    this.call('change key attributes', (api, s) => api.C_SetAttributeValue(s, handle, template));
  }

  generateKeyPair(mechanism: P11.Mechanism, publicTemplate: P11.Template, privateTemplate: P11.Template): P11.KeyPair {
    return this.call('generate a key pair', (api, s) => api.C_GenerateKeyPair(s, mechanism, publicTemplate, privateTemplate));
  }

  createObject(template: P11.Template, operation = 'create a key object'): Handle {
    return this.call(operation, (api, s) => api.C_CreateObject(s, template));
  }

  /** C_CopyObject: a new object with the original's attributes, changed as `template` says. */
  copyObject(handle: Handle, template: P11.Template, operation = 'copy a key object'): Handle {
    return this.call(operation, (api, s) => api.C_CopyObject(s, handle, template));
  }

  destroy(handle: Handle): void {
    this.call('destroy a key', (api, s) => api.C_DestroyObject(s, handle));
  }

  sign(mechanism: P11.Mechanism, key: Handle, data: Buffer, maxLength = 1024): Buffer {
    return this.call('sign', (api, s) => {
      api.C_SignInit(s, mechanism, key);
      return api.C_Sign(s, data, Buffer.alloc(maxLength));
    });
  }

  verify(mechanism: P11.Mechanism, key: Handle, data: Buffer, signature: Buffer): boolean {
    try {
      return this.call('verify a signature', (api, s) => {
        api.C_VerifyInit(s, mechanism, key);
        return api.C_Verify(s, data, signature);
      });
    } catch (e) {
      if (e instanceof KeyriteError && e.code === 'HSM_SIGNATURE_INVALID') return false;
      throw e;
    }
  }

  encrypt(mechanism: P11.Mechanism, key: Handle, data: Buffer, maxLength = data.length + 64): Buffer {
    return this.call('encrypt', (api, s) => {
      api.C_EncryptInit(s, mechanism, key);
      return api.C_Encrypt(s, data, Buffer.alloc(maxLength));
    });
  }

  wrapKey(mechanism: P11.Mechanism, wrappingKey: Handle, key: Handle, maxLength = 8192): Buffer {
    return this.call('wrap the key', (api, s) => api.C_WrapKey(s, mechanism, wrappingKey, key, Buffer.alloc(maxLength)));
  }

  unwrapKey(mechanism: P11.Mechanism, unwrappingKey: Handle, wrapped: Buffer, template: P11.Template): Handle {
    return this.call('unwrap the key', (api, s) => api.C_UnwrapKey(s, mechanism, unwrappingKey, wrapped, template));
  }

  mechanisms(): number[] {
    return this.call('list mechanisms', (api) => api.C_GetMechanismList(this.token.slot));
  }

  supports(mechanism: number): boolean {
    return this.mechanisms().includes(mechanism);
  }

  /** Refuse early, with the mechanism's name, when the token lacks something Keyrite needs. */
  requireMechanism(mechanism: number, name: string, purpose: string): void {
    if (!this.supports(mechanism)) {
      throw new KeyriteError('HSM_MECHANISM_UNSUPPORTED', `Token '${this.token.label}' does not support ${name}, which Keyrite needs to ${purpose}. Use an HSM that offers it.`, { details: { mechanism: name } });
    }
  }
}

function describeQuery(q: ObjectQuery): string {
  const parts: string[] = [];
  if (q.label !== undefined) parts.push(`labelled '${q.label}'`);
  if (q.id !== undefined) parts.push(`with id ${q.id.toString('hex')}`);
  return parts.join(' and ') || 'matching';
}

function plainQuery(q: ObjectQuery): Record<string, unknown> {
  return { class: q.class ?? null, label: q.label ?? null, id: q.id ? q.id.toString('hex') : null };
}

export function attrBool(value: Buffer | undefined): boolean | undefined {
  if (value === undefined || value.length === 0) return undefined;
  return value[0] !== 0;
}

export function attrUlong(value: Buffer | undefined): number | undefined {
  if (value === undefined || value.length === 0) return undefined;
  return value.length >= 8 ? Number(value.readBigUInt64LE(0)) : value.readUInt32LE(0);
}
