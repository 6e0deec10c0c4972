import { CommanderError } from 'commander';
import { disableCoreDumps } from '../core/process/core-dumps';
import { fail } from './io';
import { buildProgram, GLOBAL_VALUE_OPTIONS, GROUPS } from './program';

// First, before a PIN, share or KEK byte can be in memory: a crash must not write them to a core
// file. (The fast path in index.ts — version and help pages — never holds a secret.)
try {
  disableCoreDumps();
} catch (e) {
  fail(e);
}

// `keyrite … | head` closes the pipe early; that is not an error worth a stack trace.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});

try {
  // Skip global options and their values when looking for the command group.
  const argv = process.argv.slice(2);
  const wanted = argv.find((a, i) => !a.startsWith('-') && !GLOBAL_VALUE_OPTIONS.includes(argv[i - 1]));
  // Help, a typo or no command: load every group so commander can list them all.
  const program = await buildProgram(wanted && wanted in GROUPS ? [wanted] : Object.keys(GROUPS));
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) {
    if (e.exitCode === 0 || e.code === 'commander.helpDisplayed' || e.code === 'commander.version') process.exit(0);
    process.exit(e.exitCode || 2);
  }
  fail(e);
}
