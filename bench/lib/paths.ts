import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root: the nearest folder above this file whose package.json is Keyrite's. */
function findRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = path.join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'keyrite') return dir;
    const up = path.dirname(dir);
    if (up === dir) throw new Error('bench: cannot find the Keyrite repository root');
    dir = up;
  }
}

export const ROOT = findRoot();
export const CLI = path.join(ROOT, 'bin/keyrite.mjs');
export const RENDERER = path.join(ROOT, 'out/renderer');
