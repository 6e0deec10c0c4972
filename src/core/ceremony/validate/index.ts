import type { ErrorCode } from '../../error-codes';
import { readBackupFile } from '../../backup';
import { KeyriteError, isKeyriteError } from '../../errors';
import { connectHsm } from '../../hsm/connect';
import type { HsmConfig } from '../../hsm/config';
import type { Pkcs11Factory } from '../../hsm/pkcs11-module';
import type { KeyPolicy } from '../../policy';
import type { Inventory } from '../../inventory';
import { formatPath, yamlLineFinder } from '../../config/yaml-schema';
import { checkParameters, type Parameters } from '../parameters';
import type { LoadedScript } from '../script';
import type { ScriptIssue } from './problems';
import { stepValueIssues } from './values';

export interface StartCheckEnv {
  policy: KeyPolicy;
  inventory: Inventory;
  hsm: HsmConfig;
  pkcs11Factory?: Pkcs11Factory;
}

export interface CeremonyProblem {
  file: string;
  line: number | null;
  field: string;
  code: ErrorCode;
  message: string;
}

/**
 * Everything a ceremony needs, checked before anyone checks in and before the HSM is asked to do
 * anything (boulder's rule): the parameters through the parsers and profiles their steps use,
 * the keys they name in the inventory, and a drill's target token present with no key under the
 * backup's label. The script itself (options, `when:`, action order) was checked when it was
 * loaded. Every problem is reported at once, each with the file, line and field it concerns.
 */
export async function checkCeremonyStart(loaded: LoadedScript, given: Record<string, unknown>, env: StartCheckEnv): Promise<{ values: Parameters; warnings: string[] }> {
  const { script } = loaded;
  const checked = checkParameters(script, given, env.policy);
  const issues: ScriptIssue[] = [...checked.issues];
  // A policy rule broken by a parameter is reported once, not again by each step that uses it.
  issues.push(...stepValueIssues(script, checked.values, env.policy).filter((s) => !issues.some((i) => s.message.endsWith(i.message))));
  issues.push(...(await inventoryIssues(loaded, checked.values, env.inventory)));
  if (issues.length === 0) issues.push(...targetTokenIssues(loaded, checked.values, env));
  if (issues.length > 0) throw startError(loaded, issues);
  return { values: checked.values, warnings: checked.warnings };
}

/** Keys named by keyId parameters must be keys Keyrite knows. */
async function inventoryIssues(loaded: LoadedScript, values: Parameters, inventory: Inventory): Promise<ScriptIssue[]> {
  const issues: ScriptIssue[] = [];
  for (const [name, spec] of Object.entries(loaded.script.parameters)) {
    const id = values[name];
    if (spec.type !== 'keyId' || typeof id !== 'string') continue;
    const key = await inventory.get(id);
    if (!key) {
      issues.push({ path: ['parameters', name], code: 'CEREMONY_KEY_UNKNOWN', message: `Key '${id}' (parameter '${name}') is not in the inventory. Run \`keyrite inventory\` to list the keys Keyrite knows and give one of those ids.` });
    }
  }
  return issues;
}

/**
 * A restore goes into the token named by `targetToken`: it must be there, and must not already
 * hold a key under the backup's label (the restore would refuse it after the shares are typed).
 */
function targetTokenIssues(loaded: LoadedScript, values: Parameters, env: StartCheckEnv): ScriptIssue[] {
  const label = values.targetToken;
  if (typeof label !== 'string' || !loaded.script.steps.some((s) => s.action === 'restoreBackup')) return [];
  const path = ['parameters', 'targetToken'];
  let conn;
  try {
    conn = connectHsm({ ...env.hsm, tokenLabel: label }, { factory: env.pkcs11Factory });
  } catch (e) {
    if (!isKeyriteError(e, 'HSM_TOKEN_NOT_FOUND')) throw e;
    const present = Array.isArray(e.details.present) ? (e.details.present as string[]).filter((l) => l.trim()).sort().join(', ') || 'none' : 'unknown';
    return [{ path, code: 'CEREMONY_TARGET_TOKEN_MISSING', message: `The drill restores into token '${label}', which is not present (tokens present: ${present}). Initialise an empty token labelled '${label}' (softhsm2-util --init-token --free --label ${label}, or your HSM vendor's tool), or pass --param targetToken=LABEL naming an empty token, then start the ceremony again.` }];
  }
  try {
    const backup = typeof values.backupFile === 'string' ? readBackupFile(values.backupFile) : null;
    if (!backup) return [];
    const found = conn.session.find({ label: backup.keyLabel });
    if (found.length > 0) {
      return [{ path, code: 'CEREMONY_TARGET_TOKEN_NOT_EMPTY', message: `Token '${label}' already holds ${found.length} object(s) labelled '${backup.keyLabel}', the key this backup restores; the restore would refuse to overwrite it. Use an empty token (pass --param targetToken=LABEL), or remove that key from '${label}' first.` }];
    }
    return [];
  } finally {
    conn.close();
  }
}

/** One error naming every problem by file, line and field; its code is the first problem's. */
export function startError(loaded: LoadedScript, issues: ScriptIssue[]): KeyriteError {
  const lineOf = yamlLineFinder(loaded.text);
  const problems: CeremonyProblem[] = issues.map((i) => ({ file: loaded.file, line: lineOf(i.path), field: formatPath(i.path), code: i.code ?? 'SCRIPT_INVALID', message: i.message }));
  const where = (p: CeremonyProblem): string => `${p.line ? `${p.file}:${p.line}` : p.file} ${p.field}`;
  const text = problems.length === 1
    ? `Ceremony '${loaded.script.id}' cannot start: ${where(problems[0])}: ${problems[0].message} Nothing was done; fix this and start again.`
    : `Ceremony '${loaded.script.id}' cannot start; ${problems.length} problems, nothing was done — fix them and start again:\n${problems.map((p) => `  ${where(p)}: ${p.message}`).join('\n')}`;
  return new KeyriteError(problems[0].code, text, { details: { file: loaded.file, line: problems[0].line, field: problems[0].field, problems } });
}
