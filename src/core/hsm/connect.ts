import type { HsmConfig } from './config';
import { Pkcs11Module, type Pkcs11Factory } from './pkcs11-module';
import { HsmSession, type UserType } from './session';
import { findToken } from './token';

export interface HsmConnection {
  config: HsmConfig;
  module: Pkcs11Module;
  session: HsmSession;
  close(): void;
}

/** Load the module, find the token by label and open a session. Closing undoes all three. */
export function connectHsm(config: HsmConfig, options: { factory?: Pkcs11Factory } = {}): HsmConnection {
  const module = Pkcs11Module.open(config.modulePath, { factory: options.factory, initArgs: config.initArgs });
  try {
    const token = findToken(module, { label: config.tokenLabel, ...config.token });
    const session = HsmSession.open(module, token);
    return {
      config,
      module,
      session,
      close() {
        session.close();
        module.close();
      },
    };
  } catch (e) {
    module.close();
    throw e;
  }
}

/** Run `fn` on a logged-in session; the session and module are always closed afterwards. */
export async function withHsm<T>(
  config: HsmConfig,
  login: { pin: string; user?: UserType } | null,
  fn: (conn: HsmConnection) => T | Promise<T>,
  options: { factory?: Pkcs11Factory } = {},
): Promise<T> {
  const conn = connectHsm(config, options);
  try {
    if (login) conn.session.login(login.pin, login.user ?? 'user');
    return await fn(conn);
  } finally {
    conn.close();
  }
}
