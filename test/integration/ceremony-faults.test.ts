import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AnswersDriver } from '../../src/core/ceremony/answers';
import { CeremonyService } from '../../src/core/ceremony/service';
import { connectHsm } from '../../src/core/hsm/connect';
import { verifyBundle } from '../../src/core/transcript';
import { AIR_GAPPED, answersFor, tempDir, ROOT_SUBJECT } from '../helpers/ceremony';
import { faultyPkcs11 } from '../helpers/fault-pkcs11';
import { createTestHsm } from '../helpers/softhsm';

/** An HSM that disappears in the middle of a step: injected on the real module, never a fake HSM. */
const hsm = createTestHsm(['faulty']);
const { factory } = faultyPkcs11([
  { method: 'C_WrapKey', ckr: 'CKR_DEVICE_REMOVED', after: 0, times: 1 },
  { method: 'C_Sign', ckr: 'CKR_DEVICE_ERROR', after: 6, times: 1 },
]);
let service: CeremonyService;
afterAll(async () => service?.close());

describe('HSM faults during a ceremony', () => {
  it('token pulled during the backup and a device error while signing: each is named, nothing is lost, the retry completes', async () => {
    service = await CeremonyService.open({ home: tempDir('faults-home'), hsm: hsm.config('faulty'), interfaces: AIR_GAPPED, pkcs11Factory: factory });
    const out = path.join(tempDir('faults-out'), 'bundle');
    let view = await service.start({ script: 'root-key-generation', outDir: out, parameters: ROOT_SUBJECT });
    const driver = new AnswersDriver(answersFor(hsm));
    const seen: string[] = [];
    for (let guard = 0; view.status === 'running' && guard < 500; guard++) {
      view = await service.provide(view.ceremonyId, driver.next(view)!);
      if (view.lastError) {
        seen.push(`${view.current!.id}:${view.lastError.code}`);
        // The step stays where it was and offers a way on: log in again (the token was lost) or retry.
        expect(view.current!.id).toBe('create-backup');
        expect(view.current!.need.kind).toMatch(view.lastError.code === 'HSM_TOKEN_NOT_PRESENT' ? /^pin$/ : /^(pin|continue)$/);
      }
    }
    expect(seen[0]).toBe('create-backup:HSM_TOKEN_NOT_PRESENT');
    // The device error hit the signature of the immediate backup check, which names it.
    expect(seen[1]).toBe('create-backup:BACKUP_CHECK_FAILED');
    expect(view.status).toBe('sealed');
    await verifyBundle(out);
    const runner = await service.runner(view.ceremonyId);
    const events = await runner.events();
    const errors = events.filter((e) => e.type === 'ERROR_RECORDED');
    expect(errors.map((e) => e.data.code)).toEqual(['HSM_TOKEN_NOT_PRESENT', 'BACKUP_CHECK_FAILED']);
    expect(String(errors[1].data.message)).toMatch(/device error/);
    expect(events.filter((e) => e.type === 'KEY_GENERATED')).toHaveLength(1);
    expect(events.filter((e) => e.type === 'BACKUP_WRITTEN')).toHaveLength(1);
    const keyId = events.find((e) => e.type === 'KEY_GENERATED')!.data.keyId as string;
    const conn = connectHsm(hsm.config('faulty'));
    conn.session.login(hsm.userPin);
    expect(conn.session.find({ class: 'private', label: keyId })).toHaveLength(1);
    conn.close();
  });
});
