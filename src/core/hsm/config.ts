import path from 'node:path';
import { checkHomeCanBeFolder, keyriteHome } from '../config/paths';
import { KeyriteError } from '../errors';
import { isPkcs11Uri, parsePkcs11Uri } from './pkcs11-uri';
import { createSoftHsmDir, ensureSoftHsmToken, findSoftHsmModule } from './softhsm';

/** The embedded demo token: a SoftHSM token inside KEYRITE_HOME, so Keyrite runs with no hardware. */
export const DEMO_TOKEN_LABEL = 'keyrite-demo';
/** Demo PINs are public (README). They are accepted as defaults only for the demo token. */
export const DEMO_USER_PIN = '123456';
export const DEMO_SO_PIN = '12345678';

/** Token fields besides the label that must match (from a PKCS#11 URI). */
export interface TokenSelector {
  serial?: string;
  model?: string;
  manufacturer?: string;
}

export interface HsmConfig {
  modulePath: string;
  /** The token's label; empty when the token is chosen by serial/model alone (a URI without token=). */
  tokenLabel: string;
  /** Further token fields that must match (PKCS#11 URI serial=, model=, manufacturer=). */
  token?: TokenSelector;
  /** Module initialisation arguments (C_Initialize pReserved), e.g. NSS's configdir. Not secret. */
  initArgs?: string;
  /** True when this is the embedded demo token (demo PINs, rehearsal ceremonies allowed). */
  demo: boolean;
}

export interface HsmSettings {
  modulePath?: string;
  /** A label, or a PKCS#11 URI (pkcs11:token=…;serial=…). */
  tokenLabel?: string;
  initArgs?: string;
  tokenUri?: string;
}

/**
 * Which module and token to use, first found wins: a PKCS#11 URI (KEYRITE_TOKEN_URI, or
 * KEYRITE_TOKEN_LABEL / the settings' token holding one), KEYRITE_PKCS11_MODULE /
 * KEYRITE_TOKEN_LABEL / KEYRITE_PKCS11_INIT_ARGS, then saved settings, else the demo token
 * (created on first use).
 */
export function resolveHsmConfig(env: NodeJS.ProcessEnv = process.env, settings: HsmSettings = {}): HsmConfig {
  const uriText = env.KEYRITE_TOKEN_URI || (env.KEYRITE_TOKEN_LABEL && isPkcs11Uri(env.KEYRITE_TOKEN_LABEL) ? env.KEYRITE_TOKEN_LABEL : undefined)
    || (!env.KEYRITE_TOKEN_LABEL ? settings.tokenUri || (settings.tokenLabel && isPkcs11Uri(settings.tokenLabel) ? settings.tokenLabel : undefined) : undefined);
  const initArgs = env.KEYRITE_PKCS11_INIT_ARGS || settings.initArgs || undefined;
  if (uriText) return configFromUri(uriText, env.KEYRITE_PKCS11_MODULE || settings.modulePath, initArgs, env);
  const modulePath = env.KEYRITE_PKCS11_MODULE || settings.modulePath;
  const tokenLabel = env.KEYRITE_TOKEN_LABEL || settings.tokenLabel;
  if (modulePath) {
    return { modulePath: path.resolve(modulePath), tokenLabel: tokenLabel ?? DEMO_TOKEN_LABEL, initArgs, demo: false };
  }
  if (tokenLabel && tokenLabel !== DEMO_TOKEN_LABEL) {
    // A token label without a module: the token lives in the demo SoftHSM store (tests, drills).
    ensureDemoSoftHsm(env);
    return { modulePath: findSoftHsmModule(), tokenLabel, demo: false };
  }
  return ensureDemoToken(env);
}

/** A config from a PKCS#11 URI; the URI's module-path wins over the module setting. */
export function configFromUri(uriText: string, fallbackModule: string | undefined, initArgs: string | undefined, env: NodeJS.ProcessEnv = process.env): HsmConfig {
  const uri = parsePkcs11Uri(uriText);
  const token: TokenSelector = {};
  if (uri.serial !== undefined) token.serial = uri.serial;
  if (uri.model !== undefined) token.model = uri.model;
  if (uri.manufacturer !== undefined) token.manufacturer = uri.manufacturer;
  const tokenLabel = uri.token ?? '';
  let modulePath = uri.modulePath ?? fallbackModule;
  if (!modulePath) {
    if (tokenLabel === DEMO_TOKEN_LABEL && Object.keys(token).length === 0) return ensureDemoToken(env);
    // As with a bare label: without a module, the token lives in the demo SoftHSM store.
    ensureDemoSoftHsm(env);
    modulePath = findSoftHsmModule();
  }
  if (!path.isAbsolute(modulePath)) {
    throw new KeyriteError('HSM_URI_INVALID', `The PKCS#11 module path '${modulePath}' is not absolute. Give the full path of the library (.so).`, { details: { modulePath } });
  }
  return { modulePath, tokenLabel, token, initArgs, demo: false };
}

/** Point SoftHSM at the demo store inside KEYRITE_HOME (must happen before the module loads). */
export function ensureDemoSoftHsm(env: NodeJS.ProcessEnv = process.env): ReturnType<typeof createSoftHsmDir> {
  const home = keyriteHome(env);
  checkHomeCanBeFolder(home);
  const dir = createSoftHsmDir(path.join(home, 'softhsm'));
  process.env.SOFTHSM2_CONF = dir.conf;
  return dir;
}

export function ensureDemoToken(env: NodeJS.ProcessEnv = process.env): HsmConfig {
  const modulePath = findSoftHsmModule();
  const dir = ensureDemoSoftHsm(env);
  ensureSoftHsmToken(dir, DEMO_TOKEN_LABEL, DEMO_USER_PIN, DEMO_SO_PIN);
  return { modulePath, tokenLabel: DEMO_TOKEN_LABEL, demo: true };
}
