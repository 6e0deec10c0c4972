#!/usr/bin/env node
// Bundles the `keyrite` CLI (src/cli) into out/cli/keyrite.mjs, one chunk per command group
// (src/cli/index.ts imports them on demand). Runs from `prepare` (so `npx keyrite` works right
// after `npm ci`) and from the test set-up.
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { bundleNode } from './bundle-node.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outdir = path.join(root, 'out/cli');
// The preflight's code identity hashes every file in out/cli: a chunk left from an older build
// would be listed as part of the Keyrite that ran.
rmSync(outdir, { recursive: true, force: true });
await bundleNode({ entry: path.join(root, 'src/cli/index.ts'), outdir, entryNames: 'keyrite' });
