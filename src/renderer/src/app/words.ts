import { wordlist } from '@scure/bip39/wordlists/english.js';
import { shareTextWords } from '../../../shared/share-text';

/** The BIP-39 English list the shares are written in (the same list the core decodes with). */
export const WORDS: readonly string[] = wordlist;
const SET = new Set(WORDS);

export function isWord(w: string): boolean {
  return SET.has(w);
}

/** Up to `max` list words starting with `prefix` (lowercase); none for an empty prefix. */
export function completions(prefix: string, max = 6): string[] {
  const p = prefix.trim().toLowerCase();
  if (!p) return [];
  const out: string[] = [];
  for (const w of WORDS) {
    if (w.startsWith(p)) {
      out.push(w);
      if (out.length >= max) break;
    }
  }
  return out;
}

/** Split typed share text into words with the core's own tokenizer (src/shared/share-text.ts). */
export const splitWords = shareTextWords;

/**
 * The keys shared by every word field with suggestions: ↑/↓ move the highlight, Tab or → take the
 * highlighted word. Returns true when it handled the key.
 */
export function handleSuggestionKey(e: { key: string; shiftKey: boolean; preventDefault(): void }, options: readonly string[], active: number, setActive: (f: (a: number) => number) => void, take: (word: string) => void): boolean {
  if (options.length === 0) return false;
  if (e.key === 'ArrowDown') setActive((a) => (a + 1) % options.length);
  else if (e.key === 'ArrowUp') setActive((a) => (a - 1 + options.length) % options.length);
  else if ((e.key === 'Tab' && !e.shiftKey) || e.key === 'ArrowRight') take(options[Math.min(active, options.length - 1)]);
  else return false;
  e.preventDefault();
  return true;
}
