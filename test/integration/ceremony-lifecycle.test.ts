import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AnswersDriver } from '../../src/core/ceremony/answers';
import type { CeremonyService } from '../../src/core/ceremony/service';
import { connectHsm } from '../../src/core/hsm/connect';
import { verifyBundle } from '../../src/core/transcript';
import { PEOPLE, answersFor, openService, runToEnd, tempDir, ROOT_SUBJECT } from '../helpers/ceremony';
import { createTestHsm } from '../helpers/softhsm';

/** The life of a root key: generation, rotation with a cross-certificate, share rotation, destruction. */
const hsm = createTestHsm(['life', 'life-drill']);
const home = tempDir('life-home');
let service: CeremonyService;

function events(dir: string): Array<{ type: string; data: Record<string, unknown> }> {
  return readFileSync(path.join(dir, 'transcript.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
}

const out = (name: string): string => path.join(tempDir(name), 'bundle');
let root: { dir: string; keyId: string; shares: string[] };
let rotated: { dir: string; keyId: string; shares: string[] };

beforeAll(async () => {
  service = await openService(home, hsm.config('life'));
  const dir = out('life-root');
  const shares: string[] = [];
  await runToEnd(service, await service.start({ script: 'root-key-generation', outDir: dir, parameters: ROOT_SUBJECT }), answersFor(hsm), shares);
  root = { dir, keyId: events(dir).find((e) => e.type === 'KEY_GENERATED')!.data.keyId as string, shares };
});
afterAll(async () => service?.close());

describe('key lifecycle ceremonies', () => {
  it('backs up under a trusted KEK made by the security officer when the script asks for it', async () => {
    const dir = out('life-trusted');
    const view = await service.start({ script: 'root-key-generation', outDir: dir, parameters: { ...ROOT_SUBJECT, trustedKek: true } });
    const done = await runToEnd(service, view, answersFor(hsm, { soPin: hsm.soPin }));
    expect(done.status).toBe('sealed');
    const ev = events(dir);
    expect(ev.find((e) => e.type === 'KEY_GENERATED')!.data.attributes).toMatchObject({ wrapWithTrusted: true });
    expect(ev.find((e) => e.type === 'BACKUP_WRITTEN')!.data.wrapTrust).toBe('trusted');
    await verifyBundle(dir);
  });

  it('rotates the root: new key id, new backup, new root and a cross-certificate by the old key; old key retiring', async () => {
    const dir = out('life-rotation');
    const shares: string[] = [];
    const oldCertFile = path.join(root.dir, 'keys', `${root.keyId}.cert.pem`);
    const view = await service.start({ script: 'key-rotation', outDir: dir, parameters: { ...ROOT_SUBJECT, oldKeyId: root.keyId, oldCertFile, keyType: 'rsa-3072' } });
    const done = await runToEnd(service, view, answersFor(hsm), shares);
    expect(done.status).toBe('sealed');
    const ev = events(dir);
    const keyId = ev.find((e) => e.type === 'KEY_GENERATED')!.data.keyId as string;
    expect(keyId).toMatch(/^rsa3072-\d{4}-01$/);
    const cross = ev.find((e) => e.type === 'CERTIFICATE_ISSUED' && e.data.kind === 'cross')!;
    execFileSync('openssl', ['verify', '-CAfile', oldCertFile, path.join(dir, cross.data.file as string)]);
    expect((await service.deps.inventory.get(root.keyId))!.status).toBe('retiring');
    expect((await service.deps.inventory.get(keyId))!.status).toBe('active');
    await verifyBundle(dir);
    rotated = { dir, keyId, shares };
  });

  it('re-splits the new key\'s KEK among new custodians; old shares no longer match the new backup', async () => {
    const dir = out('life-shares');
    const backupFile = path.join(rotated.dir, 'backup', `${rotated.keyId}.backup.json`);
    const newPeople = [...PEOPLE.filter((p) => !p.roles.includes('custodian')), ...PEOPLE.filter((p) => p.roles.includes('custodian')).map((p) => ({ ...p, id: `n${p.id}`, name: `New ${p.name}` })), { id: 'old1', name: 'Outgoing One', roles: ['old-custodian'] }];
    const newShares: string[] = [];
    const view = await service.start({ script: 'share-rotation', outDir: dir, backupFile, parameters: { threshold: 2, count: 5 } });
    const done = await runToEnd(service, view, answersFor(hsm, { participants: newPeople, shares: rotated.shares.slice(1, 4) }), newShares);
    expect(done.status).toBe('sealed');
    const ev = events(dir);
    const resplit = ev.find((e) => e.type === 'SHARES_RESPLIT')!;
    expect(resplit.data.newSplitId).not.toBe(resplit.data.oldSplitId);
    expect(ev.filter((e) => e.type === 'SHARE_CONFIRMED')).toHaveLength(5);
    await verifyBundle(dir);

    // A drill with the NEW backup: an old share is refused as foreign, two new ones restore the key.
    const drill = out('life-drill');
    let v = await service.start({ script: 'backup-recovery-drill', outDir: drill, backupFile: path.join(dir, 'backup', `${rotated.keyId}.backup.json`), parameters: { targetToken: 'life-drill' } });
    const driver = new AnswersDriver(answersFor(hsm));
    while (v.current?.need.kind !== 'shareEntry') {
      v = await service.provide(v.ceremonyId, driver.next(v)!);
      expect(v.lastError).toBeNull();
    }
    v = await service.provide(v.ceremonyId, { kind: 'share', text: rotated.shares[0] });
    expect(v.lastError).toMatchObject({ code: 'SHARE_FOREIGN_SPLIT' });
    const finished = await runToEnd(service, v, answersFor(hsm, { shares: [newShares[3], newShares[1]] }));
    expect(finished.status).toBe('sealed');
    expect(events(drill).find((e) => e.type === 'IDENTITY_PROVEN')!.data).toMatchObject({ fingerprintMatches: true, signatureVerified: true });
  });

  it('drills the backup of a retiring key: the drill copy is destroyed and the key stays retiring', async () => {
    expect((await service.deps.inventory.get(root.keyId))!.status).toBe('retiring');
    const before = await service.deps.inventory.history(root.keyId);
    const drill = out('life-drill-retiring');
    const view = await service.start({ script: 'backup-recovery-drill', outDir: drill, backupFile: path.join(root.dir, 'backup', `${root.keyId}.backup.json`), parameters: { targetToken: 'life-drill' } });
    const done = await runToEnd(service, view, answersFor(hsm, { shares: root.shares.slice(0, 3) }));
    expect(done.lastError).toBeNull();
    expect(done.status).toBe('sealed');
    const ev = events(drill);
    expect(ev.find((e) => e.type === 'IDENTITY_PROVEN')!.data).toMatchObject({ keyId: root.keyId, fingerprintMatches: true, signatureVerified: true });
    expect(ev.find((e) => e.type === 'KEY_DESTROYED')!.data).toMatchObject({ keyId: root.keyId, tokenLabel: 'life-drill' });
    expect(ev.filter((e) => e.type === 'KEY_STATUS_CHANGED')).toEqual([]);
    expect((await service.deps.inventory.get(root.keyId))!.status).toBe('retiring');
    expect(await service.deps.inventory.history(root.keyId)).toEqual(before);
    // The drill copy is gone from the drill token; the original is still on its own token.
    for (const [token, left] of [['life-drill', 0], ['life', 1]] as const) {
      const conn = connectHsm(hsm.config(token));
      conn.session.login(hsm.userPin);
      expect(conn.session.find({ label: root.keyId, class: 'private' }).length, token).toBe(left);
      conn.close();
    }
    await verifyBundle(drill);
  });

  it('destroys the old key under quorum after the key is shown by fingerprint; absence verified, inventory updated', async () => {
    const dir = out('life-destroy');
    let view = await service.start({ script: 'key-destruction', outDir: dir, parameters: { keyId: root.keyId, reason: 'compromised' } });
    const people = answersFor(hsm, { participants: PEOPLE.filter((p) => !p.roles.includes('custodian')) });
    const driver = new AnswersDriver(people);
    while (view.current?.id !== 'destroy-key') {
      view = await service.provide(view.ceremonyId, driver.next(view)!);
      expect(view.lastError).toBeNull();
    }
    // The quorum sees which key it approves before anything is destroyed.
    expect(view.current.need.kind).toBe('signoff');
    expect(view.current.evidence).toMatchObject({ keyId: root.keyId, spkiSha256: (await service.deps.inventory.get(root.keyId))!.fingerprint });
    const done = await runToEnd(service, view, people);
    expect(done.status).toBe('sealed');
    const ev = events(dir);
    expect(ev.find((e) => e.type === 'KEY_DESTROYED')!.data).toMatchObject({ keyId: root.keyId });
    expect(ev.find((e) => e.type === 'KEY_ABSENCE_VERIFIED')).toBeTruthy();
    const key = (await service.deps.inventory.get(root.keyId))!;
    expect(key.status).toBe('destroyed');
    const history = await service.deps.inventory.history(root.keyId);
    expect(history.map((h) => h.to)).toEqual(expect.arrayContaining(['retiring', 'compromised', 'destroyed']));
    const conn = connectHsm(hsm.config('life'));
    conn.session.login(hsm.userPin);
    expect(conn.session.find({ label: root.keyId })).toHaveLength(0);
    conn.close();
    await verifyBundle(dir);
  });
});
