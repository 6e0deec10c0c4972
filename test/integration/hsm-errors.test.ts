import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { connectHsm } from '../../src/core/hsm/connect';
import { generateKeyPair } from '../../src/core/hsm/keygen';
import { parseKeyType } from '../../src/core/hsm/key-spec';
import { Pkcs11Module } from '../../src/core/hsm/pkcs11-module';
import { tempDir } from '../helpers/ceremony';
import { faultyPkcs11 } from '../helpers/fault-pkcs11';
import { createTestHsm } from '../helpers/softhsm';
import { runKeyrite } from '../helpers/cli';

const hsm = createTestHsm(['errors', 'locking']);
const opened: Array<{ close(): void }> = [];
afterAll(() => opened.forEach((c) => c.close()));

const cli = (args: string[], env: Record<string, string> = {}) => runKeyrite(args, { env: { KEYRITE_HOME: tempDir('cli-home'), KEYRITE_PKCS11_MODULE: hsm.modulePath, KEYRITE_TOKEN_LABEL: 'errors', ...env } });

describe('PKCS#11 errors a custodian can act on', () => {
  it('wrong PIN: names the token and what it says about attempts left', () => {
    const conn = connectHsm(hsm.config('errors'));
    opened.push(conn);
    expect(() => conn.session.login('999999')).toThrow(expect.objectContaining({ code: 'HSM_PIN_INCORRECT', message: expect.stringMatching(/^Wrong PIN for token 'errors'\. .*attempts/) }));
    conn.session.login(hsm.userPin);
    expect(conn.session.isLoggedIn).toBe('user');
  });

  it('repeated wrong PINs: reports SoftHSM\'s answer each time (SoftHSM never locks) and the right PIN still works', () => {
    const conn = connectHsm(hsm.config('locking'));
    opened.push(conn);
    const codes = new Set<string>();
    for (let i = 0; i < 6; i++) {
      try {
        conn.session.login(`00000${i}`);
      } catch (e) {
        codes.add((e as { code: string }).code);
      }
    }
    // A token that locks would say HSM_PIN_LOCKED; SoftHSM keeps saying the PIN is wrong.
    expect([...codes].every((c) => c === 'HSM_PIN_INCORRECT' || c === 'HSM_PIN_LOCKED')).toBe(true);
    conn.session.login(hsm.userPin);
  });

  it('missing module path, and a file that is not a PKCS#11 module, say which path and why', () => {
    expect(() => Pkcs11Module.open('/nonexistent/libvendor.so')).toThrow(expect.objectContaining({ code: 'HSM_MODULE_MISSING', message: expect.stringContaining('/nonexistent/libvendor.so') }));
    const notModule = path.join(tempDir('notmodule'), 'libfake.so');
    writeFileSync(notModule, 'this is not a shared library');
    expect(() => Pkcs11Module.open(notModule)).toThrow(expect.objectContaining({ code: 'HSM_MODULE_INVALID', message: expect.stringContaining(notModule) }));
    expect(() => Pkcs11Module.open('/usr/lib/x86_64-linux-gnu/libc.so.6')).toThrow(expect.objectContaining({ code: 'HSM_MODULE_INVALID' }));
    expect(() => Pkcs11Module.open(tempDir('dir'))).toThrow(expect.objectContaining({ code: 'HSM_MODULE_INVALID' }));
  });

  it('unknown token label lists the tokens that are present', () => {
    expect(() => connectHsm({ ...hsm.config('errors'), tokenLabel: 'no-such-token' })).toThrow(expect.objectContaining({ code: 'HSM_TOKEN_NOT_FOUND', message: expect.stringMatching(/No token labelled 'no-such-token'.*'errors'/) }));
  });

  it.each(['rsa-1024', 'rsa-8192', 'ec-p192', 'ec-p224', 'dsa-2048', 'ed25519'])('refuses key type %s before touching the HSM', (type) => {
    expect(() => parseKeyType(type)).toThrow(expect.objectContaining({ code: 'KEY_TYPE_UNSUPPORTED' }));
  });

  it('a session closed under an operation gives HSM_SESSION_CLOSED, and the module is still usable', () => {
    const conn = connectHsm(hsm.config('errors'));
    conn.session.login(hsm.userPin);
    conn.module.api.C_CloseSession(conn.session.handle);
    expect(() => generateKeyPair(conn.session, { spec: parseKeyType('ec-p256'), label: 'closed' })).toThrow(expect.objectContaining({ code: 'HSM_SESSION_CLOSED' }));
    conn.close();
    const again = connectHsm(hsm.config('errors'));
    again.session.login(hsm.userPin);
    expect(again.session.random(16)).toHaveLength(16);
    again.close();
  });

  it('a token removed in the middle of key generation: clear message, nothing half-made, retry works', () => {
    const { factory } = faultyPkcs11([{ method: 'C_GenerateKeyPair', ckr: 'CKR_DEVICE_REMOVED' }]);
    // A fresh module instance is needed for the fault wrapper: close every other user first.
    opened.splice(0).forEach((c) => c.close());
    const conn = connectHsm(hsm.config('errors'), { factory });
    try {
      conn.session.login(hsm.userPin);
      expect(() => generateKeyPair(conn.session, { spec: parseKeyType('ec-p384'), label: 'pulled' })).toThrow(expect.objectContaining({ code: 'HSM_TOKEN_NOT_PRESENT', message: expect.stringMatching(/was removed while Keyrite was trying to generate a key pair\. Insert it and retry this step/) }));
      expect(conn.session.find({ label: 'pulled' })).toHaveLength(0);
      const key = generateKeyPair(conn.session, { spec: parseKeyType('ec-p384'), label: 'pulled' });
      expect(key.attributes.sensitive).toBe(true);
    } finally {
      conn.close();
    }
  });
});

