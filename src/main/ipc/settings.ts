import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { KeyriteError } from '../../core/errors';
import { requirePlainText } from '../../core/text/plain-text';
import type { Store } from '../../core/store/db';
import { parsePkcs11Uri } from '../../core/hsm/pkcs11-uri';

/** The desktop app's saved choices, one row each in the store's `settings` table. */
export interface SavedSettings {
  modulePath: string | null;
  tokenLabel: string | null;
  /** A PKCS#11 URI naming the token (and module); wins over the label and module path. */
  tokenUri: string | null;
  /** Module initialisation arguments (NSS: configdir=…). Not secret. */
  moduleArgs: string | null;
  outputFolder: string | null;
}

const KEYS: Record<keyof SavedSettings, string> = {
  modulePath: 'hsm.modulePath',
  tokenLabel: 'hsm.tokenLabel',
  tokenUri: 'hsm.tokenUri',
  moduleArgs: 'hsm.moduleArgs',
  outputFolder: 'output.folder',
};

/** Environment variables win over saved settings (same order as `resolveHsmConfig`). */
export const SETTINGS_ENV: Partial<Record<keyof SavedSettings, string>> = {
  modulePath: 'KEYRITE_PKCS11_MODULE',
  tokenLabel: 'KEYRITE_TOKEN_LABEL',
  tokenUri: 'KEYRITE_TOKEN_URI',
  moduleArgs: 'KEYRITE_PKCS11_INIT_ARGS',
};

export async function readSettings(store: Store): Promise<SavedSettings> {
  const rows = await store.all<{ name: string; value: string }>('SELECT name, value FROM settings');
  const byName = new Map(rows.map((r) => [r.name, r.value]));
  return {
    modulePath: byName.get(KEYS.modulePath) ?? null,
    tokenLabel: byName.get(KEYS.tokenLabel) ?? null,
    tokenUri: byName.get(KEYS.tokenUri) ?? null,
    moduleArgs: byName.get(KEYS.moduleArgs) ?? null,
    outputFolder: byName.get(KEYS.outputFolder) ?? null,
  };
}

/**
 * Check a change before it is saved, so a wrong path is refused with a sentence now rather than
 * at the start of a ceremony. Empty strings clear a setting.
 */
export function validateSettingsPatch(patch: Partial<SavedSettings>, policy: { isAllowedModule: (absolutePath: string) => boolean }): Partial<SavedSettings> {
  const out: Partial<SavedSettings> = {};
  if (patch.modulePath !== undefined) {
    const p = patch.modulePath?.trim() || null;
    if (p !== null) {
      if (!path.isAbsolute(p)) {
        throw new KeyriteError('SETTINGS_PATH_RELATIVE', `The PKCS#11 module path '${p}' is not an absolute path. Enter the full path of your HSM vendor's library, e.g. /usr/lib/softhsm/libsofthsm2.so.`, { details: { field: 'modulePath' } });
      }
      if (!existsSync(p)) {
        throw new KeyriteError('SETTINGS_MODULE_MISSING', `There is no file at '${p}'. Check the path of your HSM vendor's PKCS#11 library (.so), or clear the field to use the demo token.`, { details: { field: 'modulePath', path: p } });
      }
      if (!statSync(p).isFile()) {
        throw new KeyriteError('SETTINGS_MODULE_NOT_FILE', `'${p}' is a folder, not a PKCS#11 library. Point to the .so file itself.`, { details: { field: 'modulePath', path: p } });
      }
      // The main process loads this file as native code: only known module locations or a file
      // the administrator picked in the main-process dialog, never any path the renderer sends.
      if (!policy.isAllowedModule(p)) {
        throw new KeyriteError('SETTINGS_MODULE_NOT_ALLOWED', `'${p}' is not a known PKCS#11 module location. Use "Choose module file…" to pick your HSM vendor's library, or set KEYRITE_PKCS11_MODULE before starting Keyrite.`, { details: { field: 'modulePath', path: p } });
      }
    }
    out.modulePath = p;
  }
  if (patch.tokenLabel !== undefined) {
    out.tokenLabel = patch.tokenLabel?.trim() || null;
  }
  if (patch.tokenUri !== undefined) {
    const u = patch.tokenUri?.trim() || null;
    if (u !== null) {
      try {
        parsePkcs11Uri(u);
      } catch (e) {
        throw new KeyriteError('SETTINGS_TOKEN_URI_INVALID', `${(e as Error).message} Correct the token URI, or clear it to choose the token by label.`, { details: { field: 'tokenUri' }, cause: e });
      }
    }
    out.tokenUri = u;
  }
  if (patch.moduleArgs !== undefined) {
    const a = patch.moduleArgs?.trim() || null;
    if (a !== null && /[\r\n\0]/.test(a)) {
      throw new KeyriteError('SETTINGS_MODULE_ARGS_INVALID', 'The module arguments must be one line (no line breaks or NUL characters), as the module reads them, e.g. configdir=\'sql:/srv/nssdb\' certPrefix=\'\' keyPrefix=\'\' secmod=\'secmod.db\' flags=', { details: { field: 'moduleArgs' } });
    }
    out.moduleArgs = a;
  }
  if (patch.outputFolder !== undefined) {
    const p = patch.outputFolder?.trim() || null;
    if (p !== null) {
      if (!path.isAbsolute(p)) {
        throw new KeyriteError('SETTINGS_PATH_RELATIVE', `The output folder '${p}' is not an absolute path. Enter the full path of the removable medium or folder, e.g. /media/usb/ceremonies.`, { details: { field: 'outputFolder' } });
      }
      if (existsSync(p) && !statSync(p).isDirectory()) {
        throw new KeyriteError('SETTINGS_OUTPUT_NOT_FOLDER', `'${p}' is a file, not a folder. Choose a folder for the ceremony bundles.`, { details: { field: 'outputFolder', path: p } });
      }
    }
    out.outputFolder = p;
  }
  // Person-supplied text: no control characters or bidi overrides in any setting (after each field's own checks, which say more).
  for (const [field, value] of Object.entries(patch)) {
    if (typeof value === 'string') requirePlainText(value, `The setting '${field}'`, 'SETTINGS_TEXT_INVALID', { field });
  }
  return out;
}

export async function writeSettings(store: Store, patch: Partial<SavedSettings>): Promise<void> {
  await store.transaction(async (tx) => {
    for (const [field, value] of Object.entries(patch) as Array<[keyof SavedSettings, string | null]>) {
      if (value === null) await tx.run('DELETE FROM settings WHERE name = ?', [KEYS[field]]);
      else await tx.run('INSERT INTO settings (name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = excluded.value', [KEYS[field], value]);
    }
  });
}
