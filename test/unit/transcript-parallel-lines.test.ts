import { isUtf8 } from 'node:buffer';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { isKeyriteError } from '../../src/core/errors';
import { eventLine, makeEvent } from '../../src/core/transcript/event';
import type { EventType, TranscriptEvent } from '../../src/core/transcript/event-types';
import { eventRow } from '../../src/core/transcript/html';
import { layoutEvent } from '../../src/core/transcript/layout-event';
import { checkChunk } from '../../src/core/transcript/line-check';
import { availableParallelism } from 'node:os';
import { checkLines, LineWorkers, mergeChunks, MIN_BYTES_PER_WORKER, splitLines, workerCount, workerScript, type CheckedLines } from '../../src/core/transcript/line-pool';
import { parseTranscript } from '../../src/core/transcript/parse';

/**
 * Verify checks transcript.jsonl in ranges of lines, on worker threads, and joins the ranges in
 * file order. Whatever the split, the outcome must be the sequential reading's: parseTranscript
 * over the decoded text (and a file that is not UTF-8 refused at its first bad line) — the same
 * error code, sentence, line and seq, or the same events. Tampering is random (seeded) and aimed
 * at the lines where ranges meet as well as anywhere.
 */
const CEREMONY = 'c-2025-parallel';
const STEPS = ['s1', 's2', 's3', 'sÆ'];

function transcript(count: number): TranscriptEvent[] {
  const out: TranscriptEvent[] = [];
  const t0 = Date.parse('2025-06-01T09:00:00.000Z');
  const push = (type: EventType, data: Record<string, unknown>, step: string | null, actor: string | null): void => {
    out.push(makeEvent(out[out.length - 1] ?? null, { at: new Date(t0 + out.length * 1234).toISOString(), ceremony: CEREMONY, step, actor, type, data }));
  };
  push('CEREMONY_STARTED', { title: 'Parallel — “root”', steps: STEPS.map((id) => ({ id, title: `Step ${id}`, say: `Say ${id} <b>&</b>` })), parameters: { keyType: 'ec-p384' } }, null, null);
  push('TRANSCRIPT_KEY_CREATED', { label: `keyrite-transcript-${CEREMONY}`, spkiSha256: 'ab'.repeat(32) }, null, null);
  for (let i = 0; out.length < count - 1; i++) {
    const step = STEPS[Math.floor(i / 7) % STEPS.length];
    const who = ['p-ada', 'p-ærø', null][i % 3];
    switch (i % 7) {
      case 0: push('STEP_STARTED', { index: i, say: `Run ${i}: ${'é'.repeat(i % 5)}` }, step, null); break;
      case 1: push('PARTICIPANT_CHECKED_IN', { personId: `p-${i % 4}`, name: `Name ${i % 4} ${'ü'.repeat(i % 3)}`, roles: [['witness', 'custodian', 'operator'][i % 3]] }, step, who); break;
      case 2: push('STEP_CONFIRMED', { personId: 'p-ada', name: 'Ada <L>', role: 'witness' }, step, who); break;
      case 3: push('PUBLIC_KEY_EXPORTED', { keyId: 'root', file: `keys/k${i}.pem`, sha256: 'cd'.repeat(32), note: 'x'.repeat(i % 90) }, step, null); break;
      case 4: push('STATEMENT_RECORDED', { text: 'bags', splitId: '7F3A-91C2', bags: [{ bag: `B-${i}`, shareIndex: 1, custodian: 'p-ada' }] }, step, who); break;
      case 5: push('KEY_USED', { keyId: 'root', n: i * 1.5e-7, nested: { z: [1, 'two', null], a: true } }, step, who); break;
      default: push('STEP_COMPLETED', { index: i, evidence: { skipped: i % 2 === 0 } }, step, null);
    }
  }
  push('CEREMONY_SEALED', { events: count, htmlFormat: 2 }, STEPS[0], null);
  return out;
}

const EVENTS = transcript(140);
const GOOD = Buffer.from(EVENTS.map((e) => eventLine(e) + '\n').join(''), 'utf8');

type Outcome = { error: { code: string; message: string; details: Record<string, unknown> } } | { events: TranscriptEvent[] };

/** The sequential reading, as verify did it before it was split: decode the whole file, then walk it. */
function sequential(bytes: Buffer): Outcome {
  if (!isUtf8(bytes)) {
    let line = 1;
    for (let start = 0; ; line++) {
      const nl = bytes.indexOf(0x0a, start);
      if (!isUtf8(bytes.subarray(start, nl === -1 ? bytes.length : nl)) || nl === -1) break;
      start = nl + 1;
    }
    return { error: { code: 'TRANSCRIPT_NOT_JSON', message: `Line ${line} of the transcript is not valid UTF-8 text: the file was damaged.`, details: { line, seq: line } } };
  }
  try {
    return { events: parseTranscript(bytes.toString('utf8')) };
  } catch (e) {
    if (!isKeyriteError(e)) throw e;
    return { error: e.toJSON() };
  }
}

