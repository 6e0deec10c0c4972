#!/usr/bin/env node
// The `keyrite` command. The CLI is bundled to out/cli by `npm ci` (prepare) or `npm run build:cli`.
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import path from 'node:path';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const entry = path.join(root, 'out/cli/keyrite.mjs');
if (!existsSync(entry)) {
  process.stderr.write('keyrite: the CLI is not built yet. Run `npm ci` or `npm run build:cli` in ' + root + '\n');
  process.exit(2);
}
await import(pathToFileURL(entry).href);
