import type { ErrorTable } from './meta';

/** Errors about the desktop app, its IPC and printing (codes IPC_*, APP_*, UI_*, PRINT_*, WITNESS_*). */
export const APP_ERRORS = {
  APP_BRIDGE_FAILED: { fixedBy: 'operator', retryable: false, endsHsmSession: false, summary: 'Keyrite\'s main process did not answer (…). Restart Keyrite; the ceremony is saved at its last completed step.' },
  APP_BRIDGE_MISSING: { fixedBy: 'operator', retryable: true, endsHsmSession: false, summary: 'This page is not connected to Keyrite. Open it from the Keyrite application, not from a web browser.' },
  IPC_INPUT_INVALID: { fixedBy: 'developer', retryable: false, endsHsmSession: false, summary: 'The window sent a request whose input does not match the channel\'s schema; Keyrite refused it.' },
  IPC_SENDER_REJECTED: { fixedBy: 'operator', retryable: true, endsHsmSession: false, summary: 'Keyrite refused this request because …. Only Keyrite\'s own window can drive a ceremony.' },
  PRINT_FAILED: { fixedBy: 'operator', retryable: false, endsHsmSession: false, summary: 'Share card … (…) did not reach the printer. Check the printer and print again, or write the share down by hand.' },
  PRINT_UNAVAILABLE: { fixedBy: 'operator', retryable: true, endsHsmSession: false, summary: 'Printing is not available here. Open \'…\' in a browser and print it from there.' },
  UI_ERROR: { fixedBy: 'developer', retryable: false, endsHsmSession: false, summary: 'The screen hit a problem (…). Go back to the home screen and retry.' },
  WITNESS_UNAVAILABLE: { fixedBy: 'operator', retryable: true, endsHsmSession: false, summary: 'A witness window cannot be opened here. Use the main window on the projector instead (press P for presentation mode).' },
  PROCESS_CORE_DUMPS_ON: { fixedBy: 'administrator', retryable: false, endsHsmSession: false, summary: 'Keyrite could not turn off core dumps for itself (prlimit: …), so a crash could write secrets to disk. Install util-linux or run Keyrite under `ulimit -c 0`.' },
  DIALOG_UNAVAILABLE: { fixedBy: 'developer', retryable: false, endsHsmSession: false, summary: 'Choosing a file through the main-process dialog is not available here (no dialog is wired in).' },
} as const satisfies ErrorTable;
