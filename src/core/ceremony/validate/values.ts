import { readFileSync } from 'node:fs';
import { readBackupFile } from '../../backup';
import { isKeyriteError } from '../../errors';
import { checkKeyType, checkSignatureAlgorithm, checkValidity, mergeReports, type KeyPolicy, type KeyPurpose, type PolicyReport } from '../../policy';
import { loadCertProfile, parseCertificate, type CertProfile } from '../../x509';
import type { Parameters } from '../parameters';
import type { CeremonyScript } from '../script';
import type { ScriptIssue } from './problems';

/**
 * Each step's use of the parameters, checked the way the step itself will check them: the
 * certificate profile it loads with the subject and days it will pass, its key type and validity
 * against the policy for the profile's purpose, and the files it will read. What a step would
 * refuse at step 10, after the key exists and the shares are handed out, is refused now.
 */
export function stepValueIssues(script: CeremonyScript, values: Parameters, policy: KeyPolicy): ScriptIssue[] {
  const issues: ScriptIssue[] = [];
  const keyTypeOf = keyTypes(script, values);
  script.steps.forEach((step, i) => {
    const at = (...rest: Array<string | number>): Array<string | number> => ['steps', i, ...rest];
    const policyIssues = (report: PolicyReport, path: Array<string | number>): void => {
      for (const v of report.errors) issues.push({ path, code: 'POLICY_VIOLATION', message: `step '${step.id}': ${v.message} (rule ${v.rule})` });
    };
    const alias = typeof step.with?.key === 'string' ? step.with.key : 'ceremony';
    switch (step.action) {
      case 'generateKey': {
        const typeParam = typeof step.with?.typeParam === 'string' ? step.with.typeParam : 'keyType';
        const purpose = step.with?.purpose;
        const type = values[typeParam];
        if (typeof purpose === 'string' && typeof type === 'string') policyIssues(checkKeyType(policy, { type, purpose: purpose as KeyPurpose }), at('with', 'purpose'));
        break;
      }
      case 'issueRootCert':
      case 'issueCrossCert':
      case 'issueCsr': {
        const name = step.action === 'issueCsr' ? 'csr' : typeof step.with?.profile === 'string' ? step.with.profile : step.action === 'issueRootCert' ? 'root-ca' : 'cross-cert';
        let profile: CertProfile;
        try {
          profile = loadCertProfile(name, step.action === 'issueCsr' ? {} : { subject: str(values.subject), days: num(values.days) });
        } catch (e) {
          if (!isKeyriteError(e)) throw e;
          issues.push({ path: at(step.with?.profile ? 'with' : 'action'), code: e.code, message: `step '${step.id}': ${e.message}` });
          break;
        }
        const reports: PolicyReport[] = [];
        const type = keyTypeOf.get(alias);
        if (type) reports.push(checkKeyType(policy, { type, purpose: profile.purpose }));
        reports.push(checkValidity(policy, { purpose: profile.purpose, days: profile.days }));
        if (profile.scheme && profile.hash) reports.push(checkSignatureAlgorithm(policy, { scheme: profile.scheme, hash: profile.hash, purpose: profile.purpose }));
        policyIssues(mergeReports(...reports), at('action'));
        if (step.action === 'issueCrossCert' && typeof values.oldCertFile === 'string') {
          try {
            parseCertificate(readFileSync(values.oldCertFile), "the old root's certificate");
          } catch (e) {
            issues.push({ path: ['parameters', 'oldCertFile'], code: isKeyriteError(e) ? e.code : 'CEREMONY_PARAMETER_INVALID', message: `Parameter 'oldCertFile' (${values.oldCertFile}) is not a certificate Keyrite can read: ${(e as Error).message}` });
          }
        }
        break;
      }
      default:
        break;
    }
  });
  if (typeof values.backupFile === 'string' && script.parameters.backupFile?.type === 'file') {
    try {
      readBackupFile(values.backupFile);
    } catch (e) {
      if (!isKeyriteError(e)) throw e;
      issues.push({ path: ['parameters', 'backupFile'], code: e.code, message: e.message });
    }
  }
  return issues;
}

/** The key type each key alias will have, from the parameter its generateKey step reads. */
function keyTypes(script: CeremonyScript, values: Parameters): Map<string, string> {
  const out = new Map<string, string>();
  for (const step of script.steps) {
    if (step.action !== 'generateKey') continue;
    const typeParam = typeof step.with?.typeParam === 'string' ? step.with.typeParam : 'keyType';
    const alias = typeof step.with?.key === 'string' ? step.with.key : 'ceremony';
    if (typeof values[typeParam] === 'string') out.set(alias, values[typeParam] as string);
  }
  return out;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === 'number' ? v : undefined);
