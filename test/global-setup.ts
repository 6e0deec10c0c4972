import { execFileSync } from 'node:child_process';

/**
 * The CLI tests spawn the bundled `keyrite`; rebuild it so they test the current source. The crash
 * tests spawn the test build (out/cli-test), where KEYRITE_FAULT_KILL_AT is live.
 */
export default function setup(): void {
  execFileSync(process.execPath, ['build/build-cli.mjs'], { stdio: 'inherit' });
  execFileSync(process.execPath, ['build/build-cli.mjs', '--test'], { stdio: 'inherit' });
}
