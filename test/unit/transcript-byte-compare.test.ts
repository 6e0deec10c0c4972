import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { StreamingByteCompare } from '../../src/core/transcript/byte-compare';

/** The streamed comparison says exactly what comparing the whole encoded text would say. */
function reference(expected: string, actual: Buffer): number {
  const e = Buffer.from(expected, 'utf8');
  if (e.equals(actual)) return -1;
  let at = 0;
  while (at < e.length && at < actual.length && e[at] === actual[at]) at++;
  return at;
}

// Pieces of text with multi-byte characters (the record's dashes and middots, and astral ones),
// some long enough to cross the 64K-character batch boundary.
const piece = fc.oneof(
  { weight: 5, arbitrary: fc.string({ unit: fc.constantFrom('a', '<', '\n', '—', '·', 'é', '😀'), maxLength: 40 }) },
  { weight: 1, arbitrary: fc.integer({ min: 20_000, max: 70_000 }).map((n) => '—x'.repeat(n)) },
);

// What the file on disk may be next to the expected text: the same, one byte changed, cut short or extended.
const change = fc.oneof(
  fc.constant({ kind: 'same' as const, at: 0, byte: 0 }),
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('cut' as const), at: fc.nat(), byte: fc.constant(0) }),
  fc.record({ kind: fc.constant('extend' as const), at: fc.nat({ max: 5 }), byte: fc.integer({ min: 0, max: 255 }) }),
);

function applyChange(bytes: Buffer, c: { kind: 'same' | 'flip' | 'cut' | 'extend'; at: number; byte: number }): Buffer {
  if (c.kind === 'flip' && bytes.length > 0) {
    const out = Buffer.from(bytes);
    out[c.at % bytes.length] = c.byte;
    return out;
  }
  if (c.kind === 'cut') return bytes.subarray(0, bytes.length === 0 ? 0 : c.at % bytes.length);
  if (c.kind === 'extend') return Buffer.concat([bytes, Buffer.alloc(c.at + 1, c.byte)]);
  return bytes;
}

describe('StreamingByteCompare', () => {
  it('agrees with a whole-buffer comparison for equal, changed, cut and extended bytes', () => {
    fc.assert(
      fc.property(
        fc.array(piece, { maxLength: 30 }),
        change,
        (pieces, chg) => {
          const text = pieces.join('');
          const actual = applyChange(Buffer.from(text, 'utf8'), chg);
          const c = new StreamingByteCompare(actual);
          for (const p of pieces) c.write(p);
          expect(c.firstDifference()).toBe(reference(text, actual));
        },
      ),
      { seed: 18, numRuns: 300 },
    );
  });

  it('agrees with a whole-buffer comparison when text and pre-encoded bytes alternate', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ bytes: fc.boolean(), text: piece }), { maxLength: 30 }),
        change,
        (parts, chg) => {
          const text = parts.map((p) => p.text).join('');
          const actual = applyChange(Buffer.from(text, 'utf8'), chg);
          const c = new StreamingByteCompare(actual);
          for (const p of parts) {
            if (!p.bytes) c.write(p.text);
            else {
              // A row a worker encoded: somewhere inside a larger buffer.
              const encoded = Buffer.concat([Buffer.from('pre'), Buffer.from(p.text, 'utf8'), Buffer.from('post')]);
              c.writeBytes(encoded, 3, encoded.length - 4);
            }
          }
          expect(c.firstDifference()).toBe(reference(text, actual));
        },
      ),
      { seed: 19, numRuns: 400 },
    );
  });
});
