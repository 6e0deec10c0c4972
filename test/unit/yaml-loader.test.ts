import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadAnswers } from '../../src/core/ceremony/answers';
import { loadScript } from '../../src/core/ceremony/script';
import { resolveResource } from '../../src/core/config/resources';
import { loadPolicy } from '../../src/core/policy';
import { loadCertProfile } from '../../src/core/x509/profile';

/**
 * Every YAML file Keyrite reads goes through one loader (src/core/config/yaml-schema.ts), so a
 * malformed file of any kind names its file, its line and the field path in the same words.
 */
const KINDS = [
  {
    kind: 'ceremony script', resource: 'ceremonies/backup-recovery-drill.yaml', code: 'SCRIPT_INVALID', load: (f: string) => loadScript(f),
    nested: { from: '{ id: admin, title: Ceremony administrator, min: 1,', to: '{ id: admin, title: Ceremony administrator, min: one,', field: 'roles[0].min' },
  },
  {
    kind: 'answers file', resource: 'ceremonies/demo-participants.yaml', code: 'ANSWERS_INVALID', load: (f: string) => loadAnswers(f),
    nested: { from: 'name: Otto Officer, roles: [officer]', to: 'name: Otto Officer, roles: officer', field: 'participants[1].roles' },
  },
  {
    kind: 'key policy', resource: 'policies/default.yaml', code: 'POLICY_INVALID', load: (f: string) => loadPolicy(f),
    nested: { from: 'minSize: 2048 ', to: 'minSize: big  ', field: 'keyTypes.rsa.minSize' },
  },
  {
    kind: 'certificate profile', resource: 'profiles/root-ca.yaml', code: 'X509_PROFILE_INVALID', load: (f: string) => loadCertProfile(f),
    nested: { from: 'usages: [keyCertSign, cRLSign]', to: 'usages: [keyCertSign, crlSign]', field: 'extensions.keyUsage.usages[1]' },
  },
] as const;

type Kind = (typeof KINDS)[number];

/** Faults every kind can suffer, each as (text) → text, the field it names and the marker of its line. */
const FAULTS = [
  { fault: 'a wrong value in a nested field', edit: (t: string, k: Kind) => replaceOnce(t, k.nested.from, k.nested.to), field: (k: Kind) => k.nested.field, marker: (k: Kind) => k.nested.to, message: '' },
  { fault: 'an unknown top-level field', edit: (t: string) => `${t}\ncolour: blue\n`, field: 'colour', marker: 'colour: blue', message: "unknown field 'colour'" },
  { fault: 'a duplicate key', edit: (t: string) => `${t}\n${firstKey(t)}: again\n`, field: '(document)', marker: null, message: 'not valid YAML' },
  { fault: 'an unclosed flow sequence', edit: (t: string) => `${t}\nbroken: [unclosed\n`, field: '(document)', marker: null, message: 'not valid YAML' },
  { fault: 'a list where a map belongs', edit: () => '- just\n- a list\n', field: '(document)', marker: '- just', message: 'expected object' },
] as const;

const dir = mkdtempSync(path.join(os.tmpdir(), 'keyrite-yaml-'));
let n = 0;

function replaceOnce(text: string, from: string, to: string): string {
  expect(text.split(from)).toHaveLength(2);
  return text.replace(from, to);
}

function firstKey(text: string): string {
  return /^([A-Za-z]+):/m.exec(text)![1];
}

function thrown(fn: () => unknown): { code: string; message: string; details: { file: string; line: number; field: string } } {
  try {
    fn();
  } catch (e) {
    return e as never;
  }
  throw new Error('expected the loader to refuse the file');
}

describe('one YAML-with-schema loader for scripts, answers, policies and profiles', () => {
  const cases = KINDS.flatMap((k) => FAULTS.map((f) => ({ k, ...f, kind: k.kind })));
  it.each(cases)('$kind with $fault: naming file, line and field path', ({ k, edit, field, marker, message }) => {
    const original = readFileSync(resolveResource(k.resource), 'utf8');
    const text = edit(original, k);
    const file = path.join(dir, `${++n}-${path.basename(k.resource)}`);
    writeFileSync(file, text);
    const err = thrown(() => k.load(file));
    expect(err.code).toBe(k.code);
    expect(err.details.file).toBe(file);
    expect(err.details.field).toBe(typeof field === 'function' ? field(k) : field);
    const lines = text.split('\n');
    const mark = typeof marker === 'function' ? marker(k) : marker;
    if (mark) expect(lines[err.details.line - 1]).toContain(mark);
    else expect(err.details.line).toBeGreaterThan(original.split('\n').length - 1);
    expect(err.message).toContain(`The ${k.kind} ${file}:${err.details.line} is invalid at ${err.details.field}: `);
    expect(err.message).toContain(message);
  });
});
