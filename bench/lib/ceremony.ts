import { createHook } from 'node:async_hooks';
import { generateKeyPairSync, sign as cryptoSign, verify as cryptoVerify } from 'node:crypto';
import { createRequire, syncBuiltinESMExports } from 'node:module';
import { openSync, readSync } from 'node:fs';
import path from 'node:path';
import { AnswersDriver, demoAnswers, driveWithAnswers } from '../../src/core/ceremony/answers';
import { CeremonyService } from '../../src/core/ceremony/service';
import type { CeremonyView } from '../../src/core/ceremony/types';
import { resolveHsmConfig, type HsmConfig } from '../../src/core/hsm/config';
import type { Pkcs11Factory } from '../../src/core/hsm/pkcs11-module';
import { pkcs11js } from '../../src/core/hsm/pkcs11js';
import { Store } from '../../src/core/store/db';
import { nowMs } from './stats';

/** The demo token of a fresh KEYRITE_HOME, created now (outside any timing), as `--demo` uses it. */
export function demoHsm(home: string): HsmConfig {
  const hsm = resolveHsmConfig({ ...process.env, KEYRITE_HOME: home, KEYRITE_PKCS11_MODULE: '', KEYRITE_TOKEN_LABEL: '' });
  if (!hsm.demo) throw new Error('bench: expected the demo token');
  return hsm;
}

/**
 * `keyrite ceremony run root-key-generation --demo --out DIR`, in process: the same service, the
 * same built-in demo answers, the same driver. Returns the final view.
 */
export async function runDemoCeremony(home: string, hsm: HsmConfig, outDir: string, pkcs11Factory?: Pkcs11Factory): Promise<CeremonyView> {
  const service = await CeremonyService.open({ home, hsm, pkcs11Factory });
  try {
    const start = await service.start({ script: 'root-key-generation', outDir: path.resolve(outDir), demo: true });
    const end = await driveWithAnswers(start, (input) => service.provide(start.ceremonyId, input), new AnswersDriver(demoAnswers()));
    if (end.status !== 'sealed') throw new Error(`bench: the demo ceremony ended ${end.status}`);
    return end;
  } finally {
    await service.close();
  }
}

export interface HsmTally {
  ms: number;
  /** Process CPU time (user + system) spent inside the calls. */
  cpuMs: number;
  /** The system part of cpuMs (SoftHSM's own file I/O, in the kernel). */
  systemMs: number;
  /** The main thread's CPU time inside the calls (the calls are synchronous: SoftHSM runs on it). */
  mainCpuMs: number;
  calls: number;
  byOp: Map<string, { calls: number; ms: number }>;
}

/**
 * A pkcs11js module whose every method call is timed: the real module, wrapped. The sum is the
 * time spent inside PKCS#11 (and pkcs11js's marshalling), which is what "the HSM operations the
 * ceremony performs" cost.
 */
export function timingFactory(tally: HsmTally): Pkcs11Factory {
  return () => {
    const real = new pkcs11js.PKCS11();
    return new Proxy(real, {
      get(target, prop) {
        const value = Reflect.get(target, prop, target) as unknown;
        if (typeof value !== 'function') return value;
        const fn = value as (...args: unknown[]) => unknown;
        return (...args: unknown[]) => {
          const c0 = process.cpuUsage();
          const m0 = mainThreadCpuMs();
          const t0 = nowMs();
          try {
            return fn.apply(target, args);
          } finally {
            const ms = nowMs() - t0;
            tally.mainCpuMs += mainThreadCpuMs() - m0;
            const d = process.cpuUsage(c0);
            tally.cpuMs += (d.user + d.system) / 1000;
            tally.systemMs += d.system / 1000;
            tally.ms += ms;
            tally.calls += 1;
            const op = tally.byOp.get(String(prop)) ?? { calls: 0, ms: 0 };
            op.calls += 1;
            op.ms += ms;
            tally.byOp.set(String(prop), op);
          }
        };
      },
    });
  };
}

export function newTally(): HsmTally {
  return { ms: 0, cpuMs: 0, systemMs: 0, mainCpuMs: 0, calls: 0, byOp: new Map() };
}

/**
 * CPU time of the main thread (the one JavaScript runs on), in ms, from the scheduler's own
 * count (/proc/thread-self/schedstat, ns). Node 20 has no per-thread CPU clock; the file is
 * opened once, on the main thread, and re-read in place (a few µs). Null where /proc is absent.
 */
export function mainThreadCpuMs(): number {
  if (schedstat === undefined) {
    try {
      schedstat = openSync('/proc/thread-self/schedstat', 'r');
    } catch {
      schedstat = null;
    }
  }
  if (schedstat === null) return Number.NaN;
  const n = readSync(schedstat, schedBuf, 0, schedBuf.length, 0);
  return Number(schedBuf.toString('latin1', 0, n).split(' ')[0]) / 1e6;
}
let schedstat: number | null | undefined;
const schedBuf = Buffer.alloc(128);

/** Process CPU time (user + system, all threads) since `start`, in ms. */
export function cpuMsSince(start: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(start);
  return (d.user + d.system) / 1000;
}

/**
 * Sum of the time the store's promises take (open, reads, writes, BEGIN/COMMIT with its fsync),
 * and the process CPU time spent while a COMMIT is awaited (sqlite's own work in libuv's pool; the
 * runner waits on it, so nothing else of Keyrite runs meanwhile). Bench-only: it patches the
 * prototype of this process's Store.
 */
