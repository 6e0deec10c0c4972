import { KeyriteError } from '../errors';
import { bytesToElevenBits, ELEVEN_BITS, elevenBitsToBytes } from '../text/eleven-bit';
import { formatSplitId, splitIdBytes, SPLIT_ID_PATTERN } from './split-id';
import { CHECK_SYMBOLS, checksumSymbols, checksumValid, findRepairs } from './word-checksum';
import { closestWords, lookupWord, WORDS } from './wordlist';
import { shareTextWords } from '../../shared/share-text';

/**
 * Share format version 1 (docs/formats.md, "Share format"):
 *   payload (41 bytes) = version 0x01 ‖ split id (4) ‖ threshold (1) ‖ count (1) ‖ index (1)
 *                        ‖ Shamir share (33 = 32 bytes y ‖ 1 byte x)
 *   payload bits, big-endian, + 2 zero bits → 30 symbols of 11 bits, + 3 check symbols
 *   → 33 words of the BIP-39 English list.
 */
export const SHARE_VERSION = 1;
export const SHARE_WORDS = 33;
export const SHAMIR_SHARE_BYTES = 33;
export const MIN_THRESHOLD = 2;
export const MAX_SHARES = 16;
const PAYLOAD_BYTES = 8 + SHAMIR_SHARE_BYTES;
const DATA_SYMBOLS = SHARE_WORDS - CHECK_SYMBOLS;
const PAD_BITS = DATA_SYMBOLS * ELEVEN_BITS - PAYLOAD_BYTES * 8;

/** One decoded share. `share` is secret (it is a point of the KEK polynomial): zeroize it after use. */
export interface DecodedShare {
  version: 1;
  /** `7F3A-91C2` */
  splitId: string;
  threshold: number;
  count: number;
  /** The share's number for people, 1..count (not the Shamir x, which is random). */
  index: number;
  /** The Shamir share as shamir-secret-sharing makes it: 32 bytes y ‖ 1 byte x. */
  share: Uint8Array;
}

/**
 * Error details of SHARE_UNKNOWN_WORD / SHARE_CHECKSUM contain words of a share: the caller shows
 * them to the person typing and must not log them (`details.containsShareWords` says so).
 */
const SECRET_DETAILS = { containsShareWords: true } as const;

export function shareHeader(share: Pick<DecodedShare, 'index' | 'count' | 'threshold' | 'splitId'>): string {
  return `share ${share.index} of ${share.count} · needs ${share.threshold} · split ${share.splitId}`;
}

export function encodeShare(share: DecodedShare): string[] {
  const problem = fieldProblem(share);
  if (problem) throw new KeyriteError('SHARE_MALFORMED', `Cannot encode this share: ${problem}.`, { details: { problem } });
  const payload = Buffer.alloc(PAYLOAD_BYTES);
  try {
    payload[0] = share.version;
    splitIdBytes(share.splitId).copy(payload, 1);
    payload[5] = share.threshold;
    payload[6] = share.count;
    payload[7] = share.index;
    payload.set(share.share, 8);
    const data = bytesToSymbols(payload);
    return [...data, ...checksumSymbols(data)].map((s) => WORDS[s]);
  } finally {
    payload.fill(0);
  }
}

/**
 * Words (as typed or pasted) to a share. Accepts any case, extra spaces and line breaks,
 * numbering ("1. word", "12) word"), the header line, and unique 4-letter prefixes.
 * Throws SHARE_UNKNOWN_WORD, SHARE_WORD_COUNT, SHARE_CHECKSUM, SHARE_VERSION or SHARE_MALFORMED.
 */
