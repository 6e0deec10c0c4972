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

const digest = (text: string): string => createHash('sha256').update('keyrite/secret-guard/v1\0').update(text, 'utf8').digest('hex');

function wordKey(words: string[]): string {
  return words.map((w) => w.slice(0, WORD_PREFIX)).join(' ');
}

/** Letter runs of a text, lowercased: how share words look in any message, array or JSON. */
function wordTokens(text: string): string[] {
  return text.normalize('NFKC').toLowerCase().split(/[^a-z]+/).filter((t) => t.length > 0);
}

/** Maximal runs of the characters `cls` matches, at least `min` long. */
function runs(text: string, cls: RegExp, min: number): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(cls)) if (m[0].length >= min) out.push(m[0]);
  return out;
}

function windowsOf(text: string, size: number): string[] {
  const out: string[] = [];
  for (let i = 0; i + size <= text.length; i++) out.push(text.slice(i, i + size));
  return out;
}

/**
 * What the ceremony engine checks every event against before it is written. It keeps only
 * SHA-256 digests of the secrets it was shown (4-word windows of every share, the KEK's raw,
 * hex and base64 forms, each PIN), so it can keep guarding after the secrets themselves are
 * zeroized, and it never holds a copy to leak. Matching:
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

  /** Remember every 4-word window of a share (as words or as typed text). */
  addShareWords(words: string[]): void {
    const tokens = words.flatMap((w) => wordTokens(w));
    for (let i = 0; i + SHARE_WORD_WINDOW <= tokens.length; i++) this.wordWindows.add(digest(wordKey(tokens.slice(i, i + SHARE_WORD_WINDOW))));
  }

  addKek(kek: Uint8Array): void {
    const b = Buffer.from(kek.buffer, kek.byteOffset, kek.byteLength);
    const hex = b.toString('hex');
    const b64 = b.toString('base64').replace(/=+$/, '');
    const b64url = b.toString('base64url');
    for (const form of [hex, b64.toLowerCase(), b64url.toLowerCase()]) this.kekForms.add(digest(form));
    this.kekForms.add(digest(`raw:${b.toString('latin1')}`));
  }

  addPin(pin: string): void {
    const p = pin.trim().toLowerCase();
    if (p.length === 0 || (p.length < 6 && /^[0-9]+$/.test(p))) return;
    this.pins.add(digest(p));
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
    for (const { text, where } of strings) this.checkText(text, where, leak);
    // Share words split over fields (an array of words, a word per field): check the whole event's word stream too.
    if (this.wordWindows.size > 0) {
      const stream = strings.flatMap((s) => wordTokens(s.text));
      if (this.hasWordWindow(stream)) leak('data', 'share words');
    }
  }

  private hasWordWindow(tokens: string[]): boolean {
    for (let i = 0; i + SHARE_WORD_WINDOW <= tokens.length; i++) {
      if (this.wordWindows.has(digest(wordKey(tokens.slice(i, i + SHARE_WORD_WINDOW))))) return true;
    }
    return false;
  }

  private checkText(text: string, where: string, leak: (where: string, kind: string) => never): void {
    if (this.wordWindows.size > 0 && this.hasWordWindow(wordTokens(text))) leak(where, 'share words');
    if (this.kekForms.size > 0) {
      const lower = text.toLowerCase();
      for (const run of runs(lower, /[0-9a-f]+/g, 64)) for (const w of windowsOf(run, 64)) if (this.kekForms.has(digest(w))) leak(where, 'key-encryption-key bytes');
      for (const run of runs(lower, /[0-9a-z+/_-]+/g, 43)) for (const w of windowsOf(run, 43)) if (this.kekForms.has(digest(w))) leak(where, 'key-encryption-key bytes');
      if (text.length >= KEK_RAW_BYTES && /[^\x20-\x7e]/.test(text)) {
        for (const w of windowsOf(text, KEK_RAW_BYTES)) if (this.kekForms.has(digest(`raw:${w}`))) leak(where, 'key-encryption-key bytes');
      }
    }
    if (this.pins.size > 0) {
      const lower = text.toLowerCase();
      const tokens = new Set([...lower.split(/[^0-9a-z]+/), ...lower.split(/[\s"'`,;:()[\]{}<>=]+/)]);
      for (const t of tokens) if (t && this.pins.has(digest(t))) leak(where, 'a PIN');
    }
  }
}
