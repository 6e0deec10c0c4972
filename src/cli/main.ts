import { CommanderError } from 'commander';
import { disableCoreDumps } from '../core/process/core-dumps';
import { fail, stdoutFailed } from './io';
import { buildProgram, GLOBAL_VALUE_OPTIONS, GROUPS, NO_SECRET_GROUPS } from './program';

// Skip global options and their values when looking for the command group.
const argv = process.argv.slice(2);
const wanted = argv.find((a, i) => !a.startsWith('-') && !GLOBAL_VALUE_OPTIONS.includes(argv[i - 1]));

// First, before a PIN, share or KEK byte can be in memory: a crash must not write them to a core
// file. (The fast path in index.ts — version and help pages — never holds a secret, nor does
// `verify`, which reads a sealed bundle only: a public record. Spawning prlimit costs it 30–100 ms
// of a start that is most of a small bundle's verify time.)
if (!(wanted && NO_SECRET_GROUPS.includes(wanted))) {
  try {
    disableCoreDumps();
  } catch (e) {
    fail(e);
  }
}

// Every stdout write fails here, not with a stack trace: `keyrite … | head` closing the pipe early
// is a quiet exit 0; `keyrite verify B > /dev/full` is OUTPUT_STDOUT_FAILED on stderr, exit 1.
process.stdout.on('error', (e: NodeJS.ErrnoException) => stdoutFailed(e));

try {
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
