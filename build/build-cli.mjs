#!/usr/bin/env node
// Bundles the `keyrite` CLI (src/cli) into out/cli/keyrite.mjs, one chunk per command group
// (src/cli/index.ts imports them on demand). Runs from `prepare` (so `npx keyrite` works right
// after `npm ci`) and from the test set-up. `--test` builds out/cli-test/keyrite.mjs instead, with
// the test-only switches (KEYRITE_FAULT_KILL_AT) live; the shipped bundle has them compiled out.
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { bundleNode } from './bundle-node.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const testBuild = process.argv.includes('--test');
await bundleNode({ entry: path.join(root, 'src/cli/index.ts'), outdir: path.join(root, testBuild ? 'out/cli-test' : 'out/cli'), entryNames: 'keyrite', testBuild });
