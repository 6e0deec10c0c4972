import { WRAP_MECHANISMS } from '../hsm/profile';
import { pkcs11js } from '../hsm/pkcs11js';
import type { HsmSession } from '../hsm/session';
import type { CeremonyScript } from './script';

/** Something a ceremony needs from the token that it lacks, in words a custodian can pass on. */
export interface MechanismGap {
  purpose: string;
  /** Any one of these would do. */
  anyOf: string[];
}

const BACKUP_ACTIONS = new Set(['createBackup', 'resplitShares', 'restoreBackup']);

/**
 * What this script's steps need from the token that the token (as its module's profile reads
 * it) cannot do. Checked at preflight, before any key exists, so a signing-only module (a TPM)
 * refuses a backup ceremony up front and still runs ceremonies that only sign.
 */
export function mechanismGaps(session: HsmSession, script: CeremonyScript, params: Record<string, unknown>): MechanismGap[] {
  const offered = new Set(session.mechanisms());
  const profile = session.module.profile;
  const gaps: MechanismGap[] = [];
  const has = (code: number): boolean => offered.has(code);
  // Every ceremony signs its transcript with an EC key made in the token.
  if (!has(pkcs11js.CKM_EC_KEY_PAIR_GEN)) gaps.push({ purpose: 'create the transcript signing key', anyOf: ['CKM_EC_KEY_PAIR_GEN'] });
  if (!has(pkcs11js.CKM_ECDSA)) gaps.push({ purpose: 'sign the transcript', anyOf: ['CKM_ECDSA'] });
  if (script.steps.some((s) => s.action && BACKUP_ACTIONS.has(s.action))) {
    if (!profile.rfc5649Mechanisms.some((n) => has(WRAP_MECHANISMS[n]))) {
      gaps.push({ purpose: `wrap or unwrap the key in RFC 5649 (${profile.description})`, anyOf: [...profile.rfc5649Mechanisms] });
    }
    if (!has(pkcs11js.CKM_AES_CMAC) && !has(pkcs11js.CKM_AES_ECB)) gaps.push({ purpose: 'compute the KEK check value', anyOf: ['CKM_AES_CMAC', 'CKM_AES_ECB'] });
    if (params.trustedKek === true && !profile.trustedWrapKeys) gaps.push({ purpose: 'create a trusted KEK (CKA_TRUSTED, by the security officer)', anyOf: [`a module whose security officer can create trusted keys (not ${profile.description})`] });
  }
  return gaps;
}

export function describeGaps(gaps: MechanismGap[]): string {
  return gaps.map((g) => `${g.anyOf.join(' or ')} (to ${g.purpose})`).join('; ');
}
