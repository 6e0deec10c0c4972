import { assertPolicy, checkKeyType, checkSignatureAlgorithm, checkValidity, loadPolicy, mergeReports, type KeyPolicy, type PolicyReport } from '../policy';
import type { PublicKeyInfo } from '../hsm/public-key';
import type { SignatureScheme } from '../hsm/sign';
import { policyKeyType } from './algorithm';

export type CertPurpose = 'root-signing' | 'intermediate-signing';

/** What a certificate (or request) asks of the key policy. */
export interface CertificatePolicyQuery {
  /** Keys whose type must suit a purpose: the certified key, and the signing key when it differs. */
  keys: Array<{ key: PublicKeyInfo; purpose: CertPurpose }>;
  signature: { scheme: SignatureScheme; hash: string; purpose: CertPurpose };
  /** Omitted for a CSR without a planned validity. */
  validity?: { purpose: CertPurpose; days: number };
}

/** One merged report from the policy module's checks; the caller asserts it. */
export function certificatePolicyReport(policy: KeyPolicy, q: CertificatePolicyQuery): PolicyReport {
  const reports = q.keys.map(({ key, purpose }) => checkKeyType(policy, { type: policyKeyType(key), purpose }));
  reports.push(checkSignatureAlgorithm(policy, q.signature));
  if (q.validity) reports.push(checkValidity(policy, q.validity));
  return mergeReports(...reports);
}

/** Throws POLICY_VIOLATION naming the first failed rule; returns lint lines for passes and warnings. */
export function enforcePolicy(policy: KeyPolicy, q: CertificatePolicyQuery): string[] {
  const report = certificatePolicyReport(policy, q);
  assertPolicy(report);
  return [...report.passed.map((rule) => `${rule}: ok`), ...report.warnings.map((w) => `${w.rule}: warning: ${w.message}`)];
}

export function policyOrDefault(policy?: KeyPolicy): KeyPolicy {
  return policy ?? loadPolicy();
}

export type { KeyPolicy };
