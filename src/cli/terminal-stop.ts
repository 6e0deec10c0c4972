import type { KeyriteError } from '../core/errors';
import { CLEAR_SCREEN_AND_SCROLLBACK } from './terminal-layout';

/**
 * How a terminal run ends when it is stopped rather than finished: Ctrl-C, or a signal from
 * outside a prompt (SIGTERM from `kill`, `timeout` or a shutdown; SIGHUP when the terminal or its
 * SSH link closes). Left to Node's default, a signal ends the process on the spot, and whatever
 * was on the screen — a share being handed out, words being typed — stays in the scrollback.
 */
export type StopKey = 'Ctrl-C' | 'Ctrl-D' | 'SIGTERM' | 'SIGHUP';

/** What the stop message calls each way of stopping ("Stopped by …"). */
const STOPPED_BY: Record<StopKey, string> = { 'Ctrl-C': 'Ctrl-C', 'Ctrl-D': 'Ctrl-D', SIGTERM: 'a request to end (SIGTERM)', SIGHUP: 'the terminal closing (SIGHUP)' };

export function describeStop(key: StopKey): string {
  return STOPPED_BY[key];
}

/** The signals that stop a run, each with what the message calls it and its exit status (128 + signal number, as a shell reports it). */
const STOP_SIGNALS: ReadonlyArray<{ signal: NodeJS.Signals; key: StopKey; status: number }> = [
  { signal: 'SIGINT', key: 'Ctrl-C', status: 130 },
  { signal: 'SIGTERM', key: 'SIGTERM', status: 143 },
  { signal: 'SIGHUP', key: 'SIGHUP', status: 129 },
];

/** Call `stop` on Ctrl-C, SIGTERM or SIGHUP instead of dying with the screen as it is. Returns the undo. */
export function onStopSignals(stop: (key: StopKey, status: number) => void): () => void {
  const handlers = STOP_SIGNALS.map(({ signal, key, status }) => [signal, () => stop(key, status)] as const);
  for (const [signal, handler] of handlers) process.on(signal, handler);
  return () => {
    for (const [signal, handler] of handlers) process.off(signal, handler);
  };
}

/** Clear the screen and scrollback of whichever of stdout and stderr is the terminal (stdout may be redirected to a file). */
export function clearTerminal(): void {
  const tty = process.stdout.isTTY ? process.stdout : process.stderr.isTTY ? process.stderr : null;
  try {
    tty?.write(CLEAR_SCREEN_AND_SCROLLBACK);
  } catch {
    // The terminal is gone (SIGHUP): there is no screen left to clear.
  }
}

/** Clear the screen and scrollback, print the coded reason, exit with `status` (130 for Ctrl-C, the shell's code). */
export function exitInterrupted(error: KeyriteError, status = 130): never {
  clearTerminal();
  try {
    process.stderr.write(`keyrite: ${error.message} [${error.code}]\n`);
  } catch {
    // stderr is gone with the terminal; the exit status still tells the story
  }
  process.exit(status);
}
