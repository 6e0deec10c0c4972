import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decodeShare, encodeShare, shareErrorWithoutWords, shareHeader, type DecodedShare } from '../../src/core/backup/share-codec';
import { KeyriteError } from '../../src/core/errors';
import { formatSplitId } from '../../src/core/backup/split-id';
import { checksumSymbols } from '../../src/core/backup/word-checksum';
import { WORDS } from '../../src/core/backup/wordlist';

function randomShare(over: Partial<DecodedShare> = {}): DecodedShare {
  const share = new Uint8Array(randomBytes(33));
  share[32] = 1 + (share[32] % 255);
  return { version: 1, splitId: formatSplitId(randomBytes(4)), threshold: 3, count: 5, index: 2, share, ...over };
}

/** Words for arbitrary payload bytes (bypassing encodeShare's field checks) with a valid checksum. */
function wordsForPayload(payload: Buffer): string[] {
  const bits = [...payload].map((b) => b.toString(2).padStart(8, '0')).join('') + '00';
  const data = bits.match(/.{11}/g)!.map((b) => parseInt(b, 2));
  return [...data, ...checksumSymbols(data)].map((s) => WORDS[s]);
}

function payloadOf(s: DecodedShare, over: { version?: number; threshold?: number; count?: number; index?: number } = {}): Buffer {
  return Buffer.concat([
    Buffer.from([over.version ?? 1]),
    Buffer.from(s.splitId.replace('-', ''), 'hex'),
    Buffer.from([over.threshold ?? s.threshold, over.count ?? s.count, over.index ?? s.index]),
    Buffer.from(s.share),
  ]);
}

const codeOf = (fn: () => unknown): { code: string; message: string; details: Record<string, unknown> } => {
  try {
    fn();
  } catch (e) {
    return e as { code: string; message: string; details: Record<string, unknown> };
  }
  throw new Error('expected an error');
};

