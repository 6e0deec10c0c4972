/**
 * Where Keyrite's CPU goes in the demo root ceremony (row 3a), warm-up excluded: one ceremony to
 * load and JIT every code path, then the V8 sampling profiler (node:inspector) around N more.
 * Prints self time per function and per source file, divided by N (≈ per ceremony), and writes
 * the raw profile for Chrome DevTools, and the CPU time of every thread of the process. Bundled
 * with bench/main.ts by `npm run bench` (build/bench.mjs):
 *   node --enable-source-maps out/bench/profile-ceremony.mjs [--runs 9] [--out FILE.cpuprofile]
 *     [--interval µs, 0 = no profiler, per-thread CPU only] [--top N] [--by-tid]
 * Keyrite's own frames are mapped back to their source file and line through the bundle's source
 * map (run with --enable-source-maps); dependencies are grouped by package.
 */
import { Session } from 'node:inspector/promises';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { findSourceMap } from 'node:module';
import path from 'node:path';
import type { HsmConfig } from '../../src/core/hsm/config';
import { demoHsm, runDemoCeremony } from '../lib/ceremony';
import { nowMs } from '../lib/stats';
import { benchDir } from '../lib/token';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  hitCount?: number;
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

/** A fresh KEYRITE_HOME with its demo token, made before the profiler starts (as the bench does). */
function prepare(): { home: string; hsm: HsmConfig; conf: string } {
  const home = benchDir('profile');
  const hsm = demoHsm(home); // sets SOFTHSM2_CONF to this home's token
  return { home, hsm, conf: process.env.SOFTHSM2_CONF! };
}

async function once(p: { home: string; hsm: HsmConfig; conf: string }): Promise<number> {
  process.env.SOFTHSM2_CONF = p.conf; // read by SoftHSM at C_Initialize, once per ceremony
  const t0 = nowMs();
  await runDemoCeremony(p.home, p.hsm, path.join(p.home, 'bundle'));
  return nowMs() - t0;
}

