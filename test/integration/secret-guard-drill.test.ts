import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { WORDS } from '../../src/core/backup/wordlist';
import { AnswersDriver, driveWithAnswers } from '../../src/core/ceremony/answers';
import { CeremonyService } from '../../src/core/ceremony/service';
import type { CeremonyView, StepInput } from '../../src/core/ceremony/types';
import { buildHandlerTable } from '../../src/main/ipc/handlers';
import { MainServices } from '../../src/main/ipc/services';
import { AIR_GAPPED, PEOPLE, answersFor, openService, runToEnd, tempDir, ROOT_SUBJECT } from '../helpers/ceremony';
import { scanForSecrets } from '../helpers/secrets';
import { createTestHsm } from '../helpers/softhsm';

/**
 * Issue 15: a share with one mistyped, two swapped or one unknown word is refused with a message
 * that names the words (for the person typing), while the transcript records only the code and the
 * positions. The refused attempts and the final drill are then scanned for every share word run.
 */
const hsm = createTestHsm(['guard', 'guard-drill', 'guard-inproc', 'guard-desk']);
const home = tempDir('guard-home');
// Not the demo token: the PINs come from the environment (an answers file may not hold them).
const env = { ...process.env, KEYRITE_HOME: home, KEYRITE_PKCS11_MODULE: hsm.modulePath, KEYRITE_TOKEN_LABEL: 'guard', KEYRITE_PIN: hsm.userPin, KEYRITE_SO_PIN: hsm.soPin };
const answersDir = tempDir('guard-answers');

function keyrite(args: string[]) {
  return spawnSync(process.execPath, ['bin/keyrite.mjs', ...args], { env, encoding: 'utf8', timeout: 120_000 });
}

function answersFile(name: string, shares: string[] = []): string {
  const file = path.join(answersDir, `${name}.yaml`);
  writeFileSync(file, stringify({
    participants: PEOPLE,
    preflightOverride: { personId: 'ada', reason: 'test machine with a network interface' },
    statements: { 'seal-shares': { bags: 'BAG-1 BAG-2 BAG-3 BAG-4 BAG-5' } },
    shares,
  }));
  return file;
}

