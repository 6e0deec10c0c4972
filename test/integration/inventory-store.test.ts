import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadPolicy } from '../../src/core/policy';
import { Store } from '../../src/core/store/db';
import { Inventory, statusTransitionAllowed, type KeyStatus, type NewInventoryKey } from '../../src/core/inventory';

const dir = mkdtempSync(path.join(os.tmpdir(), 'keyrite-inv-'));
const policy = loadPolicy();
let store: Store;
let inv: Inventory;

beforeAll(async () => {
  store = await Store.open(path.join(dir, 'keyrite.sqlite'));
  inv = new Inventory(store, policy);
});
afterAll(async () => store?.close());

let seq = 0;
function newKey(over: Partial<NewInventoryKey> & { id: string }): NewInventoryKey {
  seq++;
  return {
    label: `key-${seq}`, algorithm: 'ec', size: 384, curve: 'P-384', purpose: 'root-signing', tokenLabel: 'tok', tokenSerial: 'abc123',
    fingerprint: seq.toString(16).padStart(64, '0'), createdAt: new Date('2026-03-01T12:00:00Z'), ceremonyId: 'cer-gen-1', ...over,
  };
}

async function codeOf(p: Promise<unknown>): Promise<{ code: string; message: string; details: Record<string, unknown> }> {
  try {
    await p;
  } catch (e) {
    return e as { code: string; message: string; details: Record<string, unknown> };
  }
  throw new Error('expected a rejection');
}

/** Parse CSV with Python's csv module: an independent RFC 4180 reader. */
function pythonCsv(text: string): string[][] {
  const file = path.join(dir, `inv-${Date.now()}-${Math.random()}.csv`);
  writeFileSync(file, text);
  const out = execFileSync('python3', ['-c', 'import csv,json,sys; print(json.dumps(list(csv.reader(open(sys.argv[1], newline="", encoding="utf-8"), strict=True))))', file]);
  return JSON.parse(out.toString()) as string[][];
}

