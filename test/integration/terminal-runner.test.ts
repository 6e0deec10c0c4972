import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { WORDS } from '../../src/core/backup/wordlist';
import { tempDir } from '../helpers/ceremony';
import { scanForSecrets } from '../helpers/secrets';

/**
 * The interactive terminal runner, driven through a real pseudo-terminal the way a person types:
 * names and roles at check-in, the PIN at a no-echo prompt, typed sign-offs, "No" at every
 * question that offers it (nothing proceeds), typed confirmations of irreversible acts, a share
 * shown to one custodian, a mistyped read-back, Ctrl-C, and share entry word by word.
 * Runs on the embedded demo token of a fresh KEYRITE_HOME.
 */
type Rules = Array<[string, string]>;
const ESC_CLEAR_ALL = '\x1b[2J\x1b[3J';
// eslint-disable-next-line no-control-regex -- ESC sequences are what a terminal prints, and what is stripped here
const strip = (s: string) => s.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').replace(/\r/g, '');

const person = (name: string, role: string): Rules => [
  ['full name \\(empty to finish', `${name}\r`],
  ['Short id', '\r'],
  ['Roles, comma-separated', `${role}\r`],
  // A custodian may bring an OpenPGP key; Enter alone: words on screen.
  ...(role === 'custodian' ? ([['OpenPGP public key file', '\r']] as Rules) : []),
];
const active = (text: string) => `\\?\\s[^\\n]*${text}`;
/** The parameters are shown before check-in; "y" starts with them. */
const ACCEPT_PARAMETERS: Rules = [[active('Start with these parameters\\?'), 'y\r']];
const CHECK_IN: Rules = [
  ...ACCEPT_PARAMETERS,
  ...person('Ada Admin', 'admin'),
  ...person('Otto Officer', 'officer'),
  ...person('Cora Custodian', 'custodian'),
  ...person('Carl Custodian', 'custodian'),
  ...person('Wren Witness', 'witness'),
  ['full name \\(empty to finish', '\r'],
];

function run(rules: Rules, args: string[], home: string, env: Record<string, string> = {}): { status: number | null; out: string; text: string; answered: string } {
  const rulesFile = path.join(tempDir('tty-rules'), 'rules.json');
  writeFileSync(rulesFile, JSON.stringify(rules));
  const r = spawnSync('python3', ['test/helpers/pty-driver.py', rulesFile, '--', process.execPath, 'bin/keyrite.mjs', ...args], {
    env: { ...process.env, KEYRITE_HOME: home, KEYRITE_PKCS11_MODULE: '', KEYRITE_TOKEN_LABEL: '', KEYRITE_PIN: '', CI: '', TERM: 'xterm', ...env },
    encoding: 'utf8',
    timeout: 170_000,
  });
  return { status: r.status, out: r.stdout, text: strip(r.stdout), answered: r.stderr };
}

