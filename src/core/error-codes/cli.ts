import type { ErrorTable } from './meta';

/** Errors about how the `keyrite` command was called (the CLI exits 2 for these). */
export const CLI_ERRORS = {
  USAGE: { fixedBy: 'operator', retryable: true, endsHsmSession: false, summary: 'The command line is wrong (an unknown option, a missing argument, --param without name=value); the message says which.' },
  PROMPT_CANCELLED: { fixedBy: 'operator', retryable: true, endsHsmSession: false, summary: 'Stopped at your request (Ctrl-C at the prompt). The ceremony in progress is kept where it stood; continue it with keyrite ceremony resume.' },
} as const satisfies ErrorTable;
