import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadScript } from '../../src/core/ceremony/script';
import { resolveResource } from '../../src/core/config/resources';
import { loadPolicy } from '../../src/core/policy';
import { loadCertProfile } from '../../src/core/x509/profile';

/**
 * Scripts, policies and certificate profiles are parsed once per process and text
 * (src/core/config/yaml-schema.ts remembers valid documents by file + SHA-256 of the text). What
 * must not change: an edited file is read and validated again, each caller gets its own copy, and
 * the file is still read (and hashed) every time.
 */
const dir = mkdtempSync(path.join(os.tmpdir(), 'keyrite-yaml-memo-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

function copyOf(resource: string): { file: string; text: string } {
  const text = readFileSync(resolveResource(resource), 'utf8');
  const file = path.join(dir, `${++n}-${path.basename(resource)}`);
  writeFileSync(file, text);
  return { file, text };
}

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    return (e as { code: string }).code;
  }
  return 'no error';
}

describe('parsed YAML is remembered by file and text, never by file alone', () => {
  it('a ceremony script edited between loads is re-read, re-hashed and re-validated', () => {
    const { file, text } = copyOf('ceremonies/root-key-generation.yaml');
    const first = loadScript(file);
    expect(loadScript(file).sha256).toBe(first.sha256);

    const retitled = text.replace(/^title: .*$/m, 'title: Edited between two loads');
    writeFileSync(file, retitled);
    const second = loadScript(file);
    expect(second.script.title).toBe('Edited between two loads');
    expect(second.text).toBe(retitled);
    expect(second.sha256).not.toBe(first.sha256);

    // Invalid now: refused again, not served from what was valid before.
    writeFileSync(file, text.replace(/^title: .*$/m, 'title: ""'));
    expect(codeOf(() => loadScript(file))).toBe('SCRIPT_INVALID');
    writeFileSync(file, `${text}\ncolour: blue\n`);
    expect(codeOf(() => loadScript(file))).toBe('SCRIPT_INVALID');

    // Back to the first text: valid again, same digest as the first load.
    writeFileSync(file, text);
    expect(loadScript(file).sha256).toBe(first.sha256);
    rmSync(file);
    expect(codeOf(() => loadScript(file))).toBe('SCRIPT_NOT_FOUND');
  });

  it('a key policy edited into a contradiction is refused on the next load', () => {
    const { file, text } = copyOf('policies/default.yaml');
    expect(loadPolicy(file).source.file).toBe(file);
    const contradicting = text.replace(/minSize: 2048 /, 'minSize: 9000 ');
    expect(contradicting).not.toBe(text);
    writeFileSync(file, contradicting);
    expect(codeOf(() => loadPolicy(file))).toBe('POLICY_CONTRADICTION');
    writeFileSync(file, text.replace(/minSize: 2048 /, 'minSize: big '));
    expect(codeOf(() => loadPolicy(file))).toBe('POLICY_INVALID');
    writeFileSync(file, text);
    expect(loadPolicy(file).keyTypes.rsa.minSize).toBe(2048);
  });

  it('the same text under another file name is its own entry (messages and sources name the file)', () => {
    const a = copyOf('policies/default.yaml');
    const b = copyOf('policies/default.yaml');
    expect(loadPolicy(a.file).source).toEqual({ file: a.file, sha256: loadPolicy(b.file).source.sha256 });
    expect(loadPolicy(b.file).source.file).toBe(b.file);
  });
});

describe('what a caller changes in a loaded document never reaches the next caller', () => {
  it('a ceremony script', () => {
    const { file } = copyOf('ceremonies/root-key-generation.yaml');
    const first = loadScript(file);
    const pristine = structuredClone(first.script);
    first.script.title = 'mutated';
    first.script.steps.pop();
    first.script.steps[0].say = 'mutated';
    first.script.roles[0].max = 99;
    (first.script.parameters as Record<string, unknown>).extra = { type: 'string' };
    const second = loadScript(file);
    expect(second.script).toEqual(pristine);
    expect(second.script).not.toBe(first.script);
  });

  it('a key policy', () => {
    const { file } = copyOf('policies/default.yaml');
    const first = loadPolicy(file);
    const pristine = structuredClone(first);
    first.keyTypes.rsa.minSize = 512;
    first.keyTypes.ec.allowedCurves.push('P-1');
    first.signatures.forbiddenHashes.length = 0;
    expect(loadPolicy(file)).toEqual(pristine);
  });

  it('a certificate profile, also through the overrides a ceremony applies', () => {
    const { file } = copyOf('profiles/root-ca.yaml');
    const first = loadCertProfile(file, { days: 1 });
    expect(first.days).toBe(1);
    const pristine = loadCertProfile(file);
    const copy = structuredClone(pristine);
    first.extensions!.keyUsage!.usages.push('digitalSignature');
    pristine.days = 7;
    expect(loadCertProfile(file)).toEqual(copy);
  });
});
