import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll } from 'vitest';
import { createSoftHsmDir, findSoftHsmModule, initSoftHsmToken, type SoftHsmDir } from '../../src/core/hsm/softhsm';
import type { HsmConfig } from '../../src/core/hsm/config';

export const TEST_USER_PIN = '246810';
export const TEST_SO_PIN = '13579111';

export interface TestHsm extends SoftHsmDir {
  dir: string;
  modulePath: string;
  userPin: string;
  soPin: string;
  /** Config for one of the tokens created here. */
  config(label: string): HsmConfig;
  addToken(label: string): void;
}

/**
 * A fresh SoftHSM token directory for this test file (each file runs in its own process), with
 * the named tokens initialized. SOFTHSM2_CONF is set for this process before any module loads.
 */
export function createTestHsm(labels: string[] = ['test-token'], options: { keep?: boolean } = {}): TestHsm {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'keyrite-hsm-'));
  const softhsm = createSoftHsmDir(dir);
  process.env.SOFTHSM2_CONF = softhsm.conf;
  const modulePath = findSoftHsmModule();
  const hsm: TestHsm = {
    ...softhsm,
    dir,
    modulePath,
    userPin: TEST_USER_PIN,
    soPin: TEST_SO_PIN,
    config: (label) => ({ modulePath, tokenLabel: label, demo: false }),
    addToken: (label) => initSoftHsmToken(softhsm, label, TEST_USER_PIN, TEST_SO_PIN),
  };
  for (const label of labels) hsm.addToken(label);
  if (!options.keep) afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return hsm;
}
