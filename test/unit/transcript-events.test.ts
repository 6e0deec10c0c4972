import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { GENESIS_PREV, type EventFields, type EventType, type TranscriptEvent } from '../../src/core/transcript/event-types';
import { eventLine, makeEvent, makeEventLine, transcriptText } from '../../src/core/transcript/event';
import { checkSealedChain, parseTranscript } from '../../src/core/transcript/parse';

const CEREMONY = 'c-2025-06-01-root';
const t0 = Date.parse('2025-06-01T09:00:00.000Z');
const at = (i: number): string => new Date(t0 + i * 1000).toISOString();

function chain(specs: Array<[EventType, Record<string, unknown>, (string | null)?]>): TranscriptEvent[] {
  const out: TranscriptEvent[] = [];
  specs.forEach(([type, data, step], i) => {
    out.push(makeEvent(out[i - 1] ?? null, { at: at(i), ceremony: CEREMONY, step: step ?? null, actor: i % 3 === 0 ? null : 'p-alice', type, data }));
  });
  return out;
}

function sample(): TranscriptEvent[] {
  return chain([
    ['CEREMONY_STARTED', { scriptId: 'root-ca', scriptVersion: '1', title: 'Root CA', steps: [{ id: 's1', title: 'Generate', say: 'We generate the key.' }], demo: true }],
    ['TRANSCRIPT_KEY_CREATED', { label: `keyrite-transcript-${CEREMONY}`, spkiSha256: 'ab'.repeat(32) }],
    ['PARTICIPANT_CHECKED_IN', { personId: 'p-alice', name: 'Alice Ærø “Q”', roles: ['operator'] }],
    ['STEP_STARTED', { index: 0, title: 'Generate', say: 'We generate the key.' }, 's1'],
    ['KEY_GENERATED', { keyId: 'root', label: 'root-2025', type: 'ec-p384', spkiSha256: 'cd'.repeat(32), attributes: { sensitive: true, extractable: false }, n: 1.5e-7 }, 's1'],
    ['STEP_COMPLETED', {}, 's1'],
    ['CEREMONY_SEALED', { events: 7 }],
  ]);
}

const lines = (events: TranscriptEvent[]): string[] => events.map(eventLine);
const join = (ls: string[]): string => ls.map((l) => l + '\n').join('');

