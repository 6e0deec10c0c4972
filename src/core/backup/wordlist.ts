import { wordlist as english } from '@scure/bip39/wordlists/english.js';

/** The BIP-39 English list (2048 words, unique in their first 4 letters), from @scure/bip39. */
export const WORDS: readonly string[] = english;

const INDEX = new Map<string, number>(WORDS.map((w, i) => [w, i]));

/**
 * A typed word to its list index: the exact word, or a prefix of at least 4 letters that starts
 * exactly one word (BIP-39 guarantees the first 4 letters are unique). Undefined otherwise.
 */
export function lookupWord(token: string): number | undefined {
  const exact = INDEX.get(token);
  if (exact !== undefined) return exact;
  if (token.length < 4) return undefined;
  let found: number | undefined;
  for (let i = 0; i < WORDS.length; i++) {
    if (WORDS[i].startsWith(token)) {
      if (found !== undefined) return undefined;
      found = i;
    }
  }
  return found;
}

/** Up to `max` list words closest to a mistyped one (edit distance with transpositions). */
export function closestWords(token: string, max = 3): string[] {
  const scored = WORDS.map((w, i) => ({ w, i, d: editDistance(token, w) - (token.length >= 3 && w.startsWith(token.slice(0, 3)) ? 0.5 : 0) }));
  scored.sort((a, b) => a.d - b.d || a.i - b.i);
  const best = scored[0]?.d ?? Infinity;
  // Suggest only plausible corrections, not three random words for gibberish.
  return scored.filter((s) => s.d <= Math.max(2, best)).slice(0, max).map((s) => s.w);
}

/** Optimal string alignment distance: insertions, deletions, substitutions, adjacent swaps. */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}
