import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/ceremony';

/**
 * Bag serials in the terminal runner, typed through a real pseudo-terminal: one prompt per share
 * on its custodian's row, a malformed serial and another share's bag refused on that row alone
 * (the rows already typed stay), the mapping sealed into the transcript.
 */
type Rules = Array<[string, string]>;
// eslint-disable-next-line no-control-regex -- ESC sequences are what a terminal prints, and what is stripped here
const strip = (s: string) => s.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').replace(/\r/g, '');
const active = (text: string) => `\\?\\s[^\\n]*${text}`;
const CLEAR_LINE = '\x15'; // Ctrl-U: the refused value is still on the prompt's line

const person = (name: string, role: string): Rules => [
  ['full name \\(empty to finish', `${name}\r`],
  ['Short id', '\r'],
  ['Roles, comma-separated', `${role}\r`],
  // A custodian may bring an OpenPGP key; Enter alone: words on screen.
  ...(role === 'custodian' ? ([['OpenPGP public key file', '\r']] as Rules) : []),
];
const handout: Rules = [
  [active('looks away\\.\\s+Ready\\?'), 'y\r'],
  [active('Written down'), 'y\r'],
  [active('enter word \\d+ of your share:'), '{asked}\r'],
];

const home = tempDir('tty-bags-home');
const bundle = path.join(tempDir('tty-bags-out'), 'bundle');
let run: { status: number | null; out: string; text: string; answered: string };
const rules: Rules = [
  [active('Start with these parameters\\?'), 'y\r'],
  ...person('Ada Admin', 'admin'),
  ...person('Otto Officer', 'officer'),
  ...person('Cora Custodian', 'custodian'),
  ...person('Carl Custodian', 'custodian'),
  ...person('Cleo Custodian', 'custodian'),
  ['full name \\(empty to finish', '\r'],
  ["PIN for token 'keyrite-demo'", '123456\r'],
  [active('Generate the key now\\?'), 'y\r'],
  [active('Type the token label'), 'keyrite-demo\r'],
  ["SO PIN for token 'keyrite-demo'", '12345678\r'],
  ["\\? PIN for token 'keyrite-demo'", '123456\r'],
  ['Make the KEK', '\r'],
  ...handout,
  ...handout,
  ...handout,
  [active('Bag for share 1 of 3 \\(Cora Custodian\\):'), 'TEB-0001\r'],
  [active('Bag for share 2 of 3 \\(Carl Custodian\\):'), 'B@G 2\r'],
  ['> A bag serial is letters, digits and dashes', `${CLEAR_LINE}teb-0001\r`],
  ['> That is the bag of share 1 \\(Cora Custodian\\)', `${CLEAR_LINE}TEB-0002\r`],
  [active('Bag for share 3 of 3 \\(Cleo Custodian\\):'), 'TEB-0003\r'],
  [active('Remarks \\(optional\\):'), '\r'],
  ['Seal the transcript', '\r'],
];

describe('bag serials in the terminal runner', () => {
  beforeAll(() => {
    const rulesFile = path.join(tempDir('tty-bags-rules'), 'rules.json');
    writeFileSync(rulesFile, JSON.stringify(rules));
    const r = spawnSync('python3', ['test/helpers/pty-driver.py', rulesFile, '--', process.execPath, 'bin/keyrite.mjs', 'ceremony', 'run', path.resolve('test/fixtures/terminal-bags.yaml'), '--out', bundle], {
      env: { ...process.env, KEYRITE_HOME: home, KEYRITE_PKCS11_MODULE: '', KEYRITE_TOKEN_LABEL: '', KEYRITE_PIN: '', KEYRITE_SO_PIN: '', CI: '', TERM: 'xterm' },
      encoding: 'utf8',
      timeout: 170_000,
    });
    run = { status: r.status, out: r.stdout, text: strip(r.stdout), answered: r.stderr };
    expect(run.answered, run.text.slice(-2500)).toContain(`answered ${rules.length} of ${rules.length} prompts`);
    expect(run.status, run.text.slice(-2500)).toBe(0);
  }, 180_000);

  it('asks one serial per share, on its custodian\'s row, and re-asks only the refused row', () => {
    expect(run.text).toContain('Tamper-evident bag serial: one bag per share (3).');
    // Each row is accepted once; the refused row 2 shows why, twice, and nothing else is re-asked.
    const accepted = [...run.text.matchAll(/✔ Bag for share (\d) of 3 \((\w+) Custodian\): (\S+)/g)].map((m) => [m[1], m[2], m[3]]);
    expect(accepted).toEqual([['1', 'Cora', 'TEB-0001'], ['2', 'Carl', 'TEB-0002'], ['3', 'Cleo', 'TEB-0003']]);
    expect(run.text).toMatch(/> A bag serial is letters, digits and dashes \(3–64 characters\), as printed on\s+the item\./);
    expect(run.text).toMatch(/> That is the bag of share 1 \(Cora Custodian\); every share has its own\s+bag\./);
  });

  it('seals the bag ↔ share ↔ custodian mapping into the transcript', () => {
    const events = readFileSync(path.join(bundle, 'transcript.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { type: string; data: Record<string, unknown> });
    const st = events.find((e) => e.type === 'STATEMENT_RECORDED')!;
    expect(st.data.bags).toEqual([
      { bag: 'TEB-0001', shareIndex: 1, custodian: 'Cora Custodian', custodianId: 'cora' },
      { bag: 'TEB-0002', shareIndex: 2, custodian: 'Carl Custodian', custodianId: 'carl' },
      { bag: 'TEB-0003', shareIndex: 3, custodian: 'Cleo Custodian', custodianId: 'cleo' },
    ]);
    expect(events.filter((e) => e.type === 'ERROR_RECORDED')).toEqual([]);
  });

  it('verify of a bundle made on the demo token says DEMO first', () => {
    const v = spawnSync(process.execPath, ['bin/keyrite.mjs', 'verify', bundle], { encoding: 'utf8', env: { ...process.env, KEYRITE_HOME: home } });
    expect(v.status, v.stderr).toBe(0);
    expect(v.stdout.split('\n')[0]).toBe('DEMO — this ceremony ran on the demo token: a rehearsal. Nothing in it is a real key; do not trust or publish it.');
  });
});
