import { readFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeShare, encodeShare, shareHeader, type DecodedShare } from '../../src/core/backup/share-codec';
import { formatSplitId } from '../../src/core/backup/split-id';
import { splitWords } from '../../src/renderer/src/app/words';
import { shareTextWords } from '../../src/shared/share-text';

// The renderer counts and checks words as the custodian types; the core decodes. They once split
// text differently (the renderer skipped NFKC, the header line and commas) although the
// renderer's comment said "the way the core does". Both now use src/shared/share-text.ts; this
// file holds them to one vector, and the decoder to the same words.
const { vectors } = JSON.parse(readFileSync(path.join(__dirname, '../fixtures/share-text-vectors.json'), 'utf8')) as { vectors: Array<{ name: string; text: string; words: string[] }> };

function share(raw: Uint8Array, id: Uint8Array): DecodedShare {
  const bytes = new Uint8Array(raw);
  bytes[32] = 1 + (bytes[32] % 255);
  return { version: 1, splitId: formatSplitId(Buffer.from(id)), threshold: 3, count: 5, index: 2, share: bytes };
}

describe('share text → words (shared vector)', () => {
  it.each(vectors)('$name', ({ text, words }) => {
    expect(shareTextWords(text)).toEqual(words);
    expect(splitWords(text)).toEqual(words);
  });
});

describe('what the renderer counts is what the core decodes', () => {
  const layouts: Array<[string, (header: string, words: string[]) => string]> = [
    ['one line', (_h, w) => w.join(' ')],
    ['header, then numbered lines', (h, w) => `${h}\n${w.map((x, i) => `${i + 1}. ${x}`).join('\n')}`],
    ['upper case, commas, full-width digits', (_h, w) => w.map((x, i) => `${String(i + 1).replace(/\d/g, (d) => String.fromCharCode(0xff10 + Number(d)))}) ${x.toUpperCase()}`).join(', ')],
    ['rows of four with trailing dots', (_h, w) => w.map((x, i) => `${x}.${i % 4 === 3 ? '\r\n' : ' '}`).join('')],
  ];
  it.each(layouts)('%s', (_name, layout) => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 33, maxLength: 33 }), fc.uint8Array({ minLength: 4, maxLength: 4 }), (raw, id) => {
        const s = share(raw, id);
        const words = encodeShare(s);
        const text = layout(shareHeader(s), words);
        expect(splitWords(text)).toEqual(words);
        expect(decodeShare(text)).toEqual(s);
      }),
      { numRuns: 40, seed: 17 },
    );
  });
});
