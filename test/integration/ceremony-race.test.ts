import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AnswersDriver } from '../../src/core/ceremony/answers';
import type { CeremonyService } from '../../src/core/ceremony/service';
import type { CeremonyView } from '../../src/core/ceremony/types';
import { connectHsm } from '../../src/core/hsm/connect';
import { answersFor, answerUntil, openService, ROOT_SUBJECT, runToEnd, tempDir } from '../helpers/ceremony';
import { keyriteBin } from '../helpers/cli';
import { scanForSecrets } from '../helpers/secrets';
import { createTestHsm } from '../helpers/softhsm';

/**
 * Different ceremonies racing one store and one token. Each ceremony has its own lock, so nothing
 * serializes them but the store: what they share (key ids, labels on the token) must be claimed
 * in the store. Found by starting several `keyrite ceremony run root-key-generation` at once.
 */
// The drills' target tokens exist from the start: SoftHSM lists tokens when the module is loaded.
const hsm = createTestHsm(['race', 'race-drill', 'race-drill-2']);
const home = tempDir('race-home');
const services: CeremonyService[] = [];
afterAll(async () => {
  // Closing twice is harmless: a closed service has no runners left and its store is closed.
  for (const s of services) await s.close().catch(() => undefined);
});

const atGenerate = (v: CeremonyView): boolean => v.current?.need.kind === 'continue' && v.current.need.irreversible?.act === 'generate';

describe('root key generations started at the same moment', () => {
  it('each gets a key id of its own: one key pair per label, none adopted from the other ceremony', async () => {
    // One service per ceremony, as separate processes would have; both on the same store and token.
    const runs = await Promise.all([0, 1, 2].map(async () => {
      const service = await openService(home, hsm.config('race'));
      services.push(service);
      const driver = new AnswersDriver(answersFor(hsm));
      const started = await service.start({ script: 'root-key-generation', outDir: tempDir('race-out'), parameters: ROOT_SUBJECT });
      return { service, driver, view: await answerUntil(service, started, driver, atGenerate) };
    }));
    // All three confirm "generate" together: each allocates an id, checks the label and makes the key.
    const generated = await Promise.all(runs.map((r) => r.service.provide(r.view.ceremonyId, r.driver.next(r.view)!)));
    for (const v of generated) expect(v.lastError, JSON.stringify(v.lastError)).toBeNull();
    const made = generated.map((v) => v.current?.evidence?.keyId);
    expect(new Set(made).size, JSON.stringify(made)).toBe(3);
    // Each finished on its own, resumed by one service (in one process every session shares the token's login).
    for (const r of runs) await r.service.close();
    const service = await openService(home, hsm.config('race'));
    services.push(service);
    for (const r of runs) expect((await runToEnd(service, await service.view(r.view.ceremonyId), answersFor(hsm))).status).toBe('sealed');

    const inventory = await service.deps.inventory.list();
    const keyIds = runs.map((r) => inventory.filter((k) => k.ceremonyId === r.view.ceremonyId).map((k) => k.id));
    expect(keyIds.map((ids) => ids.length)).toEqual([1, 1, 1]);
    expect(new Set(keyIds.flat()).size).toBe(3);
    const conn = connectHsm(hsm.config('race'));
    try {
      conn.session.login(hsm.userPin, 'user');
      for (const id of keyIds.flat()) {
        expect(conn.session.find({ class: 'private', label: id }), id).toHaveLength(1);
        expect(conn.session.find({ class: 'public', label: id }), id).toHaveLength(1);
      }
    } finally {
      conn.close();
    }
  }, 120_000);
});

