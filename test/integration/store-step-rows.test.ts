import path from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { CeremonyRepository, type CeremonyStatus } from '../../src/core/store/ceremonies';
import { Store } from '../../src/core/store/db';
import { makeEvent, type TranscriptEvent } from '../../src/core/transcript';
import { tempDir } from '../helpers/ceremony';

/**
 * CeremonyRepository.save writes a step's events in multi-row INSERTs and rewrites the step rows
 * only when the position or status moved (issue #18: every statement is a trip through libuv's
 * thread pool). What must hold: after any sequence of saves, the step rows are exactly what
 * rewriting them on every save would give, and the events are the whole chain, in order, however
 * many a save carries; a save whose events clash with stored ones writes nothing.
 */
const dir = tempDir('step-rows');
const stores: Store[] = [];
afterAll(async () => {
  for (const s of stores) await s.close();
});

const STEPS = 4;
const at = (i: number): string => new Date(Date.UTC(2026, 11, 2, 12, 0, i)).toISOString();
type Row = { idx: number; status: string; started_at: string | null; finished_at: string | null };

/** The rows as the full UPDATE makes them, replayed over every save (the behaviour before the skip). */
function expectedRows(saves: Array<{ currentStep: number; status: CeremonyStatus; at: string }>, createdAt: string): Row[] {
  const rows: Row[] = Array.from({ length: STEPS }, (_, i) => ({ idx: i, status: i === 0 ? 'running' : 'pending', started_at: i === 0 ? createdAt : null, finished_at: null }));
  for (const s of saves) {
    const running = s.status === 'running' ? s.currentStep : -1;
    const doneBelow = s.status === 'sealed' ? Number.MAX_SAFE_INTEGER : s.currentStep;
    for (const r of rows) {
      if (r.idx < doneBelow && r.status !== 'done') r.finished_at = s.at;
      if (r.idx === running && r.status !== 'running') r.started_at = s.at;
      r.status = r.idx < doneBelow ? 'done' : r.idx === running ? 'running' : 'pending';
    }
  }
  return rows;
}

let n = 0;
async function fresh(): Promise<{ repo: CeremonyRepository; store: Store; id: string; first: TranscriptEvent }> {
  n += 1;
  const store = await Store.open(path.join(dir, `rows-${n}.sqlite`));
  stores.push(store);
  const repo = new CeremonyRepository(store);
  const id = `rows-${n}`;
  const first = makeEvent(null, { at: at(0), ceremony: id, step: 's0', actor: null, type: 'CEREMONY_STARTED', data: {} });
  const steps = Array.from({ length: STEPS }, (_, i) => ({ id: `s${i}`, title: `Step ${i}` }));
  await store.transaction((tx) => repo.create(tx, { id, scriptId: 'x', scriptVersion: '1', scriptSha256: '0'.repeat(64), scriptPath: '/x.yaml', title: 'x', parameters: {}, state: {}, outDir: '/tmp/x', demo: false, steps, at: at(0) }, [first]));
  return { repo, store, id, first };
}

const move = fc.record({
  advance: fc.integer({ min: 0, max: 2 }),
  end: fc.constantFrom<CeremonyStatus | null>(null, null, null, null, 'sealed', 'aborted'),
  events: fc.integer({ min: 0, max: 70 }),
});

describe('step rows and event batches', () => {
  it('after random saves the step rows are what rewriting them every time gives, and the chain is whole (seeded property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(move, { minLength: 1, maxLength: 12 }), async (moves) => {
        const { repo, store, id, first } = await fresh();
        let version = 1;
        let position = { currentStep: 0, status: 'running' as CeremonyStatus };
        let head = first;
        const chain = [first];
        const saves: Array<{ currentStep: number; status: CeremonyStatus; at: string }> = [];
        for (const [i, m] of moves.entries()) {
          if (position.status !== 'running') break;
          const currentStep = Math.min(position.currentStep + m.advance, STEPS);
          const status: CeremonyStatus = m.end ?? (currentStep === STEPS ? 'sealed' : 'running');
          const events: TranscriptEvent[] = [];
          for (let k = 0; k < m.events; k++) events.push((head = makeEvent(head, { at: at(i + 1), ceremony: id, step: null, actor: null, type: 'STEP_CONFIRMED', data: { k } })));
          const change = { id, expectedVersion: version, events, state: { i }, currentStep, status, at: at(i + 1), from: position };
          version = await store.transaction((tx) => repo.save(tx, change));
          chain.push(...events);
          saves.push({ currentStep, status, at: at(i + 1) });
          position = { currentStep, status };
        }
        const rows = await store.all<Row>('SELECT idx, status, started_at, finished_at FROM steps WHERE ceremony_id = ? ORDER BY idx', [id]);
        expect(rows).toEqual(expectedRows(saves, at(0)));
        expect((await repo.events(id)).map((e) => e.hash)).toEqual(chain.map((e) => e.hash));
      }),
      { seed: 1812, numRuns: 30 },
    );
  });

  it('a save whose batch repeats a stored seq is a state conflict and writes none of its events', async () => {
    const { repo, store, id, first } = await fresh();
    const events: TranscriptEvent[] = [];
    let head = first;
    for (let k = 0; k < 40; k++) events.push((head = makeEvent(head, { at: at(1), ceremony: id, step: null, actor: null, type: 'STEP_CONFIRMED', data: { k } })));
    // The second batch of 32 carries seq 2 again: the first batch must not stay behind either.
    const clash = [...events.slice(0, 35), { ...events[0] }];
    await expect(store.transaction((tx) => repo.save(tx, { id, expectedVersion: 1, events: clash, state: {}, currentStep: 0, status: 'running', at: at(1), from: { currentStep: 0, status: 'running' } }))).rejects.toMatchObject({ code: 'CEREMONY_STATE_CONFLICT' });
    expect((await repo.events(id)).map((e) => e.seq)).toEqual([1]);
    expect((await repo.get(id))!.stateVersion).toBe(1);
  });
});
