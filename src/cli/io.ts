import { readFileSync, writeFileSync } from 'node:fs';
import { KeyriteError } from '../core/errors';

/** Print a one-line reason on stderr and exit non-zero. Stack traces only with KEYRITE_DEBUG. */
export function fail(error: unknown): never {
  const line = error instanceof KeyriteError ? `keyrite: ${error.message} [${error.code}]` : `keyrite: ${error instanceof Error ? error.message : String(error)}`;
  process.stderr.write(line.replace(/\s*\n\s*/g, ' ') + '\n');
  if (process.env.KEYRITE_DEBUG && error instanceof Error && error.stack) process.stderr.write(error.stack + '\n');
  process.exit(error instanceof KeyriteError && error.code === 'USAGE' ? 2 : 1);
}

export function isInteractive(): boolean {
  return Boolean(process.stdin.isTTY && process.stdout.isTTY) && process.env.CI !== 'true';
}

/**
 * A PIN from, in order: --pin-file, KEYRITE_PIN, a no-echo prompt (when a terminal is attached),
 * or the demo default (demo token only). Never logged, never echoed, never stored.
 */
export async function readPin(options: { pinFile?: string; prompt: string; demoDefault?: string }): Promise<string> {
  if (options.pinFile) {
    const pin = readFileSync(options.pinFile, 'utf8').split(/\r?\n/)[0];
    if (!pin) throw new KeyriteError('PIN_FILE_EMPTY', `The PIN file '${options.pinFile}' is empty.`);
    return pin;
  }
  if (process.env.KEYRITE_PIN) return process.env.KEYRITE_PIN;
  if (options.demoDefault !== undefined) return options.demoDefault;
  if (isInteractive()) {
    const { password } = await import('@inquirer/prompts');
    return password({ message: options.prompt, mask: false });
  }
  throw new KeyriteError('PIN_REQUIRED', 'A PIN is needed but no terminal is attached. Set KEYRITE_PIN or pass --pin-file FILE.');
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
