import { Command } from 'commander';
import { KEYRITE_VERSION } from './version';

/**
 * Command groups, loaded on demand: `keyrite verify` should not pay for loading the X.509
 * library, the prompts and the HSM layer it never uses (start-up time is most of a verify).
 */
export const GROUPS: Record<string, () => Promise<(program: Command) => void>> = {
  hsm: async () => (await import('./commands/hsm')).registerHsmCommands,
  ceremony: async () => (await import('./commands/ceremony')).registerCeremonyCommands,
  export: async () => (await import('./commands/export')).registerExportCommands,
  inventory: async () => (await import('./commands/inventory')).registerInventoryCommands,
  policy: async () => (await import('./commands/policy')).registerPolicyCommands,
  verify: async () => (await import('./commands/verify')).registerVerifyCommands,
  share: async () => (await import('./commands/share')).registerShareCommands,
};

/**
 * Command groups that never hold a PIN, a share or KEK bytes: `verify` reads a sealed bundle, a
 * public record. Only these may skip turning core dumps off (src/cli/main.ts).
 */
export const NO_SECRET_GROUPS: readonly string[] = ['verify'];

/**
 * The `keyrite` program with the named command groups registered. Help is wrapped at 80
 * columns whatever the terminal, so the help pages written at build time (help-pages.ts) are
 * exactly what commander would print.
 */
/** Global options that take a value: the command group is the first word that is neither. */
export const GLOBAL_VALUE_OPTIONS = ['--token', '--module-args'];

export async function buildProgram(groups: readonly string[]): Promise<Command> {
  const program = new Command();
  program
    .name('keyrite')
    .description('Keyrite — offline key ceremonies on PKCS#11 HSMs')
    .version(KEYRITE_VERSION)
    .configureHelp({ helpWidth: 80 })
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
  for (const name of groups) (await GROUPS[name]())(program);
  return program;
}
