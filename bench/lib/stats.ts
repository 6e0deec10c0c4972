/** Timing and statistics for the benchmarks: monotonic clock, interleaved sides, min/median/max. */

export interface Stats {
  n: number;
  min: number;
  median: number;
  max: number;
}

/** Milliseconds from the monotonic clock. */
export function nowMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

export function stats(samples: readonly number[]): Stats {
  if (samples.length === 0) throw new Error('no samples');
  const s = [...samples].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
  return { n: s.length, min: s[0], median, max: s[s.length - 1] };
}

/** Time one call of a synchronous or asynchronous function, in ms. */
export async function timeIt(fn: () => unknown): Promise<number> {
  const t0 = nowMs();
  await fn();
  return nowMs() - t0;
}

/**
 * One side of a comparison. `run` returns the milliseconds it measured itself (so set-up and
 * clean-up around the measured part stay out of the number), or undefined to have the whole
 * call timed.
 */
export interface Side {
  name: string;
  run: () => number | undefined | void | Promise<number | undefined | void>;
}

/**
 * Run the sides in rounds, rotating which side goes first each round, so that drift on a shared,
 * noisy machine (other processes, thermal, page cache) hits every side alike.
 */
export async function interleave(sides: Side[], opts: { rounds: number; warmup?: number }): Promise<Map<string, number[]>> {
  const out = new Map<string, number[]>(sides.map((s) => [s.name, []]));
  const total = (opts.warmup ?? 0) + opts.rounds;
  for (let r = 0; r < total; r++) {
    for (let k = 0; k < sides.length; k++) {
      const side = sides[(r + k) % sides.length];
      const t0 = nowMs();
      const measured = await side.run();
      const ms = typeof measured === 'number' ? measured : nowMs() - t0;
      if (r >= (opts.warmup ?? 0)) out.get(side.name)!.push(ms);
    }
  }
  return out;
}

export function fmtMs(ms: number): string {
  if (ms >= 1000) return `${(ms / 1000).toFixed(2)} s`;
  if (ms >= 100) return `${ms.toFixed(0)} ms`;
  if (ms >= 10) return `${ms.toFixed(1)} ms`;
  if (ms >= 1) return `${ms.toFixed(2)} ms`;
  return `${(ms * 1000).toFixed(0)} µs`;
}
