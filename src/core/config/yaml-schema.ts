import { createHash } from 'node:crypto';
import { isMap, isSeq, LineCounter, parseDocument, type Node } from 'yaml';
import type { z } from 'zod';
import { KeyriteError, type ErrorCode } from '../errors';
import { readInputText, type InputDomain } from '../fs/input-file';

export interface YamlProblem {
  file: string;
  line: number | null;
  field: string;
  message: string;
}

/**
 * The one YAML loader: ceremony scripts, answers files, HSM module profiles, key policies and
 * certificate profiles all come through here. Parse a YAML document and validate it with a zod
 * schema. Every failure names the file, the line and the field path ("steps[3].confirm.witness"),
 * so a person can fix the file by hand; every problem is listed at once.
 *
 * A ceremony reads the same script, policy and profiles several times (start, every resume, each
 * certificate step), and parsing plus validating was its largest CPU cost after the HSM. So with
 * `remember: true` (documents that hold no secrets: scripts, policies, certificate profiles, the
 * built-in demo answers with the demo token's public PINs; never an operator's answers file, which
 * may carry PINs and share words) a valid document is remembered per
 * schema, keyed by its file and the SHA-256 of its text: the
 * caller still reads the file each time, an edited file has another key and is parsed and
 * validated again, and every caller gets its own deep copy (what one caller changes never reaches
 * the next). Failures are not remembered: they are rare and their errors are built fresh.
 */
export function parseYamlWithSchema<S extends z.ZodType>(text: string, file: string, schema: S, errorCode: ErrorCode, what: string, options: { remember?: boolean } = {}): z.infer<S> {
  if (!options.remember) return parseAndValidate(text, file, schema, errorCode, what);
  const key = `${file}\0${createHash('sha256').update(text).digest('hex')}`;
  const bySchema = parsedCache.get(schema);
  const cached = bySchema?.get(key);
  if (cached !== undefined) {
    bySchema!.delete(key); // most recently used last, so the limit drops the oldest
    bySchema!.set(key, cached);
    return structuredClone(cached) as z.infer<S>;
  }
  const parsed = parseAndValidate(text, file, schema, errorCode, what);
  remember(schema, key, structuredClone(parsed));
  return parsed;
}

/** Valid documents by schema, then by file + text digest; oldest dropped beyond the limit. */
const parsedCache = new WeakMap<z.ZodType, Map<string, unknown>>();
/** Per schema: enough for every shipped script and profile, small enough for a long-running app. */
const PARSED_CACHE_LIMIT = 64;

function remember(schema: z.ZodType, key: string, value: unknown): void {
  let bySchema = parsedCache.get(schema);
  if (!bySchema) parsedCache.set(schema, (bySchema = new Map()));
  bySchema.set(key, value);
  if (bySchema.size > PARSED_CACHE_LIMIT) bySchema.delete(bySchema.keys().next().value as string);
}

function parseAndValidate<S extends z.ZodType>(text: string, file: string, schema: S, errorCode: ErrorCode, what: string): z.infer<S> {
  if (text.length > YAML_LIMITS.maxChars) {
    throw tooComplex(what, file, `it is ${text.length} characters long, more than the ${YAML_LIMITS.maxChars} Keyrite reads`);
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const e = doc.errors[0];
    const line = e.linePos?.[0]?.line ?? (e.pos ? lineCounter.linePos(e.pos[0]).line : null);
    throw yamlFileError(errorCode, what, { file, line, field: '(document)', message: `not valid YAML: ${e.message.split('\n')[0]}` });
  }
  let value: unknown;
  try {
    // Aliases expand on toJS: a few lines of `&a [*b, *b, …]` can become gigabytes (a "billion laughs").
    value = doc.toJS({ maxAliasCount: YAML_LIMITS.maxAliasCount });
  } catch (e) {
    if (e instanceof ReferenceError || /alias/i.test((e as Error).message)) {
      throw tooComplex(what, file, `its aliases (*name) expand too far; write the values out instead of aliasing them`, e);
    }
    throw e;
  }
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  // A misspelt field is both unknown and missing; the unknown one is what the author must fix, so it goes first.
  const ordered = [...result.error.issues].sort((a, b) => Number(b.code === 'unrecognized_keys') - Number(a.code === 'unrecognized_keys'));
  const issues = ordered.map((issue) => {
    const keys = issue.path as Array<string | number>;
    const unknown = issue.code === 'unrecognized_keys' ? (issue as { keys?: string[] }).keys ?? [] : [];
    const fullPath = unknown.length > 0 ? [...keys, unknown[0]] : keys;
    return {
      file,
      line: lineOf(doc.contents as Node | null, fullPath, lineCounter),
      field: formatPath(fullPath),
      message: unknown.length > 0 ? `unknown field${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `'${k}'`).join(', ')}` : issue.message,
    };
  });
  throw yamlFileError(errorCode, what, issues[0], issues);
}

