import { lstatSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { KeyriteError } from '../core/errors';
import { fileSystemError } from '../core/fs/fs-errors';
import { checkInputFile, decodeInputText, INPUT_LIMITS, isShellStreamPath, readInputFile, type InputFileSpec } from '../core/fs/input-file';
import { checkOutputFile } from '../core/fs/output-dir';
import type { HsmConfig } from '../core/hsm/config';
import { normalizePin } from '../core/hsm/pin';
import { stdoutFailed } from './exit';
import { loadPrompts } from './prompts';

export { fail, promptCancelled, stdoutFailed } from './exit';

export function isInteractive(): boolean {
  return Boolean(process.stdin.isTTY && process.stdout.isTTY) && process.env.CI !== 'true';
}

const PIN_FILE: InputFileSpec = { what: 'PIN file', domain: 'PIN_FILE', maxBytes: INPUT_LIMITS.pinFile, allowStreams: true };

/**
 * The PIN in a PIN file, checked like every named input (PIN_FILE_NOT_FOUND,
 * PIN_FILE_IS_FOLDER, …). A pipe is accepted (`--pin-file <(pass show hsm)`), so the PIN need
 * never be on a disk. A regular file must be the file itself (not a symbolic link) and readable
 * by its owner only: a PIN readable by the group or by everyone is a PIN anyone on the
 * workstation knows. The buffer is zeroized once the line is taken.
 */
export function readPinFile(file: string): string {
  const abs = path.resolve(file);
  let isLink = false;
  try {
    isLink = lstatSync(abs).isSymbolicLink();
  } catch {
    // Missing: checkInputFile says so with its own code.
  }
  if (isLink && !isShellStreamPath(abs)) {
    throw new KeyriteError('PIN_FILE_SYMLINK', `The PIN file '${file}' is a symbolic link. Keyrite reads a PIN only from a regular file (or a pipe); point --pin-file at the file itself.`, { details: { file } });
  }
  const { stat } = checkInputFile(file, PIN_FILE);
  if (stat.isFile() && stat.size === 0) throw new KeyriteError('PIN_FILE_EMPTY', `The PIN file '${file}' is empty (its only line holds the PIN).`, { details: { file } });
  if (stat.isFile() && (stat.mode & 0o077) !== 0) {
    const mode = (stat.mode & 0o777).toString(8).padStart(4, '0');
    throw new KeyriteError('PIN_FILE_PERMISSIONS', `The PIN file '${file}' can be read by its group or by others (mode ${mode}). Nothing was read; run \`chmod 600 ${file}\` and try again.`, { details: { file, mode } });
  }
  const bytes = readInputFile(file, PIN_FILE);
  try {
    // The whole text goes to normalizePin, which drops one trailing newline and refuses a second
    // line, so a file and the variable follow the same rules.
    const text = decodeInputText(bytes, file, { what: 'PIN file', domain: 'PIN_FILE' });
    if (text.replace(/\r?\n$/, '') === '') throw new KeyriteError('PIN_FILE_EMPTY', `The PIN file '${file}' is empty (its only line holds the PIN).`, { details: { file } });
    return text;
  } finally {
    bytes.fill(0);
  }
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
    const { password } = await loadPrompts();
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
 * The PIN for a token, asked only once the token is known to be there: a wrong
 * KEYRITE_TOKEN_LABEL is HSM_TOKEN_NOT_FOUND before anyone types a PIN for nothing.
 */
export async function readTokenPin(config: HsmConfig, pinFile?: string, demoDefault?: string): Promise<string> {
  const { withHsm } = await import('../core/hsm/connect');
  await withHsm(config, null, () => undefined);
  return readPin({ pinFile, prompt: `User PIN for token '${config.tokenLabel}'`, demoDefault });
}

/**
 * Everything the CLI prints to stdout goes through here. A full disk (`> /dev/full`), a closed
 * pipe or a removed medium becomes one coded line on stderr, not a stack trace.
 */
export function writeStdout(text: string): void {
  try {
    process.stdout.write(text);
  } catch (e) {
    stdoutFailed(e);
  }
}

/** Write to --out FILE (refusing to overwrite) or to stdout. */
export function emit(text: string, out?: string, options: { overwrite?: boolean } = {}): void {
  if (!out) {
    writeStdout(text.endsWith('\n') ? text : text + '\n');
    return;
  }
  checkOutputFile(out, 'output file');
  try {
    writeFileSync(out, text, { flag: options.overwrite ? 'w' : 'wx' });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw new KeyriteError('OUTPUT_EXISTS', `'${out}' already exists; Keyrite does not overwrite files. Choose another name or remove it first.`);
    throw fileSystemError(e) ?? e;
  }
}

/** A printable page (script, blank share card) to a new file: an existing file is never replaced. */
export function writeNewPage(file: string, html: string): void {
  try {
    writeFileSync(file, html, { flag: 'wx', mode: 0o644 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw new KeyriteError('CEREMONY_ARTIFACT_EXISTS', `'${file}' already exists. Keyrite does not overwrite files; name a new file.`, { details: { file } });
    throw e;
  }
}

export function usage(message: string): KeyriteError {
  return new KeyriteError('USAGE', message);
}
