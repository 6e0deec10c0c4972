import { Command, CommanderError } from 'commander';
import { fail } from './io';

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

// `keyrite … | head` closes the pipe early; that is not an error worth a stack trace.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});

const program = new Command();
program
  .name('keyrite')
  .description('Keyrite — offline key ceremonies on PKCS#11 HSMs')
  .version(process.env.KEYRITE_VERSION ?? '0.1.0')
  .showHelpAfterError()
  .option('--token <uri-or-label>', 'the token to use: a PKCS#11 URI (pkcs11:token=…;serial=…?module-path=…) or a label; same as KEYRITE_TOKEN_URI / KEYRITE_TOKEN_LABEL')
  .option('--module-args <args>', 'PKCS#11 module initialisation arguments (e.g. NSS: configdir=…); same as KEYRITE_PKCS11_INIT_ARGS')
  .exitOverride();

// Global HSM options become the environment every command already reads (resolveHsmConfig).
program.hook('preAction', () => {
  const opts = program.opts<{ token?: string; moduleArgs?: string }>();
  if (opts.token !== undefined) {
    if (/^pkcs11:/i.test(opts.token.trim())) process.env.KEYRITE_TOKEN_URI = opts.token;
    else {
      process.env.KEYRITE_TOKEN_LABEL = opts.token;
      delete process.env.KEYRITE_TOKEN_URI;
    }
  }
  if (opts.moduleArgs !== undefined) process.env.KEYRITE_PKCS11_INIT_ARGS = opts.moduleArgs;
});

try {
  // Skip global options and their values when looking for the command group.
  const argv = process.argv.slice(2);
  const wanted = argv.find((a, i) => !a.startsWith('-') && !['--token', '--module-args'].includes(argv[i - 1]));
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