describe('two recovery drills of one backup into one token', () => {
  /** A sealed root ceremony's backup and the shares its custodians wrote down (made once, for both tests). */
  let made: Promise<{ service: CeremonyService; rootOut: string; backupFile: string; shares: string[]; keyId: string }> | undefined;
  const rootBackup = (): NonNullable<typeof made> => (made ??= (async () => {
    const service = await openService(home, hsm.config('race'));
    services.push(service);
    const rootOut = tempDir('race-root');
    const shares: string[] = [];
    const root = await runToEnd(service, await service.start({ script: 'root-key-generation', outDir: rootOut, parameters: ROOT_SUBJECT }), answersFor(hsm), shares);
    expect(root.status).toBe('sealed');
    const keyId = (await service.deps.inventory.list()).find((k) => k.ceremonyId === root.ceremonyId)!.id;
    return { service, rootOut, backupFile: path.join(rootOut, 'backup', `${keyId}.backup.json`), shares, keyId };
  })());
  const atRestore = (v: CeremonyView): boolean => v.current?.action === 'restoreBackup' && v.current.need.kind === 'continue';

  /** Two drills into `token`, both started (the start check passes for both) and brought to the restore. */
  async function twoDrillsAtRestore(token: string) {
    const { service, backupFile, shares } = await rootBackup();
    const drillAnswers = answersFor(hsm, { shares: shares.slice(0, 3) });
    const [a, b] = await Promise.all([0, 1].map(async () => {
      const driver = new AnswersDriver(drillAnswers);
      const started = await service.start({ script: 'backup-recovery-drill', outDir: tempDir('race-drill'), backupFile, parameters: { targetToken: token } });
      return { driver, view: await answerUntil(service, started, driver, atRestore) };
    }));
    return { service, drillAnswers, a, b };
  }

  const eventsOf = async (service: CeremonyService, id: string) =>
    (await service.deps.store.all<{ line: string }>('SELECT line FROM events WHERE ceremony_id = ? ORDER BY seq', [id])).map((e) => JSON.parse(e.line) as { type: string; data: Record<string, unknown> });

  it('both at the restore at the same moment: one restores, the other is refused before it unwraps, then restores once the token is free', async () => {
    const { service, drillAnswers, a, b } = await twoDrillsAtRestore('race-drill-2');
    const { keyId } = await rootBackup();
    // Both confirm at once: each claims the label, checks it is free, and unwraps.
    const both = await Promise.all([a, b].map((d) => service.provide(d.view.ceremonyId, d.driver.next(d.view)!)));
    const winner = both.findIndex((v) => v.lastError === null);
    expect(winner, JSON.stringify(both.map((v) => v.lastError))).toBeGreaterThanOrEqual(0);
    const [won, lost] = winner === 0 ? [a, b] : [b, a];
    expect(both[1 - winner].lastError).toMatchObject({ code: 'HSM_LABEL_EXISTS', details: { ceremonyId: won.view.ceremonyId } });
    // Asked again while the winner's copy is on the token: still refused, never adopted as its own
    // (before the claim, the loser had announced a restore and then took the winner's copy on retry).
    const again = await service.provide(lost.view.ceremonyId, lost.driver.next(both[1 - winner])!);
    expect(again.lastError?.code).toBe('HSM_LABEL_EXISTS');
    expect((await eventsOf(service, lost.view.ceremonyId)).filter((e) => e.type === 'KEY_RESTORED' || e.type === 'KEK_REBUILT')).toEqual([]);
    // Both let go (in one process every session shares the token's login), then the token looked at.
    await service.release(won.view.ceremonyId);
    await service.release(lost.view.ceremonyId);
    const conn = connectHsm(hsm.config('race-drill-2'));
    try {
      conn.session.login(hsm.userPin, 'user');
      expect(conn.session.find({ class: 'private', label: keyId })).toHaveLength(1);
    } finally {
      conn.close();
    }
    // The winner finishes; then the other restores for real from its custodians' shares.
    expect((await runToEnd(service, await service.view(won.view.ceremonyId), drillAnswers)).status).toBe('sealed');
    await service.release(won.view.ceremonyId);
    expect((await runToEnd(service, await service.view(lost.view.ceremonyId), drillAnswers)).status).toBe('sealed');
    expect((await eventsOf(service, lost.view.ceremonyId)).filter((e) => e.type === 'KEK_REBUILT')).toHaveLength(1);
  }, 180_000);

  it('a drill never takes the copy another drill restored as its own, nor destroys it', async () => {
    const { service, drillAnswers, a, b } = await twoDrillsAtRestore('race-drill');
    const { rootOut, shares } = await rootBackup();
    const restoredA = await service.provide(a.view.ceremonyId, a.driver.next(a.view)!);
    expect(restoredA.lastError).toBeNull();
    const restoredB = await service.provide(b.view.ceremonyId, b.driver.next(b.view)!);
    // B did not restore that copy: it must not record it as its own restore.
    const bEvents = await service.deps.store.all<{ line: string }>('SELECT line FROM events WHERE ceremony_id = ? ORDER BY seq', [b.view.ceremonyId]);
    expect(bEvents.map((e) => JSON.parse(e.line) as { type: string }).filter((e) => e.type === 'KEY_RESTORED')).toEqual([]);
    expect(restoredB.lastError?.code).toBe('HSM_LABEL_EXISTS');
    // A's copy is untouched: A proves it, destroys it and seals.
    expect((await runToEnd(service, restoredA, drillAnswers)).status).toBe('sealed');
    // With the token free again, B restores for real from the shares its custodians entered
    // (resumed afresh: A's logout ended the login every session of this process shared).
    await service.release(b.view.ceremonyId);
    const bDone = await runToEnd(service, await service.view(b.view.ceremonyId), drillAnswers);
    expect(bDone.status).toBe('sealed');
    const bTypes = (await service.deps.store.all<{ line: string }>('SELECT line FROM events WHERE ceremony_id = ? ORDER BY seq', [b.view.ceremonyId])).map((e) => JSON.parse(e.line) as { type: string; data: Record<string, unknown> });
    expect(bTypes.filter((e) => e.type === 'KEK_REBUILT')).toHaveLength(1);
    expect(bTypes.filter((e) => e.type === 'KEY_RESTORED').map((e) => e.data.reconciled ?? false)).toEqual([false]);
    // Two drills side by side wrote no share and no PIN anywhere Keyrite writes.
    expect(scanForSecrets([home, rootOut], [hsm.userPin, hsm.soPin, ...shares], { shareWords: shares.flatMap((s) => s.split(' ')) })).toEqual([]);
  }, 180_000);
});

