import { afterAll, describe, expect, it } from 'vitest';
import { AnswersDriver } from '../../src/core/ceremony/answers';
import type { CeremonyService } from '../../src/core/ceremony/service';
import type { CeremonyView } from '../../src/core/ceremony/types';
import { connectHsm } from '../../src/core/hsm/connect';
import { answersFor, answerUntil, openService, ROOT_SUBJECT, runToEnd, tempDir } from '../helpers/ceremony';
import { createTestHsm } from '../helpers/softhsm';

/**
 * Different ceremonies racing one store and one token. Each ceremony has its own lock, so nothing
 * serializes them but the store: what they share (key ids, labels on the token) must be claimed
 * in the store. Found by starting several `keyrite ceremony run root-key-generation` at once.
 */
const hsm = createTestHsm(['race']);
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
