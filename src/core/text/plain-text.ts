import { KeyriteError, type ErrorCode } from '../errors';

/**
 * Characters no person-supplied name, label, statement or parameter needs, and that can make text
 * lie on a terminal or a printout: C0 and C1 control characters and DEL (ANSI escapes, carriage
 * returns that overwrite a line, newlines that forge one), Unicode line and paragraph separators,
 * bidirectional embeddings, overrides, isolates and marks (which reorder what a reader sees), and
 * the zero-width space and BOM (invisible differences between names).
 */
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200b\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/u;
// eslint-disable-next-line no-control-regex
const UNSAFE_ALL = /[\u0000-\u001f\u007f-\u009f\u061c\u200b\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/gu;

const NAMES: Record<number, string> = {
  0x09: 'a tab', 0x0a: 'a line break', 0x0d: 'a carriage return', 0x1b: 'an escape character (ANSI escape sequence)', 0x7f: 'a delete character',
  0x2028: 'a line separator', 0x2029: 'a paragraph separator', 0x200b: 'a zero-width space', 0xfeff: 'a byte order mark',
};

export function describeCharacter(cp: number): string {
  const hex = `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;
  if (NAMES[cp]) return `${NAMES[cp]} (${hex})`;
  if ((cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069) || cp === 0x200e || cp === 0x200f || cp === 0x061c) return `a bidirectional text control (${hex})`;
  return `a control character (${hex})`;
}

/** The first unsafe character and its 1-based position, or null. */
export function firstUnsafeCharacter(value: string): { position: number; codePoint: number } | null {
  const m = UNSAFE.exec(value);
  if (!m) return null;
  return { position: [...value.slice(0, m.index)].length + 1, codePoint: m[0].codePointAt(0)! };
}

/**
 * Refuse, at entry, a person-supplied string holding an unsafe character, with `code` (the
 * domain's own, e.g. CEREMONY_PARTICIPANT_INVALID) and a sentence naming the field, the character
 * and where it is. Returns the value for chaining.
 */
export function requirePlainText(value: string, field: string, code: ErrorCode, details: Record<string, unknown> = {}): string {
  const bad = firstUnsafeCharacter(value);
  if (bad) {
    throw new KeyriteError(code, `${field} contains ${describeCharacter(bad.codePoint)} at character ${bad.position}. Names, labels, statements and parameters are plain text: type it again without it.`, {
      details: { ...details, field, position: bad.position, codePoint: bad.codePoint },
    });
  }
  return value;
}

/**
 * Text read from a file (a bundle, a backup file, the token) made safe to print on a terminal:
 * every unsafe character is shown as a visible escape (`\x1b`, `\u202e`), so a file cannot move
 * the cursor, recolour, reorder or forge lines of Keyrite's output. Ordinary text is unchanged.
 */
export function escapeForTerminal(value: string): string {
  return value.replace(UNSAFE_ALL, (ch) => {
    const cp = ch.codePointAt(0)!;
    return cp <= 0xff ? `\\x${cp.toString(16).padStart(2, '0')}` : `\\u${cp.toString(16).padStart(4, '0')}`;
  });
}

/** escapeForTerminal for text of several lines that Keyrite itself broke with '\n'. */
export function escapeLinesForTerminal(text: string): string {
  return text.split('\n').map(escapeForTerminal).join('\n');
}

/**
 * Key labels (CKA_LABEL): 1–128 characters, letters, digits, space and . _ - : @ + ( ), starting
 * with a letter or digit, no '..' — a label also names files and must not walk out of a folder.
 */
const LABEL = /^[A-Za-z0-9][A-Za-z0-9 ._:@+()-]*$/;
export const MAX_LABEL_LENGTH = 128;

export function requireKeyLabel(label: string, code: ErrorCode = 'KEY_LABEL_INVALID'): string {
  const problem =
    label.length === 0 ? 'is empty'
      : label.length > MAX_LABEL_LENGTH ? `is ${label.length} characters long (at most ${MAX_LABEL_LENGTH})`
        : firstUnsafeCharacter(label) ? `contains ${describeCharacter(firstUnsafeCharacter(label)!.codePoint)}`
          : label.includes('..') ? "contains '..'"
            : !LABEL.test(label) ? 'may only hold letters, digits, spaces and . _ - : @ + ( ), starting with a letter or digit'
              : null;
  if (problem) {
    throw new KeyriteError(code, `Key label '${escapeForTerminal(label.length > 64 ? `${label.slice(0, 64)}…` : label)}' ${problem}. Choose a label such as 'root-2026-01'.`, { details: { length: label.length } });
  }
  return label;
}