async function outcomeOf(run: () => Promise<CheckedLines> | CheckedLines): Promise<Outcome & { checked?: CheckedLines }> {
  try {
    const checked = await run();
    return { events: [], checked };
  } catch (e) {
    if (!isKeyriteError(e)) throw e;
    return { error: e.toJSON() };
  }
}

function expectSame(actual: Outcome & { checked?: CheckedLines }, expected: Outcome): void {
  if ('error' in expected) {
    expect('error' in actual ? actual.error : 'verified').toEqual(expected.error);
    return;
  }
  expect('error' in actual ? actual.error : null).toBeNull();
  const checked = actual.checked!;
  expect(checked.events).toEqual(expected.events.map(layoutEvent));
  expect(checked.finalHash).toBe(expected.events.at(-1)!.hash);
  for (const e of expected.events) {
    let row = '';
    checked.writeRow(e.seq, (src, start, end) => (row = Buffer.from(src.subarray(start, end)).toString('utf8')));
    expect(row).toBe(eventRow(e));
  }
}

/** The file in shared memory, as verify reads it. */
function shared(bytes: Buffer): Buffer {
  const out = Buffer.from(new SharedArrayBuffer(bytes.length));
  bytes.copy(out);
  return out;
}

const lineStarts = (bytes: Buffer): number[] => {
  const starts = [0];
  for (let i = bytes.indexOf(0x0a); i !== -1 && i + 1 < bytes.length; i = bytes.indexOf(0x0a, i + 1)) starts.push(i + 1);
  return starts;
};

/** One tampering, placed by `at` (0..1) over the file or over the lines where `parts` ranges meet. */
const tamper = fc.record({
  kind: fc.constantFrom('flip', 'swap', 'delete', 'repeat', 'insert', 'truncate', 'bad-utf8', 'crlf'),
  atBoundary: fc.boolean(),
  at: fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }),
  other: fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }),
  xor: fc.integer({ min: 1, max: 255 }),
  junk: fc.constantFrom('', 'garbage', '{}', '[1,2]', '\uFEFF{"seq":1}', '{"actor":null}', '"text"', 'null'),
});
type Tamper = typeof tamper extends fc.Arbitrary<infer T> ? T : never;

function apply(bytes: Buffer, t: Tamper, parts: number): Buffer {
  const starts = lineStarts(bytes);
  const boundaries = splitLines(bytes, parts).map((j) => j.firstLine - 1);
  const lineIndex = t.atBoundary ? Math.min(starts.length - 1, Math.max(0, boundaries[Math.floor(t.at * boundaries.length)] + Math.floor(t.other * 3) - 1)) : Math.floor(t.at * starts.length);
  const pos = t.atBoundary ? Math.min(bytes.length - 1, starts[lineIndex] + Math.floor(t.other * 4) - 2 + (lineIndex > 0 ? 0 : 2)) : Math.floor(t.at * bytes.length);
  const lines = bytes.toString('latin1').split('\n').slice(0, -1);
  const other = Math.floor(t.other * lines.length);
  const join = (ls: string[]): Buffer => Buffer.from(ls.map((l) => l + '\n').join(''), 'latin1');
  switch (t.kind) {
    case 'flip': {
      const out = Buffer.from(bytes);
      out[pos] ^= t.xor;
      return out;
    }
    case 'swap': {
      const ls = [...lines];
      [ls[lineIndex], ls[other]] = [ls[other], ls[lineIndex]];
      return join(ls);
    }
    case 'delete':
      return join(lines.filter((_, i) => i !== lineIndex));
    case 'repeat':
      return join([...lines.slice(0, lineIndex + 1), lines[lineIndex], ...lines.slice(lineIndex + 1)]);
    case 'insert':
      return join([...lines.slice(0, lineIndex), Buffer.from(t.junk, 'utf8').toString('latin1'), ...lines.slice(lineIndex)]);
    case 'truncate':
      return bytes.subarray(0, pos);
    case 'bad-utf8':
      return Buffer.concat([bytes.subarray(0, pos), Buffer.from([[0xff, 0xc3, 0xe2, 0x80][t.xor % 4]]), bytes.subarray(pos)]);
    case 'crlf':
      return join(lines.map((l, i) => (i === lineIndex ? l + '\r' : l)));
  }
  throw new Error(`unknown tampering ${String(t.kind)}`);
}

