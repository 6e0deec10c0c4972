import { isKeyriteError } from '../errors';
import { KEY_TYPES } from '../hsm/key-spec';
import { checkKeyType, type KeyPolicy, type KeyPurpose } from '../policy';
import { loadCertProfile } from '../x509';
import { parseSubject } from '../x509/subject';
import { checkParameters, type ParamValue } from './parameters';
import type { CeremonyScript, ParamType } from './script';
import { stepValueIssues } from './validate/values';

/** One parameter as the administrator sees it before check-in: its value, its limits, its problems. */
export interface ParameterField {
  name: string;
  type: ParamType;
  description: string;
  required: boolean;
  /** May be left empty: not required, and neither a default nor a rehearsal value fills it. */
  optional: boolean;
  /** What the field holds now: the value given, else the script's default (a rehearsal: its demo value). */
  value: ParamValue | null;
  /** Where that value came from, so the page can say "from the script" instead of hiding it. */
  source: 'given' | 'default' | 'demo' | 'none';
  /** Integers: the bounds of the script AND the key policy together (the tighter of each). */
  min?: number;
  max?: number;
  /** The limits in words, naming who sets them ("2 to 5 · script 2–16 · policy: at least 2, at most the share count"). */
  limits?: string;
  /** keyType: the types the key policy allows for this parameter's purpose. */
  options?: string[];
  /** keyType: the policy purpose the key is checked against. */
  purpose?: KeyPurpose;
  /** subject: the RDNs as the certificate step will encode them, or null if it cannot be parsed. */
  rdns?: Array<Array<{ type: string; value: string }>> | null;
  /** Problems with this field's value (empty when it is fine). */
  problems: Array<{ code: string; message: string }>;
}

/** A certificate profile a step of the script uses (fixed by the script, shown next to the parameters it takes). */
export interface ProfileUse {
  step: string;
  profile: string;
  purpose: string | null;
  /** The profile's extensions in words, e.g. "CA, path length 1, hash SHA-384". */
  summary: string | null;
}

export interface ParameterForm {
  fields: ParameterField[];
  /** The certificate profiles the script's certificate steps use. */
  profiles: ProfileUse[];
  /** The values the ceremony would be started with (only those that resolved). */
  values: Record<string, ParamValue>;
  /** Policy warnings (e.g. "3 of 6 is not a majority"): shown, recorded, never blocking. */
  warnings: string[];
  /** Problems not tied to one parameter (a step's certificate profile, an unknown name). */
  problems: Array<{ code: string; message: string }>;
  /** True when the ceremony can start with these values. */
  ok: boolean;
}

/**
 * The script's parameters as a form: each with its current value, the limits the script and the
 * key policy put on it together, and every problem the start of the ceremony would refuse
 * (checkParameters, then each step's use of the values). The desktop Parameters page and the
 * terminal runner both show this, so a value is never taken from the script without being seen.
 */
export function describeParameters(script: CeremonyScript, given: Record<string, unknown>, policy: KeyPolicy, opts: { demo?: boolean } = {}): ParameterForm {
  const withDemo = opts.demo ? withDemoValues(script, given) : { ...given };
  const checked = checkParameters(script, withDemo, policy);
  const issues = [...checked.issues];
  if (checked.issues.length === 0) {
    issues.push(...stepValueIssues(script, checked.values, policy).filter((s) => !issues.some((i) => s.message.endsWith(i.message))));
  }
  const fieldOf = (path: Array<string | number>): string | null => (path[0] === 'parameters' && typeof path[1] === 'string' ? path[1] : null);
  const fields: ParameterField[] = Object.entries(script.parameters).map(([name, spec]) => {
    const raw = withDemo[name] ?? spec.default;
    const source: ParameterField['source'] = given[name] !== undefined ? 'given' : withDemo[name] !== undefined ? 'demo' : spec.default !== undefined ? 'default' : 'none';
    const value = raw === undefined || raw === '' ? null : (checked.values[name] ?? (raw as ParamValue));
    const field: ParameterField = { name, type: spec.type, description: spec.description, required: spec.required === true, optional: spec.required !== true && spec.default === undefined && spec.demo === undefined, value, source, problems: [] };
    if (spec.type === 'integer') Object.assign(field, integerLimits(script, name, checked.values, policy));
    if (spec.type === 'keyType') {
      field.purpose = spec.purpose ?? 'root-signing';
      field.options = KEY_TYPES.filter((t) => checkKeyType(policy, { type: t, purpose: field.purpose! }).errors.length === 0);
      field.limits = `allowed by the key policy for ${field.purpose}: ${field.options.join(', ')}`;
    }
    if (spec.type === 'subject') field.rdns = typeof value === 'string' ? parsedRdns(value) : null;
    return field;
  });
  const problems: ParameterForm['problems'] = [];
  for (const issue of issues) {
    const name = fieldOf(issue.path);
    // A step's certificate profile refused for the subject or days it was given: shown on that field.
    const field = fields.find((f) => f.name === name) ?? (issue.path[0] === 'steps' ? stepField(issue.message, fields) : undefined);
    const p = { code: issue.code ?? 'CEREMONY_PARAMETER_INVALID', message: issue.message };
    if (field) field.problems.push(p);
    else problems.push(p);
  }
  return { fields, profiles: profileUses(script), values: checked.values, warnings: checked.warnings, problems, ok: issues.length === 0 };
}

