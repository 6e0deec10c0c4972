import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findSoftHsmModule } from '../../src/core/hsm/softhsm';
import { buildHandlerTable } from '../../src/main/ipc/handlers';
import { MainServices } from '../../src/main/ipc/services';
import type { ChannelOutput } from '../../src/shared/ipc-contract';
import { createTestHsm } from '../helpers/softhsm';

// settings:testModule loads a module in a child process and lists its tokens (real SoftHSM with
// two tokens), refuses a non-library and a missing file with their codes, and saves nothing.
const hsm = createTestHsm(['probe-alpha', 'probe-beta']);
const home = mkdtempSync(path.join(os.tmpdir(), 'keyrite-testmodule-'));
let services: MainServices;
let nextPick: string | null = null;
const table = () => buildHandlerTable({ services, appVersion: '1', log: () => undefined, pickFile: async () => nextPick });

beforeAll(() => {
  services = new MainServices(home, { KEYRITE_HOME: home, PATH: process.env.PATH }, async () => {
    throw new Error('no engine in this test');
  });
});
afterAll(async () => {
  await services.close();
  rmSync(home, { recursive: true, force: true });
});

const saved = async () => (await (await services.getStore()).all<{ value: string }>("SELECT value FROM settings WHERE name = 'hsm.modulePath'")).length;

describe('Settings: test the module before saving it', () => {
  it('lists the tokens of a real module (labels, serials, model), saving nothing', async () => {
    const r = await table()['settings:testModule']({ modulePath: findSoftHsmModule() });
    if (!r.ok) throw new Error(r.error.message);
    const value = r.value as ChannelOutput<'settings:testModule'>;
    expect(value.manufacturer).toMatch(/SoftHSM/i);
    const labels = value.tokens.map((t) => t.label);
    expect(labels).toEqual(expect.arrayContaining(['probe-alpha', 'probe-beta']));
    for (const t of value.tokens.filter((x) => x.label.startsWith('probe-'))) {
      expect(t.model).toMatch(/SoftHSM/i);
      expect(t.serial).toMatch(/^[0-9a-f]{16}$/);
    }
    expect(hsm.dir).toBeTruthy();
    expect(await saved()).toBe(0);
  }, 30_000);

  it.each([
    ['a file that is not a PKCS#11 library (picked in the dialog)', 'SETTINGS_MODULE_NOT_PKCS11', /did not load as a PKCS#11 module/],
    ['a file that is missing', 'SETTINGS_MODULE_MISSING', /There is no file at/],
    ['a file typed in, not at a known location', 'SETTINGS_MODULE_NOT_ALLOWED', /not a known PKCS#11 module location/],
    ['a relative path', 'SETTINGS_PATH_RELATIVE', /not an absolute path/],
  ])('refuses %s with its code, saving nothing', async (name, code, message) => {
    const dir = path.join(home, 'vendor');
    mkdirSync(dir, { recursive: true });
    let p = path.join(dir, 'libnot-pkcs11.so');
    writeFileSync(p, '\x7fELF but not a library');
    if (name.includes('missing')) p = path.join(dir, 'libgone.so');
    if (name.includes('relative')) p = 'vendor/lib.so';
    nextPick = name.includes('typed') ? null : p;
    const t = table();
    if (nextPick) await t['settings:pickModule']();
    const r = await t['settings:testModule']({ modulePath: p });
    expect(r).toMatchObject({ ok: false, error: { code } });
    expect(r.ok ? '' : r.error.message).toMatch(message);
    expect(await saved()).toBe(0);
  }, 30_000);
});