export function loadYamlWithSchema<S extends z.ZodType>(file: string, schema: S, errorCode: ErrorCode, what: string, options: { remember?: boolean } = {}): z.infer<S> {
  // Missing, a folder, a FIFO, /proc, too large: each its own code (SCRIPT_NOT_FOUND, ANSWERS_IS_FOLDER, …).
  const domain: InputDomain = errorCode === 'ANSWERS_INVALID' ? 'ANSWERS' : 'SCRIPT';
  const text = readInputText(file, { what, domain, maxBytes: YAML_LIMITS.maxChars });
  return parseYamlWithSchema(text, file, schema, errorCode, what, options);
}

/** Limits on what a YAML input may cost to read; real scripts and answers files are far below them. */
export const YAML_LIMITS = { maxChars: 1024 * 1024, maxAliasCount: 50 } as const;

function tooComplex(what: string, file: string, why: string, cause?: unknown): KeyriteError {
  return new KeyriteError('SCRIPT_TOO_COMPLEX', `The ${what} ${file} is refused: ${why}. Fix the file and try again.`, { details: { file, what }, cause });
}

/**
 * The error for a problem found in a YAML file, after parsing too (a policy that contradicts
 * itself): "The <what> <file>:<line> <verb> <field>: <message>. Fix the file and try again."
 */
export function yamlFileError(code: ErrorCode, what: string, p: YamlProblem, all: YamlProblem[] = [p], verb = 'is invalid at'): KeyriteError {
  // Every problem at once, so one edit fixes them all; the first stays in the opening sentence.
  const more = all.length > 1 ? ` ${all.length - 1} more problem${all.length > 2 ? 's' : ''}:\n${all.slice(1).map((q) => `  ${where(q)} ${q.field}: ${q.message}`).join('\n')}` : '';
  return new KeyriteError(code, `The ${what} ${where(p)} ${verb} ${p.field}: ${p.message}. Fix the file and try again.${more}`, { details: { file: p.file, line: p.line, field: p.field, problems: all } });
}

function where(p: YamlProblem): string {
  return p.line ? `${p.file}:${p.line}` : p.file;
}

/**
 * Line numbers of a YAML text by field path, for problems found after parsing (a parameter value
 * the real parser refuses, a step out of order): the deepest existing node along the path.
 */
export function yamlLineFinder(text: string): (path: ReadonlyArray<string | number>) => number {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: false });
  return (path) => lineOf(doc.contents as Node | null, path, lineCounter);
}

export function formatPath(path: ReadonlyArray<string | number | symbol>): string {
  let out = '';
  for (const k of path) {
    if (typeof k === 'number') out += `[${k}]`;
    else out += out ? `.${String(k)}` : String(k);
  }
  return out || '(document)';
}

/** The line of the deepest node along `path` that exists in the document (line 1 for an empty one). */
function lineOf(root: Node | null, path: ReadonlyArray<string | number>, lc: LineCounter): number {
  let node: unknown = root;
  let best: number = rangeLine(root, lc) ?? 1;
  for (const key of path) {
    if (isMap(node)) {
      const pair = node.items.find((it) => (it.key as { value?: unknown })?.value === key);
      if (!pair) break;
      best = rangeLine(pair.key as Node, lc) ?? best;
      node = pair.value;
    } else if (isSeq(node) && typeof key === 'number') {
      node = node.items[key];
      best = rangeLine(node as Node, lc) ?? best;
    } else break;
  }
  return best;
}

function rangeLine(node: Node | null | undefined, lc: LineCounter): number | null {
  const r = (node as { range?: [number, number, number] } | null)?.range;
  return r ? lc.linePos(r[0]).line : null;
}
