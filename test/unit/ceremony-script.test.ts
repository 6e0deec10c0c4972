import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { listScripts, loadScript, parseScript } from '../../src/core/ceremony/script';
import { resolveParameters } from '../../src/core/ceremony/parameters';
import { loadPolicy } from '../../src/core/policy';

const base = readFileSync(loadScript('root-key-generation').file, 'utf8');

const minimal = (steps: string, roles = '  - { id: admin, title: Admin, min: 1, max: 1 }\n  - { id: witness, title: Witness, min: 1, max: 2 }') => `id: t
title: Test
version: 1
description: test script
roles:
${roles}
parameters:
  keyType: { type: keyType, default: ec-p384, purpose: root-signing, description: key }
steps:
${steps}
  - { id: seal, title: Seal, say: Seal it., action: seal }
`;

describe('ceremony scripts', () => {
  it('ships five valid built-in ceremonies', () => {
    expect(listScripts().map((s) => s.id).sort()).toEqual(['backup-recovery-drill', 'key-destruction', 'key-rotation', 'root-key-generation', 'share-rotation']);
  });

  it('records the SHA-256 of the exact script bytes', () => {
    const a = parseScript(base, 'a.yaml');
    const b = parseScript(base + '\n# comment\n', 'a.yaml');
    expect(a.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(b.sha256).not.toBe(a.sha256);
  });

  it.each([
    ['bad YAML', 'id: t\ntitle: [unclosed\n', 3, '(document)', /not valid YAML/],
    ['unknown action', minimal('  - { id: a, title: A, say: Hi., action: launchMissiles }'), 11, 'steps[0].action', /Invalid option|expected one of/i],
    ['unknown role in confirm', minimal('  - { id: a, title: A, say: Hi., confirm: { auditor: 1 } }'), 11, 'steps[0].confirm.auditor', /unknown role 'auditor'/],
    ['quorum larger than the role', minimal('  - { id: a, title: A, say: Hi., confirm: { witness: 3 } }'), 11, 'steps[0].confirm.witness', /quorum of 3 is larger than role 'witness' can hold \(at most 2\)/],
    ['duplicate step id', minimal('  - { id: a, title: A, say: Hi. }\n  - { id: a, title: B, say: Hi. }'), 12, 'steps[1].id', /duplicate step id 'a'/],
    ['unknown field', minimal('  - { id: a, title: A, say: Hi., colour: red }'), 11, 'steps[0].colour', /unknown field 'colour'/],
    ['last step not seal', minimal('  - { id: a, title: A, say: Hi. }').replace(/ {2}- \{ id: seal.*\n/, ''), 11, 'steps[0].action', /last step must seal/],
    ['role min above max', minimal('  - { id: a, title: A, say: Hi. }', '  - { id: admin, title: Admin, min: 3, max: 1 }'), 6, 'roles[0].min', /at least 3 people but allows at most 1/],
  ])('refuses a malformed script: %s (file, line, field named)', (_name, text, line, field, message) => {
    try {
      parseScript(text, '/scripts/x.yaml');
      expect.unreachable('the script was accepted');
    } catch (e) {
      const err = e as { code: string; message: string; details: { file: string; line: number; field: string } };
      expect(err.code).toBe('SCRIPT_INVALID');
      expect(err.details.file).toBe('/scripts/x.yaml');
      expect(err.details.field).toBe(field);
      expect(err.details.line).toBe(line);
      expect(err.message).toMatch(message);
      expect(err.message).toContain(`/scripts/x.yaml:${line}`);
    }
  });

  it('refuses a parameter outside policy with the rule id', () => {
    const { script } = loadScript('root-key-generation');
    const policy = loadPolicy();
    // The subject has no default (a real root is named by the room); named here so each check stands alone.
    const subject = 'CN=Keyrite Test Root CA';
    expect(() => resolveParameters(script, { subject, keyType: 'rsa-1024' }, policy)).toThrow(expect.objectContaining({ code: 'POLICY_VIOLATION' }));
    expect(() => resolveParameters(script, { subject, keyType: 'rsa-2048' }, policy)).toThrow(/root|3072/i);
    expect(() => resolveParameters(script, { subject, threshold: 1 }, policy)).toThrow(expect.objectContaining({ code: 'CEREMONY_PARAMETER_INVALID' }));
    expect(() => resolveParameters(script, { subject, threshold: 6, count: 5 }, policy)).toThrow(expect.objectContaining({ code: 'POLICY_VIOLATION' }));
    expect(() => resolveParameters(script, { subject, days: 100000 }, policy)).toThrow(expect.objectContaining({ code: 'POLICY_VIOLATION' }));
    expect(() => resolveParameters(script, { subject, colour: 'red' }, policy)).toThrow(expect.objectContaining({ code: 'CEREMONY_PARAMETER_UNKNOWN' }));
    const ok = resolveParameters(script, { subject, keyType: 'rsa-3072', threshold: '2', count: 5 }, policy);
    expect(ok.values).toMatchObject({ keyType: 'rsa-3072', threshold: 2, count: 5 });
    expect(ok.warnings.join(' ')).toMatch(/majority|n\/2|more than half/i);
  });

  it('a real run must name the root: the subject has no default, and the demo name is a rehearsal value only', () => {
    const policy = loadPolicy();
    for (const id of ['root-key-generation', 'key-rotation']) {
      const { script } = loadScript(id);
      expect(script.parameters.subject.default).toBeUndefined();
      expect(String(script.parameters.subject.demo)).toMatch(/Demo/);
      const missing = (() => {
        try {
          resolveParameters(script, id === 'key-rotation' ? { oldKeyId: 'ecp384-2026-01', oldCertFile: '/dev/null' } : {}, policy);
        } catch (e) {
          return e as { code: string; details: { problems: Array<{ field: string; code: string }> } };
        }
        return null;
      })();
      expect(missing?.details.problems).toContainEqual(expect.objectContaining({ field: 'parameters.subject', code: 'CEREMONY_PARAMETER_MISSING' }));
    }
  });
});
