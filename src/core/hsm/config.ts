import path from 'node:path';
import { keyriteHome } from '../config/paths';
import { createSoftHsmDir, findSoftHsmModule, initSoftHsmToken, softHsmTokenLabels } from './softhsm';

/** The embedded demo token: a SoftHSM token inside KEYRITE_HOME, so Keyrite runs with no hardware. */
export const DEMO_TOKEN_LABEL = 'keyrite-demo';
/** Demo PINs are public (README). They are accepted as defaults only for the demo token. */
export const DEMO_USER_PIN = '123456';
export const DEMO_SO_PIN = '12345678';

export interface HsmConfig {
  modulePath: string;
  tokenLabel: string;
  /** True when this is the embedded demo token (demo PINs, rehearsal ceremonies allowed). */
  demo: boolean;
}

export interface HsmSettings {
  modulePath?: string;
  tokenLabel?: string;
}

/**
 * Which module and token to use: KEYRITE_PKCS11_MODULE / KEYRITE_TOKEN_LABEL, then saved
 * settings, else the demo token (created on first use).
 */
export function resolveHsmConfig(env: NodeJS.ProcessEnv = process.env, settings: HsmSettings = {}): HsmConfig {
  const modulePath = env.KEYRITE_PKCS11_MODULE || settings.modulePath;
  const tokenLabel = env.KEYRITE_TOKEN_LABEL || settings.tokenLabel;
  if (modulePath) {
    return { modulePath: path.resolve(modulePath), tokenLabel: tokenLabel ?? DEMO_TOKEN_LABEL, demo: false };
  }
  if (tokenLabel && tokenLabel !== DEMO_TOKEN_LABEL) {
    // A token label without a module: the token lives in the demo SoftHSM store (tests, drills).
    ensureDemoSoftHsm(env);
    return { modulePath: findSoftHsmModule(), tokenLabel, demo: false };
  }
  return ensureDemoToken(env);
}

/** Point SoftHSM at the demo store inside KEYRITE_HOME (must happen before the module loads). */
export function ensureDemoSoftHsm(env: NodeJS.ProcessEnv = process.env): ReturnType<typeof createSoftHsmDir> {
  const dir = createSoftHsmDir(path.join(keyriteHome(env), 'softhsm'));
  process.env.SOFTHSM2_CONF = dir.conf;
  return dir;
}

export function ensureDemoToken(env: NodeJS.ProcessEnv = process.env): HsmConfig {
  const modulePath = findSoftHsmModule();
  const dir = ensureDemoSoftHsm(env);
  if (!softHsmTokenLabels(dir).includes(DEMO_TOKEN_LABEL)) {
    initSoftHsmToken(dir, DEMO_TOKEN_LABEL, DEMO_USER_PIN, DEMO_SO_PIN);
  }
  return { modulePath, tokenLabel: DEMO_TOKEN_LABEL, demo: true };
}
