import path from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { CeremonyRepository } from '../../src/core/store/ceremonies';
import { Store } from '../../src/core/store/db';
import { makeEvent, parseTranscript, transcriptText, type TranscriptEvent } from '../../src/core/transcript';
import { tempDir } from '../helpers/ceremony';

/**
 * The compare-and-set under every state change, as a property: writers on their own sqlite
 * connections (as separate processes would be) read the ceremony, then save steps computed from
 * what they read, in random interleavings and at the same time. A save computed from a state the
 * store has moved past must fail with CEREMONY_STATE_CONFLICT and write nothing; the chain in the
 * store is always one unbroken chain made only of saves that succeeded.
 */
const dir = tempDir('cas');
const stores: Store[] = [];
afterAll(async () => {
  for (const s of stores) await s.close();
});

type Op = { kind: 'read'; writer: number } | { kind: 'save'; writer: number; events: number } | { kind: 'race'; events: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('read' as const), writer: fc.integer({ min: 0, max: 2 }) }),
  fc.record({ kind: fc.constant('save' as const), writer: fc.integer({ min: 0, max: 2 }), events: fc.integer({ min: 0, max: 3 }) }),
  fc.record({ kind: fc.constant('race' as const), events: fc.integer({ min: 0, max: 2 }) }),
);

let run = 0;
async function scenario(ops: Op[]): Promise<void> {
  run += 1;
  const file = path.join(dir, `cas-${run}.sqlite`);
  const conns = [await Store.open(file), await Store.open(file), await Store.open(file)];
  stores.push(...conns);
  const repos = conns.map((c) => new CeremonyRepository(c));
  const id = `cas-${run}`;
  const at = '2026-12-02T12:00:00Z';
  const first = makeEvent(null, { at, ceremony: id, step: 's0', actor: null, type: 'CEREMONY_STARTED', data: {} });
  await conns[0].transaction((tx) => repos[0].create(tx, { id, scriptId: 'x', scriptVersion: '1', scriptSha256: '0'.repeat(64), scriptPath: '/x.yaml', title: 'x', parameters: {}, state: { n: 0 }, outDir: '/tmp/x', demo: false, steps: [{ id: 's0', title: 'S0' }, { id: 's1', title: 'S1' }], at }, [first]));

  // What each writer last read: the version and chain head its next save is computed from.
  const seen = await Promise.all(repos.map(async (r) => ({ version: (await r.get(id))!.stateVersion, head: await r.lastEvent(id) })));
  let committed = [first];
  let version = 1;

  const save = async (w: number, n: number): Promise<boolean> => {
    const events: TranscriptEvent[] = [];
    let head = seen[w].head;
    for (let i = 0; i < n; i++) events.push((head = makeEvent(head, { at, ceremony: id, step: 's1', actor: `w${w}`, type: 'STEP_CONFIRMED', data: { i } })));
    try {
      const v = await conns[w].transaction((tx) => repos[w].save(tx, { id, expectedVersion: seen[w].version, events, state: { n: version }, currentStep: 1, status: 'running', at }));
      seen[w] = { version: v, head };
      return true;
    } catch (e) {
      expect((e as { code?: string }).code).toBe('CEREMONY_STATE_CONFLICT');
      return false;
    }
  };

  for (const o of ops) {
    if (o.kind === 'read') {
      seen[o.writer] = { version: (await repos[o.writer].get(id))!.stateVersion, head: await repos[o.writer].lastEvent(id) };
      continue;
    }
    const before = await repos[0].events(id);
    if (o.kind === 'save') {
      const fresh = seen[o.writer].version === version;
      const ok = await save(o.writer, o.events);
      expect(ok).toBe(fresh);
      if (ok) version += 1;
    } else {
      // Everyone saves at once from what they last read: at most one computed from the current version wins.
      const fresh = seen.filter((s) => s.version === version).length;
      const results = await Promise.all([0, 1, 2].map((w) => save(w, o.events)));
      const wins = results.filter(Boolean).length;
      expect(wins).toBe(Math.min(1, fresh));
      version += wins;
    }
    const after = await repos[0].events(id);
    if (after.length === before.length) expect(after).toEqual(before);
    committed = after;
    // One unbroken chain: seq 1..n, every prev the hash before it.
    expect(parseTranscript(transcriptText(committed)).length).toBe(committed.length);
    const row = await repos[0].get(id);
    expect(row!.stateVersion).toBe(version);
  }
}

describe('compare-and-set on the state version', () => {
  it('random interleavings and simultaneous saves of three writers never fork or overwrite the chain', async () => {
    await fc.assert(fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 25 }), scenario), { numRuns: 25, seed: Number(process.env.KEYRITE_CAS_SEED ?? Date.now() % 1_000_000), verbose: 1 });
  });
});