const events = (bundle: string) =>
  readFileSync(path.join(bundle, 'transcript.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { type: string; actor: string | null; data: Record<string, unknown> });

/** Every share grid the terminal showed: header line, then 33 numbered words (column-wise). */
function sharesShown(text: string): Array<{ index: number; words: string[] }> {
  const out: Array<{ index: number; words: string[] }> = [];
  const re = /share (\d+) of \d+ · needs \d+ · split [0-9A-F-]+ · [^\n]*\n([\s\S]*?)Written down/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const pairs = [...m[2].matchAll(/(\d+)\. ([a-z]+)/g)].map((x) => [Number(x[1]), x[2]] as const).sort((a, b) => a[0] - b[0]);
    out.push({ index: Number(m[1]), words: pairs.map((p) => p[1]) });
  }
  return out;
}

const home = tempDir('tty-home');
const bundle = path.join(tempDir('tty-out'), 'bundle');
let root: ReturnType<typeof run>;

describe('keyrite ceremony run in a terminal', () => {
  beforeAll(() => {
    const handout = (n: number): Rules => [
      // Enter alone is "No": the share is not shown, the question comes again.
      [active('looks away\\.\\s+Ready\\?'), '\r'],
      ['Waiting: the share is not shown[\\s\\S]*looks away\\.\\s+Ready\\?', 'y\r'],
      [active('Written down'), 'n\r'],
      ['The share stays on screen[\\s\\S]*Written down', 'y\r'],
      ...(n === 1
        ? ([
            // The first read-back word is mistyped: only that word is asked again.
            [active('enter word \\d+ of your share:'), 'zzzz\r'],
            [active('enter word \\d+ of your share:'), '{asked}\r'],
            ['is not word \\d+ of share 1[\\s\\S]*enter word \\d+ of your share:', '{asked}\r'],
          ] as Rules)
        : ([
            [active('enter word \\d+ of your share:'), '{asked}\r'],
            [active('enter word \\d+ of your share:'), '{asked}\r'],
          ] as Rules)),
    ];
    const rules: Rules = [
      // Parameters: Enter is "No" (nothing starts); keyType is changed to a type the policy
      // refuses for the purpose (shown ✗ with its code, still nothing starts), then to one it allows.
      [active('Start with these parameters\\?'), '\r'],
      [active('Parameter to change'), 'keyType\r'],
      [active('keyType \\('), 'rsa-2048\r'],
      [active('Parameter to change'), '\r'],
      [active('keyType \\('), 'ec-p384\r'],
      ...CHECK_IN,
      [active('Type your full name or initials to sign'), 'Ada Admin\r'],
      ["PIN for token 'keyrite-demo'", '123456\r'],
      [active('Type your full name or initials to sign'), 'WW\r'],
      [active('Generate the key now\\?'), 'n\r'],
      ['Paused: nothing was done[\\s\\S]*Generate the key now\\?', 'y\r'],
      [active('Type the token label \\(keyrite-demo\\)'), '\r'],
      [active('Generate the key now\\?'), 'y\r'],
      [active('Type the token label \\(keyrite-demo\\)'), 'keyrite-demo\r'],
      // The root key is wrap-with-trusted: the security officer makes the trusted KEK, then the
      // crypto officer logs back in.
      ["SO PIN for token 'keyrite-demo'", '12345678\r'],
      ["\\? PIN for token 'keyrite-demo'", '123456\r'],
      ['Make the KEK', '\r'],
      ...handout(1),
      ...handout(2),
      ['Seal the transcript', '\r'],
    ];
    root = run(rules, ['ceremony', 'run', path.resolve('test/fixtures/terminal-ceremony.yaml'), '--out', bundle], home);
    expect(root.answered, root.text.slice(-2500)).toContain(`answered ${rules.length} of ${rules.length} prompts`);
    expect(root.status, root.text.slice(-2500)).toBe(0);
  }, 180_000);

  it('shows the parameters with their limits before check-in; No and a refused value start nothing; the changed value is recorded', () => {
    const text = root.text;
    const firstTable = text.indexOf('Parameters (recorded in the transcript):');
    const checkIn = text.indexOf('full name (empty to finish');
    expect(firstTable).toBeGreaterThanOrEqual(0);
    expect(firstTable).toBeLessThan(checkIn);
    // Each value says where it came from and the limits of script and policy together.
    expect(text).toMatch(/✓ keyType\s+ec-p256\s+· from the script/);
    expect(text.replace(/\s+/g, ' ')).toContain('limits: exactly 2 · script exactly 2 · policy: at least 2, at most the share count (2)');
    expect(text.replace(/\s+/g, ' ')).toContain('limits: allowed by the key policy for intermediate-signing: rsa-3072, rsa-4096, ec-p256, ec-p384, ec-p521');
    // The refused type: marked on its line with the rule and code, and the ceremony could not start.
    expect(text).toMatch(/✗ keyType\s+rsa-2048/);
    expect(text.replace(/\s+/g, ' ')).toMatch(/✗ RSA-2048 is too small for a intermediate-signing key[^[]*\[POLICY_VIOLATION\]/);
    expect(text).toContain('The ceremony cannot start with these values');
    expect(text).toMatch(/✓ keyType\s+ec-p384\n/);
    const started = events(bundle).find((e) => e.type === 'CEREMONY_STARTED')!;
    expect(started.data.parameters).toEqual({ keyType: 'ec-p384', threshold: 2, count: 2 });
    expect(readFileSync(path.join(bundle, 'transcript.html'), 'utf8')).toMatch(/<h2>Parameters<\/h2>[\s\S]*keyType<\/th><td>ec-p384/);
  });

  it('seals, never echoes the PIN, and records each sign-off as typed', () => {
    expect(root.text).toMatch(/sealed\. Bundle: /);
    expect(root.out).not.toContain('123456');
    const ev = events(bundle);
    expect(ev.filter((e) => e.type === 'PARTICIPANT_CHECKED_IN').map((e) => e.data.name)).toEqual(['Ada Admin', 'Otto Officer', 'Cora Custodian', 'Carl Custodian', 'Wren Witness']);
    const signed = ev.filter((e) => e.type === 'STEP_CONFIRMED');
    expect(signed.map((e) => [e.data.personId, e.data.method])).toEqual([['ada', 'typed-name'], ['wren', 'typed-initials']]);
    expect(String(signed[0].data.attestation)).toContain('"Check-in"');
    expect(ev.at(-1)!.type).toBe('CEREMONY_SEALED');
  });

  it('"No" never proceeds: the key is generated once, after the typed token label', () => {
    const paused = root.text.indexOf('Paused: nothing was done');
    expect(paused).toBeGreaterThan(0);
    const generated = root.text.indexOf('── Step 4 of 6');
    expect(generated).toBeGreaterThan(paused);
    expect(root.text.replace(/\s+/g, ' ')).toContain("This cannot be undone: Keyrite will generate a new ec-p384 key on token 'keyrite-demo'.");
    expect(events(bundle).filter((e) => e.type === 'KEY_GENERATED')).toHaveLength(1);
    expect(root.text).toContain('Waiting: the share is not shown until only Cora Custodian is looking.');
    expect(root.text).toContain('The share stays on screen.');
  });

  it('shows each share once in the card\'s column layout, and clears screen and scrollback after it and after the read-back', () => {
    const shown = sharesShown(root.text);
    expect(shown.map((s) => s.index)).toEqual([1, 2]);
    for (const s of shown) expect(s.words).toHaveLength(33);
    // Column-wise like the printed card: the first grid row reads 1, 12, 23.
    expect(root.text).toMatch(/^\s+1\. [a-z]+\s+12\. [a-z]+\s+23\. [a-z]+$/m);
    // After each grid, the screen and scrollback are cleared before anything else is asked.
    for (const header of ['share 1 of 2', 'share 2 of 2']) {
      const at = root.out.indexOf(header);
      const clear = root.out.indexOf(ESC_CLEAR_ALL, at);
      expect(clear).toBeGreaterThan(at);
      expect(root.out.indexOf('enter word', at)).toBeGreaterThan(clear);
    }
    // Read-back words do not stay on screen either: a clear follows the last word typed.
    const lastWord = root.out.lastIndexOf('enter word');
    expect(root.out.indexOf(ESC_CLEAR_ALL, lastWord)).toBeGreaterThan(lastWord);
  });

  it('a mistyped read-back word is named and only that word is asked again', () => {
    const ev = events(bundle);
    const mismatch = ev.filter((e) => e.type === 'ERROR_RECORDED' && e.data.code === 'SHARE_CONFIRM_MISMATCH');
    expect(mismatch).toHaveLength(1);
    expect(root.text).toMatch(/! Word \d+ is not word \d+ of share 1 as it was shown\./);
    expect(ev.filter((e) => e.type === 'SHARE_CONFIRMED')).toHaveLength(2);
    // Three word prompts for share 1 (two, then the wrong one again), two for share 2.
    expect(root.text.match(/Cora Custodian, enter word \d+ of your share:/g)!.length).toBeGreaterThanOrEqual(3);
  });

  it('prints the final hash grouped and its words wrapped on word boundaries', () => {
    const block = root.text.slice(root.text.indexOf('In words:'), root.text.indexOf('Verify with:'));
    const lines = block.split('\n').slice(1).filter((l) => l.trim());
    expect(lines.length).toBeGreaterThan(1);
    for (const l of lines) {
      expect(l.length).toBeLessThanOrEqual(100);
      if (!/Transcript key fingerprint/.test(l)) expect(l.trim()).toMatch(/^[A-Za-z]+( [A-Za-z]+)*$/);
    }
    expect(root.text).toMatch(/Final transcript hash:\n\s+([0-9a-f]{8} ){7}[0-9a-f]{8}/);
  });

  it('Ctrl-C at the parameters starts nothing: no ceremony, no bundle, exit 130 with a coded message', () => {
    const h = tempDir('tty-home-params');
    const out = path.join(tempDir('tty-params'), 'b');
    const r = run([[active('Start with these parameters\\?'), '\x03']], ['ceremony', 'run', path.resolve('test/fixtures/terminal-ceremony.yaml'), '--out', out], h);
    expect(r.status).toBe(130);
    expect(r.text).toMatch(/Ctrl-C at the parameters\)\. Nothing was started[^\n]*\[PROMPT_CANCELLED\]/);
    expect(r.text).not.toMatch(/Ceremony \S+:/);
    expect(existsSync(out)).toBe(false);
  }, 60_000);

  it('Ctrl-C before any share: screen and scrollback cleared, coded message, how to resume', () => {
    const r = run([...CHECK_IN.slice(0, 4), ['full name \\(empty to finish', '\x03']], ['ceremony', 'run', path.resolve('test/fixtures/terminal-ceremony.yaml'), '--out', path.join(tempDir('tty-int'), 'b')], tempDir('tty-home2'));
    expect(r.status).toBe(130);
    const after = r.out.slice(r.out.lastIndexOf(ESC_CLEAR_ALL));
    expect(strip(after)).toMatch(/Stopped by Ctrl-C at step 1 \(Check-in\).*Resume with `keyrite ceremony resume \d{8}-terminal-test-[0-9a-f]+`.*\[CEREMONY_INTERRUPTED\]/s);
    expect(after).not.toContain('VOID');
  }, 60_000);

  it('Ctrl-C while a share is on screen: the words are cleared with the scrollback and the split is declared void', () => {
    const h2 = tempDir('tty-home3');
    const r = run(
      [
        ...CHECK_IN,
        [active('Type your full name or initials to sign'), 'aa\r'],
        ["PIN for token 'keyrite-demo'", '123456\r'],
        [active('Type your full name or initials to sign'), 'Wren Witness\r'],
        [active('Generate the key now\\?'), 'y\r'],
        [active('Type the token label'), 'keyrite-demo\r'],
        ["SO PIN for token 'keyrite-demo'", '12345678\r'],
        ["\\? PIN for token 'keyrite-demo'", '123456\r'],
        ['Make the KEK', '\r'],
        [active('looks away\\.\\s+Ready\\?'), 'y\r'],
        [active('Written down'), '\x03'],
      ],
      ['ceremony', 'run', path.resolve('test/fixtures/terminal-ceremony.yaml'), '--out', path.join(tempDir('tty-int'), 'b')],
      h2,
    );
    expect(r.status, r.text.slice(-1500)).toBe(130);
    const shown = sharesShown(r.text);
    expect(shown).toHaveLength(1);
    const after = strip(r.out.slice(r.out.lastIndexOf(ESC_CLEAR_ALL)));
    // The one line left is the fixed sentence (it may share a word with the share, such as 'split')…
    const line = /^keyrite: Stopped by Ctrl-C[^\n]*$/m;
    expect(after).toMatch(line);
    expect(after.match(line)![0]).toMatch(
      /^keyrite: Stopped by Ctrl-C at step \d+ \([^)]+\); the screen was cleared\. Everything up to the last answer is saved\. A share was handed out, and shares are never stored: this split is now VOID\. Every custodian destroys the share written \(or sealed file received\) in this run; the resumed ceremony makes a new backup with a new split\. Resume with `keyrite ceremony resume [\w-]+`\. \[CEREMONY_INTERRUPTED\]$/,
    );
    // …and nothing else on screen holds a word of the share.
    const rest = after.replace(line, '');
    for (const w of shown[0].words.slice(5)) expect(rest).not.toMatch(new RegExp(`\\b${w}\\b`));
  }, 90_000);

  it('share entry word by word: 4-letter prefixes, "back", a correction by number after the checksum names a problem; destruction needs the key id and token label', () => {
    const shares = sharesShown(root.text);
    const keyId = String(events(bundle).find((e) => e.type === 'KEY_GENERATED')!.data.keyId);
    const backup = path.join(bundle, 'backup', readdirSync(path.join(bundle, 'backup'))[0]);
    const [a, b] = shares.map((s) => s.words);
    const other = (w: string) => WORDS.find((x) => x !== w && x.slice(0, 4) !== w.slice(0, 4))!;
    const entry: Rules = [];
    a.forEach((w, i) => {
      const n = i + 1;
      if (n === 5) {
        entry.push([active(`Word 5 of 33:`), `${other(w)}\r`]);
        entry.push([active(`Word 6 of 33:`), 'back\r']);
      }
      entry.push([active(`Word ${n} of 33:`), `${n === 10 ? other(w) : w.slice(0, 4)}\r`]);
    });
    entry.push([active('Number of the word to correct:'), '10\r']);
    entry.push([active('Word 10 \\(now'), `${a[9]}\r`]);
    entry.push([active('Enter to submit the share'), '\r']);
    b.forEach((w, i) => entry.push([active(`Word ${i + 1} of 33:`), `${w}\r`]));
    entry.push([active('Enter to submit the share'), '\r']);
    const out = path.join(tempDir('tty-drill'), 'b');
    const rules: Rules = [
      ...CHECK_IN,
      ["PIN for token 'keyrite-demo'", '123456\r'],
      ...entry,
      [active('Destroy \\S+ now\\?'), '\r'],
      ['Paused: nothing was done[\\s\\S]*Destroy \\S+ now\\?', 'y\r'],
      [active(`Type the key id \\(${keyId}\\)`), `${keyId}\r`],
      [active('Type the token label \\(keyrite-demo\\)'), 'keyrite-demo\r'],
      [active('Type your full name or initials to sign'), 'Wren Witness\r'],
      ['Seal the transcript', '\r'],
    ];
    const r = run(rules, ['ceremony', 'run', path.resolve('test/fixtures/terminal-drill.yaml'), '--backup', backup, '--param', `keyId=${keyId}`, '--out', out], home);
    expect(r.answered, r.text.slice(-2500)).toContain(`answered ${rules.length} of ${rules.length} prompts`);
    expect(r.status, r.text.slice(-2500)).toBe(0);
    expect(r.text).toContain('[SHARE_CHECKSUM]');
    expect(r.text.replace(/\s+/g, ' ')).toContain(`This cannot be undone: Keyrite will DESTROY key ${keyId} on token 'keyrite-demo'.`);
    const ev = events(out);
    expect(ev.filter((e) => e.type === 'SHARE_ACCEPTED').map((e) => e.data.index)).toEqual([1, 2]);
    expect(ev.filter((e) => e.type === 'SHARE_REJECTED')).toHaveLength(0);
    expect(ev.filter((e) => e.type === 'KEY_DESTROYED').map((e) => e.data.keyId)).toEqual([keyId]);
    // Typed share words are cleared from the screen (and scrollback) once each share is submitted.
    const lastPrompt = r.out.lastIndexOf('Enter to submit the share');
    expect(r.out.indexOf(ESC_CLEAR_ALL, lastPrompt)).toBeGreaterThan(lastPrompt);
  }, 180_000);

  // After the drill above (it destroyed the key, so this one stops before that step).
  it('shares pasted several words to a line, one line refused for a mistyped word: no run of their words in any file written, nor on the screen left behind', () => {
    const [a, b] = sharesShown(root.text).map((s) => s.words);
    const keyId = String(events(bundle).find((e) => e.type === 'KEY_GENERATED')!.data.keyId);
    const backup = path.join(bundle, 'backup', readdirSync(path.join(bundle, 'backup'))[0]);
    const out = path.join(tempDir('tty-paste'), 'b');
    const tmp = tempDir('tty-paste-tmp');
    const line = (w: string[], from: number) => w.slice(from, from + 11).join(' ');
    const typo = [...a.slice(0, 4), 'qqqqz', ...a.slice(5, 11)].join(' ');
    const rules: Rules = [
      ...CHECK_IN,
      ["PIN for token 'keyrite-demo'", '123456\r'],
      // A card's column pasted with one word mistyped: refused whole at its prompt, naming the word by number.
      [active('Word 1 of 33:'), `${typo}\r`],
      ["> Word 5: 'qqqqz' is not a share word", `\x15${line(a, 0)}\r`],
      [active('Word 12 of 33:'), `${line(a, 11)}\r`],
      [active('Word 23 of 33:'), `${line(a, 22)}\r`],
      [active('Enter to submit the share'), '\r'],
      // The whole share pasted on one line.
      [active('Word 1 of 33:'), `${b.join(' ')}\r`],
      [active('Enter to submit the share'), '\r'],
      [active('Destroy \\S+ now\\?'), '\x03'],
    ];
    const r = run(rules, ['ceremony', 'run', path.resolve('test/fixtures/terminal-drill.yaml'), '--backup', backup, '--param', `keyId=${keyId}`, '--out', out], home, { TMPDIR: tmp });
    expect(r.answered, r.text.slice(-2500)).toContain(`answered ${rules.length} of ${rules.length} prompts`);
    expect(r.status, r.text.slice(-1500)).toBe(130);
    // Both shares were accepted (the destruction step came next) and are in the store, as events without words.
    expect(existsSync(path.join(home, 'keyrite.sqlite'))).toBe(true);
    // Every file the run wrote or touched: the store (with its -wal/-journal), the token files, the out folder, TMPDIR.
    expect(scanForSecrets([home, out, tmp], [], { shareWords: a })).toEqual([]);
    expect(scanForSecrets([home, out, tmp], [], { shareWords: b })).toEqual([]);
    const after = strip(r.out.slice(r.out.lastIndexOf(ESC_CLEAR_ALL)));
    for (const w of [a, b]) for (let i = 0; i + 3 <= w.length; i++) expect(after).not.toContain(w.slice(i, i + 3).join(' '));
  }, 120_000);
});
