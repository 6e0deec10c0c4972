import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { connectHsm } from '../../src/core/hsm/connect';
import { Pkcs11Module } from '../../src/core/hsm/pkcs11-module';
import { loadHsmProfiles, profileForModule } from '../../src/core/hsm/profile';
import { findToken, initToken, listTokens } from '../../src/core/hsm/token';
import { resolveResource } from '../../src/core/config/resources';
import { tempDir } from '../helpers/ceremony';
import { createTestNss } from '../helpers/nss';
import { createTestHsm } from '../helpers/softhsm';

const hsm = createTestHsm(['twin', 'twin', 'solo']);
const nss = createTestNss(['nss-a', 'nss-b']);
const opened: Array<{ close(): void }> = [];
afterAll(() => opened.forEach((c) => c.close()));

function cli(args: string[], env: Record<string, string | undefined>) {
  const base: Record<string, string | undefined> = { ...process.env, KEYRITE_HOME: tempDir('cli-home'), KEYRITE_PKCS11_MODULE: undefined, KEYRITE_TOKEN_LABEL: undefined, KEYRITE_TOKEN_URI: undefined, KEYRITE_PKCS11_INIT_ARGS: undefined };
  return spawnSync(process.execPath, ['bin/keyrite.mjs', ...args], { env: { ...base, ...env } as NodeJS.ProcessEnv, encoding: 'utf8' });
}

describe('module profiles (resources/hsm-profiles)', () => {
  it('every shipped profile is valid; modules are matched by library file name, others get the generic profile', () => {
    const all = loadHsmProfiles();
    expect(all.map((p) => p.name).sort()).toEqual(['generic', 'nss-softokn', 'softhsm', 'tpm2-pkcs11']);
    expect(profileForModule(hsm.modulePath, all)).toMatchObject({ name: 'softhsm', rfc5649Mechanisms: ['CKM_AES_KEY_WRAP_KWP', 'CKM_AES_KEY_WRAP_PAD'] });
    expect(profileForModule(nss.modulePath, all)).toMatchObject({ name: 'nss-softokn', rfc5649Mechanisms: ['CKM_AES_KEY_WRAP_KWP'], soPinSettable: false, fixedTokenLabel: 'NSS Certificate DB', unwrapAttributes: [{ name: 'CKA_NSS_DB', type: 0xd5a0db00 }] });
    expect(profileForModule('/opt/vendor/libcs_pkcs11_R3.so', all)).toMatchObject({ name: 'generic', rfc5649Mechanisms: ['CKM_AES_KEY_WRAP_KWP'] });
  });

  it('a broken profile is refused with its file, line and field', () => {
    const dir = tempDir('profiles');
    writeFileSync(path.join(dir, 'generic.yaml'), readGeneric());
    writeFileSync(path.join(dir, 'acme.yaml'), readGeneric().replace('name: generic', 'name: acme').replace('rfc5649Mechanisms: [CKM_AES_KEY_WRAP_KWP]', 'rfc5649Mechanisms: [CKM_AES_KEY_WRAP]'));
    expect(() => loadHsmProfiles(dir)).toThrow(expect.objectContaining({ code: 'HSM_PROFILE_INVALID', message: expect.stringMatching(/acme\.yaml:\d+ is invalid at rfc5649Mechanisms\[0\]/) }));
    writeFileSync(path.join(dir, 'acme.yaml'), readGeneric());
    expect(() => loadHsmProfiles(dir)).toThrow(expect.objectContaining({ code: 'HSM_PROFILE_INVALID', message: expect.stringContaining("named 'generic'") }));
  });
});

function readGeneric(): string {
  return readFileSync(resolveResource('hsm-profiles/generic.yaml'), 'utf8');
}

describe('module initialisation arguments (NSS softokn)', () => {
  it('HSM_MODULE_INIT_ARGS_MISSING: NSS without its arguments is refused before it is loaded, with an example', () => {
    expect(() => connectHsm({ modulePath: nss.modulePath, tokenLabel: 'nss-a', demo: false })).toThrow(expect.objectContaining({
      code: 'HSM_MODULE_INIT_ARGS_MISSING', message: expect.stringContaining("KEYRITE_PKCS11_INIT_ARGS (or the module arguments in the settings), for example: configdir='sql:"),
    }));
  });

  it('HSM_MODULE_INIT_FAILED: arguments naming a missing database say which setting to check', () => {
    const r = cli(['hsm', 'info'], { KEYRITE_PKCS11_MODULE: nss.modulePath, KEYRITE_TOKEN_LABEL: 'nss-a', KEYRITE_PKCS11_INIT_ARGS: "configdir='sql:/nonexistent/keyrite' certPrefix='' keyPrefix='' secmod='secmod.db' flags=" });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/failed to initialize \(CKR_VENDOR_DEFINED.*Check the initialisation arguments in KEYRITE_PKCS11_INIT_ARGS.*\[HSM_MODULE_INIT_FAILED\]/);
  });

  it('HSM_MODULE_INIT_CONFLICT: one process cannot initialize a module twice with different arguments', () => {
    const a = connectHsm(nss.config('nss-a'));
    opened.push(a);
    expect(() => Pkcs11Module.open(nss.modulePath, { initArgs: `${nss.initArgs} ` })).toThrow(expect.objectContaining({ code: 'HSM_MODULE_INIT_CONFLICT' }));
    const b = connectHsm(nss.config('nss-b')); // same arguments: shares the loaded module
    opened.push(b);
    expect(b.session.token.label).toBe('nss-b');
  });

  it('keyrite hsm info --module-args --token URI: NSS profile, both databases as tokens, the chosen one marked', () => {
    const r = cli(['--module-args', nss.initArgs, 'hsm', 'info', '--token', `pkcs11:token=nss-b?module-path=${nss.modulePath}`], {});
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('module profile: nss-softokn');
    expect(r.stdout).toContain("token 'nss-b'  <- selected");
    expect(r.stdout).toContain("token 'nss-a'\n");
    expect(r.stdout).toMatch(/yes\s+CKM_AES_KEY_WRAP_KWP/);
    expect(r.stdout).toContain(`uri: pkcs11:model=NSS%203;manufacturer=Mozilla%20Foundation;serial=0000000000000000;token=nss-b?module-path=${nss.modulePath}`);
  });
});

