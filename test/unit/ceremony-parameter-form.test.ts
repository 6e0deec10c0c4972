import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { describeParameters, withDemoValues } from '../../src/core/ceremony/parameter-form';
import { checkParameters } from '../../src/core/ceremony/parameters';
import { loadScript } from '../../src/core/ceremony/script';
import { loadPolicy } from '../../src/core/policy';

const policy = loadPolicy();
const { script: root } = loadScript('root-key-generation');
const SUBJECT = 'CN=Example Root CA, O=Example, C=NL';
const field = (form: ReturnType<typeof describeParameters>, name: string) => form.fields.find((f) => f.name === name)!;

describe('describeParameters: the Parameters page and the terminal runner show what the core will do', () => {
  it('a real run starts with an empty, required subject and cannot start; a rehearsal shows the demo name, marked as such', () => {
    const real = describeParameters(root, {}, policy);
    expect(real.ok).toBe(false);
    expect(field(real, 'subject')).toMatchObject({ value: null, source: 'none', required: true });
    expect(field(real, 'subject').problems).toEqual([expect.objectContaining({ code: 'CEREMONY_PARAMETER_MISSING' })]);
    expect(field(real, 'subject').problems[0].message).toBe("Ceremony 'root-key-generation' needs parameter 'subject' (Subject of the root certificate). A real ceremony names it (only a rehearsal uses 'CN=Keyrite Demo Root CA, O=Keyrite'): give --param subject=… , set it on the Parameters page, or put it under parameters in the answers file.");
    const rehearsal = describeParameters(root, {}, policy, { demo: true });
    expect(rehearsal.ok).toBe(true);
    expect(field(rehearsal, 'subject')).toMatchObject({ value: 'CN=Keyrite Demo Root CA, O=Keyrite', source: 'demo' });
    // A value typed in a rehearsal wins over the demo name.
    expect(withDemoValues(root, { subject: SUBJECT }).subject).toBe(SUBJECT);
  });

  it('every value shown is marked with where it came from, and the values are those checkParameters resolves', () => {
    const form = describeParameters(root, { subject: SUBJECT, threshold: '2' }, policy);
    expect(form.ok).toBe(true);
    expect(field(form, 'keyType')).toMatchObject({ value: 'ec-p384', source: 'default' });
    expect(field(form, 'threshold')).toMatchObject({ value: 2, source: 'given' });
    expect(form.values).toEqual(checkParameters(root, { subject: SUBJECT, threshold: '2' }, policy).values);
    // 2 of 5 is allowed but not a majority: a warning, shown and never blocking.
    expect(form.warnings.join(' ')).toMatch(/not a majority/);
  });

  it('key type: only the types the policy allows for the purpose are offered; a forbidden one is refused on its field', () => {
    const form = describeParameters(root, { subject: SUBJECT, keyType: 'rsa-2048' }, policy);
    const kt = field(form, 'keyType');
    expect(kt.options).toEqual(['rsa-3072', 'rsa-4096', 'ec-p256', 'ec-p384', 'ec-p521']);
    expect(kt.limits).toContain('root-signing');
    expect(kt.problems.map((p) => p.code)).toEqual(['POLICY_VIOLATION']);
    expect(kt.problems[0].message).toMatch(/3072/);
    expect(form.ok).toBe(false);
  });

  it('threshold above the count is refused on the threshold field, whose limits name the count', () => {
    const form = describeParameters(root, { subject: SUBJECT, threshold: 6, count: 5 }, policy);
    const t = field(form, 'threshold');
    expect(t).toMatchObject({ min: 2, max: 5 });
    expect(t.limits).toMatch(/^2 to 5 · script 2 to 16 · policy: at least 2, at most the share count \(5\)$/);
    expect(t.problems.map((p) => p.code)).toContain('POLICY_VIOLATION');
    expect(field(form, 'count').problems).toEqual([]);
  });

  it('validity: at most the policy maximum for the key purpose; count: at most the policy maximum', () => {
    const form = describeParameters(root, { subject: SUBJECT, days: 100000 }, policy);
    expect(field(form, 'days')).toMatchObject({ min: 1, max: policy.purposes['root-signing'].maxValidityDays });
    expect(field(form, 'days').problems[0].message).toMatch(/at most 9131 days/);
    expect(field(form, 'count')).toMatchObject({ min: 2, max: 16 });
  });

  it('subject: parsed as the certificate step parses it (RDNs shown), and a bad one is refused with the reason', () => {
    const ok = describeParameters(root, { subject: 'CN=Root + SERIALNUMBER=1, O=Example, C=NL' }, policy);
    expect(field(ok, 'subject').rdns).toEqual([[{ type: 'CN', value: 'Root' }, { type: 'SERIALNUMBER', value: '1' }], [{ type: 'O', value: 'Example' }], [{ type: 'C', value: 'NL' }]]);
    const bad = describeParameters(root, { subject: 'CN=Root, C=Netherlands' }, policy);
    expect(field(bad, 'subject').rdns).toBeNull();
    expect(field(bad, 'subject').problems[0].message).toMatch(/two-letter ISO 3166 country code/);
  });

  it('names the certificate profiles the script\'s certificate steps use (fixed by the script, shown with the parameters)', () => {
    const form = describeParameters(root, { subject: SUBJECT }, policy);
    expect(form.profiles.map((u) => u.profile)).toEqual(['root-ca', 'csr']);
    expect(form.profiles[0]).toMatchObject({ step: 'Self-signed root certificate', purpose: 'root-signing' });
    const { script: rotation } = loadScript('key-rotation');
    expect(describeParameters(rotation, {}, policy).profiles.map((u) => u.profile)).toContain('cross-cert');
  });

  it('an unknown parameter name is a page-level problem, never silently dropped', () => {
    const form = describeParameters(root, { subject: SUBJECT, colour: 'red' }, policy);
    expect(form.ok).toBe(false);
    expect(form.problems).toEqual([expect.objectContaining({ code: 'CEREMONY_PARAMETER_UNKNOWN' })]);
  });

  it('property: for any threshold and count, the form is ok exactly when checkParameters finds nothing, and an accepted value lies within the limits shown', () => {
    fc.assert(
      fc.property(fc.integer({ min: -3, max: 20 }), fc.integer({ min: -3, max: 20 }), fc.integer({ min: -10, max: 12000 }), (threshold, count, days) => {
        const given = { subject: SUBJECT, threshold, count, days };
        const form = describeParameters(root, given, policy);
        const issues = checkParameters(root, given, policy).issues;
        if (issues.length > 0) expect(form.ok).toBe(false);
        if (form.ok) {
          for (const name of ['threshold', 'count', 'days']) {
            const f = field(form, name);
            const v = f.value as number;
            expect(v).toBeGreaterThanOrEqual(f.min!);
            expect(v).toBeLessThanOrEqual(f.max!);
          }
        }
        // Every problem is on a field or listed for the page: none is lost.
        const shown = form.fields.flatMap((f) => f.problems).length + form.problems.length;
        expect(shown).toBeGreaterThanOrEqual(issues.length);
      }),
      { seed: 1616, numRuns: 300 },
    );
  });
});
