import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node as YamlNode } from 'yaml';
import { resolveResource } from '../config/resources';
import { KeyriteError } from '../errors';
import { KEY_PURPOSES, policySchema, type KeyPolicy, type PolicyDocument } from './schema';

type PathSeg = string | number;

export const DEFAULT_POLICY_RESOURCE = 'policies/default.yaml';

/**
 * Load and validate a key policy (default: the bundled resources/policies/default.yaml).
 * A malformed file is POLICY_INVALID naming file, line and field; a policy that contradicts
 * itself is POLICY_CONTRADICTION. Policies are never half-loaded.
 */
export function loadPolicy(file?: string): KeyPolicy {
  const resolved = file ? path.resolve(file) : resolveResource(DEFAULT_POLICY_RESOURCE);
  let text: string;
  try {
    text = readFileSync(resolved, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new KeyriteError('POLICY_MISSING', `Cannot read the key policy '${resolved}' (${code ?? String(e)}). Check the path.`, { details: { file: resolved }, cause: e });
  }
  return parsePolicy(text, resolved);
}

/** Validate policy text; `file` is used in messages and as the policy's source. */
export function parsePolicy(text: string, file: string): KeyPolicy {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  if (doc.errors.length > 0) {
    const err = doc.errors[0];
    const line = lineCounter.linePos(err.pos[0]).line;
    const problem = err.message.split('\n')[0];
    throw new KeyriteError('POLICY_INVALID', `The key policy '${file}' is not valid YAML at line ${line}: ${problem}. Fix the file.`, { details: { file, line, field: null, problems: [{ line, field: null, message: problem }] } });
  }
  const parsed = policySchema.safeParse(doc.toJS());
  if (!parsed.success) {
    // A misspelt field is both unknown and missing; the unknown one is what the author must fix.
    const issues = [...parsed.error.issues].sort((a, b) => Number(b.code === 'unrecognized_keys') - Number(a.code === 'unrecognized_keys'));
    const problems = issues.map((issue) => {
      // An unknown key is reported on its parent object; point at the key itself.
      const extra = issue.code === 'unrecognized_keys' ? issue.keys[0] : undefined;
      const at = extra === undefined ? issue.path : [...issue.path, extra];
      const segs = at.map((s) => (typeof s === 'symbol' ? String(s) : s));
      const message = issue.code === 'unrecognized_keys' ? `unknown field '${extra}'` : issue.message;
      return { line: lineOf(doc, lineCounter, segs), field: fieldName(segs), message };
    });
    const first = problems[0];
    throw new KeyriteError('POLICY_INVALID', `The key policy '${file}' is invalid at line ${first.line}, field '${first.field}': ${first.message}. Fix the file.`, { details: { file, line: first.line, field: first.field, problems } });
  }
  const contradiction = findContradiction(parsed.data);
  if (contradiction) {
    const line = lineOf(doc, lineCounter, contradiction.path);
    const field = fieldName(contradiction.path);
    throw new KeyriteError('POLICY_CONTRADICTION', `The key policy '${file}' contradicts itself at line ${line}, field '${field}': ${contradiction.message}. Fix the file.`, { details: { file, line, field } });
  }
  return { ...parsed.data, source: { file, sha256: createHash('sha256').update(text).digest('hex') } };
}

function fieldName(segs: PathSeg[]): string {
  return segs.length === 0 ? '(document)' : segs.map((s) => (typeof s === 'number' ? `[${s}]` : s)).join('.').replace(/\.\[/g, '[');
}

/** The 1-based line of the deepest node on `segs` that exists (a key's own line when it exists). */
function lineOf(doc: Document, counter: LineCounter, segs: PathSeg[]): number {
  let node: unknown = doc.contents;
  let offset = (doc.contents as YamlNode | null)?.range?.[0] ?? 0;
  for (const seg of segs) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && p.key.value === seg);
      if (!pair) break;
      const keyNode = pair.key as YamlNode;
      if (keyNode.range) offset = keyNode.range[0];
      node = pair.value;
    } else if (isSeq(node) && typeof seg === 'number') {
      const item = node.items[seg] as YamlNode | undefined;
      if (!item) break;
      if (item.range) offset = item.range[0];
      node = item;
    } else {
      break;
    }
  }
  return counter.linePos(offset).line;
}

function findContradiction(p: PolicyDocument): { path: PathSeg[]; message: string } | undefined {
  const rsa = p.keyTypes.rsa;
  if (rsa.minSize > rsa.maxSize) return { path: ['keyTypes', 'rsa', 'minSize'], message: `the minimum RSA size ${rsa.minSize} is above the maximum ${rsa.maxSize}` };
  if (rsa.recommendedMinSize < rsa.minSize) return { path: ['keyTypes', 'rsa', 'recommendedMinSize'], message: `the recommended RSA size ${rsa.recommendedMinSize} is below the minimum ${rsa.minSize}` };
  if (rsa.recommendedMinSize > rsa.maxSize) return { path: ['keyTypes', 'rsa', 'recommendedMinSize'], message: `the recommended RSA size ${rsa.recommendedMinSize} is above the maximum ${rsa.maxSize}` };
  const ec = p.keyTypes.ec;
  const strayCurve = ec.recommendedCurves.findIndex((c) => !ec.allowedCurves.includes(c));
  if (strayCurve >= 0) return { path: ['keyTypes', 'ec', 'recommendedCurves', strayCurve], message: `the recommended curve ${ec.recommendedCurves[strayCurve]} is not an allowed curve` };
  const both = p.signatures.allowedHashes.findIndex((h) => p.signatures.forbiddenHashes.includes(h));
  if (both >= 0) return { path: ['signatures', 'allowedHashes', both], message: `${p.signatures.allowedHashes[both]} is both allowed and forbidden` };
  for (const purpose of KEY_PURPOSES) {
    const pp = p.purposes[purpose];
    if (pp.rsaMinSize !== undefined && pp.rsaMinSize > rsa.maxSize) return { path: ['purposes', purpose, 'rsaMinSize'], message: `the minimum RSA size ${pp.rsaMinSize} for ${purpose} keys is above the maximum ${rsa.maxSize}` };
    if (pp.rsaMinSize !== undefined && pp.rsaMinSize < rsa.minSize) return { path: ['purposes', purpose, 'rsaMinSize'], message: `the minimum RSA size ${pp.rsaMinSize} for ${purpose} keys is below the general minimum ${rsa.minSize}` };
  }
  if (p.shares.minThreshold > p.shares.maxCount) return { path: ['shares', 'minThreshold'], message: `the minimum threshold ${p.shares.minThreshold} is above the maximum share count ${p.shares.maxCount}` };
  return undefined;
}