export function decodeShare(text: string): DecodedShare {
  const tokens = shareTextWords(text);
  const symbols: number[] = [];
  const unknown: Array<{ position: number; word: string; suggestions: string[] }> = [];
  tokens.forEach((token, i) => {
    const s = lookupWord(token);
    if (s === undefined) unknown.push({ position: i + 1, word: token, suggestions: closestWords(token) });
    else symbols.push(s);
  });
  if (unknown.length > 0) {
    const first = unknown[0];
    const hint = first.suggestions.length > 0 ? ` Did you mean ${orList(first.suggestions.map((w) => `'${w}'`))}?` : '';
    const more = unknown.length > 1 ? ` Words ${unknown.slice(1).map((u) => u.position).join(', ')} are not in the list either.` : '';
    throw new KeyriteError('SHARE_UNKNOWN_WORD', `Word ${first.position}, '${first.word}', is not in the word list.${hint}${more} Check word ${first.position} on your card and retry.`, {
      details: { ...SECRET_DETAILS, position: first.position, word: first.word, suggestions: first.suggestions, unknown },
    });
  }
  if (symbols.length !== SHARE_WORDS) {
    const diff = symbols.length - SHARE_WORDS;
    const what = symbols.length === 0 ? 'No words were entered' : diff < 0 ? `${-diff} word${diff === -1 ? ' is' : 's are'} missing` : `${diff} word${diff === 1 ? ' is' : 's are'} too many`;
    throw new KeyriteError('SHARE_WORD_COUNT', `This share has ${symbols.length} word${symbols.length === 1 ? "" : "s"}; a Keyrite share has ${SHARE_WORDS}. ${what}: compare with your card and retry.`, { details: { expected: SHARE_WORDS, got: symbols.length } });
  }
  if (!checksumValid(symbols)) throw checksumError(symbols);
  const payload = symbolsToBytes(symbols.slice(0, DATA_SYMBOLS));
  try {
    if (payload.bytes[0] !== SHARE_VERSION) throw versionError(payload.bytes[0]);
    const share: DecodedShare = {
      version: SHARE_VERSION,
      splitId: formatSplitId(payload.bytes.subarray(1, 5)),
      threshold: payload.bytes[5],
      count: payload.bytes[6],
      index: payload.bytes[7],
      share: new Uint8Array(payload.bytes.subarray(8, 8 + SHAMIR_SHARE_BYTES)),
    };
    const problem = payload.padding !== 0 ? 'its padding bits are not zero' : fieldProblem(share);
    if (problem) {
      share.share.fill(0);
      throw new KeyriteError('SHARE_MALFORMED', `The words check out but do not describe a valid Keyrite share (${problem}). It was not made by Keyrite's share format version 1.`, { details: { problem } });
    }
    return share;
  } finally {
    payload.bytes.fill(0);
  }
}

function fieldProblem(s: DecodedShare): string | undefined {
  if (s.version !== SHARE_VERSION) return `version ${s.version} is not ${SHARE_VERSION}`;
  if (!SPLIT_ID_PATTERN.test(s.splitId)) return `split id '${s.splitId}' is not like 7F3A-91C2`;
  if (!Number.isInteger(s.count) || s.count < MIN_THRESHOLD || s.count > MAX_SHARES) return `share count ${s.count} is outside ${MIN_THRESHOLD}..${MAX_SHARES}`;
  if (!Number.isInteger(s.threshold) || s.threshold < MIN_THRESHOLD || s.threshold > s.count) return `threshold ${s.threshold} is outside ${MIN_THRESHOLD}..${s.count}`;
  if (!Number.isInteger(s.index) || s.index < 1 || s.index > s.count) return `share number ${s.index} is outside 1..${s.count}`;
  if (!(s.share instanceof Uint8Array) || s.share.length !== SHAMIR_SHARE_BYTES) return `the Shamir share is not ${SHAMIR_SHARE_BYTES} bytes`;
  if (s.share[SHAMIR_SHARE_BYTES - 1] === 0) return 'the Shamir x coordinate is 0';
  return undefined;
}

function versionError(version: number): KeyriteError {
  return new KeyriteError('SHARE_VERSION', `This share is in format version ${version}; this Keyrite reads version ${SHARE_VERSION} only. Use the Keyrite release that made it — or, if your card says otherwise, check the first word.`, { details: { version, supported: [SHARE_VERSION] } });
}

