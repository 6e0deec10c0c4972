import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { loadScript } from '../../src/core/ceremony/script';
import { connectHsm, type HsmConnection } from '../../src/core/hsm/connect';
import { PEOPLE, ROOT_SUBJECT, tempDir } from '../helpers/ceremony';
import { createTestHsm } from '../helpers/softhsm';
import { runKeyrite } from '../helpers/cli';

/**
 * kill -9 at every action step, at the worst moment (the action has touched the HSM or the disk,
 * its result is not yet committed), then resume: the bundle must be complete, the transcript
 * intact, and no key made twice.
 */
const hsm = createTestHsm(['kill', 'kill-drill']);
const home = tempDir('kill-home');
const answers = path.join(tempDir('kill-answers'), 'answers.yaml');
writeFileSync(answers, stringify({
  participants: PEOPLE,
  preflightOverride: { personId: 'ada', reason: 'test machine with a network interface' },
  statements: { 'seal-shares': { bags: 'BAG-1 BAG-2 BAG-3 BAG-4 BAG-5' } },
}));
// Not the demo token: the PINs come from the environment, never from the answers file.
const env = { ...process.env, KEYRITE_HOME: home, KEYRITE_PKCS11_MODULE: hsm.modulePath, KEYRITE_TOKEN_LABEL: 'kill', KEYRITE_PIN: hsm.userPin, KEYRITE_SO_PIN: hsm.soPin };

// runKeyrite runs the CLI's test build for the killed run (KEYRITE_FAULT_KILL_AT is compiled out
// of the shipped one); the resume and the verify run the shipped CLI.
const keyrite = (args: string[], extraEnv: Record<string, string> = {}) => runKeyrite(args, { env: { ...env, ...extraEnv }, timeout: 60_000 });

function events(bundle: string): Array<{ seq: number; type: string; data: Record<string, unknown> }> {
  return readFileSync(path.join(bundle, 'transcript.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
}

let conn: HsmConnection;
beforeAll(() => {
  conn = connectHsm(hsm.config('kill'));
  conn.session.login(hsm.userPin);
});
afterAll(() => conn?.close());

function killAndResume(script: string, step: string, runArgs: string[], resumeArgs: string[]): string {
  const out = path.join(tempDir('kill-out'), 'bundle');
  // The seal step's worst moment is inside it: CEREMONY_SEALED committed, no bundle file written yet.
  const subject = 'subject' in loadScript(script).script.parameters ? ['--param', `subject=${ROOT_SUBJECT.subject}`] : [];
  const killed = keyrite(['ceremony', 'run', script, ...subject, '--answers', answers, '--out', out, ...runArgs], { KEYRITE_FAULT_KILL_AT: step === 'seal' ? 'seal:committed' : step });
  expect(killed.signal, `${step}: the run should have been killed\n${killed.stdout}\n${killed.stderr}`).toBe('SIGKILL');
  const id = /Ceremony (\S+):/.exec(killed.stdout)![1];
  const resumed = keyrite(['ceremony', 'resume', id, '--answers', answers, ...resumeArgs]);
  expect(resumed.status, `${step}: resume failed\n${resumed.stdout}\n${resumed.stderr}`).toBe(0);
  expect(resumed.stdout).toContain('sealed');
  const verified = keyrite(['verify', out]);
  expect(verified.status, verified.stdout + verified.stderr).toBe(0);
  const ev = events(out);
  expect(ev.map((e) => e.seq)).toEqual(ev.map((_, i) => i + 1));
  // Nothing follows CEREMONY_SEALED, so a ceremony killed while sealing resumes without a record of it.
  if (step !== 'seal') expect(ev.some((e) => e.type === 'CEREMONY_RESUMED')).toBe(true);
  return out;
}

const rootSteps = loadScript('root-key-generation').script.steps.filter((s) => s.action).map((s) => s.id);
const drillSteps = loadScript('backup-recovery-drill').script.steps.filter((s) => s.action).map((s) => s.id);

describe('kill -9 during root-key-generation, then resume', () => {
  it.each(rootSteps)('killed in step %s', (step) => {
    const out = killAndResume('root-key-generation', step, [], []);
    const ev = events(out);
    const generated = ev.filter((e) => e.type === 'KEY_GENERATED');
    expect(generated).toHaveLength(1);
    const keyId = generated[0].data.keyId as string;
    expect(conn.session.find({ class: 'private', label: keyId })).toHaveLength(1);
    expect(conn.session.find({ class: 'public', label: keyId })).toHaveLength(1);
    expect(ev.filter((e) => e.type === 'SHARE_CONFIRMED').length).toBeGreaterThanOrEqual(5);
    expect(ev.filter((e) => e.type === 'CERTIFICATE_ISSUED')).toHaveLength(1);
    expect(ev.at(-1)!.type).toBe('CEREMONY_SEALED');
  });
});

describe('kill -9 during backup-recovery-drill, then resume', () => {
  let backup: string;
  let sharesFile: string;
  beforeAll(() => {
    const out = path.join(tempDir('kill-root'), 'bundle');
    sharesFile = path.join(tempDir('kill-shares'), 'shares.txt');
    const r = keyrite(['ceremony', 'run', 'root-key-generation', '--param', `subject=${ROOT_SUBJECT.subject}`, '--answers', answers, '--out', out, '--drill-shares', sharesFile]);
    expect(r.status, r.stderr).toBe(0);
    const keyId = events(out).find((e) => e.type === 'KEY_GENERATED')!.data.keyId as string;
    backup = path.join(out, 'backup', `${keyId}.backup.json`);
  });

  it.each(drillSteps)('killed in step %s', (step) => {
    const args = ['--backup', backup, '--drill-shares', sharesFile, '--param', 'targetToken=kill-drill'];
    const out = killAndResume('backup-recovery-drill', step, args, ['--drill-shares', sharesFile]);
    const ev = events(out);
    expect(ev.filter((e) => e.type === 'IDENTITY_PROVEN').at(-1)!.data).toMatchObject({ fingerprintMatches: true, signatureVerified: true });
    expect(ev.some((e) => e.type === 'KEY_ABSENCE_VERIFIED')).toBe(true);
    const drill = connectHsm(hsm.config('kill-drill'));
    try {
      drill.session.login(hsm.userPin);
      const keyId = ev.find((e) => e.type === 'KEY_RESTORED')!.data.keyId as string;
      expect(drill.session.find({ class: 'private', label: keyId })).toHaveLength(0);
    } finally {
      drill.close();
    }
  });
});
