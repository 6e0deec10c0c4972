import type { Command } from 'commander';
import { buildProgram, GROUPS } from './program';

/**
 * Every help page of `keyrite`, keyed by command path ('' for the top level, 'ceremony run', …).
 * The CLI build writes them to out/cli/help.json so `keyrite --help` and `keyrite X --help`
 * print without loading commander and the command groups (start-up is most of their cost).
 */
export async function allHelpPages(): Promise<Record<string, string>> {
  const program = await buildProgram(Object.keys(GROUPS));
  const pages: Record<string, string> = {};
  const walk = (cmd: Command, path: string[]): void => {
    pages[path.join(' ')] = cmd.helpInformation();
    for (const sub of cmd.commands) walk(sub, [...path, sub.name()]);
  };
  walk(program, []);
  return pages;
}
