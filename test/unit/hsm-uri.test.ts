import fc from 'fast-check';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveHsmConfig } from '../../src/core/hsm/config';
import { formatPkcs11Uri, parsePkcs11Uri } from '../../src/core/hsm/pkcs11-uri';
import { padTokenLabel } from '../../src/core/hsm/token';

describe('PKCS#11 URIs (RFC 7512)', () => {
  it.each([
    ['pkcs11:token=Root%20CA;serial=4a1b2c3d', { token: 'Root CA', serial: '4a1b2c3d' }],
    ['pkcs11:model=SoftHSM%20v2;manufacturer=SoftHSM%20project;serial=0123;token=t?module-path=/usr/lib/softhsm/libsofthsm2.so', { model: 'SoftHSM v2', manufacturer: 'SoftHSM project', serial: '0123', token: 't', modulePath: '/usr/lib/softhsm/libsofthsm2.so' }],
    // step-kms-plugin puts module-path in the path part.
    ['pkcs11:module-path=/usr/lib/x86_64-linux-gnu/libsoftokn3.so;token=NSS%20Certificate%20DB', { modulePath: '/usr/lib/x86_64-linux-gnu/libsoftokn3.so', token: 'NSS Certificate DB' }],
    ['PKCS11:serial=1', { serial: '1' }],
    ['pkcs11:token=SmartCard-HSM%20(UserPIN);x-vendor=1?module-name=opensc-pkcs11', { token: 'SmartCard-HSM (UserPIN)' }],
  ])('%s', (uri, expected) => {
    expect(parsePkcs11Uri(uri)).toEqual(expected);
  });

  it.each([
    ['token=x', 'does not start with "pkcs11:"'],
    ['pkcs11:', 'names no token'],
    ['pkcs11:module-path=/usr/lib/x.so', 'names no token'],
    ['pkcs11:token=a;pin-value=123456', 'carries a PIN'],
    ['pkcs11:token=a?pin-source=file:/tmp/pin', 'carries a PIN'],
    ['pkcs11:token=a;object=root', "selects 'object'"],
    ['pkcs11:token=a;slot-id=3', "selects 'slot-id'"],
    ['pkcs11:token=a;colour=blue', "unknown attribute 'colour'"],
    ['pkcs11:token=a;token=b', "gives 'token' twice"],
    ['pkcs11:token=', "gives an empty 'token'"],
    ['pkcs11:token=%zz', 'broken percent-escape'],
    ['pkcs11:token=%ff', 'not valid UTF-8'],
    ['pkcs11:serial=12345678901234567', 'PKCS#11 allows at most 16'],
    ['pkcs11:token=x?module-path=lib/x.so', 'not an absolute path'],
    ['pkcs11:token', "where an attribute=value pair belongs"],
  ])('refuses %s', (uri, text) => {
    expect(() => parsePkcs11Uri(uri)).toThrow(expect.objectContaining({ code: 'HSM_URI_INVALID', message: expect.stringContaining(text) }));
  });

  it('never echoes a PIN in the message', () => {
    try {
      parsePkcs11Uri('pkcs11:token=a;pin-value=987654');
      expect.unreachable();
    } catch (e) {
      expect((e as Error).message).not.toContain('987654');
    }
  });

  it('format and parse are inverse for any label, serial and model that fit PKCS#11 (property, seeded)', () => {
    const field = (max: number) => fc.string({ minLength: 1, maxLength: max, unit: 'grapheme' }).filter((s) => Buffer.byteLength(s) <= max);
    fc.assert(
      fc.property(field(32), field(16), field(16), (token, serial, model) => {
        const uri = formatPkcs11Uri({ token, serial, model, modulePath: '/opt/hsm/lib pkcs11;v2.so' });
        expect(parsePkcs11Uri(uri)).toEqual({ token, serial, model, modulePath: '/opt/hsm/lib pkcs11;v2.so' });
      }),
      { seed: 0x19, numRuns: 500 },
    );
  });
});

describe('HSM config from the environment', () => {
  const lib = path.join(mkdtempSync(path.join(os.tmpdir(), 'keyrite-uri-')), 'libvendor.so');
  writeFileSync(lib, '');

  it('KEYRITE_TOKEN_URI selects by serial and model, with its module and init arguments', () => {
    const c = resolveHsmConfig({ KEYRITE_TOKEN_URI: `pkcs11:serial=abc;model=M?module-path=${lib}`, KEYRITE_PKCS11_INIT_ARGS: "configdir='sql:/x'" }, {});
    expect(c).toEqual({ modulePath: lib, tokenLabel: '', token: { serial: 'abc', model: 'M' }, initArgs: "configdir='sql:/x'", demo: false });
  });

  it('a URI in KEYRITE_TOKEN_LABEL or the settings works the same; the module setting fills a URI without module-path', () => {
    expect(resolveHsmConfig({ KEYRITE_TOKEN_LABEL: 'pkcs11:token=t;serial=1', KEYRITE_PKCS11_MODULE: lib }, {})).toMatchObject({ modulePath: lib, tokenLabel: 't', token: { serial: '1' } });
    expect(resolveHsmConfig({}, { modulePath: lib, tokenLabel: 'pkcs11:token=s', initArgs: 'a=b' })).toMatchObject({ modulePath: lib, tokenLabel: 's', initArgs: 'a=b' });
  });

  it('init arguments from the environment win over the settings', () => {
    expect(resolveHsmConfig({ KEYRITE_PKCS11_MODULE: lib, KEYRITE_PKCS11_INIT_ARGS: 'env' }, { initArgs: 'saved' }).initArgs).toBe('env');
  });
});

describe('token labels for C_InitToken', () => {
  it.each([
    ['root', 'root' + ' '.repeat(28)],
    ['x'.repeat(32), 'x'.repeat(32)],
    ['Chloé', 'Chloé' + ' '.repeat(26)], // 6 bytes of UTF-8
  ])('%s is padded with spaces to 32 bytes', (label, padded) => {
    expect(padTokenLabel(label)).toBe(padded);
    expect(Buffer.byteLength(padTokenLabel(label))).toBe(32);
  });

  it.each([
    ['', '1 to 32 bytes'],
    ['x'.repeat(33), 'is 33'],
    ['é'.repeat(17), 'is 34'],
    ['trailing ', 'ends in spaces'],
  ])('refuses %j', (label, text) => {
    expect(() => padTokenLabel(label)).toThrow(expect.objectContaining({ code: 'HSM_TOKEN_LABEL_INVALID', message: expect.stringContaining(text) }));
  });
});
