import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { KeyriteError } from '../../src/core/errors';

const ROOT = path.resolve(__dirname, '../..');
const BIN = path.join(ROOT, 'bin/keyrite.mjs');

export interface CliResult {
  /** Exit status (null when killed by a signal or the timeout). */
  status: number | null;
  /** Exit status, -1 when there was none. */
  code: number;
  /** The signal that ended the process (a test that kills it mid-step expects SIGKILL). */
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** The error code at the end of the one-line reason on stderr (`keyrite: … [CODE]`), if any. */
  errorCode: string | undefined;
}

export interface CliOptions {
  /** Added to (and overriding) process.env; undefined removes nothing, '' clears a variable. */
  env?: Record<string, string | undefined>;
  /** Text for stdin (answers, share words). */
  input?: string;
  timeout?: number;
  cwd?: string;
}

/** Run the built `keyrite` command (out/cli via bin/keyrite.mjs) to completion. */
export function runKeyrite(args: string[], options: CliOptions = {}): CliResult {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd: options.cwd ?? ROOT,
    env: { ...process.env, ...options.env },
    input: options.input ?? '',
    encoding: 'utf8',
    timeout: options.timeout ?? 120_000,
  });
  return { status: r.status, code: r.status ?? -1, signal: r.signal, stdout: r.stdout, stderr: r.stderr, errorCode: cliErrorCode(r.stderr) };
}

/** The `[CODE]` the CLI prints after its one-line reason. */
export function cliErrorCode(stderr: string): string | undefined {
  return /\[([A-Z][A-Z0-9_]*)\]\s*$/.exec(stderr.trim())?.[1];
}

/**
 * The KeyriteError a call throws (sync or async), for asserting on code, message and details
 * together; fails when the call succeeds or throws something else.
 */
export async function caughtKeyriteError(fn: () => unknown): Promise<KeyriteError> {
  try {
    await fn();
  } catch (e) {
    if (e instanceof KeyriteError) return e;
    throw new Error(`expected a KeyriteError, got ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`, { cause: e });
  }
  throw new Error('expected a KeyriteError, but the call succeeded');
}
