import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isKeyriteError } from '../../src/core/errors';
import { canonicalJson } from '../../src/core/transcript/canonical';
import { eventLine, makeEvent } from '../../src/core/transcript/event';
import { hashMember, readEventLine } from '../../src/core/transcript/parse';

/**
 * readEventLine hashes a line with its own `"hash":"…",` member cut out, found by searching the
 * text (hashMember, proved in its comment). These properties hold it to the definition instead:
 * the canonical JSON of the event without `hash`, over random data built to mislead a search —
 * nested `hash` and `prev` keys, strings holding `,"hash":"` and `,"prev":`, quotes, backslashes,
 * control characters, lone surrogates, non-ASCII — and over random damage to such lines.
 */
const tricky = fc.oneof(
  fc.string({ unit: 'binary' }),
  fc.constantFrom(',"hash":"', '","hash":"', '\\",\\"hash\\":\\"', ',"prev":"', '"hash":"' + 'a'.repeat(64) + '",', 'hash', '\\', '"', '\u2028', '\ud800', 'é·—', '{"hash":"x"}'),
  fc.array(fc.constantFrom(',"hash":"', '"', '\\', 'hash', 'prev', ':', ',', 'é', '\u0001', '\udc00'), { maxLength: 8 }).map((parts) => parts.join('')),
);
const key = fc.oneof(fc.constantFrom('hash', 'prev', 'seq', 'type', 'data', '10', '9', 'a"b', 'é'), tricky);
const value = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    tricky,
    fc.integer(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(key, tie('value'), { maxKeys: 4 }),
  ),
})).value;
const eventFields = fc.record({
  data: fc.dictionary(key, value, { maxKeys: 6 }),
  step: fc.option(tricky, { nil: null }),
  actor: fc.option(tricky, { nil: null }),
  ceremony: tricky.filter((s) => s.length > 0),
});

/** What the line's hash must be, by definition: SHA-256 of the canonical event without `hash`. */
function definedHash(line: string): string {
  const { hash: _hash, ...rest } = JSON.parse(line) as Record<string, unknown>;
  return createHash('sha256').update(canonicalJson(rest)).digest('hex');
}

function lineOf(f: { data: Record<string, unknown>; step: string | null; actor: string | null; ceremony: string }): string {
  return eventLine(makeEvent(null, { at: '2025-06-01T09:00:00.000Z', type: 'STATEMENT_RECORDED', ...f }));
}

describe('the hash member of a transcript line', () => {
  it('is found exactly, whatever the data holds (seeded property)', () => {
    fc.assert(
      fc.property(eventFields, (f) => {
        const e = makeEvent(null, { at: '2025-06-01T09:00:00.000Z', type: 'STATEMENT_RECORDED', ...f });
        const line = eventLine(e);
        const at = hashMember(line);
        expect(line.slice(at.start, at.end)).toBe(`"hash":"${e.hash}",`);
        expect(readEventLine(line, 1, 1)).toEqual(e);
      }),
      { seed: 180_101, numRuns: 400 },
    );
  });

  it('is found when more than 320 characters follow it (the search falls back to lastIndexOf)', () => {
    const long = ',"hash":"' + 'x'.repeat(400);
    const e = makeEvent(null, { at: '2025-06-01T09:00:00.000Z', type: 'STATEMENT_RECORDED', ceremony: 'c-1', step: long, actor: long, data: { hash: 'y', nested: { hash: long } } });
    const line = eventLine(e);
    expect(line.length - line.indexOf(`"hash":"${e.hash}"`)).toBeGreaterThan(320);
    const at = hashMember(line);
    expect(line.slice(at.start, at.end)).toBe(`"hash":"${e.hash}",`);
    expect(readEventLine(line, 1, 1)).toEqual(e);
  });

  it('a damaged line is refused, or accepted, as the definition says (seeded property)', () => {
    let refusedForHash = 0;
    fc.assert(
      fc.property(eventFields, fc.nat(), fc.integer({ min: 1, max: 0xffff }), fc.boolean(), (f, where, unit, insert) => {
        const good = lineOf(f);
        const i = where % good.length;
        const line = good.slice(0, i) + String.fromCharCode(unit) + good.slice(insert ? i : i + 1);
        let outcome: { code: string; details: Record<string, unknown> } | 'accepted';
        try {
          readEventLine(line, 7, 7);
          outcome = 'accepted';
        } catch (e) {
          if (!isKeyriteError(e)) throw e;
          outcome = { code: e.code, details: e.details };
        }
        if (outcome === 'accepted' || outcome.code === 'TRANSCRIPT_EVENT_HASH') {
          // Only a canonical line gets this far, and its hash is judged by the definition.
          expect(canonicalJson(JSON.parse(line))).toBe(line);
          const computed = definedHash(line);
          if (outcome === 'accepted') expect(computed).toBe((JSON.parse(line) as { hash: string }).hash);
          else {
            refusedForHash++;
            expect(outcome.details.computed).toBe(computed);
          }
        } else if (outcome.code === 'TRANSCRIPT_NOT_CANONICAL') {
          expect(canonicalJson(JSON.parse(line))).not.toBe(line);
        }
      }),
      { seed: 180_102, numRuns: 600 },
    );
    // The damage reaches the hash check often enough for the property to mean something.
    expect(refusedForHash).toBeGreaterThan(50);
  });
});
