import { describe, expect, it } from 'vitest';
import {
  assertPolicy, checkKeyType, checkShareThreshold, checkSignatureAlgorithm, checkUsage, checkValidity, loadPolicy, mergeReports, rotationDue,
  type KeyPurpose,
} from '../../src/core/policy';

const policy = loadPolicy();

function thrown(fn: () => void): { code: string; message: string; details: Record<string, unknown> } {
  try {
    fn();
  } catch (e) {
    return e as { code: string; message: string; details: Record<string, unknown> };
  }
  throw new Error('expected a throw');
}

describe('key types', () => {
  it.each([
    ['rsa-1024', 'root-signing', 'key.rsa.min-size'],
    ['rsa-1024', 'transcript-signing', 'key.rsa.min-size'],
    ['rsa-2048', 'root-signing', 'key.rsa.root-min-size'],
    ['rsa-2048', 'intermediate-signing', 'key.rsa.root-min-size'],
    ['rsa-8192', 'transcript-signing', 'key.rsa.max-size'],
    ['ec-p192', 'root-signing', 'key.ec.curve'],
    ['ec-p224', 'transcript-signing', 'key.ec.curve'],
    ['rsa-3072', 'kek', 'key.purpose.algorithm'],
    ['aes-256', 'root-signing', 'key.purpose.algorithm'],
    ['aes-128', 'kek', 'key.aes.size'],
    ['dsa-2048', 'root-signing', 'key.type.known'],
  ] as const)('%s for %s is refused by rule %s', (type, purpose, rule) => {
    const report = checkKeyType(policy, { type, purpose });
    expect(report.ok).toBe(false);
    // The first error is the rule that forbids it (a 1024-bit root key also fails the CA minimum).
    expect(report.errors[0].rule).toBe(rule);
    expect(report.errors[0].severity).toBe('error');
    const err = thrown(() => assertPolicy(report));
    expect(err.code).toBe('POLICY_VIOLATION');
    expect(err.message).toContain(`(rule ${rule})`);
    expect(err.details.rule).toBe(rule);
  });

  it('names the weak size in the message', () => {
    expect(checkKeyType(policy, { type: 'rsa-1024', purpose: 'root-signing' }).errors[0].message).toMatch(/RSA-1024 is too weak.*2048/);
    expect(checkKeyType(policy, { type: 'ec-p192', purpose: 'root-signing' }).errors[0].message).toMatch(/P-192 is not an allowed curve/);
  });

  it.each([
    ['rsa-3072', 'root-signing'], ['rsa-4096', 'root-signing'], ['ec-p384', 'root-signing'], ['ec-p521', 'intermediate-signing'],
    ['rsa-3072', 'transcript-signing'], ['ec-p384', 'transcript-signing'], ['aes-256', 'kek'],
  ] as const)('%s for %s passes with no warnings', (type, purpose) => {
    const report = checkKeyType(policy, { type, purpose });
    expect(report).toMatchObject({ ok: true, errors: [], warnings: [] });
    expect(report.passed.length).toBeGreaterThan(0);
  });

  it.each([
    ['rsa-2048', 'transcript-signing', 'key.rsa.recommended-size'],
    ['ec-p256', 'root-signing', 'key.ec.recommended-curve'],
  ] as const)('%s for %s is allowed with warning %s', (type, purpose, rule) => {
    const report = checkKeyType(policy, { type, purpose });
    expect(report.ok).toBe(true);
    expect(report.warnings.map((w) => w.rule)).toEqual([rule]);
    expect(report.warnings[0].severity).toBe('warning');
    expect(() => assertPolicy(report)).not.toThrow();
  });

  it('lists the passed rules', () => {
    expect(checkKeyType(policy, { type: 'rsa-4096', purpose: 'root-signing' }).passed).toEqual(
      ['purpose.known', 'key.type.known', 'key.purpose.algorithm', 'key.rsa.min-size', 'key.rsa.max-size', 'key.rsa.root-min-size', 'key.rsa.recommended-size']);
  });

  it('refuses an unknown purpose', () => {
    expect(checkKeyType(policy, { type: 'ec-p384', purpose: 'tls' as KeyPurpose }).errors[0].rule).toBe('purpose.known');
  });
});

describe('signature algorithms', () => {
  it.each([
    ['rsa-pss', 'SHA-1', 'root-signing', 'sig.hash.forbidden'],
    ['ecdsa', 'sha1', 'transcript-signing', 'sig.hash.forbidden'],
    ['rsa-pkcs1', 'MD5', 'intermediate-signing', 'sig.hash.forbidden'],
    ['ecdsa', 'SHA-224', 'root-signing', 'sig.hash.allowed'],
    ['ecdsa', 'SHA-256', 'kek', 'sig.purpose.signs'],
  ] as const)('%s with %s for %s is refused by rule %s', (scheme, hash, purpose, rule) => {
    const report = checkSignatureAlgorithm(policy, { scheme, hash, purpose });
    expect(report.ok).toBe(false);
    expect(report.errors.map((e) => e.rule)).toContain(rule);
    expect(thrown(() => assertPolicy(report)).message).toContain(`(rule ${report.errors[0].rule})`);
  });

  it('says why SHA-1 is refused', () => {
    const err = thrown(() => assertPolicy(checkSignatureAlgorithm(policy, { scheme: 'rsa-pss', hash: 'SHA-1', purpose: 'root-signing' })));
    expect(err).toMatchObject({ code: 'POLICY_VIOLATION', details: { rule: 'sig.hash.forbidden' } });
    expect(err.message).toMatch(/^SHA-1 is forbidden/);
  });

  it.each([
    ['rsa-pss', 'SHA-256'], ['rsa-pss', 'SHA-512'], ['rsa-pkcs1', 'SHA-384'], ['ecdsa', 'SHA-384'], ['ecdsa', 'sha256'],
  ] as const)('%s with %s is allowed', (scheme, hash) => {
    expect(checkSignatureAlgorithm(policy, { scheme, hash, purpose: 'root-signing' })).toMatchObject({ ok: true, errors: [] });
  });
});