describe('several processes on one NSS database at once', () => {
  it('four keyrite processes generate keys in the same NSS token concurrently; all keys are there afterwards', async () => {
    const { spawn } = await import('node:child_process');
    const run = (label: string): Promise<{ code: number | null; stderr: string }> => new Promise((resolve) => {
      const child = spawn(process.execPath, ['bin/keyrite.mjs', '--module-args', nss.initArgs, '--token', `pkcs11:token=nss-b?module-path=${nss.modulePath}`, 'hsm', 'keygen', '--type', 'ec-p256', '--label', label], {
        env: { ...process.env, KEYRITE_HOME: tempDir('cli-home'), KEYRITE_PIN: nss.userPin, KEYRITE_PKCS11_MODULE: '', KEYRITE_TOKEN_LABEL: '', KEYRITE_TOKEN_URI: '', KEYRITE_PKCS11_INIT_ARGS: '' },
      });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('close', (code) => resolve({ code, stderr }));
    });
    const labels = ['p1', 'p2', 'p3', 'p4'];
    const results = await Promise.all(labels.map(run));
    expect(results.map((r) => r.code), results.map((r) => r.stderr).join('\n')).toEqual([0, 0, 0, 0]);
    const conn = connectHsm(nss.config('nss-b'));
    opened.push(conn);
    conn.session.login(nss.userPin);
    for (const label of labels) expect(conn.session.find({ class: 'private', label })).toHaveLength(1);
  }, 60_000);
});

describe('token selection by serial (PKCS#11 URI)', () => {
  it('two tokens with one label are ambiguous by label and told apart by serial', () => {
    const module = Pkcs11Module.open(hsm.modulePath);
    opened.push(module);
    const twins = listTokens(module).filter((t) => t.label === 'twin');
    expect(twins).toHaveLength(2);
    expect(() => findToken(module, 'twin')).toThrow(expect.objectContaining({ code: 'HSM_TOKEN_AMBIGUOUS', message: expect.stringContaining('a PKCS#11 URI with token= and serial=') }));
    expect(findToken(module, { label: 'twin', serial: twins[1].serial }).slotId).toBe(twins[1].slotId);
    expect(findToken(module, { label: '', serial: twins[0].serial, model: 'SoftHSM v2' }).slotId).toBe(twins[0].slotId);
    expect(() => findToken(module, { label: 'twin', serial: 'nope' })).toThrow(expect.objectContaining({ code: 'HSM_TOKEN_NOT_FOUND', message: expect.stringContaining("No token labelled 'twin' with serial 'nope'") }));
  });

  it('keyrite hsm info with KEYRITE_TOKEN_URI selects by serial alone', () => {
    const module = Pkcs11Module.open(hsm.modulePath);
    opened.push(module);
    const twin = listTokens(module).filter((t) => t.label === 'twin')[1];
    const r = cli(['hsm', 'info', '--json'], { SOFTHSM2_CONF: hsm.conf, KEYRITE_TOKEN_URI: `pkcs11:serial=${twin.serial}?module-path=${hsm.modulePath}` });
    expect(r.status, r.stderr).toBe(0);
    const d = JSON.parse(r.stdout) as { selectedBy: string; tokens: Array<{ serial: string; selected: boolean; label: string }> };
    expect(d.selectedBy).toBe(`with serial '${twin.serial}'`);
    expect(d.tokens.filter((t) => t.selected).map((t) => t.serial)).toEqual([twin.serial]);
  });

  it('a bad URI is one line naming the problem', () => {
    const r = cli(['--token', 'pkcs11:token=solo;pin-value=246810', 'hsm', 'info'], { SOFTHSM2_CONF: hsm.conf, KEYRITE_PKCS11_MODULE: hsm.modulePath });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/carries a PIN \(pin-value\).*\[HSM_URI_INVALID\]/);
    expect(r.stderr).not.toContain('246810');
  });
});

describe('C_InitToken pads the label to 32 bytes', () => {
  it('a token initialized through Keyrite reports exactly its label (spaces, not NULs)', () => {
    const module = Pkcs11Module.open(hsm.modulePath);
    opened.push(module);
    const free = listTokens(module).find((t) => t.present && !t.flags.tokenInitialized)!;
    initToken(module, free.slot, hsm.soPin, 'Chloé root 2026');
    const raw = module.api.C_GetTokenInfo(free.slot).label;
    expect(Buffer.byteLength(raw)).toBe(32);
    expect(raw).toBe('Chloé root 2026' + ' '.repeat(32 - Buffer.byteLength('Chloé root 2026')));
    expect(findToken(module, 'Chloé root 2026').slotId).toBe(free.slotId);
  });
});
