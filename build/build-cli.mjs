#!/usr/bin/env node
// Bundles the `keyrite` CLI (src/cli) into out/cli/keyrite.mjs, one chunk per command group
// (src/cli/program.ts imports them on demand), then writes every help page to out/cli/help.json
// from the real program, for the start-up fast path (src/cli/fast-path.ts). Runs from `prepare`
// (so `npx keyrite` works right after `npm ci`) and from the test set-up.
import { rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import path from 'node:path';
import { bundleNode } from './bundle-node.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outdir = path.join(root, 'out/cli');
// The preflight's code identity hashes every file in out/cli: a chunk left from an older build
// would be listed as part of the Keyrite that ran.
rmSync(outdir, { recursive: true, force: true });
await bundleNode({
  entry: { keyrite: path.join(root, 'src/cli/index.ts'), 'help-pages': path.join(root, 'src/cli/help-pages.ts') },
  outdir,
});
const { allHelpPages } = await import(pathToFileURL(path.join(outdir, 'help-pages.mjs')).href);
writeFileSync(path.join(outdir, 'help.json'), JSON.stringify(await allHelpPages()) + '\n');
