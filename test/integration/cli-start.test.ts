import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { directVerifyArgs } from '../../src/cli/fast-path';
import { allHelpPages } from '../../src/cli/help-pages';
import { buildProgram, GROUPS } from '../../src/cli/program';

function keyrite(args: string[]): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(process.execPath, ['bin/keyrite.mjs', ...args], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, KEYRITE_VERSION: undefined } });
}

/** What commander itself prints for `keyrite …args` (the slow path the fast path stands in for). */
async function commanderOutput(args: string[]): Promise<string> {
  const wanted = args.find((a) => !a.startsWith('-') && a !== 'help') ?? args[1];
  const program = await buildProgram(wanted && wanted in GROUPS ? [wanted] : Object.keys(GROUPS));
  let out = '';
  const capture = (cmd: typeof program): void => {
    cmd.configureOutput({ writeOut: (s) => void (out += s), writeErr: (s) => void (out += s) });
    for (const sub of cmd.commands) capture(sub);
  };
  capture(program);
  await program.parseAsync(['node', 'keyrite', ...args]).catch(() => undefined);
  return out;
}

describe('keyrite start-up fast path', () => {
  it('--version prints the version from package.json', () => {
    const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
    const r = keyrite(['--version']);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(version + '\n');
    expect(keyrite(['-V']).stdout).toBe(version + '\n');
  });

  it('the built help pages are the current program\'s, one per command', async () => {
    const built = JSON.parse(readFileSync('out/cli/help.json', 'utf8')) as Record<string, string>;
    const pages = await allHelpPages();
    expect(built).toEqual(pages);
    expect(Object.keys(pages)).toEqual(expect.arrayContaining(['', 'verify', 'ceremony', 'ceremony run', 'hsm info', 'share check']));
  });

  it.each([[['--help']], [['-h']], [['help']], [['verify', '--help']], [['ceremony', 'run', '--help']], [['help', 'ceremony']], [['inventory', 'check', '-h']]])(
    'keyrite %j prints exactly what commander prints',
    async (args) => {
      const r = keyrite(args);
      expect(r.status).toBe(0);
      expect(r.stderr).toBe('');
      expect(r.stdout).toBe(await commanderOutput(args));
    },
  );

  it('anything else still goes to commander: an unknown command is refused with the list of commands', () => {
    const r = keyrite(['frobnicate']);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain("unknown command 'frobnicate'");
    const bad = keyrite(['verify', '--nope']);
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toContain("unknown option '--nope'");
  });
});

describe('keyrite verify without commander', () => {
  it.each([
    ['verify B', ['verify', 'B'], { bundle: 'B', json: false }],
    ['verify --json B', ['verify', '--json', 'B'], { bundle: 'B', json: true }],
    ['verify B --json', ['verify', 'B', '--json'], { bundle: 'B', json: true }],
    ['a bundle named with spaces', ['verify', 'my bundle'], { bundle: 'my bundle', json: false }],
    ['no bundle', ['verify'], null],
    ['two bundles', ['verify', 'A', 'B'], null],
    ['--json twice', ['verify', '--json', '--json', 'B'], null],
    ['another option', ['verify', '--nope', 'B'], null],
    ['help', ['verify', 'B', '--help'], null],
    ['a bundle named like an option', ['verify', '-B'], null],
    ['the end of options', ['verify', '--', 'B'], null],
    ['an empty name', ['verify', ''], null],
    ['a global option first', ['--token', 't', 'verify', 'B'], null],
    ['another command', ['share', 'check'], null],
  ])('%s', (_name, args, expected) => {
    expect(directVerifyArgs(args)).toEqual(expected);
  });

  const work = mkdtempSync(path.join(os.tmpdir(), 'keyrite-verify-direct-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));
  const empty = path.join(work, 'empty');
  const unsealed = path.join(work, 'unsealed');
  mkdirSync(empty);
  mkdirSync(unsealed);
  writeFileSync(path.join(unsealed, 'transcript.jsonl'), '{"not":"an event"}\n');

  it.each([[path.join(work, 'missing')], [empty], [unsealed]])('answers %s exactly as commander does (`verify -- B` goes through commander)', (dir) => {
    for (const json of [[], ['--json']]) {
      const direct = keyrite(['verify', ...json, dir]);
      const viaCommander = keyrite(['verify', ...json, '--', dir]);
      expect(direct.status).toBe(1);
      expect({ status: direct.status, stdout: direct.stdout, stderr: direct.stderr }).toEqual({ status: viaCommander.status, stdout: viaCommander.stdout, stderr: viaCommander.stderr });
    }
  });
});
