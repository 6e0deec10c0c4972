import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CHANNELS } from '../../src/shared/ipc-contract';
import { APP_ENTRY, CONTENT_SECURITY_POLICY } from '../../src/main/security';
import { ROOT } from './helpers/harness';

// The built main-process bundle (what Electron runs), loaded under Node with `electron` stubbed:
// it must load, register every channel, serve the built renderer over app:// with the CSP, and
// answer through the real core (the bundled resources and native modules are found).
const home = mkdtempSync(path.join(os.tmpdir(), 'keyrite-bundle-'));
afterAll(() => rmSync(home, { recursive: true, force: true }));

describe('out/main/index.js', () => {
  it('loads, wires every channel, serves app:// with the CSP, and reaches the core', () => {
    const out = execFileSync(process.execPath, [path.join(__dirname, 'fixtures/electron-stub.cjs'), path.join(ROOT, 'out/main/index.js')], {
      env: { ...process.env, KEYRITE_HOME: home, KEYRITE_PKCS11_MODULE: '', KEYRITE_TOKEN_LABEL: '' },
      encoding: 'utf8',
      timeout: 60_000,
    });
    const r = JSON.parse(out.trim().split('\n').pop()!);
    expect([...r.channels].sort()).toEqual([...CHANNELS].sort());
    expect(r.url).toBe(APP_ENTRY);
    expect(r.info).toMatchObject({ ok: true, value: { version: '0.0.0-bundle', home, hsm: { demo: true, tokenLabel: 'keyrite-demo' } } });
    expect(r.scripts).toEqual(expect.arrayContaining(['root-key-generation', 'backup-recovery-drill']));
    expect(r.page.status).toBe(200);
    expect(r.page.csp).toBe(CONTENT_SECURITY_POLICY);
    expect(r.page.html).toContain('<title>Keyrite</title>');
  });

  it('has the test-only switches compiled out and turns core dumps off first thing', () => {
    const main = readFileSync(path.join(ROOT, 'out/main/index.js'), 'utf8');
    expect(main).not.toContain('KEYRITE_FAULT_KILL_AT');
    expect(main).toContain('--core=0:0');
  });
});