describe('two ceremonies started at once into one bundle folder', () => {
  // Found by running the same `keyrite ceremony run … --out DIR` in two terminals: both found the
  // folder empty, both made a key and handed out shares, and both failed only at the seal, on
  // each other's files (SEAL_UNEXPECTED_FILE).
  it('one starts; the other is refused at once with CEREMONY_OUT_IN_USE, before anyone checks in', async () => {
    const service = await openService(home, hsm.config('race'));
    services.push(service);
    const out = path.join(tempDir('race-same-out'), 'bundle');
    const started = await Promise.allSettled([0, 1].map(() => service.start({ script: 'root-key-generation', outDir: out, parameters: ROOT_SUBJECT })));
    const won = started.filter((r): r is PromiseFulfilledResult<CeremonyView> => r.status === 'fulfilled');
    const lost = started.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(1);
    expect(lost[0].reason).toMatchObject({ code: 'CEREMONY_OUT_IN_USE', details: { ceremonyId: won[0].value.ceremonyId } });
    // The loser left nothing: no ceremony row of its own.
    expect((await service.listCeremonies()).filter((c) => c.outDir === path.resolve(out))).toHaveLength(1);
    expect((await runToEnd(service, won[0].value, answersFor(hsm))).status).toBe('sealed');
  }, 120_000);

  it('the same folder by another name (a link to it, a `..` in the path) is the same folder', async () => {
    const service = await openService(home, hsm.config('race'));
    services.push(service);
    const base = tempDir('race-out-link');
    mkdirSync(path.join(base, 'real'));
    symlinkSync(path.join(base, 'real'), path.join(base, 'link'));
    const first = await service.start({ script: 'root-key-generation', outDir: path.join(base, 'real', 'bundle'), parameters: ROOT_SUBJECT });
    for (const other of [path.join(base, 'link', 'bundle'), path.join(base, 'link', '..', 'real', 'bundle')]) {
      await expect(service.start({ script: 'root-key-generation', outDir: other, parameters: ROOT_SUBJECT })).rejects.toMatchObject({ code: 'CEREMONY_OUT_IN_USE', details: { ceremonyId: first.ceremonyId } });
    }
    // A folder beside it is free.
    const beside = await service.start({ script: 'root-key-generation', outDir: path.join(base, 'link', 'bundle-2'), parameters: ROOT_SUBJECT });
    expect(beside.status).toBe('running');
  }, 120_000);
});

describe('first runs on a new home at the same moment', () => {
  // Found by starting four `keyrite ceremony run root-key-generation --demo` on a new KEYRITE_HOME:
  // each found no demo token and made one, and the home was left with two tokens labelled
  // 'keyrite-demo' (every later run: HSM_TOKEN_AMBIGUOUS). Seen in 1 of 3 rounds; two rounds here.
  const runDemo = (home: string, i: number) =>
    new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [keyriteBin(), 'ceremony', 'run', 'root-key-generation', '--demo', '--out', path.join(home, `out${i}`), '--drill-shares', path.join(home, `shares${i}.txt`)], {
        env: { ...process.env, KEYRITE_HOME: home, KEYRITE_PKCS11_MODULE: '', KEYRITE_TOKEN_LABEL: '', KEYRITE_PIN: '' },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('close', (code) => resolve({ code, stderr }));
    });

  it.each([1, 2])('round %i: four demo rehearsals all seal, on one demo token', async () => {
    const newHome = path.join(tempDir('race-new-home'), 'home');
    const runs = await Promise.all([1, 2, 3, 4].map((i) => runDemo(newHome, i)));
    for (const r of runs) expect(r.code, r.stderr).toBe(0);
    const slots = execFileSync('softhsm2-util', ['--show-slots'], { env: { ...process.env, SOFTHSM2_CONF: path.join(newHome, 'softhsm', 'softhsm2.conf') }, encoding: 'utf8' });
    expect([...slots.matchAll(/^\s*Label:\s*keyrite-demo\s*$/gm)]).toHaveLength(1);
  }, 180_000);
});
