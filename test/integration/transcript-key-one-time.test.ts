import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { AnswersDriver, driveWithAnswers } from '../../src/core/ceremony/answers';
import type { CeremonyView, StepInput } from '../../src/core/ceremony/types';
import { connectHsm } from '../../src/core/hsm/connect';
import { transcriptKeyLabel, verifyBundle } from '../../src/core/transcript';
import { answersFor, openService, tempDir, ROOT_SUBJECT } from '../helpers/ceremony';
import { faultyPkcs11 } from '../helpers/fault-pkcs11';
import { createTestHsm } from '../helpers/softhsm';
import { CeremonyService } from '../../src/core/ceremony/service';
import { AIR_GAPPED } from '../helpers/ceremony';

/**
 * Issue 15: the transcript key signs once. It is destroyed as soon as the seal's signature is
 * checked, CEREMONY_SEALED says so inside what is signed, and `keyrite inventory check` reports a
 * sealed ceremony's transcript key still on the token (here: its destruction failed on the device).
 */
// Token labels that are not prefixes of each other: pkcs11-tool --token-label matches a prefix.
const hsm = createTestHsm(['once', 'plain']);
const home = tempDir('once-home');
const env = { ...process.env, KEYRITE_HOME: home, KEYRITE_PKCS11_MODULE: hsm.modulePath, KEYRITE_TOKEN_LABEL: 'once', KEYRITE_PIN: hsm.userPin };

const inventoryCheck = () => spawnSync(process.execPath, ['bin/keyrite.mjs', 'inventory', 'check'], { env, encoding: 'utf8', timeout: 60_000 });

function tokenObjects(label: string, token = 'once'): number {
  const conn = connectHsm(hsm.config(token));
  try {
    conn.session.login(hsm.userPin);
    return conn.session.find({ label }).length;
  } finally {
    conn.close();
  }
}

class StopAtSeal extends Error {}

describe('one-time transcript key', () => {
  it('is announced, destroyed after the checked signature, reported by inventory check while it survives', async () => {
    const out = path.join(tempDir('once-out'), 'bundle');
    let id = '';
    // Run up to the seal step, then stop (as if the machine were switched off).
    const first = await openService(home, hsm.config('once'));
    try {
      const start = await first.start({ script: 'root-key-generation', outDir: out, parameters: { ...ROOT_SUBJECT } });
      id = start.ceremonyId;
      const stopped = await driveWithAnswers(start, (input: StepInput) => first.provide(id, input), new AnswersDriver(answersFor(hsm)), {
        onView: (v: CeremonyView) => {
          if (v.current?.id === 'seal') throw new StopAtSeal();
        },
      }).catch((e: unknown) => e);
      expect(stopped).toBeInstanceOf(StopAtSeal);
    } finally {
      await first.close();
    }
    const label = transcriptKeyLabel(id);
    expect(tokenObjects(label)).toBe(2);

    // Resume with a token whose C_DestroyObject fails like a device error: sealed and written, the key survives.
    const { factory } = faultyPkcs11([{ method: 'C_DestroyObject', ckr: 'CKR_DEVICE_ERROR' }]);
    const second = await CeremonyService.open({ home, hsm: hsm.config('once'), interfaces: AIR_GAPPED, pkcs11Factory: factory });
    try {
      const failed = await driveWithAnswers(await second.view(id), (input: StepInput) => second.provide(id, input), new AnswersDriver(answersFor(hsm))).catch((e: unknown) => e);
      expect(failed).toMatchObject({ code: 'TRANSCRIPT_KEY_NOT_DESTROYED', message: expect.stringContaining(`pkcs11-tool --delete-object --type privkey --label ${label}`) });
      expect((await second.view(id)).status).toBe('sealed');
    } finally {
      await second.close();
    }
    expect(tokenObjects(label)).toBe(2);
    const sealedEvent = readFileSync(path.join(out, 'transcript.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l)).at(-1);
    expect(sealedEvent).toMatchObject({ type: 'CEREMONY_SEALED', data: { transcriptKeyAfterSeal: 'destroyed', htmlFormat: 2 } });
    expect((await verifyBundle(out)).ceremony).toBe(id);

    // Nobody may mistake the surviving key for a harmless one.
    const kept = inventoryCheck();
    expect(kept.status).toBe(1);
    expect(kept.stdout).toMatch(new RegExp(`TRANSCRIPT-KEY-KEPT .*'${label}' of sealed ceremony ${id} is still on token 'once'`));

    // The way out the message names works, and then the token and the inventory agree again.
    for (const type of ['privkey', 'pubkey']) {
      const r = spawnSync('pkcs11-tool', ['--module', hsm.modulePath, '--token-label', 'once', '--login', '--pin', hsm.userPin, '--delete-object', '--type', type, '--label', label], { encoding: 'utf8', env: process.env });
      expect(r.status, r.stderr).toBe(0);
    }
    expect(tokenObjects(label)).toBe(0);
    expect(inventoryCheck().stdout).not.toContain('TRANSCRIPT-KEY-KEPT');
  });

  it('an ordinary ceremony leaves no transcript key on the token', async () => {
    const service = await openService(tempDir('once-home2'), hsm.config('plain'));
    const out = path.join(tempDir('once-out2'), 'bundle');
    try {
      const start = await service.start({ script: 'root-key-generation', outDir: out, parameters: { ...ROOT_SUBJECT } });
      const done = await driveWithAnswers(start, (input: StepInput) => service.provide(start.ceremonyId, input), new AnswersDriver(answersFor(hsm)));
      expect(done.status).toBe('sealed');
      expect(tokenObjects(transcriptKeyLabel(start.ceremonyId), 'plain')).toBe(0);
    } finally {
      await service.close();
    }
  });
});
