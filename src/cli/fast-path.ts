import { readFileSync } from 'node:fs';
import { KEYRITE_VERSION } from './version';

/**
 * `keyrite --version`, `keyrite --help`, `keyrite help X` and `keyrite X --help` answered from
 * out/cli/help.json, written at build time from the real commander program (help-pages.ts), so
 * they start as fast as Node itself. Returns false when the arguments ask for anything else,
 * or the pages are missing (then commander answers, as it always could).
 */
export function answerFromFastPath(args: readonly string[]): boolean {
  if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
    process.stdout.write(KEYRITE_VERSION + '\n');
    return true;
  }
  const path = helpPath(args);
  if (path === null) return false;
  let pages: Record<string, string>;
  try {
    pages = JSON.parse(readFileSync(new URL('./help.json', import.meta.url), 'utf8')) as Record<string, string>;
  } catch {
    return false;
  }
  const page = pages[path];
  if (page === undefined) return false;
  process.stdout.write(page);
  return true;
}

/** The command path whose help is asked for, or null when the arguments ask for something else. */
function helpPath(args: readonly string[]): string | null {
  if (args[0] === 'help') return args.slice(1).every(isWord) ? args.slice(1).join(' ') : null;
  const last = args[args.length - 1];
  if (last !== '--help' && last !== '-h') return null;
  const words = args.slice(0, -1);
  return words.every(isWord) ? words.join(' ') : null;
}

function isWord(arg: string): boolean {
  return /^[a-z][a-z-]*$/.test(arg);
}

/**
 * The bundle of `keyrite verify BUNDLE`, `verify --json BUNDLE` or `verify BUNDLE --json`, the
 * forms verify-direct.ts runs without commander; null for anything else (help, a global option,
 * another option, a bundle named like an option), which commander parses as it always did.
 */
export function directVerifyArgs(args: readonly string[]): { bundle: string; json: boolean } | null {
  if (args[0] !== 'verify') return null;
  const rest = args.slice(1);
  const positional = rest.filter((a) => a !== '--json');
  if (positional.length !== 1 || rest.length - positional.length > 1) return null;
  const bundle = positional[0];
  if (bundle === '' || bundle.startsWith('-')) return null;
  return { bundle, json: positional.length < rest.length };
}