/** Which certificate profile each certificate step loads (as stepValueIssues does), and what it says. */
function profileUses(script: CeremonyScript): ProfileUse[] {
  const uses: ProfileUse[] = [];
  for (const step of script.steps) {
    if (step.action !== 'issueRootCert' && step.action !== 'issueCrossCert' && step.action !== 'issueCsr') continue;
    const name = step.action === 'issueCsr' ? 'csr' : typeof step.with?.profile === 'string' ? step.with.profile : step.action === 'issueRootCert' ? 'root-ca' : 'cross-cert';
    try {
      const p = loadCertProfile(name);
      const bits = [p.pathLength !== undefined ? `path length ${p.pathLength}` : null, p.hash ? `hash ${p.hash}` : null, p.scheme ?? null].filter((b): b is string => b !== null);
      uses.push({ step: step.title, profile: name, purpose: p.purpose, summary: bits.length > 0 ? bits.join(', ') : null });
    } catch (e) {
      // A profile that cannot be read is refused by the start check, with its own code and field.
      if (!isKeyriteError(e)) throw e;
      uses.push({ step: step.title, profile: name, purpose: null, summary: null });
    }
  }
  return uses;
}

/**
 * A rehearsal's values: a parameter the script gives a `demo` value (the demo root's subject)
 * takes it when nothing else was given. A real run never does; there the field stays empty and
 * is required, so a real root is never named "Keyrite Demo Root CA" by default.
 */
export function withDemoValues(script: CeremonyScript, given: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...given };
  for (const [name, spec] of Object.entries(script.parameters)) {
    if (spec.demo !== undefined && (out[name] === undefined || out[name] === '')) out[name] = spec.demo;
  }
  return out;
}

/** A step's complaint about the subject or the validity is shown on that field. */
function stepField(message: string, fields: ParameterField[]): ParameterField | undefined {
  if (/subject/i.test(message)) return fields.find((f) => f.type === 'subject');
  if (/validity|days/i.test(message)) return fields.find((f) => f.name === 'days');
  if (/key type|curve|RSA/i.test(message)) return fields.find((f) => f.type === 'keyType');
  return undefined;
}

function parsedRdns(subject: string): ParameterField['rdns'] {
  try {
    return parseSubject(subject).map((rdn) => rdn.map((a) => ({ type: a.type, value: a.value })));
  } catch (e) {
    if (isKeyriteError(e)) return null;
    throw e;
  }
}

/**
 * An integer's bounds from the script and the policy together. The share threshold is at least
 * the policy's minimum and at most the share count; the count at most the policy's maximum; the
 * validity at most the policy's maximum for the key's purpose.
 */
function integerLimits(script: CeremonyScript, name: string, values: Record<string, ParamValue>, policy: KeyPolicy): Pick<ParameterField, 'min' | 'max' | 'limits'> {
  const spec = script.parameters[name];
  let min = spec.min;
  let max = spec.max;
  const from: string[] = [];
  if (spec.min !== undefined || spec.max !== undefined) from.push(`script ${range(spec.min, spec.max)}`);
  const tighten = (lo: number | undefined, hi: number | undefined, why: string): void => {
    if (lo !== undefined && (min === undefined || lo > min)) min = lo;
    if (hi !== undefined && (max === undefined || hi < max)) max = hi;
    from.push(why);
  };
  if (name === 'threshold') {
    const count = typeof values.count === 'number' ? values.count : undefined;
    tighten(policy.shares.minThreshold, count, `policy: at least ${policy.shares.minThreshold}${count !== undefined ? `, at most the share count (${count})` : ''}`);
  } else if (name === 'count') {
    tighten(undefined, policy.shares.maxCount, `policy: at most ${policy.shares.maxCount} shares`);
  } else if (name === 'days') {
    const purpose = Object.values(script.parameters).find((p) => p.type === 'keyType')?.purpose ?? 'root-signing';
    const maxDays = policy.purposes[purpose].maxValidityDays;
    tighten(undefined, maxDays, `policy: at most ${maxDays} days for ${purpose}`);
  }
  return { min, max, limits: `${range(min, max)}${from.length ? ` · ${from.join(' · ')}` : ''}` };
}

function range(min: number | undefined, max: number | undefined): string {
  if (min !== undefined && max !== undefined) return min === max ? `exactly ${min}` : `${min} to ${max}`;
  if (min !== undefined) return `at least ${min}`;
  if (max !== undefined) return `at most ${max}`;
  return 'any';
}
