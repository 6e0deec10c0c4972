import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { resolveResource } from '../config/resources';
import { parseYamlWithSchema } from '../config/yaml-schema';
import { KeyriteError } from '../errors';
import { INPUT_LIMITS, readInputText } from '../fs/input-file';
import type { ActionName, RoleSpec, ScriptSummary, StatementField } from './types';
import { optionIssues } from './validate/options';
import { orderIssues } from './validate/order';

export const ACTIONS = [
  'preflight', 'checkIn', 'hsmLogin', 'generateKey', 'selfTest', 'createBackup', 'handOutShares',
  'collectShares', 'restoreBackup', 'proveIdentity', 'exportPublicKey', 'issueRootCert', 'issueCsr',
  'issueCrossCert', 'destroyKey', 'recordStatement', 'resplitShares', 'updateKeyStatus', 'seal',
] as const satisfies readonly ActionName[];

const slug = z.string().regex(/^[a-z][a-z0-9-]*$/, 'use lower-case letters, digits and dashes, starting with a letter');

const roleSchema = z.strictObject({
  id: slug,
  title: z.string().min(1),
  min: z.number().int().min(0),
  max: z.number().int().min(1),
  description: z.string().optional(),
});

const PARAM_TYPES = ['keyType', 'integer', 'string', 'boolean', 'subject', 'keyId', 'tokenLabel', 'file'] as const;
export type ParamType = (typeof PARAM_TYPES)[number];

const paramSchema = z.strictObject({
  type: z.enum(PARAM_TYPES),
  description: z.string().min(1),
  default: z.union([z.string(), z.number(), z.boolean()]).optional(),
  /**
   * The value a rehearsal (--demo, the desktop's rehearsal) uses when none is given. A real run
   * never takes it: a parameter with a demo value and no default must be given (e.g. the root's
   * subject), so a real root is never silently named after the demo.
   */
  demo: z.union([z.string(), z.number(), z.boolean()]).optional(),
  required: z.boolean().optional(),
  min: z.number().int().optional(),
  max: z.number().int().optional(),
  /** For keyType parameters: the policy purpose the key is checked against. */
  purpose: z.enum(['root-signing', 'intermediate-signing', 'transcript-signing', 'kek']).optional(),
});

const fieldSchema = z.strictObject({
  id: slug,
  label: z.string().min(1),
  kind: z.enum(['text', 'serial', 'sha256', 'person', 'bags']),
  required: z.boolean().default(true),
});

const stepSchema = z.strictObject({
  id: slug,
  title: z.string().min(1),
  say: z.string().min(1),
  confirm: z.record(z.string(), z.number().int().min(1, 'a quorum is at least 1 person')).optional(),
  action: z.enum(ACTIONS).optional(),
  /** Action options, e.g. which parameter names the key or which status to set. */
  with: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
  /** recordStatement: the typed facts to capture. */
  fields: z.array(fieldSchema).optional(),
  /** Collect the sign-offs before the action runs (e.g. destruction: the quorum approves first). */
  signoffFirst: z.boolean().optional(),
  /** A step that runs only when the named boolean parameter is true. */
  when: z.string().optional(),
});

export const MAX_SCRIPT_STEPS = 200;