const events = (bundle: string): Array<{ seq: number; type: string; data: Record<string, unknown> }> =>
  readFileSync(path.join(bundle, 'transcript.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));

describe('recovery drill with mistyped, swapped and unknown words (CLI, answers file)', () => {
  const root = path.join(tempDir('guard-root'), 'bundle');
  const sharesFile = path.join(tempDir('guard-shares'), 'shares.txt');
  const drill = path.join(tempDir('guard-drill'), 'bundle');
  let shares: string[][] = [];
  let backup = '';

  beforeAll(() => {
    const r = keyrite(['ceremony', 'run', 'root-key-generation', '--param', `subject=${ROOT_SUBJECT.subject}`, '--answers', answersFile('root'), '--out', root, '--drill-shares', sharesFile]);
    expect(r.status, r.stderr).toBe(0);
    shares = readFileSync(sharesFile, 'utf8').split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.split(' '));
    const keyId = events(root).find((e) => e.type === 'KEY_GENERATED')!.data.keyId as string;
    backup = path.join(root, 'backup', `${keyId}.backup.json`);
  });

  it('refuses each bad share with the words on screen, records codes and positions, then restores', () => {
    const [s1] = shares;
    const mistyped = [...s1];
    const other = WORDS.find((w) => w !== s1[9] && w.slice(0, 4) !== s1[9].slice(0, 4))!;
    mistyped[9] = other;
    const swapAt = s1.findIndex((w, i) => i > 2 && i < 31 && w !== s1[i + 1]);
    const swapped = [...s1];
    [swapped[swapAt], swapped[swapAt + 1]] = [s1[swapAt + 1], s1[swapAt]];
    const unknown = [...s1];
    unknown[6] = `${s1[6]}qx`;

    const first = keyrite(['ceremony', 'run', 'backup-recovery-drill', '--answers', answersFile('typo', [mistyped.join(' ')]), '--backup', backup, '--out', drill, '--param', 'targetToken=guard-drill']);
    expect(first.status).not.toBe(0);
    // The person at the screen is told which word, and what it most likely is.
    expect(first.stderr).toContain('SHARE_CHECKSUM');
    expect(first.stderr).toContain(`'${s1[9]}' instead of '${other}'`);
    const id = /Ceremony (\S+):/.exec(first.stdout)![1];

    const second = keyrite(['ceremony', 'resume', id, '--answers', answersFile('swap', [swapped.join(' ')])]);
    expect(second.status).not.toBe(0);
    expect(second.stderr).toContain(`Words ${swapAt + 1} and ${swapAt + 2} look swapped`);
    const third = keyrite(['ceremony', 'resume', id, '--answers', answersFile('unknown', [unknown.join(' ')])]);
    expect(third.stderr).toContain('SHARE_UNKNOWN_WORD');
    expect(third.stderr).toContain(`'${unknown[6]}'`);

    const done = keyrite(['ceremony', 'resume', id, '--answers', answersFile('good', shares.slice(0, 3).map((s) => s.join(' ')))]);
    expect(done.status, done.stderr).toBe(0);
    expect(keyrite(['verify', drill]).status).toBe(0);

    const ev = events(drill);
    const errors = ev.filter((e) => e.type === 'ERROR_RECORDED').map((e) => e.data);
    expect(errors).toEqual([
      { step: 'collect-shares', code: 'SHARE_CHECKSUM', positions: [10], kind: 'substitution' },
      { step: 'collect-shares', code: 'SHARE_CHECKSUM', positions: [swapAt + 1, swapAt + 2], kind: 'swap' },
      { step: 'collect-shares', code: 'SHARE_UNKNOWN_WORD', positions: [7] },
    ]);
    expect(ev.filter((e) => e.type === 'SHARE_REJECTED').map((e) => e.data.code)).toEqual(['SHARE_CHECKSUM', 'SHARE_CHECKSUM', 'SHARE_UNKNOWN_WORD']);
    // Not even a single typed or suggested word in an error event.
    const errorText = JSON.stringify(ev.filter((e) => e.type === 'ERROR_RECORDED' || e.type === 'SHARE_REJECTED')).toLowerCase();
    for (const w of [other, s1[9], s1[swapAt], s1[swapAt + 1], unknown[6], s1[6]]) expect(errorText).not.toMatch(new RegExp(`\\b${w}\\b`));
  });

  it('the desktop path (IPC handler table) shows the word on screen and records only code and position', async () => {
    const deskHome = tempDir('guard-desk-home');
    const logged: unknown[] = [];
    const services = new MainServices(deskHome, { KEYRITE_HOME: deskHome, KEYRITE_PKCS11_MODULE: hsm.modulePath, KEYRITE_TOKEN_LABEL: 'guard-desk', PATH: process.env.PATH }, async (o) => CeremonyService.open({ ...o, interfaces: AIR_GAPPED }));
    const table = buildHandlerTable({ services, appVersion: 'test', log: (m, e) => logged.push([m, e]) });
    const ok = (r: { ok: boolean; value?: unknown; error?: unknown }): unknown => {
      if (!r.ok) throw new Error(JSON.stringify(r.error));
      return r.value;
    };
    const desk = path.join(tempDir('guard-desk-out'), 'bundle');
    try {
      const [s1] = shares;
      const mistyped = [...s1];
      const other = WORDS.find((w) => w !== s1[20] && w.slice(0, 4) !== s1[20].slice(0, 4))!;
      mistyped[20] = other;
      const start = ok(await table['ceremony:start']({ script: 'backup-recovery-drill', outDir: desk, backupFile: backup, parameters: { targetToken: 'guard-desk' } })) as CeremonyView;
      const failed = await driveWithAnswers(start, async (input: StepInput) => ok(await table['ceremony:provide']({ id: start.ceremonyId, input })) as CeremonyView, new AnswersDriver(answersFor(hsm, { shares: [mistyped.join(' ')], preflightOverride: { personId: 'ada', reason: 'test machine' } }))).catch((e: unknown) => e);
      // The renderer gets the sentence with the word, for the custodian's screen…
      expect(failed).toMatchObject({ code: 'SHARE_CHECKSUM', message: expect.stringContaining(`'${s1[20]}' instead of '${other}'`) });
      // …the chain gets the code and the position.
      const { events: listed } = ok(await table['ceremony:events']({ id: start.ceremonyId })) as { events: Array<{ type: string; summary: string }> };
      for (const e of listed) for (const w of [s1[20], other]) expect(e.summary).not.toMatch(new RegExp(`\\b${w}\\b`));
      const store = await services.getStore();
      const lines = await store.all<{ line: string }>('SELECT line FROM events WHERE ceremony_id = ? ORDER BY seq', [start.ceremonyId]);
      const recorded = lines.map((l) => JSON.parse(l.line) as { type: string; data: Record<string, unknown> }).filter((e) => e.type === 'ERROR_RECORDED' || e.type === 'SHARE_REJECTED');
      expect(recorded.map((e) => e.data)).toEqual([
        { code: 'SHARE_CHECKSUM', position: 21, index: null },
        { step: 'collect-shares', code: 'SHARE_CHECKSUM', positions: [21], kind: 'substitution' },
      ]);
      expect(logged).toEqual([]);
    } finally {
      await services.close();
    }
    expect(scanForSecrets([deskHome, desk], [hsm.userPin, ...shares.map((s) => s.join(' '))], { shareWords: shares.flat() })).toEqual([]);
  });

  it('leaves no run of share words in the store, either bundle or any file Keyrite wrote', () => {
    const typed = shares.flat();
    // The drill-shares file is the one place shares were written, on the operator's explicit request.
    const hits = scanForSecrets([home, root, drill, hsm.dir], [hsm.userPin, ...shares.map((s) => s.join(' '))], { shareWords: typed, exclude: [sharesFile] });
    expect(hits).toEqual([]);
    expect(readdirSync(home).length).toBeGreaterThan(0);
  });
});

describe('the engine refuses an event that would carry a secret it has seen (in process)', () => {
  it('a PIN or share words typed into a statement\'s remarks are refused, nothing is written, and the ceremony goes on', async () => {
    const inprocHome = tempDir('guard-inproc-home');
    const service = await openService(inprocHome, hsm.config('guard-inproc'));
    const out = path.join(tempDir('guard-inproc-out'), 'bundle');
    const seen: string[] = [];
    try {
      const start = await service.start({ script: 'root-key-generation', outDir: out, parameters: { ...ROOT_SUBJECT } });
      const answers = answersFor(hsm, { preflightOverride: { personId: 'ada', reason: 'test machine' } });
      // Drive up to the statement, then try leaky statements by hand.
      answers.statements = {};
      const stopped = await runToEnd(service, start, answers, seen).catch((e: unknown) => e);
      expect(stopped).toMatchObject({ code: 'ANSWERS_MISSING' });
      const before = (await service.deps.store.all<{ n: number }>('SELECT COUNT(*) AS n FROM events'))[0].n;
      for (const value of [`PIN ${hsm.userPin}`, seen[1].split(' ').slice(5, 9).join(' ')]) {
        const view = await service.provide(start.ceremonyId, { kind: 'statement', values: { bags: 'BAG-1 BAG-2 BAG-3 BAG-4 BAG-5', remarks: value } });
        expect(view.lastError).toMatchObject({ code: 'TRANSCRIPT_SECRET_LEAK' });
        expect(view.lastError!.message).not.toContain(value);
      }
      const rows = await service.deps.store.all<{ line: string }>('SELECT line FROM events ORDER BY seq');
      // Two ERROR_RECORDED (code only, no value), and no statement.
      expect(rows.length).toBe(before + 2);
      expect(rows.slice(-2).map((r) => JSON.parse(r.line).data.code)).toEqual(['TRANSCRIPT_SECRET_LEAK', 'TRANSCRIPT_SECRET_LEAK']);
      const ok = await service.provide(start.ceremonyId, { kind: 'statement', values: { bags: 'BAG-1 BAG-2 BAG-3 BAG-4 BAG-5' } });
      expect(ok.lastError).toBeNull();
    } finally {
      await service.close();
    }
    // Nor in the ceremony's saved state (the refused statement's evidence was dropped with it).
    expect(scanForSecrets([inprocHome, out], [hsm.userPin], { shareWords: seen.flatMap((s) => s.split(' ')) })).toEqual([]);
  });
});
