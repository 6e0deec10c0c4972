import { Command, CommanderError } from 'commander';
import { fail, stdoutFailed } from './io';

/**
 * Command groups, loaded on demand: `keyrite verify` should not pay for loading the X.509
 * library, the prompts and the HSM layer it never uses (start-up time is most of a verify).
 */
const GROUPS: Record<string, () => Promise<(program: Command) => void>> = {
  hsm: async () => (await import('./commands/hsm')).registerHsmCommands,
  ceremony: async () => (await import('./commands/ceremony')).registerCeremonyCommands,
  export: async () => (await import('./commands/export')).registerExportCommands,
  inventory: async () => (await import('./commands/inventory')).registerInventoryCommands,
  policy: async () => (await import('./commands/policy')).registerPolicyCommands,
  verify: async () => (await import('./commands/verify')).registerVerifyCommands,
  share: async () => (await import('./commands/share')).registerShareCommands,
};

// Every stdout write fails here, not with a stack trace: `keyrite … | head` closing the pipe early
// is a quiet exit 0; `keyrite verify B > /dev/full` is OUTPUT_STDOUT_FAILED on stderr, exit 1.
process.stdout.on('error', (e: NodeJS.ErrnoException) => stdoutFailed(e));

const program = new Command();
program
  .name('keyrite')
  .description('Keyrite — offline key ceremonies on PKCS#11 HSMs')
  .version(process.env.KEYRITE_VERSION ?? '0.1.0')
  .showHelpAfterError()
  .exitOverride();

try {
  const wanted = process.argv.slice(2).find((a) => !a.startsWith('-'));
  // Help, a typo or no command: load every group so commander can list them all.
  const names = wanted && wanted in GROUPS ? [wanted] : Object.keys(GROUPS);
  for (const name of names) (await GROUPS[name]())(program);
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) {
    if (e.exitCode === 0 || e.code === 'commander.helpDisplayed' || e.code === 'commander.version') process.exit(0);
    process.exit(e.exitCode || 2);
  }
  fail(e);
}
