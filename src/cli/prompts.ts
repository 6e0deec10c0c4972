import type * as Inquirer from '@inquirer/prompts';

/**
 * The prompts the terminal runner asks with: @inquirer's input and password, stopped by Ctrl-D
 * as by Ctrl-C, and a yes/no question that takes only yes or no for an answer.
 */
export interface Prompts {
  input: (config: Parameters<typeof Inquirer.input>[0]) => Promise<string>;
  password: (config: Parameters<typeof Inquirer.password>[0]) => Promise<string>;
  confirm: (config: { message: string; default: boolean }) => Promise<boolean>;
}

/** Why a prompt was stopped by the keyboard rather than answered: the cause of its AbortPromptError. */
export class EndOfInput extends Error {
  override name = 'EndOfInput';
  constructor() {
    super('Ctrl-D (end of input) at the prompt');
  }
}

/** True when a prompt was stopped by Ctrl-D (or the terminal's input ending) rather than Ctrl-C. */
export function stoppedByEndOfInput(e: unknown): boolean {
  return e instanceof Error && e.cause instanceof EndOfInput;
}

/**
 * y/yes/n/no in any case, with surrounding spaces, or nothing (the default). Anything else is no
 * answer: @inquirer's own confirm takes every answer not starting with y or n — " no", "wait",
 * "stop" — as the default, which on a Yes-by-default step goes on.
 */
export function yesNo(typed: string, fallback: boolean): boolean | undefined {
  const t = typed.trim().toLowerCase();
  if (t === '') return fallback;
  if (t === 'y' || t === 'yes') return true;
  if (t === 'n' || t === 'no') return false;
  return undefined;
}

/**
 * Ctrl-D at a prompt stops the run as Ctrl-C does. Left alone, readline closes on it and the prompt
 * never settles: Node then ends with the ceremony store still open (a native crash in sqlite's
 * close at exit) or with "Stopped by Ctrl-C" printed from an exit handler. The same for the
 * terminal's input ending (a closed pipe, a hung-up line).
 */
function stoppable<C, R>(prompt: (config: C, context?: { signal?: AbortSignal }) => Promise<R>): (config: C) => Promise<R> {
  return async (config) => {
    const controller = new AbortController();
    const stop = () => controller.abort(new EndOfInput());
    const onKey = (_: string, key?: { ctrl?: boolean; name?: string }) => {
      if (key?.ctrl && key.name === 'd') stop();
    };
    process.stdin.on('keypress', onKey);
    process.stdin.on('end', stop);
    try {
      return await prompt(config, { signal: controller.signal });
    } finally {
      process.stdin.off('keypress', onKey);
      process.stdin.off('end', stop);
    }
  };
}

export async function loadPrompts(): Promise<Prompts> {
  const p = await import('@inquirer/prompts');
  const input = stoppable(p.input);
  return {
    input,
    password: stoppable(p.password),
    confirm: async ({ message, default: fallback }) => {
      const typed = await input({
        message: `${message} ${fallback ? '(Y/n)' : '(y/N)'}`,
        validate: (v) => (yesNo(v, fallback) === undefined ? `Answer y (yes) or n (no); Enter alone is ${fallback ? 'yes' : 'no'}.` : true),
        transformer: (v, { isFinal }) => (isFinal ? (yesNo(v, fallback) ? 'Yes' : 'No') : v),
      });
      return yesNo(typed, fallback)!;
    },
  };
}
