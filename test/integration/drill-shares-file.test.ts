import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { verifyBundle } from '../../src/core/transcript';
import { AnswersDriver, driveWithAnswers } from '../../src/core/ceremony/answers';
import type { StepInput } from '../../src/core/ceremony/types';
import { PEOPLE, answersFor, openService, tempDir, ROOT_SUBJECT } from '../helpers/ceremony';
import { createTestHsm } from '../helpers/softhsm';

/** Issue 15: `--drill-shares` neither destroys, follows, widens nor publishes; the seal takes only what the ceremony wrote. */
// One token per in-process ceremony: each generates the same root key label on its token.
const hsm = createTestHsm(['drill', 'drill-inproc', 'swap-inproc']);
const home = tempDir('drillfile-home');
// Not the demo token: the PINs come from the environment (an answers file may not hold them).
const env = { ...process.env, KEYRITE_HOME: home, KEYRITE_PKCS11_MODULE: hsm.modulePath, KEYRITE_TOKEN_LABEL: 'drill', KEYRITE_PIN: hsm.userPin, KEYRITE_SO_PIN: hsm.soPin };
const answers = path.join(tempDir('drillfile-answers'), 'answers.yaml');
writeFileSync(answers, stringify({
  participants: PEOPLE,
  preflightOverride: { personId: 'ada', reason: 'test machine with a network interface' },
  statements: { 'seal-shares': { bags: 'BAG-1 BAG-2 BAG-3 BAG-4 BAG-5' } },
}));

const precious0 = 'the only copy of something that matters\n';

/** Under umask 000, so a file that comes out 0600 was made so on purpose. */
function keyrite(args: string[]) {
  return spawnSync('sh', ['-c', 'umask 000; exec "$0" "$@"', process.execPath, 'bin/keyrite.mjs', ...args], { env, encoding: 'utf8', timeout: 120_000 });
}

const run = (out: string, shares: string) => keyrite(['ceremony', 'run', 'root-key-generation', '--param', `subject=${ROOT_SUBJECT.subject}`, '--answers', answers, '--out', out, '--drill-shares', shares]);

