import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { storePath } from '../../src/core/config/paths';
import { resolveResource } from '../../src/core/config/resources';
import { connectHsm } from '../../src/core/hsm/connect';
import { generateKeyPair } from '../../src/core/hsm/keygen';
import { parseKeyType } from '../../src/core/hsm/key-spec';
import { loadPolicy } from '../../src/core/policy';
import { Store } from '../../src/core/store/db';
import { Inventory } from '../../src/core/inventory';
import { createTestHsm } from '../helpers/softhsm';
import { runKeyrite } from '../helpers/cli';

const hsm = createTestHsm(['cli-inv']);
const home = mkdtempSync(path.join(os.tmpdir(), 'keyrite-home-'));
const env = {
  ...process.env,
  KEYRITE_HOME: home,
  KEYRITE_PKCS11_MODULE: hsm.modulePath,
  KEYRITE_TOKEN_LABEL: 'cli-inv',
  KEYRITE_PIN: hsm.userPin,
  SOFTHSM2_CONF: process.env.SOFTHSM2_CONF,
};

const keyrite = (...args: string[]) => runKeyrite(args, { env });

/** Generate keys on the token and record them, as a ceremony would; then close everything. */
async function seed(labels: string[]): Promise<Record<string, string>> {
  const conn = connectHsm(hsm.config('cli-inv'));
  const store = await Store.open(storePath(home));
  const ids: Record<string, string> = {};
  try {
    conn.session.login(hsm.userPin);
    const inv = new Inventory(store, loadPolicy());
    for (const label of labels) {
      const key = generateKeyPair(conn.session, { spec: parseKeyType('ec-p384'), label });
      ids[label] = await inv.allocateKeyId('ec-p384', 2026);
      await inv.add({
        id: ids[label], label, algorithm: 'ec', size: 384, curve: 'P-384', purpose: 'root-signing', tokenLabel: conn.session.token.label,
        tokenSerial: conn.session.token.serial, fingerprint: key.publicInfo.fingerprint, createdAt: new Date(), ceremonyId: 'cer-cli',
      });
    }
  } finally {
    conn.close();
    await store.close();
  }
  return ids;
}

describe('keyrite policy', () => {
  it('check --type rsa-2048 --purpose root-signing prints each rule and fails', () => {
    const r = keyrite('policy', 'check', '--type', 'rsa-2048', '--purpose', 'root-signing');
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('pass  key.rsa.min-size');
    expect(r.stdout).toMatch(/FAIL {2}key\.rsa\.root-min-size {2}RSA-2048 is too small for a root-signing key/);
    expect(r.stdout).toContain('Refused: 1 rule(s) failed.');
  });

  it.each([
    [['--type', 'rsa-1024', '--purpose', 'transcript-signing'], 'key.rsa.min-size'],
    [['--type', 'ec-p192', '--purpose', 'root-signing'], 'key.ec.curve'],
    [['--scheme', 'rsa-pss', '--hash', 'SHA-1', '--purpose', 'root-signing'], 'sig.hash.forbidden'],
    [['--threshold', '1', '--count', '3'], 'shares.threshold.min'],
    [['--validity-days', '9500', '--purpose', 'root-signing'], 'validity.max'],
  ])('check %j fails rule %s', (args, rule) => {
    const r = keyrite('policy', 'check', ...args);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`FAIL  ${rule}`);
  });

  it('passes an allowed request and shows warnings', () => {
    const ok = keyrite('policy', 'check', '--type', 'ec-p384', '--purpose', 'root-signing', '--threshold', '2', '--count', '5', '--json');
    expect(ok.code).toBe(0);
    const report = JSON.parse(ok.stdout);
    expect(report).toMatchObject({ ok: true, errors: [], warnings: [{ rule: 'shares.threshold.majority' }] });
  });

  it('refuses a check with nothing to check, as a usage error', () => {
    const r = keyrite('policy', 'check');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('[USAGE]');
  });

  it('show prints the rules; a malformed policy is refused with file and line', () => {
    const show = keyrite('policy', 'show');
    expect(show.code).toBe(0);
    expect(show.stdout).toContain('key.rsa.root-min-size');
    expect(show.stdout).toContain(resolveResource('policies/default.yaml'));
    const bad = path.join(home, 'bad.yaml');
    writeFileSync(bad, readFileSync(resolveResource('policies/default.yaml'), 'utf8').replace('maxCount: 16', 'maxCount: many'));
    const r = keyrite('policy', 'show', '--policy', bad);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`The key policy ${bad}:\\d+ is invalid at shares.maxCount: .*\\[POLICY_INVALID\\]`));
  });
});

describe('keyrite inventory', () => {
  let ids: Record<string, string>;
  beforeAll(async () => {
    // Labels are held to one rule (no commas or quotes); spaces, parentheses and @ still go through the CSV.
    ids = await seed(['cli-root (main) @ 2026', 'cli-second']);
  });

  it('prints the table', () => {
    const r = keyrite('inventory');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^ID\s+LABEL\s+TYPE\s+PURPOSE\s+STATUS/);
    expect(r.stdout).toContain(ids['cli-second']);
    expect(r.stdout).toContain('EC P-384');
  });

  it('--csv opens as RFC 4180 CSV with the legacy key-inventory.csv columns first; --out never overwrites', () => {
    const out = path.join(home, 'inventory.csv');
    expect(keyrite('inventory', '--csv', '--out', out).code).toBe(0);
    const rows = JSON.parse(execFileSync('python3', ['-c', 'import csv,json,sys; print(json.dumps(list(csv.reader(open(sys.argv[1], newline="")))))', out]).toString()) as string[][];
    expect(rows[0].slice(0, 5)).toEqual(['id', 'algorithm', 'size', 'created', 'status']);
    expect(rows[1].slice(0, 3)).toEqual([ids['cli-root (main) @ 2026'], 'EC', '384']);
    expect(rows[1][5]).toBe('cli-root (main) @ 2026');
    const again = keyrite('inventory', '--csv', '--out', out);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('[OUTPUT_EXISTS]');
  });

  it('check: no differences, then the vanished key is reported and exits 1', async () => {
    const clean = keyrite('inventory', 'check');
    expect(clean.stderr).toBe('');
    expect(clean.code).toBe(0);
    expect(clean.stdout).toMatch(/No differences: the 2 inventory key\(s\)/);

    const conn = connectHsm(hsm.config('cli-inv'));
    try {
      conn.session.login(hsm.userPin);
      for (const h of conn.session.find({ label: 'cli-second' })) conn.session.destroy(h);
      generateKeyPair(conn.session, { spec: parseKeyType('ec-p256'), label: 'cli-stray' });
    } finally {
      conn.close();
    }
    const r = keyrite('inventory', 'check');
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('2 difference(s)');
    expect(r.stdout).toMatch(new RegExp(`MISSING\\s+${ids['cli-second']}\\s+Key ${ids['cli-second']} \\('cli-second', active\\) is in the inventory but not on token 'cli-inv'`));
    expect(r.stdout).toMatch(/UNKNOWN\s+-\s+Token 'cli-inv' holds .* labelled 'cli-stray'/);
    const json = JSON.parse(keyrite('inventory', 'check', '--json').stdout);
    expect(json.drifts.map((d: { kind: string }) => d.kind).sort()).toEqual(['missing', 'unknown']);
  });

  it('check with a wrong PIN fails with the HSM error', () => {
    const r = spawnSync(process.execPath, ['bin/keyrite.mjs', 'inventory', 'check'], { env: { ...env, KEYRITE_PIN: '000000' }, encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/PIN/);
  });
});
