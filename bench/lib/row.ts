import type { Stats } from './stats';

/** One measured quantity: times in ms, sizes in KB, memory in MB. */
export interface Measured {
  label: string;
  unit: 'ms' | 'KB' | 'MB';
  stats: Stats;
}

/** One budget a row is held to; `by` says how far off a miss is. */
export interface Check {
  label: string;
  pass: boolean;
  by?: string;
}

/** One benchmark, one row of the table. */
export interface Row {
  id: string;
  group: string;
  name: string;
  keyrite: Measured;
  reference: Measured | null;
  /** keyrite median / reference median. */
  ratio: number | null;
  target: string;
  checks: Check[];
  notes: string[];
  /** Why a target is missed, from what the benchmark measured (shown only on a miss). */
  why?: string;
  extra?: Record<string, unknown>;
}

export function result(row: Row): 'PASS' | 'MISS' | 'INFO' {
  if (row.checks.length === 0) return 'INFO';
  return row.checks.every((c) => c.pass) ? 'PASS' : 'MISS';
}

export function ratioOf(a: Stats, b: Stats): number {
  return a.median / b.median;
}

/** A ratio budget: pass when ratio ≤ limit; a miss says by how much. */
export function ratioCheck(ratio: number, limit: number): Check {
  const pass = ratio <= limit;
  return { label: `ratio ≤ ${limit}`, pass, by: pass ? undefined : `ratio ${ratio.toFixed(2)} is ${((ratio / limit - 1) * 100).toFixed(0)}% over ${limit}` };
}

/** An absolute budget on a median: pass when median < limit. */
export function belowCheck(value: number, limit: number, unit: string, what = 'median'): Check {
  const pass = value < limit;
  return { label: `${what} < ${limit} ${unit}`, pass, by: pass ? undefined : `${what} ${value.toFixed(1)} ${unit} is ${(value - limit).toFixed(1)} ${unit} (${((value / limit - 1) * 100).toFixed(0)}%) over ${limit} ${unit}` };
}
