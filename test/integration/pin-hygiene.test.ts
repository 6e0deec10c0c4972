import { spawnSync } from 'node:child_process';
import { chmodSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { connectHsm } from '../../src/core/hsm/connect';
import { readToken } from '../../src/core/hsm/token';
import { PEOPLE, ROOT_SUBJECT, tempDir } from '../helpers/ceremony';
import { createTestHsm } from '../helpers/softhsm';

/**
 * PINs: one normalisation for every source (a trailing newline costs no attempt, anything else
 * odd is refused before the token sees it), PIN files only their owner can read, and PINs in an
 * answers file only for the demo token. "No attempt used" is checked on the token's own flags:
 * SoftHSM raises CKF_USER_PIN_COUNT_LOW after one wrong PIN (the control below shows it does).
 */
const hsm = createTestHsm(['pins', 'control']);
const home = tempDir('pin-home');
const dir = tempDir('pin-files');

function keyrite(args: string[], env: Record<string, string> = {}, token = 'pins') {
  return spawnSync(process.execPath, ['bin/keyrite.mjs', ...args], {
    env: { ...process.env, KEYRITE_HOME: home, KEYRITE_PKCS11_MODULE: hsm.modulePath, KEYRITE_TOKEN_LABEL: token, KEYRITE_PIN: '', KEYRITE_SO_PIN: '', CI: 'true', ...env },
    encoding: 'utf8',
    input: '',
    timeout: 60_000,
  });
}

function attemptsUsed(token = 'pins'): boolean {
  const conn = connectHsm(hsm.config(token));
  try {
    return readToken(conn.module, conn.session.token.slot).flags.userPinCountLow;
  } finally {
    conn.close();
  }
}

function pinFile(name: string, content: string, mode: number): string {
  const file = path.join(dir, name);
  writeFileSync(file, content, { mode });
  chmodSync(file, mode);
  return file;
}

let n = 0;
const keygen = (extra: string[] = [], env: Record<string, string> = {}, token = 'pins') => keyrite(['hsm', 'keygen', '--type', 'ec-p256', '--label', `pin-test-${++n}`, ...extra], env, token);

describe('PIN sources', () => {
  it('control: one wrong PIN sets the token\'s count-low flag', () => {
    expect(attemptsUsed('control')).toBe(false);
    const r = keygen([], { KEYRITE_PIN: '999999' }, 'control');
    expect(r.stderr).toContain('[HSM_PIN_INCORRECT]');
    expect(attemptsUsed('control')).toBe(true);
  });

  it.each([
    ['KEYRITE_PIN with a trailing newline', () => keygen([], { KEYRITE_PIN: `${hsm.userPin}\n` })],
    ['KEYRITE_PIN with a trailing CRLF', () => keygen([], { KEYRITE_PIN: `${hsm.userPin}\r\n` })],
    ['a 0600 --pin-file ending in a newline', () => keygen(['--pin-file', pinFile('ok.pin', `${hsm.userPin}\n`, 0o600)])],
    ['a 0400 --pin-file without a newline', () => keygen(['--pin-file', pinFile('ok2.pin', hsm.userPin, 0o400)])],
  ])('accepts %s, and no attempt is used', (_what, run) => {
    const r = run();
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('Self-test passed');
    expect(attemptsUsed()).toBe(false);
  });

  it.each([
    ['group-readable', 0o640],
    ['world-readable', 0o644],
    ['group-writable', 0o620],
    ['world-readable and executable', 0o705],
  ])('refuses a %s PIN file without reading it', (_what, mode) => {
    const file = pinFile(`bad-${mode.toString(8)}.pin`, `${hsm.userPin}\n`, mode);
    const r = keygen(['--pin-file', file]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('[PIN_FILE_PERMISSIONS]');
    expect(r.stderr).toContain(`mode 0${mode.toString(8)}`);
    expect(r.stderr).toContain(`chmod 600 ${file}`);
    expect(r.stderr).not.toContain(hsm.userPin);
  });

  it('refuses a PIN file that is a symbolic link, and a folder', () => {
    const target = pinFile('target.pin', `${hsm.userPin}\n`, 0o600);
    const link = path.join(dir, 'link.pin');
    symlinkSync(target, link);
    expect(keygen(['--pin-file', link]).stderr).toContain('[PIN_FILE_SYMLINK]');
    expect(keygen(['--pin-file', dir]).stderr).toContain('[PIN_FILE_IS_FOLDER]');
    expect(keygen(['--pin-file', path.join(dir, 'missing.pin')]).stderr).toContain('[PIN_FILE_NOT_FOUND]');
  });

  it.each([
    ['a second line', { KEYRITE_PIN: `${hsm.userPin}\nmore` }, 'PIN_INVALID'],
    ['two trailing newlines', { KEYRITE_PIN: `${hsm.userPin}\n\n` }, 'PIN_INVALID'],
    ['a tab', { KEYRITE_PIN: `${hsm.userPin}\t` }, 'PIN_INVALID'],
    ['an escape character', { KEYRITE_PIN: `\u001b[2J${hsm.userPin}` }, 'PIN_INVALID'],
    ['a leading space', { KEYRITE_PIN: ` ${hsm.userPin}` }, 'PIN_INVALID'],
    ['only a newline', { KEYRITE_PIN: '\n' }, 'PIN_EMPTY'],
  ])('refuses KEYRITE_PIN with %s before the token sees it (no attempt used)', (_what, env, code) => {
    const r = keygen([], env);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`[${code}]`);
    expect(r.stderr).toContain('KEYRITE_PIN');
    expect(r.stderr).not.toContain(hsm.userPin);
    expect(attemptsUsed()).toBe(false);
  });

  it('gives a PIN file the same rules as the variable', () => {
    const r = keygen(['--pin-file', pinFile('two-lines.pin', `${hsm.userPin}\nsecond\n`, 0o600)]);
    expect(r.stderr).toContain('[PIN_INVALID]');
    expect(r.stderr).toContain('two-lines.pin');
    expect(attemptsUsed()).toBe(false);
  });
});

describe('PINs in an answers file', () => {
  const answersWith = (extra: Record<string, unknown>): string => {
    const file = path.join(tempDir('pin-answers'), 'answers.yaml');
    writeFileSync(file, stringify({ participants: PEOPLE, statements: { 'seal-shares': { bags: 'BAG-1 BAG-2 BAG-3 BAG-4 BAG-5' } }, ...extra }));
    return file;
  };

  it.each([
    ['pin', { pin: '246810' }],
    ['soPin', { soPin: '13579111' }],
  ])('refuses an answers file with %s for a token that is not the demo token, before anything starts', (_what, extra) => {
    const out = path.join(tempDir('pin-out'), 'bundle');
    const r = keyrite(['ceremony', 'run', 'root-key-generation', '--param', `subject=${ROOT_SUBJECT.subject}`, '--answers', answersWith(extra), '--out', out]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('[ANSWERS_PIN_NOT_DEMO]');
    expect(r.stderr).toContain('KEYRITE_PIN');
    expect(r.stdout).not.toContain('Ceremony ');
  });

  it('runs unattended on a non-demo token with the PINs from --pin-file and KEYRITE_SO_PIN', () => {
    const out = path.join(tempDir('pin-out'), 'bundle');
    const r = keyrite(['ceremony', 'run', 'root-key-generation', '--param', `subject=${ROOT_SUBJECT.subject}`, '--answers', answersWith({ preflightOverride: { personId: 'ada', reason: 'test machine with a network interface' } }), '--out', out, '--pin-file', pinFile('run.pin', `${hsm.userPin}\n`, 0o600)], { KEYRITE_SO_PIN: `${hsm.soPin}\n` });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('sealed');
  }, 120_000);

  it('says where the PIN comes from when none was given', () => {
    const out = path.join(tempDir('pin-out'), 'bundle');
    const r = keyrite(['ceremony', 'run', 'root-key-generation', '--param', `subject=${ROOT_SUBJECT.subject}`, '--answers', answersWith({ preflightOverride: { personId: 'ada', reason: 'test machine with a network interface' } }), '--out', out]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/No PIN was given for step 'hsm-login'\. Set KEYRITE_PIN or pass --pin-file FILE.*\[ANSWERS_MISSING\]/);
  });
});
