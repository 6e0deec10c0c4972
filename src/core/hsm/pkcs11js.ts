import pkcs11Default from 'pkcs11js';
import type * as P11 from 'pkcs11js';

/**
 * pkcs11js sets its constants on module.exports at run time, which Node's ESM loader cannot see
 * as named exports; take the CommonJS object whole so `pkcs11js.CKA_LABEL` works in every build
 * (vitest, the esbuild CLI bundle, electron-vite).
 */
export const pkcs11js = pkcs11Default as unknown as typeof P11;
export type { P11 };
