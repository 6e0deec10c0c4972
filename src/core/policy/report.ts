import { KeyriteError } from '../errors';

export interface Violation {
  rule: string;
  severity: 'error' | 'warning';
  message: string;
}

export interface PolicyReport {
  ok: boolean;
  errors: Violation[];
  warnings: Violation[];
  /** Rule ids checked and passed. */
  passed: string[];
}

/** Collects one check's outcome per rule; a rule that never fails is reported as passed. */
export class ReportBuilder {
  private readonly errors: Violation[] = [];
  private readonly warnings: Violation[] = [];
  private readonly checked: string[] = [];

  /** Record rule `rule` as checked; when `ok` is false, add a violation of the given severity. */
  rule(rule: string, ok: boolean, severity: 'error' | 'warning', message: () => string): boolean {
    if (!this.checked.includes(rule)) this.checked.push(rule);
    if (!ok) (severity === 'error' ? this.errors : this.warnings).push({ rule, severity, message: message() });
    return ok;
  }

  build(): PolicyReport {
    const failed = new Set([...this.errors, ...this.warnings].map((v) => v.rule));
    return { ok: this.errors.length === 0, errors: this.errors, warnings: this.warnings, passed: this.checked.filter((r) => !failed.has(r)) };
  }
}

export function mergeReports(...reports: PolicyReport[]): PolicyReport {
  const errors = reports.flatMap((r) => r.errors);
  const warnings = reports.flatMap((r) => r.warnings);
  const failed = new Set([...errors, ...warnings].map((v) => v.rule));
  const passed = [...new Set(reports.flatMap((r) => r.passed))].filter((r) => !failed.has(r));
  return { ok: errors.length === 0, errors, warnings, passed };
}

/** Throw POLICY_VIOLATION for the first error, naming its rule; warnings never throw. */
export function assertPolicy(report: PolicyReport): void {
  const first = report.errors[0];
  if (!first) return;
  const more = report.errors.length > 1 ? ` ${report.errors.length - 1} more rule(s) also failed.` : '';
  throw new KeyriteError('POLICY_VIOLATION', `${first.message} (rule ${first.rule})${more}`, {
    details: { rule: first.rule, violations: report.errors },
  });
}
