/**
 * The share checksum: 3 Reed–Solomon check symbols over GF(2^11), one symbol per word.
 *
 * Why a Reed–Solomon code and not a truncated hash: the code has minimum distance 4 over words,
 * so ANY one, two or three wrong words (and therefore any swap of two words) are detected with
 * certainty, not just with probability 1 − 2^-33; and a single wrong word has exactly one
 * correction, which is what lets Keyrite name it. This is error detection, not cryptography:
 * tamper-evidence comes from the per-share digest in the backup file.
 *
 * Field: GF(2^11) with reduction polynomial x^11 + x^2 + 1 (0x805), generator α = x (= 2).
 * Code:  g(x) = (x − α)(x − α²)(x − α³). The symbols of the ASCII customization string
 *        "keyrite" are prepended (never written) so another tool's word lists do not validate.
 */

const FIELD_BITS = 11;
const FIELD_SIZE = 1 << FIELD_BITS; // 2048 = the word list length
const ORDER = FIELD_SIZE - 1; // 2047
const REDUCTION = 0x805; // x^11 + x^2 + 1
export const CHECK_SYMBOLS = 3;
export const CHECKSUM_CUSTOMIZATION = 'keyrite';

const EXP = new Uint16Array(ORDER * 2);
const LOG = new Int32Array(FIELD_SIZE).fill(-1);
{
  let x = 1;
  for (let i = 0; i < ORDER; i++) {
    EXP[i] = x;
    LOG[x] = i;
    x <<= 1;
    if (x & FIELD_SIZE) x ^= REDUCTION;
  }
  for (let i = ORDER; i < ORDER * 2; i++) EXP[i] = EXP[i - ORDER];
}

export function gfMul(a: number, b: number): number {
  if (a === 0 || b === 0) return 0;
  return EXP[LOG[a] + LOG[b]];
}

/** α^i, exposed so a test can prove α generates the whole multiplicative group. */
export function gfPow(i: number): number {
  return EXP[((i % ORDER) + ORDER) % ORDER];
}

/** Number of distinct non-zero elements α^0..α^2046 (2047 iff 0x805 is primitive). */
export function gfGroupSize(): number {
  return new Set(EXP.subarray(0, ORDER)).size;
}

/** g(x) coefficients, highest degree first: [1, g2, g1, g0]. */
const GENERATOR: number[] = (() => {
  let g = [1];
  for (let i = 1; i <= CHECK_SYMBOLS; i++) {
    const root = gfPow(i);
    const next = new Array<number>(g.length + 1).fill(0);
    for (let j = 0; j < g.length; j++) {
      next[j] ^= g[j]; // x · g
      next[j + 1] ^= gfMul(g[j], root); // root · g (minus is plus in characteristic 2)
    }
    g = next;
  }
  return g;
})();

const PREFIX = Array.from(Buffer.from(CHECKSUM_CUSTOMIZATION, 'ascii'));

/** Remainder of (prefix ‖ symbols) · x^3 divided by g(x): the 3 check symbols. */
export function checksumSymbols(dataSymbols: readonly number[]): number[] {
  const r = [0, 0, 0];
  const feed = (s: number): void => {
    const f = s ^ r[0];
    r[0] = r[1] ^ gfMul(f, GENERATOR[1]);
    r[1] = r[2] ^ gfMul(f, GENERATOR[2]);
    r[2] = gfMul(f, GENERATOR[3]);
  };
  for (const s of PREFIX) feed(s);
  for (const s of dataSymbols) feed(s);
  return r;
}

/** True when the last 3 symbols are the checksum of the others. */
export function checksumValid(symbols: readonly number[]): boolean {
  if (symbols.length <= CHECK_SYMBOLS) return false;
  const data = symbols.slice(0, symbols.length - CHECK_SYMBOLS);
  const check = checksumSymbols(data);
  const n = symbols.length;
  return check[0] === symbols[n - 3] && check[1] === symbols[n - 2] && check[2] === symbols[n - 1];
}

export interface ChecksumRepair {
  kind: 'substitution' | 'swap';
  /** 0-based positions changed. */
  positions: number[];
  /** The corrected symbol list. */
  symbols: number[];
}

/**
 * Find the single-symbol substitutions and the two-symbol swaps that make the checksum pass.
 * With minimum distance 4 there is at most one substitution; swaps may in rare cases be
 * ambiguous, so the caller only suggests one when it is the only repair.
 */
export function findRepairs(symbols: readonly number[]): { substitutions: ChecksumRepair[]; swaps: ChecksumRepair[] } {
  const substitutions: ChecksumRepair[] = [];
  const work = symbols.slice();
  const n = work.length;
  if (n > CHECK_SYMBOLS) {
    // The check symbols are GF(2^11)-linear in the data symbols (plus a constant from the
    // prefix), so changing symbol p by e changes (computed check ⊕ written check) by e·effect(p).
    // Every candidate is still tried, but tested in O(1) instead of recomputing the checksum
    // (33 × 2047 recomputations took about 30 ms per mistyped share).
    const dataLength = n - CHECK_SYMBOLS;
    const computed = checksumSymbols(work.slice(0, dataLength));
    const syndrome = computed.map((c, j) => c ^ work[dataLength + j]);
    const zero = checksumSymbols(new Array<number>(dataLength).fill(0));
    const unit = new Array<number>(dataLength).fill(0);
    for (let p = 0; p < n; p++) {
      let effect: number[];
      if (p < dataLength) {
        unit[p] = 1;
        effect = checksumSymbols(unit).map((c, j) => c ^ zero[j]);
        unit[p] = 0;
      } else {
        effect = [0, 0, 0];
        effect[p - dataLength] = 1;
      }
      const original = work[p];
      for (let v = 0; v < FIELD_SIZE; v++) {
        if (v === original) continue;
        const e = v ^ original;
        if (gfMul(e, effect[0]) === syndrome[0] && gfMul(e, effect[1]) === syndrome[1] && gfMul(e, effect[2]) === syndrome[2]) {
          const repaired = work.slice();
          repaired[p] = v;
          substitutions.push({ kind: 'substitution', positions: [p], symbols: repaired });
        }
      }
    }
  }
  const swaps: ChecksumRepair[] = [];
  for (let i = 0; i < work.length; i++) {
    for (let j = i + 1; j < work.length; j++) {
      if (work[i] === work[j]) continue;
      [work[i], work[j]] = [work[j], work[i]];
      if (checksumValid(work)) swaps.push({ kind: 'swap', positions: [i, j], symbols: work.slice() });
      [work[i], work[j]] = [work[j], work[i]];
    }
  }
  return { substitutions, swaps };
}