describe('share codec v1', () => {
  it.each([
    [2, 2, 1], [2, 3, 3], [3, 5, 5], [16, 16, 16], [5, 16, 9],
  ])('round-trips a %i-of-%i share (index %i) through 33 words', (threshold, count, index) => {
    const s = randomShare({ threshold, count, index });
    const words = encodeShare(s);
    expect(words).toHaveLength(33);
    words.forEach((w) => expect(WORDS).toContain(w));
    const back = decodeShare(words.join(' '));
    expect(back).toEqual({ ...s, share: new Uint8Array(s.share) });
  });

  it('prints the header line', () => {
    expect(shareHeader({ index: 2, count: 5, threshold: 3, splitId: '7F3A-91C2' })).toBe('share 2 of 5 · needs 3 · split 7F3A-91C2');
  });

  it('normalizes case, spacing, numbering, a pasted header line and 4-letter prefixes', () => {
    const s = randomShare();
    const words = encodeShare(s);
    const messy = [
      `  ${shareHeader(s)}  `,
      ...words.map((w, i) => `${i + 1}. ${i % 3 === 0 ? w.toUpperCase() : i % 3 === 1 && w.length > 4 ? w.slice(0, 4) : w},`),
    ].join('\n   ');
    expect(decodeShare(messy).share).toEqual(s.share);
    expect(decodeShare(words.map((w, i) => `${i + 1})${w}`).join('\t')).index).toBe(s.index);
  });

  it('SHARE_UNKNOWN_WORD: names the position and the closest list words', () => {
    const words = encodeShare(randomShare());
    words[6] = 'abandn';
    const e = codeOf(() => decodeShare(words.join(' ')));
    expect(e.code).toBe('SHARE_UNKNOWN_WORD');
    expect(e.details.position).toBe(7);
    expect(e.details.suggestions).toContain('abandon');
    expect((e.details.suggestions as string[]).length).toBeLessThanOrEqual(3);
    expect(e.message).toContain("Word 7, 'abandn', is not in the word list");
    expect(e.details.containsShareWords).toBe(true);
  });

  it('SHARE_CHECKSUM: a mistyped (valid) word is located and its correction offered', () => {
    for (const position of [1, 12, 33]) {
      const words = encodeShare(randomShare());
      const original = words[position - 1];
      words[position - 1] = WORDS[(WORDS.indexOf(original) + 1) % 2048];
      const e = codeOf(() => decodeShare(words.join(' ')));
      expect(e.code).toBe('SHARE_CHECKSUM');
      expect(e.details).toMatchObject({ kind: 'substitution', position, suggestion: original, typed: words[position - 1] });
      expect(e.message).toContain(`Word ${position} is most likely wrong`);
      expect(e.message).toContain(`'${original}'`);
    }
  });

  it('SHARE_CHECKSUM: two swapped words are named', () => {
    const words = encodeShare(randomShare());
    let i = 9;
    while (words[i] === words[i + 1]) i++;
    [words[i], words[i + 1]] = [words[i + 1], words[i]];
    const e = codeOf(() => decodeShare(words.join(' ')));
    expect(e.code).toBe('SHARE_CHECKSUM');
    expect(e.details).toMatchObject({ kind: 'swap', position: i + 1, swapWith: i + 2 });
    expect(e.message).toContain(`Words ${i + 1} and ${i + 2} look swapped`);
  });

  // What `keyrite share check` prints on stderr: the same problem by word number, no word typed or suggested.
  it.each([
    ['an unknown word', 'SHARE_UNKNOWN_WORD', (w: string[]) => { w[6] = 'abandn'; }, /^Word 7 is not in the word list\. Check word 7 on your card/],
    ['two unknown words', 'SHARE_UNKNOWN_WORD', (w: string[]) => { w[6] = 'abandn'; w[20] = 'zzzzq'; }, /^Words 7, 21 are not in the word list\./],
    ['a mistyped list word', 'SHARE_CHECKSUM', (w: string[]) => { w[11] = WORDS[(WORDS.indexOf(w[11]) + 1) % 2048]; }, /^The share's checksum does not match\. Word 12 is most likely wrong/],
    ['two swapped words', 'SHARE_CHECKSUM', (w: string[]) => { let i = 9; while (w[i] === w[i + 1]) i++; [w[i], w[i + 1]] = [w[i + 1], w[i]]; }, /^The share's checksum does not match\. Words \d+ and \d+ look swapped/],
  ])('shareErrorWithoutWords: %s is named by number, quoting no word of the share', (_, code, mistype, said) => {
    // A fixed share: a random one could hold a word of the sentence itself ('card', 'wrong').
    const share = encodeShare({ version: 1, splitId: '7F3A-91C2', threshold: 2, count: 3, index: 2, share: new Uint8Array(33).map((_, i) => (i * 41 + 3) & 0xff) });
    const typed = [...share];
    mistype(typed);
    const original = codeOf(() => decodeShare(typed.join(' '))) as KeyriteError;
    expect(original.code).toBe(code);
    const quoted = [...original.message.matchAll(/'([a-z]+)'/g)].map((m) => m[1]);
    expect(quoted.length).toBeGreaterThan(0);
    const quiet = shareErrorWithoutWords(original);
    expect(quiet.code).toBe(code);
    expect(quiet.message).toMatch(said);
    expect(quiet.cause).toBeUndefined();
    const text = JSON.stringify({ message: quiet.message, details: quiet.details }).toLowerCase();
    for (const w of new Set([...share, ...typed, ...quoted])) expect(text).not.toMatch(new RegExp(`\\b${w}\\b`));
  });

  it('shareErrorWithoutWords returns an error that quotes no word as it is', () => {
    const e = codeOf(() => decodeShare('abandon ability')) as KeyriteError;
    expect(shareErrorWithoutWords(e)).toBe(e);
    const other = new KeyriteError('SHARE_FOREIGN_SPLIT', 'x');
    expect(shareErrorWithoutWords(other)).toBe(other);
  });

  it('SHARE_CHECKSUM: several wrong words are reported without a guess', () => {
    const words = encodeShare(randomShare());
    for (const p of [3, 25]) words[p] = WORDS[(WORDS.indexOf(words[p]) + 100) % 2048];
    const e = codeOf(() => decodeShare(words.join(' ')));
    expect(e.code).toBe('SHARE_CHECKSUM');
    expect(e.details).toMatchObject({ kind: 'several', position: null });
    expect(e.message).toContain('more than one word is wrong');
  });

  it.each([
    ['a missing word', -1, 32, '1 word is missing'],
    ['an extra word', +1, 34, '1 word is too many'],
    ['no words at all', -33, 0, 'No words were entered'],
  ])('SHARE_WORD_COUNT: %s', (_name, delta, got, text) => {
    const words = encodeShare(randomShare());
    const typed = delta < 0 ? words.slice(0, 33 + delta) : [...words, 'zoo'];
    const e = codeOf(() => decodeShare(typed.join(' ')));
    expect(e.code).toBe('SHARE_WORD_COUNT');
    expect(e.details).toMatchObject({ expected: 33, got });
    expect(e.message).toContain(text);
  });

  it('SHARE_VERSION: a well-formed share of another format version', () => {
    const words = wordsForPayload(payloadOf(randomShare(), { version: 2 }));
    const e = codeOf(() => decodeShare(words.join(' ')));
    expect(e.code).toBe('SHARE_VERSION');
    expect(e.details).toMatchObject({ version: 2, supported: [1] });
    expect(e.message).toContain('format version 2');
  });

  it.each([
    ['threshold above count', { threshold: 6 }, 'threshold 6'],
    ['index 0', { index: 0 }, 'share number 0'],
    ['count 17', { count: 17 }, 'share count 17'],
  ])('SHARE_MALFORMED: valid checksum but %s', (_name, over, text) => {
    const words = wordsForPayload(payloadOf(randomShare(), over));
    const e = codeOf(() => decodeShare(words.join(' ')));
    expect(e.code).toBe('SHARE_MALFORMED');
    expect(e.message).toContain(text);
  });

  it('encodeShare refuses impossible fields', () => {
    expect(codeOf(() => encodeShare(randomShare({ threshold: 1 }))).code).toBe('SHARE_MALFORMED');
    expect(codeOf(() => encodeShare(randomShare({ share: new Uint8Array(32) }))).code).toBe('SHARE_MALFORMED');
  });
});