describe('key ids', () => {
  it('allocates <alg>-<year>-<nn> without collision, per algorithm and year', async () => {
    expect(await inv.allocateKeyId('ec-p384', 2026)).toBe('ecp384-2026-01');
    await inv.add(newKey({ id: await inv.allocateKeyId('ec-p384', 2026) }));
    expect(await inv.allocateKeyId('ec-p384', 2026)).toBe('ecp384-2026-02');
    expect(await inv.allocateKeyId('EC-P384', 2027)).toBe('ecp384-2027-01');
    expect(await inv.allocateKeyId('rsa-4096', 2026)).toBe('rsa4096-2026-01');
    await inv.add(newKey({ id: 'ecp384-2026-07' }));
    expect(await inv.allocateKeyId('ec-p384', 2026)).toBe('ecp384-2026-08');
  });

  it('allocates inside a caller transaction and sees its own uncommitted rows', async () => {
    const ids = await store.transaction(async (tx) => {
      const a = await inv.allocateKeyId('rsa-3072', 2026, tx);
      await inv.add(newKey({ id: a, algorithm: 'rsa', size: 3072, curve: null }), tx);
      const b = await inv.allocateKeyId('rsa-3072', 2026, tx);
      return [a, b];
    });
    expect(ids).toEqual(['rsa3072-2026-01', 'rsa3072-2026-02']);
  });

  it('claims a key id per ceremony step: side by side each gets its own, asked again the same one', async () => {
    const at = new Date('2026-03-01T00:00:00Z');
    const ids = await Promise.all(['cer-a', 'cer-b', 'cer-c'].map((ceremonyId) => inv.claimKeyId('rsa-2048', 2031, { ceremonyId, stepId: 'generate', at })));
    expect([...ids].sort()).toEqual(['rsa2048-2031-01', 'rsa2048-2031-02', 'rsa2048-2031-03']);
    // A resume after a crash between the claim and the step's commit asks again: same id.
    expect(await inv.claimKeyId('rsa-2048', 2031, { ceremonyId: 'cer-b', stepId: 'generate', at })).toBe(ids[1]);
    // A claimed number is never allocated again, even before (or without) its key entering the inventory.
    expect(await inv.allocateKeyId('rsa-2048', 2031)).toBe('rsa2048-2031-04');
  });

  it('refuses a key id collision with KEY_ID_COLLISION', async () => {
    await inv.add(newKey({ id: 'ecp256-2026-01', curve: 'P-256', size: 256, label: 'first' }));
    const err = await codeOf(inv.add(newKey({ id: 'ecp256-2026-01', curve: 'P-256', size: 256, label: 'second' })));
    expect(err.code).toBe('KEY_ID_COLLISION');
    expect(err.message).toContain("'ecp256-2026-01'");
    expect(err.message).toContain("label 'first'");
    expect((await inv.get('ecp256-2026-01'))!.label).toBe('first');
  });

  it.each(['ECP384-2026-1', 'rsa-2026-01', 'ecp384_2026_01', ''])('refuses malformed key id %j', async (id) => {
    expect((await codeOf(inv.add(newKey({ id })))).code).toBe('KEY_ID_INVALID');
  });

  it('refuses a key id whose tag is not the key type', async () => {
    const err = await codeOf(inv.add(newKey({ id: 'rsa4096-2026-09' })));
    expect(err.code).toBe('KEY_ID_MISMATCH');
    expect(err.message).toContain('ecp384');
  });

  it('refuses an unknown key type when allocating', async () => {
    expect((await codeOf(inv.allocateKeyId('dsa-1024', 2026))).code).toBe('KEY_TYPE_UNKNOWN');
    expect((await codeOf(inv.allocateKeyId('ec-p384', 26))).code).toBe('KEY_ID_YEAR_INVALID');
  });

  it('a failed caller transaction leaves no inventory row behind', async () => {
    await expect(store.transaction(async (tx) => {
      await inv.add(newKey({ id: 'ecp521-2026-01', curve: 'P-521', size: 521 }), tx);
      throw new Error('step failed');
    })).rejects.toThrow('step failed');
    expect(await inv.get('ecp521-2026-01')).toBeUndefined();
    expect(await inv.history('ecp521-2026-01')).toEqual([]);
  });
});

