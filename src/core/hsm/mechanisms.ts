import { pkcs11js } from './pkcs11js';
import type { Pkcs11Module } from './pkcs11-module';
import { ckrCall } from './ckr';
import type { TokenSummary } from './token';
import { WRAP_MECHANISMS } from './profile';

/** The mechanisms Keyrite relies on, with what each is for (shown by `keyrite hsm info`). */
export const KEYRITE_MECHANISMS: ReadonlyArray<{ name: string; code: number; purpose: string; required: boolean }> = [
  { name: 'CKM_RSA_PKCS_KEY_PAIR_GEN', code: pkcs11js.CKM_RSA_PKCS_KEY_PAIR_GEN, purpose: 'RSA key generation', required: false },
  { name: 'CKM_EC_KEY_PAIR_GEN', code: pkcs11js.CKM_EC_KEY_PAIR_GEN, purpose: 'EC key generation', required: true },
  { name: 'CKM_SHA256_RSA_PKCS_PSS', code: pkcs11js.CKM_SHA256_RSA_PKCS_PSS, purpose: 'RSA-PSS signatures', required: false },
  { name: 'CKM_SHA384_RSA_PKCS_PSS', code: pkcs11js.CKM_SHA384_RSA_PKCS_PSS, purpose: 'RSA-PSS signatures', required: false },
  { name: 'CKM_SHA256_RSA_PKCS', code: pkcs11js.CKM_SHA256_RSA_PKCS, purpose: 'RSA PKCS#1 v1.5 signatures', required: false },
  { name: 'CKM_ECDSA', code: pkcs11js.CKM_ECDSA, purpose: 'ECDSA signatures (transcript, certificates)', required: true },
  { name: 'CKM_AES_KEY_WRAP_KWP', code: WRAP_MECHANISMS.CKM_AES_KEY_WRAP_KWP, purpose: 'KEK-wrapped backup (RFC 5649)', required: false },
  { name: 'CKM_AES_KEY_WRAP_PAD', code: pkcs11js.CKM_AES_KEY_WRAP_PAD, purpose: 'KEK-wrapped backup (RFC 5649 only where the profile says so)', required: false },
  { name: 'CKM_AES_CMAC', code: pkcs11js.CKM_AES_CMAC, purpose: 'KEK check value (preferred)', required: false },
  { name: 'CKM_AES_ECB', code: pkcs11js.CKM_AES_ECB, purpose: 'KEK check value (fallback)', required: false },
];

export interface MechanismSupport {
  name: string;
  purpose: string;
  required: boolean;
  supported: boolean;
  minKeySize?: number;
  maxKeySize?: number;
}

export function keyriteMechanismSupport(module: Pkcs11Module, token: TokenSummary): MechanismSupport[] {
  const list = new Set(ckrCall({ operation: 'list mechanisms', tokenLabel: token.label }, () => module.api.C_GetMechanismList(token.slot)));
  return KEYRITE_MECHANISMS.map((m) => {
    if (!list.has(m.code)) return { name: m.name, purpose: m.purpose, required: m.required, supported: false };
    const info = ckrCall({ operation: 'read mechanism information', tokenLabel: token.label }, () => module.api.C_GetMechanismInfo(token.slot, m.code));
    return { name: m.name, purpose: m.purpose, required: m.required, supported: true, minKeySize: info.minKeySize, maxKeySize: info.maxKeySize };
  });
}
