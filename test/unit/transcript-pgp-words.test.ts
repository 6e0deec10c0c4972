import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { resolveResource } from '../../src/core/config/resources';
import { groupHex, hexToPgpWords, parsePgpWordList, pgpWordList, toPgpWords } from '../../src/core/transcript/pgp-words';

describe('PGP word list data file', () => {
  const list = pgpWordList();

  it('has 256 even and 256 odd words, all distinct, letters only', () => {
    expect(list.even).toHaveLength(256);
    expect(list.odd).toHaveLength(256);
    const all = [...list.even, ...list.odd].map((w) => w.toLowerCase());
    expect(new Set(all).size).toBe(512);
    for (const w of all) expect(w).toMatch(/^[a-z]+$/);
  });

  it('names its source in a header comment', () => {
    const text = readFileSync(resolveResource('wordlists/pgp-words.txt'), 'utf8');
    expect(text.startsWith('#')).toBe(true);
    expect(text).toMatch(/Zimmermann/);
    expect(text).toMatch(/Juola/);
  });

  it.each([
    [0x00, 'aardvark', 'adroitness'],
    [0x01, 'absurd', 'adviser'],
    [0x02, 'accrue', 'aftermath'],
    [0x09, 'Algol', 'applicant'],
    [0x7f, 'lockup', 'integrate'],
    [0x80, 'merit', 'intention'],
    [0xa5, 'reindeer', 'paperweight'],
    [0xfe, 'woodlark', 'yesteryear'],
    [0xff, 'Zulu', 'Yucatan'],
  ])('byte %i is %s / %s', (byte, even, odd) => {
    expect(list.even[byte]).toBe(even);
    expect(list.odd[byte]).toBe(odd);
  });

  it('encodes the PGP word list article example (E582 94F2 … 3F19)', () => {
    const words = hexToPgpWords('E58294F2E9A227486E8B061B31CC528FD7FA3F19');
    expect(words.join(' ')).toBe(
      'topmost Istanbul Pluto vagabond treadmill Pacific brackish dictator goldfish Medusa ' +
        'afflict bravado chatter revolver Dupont midsummer stopwatch whimsical cowbell bottomless',
    );
  });

  it('alternates even and odd lists by position, so the same byte reads differently', () => {
    expect(toPgpWords(new Uint8Array([0, 0, 0xff, 0xff]))).toEqual(['aardvark', 'adroitness', 'Zulu', 'Yucatan']);
    expect(toPgpWords(new Uint8Array(0))).toEqual([]);
  });

  it('groups hex for reading aloud', () => {
    expect(groupHex('0123456789abcdef01')).toBe('0123 4567 89ab cdef 01');
  });

  it.each([
    ['a missing entry', (t: string) => t.replace(/^05 .*\n/m, ''), /expected byte 05/],
    ['a third word on a line', (t: string) => t.replace(/^10 assume autopsy$/m, '10 assume autopsy extra'), /line/],
    ['a truncated file', (t: string) => t.split('\n').slice(0, 100).join('\n'), /instead of 256/],
  ])('refuses a damaged list: %s', (_name, damage, message) => {
    const text = readFileSync(resolveResource('wordlists/pgp-words.txt'), 'utf8');
    expect(() => parsePgpWordList(damage(text))).toThrow(expect.objectContaining({ code: 'WORDLIST_INVALID', message: expect.stringMatching(message) }));
  });
});

describe('groupHex', () => {
  // The layout of every transcript.html sealed so far used the regular expression; verify must
  // group exactly as it did, line breaks and odd sizes included (seeded).
  const byRegExp = (text: string, size: number): string => (text.match(new RegExp(`.{1,${size}}`, 'g')) ?? []).join(' ');
  it('groups any text exactly as the regular expression did', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: fc.constantFrom('a', '0', 'f', '\n', '\r', '\u2028', '\u2029', 'é', ' ') }), fc.string(), fc.stringMatching(/^[0-9a-f]{0,130}$/)), fc.integer({ min: 1, max: 9 }), (text, size) => {
        expect(groupHex(text, size)).toBe(byRegExp(text, size));
        expect(groupHex(text)).toBe(byRegExp(text, 4));
      }),
      { seed: 180_404, numRuns: 2000 },
    );
  });
});
