import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { combine } from 'shamir-secret-sharing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBackup, decodeShare, restoreBackup, renderShareCardHtml, type BackupResult } from '../../src/core/backup';
import { storePath } from '../../src/core/config/paths';
import { connectHsm } from '../../src/core/hsm/connect';
import { generateKeyPair } from '../../src/core/hsm/keygen';
import { parseKeyType } from '../../src/core/hsm/key-spec';
import { Store } from '../../src/core/store/db';
import { createTestHsm } from '../helpers/softhsm';
import { runKeyrite } from '../helpers/cli';

/**
 * Canary: a full backup + recovery with a fixed KEYRITE_HOME, then every file written (backup
 * folder, KEYRITE_HOME with its sqlite store, SoftHSM's config and token directory) is searched
 * for the KEK (raw, hex, base64) and for every share (words, 4-word runs, share bytes).
 * The KEK is obtained the way a quorum would: by combining shares — no debug seam.
 */
const home = mkdtempSync(path.join(os.tmpdir(), 'keyrite-canary-home-'));
const outDir = mkdtempSync(path.join(os.tmpdir(), 'keyrite-canary-out-'));
process.env.KEYRITE_HOME = home;
const hsm = createTestHsm(['canary-source', 'canary-target']);

let result: BackupResult;
let kek: Buffer;

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? filesUnder(p) : e.isFile() ? [p] : [];
  });
}

function needles(secret: Buffer, name: string): Array<{ name: string; bytes: Buffer }> {
  return [
    { name: `${name} raw`, bytes: secret },
    { name: `${name} hex`, bytes: Buffer.from(secret.toString('hex')) },
    { name: `${name} HEX`, bytes: Buffer.from(secret.toString('hex').toUpperCase()) },
    { name: `${name} base64`, bytes: Buffer.from(secret.toString('base64').replace(/=+$/, '')) },
    { name: `${name} base64url`, bytes: Buffer.from(secret.toString('base64url')) },
  ];
}

function scan(dirs: string[], list: Array<{ name: string; bytes: Buffer }>): string[] {
  const hits: string[] = [];
  for (const file of dirs.flatMap(filesUnder)) {
    const content = readFileSync(file);
    const lower = Buffer.from(content.toString('latin1').toLowerCase(), 'latin1');
    for (const n of list) if (content.includes(n.bytes) || lower.includes(n.bytes)) hits.push(`${n.name} in ${file}`);
  }
  return hits;
}

beforeAll(async () => {
  const source = connectHsm(hsm.config('canary-source'));
  const target = connectHsm(hsm.config('canary-target'));
  try {
    source.session.login(hsm.userPin);
    target.session.login(hsm.userPin);
    generateKeyPair(source.session, { spec: parseKeyType('ec-p384'), label: 'canary-key', wrappable: true });
    result = await createBackup(source.session, { keyLabel: 'canary-key', keyId: 'canary', threshold: 3, count: 5, custodians: ['A', 'B', 'C', 'D', 'E'], ceremonyId: 'canary', outDir });
    const decoded = result.shares.map((s) => decodeShare(s.words.join(' ')));
    kek = Buffer.from(await combine(decoded.slice(0, 3).map((d) => new Uint8Array(d.share))));
    const restored = await restoreBackup(target.session, result.backup, decoded.slice(2));
    for (const s of result.shares) await renderShareCardHtml(s, { ceremonyTitle: 'Canary', keyId: 'canary' });

    // What a caller keeps as evidence goes into the real store: everything returned except the shares.
    const store = await Store.open(storePath(home));
    const { shares: _secret, ...evidence } = result;
    await store.run('INSERT INTO settings (name, value) VALUES (?, ?)', ['canary-evidence', JSON.stringify({ evidence, restored })]);
    await store.close();
  } finally {
    source.close();
    target.close();
  }
  // The CLI checks each share against the backup, with the same KEYRITE_HOME.
  for (const s of result.shares) {
    const r = runKeyrite(['share', 'check', '--backup', result.file], { input: s.words.join(' '), env: { KEYRITE_HOME: home } });
    expect(r.status, r.stderr).toBe(0);
  }
});

afterAll(() => kek?.fill(0));

describe('secrets never reach disk', () => {
  it('the KEK rebuilt from the shares is the recorded one (so the canary is real)', () => {
    expect(kek).toHaveLength(32);
    expect(result.immediateCheck.signatureVerified).toBe(true);
    const files = [outDir, home, hsm.dir].flatMap(filesUnder);
    expect(files.some((f) => f.endsWith('canary.backup.json'))).toBe(true);
    expect(files.some((f) => f === storePath(home))).toBe(true);
    expect(files.some((f) => f.startsWith(hsm.tokenDir) && statSync(f).size > 0)).toBe(true);
  });

  it('the scanner finds a planted needle (positive control)', () => {
    const control = mkdtempSync(path.join(os.tmpdir(), 'keyrite-canary-control-'));
    writeFileSync(path.join(control, 'leak.txt'), `x ${kek.toString('base64')} ${result.shares[1].words.slice(5, 9).join(' ')} y`);
    const words = result.shares[1].words;
    const hits = scan([control], [...needles(kek, 'KEK'), { name: 'share 2 words 6-9', bytes: Buffer.from(words.slice(5, 9).join(' ')) }]);
    // base64url equals base64 when the KEK's base64 has no '+' or '/', so that needle may hit too.
    expect(hits.some((h) => h.startsWith('KEK base64 in'))).toBe(true);
    expect(hits.some((h) => h.startsWith('share 2 words 6-9 in'))).toBe(true);
    expect(hits.filter((h) => /KEK (raw|hex|HEX) /.test(h))).toEqual([]);
  });

  it('zero hits for the KEK and every share in every file written', () => {
    const list = [...needles(kek, 'KEK')];
    for (const s of result.shares) {
      const d = decodeShare(s.words.join(' '));
      list.push(...needles(Buffer.from(d.share), `share ${s.index} bytes`));
      list.push({ name: `share ${s.index} words`, bytes: Buffer.from(s.words.join(' ')) });
      for (let i = 0; i + 4 <= s.words.length; i++) list.push({ name: `share ${s.index} words ${i + 1}-${i + 4}`, bytes: Buffer.from(s.words.slice(i, i + 4).join(' ')) });
    }
    expect(scan([outDir, home, hsm.dir], list)).toEqual([]);
  });
});
