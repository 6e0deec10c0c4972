import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KeyriteError } from '../../src/core/errors';
import { normalizePin } from '../../src/core/hsm/pin';

const code = (raw: string): string => {
  try {
    normalizePin(raw, 'KEYRITE_PIN');
  } catch (e) {
    return (e as KeyriteError).code;
  }
  return 'OK';
};

// PINs a person could type: printable, no surrounding spaces.
const typedPin = fc.string({ minLength: 1, maxLength: 64, unit: fc.constantFrom(...'0123456789abcdefXYZ !#%&*+-./:;=?@_~éü€'.split('')) }).filter((s) => s === s.trim());

describe('normalizePin', () => {
  it('drops exactly one trailing line ending and nothing else, for any PIN a person could type (seeded)', () => {
    fc.assert(
      fc.property(typedPin, fc.constantFrom('', '\n', '\r\n'), (pin, ending) => normalizePin(pin + ending) === pin),
      { seed: 15_2026, numRuns: 500 },
    );
  });

  it('refuses any control character anywhere, without echoing the PIN (seeded)', () => {
    const control = fc.integer({ min: 0, max: 0x9f }).filter((c) => c < 0x20 || c >= 0x7f).map((c) => String.fromCharCode(c));
    fc.assert(
      fc.property(typedPin, control, fc.nat(), (pin, c, at) => {
        const i = at % (pin.length + 1);
        const raw = pin.slice(0, i) + c + pin.slice(i) + 'x';
        try {
          normalizePin(raw, 'KEYRITE_PIN');
          return false;
        } catch (e) {
          return e instanceof KeyriteError && e.code === 'PIN_INVALID' && !e.message.includes(raw) && e.details.position === i + 1;
        }
      }),
      { seed: 15_2027, numRuns: 500 },
    );
  });

  it.each([
    ['123456', 'OK'],
    ['123456\n', 'OK'],
    ['123456\r\n', 'OK'],
    ['123456\n\n', 'PIN_INVALID'],
    ['123456\r', 'PIN_INVALID'],
    ['\n', 'PIN_EMPTY'],
    ['', 'PIN_EMPTY'],
    [' 123456', 'PIN_INVALID'],
    ['123456 ', 'PIN_INVALID'],
    ['12 34 56', 'OK'],
  ])('%j → %s', (raw, expected) => {
    expect(code(raw)).toBe(expected);
  });

  it('names the source in its sentence', () => {
    expect(() => normalizePin('\t1', "the PIN file '/tmp/p'")).toThrow("The PIN file '/tmp/p' contains a control character (at character 1)");
  });
});
