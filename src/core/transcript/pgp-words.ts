import { readFileSync } from 'node:fs';
import { resolveResource } from '../config/resources';
import { KeyriteError } from '../errors';

export const PGP_WORDS_RESOURCE = 'wordlists/pgp-words.txt';

export interface PgpWordList {
  /** Two-syllable words, for bytes at even positions (0, 2, 4, …). */
  even: readonly string[];
  /** Three-syllable words, for bytes at odd positions (1, 3, 5, …). */
  odd: readonly string[];
}

let cached: PgpWordList | undefined;

/** Parse the data file: `<hex byte> <even word> <odd word>` per line, '#' comments. */
export function parsePgpWordList(text: string, source = PGP_WORDS_RESOURCE): PgpWordList {
  const even: string[] = [];
  const odd: string[] = [];
  const bad = (line: number, what: string): KeyriteError =>
    new KeyriteError('WORDLIST_INVALID', `The PGP word list '${source}' is damaged at line ${line}: ${what}. Reinstall Keyrite.`, { details: { source, line } });
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const parts = line.split(/\s+/);
    if (parts.length !== 3) throw bad(i + 1, 'expected "<hex byte> <even word> <odd word>"');
    const [hex, e, o] = parts;
    if (parseInt(hex, 16) !== even.length || !/^[0-9A-F]{2}$/.test(hex)) throw bad(i + 1, `expected byte ${even.length.toString(16).toUpperCase().padStart(2, '0')}, found '${hex}'`);
    even.push(e);
    odd.push(o);
  });
  if (even.length !== 256) throw bad(text.split('\n').length, `it has ${even.length} entries instead of 256`);
  return { even, odd };
}

export function pgpWordList(): PgpWordList {
  if (!cached) {
    const file = resolveResource(PGP_WORDS_RESOURCE);
    cached = parsePgpWordList(readFileSync(file, 'utf8'), file);
  }
  return cached;
}

/**
 * Bytes as PGP words: the byte at an even position uses the even (two-syllable) list, at an odd
 * position the odd (three-syllable) list, so a skipped or swapped word is heard at once.
 */
export function toPgpWords(bytes: Uint8Array): string[] {
  const { even, odd } = pgpWordList();
  const words: string[] = new Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) words[i] = (i % 2 === 0 ? even : odd)[bytes[i]];
  return words;
}

/** Words for a hex digest (a transcript hash or an SPKI fingerprint). */
export function hexToPgpWords(hex: string): string[] {
  return toPgpWords(Buffer.from(hex, 'hex'));
}

const LINE_BREAK = /[\n\r\u2028\u2029]/;

/** Hex in groups of four, as printed for witnesses to read along. */
export function groupHex(hex: string, size = 4): string {
  // The regular expression's `.` skips line breaks; text holding one (never a digest) keeps its
  // exact old grouping. Everything else is sliced, ~10× faster (verify groups every hash it prints).
  if (LINE_BREAK.test(hex)) return (hex.match(new RegExp(`.{1,${size}}`, 'g')) ?? []).join(' ');
  let out = hex.slice(0, size);
  for (let i = size; i < hex.length; i += size) out += ' ' + hex.slice(i, i + size);
  return out;
}
