import { createHash } from 'node:crypto';
import { KeyriteError } from '../errors';
import type { TranscriptEvent } from './event-types';

/**
 * Short secrets (PINs) are matched as whole tokens only: a 6-digit PIN occurs by chance inside
 * some 64-digit hex fingerprint of a long ceremony, and that must not abort it. Long secrets
 * (KEK hex/base64, share phrases) are matched anywhere.
 */
const WHOLE_TOKEN_BELOW = 16;

function containsSecret(haystack: string, needle: string): boolean {
  if (needle.length >= WHOLE_TOKEN_BELOW) return haystack.includes(needle);
  for (let at = haystack.indexOf(needle); at !== -1; at = haystack.indexOf(needle, at + 1)) {
    const before = at === 0 ? '' : haystack[at - 1];
    const after = haystack[at + needle.length] ?? '';
    if (!/[0-9a-z]/.test(before) && !/[0-9a-z]/.test(after)) return true;
  }
  return false;
}

/**
 * Refuse an event that contains any of the given secrets (PINs, KEK bytes as hex/base64, share
 * words), compared case-insensitively in every string, number and field name of the event. The
 * error names the event and field, never the secret.
 */
export function assertNoSecrets(e: TranscriptEvent, secrets: string[]): void {
  const needles = secrets.filter((s) => typeof s === 'string' && s.length > 0).map((s) => s.toLowerCase());
  if (needles.length === 0) return;
  const check = (text: string, where: string): void => {
    const t = text.toLowerCase();
    if (needles.some((n) => containsSecret(t, n))) {
      throw new KeyriteError('TRANSCRIPT_SECRET_LEAK', `Event ${e.seq} (${e.type}) would record a secret in ${where}. Keyrite refuses to write it: events carry evidence, never secrets.`, { details: { seq: e.seq, type: e.type, field: where } });
    }
  };
  const visit = (value: unknown, path: string): void => {
    if (typeof value === 'string') check(value, path);
    else if (typeof value === 'number' || typeof value === 'boolean') check(String(value), path);
    else if (Array.isArray(value)) value.forEach((item, i) => visit(item, `${path}[${i}]`));
    else if (value !== null && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) {
        check(k, `a field name in ${path}`);
        visit(v, `${path}.${k}`);
      }
    }
  };
  visit(e.data, 'data');
  visit(e.step, 'step');
  visit(e.actor, 'actor');
  visit(e.ceremony, 'ceremony');
}

// ------------------------------------------------------------------ the engine's guard

/** How many consecutive share words make a leak. Single words are ordinary English ("able", "ticket"). */
export const SHARE_WORD_WINDOW = 4;
/** BIP-39 English words are unique in their first four letters, which is also what a person may type. */
const WORD_PREFIX = 4;
const KEK_RAW_BYTES = 32;
/** Lengths of the KEK's text forms: hex, and unpadded base64 / base64url. */
const KEK_HEX_CHARS = 64;
const KEK_B64_CHARS = 43;

const digest = (text: string): string => createHash('sha256').update('keyrite/secret-guard/v1\0').update(text, 'utf8').digest('hex');

function wordKey(words: string[]): string {
  return words.map((w) => w.slice(0, WORD_PREFIX)).join(' ');
}

/** Letter runs of a text, lowercased: how share words look in any message, array or JSON. */
function wordTokens(text: string): string[] {
  return text.normalize('NFKC').toLowerCase().split(/[^a-z]+/).filter((t) => t.length > 0);
}

// ------------------------------------------------------------------ prefilter
//
// Hashing every window of every string with SHA-256 was a fifth of a ceremony's own CPU. Each
// stored digest now also has a short fingerprint (FINGERPRINT_BITS of a cheap 32-bit hash) of the
// same text; a window is hashed with SHA-256 only when its fingerprint is one of them. Equal text
// has an equal fingerprint, so nothing the digests catch is missed; a chance match only costs one
// SHA-256. The fingerprints say less about a secret than its unsalted digest already does.

const FINGERPRINT_BITS = 20;
const FINGERPRINT_MASK = (1 << FINGERPRINT_BITS) - 1;
/** Multiplier of the polynomial rolling hash (mod 2^32, odd). */
const ROLL_BASE = 0x01000193;

/** murmur3's finalizer: spreads a polynomial hash's bits before the low ones are kept. */
function fingerprintOf(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h & FINGERPRINT_MASK;
}

/** The polynomial hash of `text[from, from + size)` (UTF-16 code units), as `windowsWhere` rolls it. */
function rollingHash(text: string, from = 0, size = text.length): number {
  let h = 0;
  for (let i = from; i < from + size; i++) h = (Math.imul(h, ROLL_BASE) + text.charCodeAt(i)) | 0;
  return h;
}

