#!/usr/bin/env node
// Fresh-machine set-up shared by `npm test` and `npm start`: installs what is missing, quietly,
// and does nothing when everything is there. Only Node built-ins here: it runs before `npm ci`.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const APT = {
  softhsm2: { check: () => has('softhsm2-util') && softhsmModule() },
  opensc: { check: () => has('pkcs11-tool') },
  openssl: { check: () => has('openssl') },
  chromium: { check: () => existsSync('/usr/bin/chromium') },
  xvfb: { check: () => has('xvfb-run') },
  // NSS softokn, the second real PKCS#11 module the integration tests run against.
  libnss3: { check: () => nssModule() },
  'libnss3-tools': { check: () => has('certutil') },
  // Python `cryptography`: tests recover a backup's key the way an outsider would.
  'python3-cryptography': { check: () => spawnSync('python3', ['-c', 'import cryptography.hazmat.primitives.keywrap'], { stdio: 'ignore' }).status === 0 },
  // The auditor's standard-tools check of a bundle (docs/formats.md) uses jq; a test runs it verbatim.
  jq: { check: () => has('jq') },
  // Custodians' OpenPGP keys in the tests are made, and sealed shares opened, by real GnuPG.
  gnupg: { check: () => has('gpg') && has('gpgconf') },
  // `ss` lets the core-dump test wait until a child has read its stdin instead of sleeping.
  iproute2: { check: () => has('ss') },
};

function nssModule() {
  return ['/usr/lib/x86_64-linux-gnu/libsoftokn3.so', '/usr/lib/aarch64-linux-gnu/libsoftokn3.so', '/usr/lib64/libsoftokn3.so'].some((p) => existsSync(p));
}

function has(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

function softhsmModule() {
  return ['/usr/lib/softhsm/libsofthsm2.so', '/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so', '/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so'].some((p) => existsSync(p));
}

function log(msg) {
  process.stderr.write(`[keyrite setup] ${msg}\n`);
}

/** Install the apt packages that are missing (when root and apt exists); say what to do otherwise. */
export function ensureAptPackages(names) {
  const missing = names.filter((n) => !APT[n].check());
  if (missing.length === 0) return;
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!isRoot || !has('apt-get')) {
    log(`missing system packages: ${missing.join(' ')}. Install them (e.g. sudo apt-get install ${missing.join(' ')}) and run again.`);
    process.exit(1);
  }
  log(`installing ${missing.join(' ')} with apt-get`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const install = () => spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], { stdio: ['ignore', 'ignore', 'inherit'], env });
  let r = install();
  if (r.status !== 0) {
    execFileSync('apt-get', ['update', '-qq'], { stdio: ['ignore', 'ignore', 'inherit'], env });
    r = install();
  }
  if (r.status !== 0) {
    log(`apt-get could not install ${missing.join(' ')}`);
    process.exit(1);
  }
}

/** `npm ci` when node_modules is missing or older than the lockfile. */
export function ensureNodeModules() {
  const nm = path.join(root, 'node_modules');
  const lock = path.join(root, 'package-lock.json');
  const marker = path.join(nm, '.package-lock.json');
  const fresh = existsSync(marker) && existsSync(lock) && statSync(marker).mtimeMs >= statSync(lock).mtimeMs;
  if (existsSync(nm) && fresh) return;
  log('installing npm dependencies (npm ci; native modules compile, about two minutes)');
  // The Electron binary cannot be downloaded on air-gapped or registry-only machines; the app
  // falls back to the terminal runner where it is missing.
  const env = { ...process.env, ELECTRON_SKIP_BINARY_DOWNLOAD: '1' };
  const r = spawnSync('npm', ['ci', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'], env });
  if (r.status !== 0) {
    log('npm ci failed');
    process.exit(1);
  }
}

export function electronBinary() {
  try {
    const p = path.join(root, 'node_modules', 'electron', 'path.txt');
    if (!existsSync(p)) return null;
    const bin = path.join(root, 'node_modules', 'electron', 'dist', execFileSync('cat', [p]).toString().trim());
    return existsSync(bin) ? bin : null;
  } catch {
    return null;
  }
}

export function run(cmd, args, options = {}) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', ...options });
  return r.status ?? 1;
}