describe('makeEvent', () => {
  it('chains from the genesis prev and hashes the canonical event without hash', () => {
    const events = sample();
    expect(events[0].seq).toBe(1);
    expect(events[0].prev).toBe(GENESIS_PREV);
    for (let i = 0; i < events.length; i++) {
      const { hash, ...rest } = events[i];
      expect(hash).toBe(createHash('sha256').update(canonicalize(rest)!).digest('hex'));
      if (i > 0) {
        expect(events[i].seq).toBe(i + 1);
        expect(events[i].prev).toBe(events[i - 1].hash);
      }
    }
    expect(eventLine(events[0])).toBe(canonicalize(events[0]));
  });

  it('hashes exactly the canonical JSON of the whole event without hash, for any data and fields (seeded property)', () => {
    // makeEvent serialises the data once and assembles the members itself: it must equal canonicalize().
    const json = fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.parse(JSON.stringify(v)) as unknown);
    fc.assert(
      fc.property(
        fc.dictionary(fc.string({ unit: 'grapheme' }), json, { maxKeys: 6 }),
        fc.option(fc.string({ unit: 'binary' }), { nil: null }),
        fc.option(fc.string({ unit: 'grapheme-composite', minLength: 1 }), { nil: null }),
        fc.string({ unit: 'binary', minLength: 1 }),
        fc.integer({ min: 0, max: 3 }),
        (data, step, actor, ceremony, depth) => {
          let prev: TranscriptEvent | null = null;
          for (let i = 0; i <= depth; i++) {
            const { event: e, line } = makeEventLine(prev, { at: at(i), ceremony, step, actor, type: 'STEP_CONFIRMED', data });
            const { hash, ...rest } = e;
            expect(hash).toBe(createHash('sha256').update(canonicalize(rest)!).digest('hex'));
            expect(eventLine(e)).toBe(canonicalize(e));
            // The line assembled with the event is the one eventLine serializes.
            expect(line).toBe(canonicalize(e));
            prev = e;
          }
        },
      ),
      { seed: 1812, numRuns: 300 },
    );
  });

  it('matches the documented test vector (docs/formats.md)', () => {
    const e = makeEvent(null, { at: '2025-01-01T00:00:00.000Z', ceremony: 'demo', step: null, actor: null, type: 'CEREMONY_STARTED', data: { title: 'Test vector', demo: true } });
    expect(eventLine(e)).toBe(
      '{"actor":null,"at":"2025-01-01T00:00:00.000Z","ceremony":"demo","data":{"demo":true,"title":"Test vector"},' +
        `"hash":"${e.hash}","prev":"${GENESIS_PREV}","seq":1,"step":null,"type":"CEREMONY_STARTED"}`,
    );
    expect(e.hash).toBe(createHash('sha256').update('{"actor":null,"at":"2025-01-01T00:00:00.000Z","ceremony":"demo","data":{"demo":true,"title":"Test vector"},' + `"prev":"${GENESIS_PREV}","seq":1,"step":null,"type":"CEREMONY_STARTED"}`).digest('hex'));
    expect(e.hash).toBe(VECTOR_HASH);
  });

  it('copies data, so later changes to the caller object cannot break the hash', () => {
    const data = { keyId: 'k1', nested: { a: 1 } };
    const e = makeEvent(null, { at: at(0), ceremony: CEREMONY, step: null, actor: null, type: 'CEREMONY_STARTED', data });
    data.nested.a = 2;
    expect(parseTranscript(transcriptText([e]))[0].data).toEqual({ keyId: 'k1', nested: { a: 1 } });
  });

  const base: EventFields = { at: at(0), ceremony: CEREMONY, step: null, actor: null, type: 'CEREMONY_STARTED', data: {} };
  it.each([
    ['an unknown type', { type: 'KEY_STOLEN' as EventType }, /not a transcript event type/],
    ['a local time', { at: '2025-06-01T11:00:00+02:00' }, /not ISO 8601 UTC/],
    ['an empty ceremony id', { ceremony: '' }, /ceremony id is empty/],
    ['a Buffer in data', { data: { kek: Buffer.from('x') } }, /data\.kek is not plain JSON/],
    ['NaN in data', { data: { n: Number.NaN } }, /data\.n is not plain JSON/],
    ['undefined in data', { data: { list: [1, undefined] } }, /data\.list\[1\] is not plain JSON/],
    ['a Date in data', { data: { when: new Date() } }, /data\.when is not plain JSON/],
    ['an array as data', { data: [] as unknown as Record<string, unknown> }, /data must be an object/],
  ])('refuses %s (TRANSCRIPT_EVENT_INVALID)', (_n, patch, message) => {
    expect(() => makeEvent(null, { ...base, ...patch })).toThrow(expect.objectContaining({ code: 'TRANSCRIPT_EVENT_INVALID', message: expect.stringMatching(message) }));
  });

  it('refuses to chain an event of another ceremony', () => {
    const first = makeEvent(null, base);
    expect(() => makeEvent(first, { ...base, ceremony: 'other' })).toThrow(expect.objectContaining({ code: 'TRANSCRIPT_EVENT_INVALID' }));
  });
});

