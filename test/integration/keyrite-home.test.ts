import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CeremonyService } from '../../src/core/ceremony/service';
import { runKeyrite } from '../helpers/cli';
import { tempDir } from '../helpers/ceremony';

/**
 * KEYRITE_HOME set to a file, or to a path under one (a typo, a mounted medium's file), was met by
 * the first mkdir with a bare `ENOTDIR: not a directory, mkdir '…/softhsm/tokens'` and no code.
 * Every way in — a ceremony (demo token first), the inventory, the core the desktop opens — now
 * refuses it with STORE_HOME_NOT_A_FOLDER, naming the file, and writes nothing.
 */
describe('a Keyrite home that cannot be a folder', () => {
  const dir = tempDir('home-file');
  const file = path.join(dir, 'not-a-folder');
  writeFileSync(file, 'custodian notes\n');
  const cases = [
    { home: file, says: `'${file}' is a file` },
    { home: path.join(file, 'keyrite'), says: `lies under '${file}', which is a file` },
  ];

  for (const c of cases) {
    for (const args of [['ceremony', 'run', 'root-key-generation', '--demo'], ['inventory', 'check'], ['inventory'], ['ceremony', 'status']]) {
      it(`keyrite ${args.join(' ')} with KEYRITE_HOME ${c.home === file ? 'a file' : 'under a file'}`, () => {
        const r = runKeyrite(args, { env: { KEYRITE_HOME: c.home } });
        expect(r.status).toBe(1);
        expect(r.errorCode).toBe('STORE_HOME_NOT_A_FOLDER');
        expect(r.stderr).toContain(c.says);
        expect(r.stderr).not.toMatch(/ENOTDIR|\n\s+at /);
      });
    }

    it(`the core the desktop opens refuses it too (${c.home === file ? 'a file' : 'under a file'})`, async () => {
      await expect(CeremonyService.open({ home: c.home, hsm: { modulePath: '/nonexistent.so', tokenLabel: 'x', demo: false } })).rejects.toMatchObject({ code: 'STORE_HOME_NOT_A_FOLDER' });
    });
  }

  it('a home that does not exist yet is still made, folders and all', () => {
    const home = path.join(dir, 'new', 'keyrite');
    mkdirSync(path.dirname(home));
    const r = runKeyrite(['inventory', 'check'], { env: { KEYRITE_HOME: home } });
    expect(r.errorCode).not.toBe('STORE_HOME_NOT_A_FOLDER');
    expect(readdirSync(home)).toContain('keyrite.sqlite');
  });
});