describe('status changes', () => {
  const all: KeyStatus[] = ['active', 'retiring', 'archived', 'destroyed', 'compromised'];
  const allowed = new Set([
    'active>retiring', 'active>archived', 'active>destroyed', 'active>compromised', 'retiring>archived', 'retiring>destroyed', 'retiring>compromised',
    'archived>destroyed', 'archived>compromised', 'compromised>destroyed',
  ]);
  it.each(all.flatMap((from) => all.map((to) => [from, to] as const)))('%s -> %s', (from, to) => {
    expect(statusTransitionAllowed(from, to)).toBe(allowed.has(`${from}>${to}`));
  });

  it('walks a key through its life, each change recorded with its ceremony id', async () => {
    await inv.add(newKey({ id: 'ecp384-2025-01', label: 'life', createdAt: '2025-01-10T09:00:00Z', ceremonyId: 'cer-gen' }));
    await inv.setStatus('ecp384-2025-01', 'retiring', 'cer-rot', 'replaced by ecp384-2026-01');
    await inv.setStatus('ecp384-2025-01', 'archived', 'cer-rot-2');
    await inv.setStatus('ecp384-2025-01', 'destroyed', 'cer-destroy', 'end of life');
    expect((await inv.get('ecp384-2025-01'))!.status).toBe('destroyed');
    const h = await inv.history('ecp384-2025-01');
    expect(h.map((c) => [c.from, c.to, c.ceremonyId, c.reason])).toEqual([
      [null, 'active', 'cer-gen', 'created'],
      ['active', 'retiring', 'cer-rot', 'replaced by ecp384-2026-01'],
      ['retiring', 'archived', 'cer-rot-2', null],
      ['archived', 'destroyed', 'cer-destroy', 'end of life'],
    ]);
  });

  it('refuses destroyed -> active with KEY_STATUS_TRANSITION naming both states', async () => {
    const err = await codeOf(inv.setStatus('ecp384-2025-01', 'active', 'cer-x'));
    expect(err.code).toBe('KEY_STATUS_TRANSITION');
    expect(err.message).toContain('from destroyed to active');
    expect(err.details).toMatchObject({ from: 'destroyed', to: 'active' });
    expect((await inv.get('ecp384-2025-01'))!.status).toBe('destroyed');
    expect(await inv.history('ecp384-2025-01')).toHaveLength(4);
  });

  it('refuses backwards moves, compromised -> active, and a change without a ceremony', async () => {
    await inv.add(newKey({ id: 'ecp384-2025-02', label: 'back' }));
    await inv.setStatus('ecp384-2025-02', 'archived', 'cer-a');
    expect((await codeOf(inv.setStatus('ecp384-2025-02', 'retiring', 'cer-b'))).code).toBe('KEY_STATUS_TRANSITION');
    await inv.setStatus('ecp384-2025-02', 'compromised', 'cer-c', 'HSM lost');
    expect((await codeOf(inv.setStatus('ecp384-2025-02', 'active', 'cer-d'))).message).toMatch(/compromised key can only be destroyed/);
    expect((await codeOf(inv.setStatus('ecp384-2025-02', 'destroyed', ''))).code).toBe('KEY_CEREMONY_MISSING');
    expect((await codeOf(inv.setStatus('ecp384-2025-02', 'lost' as KeyStatus, 'cer-e'))).code).toBe('KEY_STATUS_UNKNOWN');
    expect((await codeOf(inv.setStatus('nope-2026-01', 'retiring', 'cer-e'))).code).toBe('KEY_NOT_FOUND');
  });
});

describe('records, flags and lookups', () => {
  it('keeps backups, certificates and facts, and finds keys by fingerprint and label', async () => {
    await inv.add(newKey({ id: 'rsa4096-2026-01', algorithm: 'rsa', size: 4096, curve: null, label: 'root-2026', fingerprint: 'AB'.repeat(32) }));
    await inv.addBackup('rsa4096-2026-01', { file: 'backup/rsa4096-2026-01.backup.json', splitId: '7F3A-91C2', threshold: 3, count: 5, custodians: ['alice', 'bob', 'carol', 'dave', 'erin'], ceremonyId: 'cer-gen-1' });
    await inv.addCertificate('rsa4096-2026-01', { serial: '01ab', subject: 'CN=Keyrite Root 2026', notBefore: '2026-03-01T00:00:00Z', notAfter: '2051-03-01T00:00:00Z' });
    await inv.addFact('rsa4096-2026-01', { kind: 'bag', text: 'share 1 in bag A1234567', ceremonyId: 'cer-gen-1' });
    const k = (await inv.findByFingerprint('ab:'.repeat(31) + 'ab'))!;
    expect(k.id).toBe('rsa4096-2026-01');
    expect(k.backups[0]).toMatchObject({ splitId: '7F3A-91C2', threshold: 3, count: 5 });
    expect(k.certificates[0].subject).toBe('CN=Keyrite Root 2026');
    expect(k.facts[0]).toMatchObject({ kind: 'bag', text: 'share 1 in bag A1234567', at: expect.any(String) });
    expect(k.rotationDue).toBe('2036-02-29T12:00:00.000Z');
    expect(k.flags).toEqual({ weak: false, overdue: false, reasons: [] });
    expect((await inv.findByLabel('root-2026'))!.id).toBe('rsa4096-2026-01');
    expect(await inv.findByLabel('no-such-label')).toBeUndefined();
    expect((await codeOf(inv.addFact('nope-2026-01', { kind: 'x', text: 'y' }))).code).toBe('KEY_NOT_FOUND');
  });

  it('flags weak keys with the rule id and overdue rotation', async () => {
    await inv.add(newKey({ id: 'rsa2048-2020-01', algorithm: 'rsa', size: 2048, curve: null, label: 'old-root', createdAt: '2020-01-01T00:00:00Z', purpose: 'root-signing' }));
    await inv.add(newKey({ id: 'ecp384-2020-01', label: 'old-transcript', createdAt: '2020-01-01T00:00:00Z', purpose: 'transcript-signing' }));
    const now = new Date('2026-06-01T00:00:00Z');
    const keys = await inv.list({ now });
    const weak = keys.find((k) => k.id === 'rsa2048-2020-01')!;
    expect(weak.flags.weak).toBe(true);
    expect(weak.flags.reasons.join(' ')).toContain('rule key.rsa.root-min-size');
    const overdue = keys.find((k) => k.id === 'ecp384-2020-01')!;
    expect(overdue.flags).toMatchObject({ weak: false, overdue: true });
    expect(overdue.flags.reasons[0]).toContain('2020-12-31');
    // A retiring key is already being replaced: not flagged overdue.
    await inv.setStatus('ecp384-2020-01', 'retiring', 'cer-rot');
    expect((await inv.list({ now })).find((k) => k.id === 'ecp384-2020-01')!.flags.overdue).toBe(false);
  });
});

