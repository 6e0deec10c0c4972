import { execSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, renameSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { codeIdentity, codeRoot } from '../../src/core/ceremony/code-identity';

/** What docs/formats.md tells an auditor to run. */
const auditorHash = (root: string, dirs: string[]): string =>
  execSync(`find ${dirs.join(' ')} -type f | LC_ALL=C sort | xargs -d '\\n' sha256sum | sha256sum`, { cwd: root, encoding: 'utf8' }).split(' ')[0];

function tree(files: Record<string, string>): string {
  const root = mkdtempSync(path.join(os.tmpdir(), 'keyrite-code-'));
  for (const [rel, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    writeFileSync(path.join(root, rel), content);
  }
  return root;
}

describe('code identity', () => {
  it('hashes every file of the CLI bundle, and only those, as sha256sum and sort do', () => {
    const root = tree({
      'out/cli/keyrite.mjs': 'entry',
      'out/cli/keyrite.mjs.map': '{}',
      'out/cli/chunks/ceremony-AAAA.mjs': 'chunk a',
      'out/cli/chunks/Zeta-BBBB.mjs': 'chunk z', // capitals sort before lower case in byte order
      'out/cli/chunks/with space.mjs': 'chunk s',
      'out/main/index.js': 'desktop main, not the CLI',
    });
    const id = codeIdentity(path.join(root, 'out/cli/chunks/ceremony-AAAA.mjs'));
    expect(id.root).toBe(path.join(root, 'out'));
    expect(id.dirs).toEqual(['cli']);
    expect(id.manifest.map((m) => m.path)).toEqual(['cli/chunks/Zeta-BBBB.mjs', 'cli/chunks/ceremony-AAAA.mjs', 'cli/chunks/with space.mjs', 'cli/keyrite.mjs', 'cli/keyrite.mjs.map']);
    expect(id.sha256).toBe(auditorHash(id.root, id.dirs));
  });

  it('changes when any file changes, including one the running chunk never loads', () => {
    const root = tree({ 'out/cli/keyrite.mjs': 'entry', 'out/cli/chunks/a.mjs': 'a', 'out/cli/chunks/b.mjs': 'b' });
    const before = codeIdentity(path.join(root, 'out/cli/keyrite.mjs')).sha256;
    writeFileSync(path.join(root, 'out/cli/chunks/b.mjs'), 'b2');
    const after = codeIdentity(path.join(root, 'out/cli/keyrite.mjs'));
    expect(after.sha256).not.toBe(before);
    expect(after.sha256).toBe(auditorHash(after.root, after.dirs));
  });

  it('sees an edit that keeps the size and the mtime, and a file replaced by another, when it hashes again in the same process', () => {
    const root = tree({ 'out/cli/keyrite.mjs': 'entry', 'out/cli/chunks/a.mjs': 'aaaa', 'out/cli/chunks/b.mjs': 'bbbb' });
    const entry = path.join(root, 'out/cli/keyrite.mjs');
    const first = codeIdentity(entry);
    expect(codeIdentity(entry)).toEqual(first); // unchanged files, the same identity

    // Same length, mtime put back: only the content (and the ctime the kernel sets) differ.
    const a = path.join(root, 'out/cli/chunks/a.mjs');
    const { atime, mtime } = statSync(a);
    writeFileSync(a, 'AAAA');
    utimesSync(a, atime, mtime);
    const edited = codeIdentity(entry);
    expect(edited.sha256).not.toBe(first.sha256);
    expect(edited.sha256).toBe(auditorHash(edited.root, edited.dirs));

    // Swapped in by rename (a new inode), as an upgrade would.
    const b = path.join(root, 'out/cli/chunks/b.mjs');
    writeFileSync(`${b}.new`, 'cccc');
    renameSync(`${b}.new`, b);
    const replaced = codeIdentity(entry);
    expect(replaced.sha256).not.toBe(edited.sha256);
    expect(replaced.sha256).toBe(auditorHash(replaced.root, replaced.dirs));
  });

  it('hashes the desktop app as main, preload and renderer of out/, leaving out a CLI built next to it', () => {
    const root = tree({ 'out/main/index.js': 'm', 'out/preload/index.js': 'p', 'out/renderer/index.html': 'r', 'out/renderer/assets/app.js': 'a', 'out/cli/keyrite.mjs': 'cli' });
    const id = codeIdentity(path.join(root, 'out/main/index.js'));
    expect(id.dirs).toEqual(['main', 'preload', 'renderer']);
    expect(id.files).toBe(4);
    expect(id.sha256).toBe(auditorHash(id.root, id.dirs));
  });

  it('hashes the sources for a development run, and the built CLI of this checkout as the auditor would', () => {
    const checkout = path.resolve(__dirname, '../..');
    expect(codeRoot(path.join(checkout, 'src/core/ceremony/preflight.ts'))).toEqual({ root: checkout, dirs: ['src'] });
    const cli = codeIdentity(path.join(checkout, 'out/cli/keyrite.mjs')); // built by the test set-up
    expect(cli.files).toBeGreaterThan(2);
    expect(cli.sha256).toBe(auditorHash(cli.root, cli.dirs));
  });
});