describe('transcript lines checked in ranges', () => {
  it('a sealed transcript reads the same in any number of ranges: events, final hash and every row', async () => {
    const expected = sequential(GOOD);
    expect('events' in expected && expected.events).toEqual(EVENTS);
    for (let parts = 1; parts <= 7; parts++) {
      expectSame(await outcomeOf(() => mergeChunks(splitLines(shared(GOOD), parts).map(checkChunk))), expected);
    }
  });

  it('ranges start on whole lines and cover the file once, whatever the split', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 9 }), fc.integer({ min: 0, max: GOOD.length }), (parts, cut) => {
        const bytes = GOOD.subarray(0, cut);
        const jobs = splitLines(bytes, parts);
        let next = 0;
        let line = 1;
        for (const j of jobs) {
          expect(j.start).toBe(next);
          expect(j.start === 0 || bytes[j.start - 1] === 0x0a).toBe(true);
          expect(j.firstLine).toBe(line);
          for (let i = j.start; i < j.end; i++) if (bytes[i] === 0x0a) line++;
          next = j.end;
        }
        expect(next).toBe(bytes.length);
      }),
      { seed: 180_001, numRuns: 200 },
    );
  });

  it('tampering anywhere, or where ranges meet, is refused as the sequential reading refuses it (1–6 ranges, seeded)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 6 }), fc.array(tamper, { minLength: 1, maxLength: 2 }), async (parts, tampers) => {
        const bytes = tampers.reduce<Buffer>((b, t) => apply(b, t, parts), GOOD);
        const expected = sequential(bytes);
        expectSame(await outcomeOf(() => mergeChunks(splitLines(shared(bytes), parts).map(checkChunk))), expected);
      }),
      { seed: 180_002, numRuns: 600 },
    );
  });

  it('the refusal names the first problem in file order when two ranges each hold one', async () => {
    const ls = GOOD.toString('utf8').split('\n').slice(0, -1);
    // A bad hash near the end and a removed event near the start: the start wins, in any split.
    ls[120] = ls[120].replace(/"hash":"[0-9a-f]/, '"hash":"g');
    ls.splice(20, 1);
    const bytes = Buffer.from(ls.map((l) => l + '\n').join(''), 'utf8');
    for (let parts = 1; parts <= 6; parts++) {
      const r = await outcomeOf(() => mergeChunks(splitLines(shared(bytes), parts).map(checkChunk)));
      expect('error' in r && r.error).toMatchObject({ code: 'TRANSCRIPT_SEQ', details: { line: 21, seq: 22, expectedSeq: 21 } });
    }
  });
});

/**
 * The transcript with the link broken at `line`: that event's prev replaced and every event from it
 * on re-hashed (what a forger who removed or replaced an earlier event does). Every line keeps its
 * length, so the ranges fall where they fall on the sealed file and the break can be put exactly
 * where one range begins.
 */
function brokenAt(line: number): Buffer {
  const out = EVENTS.slice(0, line - 1);
  for (const e of EVENTS.slice(line - 1)) {
    const prev = out.length === line - 1 ? 'f'.repeat(64) : out[out.length - 1].hash;
    out.push(makeEvent({ ...out[out.length - 1], hash: prev }, e));
  }
  return Buffer.from(out.map((e) => eventLine(e) + '\n').join(''), 'utf8');
}

