import { execFileSync } from 'node:child_process';
import os from 'node:os';
import sqlite3 from 'sqlite3';
import { ROOT } from './paths';

export interface Machine {
  date: string;
  cpu: string;
  cores: number;
  memoryGiB: number;
  os: string;
  node: string;
  softhsm: string;
  openssl: string;
  opensc: string;
  sqlite: string;
  chromium: string;
  commit: string;
  /** Environment variables build/bench.mjs removed before running the benchmarks (and why, in the report). */
  unset: string[];
}

function out(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'ignore'], cwd: ROOT, timeout: 10_000 }).toString().trim();
  } catch {
    return 'unknown';
  }
}

function sqliteVersion(): Promise<string> {
  return new Promise((resolve) => {
    const db = new sqlite3.Database(':memory:');
    db.get('SELECT sqlite_version() AS v', (err, row: { v?: string } | undefined) => {
      db.close();
      resolve(err || !row?.v ? 'unknown' : row.v);
    });
  });
}

export async function describeMachine(): Promise<Machine> {
  const cpus = os.cpus();
  const dirty = out('git', ['status', '--porcelain', '--untracked-files=no']).length > 0;
  return {
    date: new Date().toISOString(),
    cpu: cpus[0]?.model.replace(/\s+/g, ' ').trim() ?? 'unknown',
    cores: cpus.length,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    os: `${os.type()} ${os.release()} (${os.arch()})`,
    node: process.version,
    softhsm: out('softhsm2-util', ['--version']),
    openssl: out('openssl', ['version']),
    opensc: out('dpkg-query', ['-W', '-f', '${Version}', 'opensc']),
    sqlite: await sqliteVersion(),
    chromium: out('/usr/bin/chromium', ['--version']),
    unset: (process.env.KEYRITE_BENCH_UNSET ?? '').split(',').filter((v) => v !== ''),
    commit: `${out('git', ['rev-parse', '--short', 'HEAD'])}${dirty ? ' (with uncommitted changes)' : ''}`,
  };
}
