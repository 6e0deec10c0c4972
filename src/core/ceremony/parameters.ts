import { existsSync } from 'node:fs';
import { isKeyriteError, KeyriteError } from '../errors';
import { parseKeyType } from '../hsm/key-spec';
import { isKeyId, KEY_ID_EXAMPLE } from '../keys/key-types';
import { checkKeyCustody, checkKeyType, checkShareThreshold, checkValidity, mergeReports, type KeyPolicy, type PolicyReport } from '../policy';
import { escapeForTerminal, requirePlainText } from '../text/plain-text';
import { parseSubject } from '../x509/subject';
import type { CeremonyScript } from './script';
import type { ScriptIssue } from './validate/problems';

export type ParamValue = string | number | boolean;
export type Parameters = Record<string, ParamValue>;

/**
 * The script's parameters with defaults applied, given values checked by type and bounds, and
 * the whole set checked against the key policy. Unknown names are refused (a typo would
 * otherwise silently fall back to a default). Every problem is reported at once.
 */
export function resolveParameters(script: CeremonyScript, given: Record<string, unknown>, policy: KeyPolicy): { values: Parameters; warnings: string[] } {
  const checked = checkParameters(script, given, policy);
  if (checked.issues.length > 0) throw parameterError(checked.issues);
  return { values: checked.values, warnings: checked.warnings };
}

/** The same checks, returning every problem (with the field it concerns) instead of throwing. */
export function checkParameters(script: CeremonyScript, given: Record<string, unknown>, policy: KeyPolicy): { values: Parameters; warnings: string[]; issues: ScriptIssue[] } {
  const issues: ScriptIssue[] = [];
  for (const name of Object.keys(given)) {
    if (!(name in script.parameters)) {
      issues.push({ path: ['parameters'], code: 'CEREMONY_PARAMETER_UNKNOWN', message: `Ceremony '${script.id}' has no parameter '${name}'. Its parameters are: ${Object.keys(script.parameters).join(', ') || 'none'}.` });
    }
  }
  const values: Parameters = {};
  for (const [name, spec] of Object.entries(script.parameters)) {
    const fromDefault = given[name] === undefined;
    const raw = given[name] ?? spec.default;
    if (raw === undefined || raw === '') {
      // A parameter with only a rehearsal value: say that a real run names it, and how.
      const how = spec.demo !== undefined ? ` A real ceremony names it (only a rehearsal uses '${String(spec.demo)}'): give --param ${name}=… , set it on the Parameters page, or put it under parameters in the answers file.` : '';
      if (spec.required) issues.push({ path: ['parameters', name], code: 'CEREMONY_PARAMETER_MISSING', message: `Ceremony '${script.id}' needs parameter '${name}' (${spec.description}).${how}` });
      continue;
    }
    try {
      values[name] = coerce(script.id, name, spec.type, raw, spec.min, spec.max);
    } catch (e) {
      if (!isKeyriteError(e)) throw e;
      issues.push({ path: fromDefault ? ['parameters', name, 'default'] : ['parameters', name], code: e.code, message: e.message });
    }
  }
  const reports = policyReports(script, values, policy);
  for (const { name, report } of reports) {
    for (const v of report.errors) issues.push({ path: ['parameters', name], code: 'POLICY_VIOLATION', message: `${v.message} (rule ${v.rule})` });
  }
  return { values, warnings: mergeReports(...reports.map((r) => r.report)).warnings.map((w) => `${w.message} (rule ${w.rule})`), issues };
}

/** One error for all parameter problems: the first one's code, every message in the text. */
export function parameterError(issues: ScriptIssue[]): KeyriteError {
  const first = issues[0];
  const more = issues.length > 1 ? ` ${issues.length - 1} more problem${issues.length > 2 ? 's' : ''}: ${issues.slice(1).map((i) => i.message).join(' ')}` : '';
  return new KeyriteError(first.code ?? 'CEREMONY_PARAMETER_INVALID', `${first.message}${more}`, { details: { problems: issues.map((i) => ({ code: i.code, field: i.path.join('.'), message: i.message })) } });
}

