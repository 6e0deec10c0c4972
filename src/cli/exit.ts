import { KeyriteError } from '../core/errors';
import { fileSystemError } from '../core/fs/fs-errors';
import { escapeForTerminal } from '../core/text/plain-text';

// How the CLI ends on a failure, apart from io.ts (which loads the input-file and PIN helpers), so
// the direct `keyrite verify` path (verify-direct.ts) ends the same way without loading them.

/** Print a one-line reason on stderr and exit non-zero. Stack traces only with KEYRITE_DEBUG. */
export function fail(error: unknown): never {
  const shown = promptCancelled(error) ?? error;
  const line = shown instanceof KeyriteError ? `keyrite: ${shown.message} [${shown.code}]` : `keyrite: ${shown instanceof Error ? shown.message : String(shown)}`;
  try {
    // Messages can quote what a file held (a label, a name): escaped, so they cannot forge output.
    process.stderr.write(escapeForTerminal(line.replace(/\s*\n\s*/g, ' ')) + '\n');
    if (process.env.KEYRITE_DEBUG && error instanceof Error && error.stack) process.stderr.write(error.stack + '\n');
  } catch {
    // stderr is gone too; the exit code still tells the story
  }
  process.exit(shown instanceof KeyriteError && shown.code === 'USAGE' ? 2 : shown instanceof KeyriteError && shown.code === 'PROMPT_CANCELLED' ? 130 : 1);
}

/**
 * Ctrl-C (or a closed terminal) at an @inquirer prompt rejects with ExitPromptError, whose text
 * ("User force closed the prompt with SIGINT") helps nobody at a ceremony table.
 */
export function promptCancelled(error: unknown, ceremonyId?: string): KeyriteError | null {
  if (!(error instanceof Error) || (error.name !== 'ExitPromptError' && error.name !== 'AbortPromptError')) return null;
  const resume = ceremonyId
    ? `Ceremony ${ceremonyId} is kept where it stood; continue it with \`keyrite ceremony resume ${ceremonyId}\`.`
    : 'Nothing typed at that prompt was used. A ceremony in progress is kept where it stood; continue it with `keyrite ceremony resume`.';
  return new KeyriteError('PROMPT_CANCELLED', `Stopped at your request (Ctrl-C at the prompt). ${resume}`, { details: { ceremonyId: ceremonyId ?? null }, cause: error });
}

/** The one place a failed stdout write is turned into words (sync throw or 'error' event). */
export function stdoutFailed(e: unknown): never {
  const err = e as NodeJS.ErrnoException;
  if (err?.code === 'EPIPE') {
    // `keyrite … | head` closed the pipe on purpose: the reader has what it wanted.
    process.exit(0);
  }
  const mapped = fileSystemError(e);
  const reason = mapped?.code === 'OUTPUT_DISK_FULL' ? 'the disk or device it goes to is full' : `writing failed (${err?.code ?? 'unknown error'})`;
  fail(new KeyriteError('OUTPUT_STDOUT_FAILED', `Keyrite could not write its output: ${reason}. Nothing was changed; redirect the output to a place with free space and run the command again.`, { details: { errno: err?.code ?? null }, cause: e }));
}
