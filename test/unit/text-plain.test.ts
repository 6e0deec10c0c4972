import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { escapeForTerminal, firstUnsafeCharacter, requireKeyLabel, requirePlainText } from '../../src/core/text/plain-text';

// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200b\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/u;
const anyText = fc.string({ unit: 'binary', maxLength: 80 });

describe('escapeForTerminal', () => {
  it('never lets an unsafe character through, for any text (seeded)', () => {
    fc.assert(fc.property(anyText, (s) => !UNSAFE.test(escapeForTerminal(s))), { seed: 15_3001, numRuns: 2000 });
  });

  it('leaves text without unsafe characters exactly as it was, names in any script included (seeded)', () => {
    fc.assert(fc.property(anyText.filter((s) => !UNSAFE.test(s)), (s) => escapeForTerminal(s) === s), { seed: 15_3002, numRuns: 2000 });
    expect(escapeForTerminal('Zoë Ångström — محمد 李雷 ‍👩‍🔬')).toBe('Zoë Ångström — محمد 李雷 ‍👩‍🔬');
  });

  it.each([
    ['\u001b[2J', '\\x1b[2J'],
    ['a\nb\rc', 'a\\x0ab\\x0dc'],
    ['x\u202ey', 'x\\u202ey'],
    ['\u2066x\u2069', '\\u2066x\\u2069'],
    ['\u009b', '\\x9b'],
  ])('%j → %s', (raw, shown) => {
    expect(escapeForTerminal(raw)).toBe(shown);
  });
});

describe('requirePlainText', () => {
  it('refuses exactly the strings that hold an unsafe character, naming its position (seeded)', () => {
    fc.assert(
      fc.property(anyText, (s) => {
        const bad = firstUnsafeCharacter(s);
        try {
          requirePlainText(s, 'The name', 'CEREMONY_STATEMENT_INVALID');
          return bad === null;
        } catch (e) {
          const err = e as { code: string; details: { position: number } };
          return bad !== null && err.code === 'CEREMONY_STATEMENT_INVALID' && err.details.position === bad.position && [...s][bad.position - 1].codePointAt(0) === bad.codePoint;
        }
      }),
      { seed: 15_3003, numRuns: 2000 },
    );
  });
});

describe('requireKeyLabel', () => {
  it.each([
    ['root-2026-01', true],
    ['keyrite-transcript-20260101-root-key-generation-abc123', true],
    ['Root CA (2026) ops@example.org+1:a_b', true],
    ['x'.repeat(128), true],
    ['x'.repeat(129), false],
    ['', false],
    ['../x', false],
    ['a..b', false],
    ['a/b', false],
    ['a\\b', false],
    [' leading', false],
    ['.hidden', false],
    ['tab\there', false],
    ['rlo\u202eexe', false],
  ])('%j → %s', (label, ok) => {
    if (ok) expect(requireKeyLabel(label)).toBe(label);
    else expect(() => requireKeyLabel(label)).toThrow(expect.objectContaining({ code: 'KEY_LABEL_INVALID' }));
  });
});
