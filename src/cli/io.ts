import { closeSync, constants, fstatSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { KeyriteError } from '../core/errors';
import { normalizePin } from '../core/hsm/pin';
import { escapeForTerminal } from '../core/text/plain-text';

/** Print a one-line reason on stderr and exit non-zero. Stack traces only with KEYRITE_DEBUG. */
export function fail(error: unknown): never {
  const line = error instanceof KeyriteError ? `keyrite: ${error.message} [${error.code}]` : `keyrite: ${error instanceof Error ? error.message : String(error)}`;
  // Messages can quote what a file held (a label, a name): escaped, so they cannot forge output.
  process.stderr.write(escapeForTerminal(line.replace(/\s*\n\s*/g, ' ')) + '\n');
  if (process.env.KEYRITE_DEBUG && error instanceof Error && error.stack) process.stderr.write(error.stack + '\n');
  process.exit(error instanceof KeyriteError && error.code === 'USAGE' ? 2 : 1);
}

export function isInteractive(): boolean {
  return Boolean(process.stdin.isTTY && process.stdout.isTTY) && process.env.CI !== 'true';
}

/**
 * A PIN from, in order: --pin-file, the environment variable (KEYRITE_PIN, or KEYRITE_SO_PIN for
 * the security officer), a no-echo prompt (when a terminal is attached), or the demo default
 * (demo token only). Every source goes through the same normalizePin. Never logged, echoed or
 * stored.
 */
export async function readPin(options: { pinFile?: string; prompt: string; demoDefault?: string; envName?: string }): Promise<string> {
  const found = readPinIfGiven(options);
  if (found !== undefined) return found;
  if (options.demoDefault !== undefined) return options.demoDefault;
  if (isInteractive()) {
    const { password } = await import('@inquirer/prompts');
    return normalizePin(await password({ message: options.prompt, mask: false }), 'the PIN typed at the prompt');
  }
  const envName = options.envName ?? 'KEYRITE_PIN';
  throw new KeyriteError('PIN_REQUIRED', `A PIN is needed but no terminal is attached. Set ${envName} or pass --pin-file FILE.`);
}

/** The PIN from --pin-file or the environment variable, normalised; undefined when neither is set. */
export function readPinIfGiven(options: { pinFile?: string; envName?: string }): string | undefined {
  if (options.pinFile) return normalizePin(readPinFile(options.pinFile), `the PIN file '${options.pinFile}'`);
  const envName = options.envName ?? 'KEYRITE_PIN';
  const env = process.env[envName];
  if (env) return normalizePin(env, envName);
  return undefined;
}

/**
 * A PIN file must be a regular file that only its owner can read: a PIN readable by the group or
 * by everyone is a PIN anyone on the workstation knows. Checked on the opened file (no race).
 */
export function readPinFile(file: string): string {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ELOOP') throw new KeyriteError('PIN_FILE_SYMLINK', `The PIN file '${file}' is a symbolic link. Keyrite reads a PIN only from a regular file; point --pin-file at the file itself.`, { details: { file } });
    throw new KeyriteError('PIN_FILE_UNREADABLE', `The PIN file '${file}' cannot be read (${code ?? String(e)}). Check the path.`, { details: { file } });
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new KeyriteError('PIN_FILE_NOT_REGULAR', `The PIN file '${file}' is not a regular file. Keyrite reads a PIN only from a regular file.`, { details: { file } });
    if ((st.mode & 0o077) !== 0) {
      const mode = (st.mode & 0o777).toString(8).padStart(4, '0');
      throw new KeyriteError('PIN_FILE_PERMISSIONS', `The PIN file '${file}' can be read by its group or by others (mode ${mode}). Nothing was read; run \`chmod 600 ${file}\` and try again.`, { details: { file, mode } });
    }
    return readFileSync(fd, 'utf8');
  } finally {
    closeSync(fd);
  }
}

/** Write to --out FILE (refusing to overwrite) or to stdout. */
export function emit(text: string, out?: string, options: { overwrite?: boolean } = {}): void {
  if (!out) {
    process.stdout.write(text.endsWith('\n') ? text : text + '\n');
    return;
  }
  try {
    writeFileSync(out, text, { flag: options.overwrite ? 'w' : 'wx' });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw new KeyriteError('OUTPUT_EXISTS', `'${out}' already exists; Keyrite does not overwrite files. Choose another name or remove it first.`);
    throw e;
  }
}

export function usage(message: string): KeyriteError {
  return new KeyriteError('USAGE', message);
}
