import { existsSync, statSync } from 'node:fs';
import { pkcs11js, type P11 } from './pkcs11js';
import { KeyriteError } from '../errors';
import { ckrCall, ckrName } from './ckr';
import { profileForModule, type HsmProfile } from './profile';

/**
 * The subset of the pkcs11js API Keyrite calls. Tests wrap the real module in a thin proxy that
 * fails one chosen call (token removed, device error) — never a fake HSM.
 */
export type Pkcs11Api = P11.PKCS11;
export type Pkcs11Factory = () => Pkcs11Api;

const defaultFactory: Pkcs11Factory = () => new pkcs11js.PKCS11();

interface LoadedModule {
  api: Pkcs11Api;
  refs: number;
  info: ModuleInfo;
  initArgs: string | undefined;
}

export interface OpenModuleOptions {
  factory?: Pkcs11Factory;
  /** Module initialisation arguments (pReserved of C_Initialize), e.g. NSS's configdir. */
  initArgs?: string;
}

export interface ModuleInfo {
  path: string;
  manufacturer: string;
  description: string;
  cryptokiVersion: string;
  libraryVersion: string;
}

/**
 * A PKCS#11 library can be C_Initialize'd once per process. Keyrite shares one loaded instance
 * per path and finalizes it when the last user closes it, so nested users (a ceremony and its
 * transcript signer) do not fight over initialization.
 */
const loaded = new Map<string, LoadedModule>();

export class Pkcs11Module {
  private closed = false;

  private constructor(
    readonly path: string,
    readonly api: Pkcs11Api,
    readonly info: ModuleInfo,
    /** What this module does differently (resources/hsm-profiles). */
    readonly profile: HsmProfile,
  ) {}

  static open(path: string, options: OpenModuleOptions = {}): Pkcs11Module {
    checkModulePath(path);
    const initArgs = options.initArgs || undefined;
    const profile = profileForModule(path);
    const existing = loaded.get(path);
    if (existing) {
      if (existing.initArgs !== initArgs) {
        // One process can initialize a library once; a second set of arguments would be ignored silently.
        throw new KeyriteError('HSM_MODULE_INIT_CONFLICT', `The PKCS#11 module '${path}' is already in use in this process with other initialisation arguments. Finish the other operation first, or use the same KEYRITE_PKCS11_INIT_ARGS.`, { details: { path } });
      }
      existing.refs += 1;
      return new Pkcs11Module(path, existing.api, existing.info, profile);
    }
    if (profile.init.style === 'library-parameters' && !initArgs) {
      throw new KeyriteError('HSM_MODULE_INIT_ARGS_MISSING', `The PKCS#11 module '${path}' (${profile.description}) needs initialisation arguments. Set KEYRITE_PKCS11_INIT_ARGS (or the module arguments in the settings)${profile.init.example ? `, for example: ${profile.init.example}` : ''}.`, { details: { path, profile: profile.name } });
    }
    const api = (options.factory ?? defaultFactory)();
    try {
      api.load(path);
    } catch (e) {
      throw new KeyriteError(
        'HSM_MODULE_INVALID',
        `'${path}' could not be loaded as a PKCS#11 module (${shortReason(e)}). Point KEYRITE_PKCS11_MODULE or the settings at your HSM vendor's PKCS#11 library (.so).`,
        { details: { path }, cause: e },
      );
    }
    try {
      if (initArgs) api.C_Initialize({ libraryParameters: initArgs });
      else api.C_Initialize();
    } catch (e) {
      if (ckrName(e) !== 'CKR_CRYPTOKI_ALREADY_INITIALIZED') {
        safe(() => api.close());
        const hint = initArgs
          ? `Check the initialisation arguments in KEYRITE_PKCS11_INIT_ARGS or the settings${profile.init.example ? ` (for ${profile.description}: ${profile.init.example})` : ''}`
          : "Check the module's configuration (for SoftHSM: SOFTHSM2_CONF and its token directory)";
        throw new KeyriteError(
          'HSM_MODULE_INIT_FAILED',
          `The PKCS#11 module '${path}' loaded but failed to initialize (${shortReason(e)}). ${hint}.`,
          { details: { path, profile: profile.name }, cause: e },
        );
      }
    }
    let info: ModuleInfo;
    try {
      const raw = ckrCall({ operation: 'read the module information' }, () => api.C_GetInfo());
      info = {
        path,
        manufacturer: raw.manufacturerID.trim(),
        description: raw.libraryDescription.trim(),
        cryptokiVersion: `${raw.cryptokiVersion.major}.${raw.cryptokiVersion.minor}`,
        libraryVersion: `${raw.libraryVersion.major}.${raw.libraryVersion.minor}`,
      };
    } catch (e) {
      safe(() => api.C_Finalize());
      safe(() => api.close());
      throw e;
    }
    loaded.set(path, { api, refs: 1, info, initArgs });
    return new Pkcs11Module(path, api, info, profile);
  }

  /** Finalize and unload when this was the last user. Safe to call twice. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    const entry = loaded.get(this.path);
    if (!entry) return;
    entry.refs -= 1;
    if (entry.refs > 0) return;
    loaded.delete(this.path);
    safe(() => entry.api.C_Finalize());
    safe(() => entry.api.close());
  }
}

function checkModulePath(path: string): void {
  if (!path) {
    throw new KeyriteError('HSM_MODULE_MISSING', 'No PKCS#11 module is configured. Set KEYRITE_PKCS11_MODULE to the path of your HSM vendor\'s PKCS#11 library, or use the demo token.');
  }
  if (!existsSync(path)) {
    throw new KeyriteError('HSM_MODULE_MISSING', `The PKCS#11 module '${path}' does not exist. Check the path in KEYRITE_PKCS11_MODULE or the settings.`, { details: { path } });
  }
  if (!statSync(path).isFile()) {
    throw new KeyriteError('HSM_MODULE_INVALID', `'${path}' is not a file, so it cannot be a PKCS#11 module. Point to the library (.so) itself.`, { details: { path } });
  }
}

function shortReason(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return msg.split('\n')[0].slice(0, 200);
}

function safe(fn: () => unknown): void {
  try {
    fn();
  } catch {
    // Cleanup must not mask the error that got us here.
  }
}
