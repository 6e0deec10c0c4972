import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { KeyriteError } from '../errors';

/**
 * The folder this module's code runs from. The same source ends up in several places (src/ under
 * vitest, out/cli/keyrite.mjs, out/main/index.js, inside app.asar), so it is computed, not assumed.
 */
function moduleDir(): string | undefined {
  if (typeof __dirname === 'string') return __dirname;
  try {
    return path.dirname(fileURLToPath(import.meta.url));
  } catch {
    return undefined;
  }
}

/** Folders that may hold a `resources/` tree, most specific first. */
export function resourceRoots(env: NodeJS.ProcessEnv = process.env): string[] {
  const roots: string[] = [];
  if (env.KEYRITE_RESOURCES) roots.push(path.resolve(env.KEYRITE_RESOURCES));
  // Packaged Electron app: electron-builder's extraResources land in process.resourcesPath.
  const resourcesPath = (process as { resourcesPath?: string }).resourcesPath;
  if (resourcesPath) roots.push(path.join(resourcesPath, 'resources'), resourcesPath);
  for (const start of [moduleDir(), process.cwd()]) {
    if (!start) continue;
    // Walk up from the code to the app root: src/core/config → root, out/cli → root, app.asar/out/main → app.asar.
    let dir = path.resolve(start);
    for (;;) {
      roots.push(path.join(dir, 'resources'));
      const parent = path.dirname(dir);
      if (parent === dir) break;
      dir = parent;
    }
  }
  return [...new Set(roots)];
}

/**
 * The absolute path of a file shipped under resources/ (e.g. 'policies/default.yaml'), wherever
 * Keyrite runs from. Throws RESOURCE_MISSING listing where it looked.
 */
export function resolveResource(relative: string, env: NodeJS.ProcessEnv = process.env): string {
  const roots = resourceRoots(env);
  for (const root of roots) {
    const candidate = path.join(root, relative);
    if (existsSync(candidate)) return candidate;
  }
  throw new KeyriteError('RESOURCE_MISSING', `Keyrite cannot find its bundled file '${relative}'. The installation looks incomplete: reinstall Keyrite, or set KEYRITE_RESOURCES to the folder that holds it.`, { details: { relative, searched: roots } });
}