export const scriptSchema = z
  .strictObject({
    id: slug,
    title: z.string().min(1),
    version: z.union([z.string(), z.number()]).transform(String),
    description: z.string().min(1),
    roles: z.array(roleSchema).min(1),
    parameters: z.record(z.string().regex(/^[a-z][a-zA-Z0-9]*$/, 'parameter names are camelCase'), paramSchema).default({}),
    // A ceremony people sit through has tens of steps; the cap turns a runaway file into a clear error.
    steps: z.array(stepSchema).min(1).max(MAX_SCRIPT_STEPS, `a ceremony script has at most ${MAX_SCRIPT_STEPS} steps; split the ceremony into several scripts`),
  })
  .superRefine((s, ctx) => {
    const roles = new Map(s.roles.map((r) => [r.id, r]));
    s.roles.forEach((r, i) => {
      if (r.min > r.max) ctx.addIssue({ code: 'custom', path: ['roles', i, 'min'], message: `role '${r.id}' needs at least ${r.min} people but allows at most ${r.max}` });
    });
    const seenRoles = new Set<string>();
    s.roles.forEach((r, i) => {
      if (seenRoles.has(r.id)) ctx.addIssue({ code: 'custom', path: ['roles', i, 'id'], message: `duplicate role id '${r.id}'` });
      seenRoles.add(r.id);
    });
    const seen = new Set<string>();
    s.steps.forEach((step, i) => {
      if (seen.has(step.id)) ctx.addIssue({ code: 'custom', path: ['steps', i, 'id'], message: `duplicate step id '${step.id}'` });
      seen.add(step.id);
      for (const [role, n] of Object.entries(step.confirm ?? {})) {
        const spec = roles.get(role);
        if (!spec) {
          ctx.addIssue({ code: 'custom', path: ['steps', i, 'confirm', role], message: `unknown role '${role}' (roles: ${[...roles.keys()].join(', ')})` });
        } else if (n > spec.max) {
          ctx.addIssue({ code: 'custom', path: ['steps', i, 'confirm', role], message: `quorum of ${n} is larger than role '${role}' can hold (at most ${spec.max})` });
        }
      }
      if (step.action === 'recordStatement' && (!step.fields || step.fields.length === 0)) {
        ctx.addIssue({ code: 'custom', path: ['steps', i, 'fields'], message: 'a recordStatement step lists the fields to record' });
      }
      (step.fields ?? []).forEach((f, j) => {
        // Bag serials are asked per share handed out: there must be shares by then.
        if (f.kind === 'bags' && !s.steps.slice(0, i).some((st) => st.action === 'handOutShares')) {
          ctx.addIssue({ code: 'custom', path: ['steps', i, 'fields', j, 'kind'], message: `field '${f.id}' records the bags shares are sealed in, but no handOutShares step comes before step '${step.id}'` });
        }
      });
      if ((step.fields ?? []).filter((f) => f.kind === 'bags').length > 1) {
        ctx.addIssue({ code: 'custom', path: ['steps', i, 'fields'], message: 'a step records the share bags once (one bags field)' });
      }
      if (step.when && !(step.when in s.parameters)) {
        ctx.addIssue({ code: 'custom', path: ['steps', i, 'when'], message: `unknown parameter '${step.when}'` });
      } else if (step.when && s.parameters[step.when].type !== 'boolean') {
        // Only true/false can switch a step; anything else would skip it silently.
        ctx.addIssue({ code: 'custom', path: ['steps', i, 'when'], message: `when: names parameter '${step.when}' of type ${s.parameters[step.when].type}; a step can only depend on a boolean parameter` });
      }
      for (const issue of optionIssues(step, i)) ctx.addIssue({ code: 'custom', path: issue.path, message: issue.message });
    });
    const last = s.steps[s.steps.length - 1];
    if (last.action !== 'seal') ctx.addIssue({ code: 'custom', path: ['steps', s.steps.length - 1, 'action'], message: 'the last step must seal the transcript (action: seal)' });
    if (s.steps.filter((st) => st.action === 'seal').length > 1) ctx.addIssue({ code: 'custom', path: ['steps'], message: 'only one step may seal the transcript' });
    for (const [name, p] of Object.entries(s.parameters)) {
      if (p.min !== undefined && p.max !== undefined && p.min > p.max) ctx.addIssue({ code: 'custom', path: ['parameters', name, 'min'], message: `min ${p.min} is above max ${p.max}` });
      if (p.type === 'integer' && typeof p.default === 'number') {
        if ((p.min !== undefined && p.default < p.min) || (p.max !== undefined && p.default > p.max)) {
          ctx.addIssue({ code: 'custom', path: ['parameters', name, 'default'], message: `default ${p.default} is outside ${p.min ?? '-∞'}..${p.max ?? '∞'}` });
        }
      }
    }
    // Last, so a malformed step is named before the order problems it causes.
    for (const issue of orderIssues(s)) ctx.addIssue({ code: 'custom', path: issue.path, message: issue.message });
  });

export type CeremonyScript = z.infer<typeof scriptSchema>;
export type ScriptStep = CeremonyScript['steps'][number];

export interface LoadedScript {
  script: CeremonyScript;
  file: string;
  sha256: string;
  /** The exact text, so later checks (parameter values) can name the line they concern. */
  text: string;
}

export function parseScript(text: string, file: string): LoadedScript {
  const script = parseYamlWithSchema(text, file, scriptSchema, 'SCRIPT_INVALID', 'ceremony script', { remember: true });
  return { script, file, sha256: createHash('sha256').update(text).digest('hex'), text };
}

export function ceremoniesDir(): string {
  return resolveResource('ceremonies');
}

/** A script by built-in id (`root-key-generation`) or by path to a YAML file. */
export function loadScript(idOrPath: string): LoadedScript {
  const looksLikePath = idOrPath.includes('/') || idOrPath.endsWith('.yaml') || idOrPath.endsWith('.yml');
  const file = looksLikePath ? path.resolve(idOrPath) : path.join(ceremoniesDir(), `${idOrPath}.yaml`);
  if (!looksLikePath && !existsSync(file)) {
    const known = listScripts().map((s) => s.id).join(', ');
    throw new KeyriteError('SCRIPT_NOT_FOUND', `There is no built-in ceremony '${idOrPath}'. Built-in ceremonies: ${known}.`, { details: { script: idOrPath } });
  }
  return parseScript(readScriptText(file), file);
}

/** A script file's text, after the checks every named input gets (SCRIPT_NOT_FOUND, SCRIPT_IS_FOLDER, …). */
export function readScriptText(file: string): string {
  return readInputText(file, { what: 'ceremony script', domain: 'SCRIPT', maxBytes: INPUT_LIMITS.script });
}

export function listScripts(): ScriptSummary[] {
  const dir = ceremoniesDir();
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml') && !f.startsWith('demo-'))
    .sort()
    .map((f) => {
      const { script, file, sha256 } = parseScript(readFileSync(path.join(dir, f), 'utf8'), path.join(dir, f));
      return { id: script.id, title: script.title, version: script.version, description: script.description.trim(), file, sha256 };
    });
}

export function roleSpecs(script: CeremonyScript): RoleSpec[] {
  return script.roles.map((r) => ({ id: r.id, title: r.title, min: r.min, max: r.max }));
}

export function statementFields(step: ScriptStep): StatementField[] {
  return (step.fields ?? []).map((f) => ({ id: f.id, label: f.label, kind: f.kind, required: f.required }));
}