function powBase(n: number): number {
  let p = 1;
  for (let i = 0; i < n; i++) p = Math.imul(p, ROLL_BASE);
  return p;
}
const POW = new Map<number, number>();
const basePow = (n: number): number => POW.get(n) ?? (POW.set(n, powBase(n)), POW.get(n)!);

/**
 * Calls `candidate(start)` for each `size`-long window of `text` that lies inside a run of
 * characters `inClass` accepts and whose fingerprint is in `fingerprints`; stops at the first that
 * returns true. The windows are the ones a regex run plus every slice would give, without the
 * slices: a rolling hash moves one character at a time.
 */
function windowsWhere(text: string, size: number, inClass: (c: number) => boolean, fingerprints: ReadonlySet<number>, candidate: (start: number) => boolean): boolean {
  if (text.length < size || fingerprints.size === 0) return false; // no window of that size, or no secret of it
  const drop = basePow(size - 1);
  let run = 0;
  let h = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (!inClass(c)) {
      run = 0;
      h = 0;
      continue;
    }
    if (run >= size) h = (h - Math.imul(text.charCodeAt(i - size), drop)) | 0;
    h = (Math.imul(h, ROLL_BASE) + c) | 0;
    run += 1;
    if (run >= size && fingerprints.has(fingerprintOf(h)) && candidate(i - size + 1)) return true;
  }
  return false;
}

const isHex = (c: number): boolean => (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66);
/** Lower-cased base64 and base64url: [0-9a-z+/_-]. */
const isB64 = (c: number): boolean => (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x7a) || c === 0x2b || c === 0x2f || c === 0x5f || c === 0x2d;
const anyChar = (): boolean => true;

/** One number per word: its first letters, hashed (FNV-1a). */
function wordHash(token: string): number {
  let h = 0x811c9dc5 | 0;
  for (let i = 0; i < Math.min(token.length, WORD_PREFIX); i++) h = Math.imul(h ^ token.charCodeAt(i), 0x01000193);
  return h;
}

/** The fingerprint of tokens[at, at + SHARE_WORD_WINDOW), from their word hashes. */
function wordWindowFingerprint(hashes: readonly number[], at: number): number {
  let h = 0;
  for (let i = at; i < at + SHARE_WORD_WINDOW; i++) h = (Math.imul(h, ROLL_BASE) + hashes[i]) | 0;
  return fingerprintOf(h);
}

/**
 * What the ceremony engine checks every event against before it is written. It keeps only
 * SHA-256 digests of the secrets it was shown (4-word windows of every share, the KEK's raw,
 * hex and base64 forms, each PIN), and short fingerprints of the same (a prefilter, above), so
 * it can keep guarding after the secrets themselves are zeroized, and it never holds a copy to
 * leak. Matching:
 *   - share words: any 4 consecutive words, by their first 4 letters, in any field or across
 *     array items ("word 10" and a lone common word are fine; a run of a share is not);
 *   - KEK: every 64-character hex run and 43-character base64 window, case-insensitively, and
 *     32-character windows of strings that hold non-ASCII characters (raw bytes);
 *   - PINs: whole tokens (a 6-digit PIN inside a 64-digit fingerprint is chance, not a leak).
 *     A PIN of fewer than 6 characters that is all digits is not matched: it cannot be told
 *     from key sizes, years and counts that events legitimately carry (docs/formats.md).
 */
export class SecretGuard {
  private readonly wordWindows = new Set<string>();
  private readonly kekForms = new Set<string>();
  private readonly pins = new Set<string>();
  private readonly wordPrints = new Set<number>();
  private readonly hexPrints = new Set<number>();
  private readonly b64Prints = new Set<number>();
  private readonly rawPrints = new Set<number>();
  private readonly pinPrints = new Set<number>();

  /** Remember every 4-word window of a share (as words or as typed text). */
  addShareWords(words: string[]): void {
    const tokens = words.flatMap((w) => wordTokens(w));
    const hashes = tokens.map(wordHash);
    for (let i = 0; i + SHARE_WORD_WINDOW <= tokens.length; i++) {
      this.wordWindows.add(digest(wordKey(tokens.slice(i, i + SHARE_WORD_WINDOW))));
      this.wordPrints.add(wordWindowFingerprint(hashes, i));
    }
  }

  addKek(kek: Uint8Array): void {
    const b = Buffer.from(kek.buffer, kek.byteOffset, kek.byteLength);
    const hex = b.toString('hex');
    const b64 = b.toString('base64').replace(/=+$/, '');
    const b64url = b.toString('base64url');
    const raw = b.toString('latin1');
    for (const form of [hex, b64.toLowerCase(), b64url.toLowerCase()]) this.kekForms.add(digest(form));
    this.kekForms.add(digest(`raw:${raw}`));
    // A KEK of another length than 32 bytes has forms no window of the sizes below can equal: its
    // digests are kept all the same, as before (nothing ever matched them).
    if (hex.length === KEK_HEX_CHARS) this.hexPrints.add(fingerprintOf(rollingHash(hex)));
    for (const form of [b64.toLowerCase(), b64url.toLowerCase()]) if (form.length === KEK_B64_CHARS) this.b64Prints.add(fingerprintOf(rollingHash(form)));
    if (raw.length === KEK_RAW_BYTES) this.rawPrints.add(fingerprintOf(rollingHash(raw)));
  }