describe('keyrite hsm CLI', () => {
  it('hsm info lists the module, the token and the mechanisms Keyrite needs', () => {
    const r = cli(['hsm', 'info']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain("token 'errors'");
    expect(r.stdout).toMatch(/yes\s+CKM_AES_KEY_WRAP_PAD/);
    expect(r.stdout).toMatch(/yes\s+CKM_ECDSA/);
  });

  it('hsm info on the embedded demo token creates it on first use', () => {
    const home = tempDir('demo-home');
    const r = runKeyrite(['hsm', 'info'], { env: { KEYRITE_HOME: home, KEYRITE_PKCS11_MODULE: '', KEYRITE_TOKEN_LABEL: '' } });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain("token 'keyrite-demo'  <- selected");
  });

  it('hsm keygen generates and self-tests; errors are one line on stderr with a non-zero exit', () => {
    const ok = cli(['hsm', 'keygen', '--type', 'ec-p256', '--label', 'cli-key'], { KEYRITE_PIN: hsm.userPin });
    expect(ok.status, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/Self-test passed/);
    const weak = cli(['hsm', 'keygen', '--type', 'rsa-1024', '--label', 'x'], { KEYRITE_PIN: hsm.userPin });
    expect(weak.status).not.toBe(0);
    expect(weak.stderr.trim().split('\n')).toHaveLength(1);
    expect(weak.stderr).toContain('KEY_TYPE_UNSUPPORTED');
    const wrongPin = cli(['hsm', 'keygen', '--type', 'ec-p256', '--label', 'y'], { KEYRITE_PIN: '111111' });
    expect(wrongPin.status).not.toBe(0);
    expect(wrongPin.stderr).toMatch(/Wrong PIN for token 'errors'/);
    expect(wrongPin.stderr).not.toContain('111111');
    const badModule = cli(['hsm', 'info'], { KEYRITE_PKCS11_MODULE: '/opt/none/lib.so' });
    expect(badModule.status).not.toBe(0);
    expect(badModule.stderr).toContain("'/opt/none/lib.so' does not exist");
    const noPin = runKeyrite(['hsm', 'keygen', '--type', 'ec-p256', '--label', 'z'], { env: { KEYRITE_HOME: tempDir('h'), KEYRITE_PKCS11_MODULE: hsm.modulePath, KEYRITE_TOKEN_LABEL: 'errors', KEYRITE_PIN: '' } });
    expect(noPin.status).not.toBe(0);
    expect(noPin.stderr).toContain('PIN_REQUIRED');
  });
});