describe('parseTranscript', () => {
  it('round-trips a transcript, unicode and exponent numbers included', () => {
    const events = sample();
    expect(parseTranscript(transcriptText(events))).toEqual(events);
  });

  it('accepts canonical data whose keys look like array indexes ("10" sorts before "9")', () => {
    const events = chain([['CEREMONY_STARTED', { parameters: { '9': 'nine', '10': 'ten', b: { '2': 1, '11': 2 } } }]]);
    const text = transcriptText(events);
    expect(text).toContain('{"10":"ten","9":"nine","b":{"11":2,"2":1}}');
    expect(parseTranscript(text)).toEqual(events);
  });

  type Tamper = [string, (ls: string[]) => string, string, Record<string, unknown>];
  const cases: Tamper[] = [
    ['a changed byte in an event', (ls) => join(ls.map((l, i) => (i === 4 ? l.replace('"root-2025"', '"root-2026"') : l))), 'TRANSCRIPT_EVENT_HASH', { seq: 5, line: 5 }],
    ['a changed hash', (ls) => join(ls.map((l, i) => (i === 2 ? l.replace(/"hash":"[0-9a-f]/, '"hash":"0') : l))), 'TRANSCRIPT_EVENT_HASH', { seq: 3 }],
    ['a removed event', (ls) => join(ls.filter((_, i) => i !== 3)), 'TRANSCRIPT_SEQ', { line: 4, seq: 5, expectedSeq: 4 }],
    ['two events swapped', (ls) => join([ls[0], ls[1], ls[3], ls[2], ...ls.slice(4)]), 'TRANSCRIPT_SEQ', { line: 3, seq: 4 }],
    ['a repeated event', (ls) => join([...ls.slice(0, 3), ls[2], ...ls.slice(3)]), 'TRANSCRIPT_SEQ', { line: 4, seq: 3 }],
    ['a non-JSON line', (ls) => join([...ls.slice(0, 2), 'garbage, not JSON', ...ls.slice(3)]), 'TRANSCRIPT_NOT_JSON', { line: 3 }],
    ['a JSON line that is no event', (ls) => join([...ls.slice(0, 2), '[1,2,3]', ...ls.slice(3)]), 'TRANSCRIPT_EVENT_INVALID', { line: 3 }],
    ['a missing final newline (truncated)', (ls) => join(ls).slice(0, -1), 'TRANSCRIPT_TRUNCATED', { line: 7 }],
    ['a line cut in half', (ls) => join(ls.slice(0, 4)) + ls[4].slice(0, 40), 'TRANSCRIPT_TRUNCATED', { line: 5 }],
    ['an extra blank line at the end', (ls) => join(ls) + '\n', 'TRANSCRIPT_NOT_CANONICAL', { line: 8 }],
    ['a blank line inside', (ls) => join([...ls.slice(0, 2), '', ...ls.slice(2)]), 'TRANSCRIPT_NOT_CANONICAL', { line: 3 }],
    ['CRLF line ends', (ls) => ls.map((l) => l + '\r\n').join(''), 'TRANSCRIPT_NOT_CANONICAL', { line: 1 }],
    ['pretty-printed JSON', (ls) => join([JSON.stringify(JSON.parse(ls[0]), null, 1).replace(/\n/g, ''), ...ls.slice(1)]), 'TRANSCRIPT_NOT_CANONICAL', { line: 1 }],
    ['members reordered', (ls) => join([ls[0], JSON.stringify(reorder(JSON.parse(ls[1]))), ...ls.slice(2)]), 'TRANSCRIPT_NOT_CANONICAL', { seq: 2 }],
    ['a number written non-canonically', (ls) => join(ls.map((l, i) => (i === 4 ? l.replace('"n":1.5e-7', '"n":0.00000015') : l))), 'TRANSCRIPT_NOT_CANONICAL', { seq: 5 }],
    ['an escaped letter', (ls) => join(ls.map((l, i) => (i === 0 ? l.replace('"Root CA"', '"\\u0052oot CA"') : l))), 'TRANSCRIPT_NOT_CANONICAL', { seq: 1 }],
    ['an extra member', (ls) => join([ls[0], ls[1].replace('{"actor"', '{"Z":1,"actor"'), ...ls.slice(2)]), 'TRANSCRIPT_EVENT_INVALID', { line: 2 }],
    ['a missing member', (ls) => join([ls[0], ls[1].replace(/"step":null,/, ''), ...ls.slice(2)]), 'TRANSCRIPT_EVENT_INVALID', { line: 2 }],
    ['an unknown event type', (ls) => join([ls[0], ls[1].replace('TRANSCRIPT_KEY_CREATED', 'TRANSCRIPT_KEY_STOLEN'), ...ls.slice(2)]), 'TRANSCRIPT_EVENT_INVALID', { line: 2 }],
    ['an empty file', () => '', 'TRANSCRIPT_EMPTY', { line: 1 }],
  ];
  it.each(cases)('detects %s', (_name, tamper, code, details) => {
    const text = tamper(lines(sample()));
    let error: unknown;
    try {
      parseTranscript(text);
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({ code, details: expect.objectContaining(details) });
  });

  it('detects a removed event whose followers were renumbered and re-hashed (TRANSCRIPT_CHAIN_BROKEN)', () => {
    const events = sample();
    const kept = [...events.slice(0, 3)];
    for (const e of events.slice(4)) {
      const { seq: _s, prev: _p, hash: _h, ...fields } = e;
      // Re-hash each follower as an attacker would, but keep the old prev of event 5 to show the gap.
      kept.push(makeEvent(kept[kept.length - 1], fields));
    }
    const forged = { ...kept[3], prev: events[3].hash };
    const { hash: _h, ...rest } = forged;
    forged.hash = createHash('sha256').update(canonicalize(rest)!).digest('hex');
    const text = transcriptText([...kept.slice(0, 3), forged]);
    expect(() => parseTranscript(text)).toThrow(expect.objectContaining({ code: 'TRANSCRIPT_CHAIN_BROKEN', details: expect.objectContaining({ seq: 4 }) }));
  });

  it('detects a line from another ceremony (TRANSCRIPT_CEREMONY_MISMATCH)', () => {
    const events = sample();
    const { seq: _s, prev: _p, hash: _h, ...fields } = events[1];
    const alien = makeEvent({ ...events[0], ceremony: 'other' }, { ...fields, ceremony: 'other' });
    expect(() => parseTranscript(transcriptText([events[0], alien]))).toThrow(expect.objectContaining({ code: 'TRANSCRIPT_CEREMONY_MISMATCH', details: expect.objectContaining({ seq: 2 }) }));
  });

  it('reports the FIRST bad event when several are bad', () => {
    const ls = lines(sample());
    ls[2] = ls[2].replace('operator', 'operatoR');
    ls[5] = 'not json';
    expect(() => parseTranscript(join(ls))).toThrow(expect.objectContaining({ code: 'TRANSCRIPT_EVENT_HASH', details: expect.objectContaining({ seq: 3 }) }));
  });
});

describe('checkSealedChain', () => {
  it('accepts a sealed chain', () => {
    expect(() => checkSealedChain(sample())).not.toThrow();
  });
  it('names an event appended after sealing (TRANSCRIPT_EVENT_AFTER_SEAL)', () => {
    const events = sample();
    events.push(makeEvent(events[events.length - 1], { at: at(9), ceremony: CEREMONY, step: null, actor: null, type: 'STATEMENT_RECORDED', data: { text: 'late' } }));
    expect(() => checkSealedChain(parseTranscript(transcriptText(events)))).toThrow(expect.objectContaining({ code: 'TRANSCRIPT_EVENT_AFTER_SEAL', details: expect.objectContaining({ seq: 8 }) }));
  });
  it('names a transcript cut at a line boundary (TRANSCRIPT_TRUNCATED)', () => {
    expect(() => checkSealedChain(sample().slice(0, 5))).toThrow(expect.objectContaining({ code: 'TRANSCRIPT_TRUNCATED', details: expect.objectContaining({ seq: 5 }) }));
  });
  it('refuses a seal that miscounts the events (TRANSCRIPT_SEAL_COUNT)', () => {
    const events = sample().slice(0, 6);
    events.push(makeEvent(events[5], { at: at(7), ceremony: CEREMONY, step: null, actor: null, type: 'CEREMONY_SEALED', data: { events: 6 } }));
    expect(() => checkSealedChain(events)).toThrow(expect.objectContaining({ code: 'TRANSCRIPT_SEAL_COUNT', details: expect.objectContaining({ seq: 7 }) }));
  });
  it('refuses a chain that does not start with CEREMONY_STARTED', () => {
    expect(() => checkSealedChain(sample().slice(1))).toThrow(expect.objectContaining({ code: 'TRANSCRIPT_EVENT_INVALID' }));
  });
});

function reorder(o: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(o).reverse()) out[k] = o[k];
  return out;
}

const VECTOR_HASH = '89d2b4bd647db3bcd71dce42506f6fe609162526fcd7a9384023ef6fd2619c7c';
