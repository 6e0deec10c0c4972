/**
 * `npm run bench` (via build/bench.mjs, which bundles this file to out/bench/main.mjs).
 *
 * Without --group: run every group in its own child process (its own SoftHSM configuration, its
 * own peak RSS), collect the rows, print the table, write bench/results.json and
 * docs/benchmarks.md. With --group NAME --result FILE: run that one group and write its rows.
 * Options: --only a,b (a subset of groups), --quick (fewer repetitions, for trying the harness).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeMachine } from './lib/machine';
import { ROOT } from './lib/paths';
import { consoleTable, writeOutputs } from './lib/report';
import type { Row } from './lib/row';
import { nowMs } from './lib/stats';

type Group = { run(opts: { quick: boolean }): Promise<Row[]> };

// Loaded on demand (separate chunks in the bundle), so a group's process holds only its own code
// and dependencies: the ceremony group's peak RSS is not inflated by the browser driver.
const GROUPS: Record<string, () => Promise<Group>> = {
  'hsm-layer': () => import('./groups/hsm-layer'),
  keygen: () => import('./groups/keygen'),
  ceremony: () => import('./groups/ceremony'),
  'transcript-verify': () => import('./groups/transcript-verify'),
  store: () => import('./groups/store'),
  shares: () => import('./groups/shares'),
  desktop: () => import('./groups/desktop'),
  'cli-start': () => import('./groups/cli-start'),
};

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const log = (msg: string): void => {
  process.stderr.write(`[bench] ${msg}\n`);
};

async function child(name: string, file: string, quick: boolean): Promise<void> {
  const load = GROUPS[name];
  if (!load) throw new Error(`unknown group '${name}'`);
  const rows = await (await load()).run({ quick });
  writeFileSync(file, JSON.stringify(rows));
}

async function orchestrate(quick: boolean): Promise<number> {
  const only = arg('--only')?.split(',');
  const names = Object.keys(GROUPS).filter((n) => !only || only.includes(n));
  const unknown = (only ?? []).filter((n) => !GROUPS[n]);
  if (unknown.length > 0) {
    log(`unknown group(s): ${unknown.join(', ')}; groups are ${Object.keys(GROUPS).join(', ')}`);
    return 2;
  }
  const self = fileURLToPath(import.meta.url);
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'keyrite-bench-results-'));
  const rows: Row[] = [];
  const failures: string[] = [];
  const t0 = nowMs();
  for (const name of names) {
    const file = path.join(tmp, `${name}.json`);
    const started = nowMs();
    log(`${name} …`);
    const r = spawnSync(process.execPath, [self, '--group', name, '--result', file, ...(quick ? ['--quick'] : [])], { stdio: ['ignore', 'inherit', 'inherit'], cwd: ROOT });
    if (r.status !== 0 || !existsSync(file)) {
      failures.push(`${name} (exit ${r.status ?? r.signal})`);
      log(`${name} FAILED (exit ${r.status ?? r.signal})`);
      continue;
    }
    rows.push(...(JSON.parse(readFileSync(file, 'utf8')) as Row[]));
    log(`${name} done in ${((nowMs() - started) / 1000).toFixed(1)} s`);
  }
  rmSync(tmp, { recursive: true, force: true });
  const seconds = (nowMs() - t0) / 1000;
  process.stdout.write('\n' + consoleTable(rows) + '\n');
  if (failures.length > 0) process.stdout.write(`\nGroups that failed: ${failures.join(', ')}\n`);
  // A partial run (--only) still writes: the file says which rows it holds.
  writeOutputs(ROOT, rows, await describeMachine(), { seconds, quick, failures });
  process.stdout.write(`\nWrote bench/results.json and docs/benchmarks.md (${seconds.toFixed(0)} s).\n`);
  return failures.length > 0 ? 1 : 0;
}

const quick = process.argv.includes('--quick');
const group = arg('--group');
if (group) {
  const file = arg('--result');
  if (!file) throw new Error('--group needs --result FILE');
  await child(group, file, quick);
  // Native handles (sqlite, the browser) must not keep a finished group alive.
  process.exit(0);
} else {
  process.exit(await orchestrate(quick));
}