describe('CSV export', () => {
  it('starts with the legacy key-inventory.csv columns and quotes commas, quotes and newlines (RFC 4180)', async () => {
    await inv.add(newKey({ id: 'ecp384-2030-01', label: 'root, "primary"\nsecond line', createdAt: '2030-01-02T03:04:05Z' }));
    await inv.addFact('ecp384-2030-01', { kind: 'note', text: '=HYPERLINK("x")' });
    const csv = await inv.toCsv();
    expect(csv.startsWith('id,algorithm,size,created,status,label,')).toBe(true);
    expect(csv.endsWith('\r\n')).toBe(true);
    const rows = pythonCsv(csv);
    const header = rows[0];
    expect(header.slice(0, 5)).toEqual(['id', 'algorithm', 'size', 'created', 'status']);
    const all = await inv.list();
    expect(rows).toHaveLength(all.length + 1);
    for (const r of rows) expect(r).toHaveLength(header.length);
    const row = rows.find((r) => r[0] === 'ecp384-2030-01')!;
    expect(row.slice(0, 5)).toEqual(['ecp384-2030-01', 'EC', '384', '2030-01-02T03:04:05.000Z', 'active']);
    expect(row[header.indexOf('label')]).toBe('root, "primary"\nsecond line');
    expect(row[header.indexOf('facts')]).toBe('note: =HYPERLINK("x")');
    const withBackup = rows.find((r) => r[0] === 'rsa4096-2026-01')!;
    expect(withBackup[header.indexOf('backups')]).toBe('backup/rsa4096-2026-01.backup.json (split 7F3A-91C2, 3 of 5: alice; bob; carol; dave; erin)');
    const weak = rows.find((r) => r[0] === 'rsa2048-2020-01')!;
    expect(weak[header.indexOf('weak')]).toBe('yes');
  });

  it('neutralises a label that a spreadsheet would run as a formula', async () => {
    await inv.add(newKey({ id: 'ecp384-2031-01', label: '=cmd|calc' }));
    const row = pythonCsv(await inv.toCsv()).find((r) => r[0] === 'ecp384-2031-01')!;
    expect(row[5]).toBe("'=cmd|calc");
  });

  it('can export only the seed columns', async () => {
    const rows = pythonCsv(await inv.toCsv({ full: false }));
    expect(rows[0]).toEqual(['id', 'algorithm', 'size', 'created', 'status']);
    expect(rows.find((r) => r[0] === 'rsa4096-2026-01')).toEqual(['rsa4096-2026-01', 'RSA', '4096', '2026-03-01T12:00:00.000Z', 'active']);
  });
});
