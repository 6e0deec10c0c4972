#!/usr/bin/env node
// Bundles the `keyrite` CLI (src/cli) into out/cli/keyrite.mjs, one chunk per command group
// (src/cli/index.ts imports them on demand). Runs from `prepare` (so `npx keyrite` works right
// after `npm ci`) and from the test set-up.
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { bundleNode } from './bundle-node.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
await bundleNode({ entry: path.join(root, 'src/cli/index.ts'), outdir: path.join(root, 'out/cli'), entryNames: 'keyrite' });