  addPin(pin: string): void {
    const p = pin.trim().toLowerCase();
    if (p.length === 0 || (p.length < 6 && /^[0-9]+$/.test(p))) return;
    this.pins.add(digest(p));
    this.pinPrints.add(fingerprintOf(rollingHash(p)));
  }

  get empty(): boolean {
    return this.wordWindows.size === 0 && this.kekForms.size === 0 && this.pins.size === 0;
  }

  /** Throws TRANSCRIPT_SECRET_LEAK (naming the event and field, never the secret) if `e` holds one. */
  check(e: TranscriptEvent): void {
    if (this.empty) return;
    const strings: Array<{ text: string; where: string }> = [];
    const collect = (value: unknown, where: string): void => {
      if (typeof value === 'string') strings.push({ text: value, where });
      else if (typeof value === 'number' || typeof value === 'boolean') strings.push({ text: String(value), where });
      else if (Array.isArray(value)) value.forEach((item, i) => collect(item, `${where}[${i}]`));
      else if (value !== null && typeof value === 'object') {
        for (const [k, v] of Object.entries(value)) {
          strings.push({ text: k, where: `a field name in ${where}` });
          collect(v, `${where}.${k}`);
        }
      }
    };
    collect(e.data, 'data');
    collect(e.step, 'step');
    collect(e.actor, 'actor');
    collect(e.ceremony, 'ceremony');
    const leak = (where: string, kind: string): never => {
      throw new KeyriteError('TRANSCRIPT_SECRET_LEAK', `Event ${e.seq} (${e.type}) would record ${kind} in ${where}. Keyrite refuses to write it: events carry evidence, never secrets. Nothing was written; the ceremony can continue.`, {
        details: { seq: e.seq, type: e.type, field: where, kind },
      });
    };
    const words = this.wordWindows.size > 0;
    const stream: string[] = [];
    for (const { text, where } of strings) {
      const tokens = words ? wordTokens(text) : [];
      this.checkText(text, tokens, where, leak);
      for (const t of tokens) stream.push(t);
    }
    // Share words split over fields (an array of words, a word per field): check the whole event's word stream too.
    if (words && this.hasWordWindow(stream)) leak('data', 'share words');
  }

  private hasWordWindow(tokens: string[]): boolean {
    if (tokens.length < SHARE_WORD_WINDOW) return false;
    const hashes = tokens.map(wordHash);
    for (let i = 0; i + SHARE_WORD_WINDOW <= tokens.length; i++) {
      if (this.wordPrints.has(wordWindowFingerprint(hashes, i)) && this.wordWindows.has(digest(wordKey(tokens.slice(i, i + SHARE_WORD_WINDOW))))) return true;
    }
    return false;
  }

  private checkText(text: string, tokens: string[], where: string, leak: (where: string, kind: string) => never): void {
    if (this.wordWindows.size > 0 && this.hasWordWindow(tokens)) leak(where, 'share words');
    if (this.kekForms.size > 0) {
      const lower = text.toLowerCase();
      const isKek = (form: string): boolean => this.kekForms.has(digest(form));
      if (windowsWhere(lower, KEK_HEX_CHARS, isHex, this.hexPrints, (at) => isKek(lower.slice(at, at + KEK_HEX_CHARS)))) leak(where, 'key-encryption-key bytes');
      if (windowsWhere(lower, KEK_B64_CHARS, isB64, this.b64Prints, (at) => isKek(lower.slice(at, at + KEK_B64_CHARS)))) leak(where, 'key-encryption-key bytes');
      if (text.length >= KEK_RAW_BYTES && /[^\x20-\x7e]/.test(text)) {
        if (windowsWhere(text, KEK_RAW_BYTES, anyChar, this.rawPrints, (at) => isKek(`raw:${text.slice(at, at + KEK_RAW_BYTES)}`))) leak(where, 'key-encryption-key bytes');
      }
    }
    if (this.pins.size > 0) {
      const lower = text.toLowerCase();
      const tokens = new Set([...lower.split(/[^0-9a-z]+/), ...lower.split(/[\s"'`,;:()[\]{}<>=]+/)]);
      for (const t of tokens) if (t && this.pinPrints.has(fingerprintOf(rollingHash(t))) && this.pins.has(digest(t))) leak(where, 'a PIN');
    }
  }
}
