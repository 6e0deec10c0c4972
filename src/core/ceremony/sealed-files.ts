import { promises as fs } from 'node:fs';
import path from 'node:path';
import { KeyriteError } from '../errors';
import { BUNDLE_FILES } from '../transcript';
import { listBundleFiles } from '../transcript/sha256sums';

/** What writeFileAtomic leaves behind when the process dies mid-write: `.<name>.keyrite-tmp-<12 hex>`. */
const ATOMIC_TEMP = /(^|\/)\.[^/]+\.keyrite-tmp-[0-9a-f]{12}$/;

/**
 * The seal publishes and hashes every file in the bundle folder, so it takes only the files this
 * ceremony wrote (its recorded artifacts and the seal's own files). Anything else — drill shares,
 * a stray copy, a file someone dropped in — is refused with SEAL_UNEXPECTED_FILE, nothing sealed.
 * Temporary files of Keyrite's own interrupted atomic writes are removed.
 */
export async function assertOnlyProducedFiles(dir: string, produced: Iterable<string>): Promise<void> {
  const allowed = new Set<string>([...produced].map((p) => p.split(path.sep).join('/')));
  for (const f of Object.values(BUNDLE_FILES)) allowed.add(f);
  const extra: string[] = [];
  for (const file of await listBundleFiles(dir)) {
    if (allowed.has(file)) continue;
    if (ATOMIC_TEMP.test(file)) await fs.rm(path.join(dir, file), { force: true });
    else extra.push(file);
  }
  if (extra.length > 0) {
    const shown = extra.slice(0, 5).map((f) => `'${f}'`).join(', ') + (extra.length > 5 ? ` and ${extra.length - 5} more` : '');
    throw new KeyriteError('SEAL_UNEXPECTED_FILE', `The bundle folder '${dir}' holds ${extra.length === 1 ? 'a file' : `${extra.length} files`} this ceremony did not write: ${shown}. The seal would publish ${extra.length === 1 ? 'it' : 'them'} and list ${extra.length === 1 ? 'it' : 'them'} in SHA256SUMS; move ${extra.length === 1 ? 'it' : 'them'} out of the folder and seal again.`, { details: { dir, files: extra } });
  }
}
