#!/usr/bin/env node
// Bundles the `keyrite` CLI (src/cli) into out/cli/keyrite.mjs, one chunk per command group
// (src/cli/program.ts imports them on demand) and out/cli/verify.mjs for the direct `keyrite
// verify` (below), then writes every help page to out/cli/help.json
// from the real program, for the start-up fast path (src/cli/fast-path.ts). Runs from `prepare`
// (so `npx keyrite` works right after `npm ci`) and from the test set-up. `--test` builds the
// same into out/cli-test instead, with the test-only switches (KEYRITE_FAULT_KILL_AT,
// KEYRITE_FAULT_TRACE) live; the shipped bundle has them compiled out (build/bundle-node.mjs).
import { readdirSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import path from 'node:path';
import { bundleNode } from './bundle-node.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const testBuild = process.argv.includes('--test');
const outdir = path.join(root, testBuild ? 'out/cli-test' : 'out/cli');
// `keyrite verify BUNDLE` (src/cli/verify-direct.ts, which index.ts imports for the plain forms of
// verify) is a file of its own, out/cli/verify.mjs, holding all it runs: its start-up is a large
// part of a small bundle's verify, and one module loads faster than the ten shared chunks it was
// (a missing folder: 572M → 547M instructions, callgrind). index.ts's import of it is pointed there.
const verifyAlone = {
  name: 'verify-alone',
  setup(b) {
    b.onResolve({ filter: /^\.\/verify-direct$/ }, () => ({ path: './verify.mjs', external: true }));
  },
};
const built = await bundleNode({
  plugins: [verifyAlone],
  entry: {
    keyrite: path.join(root, 'src/cli/index.ts'),
    'help-pages': path.join(root, 'src/cli/help-pages.ts'),
    // verify's worker threads run this file (src/core/transcript/line-pool.ts finds it).
    'transcript-verify-worker': path.join(root, 'src/core/transcript/verify-worker.ts'),
  },
  outdir,
  testBuild,
});
const verifyBuilt = await bundleNode({ entry: { verify: path.join(root, 'src/cli/verify-direct.ts') }, outdir, testBuild, splitting: false });
const { allHelpPages } = await import(pathToFileURL(path.join(outdir, 'help-pages.mjs')).href);
writeFileSync(path.join(outdir, 'help.json'), JSON.stringify(await allHelpPages()) + '\n');
// The preflight's code identity hashes every file in out/cli, so a chunk an older build left
// would be listed as part of the Keyrite that ran: remove what this build did not write. (Not
// the whole folder first: a keyrite already running from it still finds its unchanged chunks.)
const keep = new Set([...[built, verifyBuilt].flatMap((b) => Object.keys(b.metafile.outputs)).map((f) => path.resolve(f)), path.join(outdir, 'help.json')]);
for (const entry of readdirSync(outdir, { recursive: true, withFileTypes: true })) {
  const file = path.join(entry.parentPath ?? entry.path, entry.name);
  if (entry.isFile() && !keep.has(file)) rmSync(file);
}
