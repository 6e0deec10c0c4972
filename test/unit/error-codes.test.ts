import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderErrorsDoc } from '../../src/core/error-codes/doc';
import { ERROR_CODES, ERROR_DOMAINS, FIXERS, errorMeta, isErrorCode } from '../../src/core/error-codes';
import { ckrNameFromNumber, toHsmError } from '../../src/core/hsm/ckr';
import { pkcs11js } from '../../src/core/hsm/pkcs11js';

// Error codes are data (src/core/error-codes/). tsc already refuses an unknown literal passed to
// KeyriteError in core, main and cli; this file covers what tsc cannot see: codes written as plain
// strings (the renderer's own errors, IPC error objects), docs/errors.md drifting from the
// registry, and registry entries nothing raises any more.
const ROOT = path.resolve(__dirname, '../..');
const SOURCES = execFileSync('git', ['ls-files', '-co', '--exclude-standard', 'src'], { cwd: ROOT, encoding: 'utf8' })
  .split('\n')
  .filter((f) => /\.(ts|tsx)$/.test(f) && !f.startsWith('src/core/error-codes/') && existsSync(path.join(ROOT, f)));
const text = new Map(SOURCES.map((f) => [f, readFileSync(path.join(ROOT, f), 'utf8')]));

// Where a code is raised or reported: `new KeyriteError('X'`, `code: 'X'` (IPC and renderer error
// objects, the CKR table), `isKeyriteError(e, 'X')`, a default `code = 'X'`, and a code passed
// to the YAML loader (`loadYamlWithSchema(file, schema, 'ANSWERS_INVALID', …)`).
const RAISED = /(?:new KeyriteError\(\s*|\bcode:\s*|isKeyriteError\([^,()]+,\s*|\bcode(?::\s*ErrorCode)?\s*=\s*)'([A-Z][A-Z0-9_]*)'|YamlWithSchema\([^;]*?, '([A-Z]+_[A-Z0-9_]+)'/g;

function raisedCodes(): Map<string, string[]> {
  const found = new Map<string, string[]>();
  for (const [file, s] of text) {
    for (const m of s.matchAll(RAISED)) {
      const code = m[1] ?? m[2];
      found.set(code, [...(found.get(code) ?? []), file]);
    }
  }
  return found;
}

describe('error registry', () => {
  it('knows every code raised anywhere in src/ (core, main, cli, renderer)', () => {
    const raised = raisedCodes();
    expect(raised.size).toBeGreaterThan(150);
    const unknown = [...raised].filter(([code]) => !isErrorCode(code)).map(([code, files]) => `${code} (${[...new Set(files)].join(', ')})`);
    expect(unknown).toEqual([]);
  });

  it('holds no code that nothing in src/ raises any more', () => {
    const all = [...text.values()].join('\n');
    const dead = Object.keys(ERROR_CODES).filter((code) => !all.includes(`'${code}'`));
    expect(dead).toEqual([]);
  });

  it('names codes DOMAIN_REASON, each in exactly one domain, with metadata a person can act on', () => {
    const seen = new Set<string>();
    for (const d of ERROR_DOMAINS) {
      for (const [code, meta] of Object.entries(d.codes)) {
        expect(code).toMatch(/^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$/);
        expect(seen.has(code), `${code} is in two domains`).toBe(false);
        seen.add(code);
        expect(FIXERS).toContain(meta.fixedBy);
        expect(typeof meta.retryable).toBe('boolean');
        expect(meta.summary.length, code).toBeGreaterThan(15);
        // Only an HSM failure can leave the PKCS#11 session unusable.
        if (meta.endsHsmSession) expect(code.startsWith('HSM_'), code).toBe(true);
        // A bug in Keyrite is never fixed by trying again.
        if (meta.fixedBy === 'developer') expect(meta.retryable, code).toBe(false);
      }
    }
    expect(seen.size).toBe(Object.keys(ERROR_CODES).length);
  });

  it('keeps the PKCS#11 session through a wrong PIN and a taken label, and drops it for a vanished token', () => {
    expect(errorMeta('HSM_PIN_INCORRECT').endsHsmSession).toBe(false);
    expect(errorMeta('HSM_PIN_LENGTH').endsHsmSession).toBe(false);
    expect(errorMeta('HSM_LABEL_EXISTS').endsHsmSession).toBe(false);
    expect(errorMeta('HSM_TOKEN_NOT_PRESENT').endsHsmSession).toBe(true);
    expect(errorMeta('HSM_DEVICE_ERROR').endsHsmSession).toBe(true);
    expect(errorMeta('INTERNAL_UNREACHABLE').fixedBy).toBe('developer');
    // A code from outside the registry (a plain string over IPC) is treated as a bug.
    expect(errorMeta('NOT_A_CODE')).toMatchObject({ fixedBy: 'developer', retryable: false, endsHsmSession: false });
  });

  it('docs/errors.md is generated from the registry and up to date (node build/errors-doc.mjs)', () => {
    const doc = readFileSync(path.join(ROOT, 'docs/errors.md'), 'utf8');
    expect(doc).toBe(renderErrorsDoc());
    for (const code of Object.keys(ERROR_CODES)) expect(doc).toContain(`| \`${code}\` |`);
  });
});

describe('CKR names come from pkcs11js', () => {
  it('names every CKR constant pkcs11js declares', () => {
    const declared = Object.entries(pkcs11js).filter(([k, v]) => k.startsWith('CKR_') && typeof v === 'number') as Array<[string, number]>;
    expect(declared.length).toBeGreaterThan(80);
    for (const [name, value] of declared) expect(ckrNameFromNumber(value)).toBe(name);
  });

  it('names an unknown vendor value by its number', () => {
    expect(ckrNameFromNumber(0x80000123)).toBe('CKR_0x80000123');
  });

  it('maps a numeric Pkcs11Error code to its table entry', () => {
    const e = Object.assign(new Error('failed'), { code: pkcs11js.CKR_PIN_LOCKED });
    expect(toHsmError(e, { operation: 'log in', tokenLabel: 't' })).toMatchObject({ code: 'HSM_PIN_LOCKED', details: { ckr: 'CKR_PIN_LOCKED' } });
  });
});
