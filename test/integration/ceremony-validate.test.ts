import { execSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AnswersDriver } from '../../src/core/ceremony/answers';
import { loadScript } from '../../src/core/ceremony/script';
import type { CeremonyService, StartRequest } from '../../src/core/ceremony/service';
import { connectHsm } from '../../src/core/hsm/connect';
import { renderTranscriptHtml, summarizeTranscript, type TranscriptEvent } from '../../src/core/transcript';
import { PEOPLE, answersFor, openService, runToEnd, tempDir, ROOT_SUBJECT } from '../helpers/ceremony';
import { createTestHsm } from '../helpers/softhsm';
import { misfiledEvents } from '../helpers/transcript-steps';

/**
 * Issue #14: a ceremony is checked whole before check-in and before the HSM is touched, a quorum
 * nobody present can give is refused at check-in, and the transcript files every event under
 * the step in which it happened and claims only what happened.
 */
const hsm = createTestHsm(['v-main', 'v-drill', 'v-untouched', 'v-vanish']);
let service: CeremonyService;
let untouched: CeremonyService;
let root: { dir: string; keyId: string; backup: string; shares: string[] };

const out = (name: string): string => path.join(tempDir(name), 'bundle');
const events = (dir: string): TranscriptEvent[] => readFileSync(path.join(dir, 'transcript.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as TranscriptEvent);
const lineOf = (file: string, pattern: RegExp): number => readFileSync(file, 'utf8').split('\n').findIndex((l) => pattern.test(l)) + 1;

function tokenObjects(label: string): number {
  const conn = connectHsm(hsm.config(label));
  try {
    conn.session.login(hsm.userPin);
    return conn.session.find({}).length;
  } finally {
    conn.close();
  }
}

/** A copy of a built-in script with one edit, as an operator's own script file. */
function editedScript(id: string, edit: (text: string) => string): string {
  const original = readFileSync(loadScript(id).file, 'utf8');
  const changed = edit(original);
  expect(changed).not.toBe(original);
  const file = path.join(tempDir('script'), `${id}.yaml`);
  writeFileSync(file, changed);
  return file;
}

beforeAll(async () => {
  service = await openService(tempDir('validate-home'), hsm.config('v-main'));
  untouched = await openService(tempDir('validate-untouched'), hsm.config('v-untouched'));
  const dir = out('validate-root');
  const shares: string[] = [];
  const done = await runToEnd(service, await service.start({ script: 'root-key-generation', outDir: dir, parameters: ROOT_SUBJECT }), answersFor(hsm), shares);
  expect(done.status).toBe('sealed');
  const keyId = events(dir).find((e) => e.type === 'KEY_GENERATED')!.data.keyId as string;
  root = { dir, keyId, backup: path.join(dir, 'backup', `${keyId}.backup.json`), shares };
});
afterAll(async () => {
  await service?.close();
  await untouched?.close();
});

describe('refused before check-in, with nothing done on the HSM or in the store', () => {
  const rootFile = loadScript('root-key-generation').file;
  const drillFile = loadScript('backup-recovery-drill').file;

  it.each([
    {
      name: 'a subject the DN parser refuses (C=Netherlands)',
      req: () => ({ script: 'root-key-generation', parameters: { ...ROOT_SUBJECT, subject: 'CN=Example Root, C=Netherlands' } }),
      code: 'CEREMONY_PARAMETER_INVALID',
      message: () => `Ceremony 'root-key-generation' cannot start: ${rootFile}:${lineOf(rootFile, /^ {2}subject:/)} parameters.subject: Parameter 'subject' of ceremony 'root-key-generation' is not a distinguished name Keyrite can certify: C must be a two-letter ISO 3166 country code in capitals, not 'Netherlands'. Write it as "CN=Example Root CA, O=Example, C=NL". Nothing was done; fix this and start again.`,
    },
    {
      name: 'a validity the root profile and policy refuse',
      req: () => ({ script: 'root-key-generation', parameters: { ...ROOT_SUBJECT, days: 100000 } }),
      code: 'POLICY_VIOLATION',
      message: () => `Ceremony 'root-key-generation' cannot start: ${rootFile}:${lineOf(rootFile, /^ {2}days:/)} parameters.days: A root-signing certificate may be valid for at most 9131 days (about 25 years); 100000 days were requested. (rule validity.max) Nothing was done; fix this and start again.`,
    },
    {
      name: 'confirmWords: "four"',
      req: () => ({ script: editedScript('root-key-generation', (t) => t.replace('confirmWords: 4', 'confirmWords: four')) }),
      code: 'SCRIPT_INVALID',
      message: (file?: string) => `The ceremony script ${file}:${lineOf(rootFile, /confirmWords: 4/)} is invalid at steps[6].with.confirmWords: confirmWords is how many words each custodian re-enters: a whole number from 1 to 24, or 'all' (given "four"). Fix the file and try again.`,
    },
    {
      name: 'key generation switched by an integer parameter',
      req: () => ({ script: editedScript('root-key-generation', (t) => t.replace('    action: generateKey\n', '    action: generateKey\n    when: days\n')) }),
      code: 'SCRIPT_INVALID',
      message: () => /is invalid at steps\[3\]\.when: when: names parameter 'days' of type integer; a step can only depend on a boolean parameter\. Fix the file and try again\. \d+ more problems:/,
    },
    {
      name: 'shares handed out before the backup exists',
      req: () => ({ script: editedScript('root-key-generation', (t) => t.replace('action: createBackup', 'action: handOutSharesX').replace('action: handOutShares\n', 'action: createBackup\n').replace('action: handOutSharesX', 'action: handOutShares').replace('with: { confirmWords: 4, shareCards: true }', 'with: {}')) }),
      code: 'SCRIPT_INVALID',
      message: () => /is invalid at steps\[5\]\.action: handOutShares needs a backup whose shares are not yet handed out from an earlier step \(createBackup or resplitShares\); move this step after one\./,
    },
    {
      name: 'a script with only seal',
      req: () => ({ script: editedScript('root-key-generation', (t) => t.replace(/\nsteps:[\s\S]*$/, '\nsteps:\n  - { id: seal, title: Seal, say: Seal., action: seal }\n')) }),
      code: 'SCRIPT_INVALID',
      message: () => /is invalid at steps\[0\]\.action: seal needs a crypto officer logged in to the HSM from an earlier step \(hsmLogin\); move this step after one\. Fix the file and try again\. 1 more problem:\n {2}\S+:\d+ steps: the script has no checkIn step: participants must check in first$/,
    },
    {
      name: 'a drill into a token that does not exist',
      req: () => ({ script: 'backup-recovery-drill', backupFile: root.backup, parameters: { targetToken: 'no-such-token' } }),
      code: 'CEREMONY_TARGET_TOKEN_MISSING',
      message: () => `Ceremony 'backup-recovery-drill' cannot start: ${drillFile}:${lineOf(drillFile, /^ {2}targetToken:/)} parameters.targetToken: The drill restores into token 'no-such-token', which is not present (tokens present: v-drill, v-main, v-untouched, v-vanish). Initialise an empty token labelled 'no-such-token' (softhsm2-util --init-token --free --label no-such-token, or your HSM vendor's tool), or pass --param targetToken=LABEL naming an empty token, then start the ceremony again. Nothing was done; fix this and start again.`,
    },
    {
      name: 'a drill into a token that already holds the key',
      req: () => ({ script: 'backup-recovery-drill', backupFile: root.backup, parameters: { targetToken: 'v-main' } }),
      code: 'CEREMONY_TARGET_TOKEN_NOT_EMPTY',
      message: () => new RegExp(`parameters\\.targetToken: Token 'v-main' already holds 1 object\\(s\\) labelled '${root.keyId}', the key this backup restores`),
    },
    {
      name: 'a key to destroy that the inventory does not know',
      req: () => ({ script: 'key-destruction', parameters: { keyId: 'ecp384-2026-99' } }),
      code: 'CEREMONY_KEY_UNKNOWN',
      message: () => /parameters\.keyId: Key 'ecp384-2026-99' \(parameter 'keyId'\) is not in the inventory\. Run `keyrite inventory` to list the keys Keyrite knows and give one of those ids\. Nothing was done/,
    },
  ])('$name', async ({ req, code, message }) => {
    const request = { outDir: out('validate-refused'), ...req() } as StartRequest;
    const error = await untouched.start(request).then(() => null, (e: unknown) => e as { code: string; message: string; details: Record<string, unknown> });
    expect(error, 'the ceremony started').not.toBeNull();
    expect(error!.code).toBe(code);
    const expected = message(request.script);
    if (typeof expected === 'string') expect(error!.message).toBe(expected);
    else expect(error!.message).toMatch(expected);
    expect(await untouched.listCeremonies()).toEqual([]);
    expect(tokenObjects('v-untouched')).toBe(0);
  });
});

describe('check-in refused when a later sign-off cannot be given', () => {
  it('the drill needs two witnesses at "Prove it is the same key": one is refused, two are accepted', async () => {
    let view = await service.start({ script: 'backup-recovery-drill', outDir: out('validate-quorum'), backupFile: root.backup, parameters: { targetToken: 'v-drill' } });
    const oneWitness = PEOPLE.filter((p) => p.id !== 'will');
    view = await service.provide(view.ceremonyId, { kind: 'participants', participants: oneWitness });
    expect(view.lastError).toMatchObject({ code: 'CEREMONY_QUORUM_INFEASIBLE' });
    expect(view.lastError!.message).toBe("These people cannot give every sign-off this ceremony needs: the step 'Prove it is the same key' needs 2 witnesses; 1 checked in. Check in the missing people now (nothing has been done yet), or stop and fix the script's quorum.");
    expect(view.current!.id).toBe('check-in');
    expect(view.participants).toEqual([]);
    const runner = await service.runner(view.ceremonyId);
    expect((await runner.events()).filter((e) => e.type === 'PARTICIPANT_CHECKED_IN')).toEqual([]);

    view = await service.provide(view.ceremonyId, { kind: 'participants', participants: PEOPLE });
    expect(view.lastError).toBeNull();
    expect(view.participants).toHaveLength(PEOPLE.length);

    // Only a checked-in person decides an abort; the aborted step is shown as not done.
    await expect(service.abort(view.ceremonyId, 'the room is needed', 'mallory')).rejects.toMatchObject({ code: 'CEREMONY_PERSON_UNKNOWN' });
    const aborted = await service.abort(view.ceremonyId, 'the room is needed', 'ada');
    expect(aborted.steps.map((s) => s.status)).toEqual(['aborted', 'pending', 'pending', 'pending', 'pending', 'pending', 'pending', 'pending']);
    const ev = await runner.events();
    expect(ev.at(-1)).toMatchObject({ type: 'CEREMONY_ABORTED', step: 'check-in', actor: 'ada', data: { personId: 'ada', name: 'Ada Admin', checkedIn: true } });
    const summary = summarizeTranscript(ev);
    expect(summary.steps[0].status).toBe('aborted');
    expect(summary.stepsCompleted).toBe(0);
    expect(renderTranscriptHtml(ev, { finalHash: 'f'.repeat(64), keySpkiSha256: 'e'.repeat(64) })).toContain('0 of 8 completed · aborted at step 1');
    expect(misfiledEvents(ev)).toEqual([]);
  });

  it('an abort before anyone checked in does not claim a participant decided it', async () => {
    const view = await service.start({ script: 'root-key-generation', outDir: out('validate-early-abort'), parameters: ROOT_SUBJECT });
    const aborted = await service.abort(view.ceremonyId, 'wrong day', 'Ada at the door');
    expect(aborted.status).toBe('aborted');
    const ev = await (await service.runner(view.ceremonyId)).events();
    expect(ev.at(-1)).toMatchObject({ type: 'CEREMONY_ABORTED', actor: null, step: 'check-in', data: { personId: 'Ada at the door', checkedIn: false, name: null } });
  });
});

describe('messages name what can be done at that moment', () => {
  it('a token gone mid-ceremony: insert it or abort, not "choose another label"', async () => {
    const home = tempDir('validate-vanish');
    let s = await openService(home, hsm.config('v-main'));
    let view = await s.start({ script: 'backup-recovery-drill', outDir: out('validate-vanish'), backupFile: root.backup, parameters: { targetToken: 'v-vanish' } });
    const driver = new AnswersDriver(answersFor(hsm));
    while (view.current?.id === 'check-in') view = await s.provide(view.ceremonyId, driver.next(view)!);
    expect(view.current?.id).toBe('preflight');
    await s.close();
    execSync('softhsm2-util --delete-token --token v-vanish', { env: { ...process.env, SOFTHSM2_CONF: hsm.conf }, stdio: 'pipe' });
    s = await openService(home, hsm.config('v-main'));
    try {
      await expect(s.view(view.ceremonyId)).rejects.toMatchObject({
        code: 'HSM_TOKEN_NOT_FOUND',
        message: "Token 'v-vanish', which this ceremony uses, is not present (tokens present: v-drill, v-main, v-untouched). Insert it and continue; a ceremony cannot move to another token midway. If it is lost, a checked-in participant aborts the ceremony with its reason.",
      });
      const aborted = await s.abort(view.ceremonyId, 'the drill token was lost', 'ada');
      expect(aborted.steps[1].status).toBe('aborted');
    } finally {
      await s.close();
    }
  });
});

describe('every event of every built-in ceremony is filed under the step that was running', () => {
  const sealed: Record<string, string> = {};

  beforeAll(async () => {
    sealed['root-key-generation'] = root.dir;
    // Recovery drill into an empty token, destroying the drill copy at the end.
    const drill = out('validate-drill');
    expect((await runToEnd(service, await service.start({ script: 'backup-recovery-drill', outDir: drill, backupFile: root.backup, parameters: { targetToken: 'v-drill' } }), answersFor(hsm, { shares: root.shares.slice(0, 3) }))).status).toBe('sealed');
    sealed['backup-recovery-drill'] = drill;
    // Rotation: a new key certified by the old one; the old key retiring.
    const rotation = out('validate-rotation');
    const rotationShares: string[] = [];
    const oldCertFile = path.join(root.dir, 'keys', `${root.keyId}.cert.pem`);
    expect((await runToEnd(service, await service.start({ script: 'key-rotation', outDir: rotation, parameters: { ...ROOT_SUBJECT, oldKeyId: root.keyId, oldCertFile } }), answersFor(hsm), rotationShares)).status).toBe('sealed');
    sealed['key-rotation'] = rotation;
    // Share rotation of the new key's backup.
    const newKey = events(rotation).find((e) => e.type === 'KEY_GENERATED')!.data.keyId as string;
    const newPeople = [...PEOPLE, { id: 'old1', name: 'Outgoing One', roles: ['old-custodian'] }];
    const shareRotation = out('validate-share-rotation');
    expect((await runToEnd(service, await service.start({ script: 'share-rotation', outDir: shareRotation, backupFile: path.join(rotation, 'backup', `${newKey}.backup.json`) }), answersFor(hsm, { participants: newPeople, shares: rotationShares.slice(0, 3) }))).status).toBe('sealed');
    sealed['share-rotation'] = shareRotation;
    // Destruction of the old root.
    const destruction = out('validate-destruction');
    const people = answersFor(hsm, { participants: PEOPLE.filter((p) => !p.roles.includes('custodian')) });
    expect((await runToEnd(service, await service.start({ script: 'key-destruction', outDir: destruction, parameters: { keyId: root.keyId } }), people)).status).toBe('sealed');
    sealed['key-destruction'] = destruction;
  });

  it.each(['root-key-generation', 'backup-recovery-drill', 'key-rotation', 'share-rotation', 'key-destruction'])('%s', (id) => {
    const ev = events(sealed[id]);
    expect(misfiledEvents(ev)).toEqual([]);
    const summary = summarizeTranscript(ev);
    expect(summary.steps.map((s) => s.status)).not.toContain('not completed');
    expect(summary.stepsCompleted).toBe(summary.steps.length);
    const html = readFileSync(path.join(sealed[id], 'transcript.html'), 'utf8');
    expect(html).not.toContain('>not completed<');
    // Each step's last sign-off and its completion are filed under the step itself.
    for (const step of loadScript(id).script.steps.filter((s) => s.action !== 'seal')) {
      const own = ev.filter((e) => e.step === step.id);
      expect(own.map((e) => e.type), step.id).toContain('STEP_COMPLETED');
      const quorum = Object.values(step.confirm ?? {}).reduce((a, b) => a + b, 0);
      if (!step.when) expect(own.filter((e) => e.type === 'STEP_CONFIRMED'), step.id).toHaveLength(quorum);
    }
  });

  it('the drill claims a KEK rebuild and a backup hash only for what happened', () => {
    const ev = events(sealed['backup-recovery-drill']);
    expect(ev.filter((e) => e.type === 'KEK_REBUILT')).toHaveLength(1);
    const restored = ev.find((e) => e.type === 'KEY_RESTORED')!;
    expect(restored.data.backupSha256).toBe(createHash('sha256').update(readFileSync(root.backup)).digest('hex'));
    expect(restored.step).toBe('restore');
    expect(ev.find((e) => e.type === 'KEK_REBUILT')!.step).toBe('restore');
  });

  it('the preflight records every file Keyrite ran from; sha256sum and sort recompute the root hash', () => {
    const pre = events(root.dir).find((e) => e.type === 'PREFLIGHT_RECORDED')!.data as { codeRoot: string; codeDirs: string[]; codeFiles: number; codeSha256: string; codeManifest: Array<{ path: string; sha256: string }> };
    expect(pre.codeDirs).toEqual(['src']); // tests run from the sources
    expect(pre.codeFiles).toBe(pre.codeManifest.length);
    expect(pre.codeManifest.map((m) => m.path)).toContain('src/core/ceremony/runner.ts');
    const recomputed = execSync(`find ${pre.codeDirs.join(' ')} -type f | LC_ALL=C sort | xargs -d '\\n' sha256sum | sha256sum`, { cwd: pre.codeRoot, encoding: 'utf8' }).split(' ')[0];
    expect(recomputed).toBe(pre.codeSha256);
  });
});
