import { openSync, readFileSync, statSync, writeSync, closeSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { CeremonyRepository } from '../../src/core/store/ceremonies';
import { Store } from '../../src/core/store/db';
import { makeEvent, type TranscriptEvent } from '../../src/core/transcript';
import { eventLine } from '../../src/core/transcript/event';
import { tempDir } from '../helpers/ceremony';

/**
 * Store.open no longer runs the whole-file quick_check (its cost grew with the store). What
 * replaces it: the chain head a ceremony builds on is checked whenever it is loaded, and the
 * whole-file check is still there on demand (Store.checkIntegrity).
 */
const dir = tempDir('store-open');
const open: Store[] = [];
afterAll(async () => {
  for (const s of open) await s.close();
});

const at = '2026-12-02T12:00:00Z';
async function storeWithCeremony(name: string, events: number): Promise<{ file: string; store: Store; repo: CeremonyRepository; id: string; chain: TranscriptEvent[] }> {
  const file = path.join(dir, `${name}.sqlite`);
  const store = await Store.open(file);
  open.push(store);
  const repo = new CeremonyRepository(store);
  const id = `c-${name}`;
  const chain: TranscriptEvent[] = [];
  let head: TranscriptEvent | null = null;
  for (let i = 0; i < events; i++) chain.push((head = makeEvent(head, { at, ceremony: id, step: 's0', actor: null, type: i === 0 ? 'CEREMONY_STARTED' : 'STEP_CONFIRMED', data: { i, note: 'x'.repeat(i % 50) } })));
  await store.transaction((tx) => repo.create(tx, { id, scriptId: 'x', scriptVersion: '1', scriptSha256: '0'.repeat(64), scriptPath: '/x.yaml', title: 'x', parameters: {}, state: {}, outDir: '/tmp/x', demo: false, steps: [{ id: 's0', title: 'S0' }], at }, chain));
  return { file, store, repo, id, chain };
}

describe('Store integrity without a whole-file check at open', () => {
  it('the chain head loads as written', async () => {
    const { repo, id, chain } = await storeWithCeremony('intact', 5);
    expect(await repo.lastEvent(id)).toEqual(chain[chain.length - 1]);
  });

  it('a changed tail row is refused with STORE_CORRUPT, whatever was changed', async () => {
    const { store, repo, id, chain } = await storeWithCeremony('tail', 3);
    const tail = chain[chain.length - 1];
    const line = eventLine(tail);
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          // A byte of the line replaced (any position, any printable character).
          fc.record({ kind: fc.constant('flip' as const), pos: fc.nat({ max: line.length - 1 }), ch: fc.integer({ min: 0x20, max: 0x7e }) }),
          // The row's own hash or seq column no longer agreeing with its line.
          fc.record({ kind: fc.constant('hash' as const), pos: fc.nat({ max: 63 }), ch: fc.integer({ min: 0x20, max: 0x7e }) }),
          fc.record({ kind: fc.constant('line-of-other' as const), pos: fc.nat({ max: chain.length - 2 }), ch: fc.constant(0) }),
        ),
        async (m) => {
          let newLine = line;
          let newHash = tail.hash;
          if (m.kind === 'flip') newLine = line.slice(0, m.pos) + String.fromCharCode(m.ch) + line.slice(m.pos + 1);
          if (m.kind === 'hash') newHash = tail.hash.slice(0, m.pos) + String.fromCharCode(m.ch) + tail.hash.slice(m.pos + 1);
          if (m.kind === 'line-of-other') newLine = eventLine(chain[m.pos]);
          fc.pre(newLine !== line || newHash !== tail.hash);
          await store.run('UPDATE events SET line = ?, hash = ? WHERE ceremony_id = ? AND seq = ?', [newLine, newHash, id, tail.seq]);
          try {
            await expect(repo.lastEvent(id)).rejects.toMatchObject({ code: 'STORE_CORRUPT', details: { id, seq: tail.seq } });
          } finally {
            await store.run('UPDATE events SET line = ?, hash = ? WHERE ceremony_id = ? AND seq = ?', [line, tail.hash, id, tail.seq]);
          }
        },
      ),
      { seed: 1802, numRuns: 120 },
    );
    expect(await repo.lastEvent(id)).toEqual(tail);
  });

  it('damaged pages deep in the file are found on demand by checkIntegrity, and open stays quick', async () => {
    const { file, store } = await storeWithCeremony('pages', 2000);
    await store.close();
    open.splice(open.indexOf(store), 1);
    const size = statSync(file).size;
    const pageSize = readFileSync(file).readUInt16BE(16);
    expect(size / pageSize).toBeGreaterThan(20);
    // Overwrite the middle of a page in the second half of the file (not the header, not the schema).
    const page = Math.floor(size / pageSize / 2) + 3;
    const fd = openSync(file, 'r+');
    try {
      writeSync(fd, Buffer.alloc(pageSize / 2, 0xa5), 0, pageSize / 2, page * pageSize + 8);
    } finally {
      closeSync(fd);
    }
    const reopened = await Store.open(file, { create: false });
    open.push(reopened);
    await expect(reopened.checkIntegrity()).rejects.toMatchObject({ code: 'STORE_CORRUPT', details: { file } });
  });

  it('a sound store passes checkIntegrity', async () => {
    const { store } = await storeWithCeremony('sound', 50);
    await expect(store.checkIntegrity()).resolves.toBeUndefined();
  });
});
