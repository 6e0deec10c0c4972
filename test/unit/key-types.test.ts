import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { KEY_TYPES, parseKeyType } from '../../src/core/hsm/key-spec';
import { describeKeyType, formatKeyId, isKeyId, keyIdTag, keyTypeName, readKeyType } from '../../src/core/keys/key-types';

const HOME = 'src/core/keys/key-types.ts';

/** Ways a module restates what src/core/keys/key-types.ts owns: the spelling patterns, the printed forms, the key-id shape. */
const RESTATEMENTS: Array<{ what: string; re: RegExp }> = [
  { what: 'a key-type spelling pattern', re: /rsa-\?\(|aes-\?\(|p-\?\|secp\|prime/ },
  { what: 'a key type printed by hand', re: /`(?:ec-p|rsa-|aes-)\$\{/ },
  { what: 'a key-id pattern', re: /\\d\{4\}-\\d\{2,|\(\?:rsa\|ecp\)|\{0,127\}\$\// },
];

function restatements(text: string): string[] {
  return RESTATEMENTS.filter((r) => r.re.test(text)).map((r) => r.what);
}

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return sources(p);
    return /\.tsx?$/.test(e.name) ? [p] : [];
  });
}

describe('one home for key types and key ids (src/core/keys/key-types.ts)', () => {
  it.each([
    ['rsa-3072', { algorithm: 'rsa', bits: 3072 }],
    ['RSA3072', { algorithm: 'rsa', bits: 3072 }],
    ['rsa-1024', { algorithm: 'rsa', bits: 1024 }],
    ['ec-p384', { algorithm: 'ec', curve: 'P-384', bits: 384 }],
    ['P-256', { algorithm: 'ec', curve: 'P-256', bits: 256 }],
    ['secp384r1', { algorithm: 'ec', curve: 'P-384', bits: 384 }],
    ['prime256v1', { algorithm: 'ec', curve: 'P-256', bits: 256 }],
    [' ec-p192 ', { algorithm: 'ec', curve: 'P-192', bits: 192 }],
    ['aes-256', { algorithm: 'aes', bits: 256 }],
    ['ed25519', undefined],
    ['rsa', undefined],
    ['', undefined],
  ])('reads %j', (input, expected) => {
    expect(readKeyType(input)).toEqual(expected);
  });

  it.each(KEY_TYPES)('%s: written, described, tagged and read back the same way everywhere', (type) => {
    const spec = parseKeyType(type);
    expect(keyTypeName(spec)).toBe(type);
    expect(keyTypeName(readKeyType(type)!)).toBe(type);
    expect(describeKeyType(spec)).toBe(spec.algorithm === 'rsa' ? `RSA-${spec.bits}` : `EC ${spec.curve}`);
    const id = formatKeyId(keyIdTag(spec), 2026, 1);
    expect(id).toBe(`${type.replace('-', '')}-2026-01`);
    expect(isKeyId(id)).toBe(true);
  });

  it.each(['ecp384-2026-1', 'ecp384-26-01', 'aes256-2026-01', 'ECP384-2026-01', 'ecp384-2026-01 ', 'x'])('%j is not a key id', (s) => {
    expect(isKeyId(s)).toBe(false);
  });

  it('key-id numbers past 99 keep counting', () => {
    expect(formatKeyId('rsa4096', 2030, 123)).toBe('rsa4096-2030-123');
    expect(isKeyId('rsa4096-2030-123')).toBe(true);
  });

  it('the restatement scan recognises each way of restating them', () => {
    expect(restatements('const RSA = /^rsa-?(\\d+)$/;')).toEqual(['a key-type spelling pattern']);
    expect(restatements('return `ec-p${bits}`;')).toEqual(['a key type printed by hand']);
    expect(restatements('if (!/^[a-z0-9]+-\\d{4}-\\d{2,}$/.test(s))')).toEqual(['a key-id pattern']);
    expect(restatements('/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/')).toEqual(['a key-id pattern']);
    // A date is not a key id.
    expect(restatements('/^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}/')).toEqual([]);
    expect(restatements('parseKeyType(keyTypeName(info))')).toEqual([]);
  });

  it('no module but the home restates a key-type or key-id pattern', () => {
    const found = sources('src')
      .filter((f) => f.split(path.sep).join('/') !== HOME)
      .flatMap((f) => restatements(readFileSync(f, 'utf8')).map((what) => `${f}: ${what}`));
    expect(found).toEqual([]);
    // The home itself must still hold what the scan looks for, or the scan has gone stale.
    expect(restatements(readFileSync(HOME, 'utf8')).sort()).toEqual(RESTATEMENTS.map((r) => r.what).sort());
  });
});
