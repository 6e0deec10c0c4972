import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { checksumSymbols, checksumValid, findRepairs, gfGroupSize, gfMul, gfPow } from '../../src/core/backup/word-checksum';

const randomData = (): number[] => Array.from(randomBytes(60)).reduce<number[]>((acc, b, i, all) => (i % 2 ? acc : [...acc, ((b << 8) | all[i + 1]) & 0x7ff]), []);
const codeword = (data: number[]): number[] => [...data, ...checksumSymbols(data)];

describe('GF(2^11) Reed–Solomon share checksum', () => {
  it('uses a primitive reduction polynomial: α generates all 2047 non-zero elements', () => {
    expect(gfGroupSize()).toBe(2047);
    expect(gfPow(2047)).toBe(1);
    expect(gfMul(gfPow(5), gfPow(2045))).toBe(gfPow(3));
  });

  it('accepts a codeword and detects EVERY single-symbol substitution at EVERY position', () => {
    const word = codeword(randomData());
    expect(word).toHaveLength(33);
    expect(checksumValid(word)).toBe(true);
    let undetected = 0;
    for (let p = 0; p < word.length; p++) {
      const w = word.slice();
      for (let v = 0; v < 2048; v++) {
        if (v === word[p]) continue;
        w[p] = v;
        if (checksumValid(w)) undetected++;
      }
    }
    expect(undetected).toBe(0);
  });

  it('detects every swap of two different words and every 2- and 3-word error tried', () => {
    const word = codeword(randomData());
    for (let i = 0; i < word.length; i++) {
      for (let j = i + 1; j < word.length; j++) {
        if (word[i] === word[j]) continue;
        const w = word.slice();
        [w[i], w[j]] = [w[j], w[i]];
        expect(checksumValid(w), `swap ${i},${j}`).toBe(false);
      }
    }
    for (let t = 0; t < 2000; t++) {
      const w = word.slice();
      const positions = new Set<number>();
      while (positions.size < 2 + (t % 2)) positions.add(Math.floor(Math.random() * w.length));
      for (const p of positions) w[p] = (w[p] + 1 + Math.floor(Math.random() * 2047)) % 2048;
      expect(checksumValid(w)).toBe(false);
    }
  });

  it('finds exactly one repair for a single wrong word, wherever it is', () => {
    const word = codeword(randomData());
    for (const p of [0, 7, 29, 30, 32]) {
      const w = word.slice();
      w[p] = (w[p] + 777) % 2048;
      const { substitutions } = findRepairs(w);
      expect(substitutions).toHaveLength(1);
      expect(substitutions[0].positions).toEqual([p]);
      expect(substitutions[0].symbols).toEqual(word);
    }
  });
});