/** CPU time (ns, from schedstat) and user/system ticks of every thread of this process, by tid. */
function threadCpu(): Map<string, { name: string; ns: number; utime: number; stime: number }> {
  const out = new Map<string, { name: string; ns: number; utime: number; stime: number }>();
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      const ns = Number(readFileSync(`/proc/self/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(tid, { name, ns, utime: Number(f[11]), stime: Number(f[12]) });
    } catch {
      // the thread ended between readdir and read
    }
  }
  return out;
}

const runs = Number(arg('--runs', '9'));
const out = arg('--out', '');
const warm = prepare();
await once(warm); // warm-up, not profiled
rmSync(warm.home, { recursive: true, force: true });
const homes = Array.from({ length: runs }, prepare);
// --interval 0: no profiler, only the per-thread CPU (the sampler's own thread costs CPU too).
const interval = Number(arg('--interval', '200'));
const session = new Session();
session.connect();
await session.post('Profiler.enable');
if (interval > 0) {
  await session.post('Profiler.setSamplingInterval', { interval });
  await session.post('Profiler.start');
}
const c0 = process.cpuUsage();
const th0 = threadCpu();
let wall = 0;
for (const p of homes) wall += await once(p);
const cpu = process.cpuUsage(c0);
const th1 = threadCpu();
const { profile } = interval > 0 ? ((await session.post('Profiler.stop')) as unknown as { profile: Profile }) : { profile: { nodes: [], startTime: 0, endTime: 0, samples: [], timeDeltas: [] } };
session.disconnect();
for (const p of homes) rmSync(p.home, { recursive: true, force: true }); // after the measurement
if (out) writeFileSync(out, JSON.stringify(profile));

// Self time per node: each sample's delta is charged to the node it landed in.
const self = new Map<number, number>();
for (let i = 0; i < profile.samples.length; i++) self.set(profile.samples[i], (self.get(profile.samples[i]) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

const byFn = new Map<string, number>();
const byFile = new Map<string, number>();
// Inclusive time per function name (counted once per sample even when recursive).
const incl = new Map<string, number>();
// Only samples in Keyrite's own work: not idle, not inside the PKCS#11 module (a native frame
// under pkcs11js; V8 names it after whatever native symbol it saw, so it is found by its caller).
const inPkcs11 = (id: number): boolean => {
  const frame = byId.get(id)!.callFrame;
  if (frame.functionName === 'PKCS11') return true; // the module's own native frame, whoever called it
  if (frame.url !== '') return false;
  for (let p = parent.get(id); p !== undefined; p = parent.get(p)) if (byId.get(p)!.callFrame.url.includes('pkcs11js')) return true;
  return false;
};
for (let i = 0; i < profile.samples.length; i++) {
  const ms = (profile.timeDeltas[i] ?? 0) / 1000;
  if (byId.get(profile.samples[i])!.callFrame.functionName === '(idle)' || inPkcs11(profile.samples[i])) continue;
  const seen = new Set<string>();
  for (let id: number | undefined = profile.samples[i]; id !== undefined; id = parent.get(id)) {
    const f = byId.get(id)!.callFrame;
    const key = `${f.functionName || '(anon)'} ${where(f, false)}`;
    if (!seen.has(key)) incl.set(key, (incl.get(key) ?? 0) + ms);
    seen.add(key);
  }
}
for (const [id, ms] of self) {
  const f = byId.get(id)!.callFrame;
  const key = `${f.functionName || '(anon)'} ${where(f, true)}`;
  byFn.set(key, (byFn.get(key) ?? 0) + ms);
  const file = where(f, false) || '(native/vm)';
  byFile.set(file, (byFile.get(file) ?? 0) + ms);
}

/** `src/core/x/y.ts[:line]` for Keyrite's frames (through the source map), the package name for a dependency's. */
function where(f: ProfileNode['callFrame'], withLine: boolean): string {
  if (f.url.includes('/out/')) {
    const entry = findSourceMap(f.url)?.findEntry(f.lineNumber, f.columnNumber) as { originalSource?: string; originalLine?: number } | undefined;
    if (entry?.originalSource) {
      const src = entry.originalSource.replace(/^.*?\/(src|bench|node_modules)\//, '$1/');
      return withLine ? `${src}:${(entry.originalLine ?? 0) + 1}` : src;
    }
  }
  return shortUrl(f.url);
}

function shortUrl(url: string): string {
  const nm = url.indexOf('node_modules/');
  if (nm >= 0) return url.slice(nm + 'node_modules/'.length).split('/').slice(0, url.includes('/@', nm) ? 2 : 1).join('/');
  return url.replace(/^file:\/\/.*\/out\//, 'out/');
}

const top = (m: Map<string, number>, n: number): string =>
  [...m.entries()].sort((a, b) => b[1] - a[1]).slice(0, n).map(([k, ms]) => `${(ms / runs).toFixed(2).padStart(8)} ms  ${k}`).join('\n');
process.stdout.write(`${runs} ceremonies after one warm-up: wall ${(wall / runs).toFixed(0)} ms, process CPU ${((cpu.user + cpu.system) / 1000 / runs).toFixed(0)} ms (system ${(cpu.system / 1000 / runs).toFixed(0)}) per ceremony\n`);
const threads = new Map<string, { ms: number; u: number; s: number }>();
for (const [tid, t] of th1) {
  const b = th0.get(tid) ?? { ns: 0, utime: 0, stime: 0 };
  const name = tid === String(process.pid) ? "main" : process.argv.includes("--by-tid") ? `${t.name}#${tid}` : t.name;
  const acc = threads.get(name) ?? { ms: 0, u: 0, s: 0 };
  acc.ms += (t.ns - b.ns) / 1e6;
  acc.u += t.utime - b.utime;
  acc.s += t.stime - b.stime;
  threads.set(name, acc);
}
const tick = 10; // ms per clock tick (USER_HZ 100)
process.stdout.write(`Threads (CPU per ceremony; user/system from 10 ms ticks): ${[...threads.entries()].sort((a, b) => b[1].ms - a[1].ms).map(([n, t]) => `${n} ${(t.ms / runs).toFixed(1)} ms (u ${((t.u * tick) / runs).toFixed(0)}/s ${((t.s * tick) / runs).toFixed(0)})`).join(', ')}\n`);
process.stdout.write(`\nSelf time per ceremony, by package / bundle file:\n${top(byFile, 25)}\n`);
process.stdout.write(`\nSelf time per ceremony, by function:\n${top(byFn, Number(arg('--top', '40')))}\n`);
process.stdout.write(`\nInclusive time per ceremony, by function (idle and time inside the PKCS#11 module left out):\n${top(incl, Number(arg('--top', '40')) + 20)}\n`);
process.exit(0);
