import { pkcs11js, type P11 } from '../../src/core/hsm/pkcs11js';
import type { Pkcs11Factory } from '../../src/core/hsm/pkcs11-module';

export interface Fault {
  /** The pkcs11js method to fail, e.g. 'C_GenerateKeyPair'. */
  method: keyof P11.PKCS11 & string;
  /** CKR name to throw, as the real module would report it. */
  ckr: string;
  /** How many calls succeed before the failure (default 0). */
  after?: number;
  /** How many times to fail (default 1); then the real call runs again (token reinserted). */
  times?: number;
}

const FINISHING_CALLS = new Set(['C_Sign', 'C_Verify', 'C_Encrypt', 'C_Decrypt', 'C_Digest']);

const CKR_CODES: Record<string, number> = { CKR_DEVICE_REMOVED: 0x32, CKR_TOKEN_NOT_PRESENT: 0xe0, CKR_DEVICE_ERROR: 0x30, CKR_SESSION_CLOSED: 0xb0, CKR_GENERAL_ERROR: 0x05, CKR_FUNCTION_FAILED: 0x06 };

/**
 * A thin wrapper around the REAL pkcs11js module that fails one chosen call the way a device
 * would (token pulled, device error). Everything else goes to SoftHSM untouched.
 */
export function faultyPkcs11(faults: Fault[]): { factory: Pkcs11Factory; calls: Map<string, number> } {
  const calls = new Map<string, number>();
  const remaining = faults.map((f) => ({ ...f, after: f.after ?? 0, times: f.times ?? 1 }));
  const factory: Pkcs11Factory = () => {
    const real = new pkcs11js.PKCS11();
    return new Proxy(real, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver);
        if (typeof value !== 'function' || typeof prop !== 'string') return value;
        return (...args: unknown[]) => {
          const n = (calls.get(prop) ?? 0) + 1;
          calls.set(prop, n);
          const fault = remaining.find((f) => f.method === prop && f.times > 0);
          if (fault) {
            if (fault.after > 0) fault.after -= 1;
            else {
              fault.times -= 1;
              // A failed single-part call ends its operation (PKCS#11 §5.2): let the real call run
              // and end it, then report the failure, so the session is left as a device would leave it.
              if (FINISHING_CALLS.has(prop)) {
                try {
                  (value as (...a: unknown[]) => unknown).apply(target, args);
                } catch {
                  // The injected error is what the caller sees.
                }
              }
              const err = new Error(`${fault.ckr}:${CKR_CODES[fault.ckr] ?? 0x05}`) as Error & { code: number };
              err.code = CKR_CODES[fault.ckr] ?? 0x05;
              throw err;
            }
          }
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
  };
  return { factory, calls };
}
