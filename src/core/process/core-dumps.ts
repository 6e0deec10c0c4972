import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { KeyriteError } from '../errors';

/**
 * A core dump of a process that held a share, a PIN or KEK bytes is those secrets on disk (a
 * review found a full share phrase four times in one core). Node has no setrlimit, so Keyrite asks
 * util-linux's `prlimit` to set RLIMIT_CORE to 0 (soft and hard: it cannot be raised again) for
 * its own pid, then reads /proc/self/limits to be sure. Called first thing by every Keyrite
 * process that can hold a secret (the CLI and the Electron main process).
 */
export function disableCoreDumps(options: { platform?: NodeJS.Platform; limitsFile?: string; prlimit?: string } = {}): void {
  if ((options.platform ?? process.platform) !== 'linux') return; // Keyrite's workstations are Debian; elsewhere this is the OS's policy
  const limitsFile = options.limitsFile ?? '/proc/self/limits';
  if (coreLimitIsZero(readFileSync(limitsFile, 'utf8'))) return;
  const r = spawnSync(options.prlimit ?? 'prlimit', ['--pid', String(process.pid), '--core=0:0'], { encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'] });
  if (r.error || r.status !== 0 || !coreLimitIsZero(readFileSync(limitsFile, 'utf8'))) {
    const why = r.error ? (r.error as NodeJS.ErrnoException).code ?? r.error.message : (r.stderr || `exit ${r.status}`).trim();
    throw new KeyriteError('PROCESS_CORE_DUMPS_ON', `Keyrite could not turn off core dumps for itself (prlimit: ${why}), so a crash could write secrets to disk. Install util-linux (it provides prlimit) or run Keyrite under \`ulimit -c 0\`.`, { details: { reason: why } });
  }
}

/** True when the "Max core file size" line of a /proc/<pid>/limits text says 0 soft and 0 hard. */
export function coreLimitIsZero(limits: string): boolean {
  const line = limits.split('\n').find((l) => l.startsWith('Max core file size'));
  if (!line) return false;
  const [soft, hard] = line.slice('Max core file size'.length).trim().split(/\s+/);
  return soft === '0' && hard === '0';
}
