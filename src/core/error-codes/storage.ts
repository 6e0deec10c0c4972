import type { ErrorTable } from './meta';

/** Errors about the store, output folders, resources and settings (codes STORE_*, OUTPUT_*, RESOURCE_*, SETTINGS_*). */
export const STORAGE_ERRORS = {
  OUTPUT_DISK_FULL: { fixedBy: 'operator', retryable: true, endsHsmSession: false, summary: 'The disk or medium holding … is full. Free space (or mount a larger medium at the same place), then retry this step; nothing recorded so far was lost.' },
  OUTPUT_EXISTS: { fixedBy: 'operator', retryable: true, endsHsmSession: false, summary: '\'…\' already exists; Keyrite does not overwrite files. Choose another name or remove it first.' },
  OUTPUT_MEDIA_REMOVED: { fixedBy: 'operator', retryable: true, endsHsmSession: false, summary: 'Keyrite could not write … (…): the output medium may have been removed. Reinsert it at the same place, then retry this step.' },
  OUTPUT_PERMISSION: { fixedBy: 'operator', retryable: true, endsHsmSession: false, summary: 'Keyrite is not allowed to write …. Fix the folder\'s permissions, then retry this step.' },
  OUTPUT_READ_ONLY: { fixedBy: 'operator', retryable: true, endsHsmSession: false, summary: 'The medium holding … is read-only. Use a writable medium, then retry this step.' },
  RESOURCE_MISSING: { fixedBy: 'administrator', retryable: false, endsHsmSession: false, summary: 'Keyrite cannot find its bundled file \'…\'. The installation looks incomplete: reinstall Keyrite, or set KEYRITE_RESOURCES to the folder that holds it.' },
  SETTINGS_MODULE_ARGS_INVALID: { fixedBy: 'administrator', retryable: true, endsHsmSession: false, summary: 'The module arguments must be one line (no line breaks or NUL characters), as the module reads them.' },
  SETTINGS_MODULE_MISSING: { fixedBy: 'administrator', retryable: false, endsHsmSession: false, summary: 'There is no file at \'…\'. Check the path of your HSM vendor\'s PKCS#11 library (.so), or clear the field to use the demo token.' },
  SETTINGS_MODULE_NOT_FILE: { fixedBy: 'administrator', retryable: false, endsHsmSession: false, summary: '\'…\' is a folder, not a PKCS#11 library. Point to the .so file itself.' },
  SETTINGS_OUTPUT_NOT_FOLDER: { fixedBy: 'administrator', retryable: false, endsHsmSession: false, summary: '\'…\' is a file, not a folder. Choose a folder for the ceremony bundles.' },
  SETTINGS_PATH_RELATIVE: { fixedBy: 'administrator', retryable: false, endsHsmSession: false, summary: 'The PKCS#11 module path \'…\' is not an absolute path. Enter the full path of your HSM vendor\'s library, e.g. /usr/lib/softhsm/libsofthsm2.so.' },
  SETTINGS_TOKEN_URI_INVALID: { fixedBy: 'administrator', retryable: true, endsHsmSession: false, summary: 'The PKCS#11 URI \'…\' …. Correct the token URI, or clear it to choose the token by label.' },
  STORE_CORRUPT: { fixedBy: 'operator', retryable: false, endsHsmSession: false, summary: 'The Keyrite store \'…\' is damaged (…). Keep the file for investigation and restore it from your last copy; Keyrite will not overwrite it.' },
  STORE_DISK_FULL: { fixedBy: 'operator', retryable: true, endsHsmSession: false, summary: 'The disk holding \'…\' is full, so Keyrite could not save. Free space and retry the step; the step was not recorded.' },
  STORE_ERROR: { fixedBy: 'operator', retryable: true, endsHsmSession: false, summary: 'Keyrite could not … its store \'…\' (…).' },
  STORE_LOCKED: { fixedBy: 'operator', retryable: true, endsHsmSession: false, summary: 'The Keyrite store \'…\' is locked by another program (another Keyrite window or process?). Close it and retry; nothing was lost.' },
  STORE_MISSING: { fixedBy: 'operator', retryable: true, endsHsmSession: false, summary: 'The Keyrite store \'…\' does not exist. Check KEYRITE_HOME; Keyrite will not start a new, empty store in place of a missing one.' },
  STORE_TOO_NEW: { fixedBy: 'operator', retryable: false, endsHsmSession: false, summary: 'The Keyrite store \'…\' was written by a newer Keyrite (schema …, this one knows …). Use the newer Keyrite.' },
  STORE_UNAVAILABLE: { fixedBy: 'operator', retryable: true, endsHsmSession: false, summary: 'Keyrite cannot … its store \'…\' (…). Check that the folder exists and is writable.' },
  SETTINGS_TEXT_INVALID: { fixedBy: 'administrator', retryable: true, endsHsmSession: false, summary: "The setting '…' contains a control character or a bidirectional text control at character …; type it again without it." },
} as const satisfies ErrorTable;