describe('--drill-shares FILE', () => {
  const precious = 'this is the only copy of something that matters\n';

  it.each([
    ['an existing file', (dir: string) => {
      const f = path.join(dir, 'backup-copy.json');
      writeFileSync(f, precious, { mode: 0o644 });
      return { target: f, watched: f };
    }, 'DRILL_SHARES_EXISTS'],
    ['a symlink to a file', (dir: string) => {
      const f = path.join(dir, 'real.txt');
      writeFileSync(f, precious, { mode: 0o644 });
      symlinkSync(f, path.join(dir, 'link.txt'));
      return { target: path.join(dir, 'link.txt'), watched: f };
    }, 'DRILL_SHARES_EXISTS'],
    ['a dangling symlink', (dir: string) => {
      symlinkSync(path.join(dir, 'not-yet.txt'), path.join(dir, 'dangling.txt'));
      return { target: path.join(dir, 'dangling.txt'), watched: path.join(dir, 'not-yet.txt') };
    }, 'DRILL_SHARES_EXISTS'],
    ['a file inside the bundle folder', (dir: string) => ({ target: path.join(dir, 'bundle', 'keys', 'shares.txt'), watched: path.join(dir, 'bundle', 'keys', 'shares.txt') }), 'DRILL_SHARES_IN_BUNDLE'],
    ['the bundle folder reached through a symlinked folder', (dir: string) => {
      mkdirSync(path.join(dir, 'bundle'));
      symlinkSync(path.join(dir, 'bundle'), path.join(dir, 'elsewhere'));
      return { target: path.join(dir, 'elsewhere', 'shares.txt'), watched: path.join(dir, 'bundle', 'shares.txt') };
    }, 'DRILL_SHARES_IN_BUNDLE'],
  ])('refuses %s before the ceremony starts, and leaves it as it was', (_name, setup, code) => {
    const dir = tempDir('drillfile-case');
    const { target, watched } = setup(dir);
    const before = existsSync(watched) ? { text: readFileSync(watched, 'utf8'), mode: statSync(watched).mode } : null;
    const r = run(path.join(dir, 'bundle'), target);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(code);
    expect(r.stdout).not.toMatch(/Ceremony \S+:/);
    if (before) expect({ text: readFileSync(watched, 'utf8'), mode: statSync(watched).mode }).toEqual(before);
    else expect(existsSync(watched)).toBe(false);
  });

  it('creates a new owner-only file whose first line names the ceremony, outside a sealed, verified bundle', async () => {
    const dir = tempDir('drillfile-ok');
    const shares = path.join(dir, 'shares.txt');
    const out = path.join(dir, 'bundle');
    const r = run(out, shares);
    expect(r.status, r.stderr).toBe(0);
    const id = /Ceremony (\S+):/.exec(r.stdout)![1];
    expect(lstatSync(shares).isFile()).toBe(true);
    expect(statSync(shares).mode & 0o777).toBe(0o600);
    const text = readFileSync(shares, 'utf8');
    expect(text.split('\n')[0]).toBe(`# keyrite drill shares · ceremony ${id} · drill only: destroy after the drill`);
    expect(text.split('\n').filter((l) => l && !l.startsWith('#'))).toHaveLength(5);
    const report = await verifyBundle(out);
    expect(report.files.some((f: string) => f.includes('shares'))).toBe(false);
  });

  it('share rotation reads --drill-shares and refuses --drill-shares-out pointing at that same file', () => {
    const dir = tempDir('drillfile-rot');
    const shares = path.join(dir, 'shares.txt');
    expect(run(path.join(dir, 'root'), shares).status).toBe(0);
    const before = readFileSync(shares, 'utf8');
    const backup = readFileSync(path.join(dir, 'root', 'SHA256SUMS'), 'utf8').match(/backup\/\S+\.backup\.json/)![0];
    const r = keyrite(['ceremony', 'run', 'share-rotation', '--answers', answers, '--backup', path.join(dir, 'root', backup), '--drill-shares', shares, '--drill-shares-out', shares, '--out', path.join(dir, 'rot')]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('DRILL_SHARES_EXISTS');
    expect(readFileSync(shares, 'utf8')).toBe(before);
  });
});

describe('a drill shares file swapped for a link mid-ceremony', () => {
  it('is not written through: the share is refused (DRILL_SHARES_EXISTS), the link target untouched', async () => {
    const service = await openService(tempDir('drillfile-swap-home'), hsm.config('swap-inproc'));
    const dir = tempDir('drillfile-swap');
    const shares = path.join(dir, 'shares.txt');
    const victim = path.join(dir, 'victim.txt');
    writeFileSync(victim, precious0, { mode: 0o644 });
    try {
      const start = await service.start({ script: 'root-key-generation', outDir: path.join(dir, 'bundle'), drillSharesFile: shares, parameters: { ...ROOT_SUBJECT } });
      let swapped = false;
      const stopped = await driveWithAnswers(start, (input: StepInput) => service.provide(start.ceremonyId, input), new AnswersDriver(answersFor(hsm)), {
        onView: (v) => {
          if (!swapped && v.current?.need.kind === 'shareHandout' && v.current.need.phase === 'privacy') {
            expect(readFileSync(shares, 'utf8')).toMatch(/^# keyrite drill shares · ceremony /);
            rmSync(shares);
            symlinkSync(victim, shares);
            swapped = true;
          }
        },
      }).catch((e: unknown) => e);
      expect(stopped).toMatchObject({ code: 'DRILL_SHARES_EXISTS' });
      expect(readFileSync(victim, 'utf8')).toBe(precious0);
      expect(statSync(victim).mode & 0o777).toBe(0o644);
    } finally {
      await service.close();
    }
  });
});

describe('the seal takes only files the ceremony wrote', () => {
  it('refuses a stray file in the bundle folder (SEAL_UNEXPECTED_FILE, nothing sealed), then seals once it is gone', async () => {
    const service = await openService(tempDir('drillfile-inproc-home'), hsm.config('drill-inproc'));
    const out = path.join(tempDir('drillfile-inproc'), 'bundle');
    const stray = path.join(out, 'backup', 'shares-copy.txt');
    try {
      const start = await service.start({ script: 'root-key-generation', outDir: out, parameters: { ...ROOT_SUBJECT } });
      const provide = (input: StepInput) => service.provide(start.ceremonyId, input);
      let dropped = false;
      const stopped = await driveWithAnswers(start, provide, new AnswersDriver(answersFor(hsm)), {
        onView: (v) => {
          if (!dropped && v.current?.id === 'seal' && v.current.need.kind === 'continue') {
            writeFileSync(stray, 'a copy someone left here\n');
            dropped = true;
          }
        },
      }).catch((e: unknown) => e);
      expect(stopped).toMatchObject({ code: 'SEAL_UNEXPECTED_FILE', details: { files: ['backup/shares-copy.txt'] } });
      for (const f of ['transcript.sig', 'SHA256SUMS', 'transcript.jsonl']) expect(existsSync(path.join(out, f))).toBe(false);
      rmSync(stray);
      const done = await driveWithAnswers(await service.view(start.ceremonyId), provide, new AnswersDriver(answersFor(hsm)));
      expect(done.status).toBe('sealed');
      const report = await verifyBundle(out);
      expect(report.files).not.toContain('backup/shares-copy.txt');
      const events = readFileSync(path.join(out, 'transcript.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { type: string; data: { code?: string } });
      const errors = events.filter((e) => e.type === 'ERROR_RECORDED').map((e) => e.data.code);
      expect(errors).toEqual(['SEAL_UNEXPECTED_FILE']);
    } finally {
      await service.close();
    }
  });
});