export function instrumentStore(): { ms: number; calls: number; commits: number; commitCpuMs: number; commitSystemMs: number; commitMainCpuMs: number } {
  const tally = { ms: 0, calls: 0, commits: 0, commitCpuMs: 0, commitSystemMs: 0, commitMainCpuMs: 0 };
  const proto = Store.prototype as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
  for (const method of ['exec', 'run', 'get', 'all']) {
    const original = proto[method];
    proto[method] = function (this: unknown, ...args: unknown[]) {
      const t0 = nowMs();
      // Store.transaction commits through run() (a kept statement); exec('COMMIT') counts too.
      const commit = (method === 'run' || method === 'exec') && args[0] === 'COMMIT';
      const c0 = commit ? process.cpuUsage() : null;
      const m0 = commit ? mainThreadCpuMs() : 0;
      if (commit) tally.commits += 1;
      return original.apply(this, args).finally(() => {
        if (c0) {
          const d = process.cpuUsage(c0);
          tally.commitCpuMs += (d.user + d.system) / 1000;
          tally.commitSystemMs += d.system / 1000;
        }
        if (c0) tally.commitMainCpuMs += mainThreadCpuMs() - m0;
        tally.ms += nowMs() - t0;
        tally.calls += 1;
      });
    };
  }
  return tally;
}

/** Trips through libuv's thread pool, by what made them. */
export interface PoolTrips {
  /** sqlite3 calls (prepare, run, get, all, exec, open, close): one trip each. */
  sqlite: number;
  /** Of those, COMMITs (their CPU is left out of row 3a). */
  commits: number;
  /** Asynchronous file operations (fs callbacks and promises, FileHandle closes). */
  files: number;
}

/**
 * Counts the asynchronous resources that run their work on libuv's thread pool while `fn` runs:
 * sqlite3 calls and asynchronous file operations. Each trip wakes a pool thread and then the main
 * thread again (Node's crypto jobs are left out: their resources are made for synchronous calls
 * too, so they cannot be told apart). An async_hooks hook costs CPU on every promise, so count on a run that is not
 * timed (the warm-up).
 */
export async function countPoolTrips<T>(fn: () => Promise<T>): Promise<{ result: T; trips: PoolTrips }> {
  const trips: PoolTrips = { sqlite: 0, commits: 0, files: 0 };
  const hook = createHook({
    init(_id, type) {
      if (type.startsWith('sqlite3.')) trips.sqlite += 1;
      else if (type.startsWith('FSREQ') || type === 'FILEHANDLECLOSEREQ') trips.files += 1;
    },
  });
  const proto = Store.prototype as unknown as { run: (sql: string, ...rest: unknown[]) => Promise<unknown> };
  const run = proto.run;
  proto.run = function (this: unknown, sql: string, ...rest: unknown[]) {
    if (sql === 'COMMIT') trips.commits += 1;
    return run.call(this, sql, ...rest);
  };
  hook.enable();
  try {
    return { result: await fn(), trips };
  } finally {
    hook.disable();
    proto.run = run;
  }
}

/**
 * Counts the signature checks made outside the HSM while `fn` runs (node:crypto verify, X509Certificate#verify,
 * WebCrypto verify), by patching them for its duration: bench-only, on an untimed run.
 */
export async function countSignatureChecks<T>(fn: () => Promise<T>): Promise<{ result: T; checks: number }> {
  const nodeCrypto = requireBuiltin('node:crypto') as { verify: (...a: unknown[]) => unknown; X509Certificate: { prototype: { verify: (...a: unknown[]) => unknown } }; webcrypto: { subtle: { verify: (...a: unknown[]) => unknown } } };
  let checks = 0;
  const counted = <F extends (...a: never[]) => unknown>(f: F): F => function (this: unknown, ...a: unknown[]) {
    checks += 1;
    return (f as unknown as (...x: unknown[]) => unknown).apply(this, a);
  } as unknown as F;
  const verify = nodeCrypto.verify;
  const certVerify = nodeCrypto.X509Certificate.prototype.verify;
  const subtleVerify = nodeCrypto.webcrypto.subtle.verify;
  nodeCrypto.verify = counted(verify);
  nodeCrypto.X509Certificate.prototype.verify = counted(certVerify);
  nodeCrypto.webcrypto.subtle.verify = counted(subtleVerify);
  syncBuiltinESMExports(); // the bundle imports verify by name
  try {
    return { result: await fn(), checks };
  } finally {
    nodeCrypto.verify = verify;
    nodeCrypto.X509Certificate.prototype.verify = certVerify;
    nodeCrypto.webcrypto.subtle.verify = subtleVerify;
    syncBuiltinESMExports();
  }
}
const requireBuiltin = createRequire(import.meta.url);

/** CPU of one ECDSA P-384 signature check by Node (SHA-384 over 1 KiB), median of 40. */
export function cpuPerP384Check(): number {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-384' });
  const data = Buffer.alloc(1024, 7);
  const signature = cryptoSign('sha384', data, privateKey);
  const per: number[] = [];
  for (let i = 0; i < 45; i++) {
    const c0 = process.cpuUsage();
    cryptoVerify('sha384', data, publicKey, signature);
    if (i >= 5) per.push(cpuMsSince(c0));
  }
  return per.sort((a, b) => a - b)[per.length >> 1];
}
