import { execFileSync } from 'node:child_process';

/** The CLI tests spawn the bundled `keyrite`; rebuild it so they test the current source. */
export default function setup(): void {
  execFileSync(process.execPath, ['build/build-cli.mjs'], { stdio: 'inherit' });
}
