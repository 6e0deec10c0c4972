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
