import { constants, existsSync, lstatSync, promises as fs, realpathSync } from 'node:fs';
import path from 'node:path';
import { KeyriteError } from '../errors';
import { writeFileAtomic } from '../fs/atomic-write';

/**
 * `--drill-shares FILE`: a drill's shares written to a file at the operator's explicit request.
 * The file is Keyrite's own from its first byte: created exclusively (an existing path or a
 * symlink is refused, never truncated or followed), owner-only (0600), never inside the bundle
 * folder (which is sealed and published), and every later write replaces it atomically after
 * checking it is still the file this ceremony made (its first line names the ceremony).
 */
export function drillSharesHeader(ceremonyId: string): string {
  return `# keyrite drill shares · ceremony ${ceremonyId} · drill only: destroy after the drill\n`;
}

/** The real path of `p`, or of its nearest existing ancestor joined with the rest (for a folder not made yet). */
function realish(p: string): string {
  const abs = path.resolve(p);
  let dir = abs;
  const rest: string[] = [];
  while (!existsSync(dir)) {
    rest.unshift(path.basename(dir));
    const up = path.dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return path.join(realpathSync(dir), ...rest);
}

const inside = (child: string, parent: string): boolean => child === parent || child.startsWith(parent.endsWith(path.sep) ? parent : parent + path.sep);

/** Refuse a target that exists (file, folder or symlink, even a dangling one) or lies in a folder that will be sealed. */
export function checkDrillSharesTarget(file: string, sealedDirs: string[]): void {
  const abs = path.resolve(file);
  let exists = true;
  try {
    lstatSync(abs);
  } catch {
    exists = false;
  }
  if (exists) {
    throw new KeyriteError('DRILL_SHARES_EXISTS', `The drill shares file '${abs}' already exists (or is a link). Keyrite writes drill shares only to a new file and never overwrites one; name a file that does not exist yet.`, { details: { file: abs } });
  }
  const real = path.join(realish(path.dirname(abs)), path.basename(abs));
  for (const dir of sealedDirs) {
    if (inside(real, realish(dir))) {
      throw new KeyriteError('DRILL_SHARES_IN_BUNDLE', `The drill shares file '${abs}' is inside the bundle folder '${path.resolve(dir)}', which is sealed and handed out: the shares would be published with it. Write them outside the bundle.`, { details: { file: abs, bundle: path.resolve(dir) } });
    }
  }
}

async function readOwn(file: string, ceremonyId: string): Promise<string | null> {
  let handle;
  try {
    handle = await fs.open(file, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw notOurs(file);
  }
  try {
    const st = await handle.stat();
    const text = await handle.readFile('utf8');
    if (!st.isFile() || (st.mode & 0o077) !== 0 || !text.startsWith(drillSharesHeader(ceremonyId))) throw notOurs(file);
    return text;
  } finally {
    await handle.close();
  }
}

function notOurs(file: string): KeyriteError {
  return new KeyriteError('DRILL_SHARES_EXISTS', `'${file}' is not the drill shares file this ceremony made (it was replaced, linked, or made readable by others). Keyrite does not write shares into it; move it away and continue.`, { details: { file } });
}

/**
 * Start the file for a new split: created exclusively, or — when this ceremony made a backup
 * before and the file is still its own — replaced, since the earlier split is void.
 */
export async function startDrillSharesFile(file: string, ceremonyId: string, bundleDir: string): Promise<void> {
  const abs = path.resolve(file);
  const own = await readOwn(abs, ceremonyId);
  if (own === null) checkDrillSharesTarget(abs, [bundleDir]);
  await writeDrillFile(abs, drillSharesHeader(ceremonyId), own === null);
}

export async function appendDrillShare(file: string, ceremonyId: string, text: string): Promise<void> {
  const abs = path.resolve(file);
  const own = await readOwn(abs, ceremonyId);
  if (own === null) throw notOurs(abs);
  await writeDrillFile(abs, own + text, false);
}

async function writeDrillFile(file: string, text: string, exclusive: boolean): Promise<void> {
  try {
    await writeFileAtomic(file, text, { exclusive, mode: 0o600 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw notOurs(file);
    throw e;
  }
}
