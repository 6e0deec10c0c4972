import { existsSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { SOFTHSM_MODULE_CANDIDATES } from './softhsm';

/**
 * Where PKCS#11 modules are installed by packages and vendors. The desktop app accepts a module
 * path from its settings screen only if it is one of these (or a file the administrator picked
 * in a main-process file dialog): a compromised renderer must not be able to make the main
 * process load an arbitrary file as native code.
 */
const MODULE_DIRS = [
  '/usr/lib/pkcs11',
  '/usr/lib64/pkcs11',
  '/usr/local/lib/pkcs11',
  '/usr/lib/x86_64-linux-gnu/pkcs11',
  '/usr/lib/aarch64-linux-gnu/pkcs11',
];

const MODULE_FILES = [
  ...SOFTHSM_MODULE_CANDIDATES,
  '/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so',
  '/usr/lib/aarch64-linux-gnu/opensc-pkcs11.so',
  '/usr/lib/x86_64-linux-gnu/libykcs11.so',
  '/usr/lib/x86_64-linux-gnu/libsoftokn3.so',
  '/usr/lib/x86_64-linux-gnu/nss/libsoftokn3.so',
  '/usr/safenet/lunaclient/lib/libCryptoki2_64.so',
  '/opt/nfast/toolkits/pkcs11/libcknfast.so',
  '/opt/cloudhsm/lib/libcloudhsm_pkcs11.so',
  '/usr/lib/libykcs11.so',
];

/** p11-kit's registry: each `*.module` file names an installed module (`module: /path/lib.so`). */
const P11KIT_DIRS = ['/usr/share/p11-kit/modules', '/etc/pkcs11/modules'];

function p11KitModules(): string[] {
  const out: string[] = [];
  for (const dir of P11KIT_DIRS) {
    let names: string[] = [];
    try {
      names = readdirSync(dir).filter((n) => n.endsWith('.module'));
    } catch {
      continue;
    }
    for (const n of names) {
      try {
        const m = /^\s*module\s*:\s*(\S+)\s*$/m.exec(readFileSync(path.join(dir, n), 'utf8').slice(0, 64 * 1024));
        if (m) out.push(path.isAbsolute(m[1]) ? m[1] : path.join('/usr/lib/x86_64-linux-gnu/pkcs11', m[1]));
      } catch {
        // an unreadable registry entry lists nothing
      }
    }
  }
  return out;
}

function isRegularFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

/** Known module locations that exist on this machine, de-duplicated by real path. */
export function knownModulePaths(): string[] {
  const candidates = [...MODULE_FILES, ...p11KitModules()];
  for (const dir of MODULE_DIRS) {
    try {
      for (const n of readdirSync(dir)) if (n.endsWith('.so')) candidates.push(path.join(dir, n));
    } catch {
      // not installed here
    }
  }
  const seen = new Set<string>();
  const out: string[] = [];
  for (const c of candidates) {
    if (!existsSync(c) || !isRegularFile(c)) continue;
    const real = realpathSync(c);
    if (seen.has(real)) continue;
    seen.add(real);
    out.push(c);
  }
  return out;
}

/** True if `file` (after resolving links) is one of the known module locations. */
export function isKnownModulePath(file: string): boolean {
  let real: string;
  try {
    real = realpathSync(file);
  } catch {
    return false;
  }
  return knownModulePaths().some((k) => realpathSync(k) === real);
}
