import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CeremonyService } from '../../src/core/ceremony/service';
import { KeyriteError } from '../../src/core/errors';
import { connectHsm, type HsmConnection } from '../../src/core/hsm/connect';
import { findKeyPair } from '../../src/core/hsm/keygen';
import { pkcs11js } from '../../src/core/hsm/pkcs11js';
import { attrBool } from '../../src/core/hsm/session';
import { loadPolicy, parsePolicy } from '../../src/core/policy';
import { verifyBundle, type TranscriptEvent } from '../../src/core/transcript';
import { AIR_GAPPED, answersFor, openService, runToEnd, tempDir, ROOT_SUBJECT } from '../helpers/ceremony';
import { createTestHsm } from '../helpers/softhsm';

/**
 * The root key leaves the HSM only under the custodians' KEK: after a root ceremony with default
 * parameters, someone holding the user PIN cannot wrap the root key under an AES key of their own,
 * cannot widen its attributes or copy it, and the backup still restores in a recovery drill.
 */
const hsm = createTestHsm(['root', 'drill', 'loose']);
const home = tempDir('custody-home');
let service: CeremonyService;
let bundle: string;
let keyId: string;
const shares: string[] = [];
let conn: HsmConnection;

const events = (dir: string): TranscriptEvent[] => readFileSync(path.join(dir, 'transcript.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as TranscriptEvent);

beforeAll(async () => {
  service = await openService(home, hsm.config('root'));
  bundle = path.join(tempDir('custody-out'), 'bundle');
  const view = await service.start({ script: 'root-key-generation', outDir: bundle, parameters: ROOT_SUBJECT });
  const done = await runToEnd(service, view, answersFor(hsm), shares);
  expect(done.status).toBe('sealed');
  keyId = events(bundle).find((e) => e.type === 'KEY_GENERATED')!.data.keyId as string;
  conn = connectHsm(hsm.config('root'));
  conn.session.login(hsm.userPin, 'user');
}, 120_000);
afterAll(async () => {
  conn?.close();
  await service?.close();
});

/** An AES key the attacker makes with the user PIN: wrap-capable, extractable, theirs. */
function attackerAesKey(): Buffer {
  const A = pkcs11js;
  return conn.session.createObject([
    { type: A.CKA_CLASS, value: A.CKO_SECRET_KEY },
    { type: A.CKA_KEY_TYPE, value: A.CKK_AES },
    { type: A.CKA_VALUE, value: Buffer.alloc(32, 7) },
    { type: A.CKA_TOKEN, value: false },
    { type: A.CKA_PRIVATE, value: true },
    { type: A.CKA_SENSITIVE, value: false },
    { type: A.CKA_EXTRACTABLE, value: true },
    { type: A.CKA_WRAP, value: true },
    { type: A.CKA_UNWRAP, value: true },
  ]);
}

function hsmCode(fn: () => unknown): { code: string; ckr: unknown } {
  try {
    fn();
  } catch (e) {
    if (e instanceof KeyriteError) return { code: e.code, ckr: e.details.ckr };
    throw e;
  }
  throw new Error('the HSM allowed it');
}

describe('root key custody by default', () => {
  it.each([
    ['CKM_AES_KEY_WRAP_PAD', pkcs11js.CKM_AES_KEY_WRAP_PAD],
    ['CKM_AES_KEY_WRAP', pkcs11js.CKM_AES_KEY_WRAP],
  ])('refuses to wrap the root key under an AES key of the caller\'s choosing (%s)', (_name, mechanism) => {
    const pair = findKeyPair(conn.session, keyId);
    const aes = attackerAesKey();
    try {
      const refused = hsmCode(() => conn.session.wrapKey({ mechanism }, aes, pair.privateKey));
      expect(refused.code).toBe('HSM_KEY_UNEXTRACTABLE');
      expect(refused.ckr).toBe('CKR_KEY_NOT_WRAPPABLE');
    } finally {
      conn.session.destroy(aes);
    }
  });

  it('has exactly the custody attributes: extractable only with wrap-with-trusted, sign only, unchangeable, not copyable', () => {
    const A = pkcs11js;
    const pair = findKeyPair(conn.session, keyId);
    const attrs = conn.session.getAttributesLenient(pair.privateKey, [
      A.CKA_SENSITIVE, A.CKA_ALWAYS_SENSITIVE, A.CKA_EXTRACTABLE, A.CKA_NEVER_EXTRACTABLE, A.CKA_WRAP_WITH_TRUSTED, A.CKA_LOCAL,
      A.CKA_SIGN, A.CKA_SIGN_RECOVER, A.CKA_DECRYPT, A.CKA_UNWRAP, A.CKA_DERIVE, A.CKA_MODIFIABLE, A.CKA_COPYABLE,
    ]);
    const b = (t: number): boolean | undefined => attrBool(attrs.get(t));
    expect({
      sensitive: b(A.CKA_SENSITIVE), alwaysSensitive: b(A.CKA_ALWAYS_SENSITIVE), extractable: b(A.CKA_EXTRACTABLE), wrapWithTrusted: b(A.CKA_WRAP_WITH_TRUSTED),
      local: b(A.CKA_LOCAL), sign: b(A.CKA_SIGN), signRecover: b(A.CKA_SIGN_RECOVER), decrypt: b(A.CKA_DECRYPT), unwrap: b(A.CKA_UNWRAP),
      derive: b(A.CKA_DERIVE), modifiable: b(A.CKA_MODIFIABLE), copyable: b(A.CKA_COPYABLE),
    }).toEqual({
      sensitive: true, alwaysSensitive: true, extractable: true, wrapWithTrusted: true, local: true, sign: true, signRecover: false,
      decrypt: false, unwrap: false, derive: false, modifiable: false, copyable: false,
    });
    const pub = conn.session.getAttributesLenient(pair.publicKey, [A.CKA_VERIFY, A.CKA_ENCRYPT, A.CKA_WRAP, A.CKA_MODIFIABLE]);
    expect([A.CKA_VERIFY, A.CKA_ENCRYPT, A.CKA_WRAP, A.CKA_MODIFIABLE].map((t) => attrBool(pub.get(t)))).toEqual([true, false, false, false]);
  });

  it.each([
    ['turn off CKA_WRAP_WITH_TRUSTED', pkcs11js.CKA_WRAP_WITH_TRUSTED, false],
    ['turn on CKA_DECRYPT', pkcs11js.CKA_DECRYPT, true],
    ['turn on CKA_SIGN_RECOVER', pkcs11js.CKA_SIGN_RECOVER, true],
    ['relabel it', pkcs11js.CKA_LABEL, 'stolen'],
  ])('refuses to %s', (_what, type, value) => {
    const pair = findKeyPair(conn.session, keyId);
    expect(() => conn.session.setAttributes(pair.privateKey, [{ type, value }])).toThrow(KeyriteError);
    expect(attrBool(conn.session.getAttributesLenient(pair.privateKey, [pkcs11js.CKA_WRAP_WITH_TRUSTED]).get(pkcs11js.CKA_WRAP_WITH_TRUSTED))).toBe(true);
    expect(conn.session.find({ label: 'stolen' })).toEqual([]);
  });

  it('refuses to copy the root key into a key with weaker attributes', () => {
    const pair = findKeyPair(conn.session, keyId);
    const copy = (): Buffer => conn.session.api.C_CopyObject(conn.session.handle, pair.privateKey, [
      { type: pkcs11js.CKA_LABEL, value: 'copy' },
      { type: pkcs11js.CKA_TOKEN, value: false },
    ]);
    // CKR_ACTION_PROHIBITED is 0x1B; pkcs11js names it CKR_VENDOR_DEFINED:27.
    expect(copy).toThrow(/CKR_ACTION_PROHIBITED|CKR_VENDOR_DEFINED:27$/);
    expect(conn.session.find({ label: 'copy' })).toEqual([]);
  });

  it('records the custody and the attributes read back in the sealed transcript', async () => {
    const ev = events(bundle);
    const generated = ev.find((e) => e.type === 'KEY_GENERATED')!.data;
    expect(generated.custody).toBe('wrap-with-trusted');
    expect(generated.attributes).toMatchObject({ extractable: true, wrapWithTrusted: true, signRecover: false, decrypt: false, unwrap: false, derive: false, modifiable: false, copyable: false, sensitive: true });
    expect(ev.find((e) => e.type === 'BACKUP_WRITTEN')!.data.wrapTrust).toBe('trusted');
    expect((ev.find((e) => e.type === 'CEREMONY_STARTED')!.data.parameters as Record<string, unknown>).trustedKek).toBe(true);
    const backup = JSON.parse(readFileSync(path.join(bundle, 'backup', `${keyId}.backup.json`), 'utf8')) as { wrapTrust: string };
    expect(backup.wrapTrust).toBe('trusted');
    await verifyBundle(bundle);
  });

  it('still restores in a recovery drill into a fresh token', async () => {
    const drillOut = path.join(tempDir('custody-drill'), 'bundle');
    const view = await service.start({ script: 'backup-recovery-drill', outDir: drillOut, backupFile: path.join(bundle, 'backup', `${keyId}.backup.json`), parameters: { targetToken: 'drill' } });
    const done = await runToEnd(service, view, answersFor(hsm, { shares: [shares[1], shares[3], shares[4]] }));
    expect(done.status).toBe('sealed');
    const ev = events(drillOut);
    expect(ev.find((e) => e.type === 'IDENTITY_PROVEN')!.data).toMatchObject({ fingerprintMatches: true, signatureVerified: true });
    await verifyBundle(drillOut);
  }, 120_000);
});

describe('the untrusted KEK is an explicit, recorded, policy-permitted choice', () => {
  it('is refused when the key policy forbids it, before anything touches the HSM', async () => {
    const base = loadPolicy();
    const strict = parsePolicy(readFileSync(base.source.file, 'utf8').replace('untrustedKek: allowed', 'untrustedKek: forbidden'), 'strict.yaml');
    const strictService = await CeremonyService.open({ home: tempDir('custody-strict'), hsm: hsm.config('loose'), interfaces: AIR_GAPPED, policy: strict });
    try {
      const err = await strictService.start({ script: 'root-key-generation', outDir: path.join(tempDir('custody-strict-out'), 'b'), parameters: { ...ROOT_SUBJECT, trustedKek: false } }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(KeyriteError);
      expect((err as KeyriteError).code).toBe('POLICY_VIOLATION');
      expect((err as KeyriteError).message).toContain('untrusted KEK');
    } finally {
      await strictService.close();
    }
  });

  it('when asked for and permitted, is recorded with a warning, and the key says so', async () => {
    const loose = await openService(tempDir('custody-loose'), hsm.config('loose'));
    try {
      const dir = path.join(tempDir('custody-loose-out'), 'bundle');
      const view = await loose.start({ script: 'root-key-generation', outDir: dir, parameters: { ...ROOT_SUBJECT, trustedKek: false } });
      const done = await runToEnd(loose, view, answersFor(hsm, { soPin: undefined }));
      expect(done.status).toBe('sealed');
      const ev = events(dir);
      const started = ev.find((e) => e.type === 'CEREMONY_STARTED')!.data;
      expect((started.parameters as Record<string, unknown>).trustedKek).toBe(false);
      expect((started.policyWarnings as string[]).some((w) => w.includes('custody.untrusted-kek'))).toBe(true);
      const generated = ev.find((e) => e.type === 'KEY_GENERATED')!.data;
      expect(generated.custody).toBe('wrap-untrusted');
      expect(generated.attributes).toMatchObject({ extractable: true, wrapWithTrusted: false, modifiable: false, copyable: false });
      expect(ev.find((e) => e.type === 'BACKUP_WRITTEN')!.data.wrapTrust).toBe('untrusted');
    } finally {
      await loose.close();
    }
  }, 120_000);
});
