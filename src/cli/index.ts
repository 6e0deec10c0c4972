import 'reflect-metadata';
import { Command, CommanderError } from 'commander';
import { registerCeremonyCommands } from './commands/ceremony';
import { registerHsmCommands } from './commands/hsm';
import { registerExportCommands } from './commands/export';
import { registerInventoryCommands } from './commands/inventory';
import { registerPolicyCommands } from './commands/policy';
import { registerVerifyCommands } from './commands/verify';
import { registerShareCommands } from './commands/share';
import { fail } from './io';

const program = new Command();
program
  .name('keyrite')
  .description('Keyrite — offline key ceremonies on PKCS#11 HSMs')
  .version(process.env.KEYRITE_VERSION ?? '0.1.0')
  .showHelpAfterError()
  .exitOverride();

registerHsmCommands(program);
registerCeremonyCommands(program);
registerExportCommands(program);
registerInventoryCommands(program);
registerPolicyCommands(program);
registerVerifyCommands(program);
registerShareCommands(program);

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) {
    if (e.exitCode === 0 || e.code === 'commander.helpDisplayed' || e.code === 'commander.version') process.exit(0);
    process.exit(e.exitCode || 2);
  }
  fail(e);
}
