import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CeremonyService } from '../../src/core/ceremony/service';
import type { CeremonyView } from '../../src/core/ceremony/types';
import { readBackupFile } from '../../src/core/backup';
import { connectHsm } from '../../src/core/hsm/connect';
import { verifyBundle } from '../../src/core/transcript';
import { PEOPLE, openService, runToEnd, tempDir, ROOT_SUBJECT } from '../helpers/ceremony';
import { createTestModule, type TestModule, type TestModuleName } from '../helpers/modules';
import { scanForSecrets } from '../helpers/secrets';

/**
 * A sealed root ceremony on each real module, then a recovery drill of its backup run from the
 * CLI into a token of the OTHER vendor, named by a PKCS#11 URI: SoftHSM → NSS and NSS → SoftHSM.
 */
const modules: Record<TestModuleName, TestModule> = {
  softhsm: createTestModule('softhsm', ['root', 'from-nss']),
  nss: createTestModule('nss', ['root', 'from-softhsm']),
};
const other = { softhsm: 'nss', nss: 'softhsm' } as const;

interface Run {
  service: CeremonyService;
  home: string;
  bundle: string;
  view: CeremonyView;
  shares: string[];
}
const runs: Partial<Record<TestModuleName, Run>> = {};

const answers = (m: TestModule) => ({
  participants: PEOPLE,
  pin: m.userPin,
  soPin: m.soPin,
  statements: { 'seal-shares': { bags: 'BAG-1 BAG-2 BAG-3 BAG-4 BAG-5' }, 'backups-destroyed': { backups: 'shredded', shares: 'BAG-1..5 burned' } },
});

async function events(dir: string): Promise<Array<{ type: string; data: Record<string, unknown> }>> {
  return readFileSync(path.join(dir, 'transcript.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
}

beforeAll(async () => {
  for (const name of ['softhsm', 'nss'] as const) {
    const m = modules[name];
    const home = tempDir(`home-${name}`);
    const service = await openService(home, m.config('root'));
    const bundle = path.join(tempDir(`out-${name}`), 'bundle');
    const shares: string[] = [];
    // NSS keeps no CKA_TRUSTED keys, so its root key takes the explicit, policy-permitted untrusted KEK.
    const started = await service.start({ script: 'root-key-generation', outDir: bundle, parameters: { ...ROOT_SUBJECT, threshold: 3, count: 5, ...(name === 'nss' ? { trustedKek: false } : {}) } });
    const view = await runToEnd(service, started, answers(m), shares);
    runs[name] = { service, home, bundle, view, shares };
  }
}, 240_000);
afterAll(async () => {
  for (const r of Object.values(runs)) await r?.service.close();
});

describe.each(['softhsm', 'nss'] as const)('root key ceremony on %s, recovered on the other vendor', (name) => {
  const m = modules[name];
  const run = (): Run => runs[name]!;

  it('ends sealed; the bundle verifies; the transcript names the token by serial, model and label', async () => {
    expect(run().view.status).toBe('sealed');
    expect((await verifyBundle(run().bundle)).ok).toBe(true);
    const ev = await events(run().bundle);
    const login = ev.find((e) => e.type === 'HSM_LOGIN')!.data;
    const preflight = ev.find((e) => e.type === 'PREFLIGHT_RECORDED')!.data as { hsm: Record<string, unknown> };
    const expected = name === 'nss' ? { model: 'NSS 3', manufacturer: 'Mozilla Foundation' } : { model: 'SoftHSM v2', manufacturer: 'SoftHSM project' };
    expect(login).toMatchObject({ tokenLabel: 'root', ...expected, tokenSerial: expect.any(String) });
    expect(preflight.hsm).toMatchObject({ tokenLabel: 'root', model: expected.model, module: m.modulePath });
  });

  it('its backup is RFC 5649 over exact PKCS#8 with the module\'s own mechanism recorded', async () => {
    const file = (await events(run().bundle)).find((e) => e.type === 'BACKUP_WRITTEN')!.data.file as string;
    const b = readBackupFile(path.join(run().bundle, file));
    expect(b).toMatchObject({ formatVersion: 2, wrapFormat: 'rfc5649', wrapMechanism: m.rfc5649Mechanism, pkcs8Length: expect.any(Number) });
  });

  it(`keyrite ceremony run backup-recovery-drill restores it into ${other[name]} (named by URI), with the identity proven`, async () => {
    const target = modules[other[name]];
    const targetLabel = `from-${name}`;
    const file = (await events(run().bundle)).find((e) => e.type === 'BACKUP_WRITTEN')!.data.file as string;
    const drillOut = path.join(tempDir('drill'), 'bundle');
    const answersFile = path.join(tempDir('answers'), 'drill.yaml');
    const { KEYRITE_PKCS11_INIT_ARGS: moduleArgs, SOFTHSM2_CONF } = target.env(targetLabel);
    // The token and module arguments come from the answers file; the URI names the module too.
    writeFileSync(answersFile, stringify({
      token: `pkcs11:token=${targetLabel}?module-path=${target.modulePath}`,
      ...(moduleArgs ? { moduleArgs } : {}),
      participants: PEOPLE,
      statements: answers(target).statements,
      // The CLI sees this machine's real interfaces; CI machines are networked.
      preflightOverride: { personId: 'ada', reason: 'test machine, networked CI runner' },
      shares: [run().shares[4], run().shares[0], run().shares[2]],
    }));
    const r = spawnSync(process.execPath, ['bin/keyrite.mjs', 'ceremony', 'run', 'backup-recovery-drill', '--backup', path.join(run().bundle, file), '--answers', answersFile, '--param', `targetToken=${targetLabel}`, '--param', 'destroyDrillCopy=false', '--out', drillOut], {
      // Not the demo token: the PINs come from the environment (an answers file may not hold them).
      env: { ...process.env, KEYRITE_HOME: tempDir('drill-home'), KEYRITE_PKCS11_MODULE: '', KEYRITE_TOKEN_LABEL: '', KEYRITE_TOKEN_URI: '', KEYRITE_PKCS11_INIT_ARGS: '', KEYRITE_PIN: target.userPin, ...(SOFTHSM2_CONF ? { SOFTHSM2_CONF } : {}) },
      encoding: 'utf8', timeout: 120_000,
    });
    expect(r.status, r.stderr + r.stdout).toBe(0);
    const ev = await events(drillOut);
    expect(ev.find((e) => e.type === 'IDENTITY_PROVEN')!.data).toMatchObject({ fingerprintMatches: true, signatureVerified: true });
    expect(ev.find((e) => e.type === 'HSM_LOGIN')!.data).toMatchObject({ tokenLabel: targetLabel, model: other[name] === 'nss' ? 'NSS 3' : 'SoftHSM v2' });
    expect((await verifyBundle(drillOut)).ok).toBe(true);
    // The restored key is really in the other vendor's token, sign-only and non-extractable.
    const conn = connectHsm(target.config(targetLabel));
    try {
      conn.session.login(target.userPin);
      const priv = conn.session.find({ class: 'private', label: readBackupFile(path.join(run().bundle, file)).keyLabel });
      expect(priv).toHaveLength(1);
      const a = conn.session.getAttributesLenient(priv[0], [0x103, 0x162, 0x108, 0x105]);
      expect([...a.values()].map((v) => v?.[0])).toEqual([1, 0, 1, 0]);
    } finally {
      conn.close();
    }
    // No share word, PIN or answers-file secret reached the drill's store or bundle.
    const words = run().shares.flatMap((s) => s.split(' '));
    expect(scanForSecrets([drillOut], [...run().shares], { shareWords: words })).toEqual([]);
  });
});
