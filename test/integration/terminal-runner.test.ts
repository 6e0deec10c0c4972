import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/ceremony';

/**
 * The interactive terminal runner, driven through a real pseudo-terminal the way a person types:
 * names and roles at check-in, the PIN at a no-echo prompt, sign-offs, a share shown to one
 * custodian and the words it asks back. Runs on the embedded demo token.
 */
const person = (name: string, role: string): Array<[string, string]> => [
  ['full name \\(empty to finish\\)', `${name}\r`],
  ['Short id', '\r'],
  ['Roles, comma-separated', `${role}\r`],
];
const handout: Array<[string, string]> = [
  ['looks away\\.\\s+Ready\\?', '\r'],
  ['Written down\\?', '\r'],
  // Only the active prompt ('? …'), not the answered one ('✔ …') still on screen.
  ['\\?\\s[^\\n]*enter word \\d+ of your share:', '{asked}\r'],
  ['\\?\\s[^\\n]*enter word \\d+ of your share:', '{asked}\r'],
];

describe('keyrite ceremony run in a terminal', () => {
  it('asks for everything a ceremony needs, never echoes the PIN, shows each share once, and seals', () => {
    const home = tempDir('tty-home');
    const out = path.join(tempDir('tty-out'), 'bundle');
    const rules: Array<[string, string]> = [
      ...person('Ada Admin', 'admin'),
      ...person('Otto Officer', 'officer'),
      ...person('Cora Custodian', 'custodian'),
      ...person('Carl Custodian', 'custodian'),
      ...person('Wren Witness', 'witness'),
      ['full name \\(empty to finish\\)', '\r'],
      ['Who confirms\\?', '\r'],
      ["PIN for token 'keyrite-demo'", '123456\r'],
      ['Who confirms\\?', '\r'],
      ['Generate the ec-p256 key', '\r'],
      ['Make the KEK', '\r'],
      ...handout,
      ...handout,
      ['Seal the transcript', '\r'],
    ];
    const rulesFile = path.join(tempDir('tty-rules'), 'rules.json');
    writeFileSync(rulesFile, JSON.stringify(rules));
    const script = path.resolve('test/fixtures/terminal-ceremony.yaml');
    const r = spawnSync('python3', ['test/helpers/pty-driver.py', rulesFile, '--', process.execPath, 'bin/keyrite.mjs', 'ceremony', 'run', script, '--out', out], {
      env: { ...process.env, KEYRITE_HOME: home, KEYRITE_PKCS11_MODULE: '', KEYRITE_TOKEN_LABEL: '', KEYRITE_PIN: '', CI: '', TERM: 'xterm' },
      encoding: 'utf8',
      timeout: 150_000,
    });
    expect(r.stderr, r.stdout.slice(-1500)).toContain(`answered ${rules.length} of ${rules.length} prompts`);
    expect(r.status, r.stdout.slice(-2000)).toBe(0);
    expect(r.stdout).toMatch(/sealed\. Bundle: /);
    // The PIN was typed at a no-echo prompt: it appears nowhere in what the terminal showed.
    expect(r.stdout).not.toContain('123456');
    // The screen was cleared after each share was written down.
    // eslint-disable-next-line no-control-regex -- ESC[2J is the clear-screen sequence we look for
    expect(r.stdout.match(/\x1b\[2J/g)?.length).toBe(2);
    const events = readFileSync(path.join(out, 'transcript.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { type: string; data: Record<string, unknown> });
    expect(events.filter((e) => e.type === 'PARTICIPANT_CHECKED_IN').map((e) => e.data.name)).toEqual(['Ada Admin', 'Otto Officer', 'Cora Custodian', 'Carl Custodian', 'Wren Witness']);
    expect(events.filter((e) => e.type === 'SHARE_CONFIRMED')).toHaveLength(2);
    expect(events.at(-1)!.type).toBe('CEREMONY_SEALED');
  });
});
