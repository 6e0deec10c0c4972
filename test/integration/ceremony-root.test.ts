import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import sqlite3 from 'sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CeremonyService } from '../../src/core/ceremony/service';
import type { CeremonyView } from '../../src/core/ceremony/types';
import { connectHsm } from '../../src/core/hsm/connect';
import { generateKeyPair } from '../../src/core/hsm/keygen';
import { parseKeyType } from '../../src/core/hsm/key-spec';
import { reconcileInventory } from '../../src/core/inventory';
import { combine } from 'shamir-secret-sharing';
import { decodeShare } from '../../src/core/backup';
import { assertNoSecrets, transcriptKeyLabel, verifyBundle, writeSealedBundle } from '../../src/core/transcript';
import { CeremonyRepository } from '../../src/core/store/ceremonies';
import { AnswersDriver } from '../../src/core/ceremony/answers';
import { NETWORKED, answersFor, openService, runToEnd, tempDir, PEOPLE, ROOT_SUBJECT } from '../helpers/ceremony';
import { createTestHsm } from '../helpers/softhsm';
import { scanForSecrets } from '../helpers/secrets';

const hsm = createTestHsm(['root', 'drill', 'resume']);
const home = tempDir('home');
let service: CeremonyService;
let bundle: string;
let rootView: CeremonyView;
const shares: string[] = [];

beforeAll(async () => {
  service = await openService(home, hsm.config('root'));
  bundle = path.join(tempDir('out'), 'bundle');
  const view = await service.start({ script: 'root-key-generation', outDir: bundle, parameters: { ...ROOT_SUBJECT, threshold: 3, count: 5 } });
  rootView = await runToEnd(service, view, answersFor(hsm), shares);
});
afterAll(async () => service?.close());

