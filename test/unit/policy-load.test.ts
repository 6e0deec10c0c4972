import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveResource } from '../../src/core/config/resources';
import { loadPolicy } from '../../src/core/policy';

const defaultFile = resolveResource('policies/default.yaml');
const defaultText = readFileSync(defaultFile, 'utf8');
const dir = mkdtempSync(path.join(os.tmpdir(), 'keyrite-policy-'));
let n = 0;

/** Write a variant of the default policy and return its path and the 1-based line of `marker` in it. */
function variant(from: string, to: string, marker = to): { file: string; line: number } {
  expect(defaultText).toContain(from);
  const text = defaultText.replace(from, to);
  const file = path.join(dir, `policy-${++n}.yaml`);
  writeFileSync(file, text);
  const line = text.split('\n').findIndex((l) => l.includes(marker.split('\n')[0])) + 1;
  return { file, line };
}

function loadError(file: string): { code: string; message: string; details: Record<string, unknown> } {
  try {
    loadPolicy(file);
  } catch (e) {
    return e as { code: string; message: string; details: Record<string, unknown> };
  }
  throw new Error('expected loadPolicy to throw');
}

describe('loadPolicy', () => {
  it('loads the bundled default policy with its source and hash', () => {
    const p = loadPolicy();
    expect(p.source.file).toBe(defaultFile);
    expect(p.source.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(p.keyTypes.rsa.minSize).toBe(2048);
    expect(p.purposes['root-signing'].maxValidityDays).toBe(9131);
    expect(p.purposes.kek.usage).toEqual(['wrap', 'unwrap']);
    expect(loadPolicy(defaultFile)).toEqual(p);
  });

  it.each([
    ['a size given as text', 'minSize: 2048 ', 'minSize: big  ', 'keyTypes.rsa.minSize'],
    ['a negative rotation period', 'rotationDays: 365          # seed', 'rotationDays: -5          # seed', 'purposes.transcript-signing.rotationDays'],
    ['an unknown hash', 'allowedHashes: [SHA-256,', 'allowedHashes: [SHA-257,', 'signatures.allowedHashes[0]'],
    ['a misspelt field', 'recommendMajority: true', 'recomendMajority: true', 'shares.recomendMajority'],
    ['an unknown usage flag', 'usage: [wrap, unwrap]', 'usage: [wrap, teleport]', 'purposes.kek.usage[1]'],
    ['a threshold minimum below 2', 'minThreshold: 2 ', 'minThreshold: 1 ', 'shares.minThreshold'],
  ])('refuses %s with POLICY_INVALID naming file, line and field', (_what, from, to, field) => {
    const { file, line } = variant(from, to);
    const err = loadError(file);
    expect(err.code).toBe('POLICY_INVALID');
    expect(err.details).toMatchObject({ file, line, field });
    expect(err.message).toContain(`The key policy ${file}:${line} is invalid at ${field}: `);
  });

  it('names the parent line for a missing required field', () => {
    const { file } = variant('    maxSize: 4096            # key.rsa.max-size\n', '');
    const err = loadError(file);
    expect(err.code).toBe('POLICY_INVALID');
    expect(err.details.field).toBe('keyTypes.rsa.maxSize');
    const text = readFileSync(file, 'utf8').split('\n');
    expect(text[(err.details.line as number) - 1]).toMatch(/^\s+rsa:/);
  });

  it('refuses broken YAML with the line of the syntax error', () => {
    const { file, line } = variant('  ec:\n', '  ec: [unclosed\n', '  ec: [unclosed');
    const err = loadError(file);
    expect(err.code).toBe('POLICY_INVALID');
    expect(err.message).toMatch(new RegExp(`^The key policy ${file}:\\d+ is invalid at \\(document\\): not valid YAML`));
    expect(err.details.line as number).toBeGreaterThanOrEqual(line);
  });

  it('refuses a duplicate key', () => {
    const { file } = variant('  rsa:\n', '  rsa:\n    minSize: 1\n', '  rsa:');
    expect(loadError(file).code).toBe('POLICY_INVALID');
  });

  it('refuses an empty file', () => {
    const file = path.join(dir, 'empty.yaml');
    writeFileSync(file, '');
    const err = loadError(file);
    expect(err).toMatchObject({ code: 'POLICY_INVALID', details: { line: 1, field: '(document)' } });
  });

  it.each([
    ['min size above max', 'minSize: 2048 ', 'minSize: 8192 ', 'keyTypes.rsa.minSize', /minimum RSA size 8192 is above the maximum 4096/],
    ['recommended below minimum', 'recommendedMinSize: 3072', 'recommendedMinSize: 1024', 'keyTypes.rsa.recommendedMinSize', /recommended RSA size 1024 is below the minimum 2048/],
    ['a recommended curve that is not allowed', 'recommendedCurves: [P-384, P-521]', 'recommendedCurves: [P-384, P-192]', 'keyTypes.ec.recommendedCurves[1]', /P-192 is not an allowed curve/],
    ['a hash both allowed and forbidden', 'forbiddenHashes: [SHA-1, MD5]', 'forbiddenHashes: [SHA-1, MD5, SHA-256]', 'signatures.allowedHashes[0]', /SHA-256 is both allowed and forbidden/],
    ['a CA minimum above the maximum', '    rsaMinSize: 3072           # key.rsa.root-min-size (CA keys)\n    usage: [sign, verify]\n    rotationDays: 3652', '    rsaMinSize: 8192           # key.rsa.root-min-size (CA keys)\n    usage: [sign, verify]\n    rotationDays: 3652', 'purposes.root-signing.rsaMinSize', /8192 for root-signing keys is above the maximum/],
    ['threshold minimum above maximum count', 'maxCount: 16 ', 'maxCount: 1  ', 'shares.minThreshold', /minimum threshold 2 is above the maximum share count 1/],
  ])('refuses a policy with %s: POLICY_CONTRADICTION', (_what, from, to, field, pattern) => {
    const { file } = variant(from, to);
    const err = loadError(file);
    expect(err.code).toBe('POLICY_CONTRADICTION');
    expect(err.details).toMatchObject({ file, field });
    expect(err.message).toMatch(pattern);
    expect(err.message).toContain(`${file}:${err.details.line as number} contradicts itself at ${field}: `);
    const lines = readFileSync(file, 'utf8').split('\n');
    expect(lines[(err.details.line as number) - 1]).toContain(field.split('.').at(-1)!.replace(/\[\d+\]$/, '') + ':');
  });

  it('reports a missing file as POLICY_MISSING', () => {
    expect(loadError(path.join(dir, 'nope.yaml'))).toMatchObject({ code: 'POLICY_MISSING' });
  });
});