describe('transcript lines checked on worker threads', () => {
  const pools = new Map<number, LineWorkers>();
  afterAll(() => {
    for (const p of pools.values()) p.close();
  });
  const pool = (n: number): LineWorkers => {
    if (!pools.has(n)) pools.set(n, LineWorkers.start(n)!);
    return pools.get(n)!;
  };

  it('finds the worker script the CLI build ships (the test set-up builds it from these sources)', () => {
    expect(workerScript()).toMatch(/out\/cli\/transcript-verify-worker\.mjs$/);
  });

  it('a sealed transcript reads the same on 1, 2, 3 and 4 workers as on this thread', async () => {
    const expected = sequential(GOOD);
    expectSame(await outcomeOf(() => checkLines(shared(GOOD), null)), expected);
    for (const n of [1, 2, 3, 4]) expectSame(await outcomeOf(() => checkLines(shared(GOOD), pool(n))), expected);
  });

  it('tampering is refused with the sequential reading\'s code, line and seq whichever worker sees it (seeded)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(1, 2, 3, 4), fc.array(tamper, { minLength: 1, maxLength: 2 }), async (n, tampers) => {
        const bytes = tampers.reduce<Buffer>((b, t) => apply(b, t, n), GOOD);
        expectSame(await outcomeOf(() => checkLines(shared(bytes), pool(n))), sequential(bytes));
      }),
      { seed: 180_003, numRuns: 300 },
    );
  });

  it('many pieces taken by whichever thread is free read as the sequential reading, tampered or not (seeded)', async () => {
    // ~2 KB pieces: the 140-line file is cut in ~25, shared by this thread and 1–4 workers.
    expectSame(await outcomeOf(() => checkLines(shared(GOOD), pool(2), undefined, 2048)), sequential(GOOD));
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(1, 2, 3, 4), fc.integer({ min: 512, max: 8192 }), fc.array(tamper, { minLength: 1, maxLength: 2 }), async (n, pieceBytes, tampers) => {
        const bytes = tampers.reduce<Buffer>((b, t) => apply(b, t, Math.ceil(GOOD.length / pieceBytes)), GOOD);
        expectSame(await outcomeOf(() => checkLines(shared(bytes), pool(n), undefined, pieceBytes)), sequential(bytes));
      }),
      { seed: 180_004, numRuns: 200 },
    );
  });

  it('a link broken exactly where a range begins is refused at that line, in ranges and on workers', async () => {
    for (const n of [2, 3, 4, 5]) {
      for (const job of splitLines(GOOD, n).slice(1)) {
        const bytes = brokenAt(job.firstLine);
        expect(splitLines(bytes, n).map((j) => j.firstLine)).toContain(job.firstLine);
        const expected = sequential(bytes);
        expect('error' in expected && expected.error).toMatchObject({ code: 'TRANSCRIPT_CHAIN_BROKEN', details: { line: job.firstLine, seq: job.firstLine } });
        expectSame(await outcomeOf(() => mergeChunks(splitLines(shared(bytes), n).map(checkChunk))), expected);
        if (n <= 4) expectSame(await outcomeOf(() => checkLines(shared(bytes), pool(n))), expected);
      }
    }
  });

  it('a number with no canonical form (1e400) or data nested thousands deep is TRANSCRIPT_NOT_CANONICAL at its line, on any thread', async () => {
    const edits: Array<[string, string]> = [
      ['"0":1e400,', 'has no canonical JSON form'],
      [`"0":${'['.repeat(20_000)}${']'.repeat(20_000)},`, 'nests its data too deeply'],
    ];
    for (const [insert, says] of edits) {
      for (const line of [3, 70, 139]) {
        const ls = GOOD.toString('utf8').split('\n');
        ls[line - 1] = ls[line - 1].replace('"data":{', `"data":{${insert}`);
        const bytes = Buffer.from(ls.join('\n'), 'utf8');
        const expected = { code: 'TRANSCRIPT_NOT_CANONICAL', details: { line, seq: line } };
        for (const [workers, pieceBytes] of [[null, undefined], [pool(1), 4096], [pool(2), 2048]] as const) {
          const e = await checkLines(shared(bytes), workers, undefined, pieceBytes).then(() => null, (err: unknown) => err);
          expect(isKeyriteError(e), `line ${line}, ${says}`).toBe(true);
          expect(e).toMatchObject(expected);
          expect((e as Error).message).toContain(says);
        }
      }
    }
  });

  it('an empty file is TRANSCRIPT_EMPTY, on a worker as on this thread', async () => {
    for (const w of [null, pool(2)]) await expect(checkLines(shared(Buffer.alloc(0)), w)).rejects.toMatchObject({ code: 'TRANSCRIPT_EMPTY', details: { line: 1 } });
  });
});

describe('worker count', () => {
  it.each([
    ['a small transcript stays on the calling thread', MIN_BYTES_PER_WORKER - 1, undefined, undefined, 0],
    ['a request wins over the size', 10, 3, undefined, 3],
    ['requests are capped at 4', 10, 9, undefined, 4],
    ['KEYRITE_VERIFY_WORKERS sets it', 10, undefined, '2', 2],
    ['KEYRITE_VERIFY_WORKERS=0 keeps a large one on the calling thread', 10 * MIN_BYTES_PER_WORKER, undefined, '0', 0],
    ['a malformed KEYRITE_VERIFY_WORKERS is ignored', MIN_BYTES_PER_WORKER - 1, undefined, 'two', 0],
    ['a large one gets one per 16 MB, up to the cores but one (this thread checks a range too)', 3 * MIN_BYTES_PER_WORKER, undefined, undefined, Math.min(availableParallelism() - 1, 3)],
  ])('%s', (_name, bytes, requested, env, expected) => {
    const before = process.env.KEYRITE_VERIFY_WORKERS;
    if (env === undefined) delete process.env.KEYRITE_VERIFY_WORKERS;
    else process.env.KEYRITE_VERIFY_WORKERS = env;
    try {
      expect(workerCount(bytes, requested)).toBe(expected);
    } finally {
      if (before === undefined) delete process.env.KEYRITE_VERIFY_WORKERS;
      else process.env.KEYRITE_VERIFY_WORKERS = before;
    }
  });
});
