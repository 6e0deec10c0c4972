import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { resolveResource } from '../config/resources';
import { formatPath, parseYamlWithSchema, yamlFileError, yamlLineFinder } from '../config/yaml-schema';
import { KeyriteError } from '../errors';
import { KEY_PURPOSES, policySchema, type KeyPolicy, type PolicyDocument } from './schema';

type PathSeg = string | number;

export const DEFAULT_POLICY_RESOURCE = 'policies/default.yaml';
const POLICY_WHAT = 'key policy';

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
  const policy = parseYamlWithSchema(text, file, policySchema, 'POLICY_INVALID', POLICY_WHAT, { remember: true });
  const contradiction = findContradiction(policy);
  if (contradiction) {
    const line = yamlLineFinder(text)(contradiction.path);
    throw yamlFileError('POLICY_CONTRADICTION', POLICY_WHAT, { file, line, field: formatPath(contradiction.path), message: contradiction.message }, undefined, 'contradicts itself at');
  }
  return { ...policy, source: { file, sha256: createHash('sha256').update(text).digest('hex') } };
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
