import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import { KeyriteError } from '../errors';

/** Where Debian and friends install SoftHSM's PKCS#11 module. */
export const SOFTHSM_MODULE_CANDIDATES = [
  '/usr/lib/softhsm/libsofthsm2.so',
  '/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so',
  '/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so',
  '/usr/local/lib/softhsm/libsofthsm2.so',
  '/usr/lib64/pkcs11/libsofthsm2.so',
];

export function findSoftHsmModule(): string {
  const found = SOFTHSM_MODULE_CANDIDATES.find((p) => existsSync(p));
  if (!found) {
    throw new KeyriteError('HSM_SOFTHSM_MISSING', `SoftHSM is not installed (looked for libsofthsm2.so in ${SOFTHSM_MODULE_CANDIDATES.join(', ')}). Install the softhsm2 package (npm start / npm test do this when run as root).`);
  }
  return found;
}

export interface SoftHsmDir {
  /** The SOFTHSM2_CONF file. */
  conf: string;
  tokenDir: string;
}

/** Create a SoftHSM configuration with its own token directory under `dir`. */
export function createSoftHsmDir(dir: string): SoftHsmDir {
  const tokenDir = path.join(dir, 'tokens');
  mkdirSync(tokenDir, { recursive: true, mode: 0o700 });
  const conf = path.join(dir, 'softhsm2.conf');
  if (!existsSync(conf)) {
    writeFileSync(conf, `# Keyrite: SoftHSM configuration (written by Keyrite)\ndirectories.tokendir = ${tokenDir}\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n`, { mode: 0o600 });
  }
  return { conf, tokenDir };
}

/**
 * Initialize a new SoftHSM token. softhsm2-util is the documented way; the PINs go on its
 * command line only for the demo and test tokens, whose PINs are public anyway.
 */
export function initSoftHsmToken(dir: SoftHsmDir, label: string, userPin: string, soPin: string): void {
  try {
    execFileSync('softhsm2-util', ['--init-token', '--free', '--label', label, '--pin', userPin, '--so-pin', soPin], {
      env: { ...process.env, SOFTHSM2_CONF: dir.conf },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (e) {
    const stderr = (e as { stderr?: Buffer }).stderr?.toString().trim();
    throw new KeyriteError('HSM_SOFTHSM_INIT_FAILED', `SoftHSM could not create token '${label}'${stderr ? `: ${stderr}` : ''}. Check that softhsm2 is installed and ${dir.tokenDir} is writable.`, { cause: e });
  }
}

/**
 * Make the token labelled `label` unless it exists, as one step among processes: the check and
 * the init run under a lock file beside the token folder. Two `keyrite` runs started together on a
 * new home each found no demo token (or no drill token) and each made one: two tokens with one
 * label, and every later run refused with HSM_TOKEN_AMBIGUOUS. The lock file holds its owner's
 * pid; one left by a process that died (kill -9) is taken over.
 */
export function ensureSoftHsmToken(dir: SoftHsmDir, label: string, userPin: string, soPin: string): void {
  withTokenDirLock(dir, () => {
    if (!softHsmTokenLabels(dir).includes(label)) initSoftHsmToken(dir, label, userPin, soPin);
  });
}

function withTokenDirLock(dir: SoftHsmDir, fn: () => void): void {
  // Beside the token folder, not in it: SoftHSM reads every entry of that folder as a token.
  const file = path.join(path.dirname(dir.conf), '.keyrite-init.lock');
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (let waited = 0; ; waited += 25) {
    let fd: number;
    try {
      fd = openSync(file, 'wx', 0o600);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      if (!lockHolderAlive(file) || waited > 30_000) rmSync(file, { force: true });
      else Atomics.wait(pause, 0, 0, 25);
      continue;
    }
    try {
      writeSync(fd, String(process.pid));
      fn();
    } finally {
      closeSync(fd);
      rmSync(file, { force: true });
    }
    return;
  }
}

function lockHolderAlive(file: string): boolean {
  let pid: number;
  try {
    pid = Number(readFileSync(file, 'utf8'));
  } catch {
    return true; // gone or being written this instant: look again
  }
  // Written just after the exclusive create: an empty file is a holder that has not written yet.
  if (!Number.isInteger(pid) || pid <= 0) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function softHsmTokenLabels(dir: SoftHsmDir): string[] {
  try {
    const out = execFileSync('softhsm2-util', ['--show-slots'], { env: { ...process.env, SOFTHSM2_CONF: dir.conf }, stdio: ['ignore', 'pipe', 'pipe'] }).toString();
    return [...out.matchAll(/^\s*Label:\s*(.*?)\s*$/gm)].map((m) => m[1]).filter((l) => l.length > 0);
  } catch {
    return [];
  }
}