function coerce(scriptId: string, name: string, type: CeremonyScript['parameters'][string]['type'], raw: unknown, min?: number, max?: number): ParamValue {
  const bad = (why: string): never => {
    throw new KeyriteError('CEREMONY_PARAMETER_INVALID', `Parameter '${name}' of ceremony '${scriptId}' ${why}.`, { details: { name, value: escapeForTerminal(String(raw)) } });
  };
  if (typeof raw === 'string') requirePlainText(raw, `Parameter '${name}' of ceremony '${scriptId}'`, 'CEREMONY_PARAMETER_INVALID', { name });
  switch (type) {
    case 'integer': {
      const n = typeof raw === 'number' ? raw : Number(String(raw).trim());
      if (!Number.isInteger(n)) bad(`must be a whole number, not '${String(raw)}'`);
      if (min !== undefined && n < min) bad(`must be at least ${min} (got ${n})`);
      if (max !== undefined && n > max) bad(`must be at most ${max} (got ${n})`);
      return n;
    }
    case 'boolean': {
      if (typeof raw === 'boolean') return raw;
      const s = String(raw).toLowerCase();
      if (['true', 'yes', '1'].includes(s)) return true;
      if (['false', 'no', '0'].includes(s)) return false;
      return bad(`must be true or false, not '${String(raw)}'`);
    }
    case 'keyType': {
      const text = String(raw);
      try {
        parseKeyType(text);
      } catch (e) {
        // Types the policy names a rule for (rsa-1024, ec-p192) are left to the policy check so the
        // refusal carries its rule id; anything else is unknown here.
        if (!/^(rsa-?\d+|ec-?p\d+)$/i.test(text)) throw e;
      }
      return text.toLowerCase();
    }
    case 'file': {
      const s = String(raw);
      if (!existsSync(s)) bad(`names the file '${s}', which does not exist`);
      return s;
    }
    case 'subject': {
      // The parser the certificate step uses, so a subject it would refuse is refused now.
      const s = String(raw).trim();
      try {
        parseSubject(s);
      } catch (e) {
        if (!isKeyriteError(e)) throw e;
        bad(`is not a distinguished name Keyrite can certify: ${String(e.details.reason ?? e.message)}. Write it as "CN=Example Root CA, O=Example, C=NL"`);
      }
      return s;
    }
    case 'string':
    case 'keyId':
    case 'tokenLabel': {
      const s = String(raw).trim();
      if (!s) bad('must not be empty');
      if (type === 'keyId' && !isKeyId(s)) bad(`must be a key id such as ${KEY_ID_EXAMPLE}, not '${s}'`);
      return s;
    }
  }
}

/** The policy's verdict on the parameters, each report with the parameter it concerns. */
function policyReports(script: CeremonyScript, values: Parameters, policy: KeyPolicy): Array<{ name: string; report: PolicyReport }> {
  const reports: Array<{ name: string; report: PolicyReport }> = [];
  for (const [name, spec] of Object.entries(script.parameters)) {
    if (spec.type === 'keyType' && typeof values[name] === 'string') {
      reports.push({ name, report: checkKeyType(policy, { type: values[name] as string, purpose: spec.purpose ?? 'root-signing' }) });
    }
  }
  if (typeof values.threshold === 'number' && typeof values.count === 'number') {
    reports.push({ name: 'threshold', report: checkShareThreshold(policy, { threshold: values.threshold, count: values.count }) });
  }
  if (values.trustedKek === false) {
    reports.push({ name: 'trustedKek', report: checkKeyCustody(policy, { custody: 'wrap-untrusted' }) });
  }
  if (typeof values.days === 'number') {
    const purpose = Object.values(script.parameters).find((p) => p.type === 'keyType')?.purpose ?? 'root-signing';
    reports.push({ name: 'days', report: checkValidity(policy, { purpose, days: values.days }) });
  }
  return reports;
}
