#!/usr/bin/env node
// `npm start`: set up what is missing, build, and launch the desktop app on the demo token.
// Where the Electron binary is missing, run the same ceremony in the terminal runner instead.
import { ensureAptPackages, ensureNodeModules, electronBinary, run } from './setup.mjs';

ensureAptPackages(['softhsm2', 'opensc', 'openssl']);
ensureNodeModules();
const env = { ...process.env, ELECTRON_SKIP_BINARY_DOWNLOAD: '1' };
if (run('node', ['build/build-cli.mjs'], { env }) !== 0) process.exit(1);

const electron = electronBinary();
if (electron && (process.env.DISPLAY || process.env.WAYLAND_DISPLAY)) {
  if (run('npx', ['electron-vite', 'build', '--logLevel', 'warn'], { env }) !== 0) process.exit(1);
  process.exit(run(electron, ['.'], { env }));
}
const why = electron ? 'no display is available' : 'the Electron binary is not installed on this machine';
const interactive = Boolean(process.stdin.isTTY && process.stdout.isTTY) && process.env.CI !== 'true';
process.stderr.write(`Keyrite: ${why}, so the root key ceremony runs in the terminal instead, on the embedded demo token.\n`);
const args = ['bin/keyrite.mjs', 'ceremony', 'run', 'root-key-generation'];
if (!interactive) args.push('--demo');
process.exit(run('node', args, { env }));
