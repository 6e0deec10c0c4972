import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll } from 'vitest';
import type { HsmConfig } from '../../src/core/hsm/config';
import { TEST_USER_PIN } from './softhsm';

/** Where Debian's libnss3 puts the NSS software token (softokn). */
export const NSS_MODULE_CANDIDATES = ['/usr/lib/x86_64-linux-gnu/libsoftokn3.so', '/usr/lib/aarch64-linux-gnu/libsoftokn3.so', '/usr/lib64/libsoftokn3.so', '/usr/lib/libsoftokn3.so'];

export function findNssModule(): string {
  const found = NSS_MODULE_CANDIDATES.find((p) => existsSync(p));
  if (!found) throw new Error(`NSS softokn is not installed (looked for ${NSS_MODULE_CANDIDATES.join(', ')}); npm test installs libnss3 and libnss3-tools`);
  return found;
}

export interface TestNss {
  dir: string;
  modulePath: string;
  /** KEYRITE_PKCS11_INIT_ARGS for this set of databases. */
  initArgs: string;
  userPin: string;
  /** NSS's SO PIN is empty and cannot be changed. */
  soPin: string;
  config(label: string): HsmConfig;
  /** Environment for a `keyrite` child process using one of these tokens. */
  env(label: string): Record<string, string>;
}

/**
 * A fresh NSS softokn for this test file: one database per label (certutil -N with the test
 * user PIN as its password), all opened by one C_Initialize through NSS's `tokens=` clause, so
 * each database is a token labelled by its tokenDescription. No daemon; removed afterwards.
 */
export function createTestNss(labels: string[] = ['nss-token'], options: { keep?: boolean } = {}): TestNss {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'keyrite-nss-'));
  const pwfile = path.join(dir, 'password');
  writeFileSync(pwfile, `${TEST_USER_PIN}\n`, { mode: 0o600 });
  const dbs = labels.map((label, i) => {
    if (!/^[A-Za-z0-9 ._-]{1,32}$/.test(label)) throw new Error(`test NSS token label '${label}' must be plain ASCII without quotes`);
    const db = path.join(dir, `db${i}`);
    mkdirSync(db);
    execFileSync('certutil', ['-N', '-d', `sql:${db}`, '-f', pwfile], { stdio: ['ignore', 'pipe', 'pipe'] });
    return { label, db, slot: (0x10 + i).toString(16) };
  });
  rmSync(pwfile);
  const tokens = dbs.map((d) => `0x${d.slot}=[configdir='sql:${d.db}' tokenDescription='${d.label}']`).join(' ');
  const initArgs = `configdir='sql:${dbs[0].db}' certPrefix='' keyPrefix='' secmod='secmod.db' flags= tokens=<${tokens}>`;
  const modulePath = findNssModule();
  if (!options.keep) afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return {
    dir,
    modulePath,
    initArgs,
    userPin: TEST_USER_PIN,
    soPin: '',
    config: (label) => ({ modulePath, tokenLabel: label, initArgs, demo: false }),
    env: (label) => ({ KEYRITE_PKCS11_MODULE: modulePath, KEYRITE_TOKEN_LABEL: label, KEYRITE_PKCS11_INIT_ARGS: initArgs }),
  };
}