async function events(dir: string): Promise<Array<{ type: string; data: Record<string, unknown> }>> {
  return readFileSync(path.join(dir, 'transcript.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
}

describe('root key generation ceremony on SoftHSM', () => {
  it('ends sealed with a complete bundle that verifies with keyrite and with openssl alone', async () => {
    expect(rootView.status).toBe('sealed');
    const report = await verifyBundle(bundle);
    expect(report.ok).toBe(true);
    const keyId = (await events(bundle)).find((e) => e.type === 'KEY_GENERATED')!.data.keyId as string;
    expect(keyId).toMatch(/^ecp384-\d{4}-01$/);
    for (const f of [`keys/${keyId}.pub.pem`, `keys/${keyId}.cert.pem`, `keys/${keyId}.csr.pem`, `backup/${keyId}.backup.json`, 'transcript.jsonl', 'transcript.sig', 'transcript-key.pem', 'transcript.html', 'SHA256SUMS']) {
      expect(report.files.concat('SHA256SUMS')).toContain(f);
    }
    execFileSync('openssl', ['dgst', '-sha384', '-verify', 'transcript-key.pem', '-signature', 'transcript.sig', 'transcript.jsonl'], { cwd: bundle });
    execFileSync('openssl', ['verify', '-CAfile', `keys/${keyId}.cert.pem`, `keys/${keyId}.cert.pem`], { cwd: bundle });
    execFileSync('openssl', ['req', '-verify', '-noout', '-in', `keys/${keyId}.csr.pem`], { cwd: bundle, stdio: 'pipe' });
    execFileSync('sha256sum', ['-c', '--quiet', 'SHA256SUMS'], { cwd: bundle });
  });

  it('wrote at the seal exactly the bundle the store gives back: rewriting it from the store finds every file the same', async () => {
    // The seal writes from the chain and record it has just committed, a resume from the store (issue #18).
    const repo = new CeremonyRepository(service.deps.store);
    const seal = await repo.seal(rootView.ceremonyId);
    const again = await writeSealedBundle({ dir: bundle, events: await repo.events(rootView.ceremonyId), seal: seal! });
    expect(again.written).toEqual([]);
    expect(again.files).toContain('SHA256SUMS');
  });

  it('records the script hash first, every sign-off, and the HSM evidence', async () => {
    const ev = await events(bundle);
    expect(ev[0].type).toBe('CEREMONY_STARTED');
    expect(ev[0].data.scriptSha256).toMatch(/^[0-9a-f]{64}$/);
    const types = ev.map((e) => e.type);
    for (const t of ['PARTICIPANT_CHECKED_IN', 'PREFLIGHT_RECORDED', 'HSM_LOGIN', 'TRANSCRIPT_KEY_CREATED', 'KEY_GENERATED', 'SELF_TEST_PASSED', 'BACKUP_WRITTEN', 'BACKUP_VERIFIED', 'SHARE_ISSUED', 'SHARE_CONFIRMED', 'PUBLIC_KEY_EXPORTED', 'CERTIFICATE_ISSUED', 'CSR_ISSUED', 'SIGNATURE_GENERATED', 'STEP_CONFIRMED', 'STATEMENT_RECORDED']) {
      expect(types).toContain(t);
    }
    expect(types.at(-1)).toBe('CEREMONY_SEALED');
    expect(types.filter((t) => t === 'SHARE_CONFIRMED')).toHaveLength(5);
    const gen = ev.find((e) => e.type === 'KEY_GENERATED')!.data.attributes as Record<string, boolean>;
    expect(gen).toMatchObject({ sensitive: true, alwaysSensitive: true, local: true, extractable: true, decrypt: false });
  });

  it('keeps the key in the inventory with its backup and certificate', async () => {
    const keys = await service.deps.inventory.list();
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatchObject({ status: 'active', purpose: 'root-signing', algorithm: 'ec', size: 384 });
    expect(keys[0].backups[0]).toMatchObject({ threshold: 3, count: 5 });
    expect(keys[0].certificates).toHaveLength(1);
    expect(keys[0].facts[0].text).toContain('BAG-1');
  });

  it('leaves the inventory and the token in agreement: the key is known, the one-time transcript key is gone', async () => {
    const conn = connectHsm(hsm.config('root'));
    try {
      conn.session.login(hsm.userPin);
      // Sealing destroys the transcript key once its signature is checked (issue 15): only the root key is left.
      expect(conn.session.find({ class: 'private' }).length).toBe(1);
      expect(conn.session.find({ label: transcriptKeyLabel(rootView.ceremonyId) })).toHaveLength(0);
      expect(await reconcileInventory(service.deps.inventory, conn.session)).toEqual([]);
    } finally {
      conn.close();
    }
  });

  it('reports a key that poses as a ceremony\'s transcript key', async () => {
    const store = service.deps.store;
    await store.run(
      "INSERT INTO ceremonies (id, script_id, script_version, script_sha256, script_path, title, status, current_step, parameters, state, out_dir, demo, created_at, updated_at) VALUES ('fake', 'x', '1', 'x', 'x', 'x', 'aborted', 0, '{}', ?, '/nonexistent', 0, 'now', 'now')",
      [JSON.stringify({ transcriptKey: { label: 'keyrite-transcript-fake', spkiSha256: '0'.repeat(64) } })],
    );
    const conn = connectHsm(hsm.config('root'));
    try {
      conn.session.login(hsm.userPin);
      const impostor = generateKeyPair(conn.session, { spec: parseKeyType('ec-p384'), label: 'keyrite-transcript-fake' });
      const drifts = await reconcileInventory(service.deps.inventory, conn.session);
      expect(drifts).toEqual([expect.objectContaining({ kind: 'fingerprint', label: 'keyrite-transcript-fake', message: expect.stringContaining('not that ceremony\'s key') })]);
      conn.session.destroy(impostor.privateKey);
      conn.session.destroy(impostor.publicKey);
    } finally {
      conn.close();
      await store.run("DELETE FROM ceremonies WHERE id = 'fake'");
    }
  });

  it('never writes the PIN, the KEK or a share word anywhere (store, bundle, token dir, events)', async () => {
    const words = shares.flatMap((s) => s.split(' '));
    expect(shares).toHaveLength(5);
    // The KEK, rebuilt the way a quorum would: from three of the shares the custodians wrote down.
    const kek = Buffer.from(await combine(shares.slice(0, 3).map((s) => new Uint8Array(decodeShare(s).share))));
    expect(kek).toHaveLength(32);
    const hits = scanForSecrets([home, bundle, hsm.tokenDir], [hsm.userPin, kek, ...shares], { shareWords: words });
    expect(hits).toEqual([]);
    // The scanner itself finds what is planted (a share in JSON, the KEK in hex).
    const control = tempDir('control');
    writeFileSync(path.join(control, 'planted.json'), JSON.stringify({ words: shares[2].split(' '), k: kek.toString('hex') }));
    expect(scanForSecrets([control], [kek], { shareWords: words }).length).toBeGreaterThan(1);
    const runner = await service.runner(rootView.ceremonyId);
    for (const e of await runner.events()) assertNoSecrets(e, [hsm.userPin, kek.toString('hex'), kek.toString('base64'), ...shares]);
  });

  it('restores into a fresh token in a recovery drill and proves it is the same key', async () => {
    const keyId = (await events(bundle)).find((e) => e.type === 'KEY_GENERATED')!.data.keyId as string;
    const drillOut = path.join(tempDir('drill'), 'bundle');
    const view = await service.start({ script: 'backup-recovery-drill', outDir: drillOut, backupFile: path.join(bundle, 'backup', `${keyId}.backup.json`), parameters: { targetToken: 'drill' } });
    const done = await runToEnd(service, view, answersFor(hsm, { shares: [shares[4], shares[0], shares[2]] }));
    expect(done.status).toBe('sealed');
    const ev = await events(drillOut);
    expect(ev.find((e) => e.type === 'IDENTITY_PROVEN')!.data).toMatchObject({ fingerprintMatches: true, signatureVerified: true });
    expect(ev.find((e) => e.type === 'KEY_ABSENCE_VERIFIED')).toBeTruthy();
    await verifyBundle(drillOut);
  });
});

describe('bad input during a ceremony', () => {
  async function startAt(step: string, extra: { interfaces?: typeof NETWORKED } = {}) {
    const s = extra.interfaces ? await openService(tempDir('home2'), hsm.config('root'), extra.interfaces) : service;
    let view = await s.start({ script: 'root-key-generation', outDir: path.join(tempDir('out'), 'b'), parameters: ROOT_SUBJECT });
    const driver = new AnswersDriver(answersFor(hsm, { preflightOverride: { personId: 'ada', reason: 'testing the override path here' } }));
    while (view.current && view.current.id !== step) {
      view = await s.provide(view.ceremonyId, driver.next(view)!);
      expect(view.lastError).toBeNull();
    }
    return { s, view, driver };
  }

  it('a wrong PIN is reported with the token named, and the correct PIN then works', async () => {
    const { s, view } = await startAt('hsm-login');
    const wrong = await s.provide(view.ceremonyId, { kind: 'pin', pin: '000000' });
    expect(wrong.lastError).toMatchObject({ code: 'HSM_PIN_INCORRECT' });
    expect(wrong.lastError!.message).toMatch(/Wrong PIN for token 'root'/);
    expect(wrong.current!.need.kind).toBe('pin');
    const right = await s.provide(view.ceremonyId, { kind: 'pin', pin: hsm.userPin });
    expect(right.lastError).toBeNull();
    expect(right.current!.need.kind).toBe('signoff');
  });

  it('refuses a sign-off by a person without the role, and the same person twice', async () => {
    const { s, view } = await startAt('hsm-login');
    let v = await s.provide(view.ceremonyId, { kind: 'pin', pin: hsm.userPin });
    v = await s.provide(v.ceremonyId, { kind: 'signoff', personId: 'c1' });
    expect(v.lastError).toMatchObject({ code: 'CEREMONY_SIGNOFF_ROLE' });
    expect(v.lastError!.message).toMatch(/Cora One \(custodian\) cannot sign off/);
    v = await s.provide(v.ceremonyId, { kind: 'signoff', personId: 'otto' });
    expect(v.lastError).toBeNull();
    v = await s.provide(v.ceremonyId, { kind: 'signoff', personId: 'otto' });
    expect(v.lastError).toMatchObject({ code: 'CEREMONY_SIGNOFF_DUPLICATE' });
    v = await s.provide(v.ceremonyId, { kind: 'signoff', personId: 'nobody' });
    expect(v.lastError).toMatchObject({ code: 'CEREMONY_PERSON_UNKNOWN' });
  });

  it('stops at preflight when a network interface is up; only the administrator overrides, with the reason recorded', async () => {
    const { s, view } = await startAt('preflight', { interfaces: NETWORKED });
    expect(view.current!.need).toMatchObject({ kind: 'preflightOverride', interfaces: ['eth0'] });
    let v = await s.provide(view.ceremonyId, { kind: 'preflightOverride', personId: 'wren', reason: 'we accept the risk today' });
    expect(v.lastError).toMatchObject({ code: 'CEREMONY_SIGNOFF_ROLE' });
    v = await s.provide(view.ceremonyId, { kind: 'preflightOverride', personId: 'ada', reason: 'lab machine, cable unplugged later' });
    expect(v.lastError).toBeNull();
    expect(v.current!.need.kind).toBe('signoff');
    const runner = await s.runner(view.ceremonyId);
    const ev = await runner.events();
    expect(ev.find((e) => e.type === 'NETWORK_OVERRIDE')!.data).toMatchObject({ personId: 'ada', reason: 'lab machine, cable unplugged later', interfaces: ['eth0'] });
    await s.close();
  });

  it('an answers file missing a required answer names it', async () => {
    const view = await service.start({ script: 'root-key-generation', outDir: path.join(tempDir('out'), 'b'), parameters: ROOT_SUBJECT });
    const { pin: _pin, ...noPin } = answersFor(hsm);
    await expect(runToEnd(service, view, noPin)).rejects.toMatchObject({ code: 'ANSWERS_MISSING', message: expect.stringContaining("No PIN was given for step 'hsm-login'. Set KEYRITE_PIN or pass --pin-file FILE") });
  });

  it('refuses --demo on a token that is not the demo token', async () => {
    await expect(service.start({ script: 'root-key-generation', outDir: path.join(tempDir('out'), 'b'), demo: true, parameters: ROOT_SUBJECT })).rejects.toMatchObject({ code: 'CEREMONY_DEMO_REFUSED' });
  });

  it('refuses an output folder that is not empty', async () => {
    const dir = tempDir('nonempty');
    writeFileSync(path.join(dir, 'old.txt'), 'x');
    await expect(service.start({ script: 'root-key-generation', outDir: dir, parameters: ROOT_SUBJECT })).rejects.toMatchObject({ code: 'CEREMONY_OUT_NOT_EMPTY' });
  });

  it('refuses check-in with the wrong number of custodians for the share count', async () => {
    const view = await service.start({ script: 'root-key-generation', outDir: path.join(tempDir('out'), 'b'), parameters: ROOT_SUBJECT });
    const v = await service.provide(view.ceremonyId, { kind: 'participants', participants: PEOPLE.filter((p) => p.id !== 'c5') });
    expect(v.lastError).toMatchObject({ code: 'CEREMONY_CUSTODIAN_COUNT' });
  });

  it('a locked database stops the runner with a clear error and loses nothing; the next call resumes', async () => {
    const { s, view } = await startAt('hsm-login');
    const other = new sqlite3.Database(path.join(home, 'keyrite.sqlite'));
    await new Promise<void>((resolve, reject) => other.exec('BEGIN EXCLUSIVE', (e) => (e ? reject(e) : resolve())));
    try {
      const failed = await s.provide(view.ceremonyId, { kind: 'pin', pin: hsm.userPin }).then(() => null, (e: { code: string; message: string }) => e);
      expect(failed).toMatchObject({ code: 'STORE_LOCKED' });
      expect(failed!.message).toContain(`keyrite ceremony resume ${view.ceremonyId}`);
    } finally {
      await new Promise<void>((resolve) => other.exec('ROLLBACK', () => other.close(() => resolve())));
    }
    const resumed = await s.view(view.ceremonyId);
    expect(resumed.current!.id).toBe('hsm-login');
    expect(resumed.lastError).toBeNull();
  });
});

describe('resume after the app was closed mid hand-out', () => {
  it('voids the half-handed-out split, makes a new backup, and finishes with one key and an intact chain', async () => {
    const home3 = tempDir('home3');
    const out = path.join(tempDir('out'), 'b');
    const first = await openService(home3, hsm.config('resume'));
    let view = await first.start({ script: 'root-key-generation', outDir: out, parameters: ROOT_SUBJECT });
    const driver = new AnswersDriver(answersFor(hsm));
    let revealed = 0;
    while (revealed < 2) {
      view = await first.provide(view.ceremonyId, driver.next(view)!);
      expect(view.lastError).toBeNull();
      if (view.revealedShare) revealed++;
    }
    const id = view.ceremonyId;
    await first.close(); // the window closes: shares in memory are gone

    const second = await openService(home3, hsm.config('resume'));
    let resumed = await second.view(id);
    expect(resumed.current!.id).toBe('hand-out-shares');
    expect(resumed.current!.need.kind).toBe('pin');
    resumed = await second.provide(id, { kind: 'pin', pin: hsm.userPin });
    expect(resumed.current!.need).toMatchObject({ kind: 'continue', message: expect.stringMatching(/void/) });
    const done = await runToEnd(second, resumed, answersFor(hsm));
    expect(done.status).toBe('sealed');
    const ev = await events(out);
    const backups = ev.filter((e) => e.type === 'BACKUP_WRITTEN');
    expect(backups).toHaveLength(2);
    expect(backups[1].data.supersedes).toBe(backups[0].data.splitId);
    expect(ev.filter((e) => e.type === 'KEY_GENERATED')).toHaveLength(1);
    expect(ev.some((e) => e.type === 'CEREMONY_RESUMED')).toBe(true);
    await verifyBundle(out);
    const conn = connectHsm(hsm.config('resume'));
    conn.session.login(hsm.userPin);
    const keyId = ev.find((e) => e.type === 'KEY_GENERATED')!.data.keyId as string;
    expect(conn.session.find({ class: 'private', label: keyId })).toHaveLength(1);
    conn.close();
    await second.close();
  });
});

const canMount = process.getuid?.() === 0;
describe('output medium full while the bundle is written', () => {
  it.runIf(canMount)('reports OUTPUT_DISK_FULL, then seals once space is freed (needs root for a small tmpfs)', async () => {
    const mnt = tempDir('tmpfs');
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=72k', 'tmpfs', mnt]);
    try {
      const out = path.join(mnt, 'bundle');
      mkdirSync(out);
      let view = await service.start({ script: 'root-key-generation', outDir: out, parameters: ROOT_SUBJECT });
      const driver = new AnswersDriver(answersFor(hsm));
      while (view.status === 'running' && !view.lastError) view = await service.provide(view.ceremonyId, driver.next(view)!);
      expect(view.lastError).toMatchObject({ code: 'OUTPUT_DISK_FULL' });
      // The seal is committed before any bundle file is written: sealed, with the bundle still to write.
      expect(view.status).toBe('sealed');
      expect(view.lastError!.message).toMatch(/is sealed/);
      execFileSync('mount', ['-o', 'remount,size=2m', mnt]);
      view = await service.provide(view.ceremonyId, { kind: 'continue' });
      expect(view.lastError, JSON.stringify(view.lastError)).toBeNull();
      expect(view.status).toBe('sealed');
      await verifyBundle(out);
    } finally {
      execFileSync('umount', [mnt]);
    }
  });
});
