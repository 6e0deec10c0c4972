import os from 'node:os';
import path from 'node:path';

/** Where Keyrite keeps its data: KEYRITE_HOME, else $XDG_DATA_HOME/keyrite, else ~/.local/share/keyrite. */
export function keyriteHome(env: NodeJS.ProcessEnv = process.env): string {
  if (env.KEYRITE_HOME) return path.resolve(env.KEYRITE_HOME);
  const xdg = env.XDG_DATA_HOME && path.isAbsolute(env.XDG_DATA_HOME) ? env.XDG_DATA_HOME : path.join(os.homedir(), '.local', 'share');
  return path.join(xdg, 'keyrite');
}

export function storePath(home: string): string {
  return path.join(home, 'keyrite.sqlite');
}
