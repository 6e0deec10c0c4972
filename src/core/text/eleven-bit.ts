/**
 * Bytes ↔ 11-bit groups, big-endian: the one packer behind every 2048-word encoding (share words
 * in backup/share-codec.ts, fingerprint words in x509/fingerprint.ts). Group i holds bits
 * 11·i … 11·i+10 of the input; the last group is padded with zero bits on the right.
 */
export const ELEVEN_BITS = 11;
const MASK = (1 << ELEVEN_BITS) - 1;

export function bytesToElevenBits(bytes: Uint8Array): number[] {
  const groups: number[] = [];
  let acc = 0;
  let bits = 0;
  for (const b of bytes) {
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= ELEVEN_BITS) {
      groups.push((acc >> (bits - ELEVEN_BITS)) & MASK);
      bits -= ELEVEN_BITS;
      // Keep only the bits not yet emitted, so the accumulator never outgrows 19 bits.
      acc &= (1 << bits) - 1;
    }
  }
  if (bits > 0) groups.push((acc << (ELEVEN_BITS - bits)) & MASK);
  return groups;
}

/**
 * The inverse: the first `byteCount` bytes the groups spell, plus what is left over — the number
 * of trailing bits and their value (the padding, which a decoder checks is what it expects).
 */
export function elevenBitsToBytes(groups: readonly number[], byteCount: number): { bytes: Buffer; leftoverBits: number; leftover: number } {
  const bytes = Buffer.alloc(byteCount);
  let acc = 0;
  let bits = 0;
  let n = 0;
  for (const g of groups) {
    acc = (acc << ELEVEN_BITS) | (g & MASK);
    bits += ELEVEN_BITS;
    while (bits >= 8 && n < byteCount) {
      bytes[n++] = (acc >> (bits - 8)) & 0xff;
      bits -= 8;
      acc &= (1 << bits) - 1;
    }
  }
  return { bytes, leftoverBits: bits, leftover: acc };
}