describe('validity', () => {
  it.each([
    ['root-signing', 9131, true], ['root-signing', 9132, false], ['intermediate-signing', 3653, true], ['intermediate-signing', 3654, false],
    ['transcript-signing', 0, false], ['transcript-signing', 1.5, false],
  ] as const)('%s for %d days: ok=%s', (purpose, days, ok) => {
    const report = checkValidity(policy, { purpose, days });
    expect(report.ok).toBe(ok);
    if (!ok) expect(report.errors[0].rule).toMatch(/^validity\.(max|positive)$/);
  });

  it('explains the root maximum', () => {
    expect(checkValidity(policy, { purpose: 'root-signing', days: 10000 }).errors[0]).toMatchObject({ rule: 'validity.max', message: expect.stringContaining('at most 9131 days') });
  });
});

describe('share thresholds', () => {
  it.each([
    [1, 3, 'shares.threshold.min'],
    [4, 3, 'shares.threshold.le-count'],
    [10, 17, 'shares.count.max'],
    [2.5, 5, 'shares.integer'],
  ])('%d of %d is refused by %s', (threshold, count, rule) => {
    const report = checkShareThreshold(policy, { threshold, count });
    expect(report.ok).toBe(false);
    expect(report.errors.map((e) => e.rule)).toContain(rule);
  });

  it.each([[2, 3], [3, 5], [9, 16], [2, 2]])('%d of %d is fine', (threshold, count) => {
    expect(checkShareThreshold(policy, { threshold, count })).toMatchObject({ ok: true, errors: [], warnings: [] });
  });

  it.each([[2, 4], [2, 5], [8, 16]])('%d of %d (not a majority) is a warning', (threshold, count) => {
    const report = checkShareThreshold(policy, { threshold, count });
    expect(report.ok).toBe(true);
    expect(report.warnings.map((w) => w.rule)).toEqual(['shares.threshold.majority']);
  });
});

describe('usage (key separation)', () => {
  it.each([
    ['root-signing', ['sign', 'verify'], true],
    ['transcript-signing', ['sign'], true],
    ['kek', ['wrap', 'unwrap'], true],
    ['root-signing', ['sign', 'decrypt'], false],
    ['intermediate-signing', ['sign', 'wrap'], false],
    ['kek', ['wrap', 'unwrap', 'sign'], false],
    ['kek', ['encrypt'], false],
  ] as const)('%s with %j: ok=%s', (purpose, usage, ok) => {
    const report = checkUsage(policy, { purpose, usage: [...usage] });
    expect(report.ok).toBe(ok);
    if (!ok) expect(report.errors[0]).toMatchObject({ rule: 'usage.separation', message: expect.stringContaining('key separation') });
  });

  it('refuses an unknown usage flag', () => {
    expect(checkUsage(policy, { purpose: 'kek', usage: ['wrap', 'teleport'] }).errors.map((e) => e.rule)).toEqual(['usage.known']);
  });
});

describe('rotation and reports', () => {
  it('computes rotation due from the purpose period', () => {
    const created = new Date('2026-01-15T10:00:00Z');
    expect(rotationDue(policy, 'transcript-signing', created).toISOString()).toBe('2027-01-15T10:00:00.000Z');
    expect(rotationDue(policy, 'root-signing', created).toISOString()).toBe('2036-01-15T10:00:00.000Z');
  });

  it('merges reports: errors and warnings kept, failed rules removed from passed', () => {
    const merged = mergeReports(
      checkKeyType(policy, { type: 'ec-p256', purpose: 'root-signing' }),
      checkSignatureAlgorithm(policy, { scheme: 'ecdsa', hash: 'SHA-1', purpose: 'root-signing' }),
      checkShareThreshold(policy, { threshold: 3, count: 5 }),
    );
    expect(merged.ok).toBe(false);
    expect(merged.errors.map((e) => e.rule)).toEqual(['sig.hash.forbidden']);
    expect(merged.warnings.map((e) => e.rule)).toEqual(['key.ec.recommended-curve']);
    expect(merged.passed).toContain('shares.threshold.majority');
    expect(merged.passed).not.toContain('sig.hash.forbidden');
    expect(mergeReports()).toEqual({ ok: true, errors: [], warnings: [], passed: [] });
  });

  it('assertPolicy counts further errors', () => {
    const merged = mergeReports(checkKeyType(policy, { type: 'rsa-1024', purpose: 'root-signing' }), checkValidity(policy, { purpose: 'root-signing', days: 99999 }));
    const err = thrown(() => assertPolicy(merged));
    expect(err.message).toMatch(/\(rule key\.rsa\.min-size\) 2 more rule\(s\) also failed\./);
    expect((err.details.violations as unknown[]).length).toBe(3);
  });
});
