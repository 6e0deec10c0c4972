import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { checkShareAgainstBackup, decodeShare, readBackupFile } from '../../src/core/backup';
import { loadScript } from '../../src/core/ceremony/script';
import { keyriteBin } from '../helpers/cli';
import { PEOPLE, ROOT_SUBJECT, tempDir } from '../helpers/ceremony';
import { TestGpg } from '../helpers/gpg';
import { rng } from '../helpers/kill-sweep';
import { scanForSecrets } from '../helpers/secrets';
import { createTestHsm } from '../helpers/softhsm';

/**
 * kill -9 in the middle of a sealed (OpenPGP) share hand-out, at seeded instants, then resume:
 * nothing is lost and no half file is left. The run is the real `keyrite` CLI (its test build,
 * which honours KEYRITE_FAULT_KILL_AT) driven by an answers file, on a real SoftHSM token; three
 * of five custodians are sealed to keys made by real GnuPG. After the resume the ceremony is
 * sealed, the sealed-shares folder holds exactly one file per sealed custodian of the final split
 * (the void split's files and any temporary file of an interrupted write are gone), plain `gpg`
 * opens each to a share of the final split, no share word is in any written file, and a drill
 * from the shares restores the same key. KEYRITE_SWEEP_SEED replays a failure.
 */
const SEED = Number(process.env.KEYRITE_SWEEP_SEED ?? Date.now() % 1_000_000);
const RANDOM_INSTANTS = 4;
/** The named instants inside a sealed share's write, always included. */
const NAMED = ['sealed-share:announced', 'sealed-share:temp-written', 'sealed-share:written'];

const hsm = createTestHsm(['kill', 'kill-drill']);
const home = tempDir('kill-pgp-home');
const work = tempDir('kill-pgp-work');
const gpg = new TestGpg();
const SEALED = ['c1', 'c2', 'c3'];

const env = (extra: Record<string, string> = {}): NodeJS.ProcessEnv => {
  const e: NodeJS.ProcessEnv = { ...process.env, KEYRITE_HOME: home, KEYRITE_PKCS11_MODULE: hsm.modulePath, KEYRITE_TOKEN_LABEL: 'kill', KEYRITE_PIN: hsm.userPin, KEYRITE_SO_PIN: hsm.soPin };
  delete e.KEYRITE_FAULT_KILL_AT;
  delete e.KEYRITE_FAULT_TRACE;
  return { ...e, ...extra };
};

interface Run { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }

