import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bytesToElevenBits, elevenBitsToBytes } from '../../src/core/text/eleven-bit';

/** An independent reading: the whole input as one big integer, cut into 11-bit groups from the top. */
function reference(bytes: Uint8Array): number[] {
  const total = bytes.length * 8;
  const groups = Math.ceil(total / 11);
  let n = 0n;
  for (const b of bytes) n = (n << 8n) | BigInt(b);
  n <<= BigInt(groups * 11 - total); // the zero padding on the right
  return Array.from({ length: groups }, (_, i) => Number((n >> BigInt((groups - 1 - i) * 11)) & 0x7ffn));
}

describe('the one 11-bit packer (share words, fingerprint words)', () => {
  it.each([
    { hex: '', groups: [] },
    { hex: 'ff', groups: [0x7f8] },
    { hex: '002008', groups: [1, 2, 0] },
    { hex: 'ffffffffffffffffffffff', groups: Array(8).fill(0x7ff) },
  ])('known answer: $hex', ({ hex, groups }) => {
    expect(bytesToElevenBits(Buffer.from(hex, 'hex'))).toEqual(groups);
  });

  it('matches a big-integer reading for any input, and reads back to the same bytes with zero padding', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), (bytes) => {
        const groups = bytesToElevenBits(bytes);
        expect(groups).toEqual(reference(bytes));
        const back = elevenBitsToBytes(groups, bytes.length);
        expect(Buffer.from(back.bytes).equals(Buffer.from(bytes))).toBe(true);
        expect(back.leftoverBits).toBe(groups.length * 11 - bytes.length * 8);
        expect(back.leftover).toBe(0);
      }),
      { seed: 17, numRuns: 500 },
    );
  });

  it('reports non-zero padding, which the share decoder refuses', () => {
    // 30 groups carry 41 bytes + 2 bits (the share layout); set the last two bits.
    const groups = Array<number>(30).fill(0);
    groups[29] = 0b11;
    expect(elevenBitsToBytes(groups, 41)).toMatchObject({ leftoverBits: 2, leftover: 3 });
  });
});
