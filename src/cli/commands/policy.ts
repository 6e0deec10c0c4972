import type { Command } from 'commander';
import {
  checkKeyType, checkShareThreshold, checkSignatureAlgorithm, checkUsage, checkValidity, KEY_PURPOSES, loadPolicy, mergeReports,
  type KeyPolicy, type KeyPurpose, type PolicyReport, type SignatureScheme,
} from '../../core/policy';
import { usage } from '../io';

export function formatPolicy(p: KeyPolicy): string {
  const k = p.keyTypes;
  const s = p.signatures;
  const out = [
    `Key policy: ${p.name} (version ${p.version})`,
    `File:       ${p.source.file}`,
    `SHA-256:    ${p.source.sha256}`,
    '',
    'Key types',
    `  RSA  ${k.rsa.minSize}-${k.rsa.maxSize} bits, ${k.rsa.recommendedMinSize}+ recommended     [key.rsa.min-size, key.rsa.max-size, key.rsa.recommended-size]`,
    `  EC   ${k.ec.allowedCurves.join(', ')}; ${k.ec.recommendedCurves.join(', ') || 'none'} recommended     [key.ec.curve, key.ec.recommended-curve]`,
    `  AES  ${k.aes.allowedSizes.join(', ')} bits (KEKs)     [key.aes.size]`,
    '',
    'Signatures',
    `  schemes ${s.schemes.join(', ')}     [sig.scheme.allowed]`,
    `  hashes ${s.allowedHashes.join(', ')}     [sig.hash.allowed]`,
    `  forbidden ${s.forbiddenHashes.join(', ') || 'none'}     [sig.hash.forbidden]`,
    '',
    'Purposes (key separation)     [key.purpose.algorithm, usage.separation, validity.max, rotation.period]',
  ];
  for (const name of KEY_PURPOSES) {
    const pp = p.purposes[name];
    const rsaMin = pp.rsaMinSize !== undefined ? `, RSA >= ${pp.rsaMinSize} [key.rsa.root-min-size]` : '';
    out.push(`  ${name.padEnd(21)} ${pp.algorithms.join('/')}${rsaMin}; usage ${pp.usage.join(', ')}; rotate every ${pp.rotationDays} days; validity <= ${pp.maxValidityDays} days`);
  }
  out.push('', 'Shares', `  threshold >= ${p.shares.minThreshold}, threshold <= count, count <= ${p.shares.maxCount}${p.shares.recommendMajority ? '; a majority threshold recommended' : ''}     [shares.threshold.min, shares.threshold.le-count, shares.count.max, shares.threshold.majority]`);
  return out.join('\n');
}

export function formatReport(report: PolicyReport): string {
  const lines = [
    ...report.passed.map((r) => `pass  ${r}`),
    ...report.warnings.map((v) => `warn  ${v.rule}  ${v.message}`),
    ...report.errors.map((v) => `FAIL  ${v.rule}  ${v.message}`),
  ];
  lines.push('', report.ok ? `Allowed${report.warnings.length ? ` with ${report.warnings.length} warning(s)` : ''}.` : `Refused: ${report.errors.length} rule(s) failed.`);
  return lines.join('\n');
}

interface CheckOptions {
  policy?: string;
  type?: string;
  purpose?: string;
  scheme?: string;
  hash?: string;
  validityDays?: string;
  threshold?: string;
  count?: string;
  usage?: string;
  json?: boolean;
}

function int(name: string, value: string): number {
  if (!/^-?\d+$/.test(value.trim())) throw usage(`--${name} must be a whole number, not '${value}'.`);
  return Number(value);
}

export function registerPolicyCommands(program: Command): void {
  const policy = program.command('policy').description('show the key policy and check parameters against it');

  policy
    .command('show')
    .description('print the key policy with its rule ids')
    .option('--policy <file>', 'a policy file (default: the bundled policy)')
    .option('--json', 'print JSON')
    .action((opts: { policy?: string; json?: boolean }) => {
      const p = loadPolicy(opts.policy);
      process.stdout.write((opts.json ? JSON.stringify(p, null, 2) : formatPolicy(p)) + '\n');
    });

  policy
    .command('check')
    .description('check key parameters against the policy; prints each rule as pass, warn or FAIL (exit 1 on any failure)')
    .option('--policy <file>', 'a policy file (default: the bundled policy)')
    .option('--type <type>', 'key type: rsa-3072, ec-p384, aes-256, ...')
    .option('--purpose <purpose>', KEY_PURPOSES.join(' | '))
    .option('--scheme <scheme>', 'signature scheme: ecdsa | rsa-pss | rsa-pkcs1 (with --hash)')
    .option('--hash <hash>', 'signature hash: SHA-256, SHA-384, ...')
    .option('--validity-days <n>', 'certificate validity in days')
    .option('--threshold <m>', 'share threshold (with --count)')
    .option('--count <n>', 'share count (with --threshold)')
    .option('--usage <flags>', 'comma-separated usage flags: sign,verify,wrap,unwrap,encrypt,decrypt,derive')
    .option('--json', 'print the report as JSON')
    .action((opts: CheckOptions) => {
      const p = loadPolicy(opts.policy);
      const purpose = opts.purpose as KeyPurpose | undefined;
      const needPurpose = (what: string): KeyPurpose => {
        if (!purpose) throw usage(`${what} needs --purpose (${KEY_PURPOSES.join(', ')}).`);
        return purpose;
      };
      const reports: PolicyReport[] = [];
      if (opts.type) reports.push(checkKeyType(p, { type: opts.type, purpose: needPurpose('--type') }));
      if (opts.scheme || opts.hash) {
        if (!opts.scheme || !opts.hash) throw usage('--scheme and --hash go together.');
        reports.push(checkSignatureAlgorithm(p, { scheme: opts.scheme as SignatureScheme, hash: opts.hash, purpose: needPurpose('--scheme') }));
      }
      if (opts.validityDays !== undefined) reports.push(checkValidity(p, { purpose: needPurpose('--validity-days'), days: int('validity-days', opts.validityDays) }));
      if (opts.threshold !== undefined || opts.count !== undefined) {
        if (opts.threshold === undefined || opts.count === undefined) throw usage('--threshold and --count go together.');
        reports.push(checkShareThreshold(p, { threshold: int('threshold', opts.threshold), count: int('count', opts.count) }));
      }
      if (opts.usage !== undefined) reports.push(checkUsage(p, { purpose: needPurpose('--usage'), usage: opts.usage.split(',').map((u) => u.trim()).filter(Boolean) }));
      if (reports.length === 0) throw usage('Nothing to check: give --type, --scheme/--hash, --validity-days, --threshold/--count or --usage.');
      const report = mergeReports(...reports);
      process.stdout.write((opts.json ? JSON.stringify(report, null, 2) : formatReport(report)) + '\n');
      if (!report.ok) process.exitCode = 1;
    });
}