/** A real child process running the CLI (async, so the test process is free while it runs). */
function keyrite(args: string[], extra: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [keyriteBin(extra), ...args], { env: env(extra), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 170_000);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

type Ev = { type: string; actor: string | null; data: Record<string, unknown> };
const events = (dir: string): Ev[] => readFileSync(path.join(dir, 'transcript.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Ev);
const forScript = (script: string) => {
  const roles = loadScript(script).script.roles.map((r) => r.id);
  return PEOPLE.map((p) => ({ ...p, roles: p.roles.filter((r) => roles.includes(r)) })).filter((p) => p.roles.length > 0);
};
const base = { preflightOverride: { personId: 'ada', reason: 'test machine with a network interface' }, statements: { 'seal-shares': { bags: 'BAG-1 BAG-2 BAG-3 BAG-4 BAG-5' } } };
const answers = path.join(work, 'root.yaml');
const drillAnswers = (shares: string[]): string => {
  const f = path.join(mkdtempSync(path.join(work, 'drill-')), 'drill.yaml');
  writeFileSync(f, stringify({ ...base, participants: forScript('backup-recovery-drill'), shares }));
  return f;
};

/** Every crash point a full run crosses, as "n name". */
let trace: Array<{ n: number; name: string }> = [];

beforeAll(async () => {
  const participants = PEOPLE.map((p) => {
    if (!SEALED.includes(p.id)) return p;
    const fpr = gpg.makeKey(`${p.name} <${p.id}@example.org>`);
    gpg.keyFiles(fpr, work, p.id);
    return { ...p, openpgpKey: `${p.id}.pub.asc`, openpgpTestSecretKey: `${p.id}.sec.asc` };
  });
  writeFileSync(answers, stringify({ ...base, participants, parameters: { ...ROOT_SUBJECT } }));
  const traceFile = path.join(work, 'trace.txt');
  const r = await keyrite(['ceremony', 'run', 'root-key-generation', '--answers', answers, '--out', path.join(work, 'count', 'bundle')], { KEYRITE_FAULT_TRACE: traceFile });
  expect(r.code, r.stdout + r.stderr).toBe(0);
  trace = readFileSync(traceFile, 'utf8').trim().split('\n').map((l) => ({ n: Number(l.split(' ')[0]), name: l.split(' ')[1] }));
}, 180_000);
afterAll(() => gpg.close());

/** The instants to kill at: the named ones, and seeded ones from the first seal's commit to the last sealed share's commit. */
function instants(): string[] {
  const sealing = trace.filter((t) => t.name.startsWith('sealed-share:'));
  expect(sealing.map((t) => t.name)).toEqual(SEALED.flatMap(() => NAMED));
  // From just before the first sealed share is announced to the commit after the last one is
  // written: the hand-out's words shares (c4, c5 come after c3) are outside; c1→c2→c3 are in.
  const from = sealing[0].n - 2;
  // (+6: the last sealed share's commit, then its proof of possession's commit.)
  const to = sealing.at(-1)!.n + 6;
  const next = rng(SEED);
  const picked = new Set<number>();
  while (picked.size < RANDOM_INSTANTS) picked.add(from + Math.floor(next() * (to - from + 1)));
  return [...NAMED, ...[...picked].sort((a, b) => a - b).map((n) => `#${n}`)];
}

describe('kill -9 during a sealed share hand-out, then resume', () => {
  it(`loses nothing and leaves no half file at ${NAMED.length} named and ${RANDOM_INSTANTS} seeded instants (seed ${SEED})`, async () => {
    const landed: string[] = [];
    for (const [i, at] of instants().entries()) {
      const why = `killed at ${at} (seed ${SEED}; replay: KEYRITE_SWEEP_SEED=${SEED})`;
      const out = path.join(mkdtempSync(path.join(work, 'run-')), 'bundle');
      const sealedDir = `${out}-sealed-shares`;
      const killed = await keyrite(['ceremony', 'run', 'root-key-generation', '--answers', answers, '--out', out], { KEYRITE_FAULT_KILL_AT: at });
      expect(killed.signal, `${why}: the run should have been killed\n${killed.stdout}\n${killed.stderr}`).toBe('SIGKILL');
      const id = /Ceremony (\S+):/.exec(killed.stdout)![1];
      // What the killed run left on the medium: opened now (it is the void split's), checked gone later.
      const left = existsSync(sealedDir) ? readdirSync(sealedDir) : [];
      const leftTexts = left.filter((f) => /\.asc$/.test(f)).map((f) => gpg.decrypt(path.join(sealedDir, f)));
      landed.push(`${at}: ${left.length} file(s) left (${left.map((f) => (f.startsWith('.') ? 'temp' : 'sealed')).join(', ') || 'none'})`);

      // The first seeded instant's resume is killed too, mid-write of a sealed file of the next split.
      if (i === NAMED.length) {
        const again = await keyrite(['ceremony', 'resume', id, '--answers', answers], { KEYRITE_FAULT_KILL_AT: 'sealed-share:temp-written' });
        expect(again.signal, `${why}: the resume should have been killed\n${again.stdout}\n${again.stderr}`).toBe('SIGKILL');
        const half = readdirSync(sealedDir).filter((f) => f.startsWith('.'));
        expect(half, why).toHaveLength(1);
        landed.push(`  its resume killed at sealed-share:temp-written: ${half.length} temp file left`);
      }
      const resumed = await keyrite(['ceremony', 'resume', id, '--answers', answers]);
      expect(resumed.code, `${why}: resume failed\n${resumed.stdout}\n${resumed.stderr}`).toBe(0);
      expect(resumed.stdout).toContain('sealed');
      expect((await keyrite(['verify', out])).code, why).toBe(0);

      const ev = events(out);
      const backups = ev.filter((e) => e.type === 'BACKUP_WRITTEN');
      const finalSplit = backups.at(-1)!.data.splitId as string;
      // The split cut off by the kill is void and replaced (unless the kill came before any share existed).
      if (backups.length > 1) expect(backups.at(-1)!.data.supersedes, why).toBe(backups.at(-2)!.data.splitId);
      const keyId = ev.find((e) => e.type === 'KEY_GENERATED')!.data.keyId as string;
      const backupFile = path.join(out, 'backup', `${keyId}.backup.json`);
      const backup = readBackupFile(backupFile);
      expect(backup.split.id).toBe(finalSplit);

      // Exactly one complete file per sealed custodian of the final split; no temp file, no void split's file.
      const files = readdirSync(sealedDir).sort();
      expect(files, why).toEqual(SEALED.map((c, i) => `${c}-${finalSplit}-share-${i + 1}.asc`));
      const finalSealed = ev.filter((e) => e.type === 'SHARE_SEALED' && e.data.splitId === finalSplit);
      expect(finalSealed.map((e) => e.actor), why).toEqual(SEALED);
      const opened = files.map((f) => gpg.decrypt(path.join(sealedDir, f)));
      for (const [i, text] of opened.entries()) {
        const share = decodeShare(text);
        // A share of the final split, the digest the backup recorded for this index.
        expect(checkShareAgainstBackup(backup, share), why).toEqual({ index: i + 1, custodian: PEOPLE.find((p) => p.id === SEALED[i])!.name });
      }
      for (const t of leftTexts) expect(opened, `${why}: a file of the void split survived`).not.toContain(t);
      expect(ev.filter((e) => e.type === 'SHARE_CONFIRMED' && ev.indexOf(e) > ev.indexOf(backups.at(-1)!)).map((e) => e.data.index), why).toEqual([1, 2, 3, 4, 5]);

      // No PIN and no share word — of the final split or of the void one the kill left behind — in any file written.
      const words = [...opened, ...leftTexts].flatMap((t) => t.trim().split('\n').pop()!.split(' '));
      expect(scanForSecrets([home, out, sealedDir], [hsm.userPin, hsm.soPin], { shareWords: words }), why).toEqual([]);

      // The three sealed shares, decrypted by gpg, restore the same key.
      const drillOut = path.join(mkdtempSync(path.join(work, 'drill-out-')), 'bundle');
      const d = await keyrite(['ceremony', 'run', 'backup-recovery-drill', '--answers', drillAnswers(opened), '--backup', backupFile, '--param', 'targetToken=kill-drill', '--out', drillOut]);
      expect(d.code, `${why}: drill failed\n${d.stdout}\n${d.stderr}`).toBe(0);
      expect(events(drillOut).find((e) => e.type === 'IDENTITY_PROVEN')!.data, why).toMatchObject({ fingerprintMatches: true, signatureVerified: true });
    }
    console.log(`sealed hand-out kills, seed ${SEED}:\n${landed.join('\n')}`);
    // The named instants are where half files could appear: the temp-written kill leaves one, the written kill a whole file.
    expect(landed[1]).toMatch(/temp/);
    expect(landed[2]).toMatch(/sealed/);
    expect(landed.filter((l) => l.includes('its resume killed'))).toHaveLength(1);
  }, 900_000);
});
