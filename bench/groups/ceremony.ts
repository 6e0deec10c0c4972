import { rmSync } from 'node:fs';
import path from 'node:path';
import { PerformanceObserver } from 'node:perf_hooks';
import { Store } from '../../src/core/store/db';
import { countPoolTrips, countSignatureChecks, cpuPerP384Check, demoHsm, instrumentStore, mainThreadCpuMs, newTally, runDemoCeremony, timingFactory, type PoolTrips } from '../lib/ceremony';
import { belowCheck, type Row } from '../lib/row';
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
  const ownCpu: number[] = [];
  const ownMain: number[] = [];
  const mainCpu: number[] = [];
  const totalCpu: number[] = [];
  const systemCpu: number[] = [];
  const ownSystem: number[] = [];
  const gcMs: number[] = [];
  let trips: PoolTrips = { sqlite: 0, commits: 0, files: 0 };
  let signatureChecks = 0;
  // Garbage-collection pauses on the main thread (part of the main thread's CPU).
  let gcNow = 0;
  const gc = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) gcNow += e.duration;
  });
  gc.observe({ entryTypes: ['gc'] });
  const byOp = new Map<string, { calls: number; ms: number }>();
  for (let i = 0; i < rounds + 1; i++) {
    const home = benchDir('ceremony');
    try {
      const config = demoHsm(home); // token made here, outside the timing
      const tally = newTally();
      const storeBefore = store.ms;
      const commitsBefore = store.commits;
      const commitCpuBefore = store.commitCpuMs;
      const commitMainBefore = store.commitMainCpuMs;
      const commitSystemBefore = store.commitSystemMs;
      const ceremony = (): Promise<unknown> => runDemoCeremony(home, config, path.join(home, 'bundle'), timingFactory(tally));
      const g0 = gcNow;
      const c0 = process.cpuUsage();
      const m0 = mainThreadCpuMs();
      const t0 = nowMs();
      // The warm-up run also counts the trips through libuv's pool and the signature checks (the counting costs CPU).
      if (i === 0) {
        const counted = await countSignatureChecks(() => countPoolTrips(ceremony));
        trips = counted.result.trips;
        signatureChecks = counted.checks;
      } else await ceremony();
      const ms = nowMs() - t0;
      const main = mainThreadCpuMs() - m0;
      const cpuDelta = process.cpuUsage(c0);
      const cpu = (cpuDelta.user + cpuDelta.system) / 1000;
      if (i === 0) continue; // warm-up: first use of every code path in this process
      wall.push(ms);
      totalCpu.push(cpu);
      systemCpu.push(cpuDelta.system / 1000);
      ownSystem.push(cpuDelta.system / 1000 - tally.systemMs - (store.commitSystemMs - commitSystemBefore));
      gcMs.push(gcNow - g0);
      // Keyrite's own CPU: the process's CPU over the ceremony minus what was spent inside the
      // PKCS#11 calls (SoftHSM runs in-process) and while commits were awaited (sqlite's fsync'd
      // COMMIT, the price of losing nothing).
      ownCpu.push(cpu - tally.cpuMs - (store.commitCpuMs - commitCpuBefore));
      // The same on the main thread alone: Keyrite's JavaScript (and the synchronous file writes
      // it makes), without V8's helper threads (GC, compilation) and libuv's pool (sqlite's
      // statements, asynchronous file I/O).
      mainCpu.push(main);
      ownMain.push(main - tally.mainCpuMs - (store.commitMainCpuMs - commitMainBefore));
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
  gc.disconnect();
  const perTrip = await cpuPerPoolTrip();
  const perCheck = cpuPerP384Check();
  const w = stats(wall);
  const h = stats(hsm);
  const s = stats(storeMs);
  const other = w.median - h.median - s.median;
  const own = stats(ownCpu);
  const ownM = stats(ownMain);
  const otherThreads = own.median - ownM.median;
  const sys = stats(ownSystem).median;
  const gcMain = stats(gcMs).median;
  // Trips outside COMMIT (whose CPU is left out above) and their cost at the rate measured here.
  const timedTrips = trips.sqlite - trips.commits + trips.files;
  const tripsMs = timedTrips * perTrip.all;
  // The pool threads' share of the trips; the rest of the other threads' CPU is V8's (compiler, GC).
  const poolMs = timedTrips * (perTrip.all - perTrip.main);
  const v8HelpersMs = Math.max(0, otherThreads - poolMs);
  const checksMs = signatureChecks * perCheck;
  const breakdown = `${sys.toFixed(0)} ms of it system time (${((sys / own.median) * 100).toFixed(0)}%). ${timedTrips} trips through libuv's thread pool per ceremony outside COMMIT (${trips.sqlite - trips.commits} sqlite calls, ${trips.files} file operations; ${trips.commits} COMMITs left out) at ${(perTrip.all * 1000).toFixed(0)} µs of CPU each as measured here (${(perTrip.main * 1000).toFixed(0)} µs of it on the main thread: a pool thread woken, then the main thread) come to ~${tripsMs.toFixed(0)} ms; ${signatureChecks} ECDSA P-384 signature checks outside the HSM at ${perCheck.toFixed(2)} ms each to ~${checksMs.toFixed(0)} ms; garbage collection on the main thread ${gcMain.toFixed(0)} ms`;
  const top = [...byOp.entries()].sort((a, b) => b[1].ms - a[1].ms).slice(0, 5).map(([op, v]) => `${op} ${(v.ms / rounds).toFixed(1)} ms/${Math.round(v.calls / rounds)} calls`);
  const peakMb = process.resourceUsage().maxRSS / 1024;
  return [
    {
      id: '3a',
      group: 'Whole ceremony',
      name: 'demo root key ceremony (EC P-384, 3-of-5 backup, cert + CSR, sealed bundle): Keyrite CPU',
      keyrite: { label: 'process CPU (all threads) minus PKCS#11 calls and commit waits', unit: 'ms', stats: own },
      reference: null,
      ratio: null,
      target: '≤ 40 ms',
      checks: [belowCheck(own.median, 40, 'ms', 'Keyrite CPU per ceremony')],
      extra: { mainThreadOwnCpuMs: ownM, mainThreadCpuMs: stats(mainCpu), ownSystemCpuMs: stats(ownSystem), mainThreadGcMs: stats(gcMs), poolTrips: trips, cpuPerPoolTripMs: perTrip.all, mainCpuPerPoolTripMs: perTrip.main, signatureChecks, cpuPerSignatureCheckMs: perCheck },
      notes: [
        `${rounds} runs, each on a fresh KEYRITE_HOME and demo token (token creation not measured), after one warm-up run; ${stats(calls).median} PKCS#11 calls per run. Measured with process.cpuUsage() around the ceremony, minus process.cpuUsage() inside every PKCS#11 call (a timing wrapper around the real pkcs11js module) and while each COMMIT was awaited (a bench-only wrapper around Store) — CPU time, so it barely moves with the machine's load, unlike wall time.`,
        `Median run: wall ${w.median.toFixed(0)} ms, process CPU ${stats(totalCpu).median.toFixed(0)} ms (of which system time ${stats(systemCpu).median.toFixed(0)} ms: file writes with fsync, sqlite, thread pool); PKCS#11 ${h.median.toFixed(0)} ms wall, store (sqlite, WAL + synchronous=FULL, ${stats(commits).median} committed transactions) ${s.median.toFixed(0)} ms wall, everything else ${other.toFixed(0)} ms wall. Heaviest calls per run: ${top.join(', ')}.`,
        `Main thread alone (its CPU from /proc/thread-self/schedstat, minus its CPU inside the PKCS#11 calls and the COMMIT waits): median ${ownM.median.toFixed(0)} ms (${ownM.min.toFixed(0)}–${ownM.max.toFixed(0)}), of ${stats(mainCpu).median.toFixed(0)} ms main-thread CPU in all. That is Keyrite's JavaScript and the synchronous file writes it makes; the other ~${otherThreads.toFixed(0)} ms of the process figure run on V8's helper threads (garbage collection, compilation) and libuv's pool (sqlite statements outside COMMIT, asynchronous file reads and writes with their fsync). The target is checked against the process figure, the stricter one: all of it is work the ceremony causes.`,
        `Breakdown of the median: ${breakdown}. System time is process.cpuUsage().system over the ceremony minus its part inside the PKCS#11 calls and the COMMIT waits; trips and signature checks were counted on the warm-up run (an async_hooks hook, and wrappers around node:crypto's verify functions), their unit costs measured in this process after the runs.`,
        'Replaces the ratio of wall time to PKCS#11 time (issue #18): on SoftHSM the HSM work is ~35 ms, so that ratio mostly measured the durable commits.',
      ],
      why: `Keyrite's own work per ceremony takes ${own.median.toFixed(0)} ms of CPU over all threads here, ${breakdown}. By thread: ${ownM.median.toFixed(0)} ms on the main thread — Keyrite's JavaScript and the libraries it drives (certificate and CSR building, re-parse and lint in @peculiar/x509 and asn1js; canonical JSON, SHA-256 and the secret guard per event; share encoding; the bundle verified in full after sealing), the signature checks, its synchronous file writes and its side of every trip — and ~${otherThreads.toFixed(0)} ms on the other threads: ~${poolMs.toFixed(0)} ms libuv's pool (the pool threads' part of the trips: sqlite statements, fsyncs), the other ~${v8HelpersMs.toFixed(0)} ms V8's helper threads (optimizing compilation of the JavaScript the ceremony runs, concurrent garbage collection). The trips left are the statements of the durable commits (BEGIN, the state row, the step's events in one INSERT, the step rows when the position moves) and their first prepare on the connection, opening the store, and the ${trips.files} file operations, which are the fsyncs of the files written with their folders (the bundle verified after sealing reads its files synchronously, as verify does whenever it uses no worker threads); each signature check guards a promise (key self-tests, backup identity proof, certificate, CSR, seal; the bundle verified after sealing holds the same transcript, key and signature the seal checked, compared byte for byte, so that check is not repeated); YAML parsing, the secret guard's hashing, repeated key imports, duplicate signature checks, one statement per event, unchanged step rows, all but the fsyncs of the bundle's file writes, the asynchronous reads of the post-seal verify, serializing events again (each event's line is made with its hash; the seal signs the stored lines) and key identifiers through WebCrypto were cut (issue #18)`,
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

/**
 * Process CPU per trip through libuv's thread pool, and the main thread's part of it, measured here
 * on a kept sqlite statement that changes nothing. A trip is the statement handed to a pool
 * thread, the thread woken, the main thread woken again by its answer. In a ceremony the trips are
 * spread out between stretches of JavaScript, so the pool thread is asleep each time: each trip here
 * follows 0.1 ms of busy work on the main thread, and the same busy work without trips is
 * subtracted (median of 5 batches of 300 each way, after one of each to warm up).
 */
async function cpuPerPoolTrip(): Promise<{ all: number; main: number }> {
  const dir = benchDir('pool-trip');
  const store = await Store.open(path.join(dir, 'trip.sqlite'));
  const busy = (): void => {
    const until = nowMs() + 0.1;
    while (nowMs() < until);
  };
  const batch = async (trips: boolean): Promise<{ all: number; main: number }> => {
    const c0 = process.cpuUsage();
    const m0 = mainThreadCpuMs();
    for (let i = 0; i < 300; i++) {
      busy();
      if (trips) await store.run('UPDATE t SET v = 1 WHERE 0');
      else await Promise.resolve();
    }
    const d = process.cpuUsage(c0);
    return { all: (d.user + d.system) / 1000, main: mainThreadCpuMs() - m0 };
  };
  try {
    await store.exec('CREATE TABLE t (v INTEGER)');
    const all: number[] = [];
    const main: number[] = [];
    for (let round = 0; round < 6; round++) {
      const withTrips = await batch(true);
      const without = await batch(false);
      if (round === 0) continue;
      all.push((withTrips.all - without.all) / 300);
      main.push((withTrips.main - without.main) / 300);
    }
    return { all: Math.max(0, stats(all).median), main: Math.max(0, stats(main).median) };
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
