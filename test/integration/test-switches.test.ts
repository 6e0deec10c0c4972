import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { TEST_BUILD_CLI, tempDir } from '../helpers/ceremony';

/**
 * Test-only switches are not in the shipped code path: KEYRITE_FAULT_KILL_AT (the crash-test
 * seam) is compiled out of the shipped CLI bundle, which then ignores it, while the test build
 * (out/cli-test) — the control — still has it and dies where it says.
 */
const files = (dir: string): string[] => readdirSync(dir, { recursive: true, encoding: 'utf8' }).map((f) => path.join(dir, f)).filter((f) => /\.(mjs|js|map)$/.test(f));

function run(cli: string, home: string, out: string, step: string) {
  return spawnSync(process.execPath, [cli, 'ceremony', 'run', 'root-key-generation', '--demo', '--out', out], {
    env: { ...process.env, KEYRITE_HOME: home, KEYRITE_PKCS11_MODULE: '', KEYRITE_TOKEN_LABEL: '', KEYRITE_PIN: '', KEYRITE_FAULT_KILL_AT: step },
    encoding: 'utf8',
    timeout: 120_000,
  });
}

describe('test-only switches', () => {
  it('are absent from every file of the shipped CLI bundle and present in the test build', () => {
    const shipped = files('out/cli');
    expect(shipped.length).toBeGreaterThan(3);
    expect(shipped.filter((f) => readFileSync(f, 'utf8').includes('KEYRITE_FAULT_KILL_AT'))).toEqual([]);
    expect(files(path.dirname(TEST_BUILD_CLI)).some((f) => readFileSync(f, 'utf8').includes('KEYRITE_FAULT_KILL_AT'))).toBe(true);
  });

  it('the shipped CLI ignores KEYRITE_FAULT_KILL_AT and finishes; the test build dies at that step', () => {
    const home = tempDir('switch-home');
    const shipped = run('bin/keyrite.mjs', home, path.join(tempDir('switch-out'), 'b'), 'generate-key');
    expect(shipped.signal).toBeNull();
    expect(shipped.status, shipped.stderr).toBe(0);
    expect(shipped.stdout).toContain('sealed');
    const test = run(TEST_BUILD_CLI, home, path.join(tempDir('switch-out'), 'b'), 'generate-key');
    expect(test.signal).toBe('SIGKILL');
  }, 240_000);
});
