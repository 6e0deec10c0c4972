import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface CodeIdentity {
  /** The folder the manifest paths are relative to (out/ for a build, the checkout for sources). */
  root: string;
  /** The top-level folders hashed, relative to `root` (cli; or main, preload, renderer; or src). */
  dirs: string[];
  files: number;
  /** SHA-256 of the manifest text: `sha256sum` lines of every file, sorted by path. */
  sha256: string;
  manifest: Array<{ path: string; sha256: string }>;
}

/**
 * Which Keyrite ran: every file it runs from, not one chunk of it. The CLI runs from out/cli
 * (its entry and every chunk), the desktop app from out/main, out/preload and out/renderer, a
 * development run from src/. The manifest is exactly what `sha256sum` prints for those files in
 * byte order of their paths, and its SHA-256 is the root hash, so an auditor recomputes it with
 * standard tools (docs/formats.md, "Code identity").
 */
export function codeIdentity(runningFile = currentFile()): CodeIdentity {
  const { root, dirs } = codeRoot(runningFile);
  const paths = dirs.flatMap((d) => listFiles(root, d)).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  const manifest = paths.map((p) => ({ path: p, sha256: fileSha256(path.join(root, p)) }));
  const text = manifest.map((m) => `${m.sha256}  ${m.path}\n`).join('');
  return { root, dirs, files: manifest.length, sha256: createHash('sha256').update(text).digest('hex'), manifest };
}

/**
 * Every ceremony records the identity, but the files rarely change while Keyrite runs: a file is
 * hashed again only when its inode, size, mtime or ctime differ from when it was last hashed (a
 * replaced or edited file changes at least one of them), so a long-running desktop session still
 * records the files as they are on disk now.
 */
const hashed = new Map<string, { ino: number; size: number; mtimeNs: bigint; ctimeNs: bigint; sha256: string }>();

function fileSha256(file: string): string {
  const st = statSync(file, { bigint: true });
  const seen = hashed.get(file);
  if (seen && seen.ino === Number(st.ino) && seen.size === Number(st.size) && seen.mtimeNs === st.mtimeNs && seen.ctimeNs === st.ctimeNs) return seen.sha256;
  const sha256 = createHash('sha256').update(readFileSync(file)).digest('hex');
  hashed.set(file, { ino: Number(st.ino), size: Number(st.size), mtimeNs: st.mtimeNs, ctimeNs: st.ctimeNs, sha256 });
  return sha256;
}

function currentFile(): string {
  return typeof __filename === 'string' ? __filename : fileURLToPath(import.meta.url);
}

/** The build folder (out/) or the checkout (for src/) above the running file, and what to hash there. */
export function codeRoot(runningFile: string): { root: string; dirs: string[] } {
  let dir = path.dirname(path.resolve(runningFile));
  let child: string | null = null;
  for (;;) {
    const name = path.basename(dir);
    if (name === 'out' && child) {
      if (child === 'cli') return { root: dir, dirs: ['cli'] };
      return { root: dir, dirs: ['main', 'preload', 'renderer'].filter((d) => existsSync(path.join(dir, d))) };
    }
    if (name === 'src' && existsSync(path.join(dir, 'core'))) return { root: path.dirname(dir), dirs: ['src'] };
    const parent = path.dirname(dir);
    if (parent === dir) return { root: path.dirname(path.resolve(runningFile)), dirs: ['.'] };
    child = name;
    dir = parent;
  }
}

function listFiles(root: string, rel: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(path.join(root, rel), { withFileTypes: true })) {
    const p = rel === '.' ? entry.name : `${rel}/${entry.name}`;
    if (entry.isDirectory()) out.push(...listFiles(root, p));
    else if (entry.isFile() || (entry.isSymbolicLink() && statSync(path.join(root, p)).isFile())) out.push(p);
  }
  return out;
}
