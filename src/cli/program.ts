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
 * The `keyrite` program with the named command groups registered. Help is wrapped at 80
 * columns whatever the terminal, so the help pages written at build time (help-pages.ts) are
 * exactly what commander would print.
 */
export async function buildProgram(groups: readonly string[]): Promise<Command> {
  const program = new Command();
  program
    .name('keyrite')
    .description('Keyrite — offline key ceremonies on PKCS#11 HSMs')
    .version(KEYRITE_VERSION)
    .configureHelp({ helpWidth: 80 })
    .showHelpAfterError()
    .exitOverride();
  for (const name of groups) (await GROUPS[name]())(program);
  return program;
}
