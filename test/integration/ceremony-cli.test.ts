import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { TEST_BUILD_CLI, tempDir } from '../helpers/ceremony';
import { scanForSecrets } from '../helpers/secrets';
import { runKeyrite } from '../helpers/cli';

/** The terminal runner as an operator uses it, on a fresh KEYRITE_HOME with the embedded demo token. */
const home = tempDir('cli-demo-home');
const env = { ...process.env, KEYRITE_HOME: home, KEYRITE_PKCS11_MODULE: '', KEYRITE_TOKEN_LABEL: '', KEYRITE_PIN: '' };

const keyrite = (args: string[], input = '') => runKeyrite(args, { env, input });

describe('keyrite ceremony (demo token)', () => {
  const b = path.join(tempDir('cli-b'), 'b');
  const s = path.join(tempDir('cli-s'), 's.txt');
  const d = path.join(tempDir('cli-d'), 'd');

  it('lists the built-in ceremonies', () => {
    const r = keyrite(['ceremony', 'list']);
    expect(r.status, r.stderr).toBe(0);
    for (const id of ['root-key-generation', 'backup-recovery-drill', 'key-rotation', 'key-destruction', 'share-rotation']) expect(r.stdout).toContain(id);
  });

  it('root-key-generation --demo produces a complete bundle and the drill shares file', () => {
    const r = keyrite(['ceremony', 'run', 'root-key-generation', '--demo', '--out', b, '--drill-shares', s]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/sealed\. Bundle: /);
    const shares = readFileSync(s, 'utf8').split('\n').filter((l) => l && !l.startsWith('#'));
    expect(shares).toHaveLength(5);
    const v = keyrite(['verify', b]);
    expect(v.status, v.stderr).toBe(0);
    const transcript = readFileSync(path.join(b, 'transcript.jsonl'), 'utf8');
    expect(transcript).toContain('DRILL_SHARES_EXPORTED');
    // The drill file is the one place shares were written, at the operator's request; nowhere else.
    const words = shares.flatMap((l) => l.split(' '));
    expect(scanForSecrets([home, b], [...shares, '123456 '], { shareWords: words })).toEqual([]);
    // A rehearsal names its root after the demo, and says so in the transcript.
    const started = JSON.parse(transcript.split('\n')[0]) as { data: { demo: boolean; parameters: { subject: string } } };
    expect(started.data).toMatchObject({ demo: true, parameters: { subject: 'CN=Keyrite Demo Root CA, O=Keyrite' } });
  });

  it('a run that is not a rehearsal never takes the demo root name: without a subject it is refused before anything exists', () => {
    const answers = path.join(tempDir('cli-real'), 'answers.yaml');
    writeFileSync(answers, 'participants: [{ id: ada, name: Ada Administrator, roles: [admin] }]\n');
    const out = path.join(tempDir('cli-real-out'), 'b');
    const before = keyrite(['ceremony', 'status', '--json']).stdout;
    const r = keyrite(['ceremony', 'run', 'root-key-generation', '--answers', answers, '--out', out]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/needs parameter 'subject' \(Subject of the root certificate\)\. A real ceremony names it \(only a rehearsal uses 'CN=Keyrite Demo Root CA, O=Keyrite'\): give --param subject=…/);
    expect(r.stderr.trim()).toMatch(/\[CEREMONY_PARAMETER_MISSING\]$/);
    expect(existsSync(out)).toBe(false);
    expect(keyrite(['ceremony', 'status', '--json']).stdout).toBe(before);
  });

  it('backup-recovery-drill --demo restores from the drill shares into a fresh token and proves identity', () => {
    const backup = readFileSync(path.join(b, 'SHA256SUMS'), 'utf8').match(/backup\/\S+\.backup\.json/)![0];
    const r = keyrite(['ceremony', 'run', 'backup-recovery-drill', '--demo', '--backup', path.join(b, backup), '--drill-shares', s, '--out', d]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/fingerprintMatches: true/);
    expect(r.stdout).toMatch(/signatureVerified: true/);
    expect(keyrite(['verify', d]).status).toBe(0);
    const status = keyrite(['ceremony', 'status']);
    expect(status.stdout).toMatch(/Root key generation\s+sealed/);
    expect(status.stdout).toMatch(/Backup and recovery drill\s+sealed/);
  });

  it('refuses --out pointing at a non-empty folder, and a malformed script with file and line', () => {
    const full = tempDir('cli-full');
    writeFileSync(path.join(full, 'x'), 'x');
    const r = keyrite(['ceremony', 'run', 'root-key-generation', '--demo', '--out', full]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('CEREMONY_OUT_NOT_EMPTY');
    const bad = path.join(tempDir('cli-script'), 'bad.yaml');
    writeFileSync(bad, 'id: bad\ntitle: Bad\nversion: 1\ndescription: x\nroles: []\nsteps:\n  - { id: s, title: S, say: x, action: nope }\n');
    const m = keyrite(['ceremony', 'run', bad, '--demo']);
    expect(m.status).not.toBe(0);
    expect(m.stderr).toMatch(new RegExp(`${bad.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:\\d+ is invalid`));
    expect(m.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('without a terminal and without answers it says what to do; an interrupted run is resumed and an abort is recorded', () => {
    const r = keyrite(['ceremony', 'run', 'root-key-generation']);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('CEREMONY_NEEDS_TERMINAL');
    expect(r.stdout).not.toMatch(/Ceremony \S+:/); // refused before a ceremony was started
    const killed = spawnSync(process.execPath, [TEST_BUILD_CLI, 'ceremony', 'run', 'root-key-generation', '--demo'], { env: { ...env, KEYRITE_FAULT_KILL_AT: 'preflight' }, encoding: 'utf8' });
    expect(killed.signal).toBe('SIGKILL');
    const id = /Ceremony (\S+):/.exec(killed.stdout)![1];
    const resumeNoId = keyrite(['ceremony', 'resume', '--demo']);
    expect(resumeNoId.status, resumeNoId.stderr).toBe(0);
    expect(resumeNoId.stdout).toContain(`Resuming ceremony ${id} at step 2: Preflight checks`);
    const again = spawnSync(process.execPath, [TEST_BUILD_CLI, 'ceremony', 'run', 'root-key-generation', '--demo'], { env: { ...env, KEYRITE_FAULT_KILL_AT: 'hsm-login' }, encoding: 'utf8' });
    const id2 = /Ceremony (\S+):/.exec(again.stdout)![1];
    const ab = keyrite(['ceremony', 'abort', id2, '--reason', 'rehearsal stopped by the administrator', '--by', 'ada']);
    expect(ab.status, ab.stderr).toBe(0);
    expect(keyrite(['ceremony', 'status']).stdout).toMatch(new RegExp(`${id2}.*aborted`));
    expect(keyrite(['ceremony', 'resume', id2, '--demo']).stderr).toContain('CEREMONY_NOT_RUNNING');
  });

  it('a corrupted store is reported, never replaced by a new empty one', () => {
    const h = tempDir('cli-corrupt');
    const file = path.join(h, 'keyrite.sqlite');
    writeFileSync(file, 'SQLite format 3\0' + 'garbage'.repeat(500));
    const before = readFileSync(file);
    const r = spawnSync(process.execPath, ['bin/keyrite.mjs', 'ceremony', 'status'], { env: { ...env, KEYRITE_HOME: h }, encoding: 'utf8' });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('STORE_CORRUPT');
    expect(readFileSync(file).equals(before)).toBe(true);
    expect(existsSync(file + '-wal') && readFileSync(file + '-wal').length > 0).toBe(false);
  });
});
