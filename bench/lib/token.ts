import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { HsmConfig } from '../../src/core/hsm/config';
import { createSoftHsmDir, findSoftHsmModule, initSoftHsmToken } from '../../src/core/hsm/softhsm';

export const USER_PIN = '123456';
export const SO_PIN = '12345678';

export interface BenchToken {
  dir: string;
  conf: string;
  config: HsmConfig;
  cleanup(): void;
}

/** A temp dir on the same disk as the system temp dir (ext4 here, so fsync is real). */
export function benchDir(name: string): string {
  return mkdtempSync(path.join(os.tmpdir(), `keyrite-bench-${name}-`));
}

/**
 * A fresh SoftHSM token in its own store. SOFTHSM2_CONF is set here, before any PKCS#11 module
 * is loaded in this process (SoftHSM reads it at C_Initialize).
 */
export function freshToken(name: string, label = `bench-${name}`): BenchToken {
  const dir = benchDir(name);
  const sh = createSoftHsmDir(dir);
  initSoftHsmToken(sh, label, USER_PIN, SO_PIN);
  process.env.SOFTHSM2_CONF = sh.conf;
  return {
    dir,
    conf: sh.conf,
    config: { modulePath: findSoftHsmModule(), tokenLabel: label, demo: false },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
