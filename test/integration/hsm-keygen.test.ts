import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectHsm, type HsmConnection } from '../../src/core/hsm/connect';
import { findKeyPair, generateKeyPair, selfTest } from '../../src/core/hsm/keygen';
import { KEY_TYPES, parseKeyType } from '../../src/core/hsm/key-spec';
import { createTestModule, TEST_MODULES } from '../helpers/modules';

describe.each(TEST_MODULES)('key generation on %s', (moduleName) => {
  const hsm = createTestModule(moduleName, ['keygen']);
  let conn: HsmConnection;

  beforeAll(() => {
    conn = connectHsm(hsm.config('keygen'));
    conn.session.login(hsm.userPin);
  });
  afterAll(() => conn?.close());

  it.each(KEY_TYPES)('%s: generated sensitive and local, self-tested, public key accepted by openssl', (type) => {
    const spec = parseKeyType(type);
    const key = generateKeyPair(conn.session, { spec, label: `kg-${type}` });
    expect(key.attributes).toMatchObject({
      token: true, private: true, sensitive: true, alwaysSensitive: true, extractable: false,
      neverExtractable: true, local: hsm.reportsLocal, sign: true, decrypt: false, unwrap: false, derive: false,
      publicVerify: true, publicEncrypt: false, publicWrap: false,
    });
    expect(key.publicInfo.bits).toBe(spec.bits);
    const results = selfTest(conn.session, key);
    expect(results).toHaveLength(2);

    const dir = mkdtempSync(path.join(os.tmpdir(), 'keyrite-pub-'));
    const pem = path.join(dir, 'pub.pem');
    writeFileSync(pem, key.publicInfo.keyObject.export({ type: 'spki', format: 'pem' }));
    const text = execFileSync('openssl', ['pkey', '-pubin', '-in', pem, '-noout', '-text']).toString();
    expect(text).toContain(spec.algorithm === 'rsa' ? `Public-Key: (${spec.bits} bit)` : `NIST CURVE: ${spec.curve}`);

    // Found again by label, with the same public key.
    const again = findKeyPair(conn.session, `kg-${type}`);
    expect(again.publicInfo.fingerprint).toBe(key.publicInfo.fingerprint);
  });

  it('generates a wrappable-but-sensitive key when asked', () => {
    const key = generateKeyPair(conn.session, { spec: parseKeyType('ec-p384'), label: 'wrappable', wrappable: true });
    expect(key.attributes.extractable).toBe(true);
    expect(key.attributes.sensitive).toBe(true);
    expect(key.attributes.alwaysSensitive).toBe(true);
  });

  it('refuses a second key with a label already on the token', () => {
    generateKeyPair(conn.session, { spec: parseKeyType('ec-p256'), label: 'dup' });
    expect(() => generateKeyPair(conn.session, { spec: parseKeyType('ec-p256'), label: 'dup' })).toThrow(expect.objectContaining({ code: 'HSM_LABEL_EXISTS' }));
  });
});
