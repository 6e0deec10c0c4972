import { statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { KeyriteError } from '../errors';

/** Where Keyrite keeps its data: KEYRITE_HOME, else $XDG_DATA_HOME/keyrite, else ~/.local/share/keyrite. */
export function keyriteHome(env: NodeJS.ProcessEnv = process.env): string {
  if (env.KEYRITE_HOME) return path.resolve(env.KEYRITE_HOME);
  const xdg = env.XDG_DATA_HOME && path.isAbsolute(env.XDG_DATA_HOME) ? env.XDG_DATA_HOME : path.join(os.homedir(), '.local', 'share');
  return path.join(xdg, 'keyrite');
}

/**
 * Before making a folder in Keyrite's home: the home need not exist yet, but it must be able to.
 * One that is a file, or lies under one, surfaced as a bare ENOTDIR from whichever mkdir came
 * first. The nearest part that exists must be a folder (links followed, as mkdir does).
 */
export function checkHomeCanBeFolder(home: string): void {
  for (let p = home; ; p = path.dirname(p)) {
    const st = statOrNothing(p);
    if (st) {
      if (st.isDirectory()) return;
      const where = p === home ? `'${home}' is a file` : `'${home}' lies under '${p}', which is a file`;
      throw new KeyriteError('STORE_HOME_NOT_A_FOLDER', `Keyrite's data folder ${where}, not a folder. Check KEYRITE_HOME (or XDG_DATA_HOME): point it at a folder (it is made if missing).`, { details: { home, file: p } });
    }
    if (path.dirname(p) === p) return;
  }
}

export function storePath(home: string): string {
  return path.join(home, 'keyrite.sqlite');
}

function statOrNothing(p: string): ReturnType<typeof statSync> | undefined {
  try {
    return statSync(p);
  } catch (e) {
    // Missing, or under a file (ENOTDIR): look at the part above.
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw e;
  }
}