function checksumError(symbols: number[]): KeyriteError {
  const { substitutions, swaps } = findRepairs(symbols);
  if (substitutions.length === 1) {
    const p = substitutions[0].positions[0];
    const typed = WORDS[symbols[p]];
    const suggestion = WORDS[substitutions[0].symbols[p]];
    return new KeyriteError('SHARE_CHECKSUM', `The share's checksum does not match. Word ${p + 1} is most likely wrong: with '${suggestion}' instead of '${typed}' the share checks out. Check word ${p + 1} on your card and retry.`, {
      details: { ...SECRET_DETAILS, kind: 'substitution', position: p + 1, typed, suggestion },
    });
  }
  if (substitutions.length === 0 && swaps.length === 1) {
    const [i, j] = swaps[0].positions;
    return new KeyriteError('SHARE_CHECKSUM', `The share's checksum does not match. Words ${i + 1} and ${j + 1} look swapped ('${WORDS[symbols[i]]}' and '${WORDS[symbols[j]]}'): in the other order the share checks out. Check them on your card and retry.`, {
      details: { ...SECRET_DETAILS, kind: 'swap', position: i + 1, swapWith: j + 1, positions: [i + 1, j + 1] },
    });
  }
  // Not one word and not one swap: the share may be from a later format, else several words are off.
  const version = symbols[0] >> 3;
  if (version !== SHARE_VERSION) return versionError(version);
  return new KeyriteError('SHARE_CHECKSUM', `The share's checksum does not match and no single word change explains it: more than one word is wrong. Compare every word with your card and retry.`, {
    details: { kind: 'several', position: null, suggestion: null, candidates: substitutions.length + swaps.length },
  });
}

/**
 * A share error that quotes words (SHARE_UNKNOWN_WORD, SHARE_CHECKSUM naming a word), said again by
 * word number alone, for output that outlives the screen it was typed on: stderr of a command (a
 * log, a terminal's scrollback after the typed words were cleared). Any other error is returned as
 * it is. The result has no cause: the original's message is the one this one exists to avoid.
 */
export function shareErrorWithoutWords(e: KeyriteError): KeyriteError {
  const d = e.details;
  if (d.containsShareWords !== true) return e;
  if (e.code === 'SHARE_UNKNOWN_WORD') {
    const positions = Array.isArray(d.unknown) ? d.unknown.map((u: { position: number }) => u.position) : [Number(d.position)];
    const message = positions.length === 1
      ? `Word ${positions[0]} is not in the word list. Check word ${positions[0]} on your card and retry.`
      : `Words ${positions.join(', ')} are not in the word list. Check them on your card and retry.`;
    return new KeyriteError(e.code, message, { details: { position: positions[0], positions } });
  }
  if (d.kind === 'swap') {
    return new KeyriteError(e.code, `The share's checksum does not match. Words ${d.position} and ${d.swapWith} look swapped: in the other order the share checks out. Check them on your card and retry.`, {
      details: { kind: 'swap', position: d.position, swapWith: d.swapWith, positions: d.positions },
    });
  }
  return new KeyriteError(e.code, `The share's checksum does not match. Word ${d.position} is most likely wrong: another word there makes the share check out. Check word ${d.position} on your card and retry.`, {
    details: { kind: d.kind, position: d.position },
  });
}

function orList(items: string[]): string {
  return items.length <= 1 ? items.join('') : `${items.slice(0, -1).join(', ')} or ${items[items.length - 1]}`;
}

function bytesToSymbols(bytes: Uint8Array): number[] {
  const symbols = bytesToElevenBits(bytes);
  if (symbols.length !== DATA_SYMBOLS) throw new KeyriteError('INTERNAL_SHARE_LAYOUT', 'Share payload has the wrong size.');
  return symbols;
}

function symbolsToBytes(symbols: number[]): { bytes: Buffer; padding: number } {
  const { bytes, leftoverBits, leftover } = elevenBitsToBytes(symbols, PAYLOAD_BYTES);
  if (leftoverBits !== PAD_BITS) throw new KeyriteError('INTERNAL_SHARE_LAYOUT', 'Share payload has the wrong size.');
  return { bytes, padding: leftover };
}
