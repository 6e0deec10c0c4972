import type { HsmConfig } from '../../src/core/hsm/config';
import { createTestNss } from './nss';
import { createTestHsm } from './softhsm';

/** The real PKCS#11 modules the integration tests run against (docs/hsm-notes.md). */
export const TEST_MODULES = ['softhsm', 'nss'] as const;
export type TestModuleName = (typeof TEST_MODULES)[number];

export interface TestModule {
  name: TestModuleName;
  modulePath: string;
  userPin: string;
  soPin: string;
  config(label: string): HsmConfig;
  /** Environment for a `keyrite` child process using one of these tokens. */
  env(label: string): Record<string, string>;
  /** What differs, from the module's profile (resources/hsm-profiles). */
  reportsLocal: boolean;
  trustedWrapKeys: boolean;
  /** The mechanism that yields RFC 5649 there (recorded in backups made on it). */
  rfc5649Mechanism: 'CKM_AES_KEY_WRAP_PAD' | 'CKM_AES_KEY_WRAP_KWP';
}

/** Fresh tokens with these labels on the named module, removed after the test file. */
export function createTestModule(name: TestModuleName, labels: string[]): TestModule {
  switch (name) {
    case 'softhsm': {
      const h = createTestHsm(labels);
      return {
        name, modulePath: h.modulePath, userPin: h.userPin, soPin: h.soPin, config: h.config,
        env: (label) => ({ SOFTHSM2_CONF: h.conf, KEYRITE_PKCS11_MODULE: h.modulePath, KEYRITE_TOKEN_LABEL: label }),
        reportsLocal: true, trustedWrapKeys: true, rfc5649Mechanism: 'CKM_AES_KEY_WRAP_PAD',
      };
    }
    case 'nss': {
      const n = createTestNss(labels);
      return { name, modulePath: n.modulePath, userPin: n.userPin, soPin: n.soPin, config: n.config, env: n.env, reportsLocal: false, trustedWrapKeys: false, rfc5649Mechanism: 'CKM_AES_KEY_WRAP_KWP' };
    }
  }
}
