import { rmSync } from 'node:fs';
import path from 'node:path';
import { demoHsm, instrumentStore, newTally, runDemoCeremony, timingFactory } from '../lib/ceremony';
import { ratioCheck, type Row } from '../lib/row';
import { nowMs, stats } from '../lib/stats';
import { benchDir } from '../lib/token';

/**
 * 3. Whole ceremony: the demo root key ceremony end to end (open the service, start, drive it
 * with the built-in demo answers to the sealed bundle, close), each run on a fresh KEYRITE_HOME
 * and demo token, against the time spent inside the PKCS#11 calls it makes, summed by a timing
 * wrapper around the real pkcs11js module passed as pkcs11Factory. Peak RSS of this process.
 */
export async function run(opts: { quick: boolean }): Promise<Row[]> {
  const rounds = opts.quick ? 2 : 8;
  const baselineRssMb = process.resourceUsage().maxRSS / 1024;
  const store = instrumentStore();
  const wall: number[] = [];
  const hsm: number[] = [];
  const storeMs: number[] = [];
  const calls: number[] = [];
  const commits: number[] = [];
  const byOp = new Map<string, { calls: number; ms: number }>();
  for (let i = 0; i < rounds + 1; i++) {
    const home = benchDir('ceremony');
    try {
      const config = demoHsm(home); // token made here, outside the timing
      const tally = newTally();
      const storeBefore = store.ms;
      const commitsBefore = store.commits;
      const t0 = nowMs();
      await runDemoCeremony(home, config, path.join(home, 'bundle'), timingFactory(tally));
      const ms = nowMs() - t0;
      if (i === 0) continue; // warm-up: first use of every code path in this process
      wall.push(ms);
      hsm.push(tally.ms);
      storeMs.push(store.ms - storeBefore);
      calls.push(tally.calls);
      commits.push(store.commits - commitsBefore);
      for (const [op, v] of tally.byOp) {
        const acc = byOp.get(op) ?? { calls: 0, ms: 0 };
        acc.calls += v.calls;
        acc.ms += v.ms;
        byOp.set(op, acc);
      }
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  }
  const w = stats(wall);
  const h = stats(hsm);
  const s = stats(storeMs);
  const ratio = w.median / h.median;
  const other = w.median - h.median - s.median;
  const top = [...byOp.entries()].sort((a, b) => b[1].ms - a[1].ms).slice(0, 5).map(([op, v]) => `${op} ${(v.ms / rounds).toFixed(1)} ms/${Math.round(v.calls / rounds)} calls`);
  const peakMb = process.resourceUsage().maxRSS / 1024;
  return [
    {
      id: '3a',
      group: 'Whole ceremony',
      name: 'demo root key ceremony (EC P-384, 3-of-5 backup, cert + CSR, sealed bundle)',
      keyrite: { label: 'end to end', unit: 'ms', stats: w },
      reference: { label: 'sum of its PKCS#11 calls', unit: 'ms', stats: h },
      ratio,
      target: 'ratio ≤ 1.2',
      checks: [ratioCheck(ratio, 1.2)],
      notes: [
        `${rounds} runs, each on a fresh KEYRITE_HOME and demo token (token creation not timed), after one warm-up run; ${stats(calls).median} PKCS#11 calls per run. Heaviest calls per run: ${top.join(', ')}.`,
        `Breakdown of the median run: PKCS#11 ${h.median.toFixed(0)} ms, store (sqlite, WAL + synchronous=FULL, ${stats(commits).median} committed transactions) ${s.median.toFixed(0)} ms, everything else (events, certificates, shares, files, transcript sealing) ${other.toFixed(0)} ms.`,
      ],
      why: `on SoftHSM the HSM work of a whole ceremony is only ~${h.median.toFixed(0)} ms, so everything a ceremony does around it shows: the store's ${stats(commits).median} durable commits (${s.median.toFixed(0)} ms; every input is written in one fsync'd transaction before the runner moves on, which is what lets a crash lose nothing) and ~${other.toFixed(0)} ms of event hashing, certificate and CSR building, share encoding, atomic file writes with fsync and sealing. A real HSM is slower per operation (network/USB round trips, slower keygen), so the same overhead would be a smaller share there`,
    },
    {
      id: '3b',
      group: 'Whole ceremony',
      name: 'peak RSS over all runs',
      keyrite: { label: 'peak RSS (maxRSS)', unit: 'MB', stats: stats([peakMb]) },
      reference: { label: 'same process before the first ceremony (Node + Keyrite loaded)', unit: 'MB', stats: stats([baselineRssMb]) },
      ratio: peakMb / baselineRssMb,
      target: 'none set (reported)',
      checks: [],
      notes: [`process.resourceUsage().maxRSS of the benchmark's child process, which ran only this group (${rounds + 1} ceremonies).`],
    },
  ];
}
