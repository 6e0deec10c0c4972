#!/usr/bin/env node
// Bundles the `keyrite` CLI (src/cli) into out/cli/keyrite.mjs with esbuild.
// Runs from `prepare` (so `npx keyrite` works right after `npm ci`) and from the test set-up.
// Dependencies stay external: native modules (pkcs11js, sqlite3) cannot be bundled.
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
await build({
  entryPoints: [path.join(root, 'src/cli/index.ts')],
  outdir: path.join(root, 'out/cli'),
  entryNames: 'keyrite',
  outExtension: { '.js': '.mjs' },
  chunkNames: 'chunks/[name]-[hash]',
  // Command groups are imported on demand (src/cli/index.ts), so each is its own chunk.
  splitting: true,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  sourcemap: 'linked',
  logLevel: 'warning',
  banner: { js: "import { createRequire as __kr_cr } from 'node:module'; const require = __kr_cr(import.meta.url);" },
});
