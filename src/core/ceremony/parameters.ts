import { existsSync } from 'node:fs';
import { KeyriteError } from '../errors';
import { escapeForTerminal, requirePlainText } from '../text/plain-text';
import { parseKeyType } from '../hsm/key-spec';
import { assertPolicy, checkKeyCustody, checkKeyType, checkShareThreshold, checkValidity, mergeReports, type KeyPolicy, type PolicyReport } from '../policy';
import type { CeremonyScript } from './script';

export type ParamValue = string | number | boolean;
export type Parameters = Record<string, ParamValue>;

/**
 * The script's parameters with defaults applied, given values checked by type and bounds, and
 * the whole set checked against the key policy. Unknown names are refused (a typo would
 * otherwise silently fall back to a default).
 */
export function resolveParameters(script: CeremonyScript, given: Record<string, unknown>, policy: KeyPolicy): { values: Parameters; warnings: string[] } {
  for (const name of Object.keys(given)) {
    if (!(name in script.parameters)) {
      throw new KeyriteError('CEREMONY_PARAMETER_UNKNOWN', `Ceremony '${script.id}' has no parameter '${name}'. Its parameters are: ${Object.keys(script.parameters).join(', ') || 'none'}.`, { details: { name } });
    }
  }
  const values: Parameters = {};
  for (const [name, spec] of Object.entries(script.parameters)) {
    const raw = given[name] ?? spec.default;
    if (raw === undefined || raw === '') {
      if (spec.required) throw new KeyriteError('CEREMONY_PARAMETER_MISSING', `Ceremony '${script.id}' needs parameter '${name}' (${spec.description}).`, { details: { name } });
      continue;
    }
    values[name] = coerce(script.id, name, spec.type, raw, spec.min, spec.max);
  }
  const report = policyReport(script, values, policy);
  assertPolicy(report);
  return { values, warnings: report.warnings.map((w) => `${w.message} (rule ${w.rule})`) };
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
      const s = String(raw).trim();
      if (!/^[A-Za-z.0-9]+=[^,]+(,\s*[A-Za-z.0-9]+=[^,]+)*$/.test(s)) bad(`must be a distinguished name such as "CN=Example Root CA, O=Example"`);
      return s;
    }
    case 'string':
    case 'keyId':
    case 'tokenLabel': {
      const s = String(raw).trim();
      if (!s) bad('must not be empty');
      if (type === 'keyId' && !/^[a-z0-9]+-\d{4}-\d{2,}$/.test(s)) bad(`must be a key id such as ecp384-2026-01, not '${s}'`);
      return s;
    }
  }
}

function policyReport(script: CeremonyScript, values: Parameters, policy: KeyPolicy): PolicyReport {
  const reports: PolicyReport[] = [];
  for (const [name, spec] of Object.entries(script.parameters)) {
    if (spec.type === 'keyType' && typeof values[name] === 'string') {
      reports.push(checkKeyType(policy, { type: values[name] as string, purpose: spec.purpose ?? 'root-signing' }));
    }
  }
  if (typeof values.threshold === 'number' && typeof values.count === 'number') {
    reports.push(checkShareThreshold(policy, { threshold: values.threshold, count: values.count }));
  }
  if (values.trustedKek === false) {
    reports.push(checkKeyCustody(policy, { custody: 'wrap-untrusted' }));
  }
  if (typeof values.days === 'number') {
    const purpose = Object.values(script.parameters).find((p) => p.type === 'keyType')?.purpose ?? 'root-signing';
    reports.push(checkValidity(policy, { purpose, days: values.days }));
  }
  return mergeReports(...reports);
}
