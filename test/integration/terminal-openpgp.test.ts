import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/ceremony';
import { TestGpg } from '../helpers/gpg';
import { scanForSecrets } from '../helpers/secrets';

/**
 * The terminal runner with a custodian who brings an OpenPGP key (made by real GnuPG), driven
 * through a real pseudo-terminal: the key file at check-in, a mistyped then correct fingerprint
 * tail, the sealed file written to "her medium", read back from `gpg --decrypt` — and her words
 * never appear on the terminal. The other custodian takes words on screen as before.
 */
type Rules = Array<[string, string]>;
// eslint-disable-next-line no-control-regex -- ESC sequences are what a terminal prints, and what is stripped here
const strip = (s: string) => s.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').replace(/\r/g, '');
const active = (text: string) => `\\?\\s[^\\n]*${text}`;

const gpg = new TestGpg();
const home = tempDir('tty-pgp-home');
const bundle = path.join(tempDir('tty-pgp-out'), 'bundle');
const medium = tempDir('tty-pgp-medium');
let fpr: string;
let result: { status: number | null; out: string; text: string; answered: string };

const events = () => readFileSync(path.join(bundle, 'transcript.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { type: string; data: Record<string, unknown> });

beforeAll(() => {
  fpr = gpg.makeKey('Cora Custodian <cora@example.org>');
  const keyFile = path.join(tempDir('tty-pgp-keys'), 'cora.asc');
  writeFileSync(keyFile, gpg.publicKey(fpr));
  const person = (name: string, role: string, key?: string): Rules => [
    ['full name \\(empty to finish', `${name}\r`],
    ['Short id', '\r'],
    ['Roles, comma-separated', `${role}\r`],
    ...(role === 'custodian' ? ([['OpenPGP public key file', `${key ?? ''}\r`]] as Rules) : []),
  ];
  const rules: Rules = [
    // The parameters table comes before check-in; "y" starts with the script's values.
    [active('Start with these parameters\\?'), 'y\r'],
    ...person('Ada Admin', 'admin'),
    ...person('Otto Officer', 'officer'),
    ...person('Cora Custodian', 'custodian', keyFile),
    ...person('Carl Custodian', 'custodian'),
    ...person('Wren Witness', 'witness'),
    ['full name \\(empty to finish', '\r'],
    // The fingerprint is read aloud; a wrong tail is refused, the right one (from her device) accepted.
    [active('type the last 8 hex digits'), '0000 0000\r'],
    ['not how the fingerprint[\\s\\S]*type the last 8 hex digits', `${fpr.slice(-8).toLowerCase()}\r`],
    [active('Type your full name or initials to sign'), 'Ada Admin\r'],
    ["PIN for token 'keyrite-demo'", '123456\r'],
    [active('Type your full name or initials to sign'), 'WW\r'],
    [active('Generate the key now\\?'), 'y\r'],
    [active('Type the token label \\(keyrite-demo\\)'), 'keyrite-demo\r'],
    ["SO PIN for token 'keyrite-demo'", '12345678\r'],
    ["\\? PIN for token 'keyrite-demo'", '123456\r'],
    ['Make the KEK', '\r'],
    // Cora: sealed to her key, written to her medium, words read back from gpg --decrypt.
    [active("Folder for Cora Custodian's sealed share"), `${'\x7f'.repeat(300)}${medium}\r`],
    [active('enter word \\d+ of your decrypted share:'), '{decrypted}\r'],
    [active('enter word \\d+ of your decrypted share:'), '{decrypted}\r'],
    // Carl: words on screen, as before.
    [active('looks away\\.\\s+Ready\\?'), 'y\r'],
    [active('Written down'), 'y\r'],
    [active('enter word \\d+ of your share:'), '{asked}\r'],
    [active('enter word \\d+ of your share:'), '{asked}\r'],
    ['Seal the transcript', '\r'],
  ];
  const rulesFile = path.join(tempDir('tty-pgp-rules'), 'rules.json');
  writeFileSync(rulesFile, JSON.stringify(rules));
  const r = spawnSync('python3', ['test/helpers/pty-driver.py', rulesFile, '--', process.execPath, 'bin/keyrite.mjs', 'ceremony', 'run', path.resolve('test/fixtures/terminal-ceremony.yaml'), '--out', bundle], {
    env: { ...process.env, KEYRITE_HOME: home, KEYRITE_PKCS11_MODULE: '', KEYRITE_TOKEN_LABEL: '', KEYRITE_PIN: '', CI: '', TERM: 'xterm', GNUPGHOME: gpg.home },
    encoding: 'utf8',
    timeout: 170_000,
  });
  result = { status: r.status, out: r.stdout, text: strip(r.stdout), answered: r.stderr };
  expect(result.answered, result.text.slice(-2500)).toContain(`answered ${rules.length} of ${rules.length} prompts`);
  expect(result.status, result.text.slice(-2500)).toBe(0);
}, 180_000);
afterAll(() => gpg.close());

describe('keyrite ceremony run in a terminal, one custodian on OpenPGP', () => {
  it('shows the fingerprint in groups and words, records the confirmation and the sealed file', () => {
    expect(result.text).toContain(`Fingerprint: ${fpr.replace(/(.{4})(?!$)/g, '$1 ')}`);
    expect(result.text).toMatch(/Read aloud: [A-Za-z]+ [A-Za-z]+/);
    const ev = events();
    expect(ev.find((e) => e.type === 'OPENPGP_KEY_ENROLLED')!.data).toMatchObject({ personId: 'cora', fingerprint: fpr });
    const sealed = ev.find((e) => e.type === 'SHARE_SEALED')!;
    expect(sealed.data).toMatchObject({ index: 1, custodian: 'Cora Custodian', dir: medium, recipientFingerprint: fpr });
    expect(readdirSync(medium)).toEqual([sealed.data.fileName]);
    expect(ev.filter((e) => e.type === 'SHARE_CONFIRMED')).toHaveLength(2);
    expect(ev.filter((e) => e.type === 'SHARE_ISSUED').map((e) => e.data.custodian)).toEqual(['Carl Custodian']);
  });

  it('never prints the enrolled custodian\'s words; only Carl\'s share was on screen', () => {
    const file = path.join(medium, readdirSync(medium)[0]);
    const words = gpg.decrypt(file).trim().split('\n').pop()!.split(' ');
    expect(words).toHaveLength(33);
    // Any three consecutive words of her share, in any spacing the terminal might use.
    for (let i = 0; i + 3 <= words.length; i++) expect(result.text.replace(/\s+/g, ' ')).not.toContain(words.slice(i, i + 3).join(' '));
    expect(result.text).not.toMatch(/share 1 of 2 · needs 2 · split [0-9A-F-]+ · Cora/);
    expect(result.text).toMatch(/share 2 of 2 · needs 2 · split [0-9A-F-]+ · Carl Custodian/);
    expect(scanForSecrets([home, bundle], [], { shareWords: words })).toEqual([]);
  });
});
