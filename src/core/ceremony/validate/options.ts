import { z } from 'zod';
import { KEY_STATUSES } from '../../inventory';
import type { ActionName } from '../types';
import type { ScriptIssue } from './problems';

/**
 * What each action accepts under `with:`, one strict schema per action: an unknown or mistyped
 * option is refused when the script is loaded, not found missing (or turned into NaN) at the
 * step that reads it, after irreversible steps have run.
 */
const alias = z.string({ error: 'is the name a key goes by in this ceremony (e.g. ceremony, old, target, restored)' }).regex(/^[a-z][a-z0-9-]*$/, 'is a key name in lower-case letters, digits and dashes');
const paramName = z.string({ error: 'names a parameter of this script' }).regex(/^[a-z][a-zA-Z0-9]*$/, 'names a parameter of this script (camelCase)');
const status = z.enum(KEY_STATUSES as [string, ...string[]], { error: `is a key status: one of ${KEY_STATUSES.join(', ')}` });
// A drill destroys its own restored copy: the inventory key it copies keeps whatever status it has.
const destroyedStatus = z.union([z.literal('unchanged'), status], { error: `is a key status (one of ${KEY_STATUSES.join(', ')}) or 'unchanged'` });
const profile = z.string({ error: 'names a certificate profile (root-ca, cross-cert) or a profile file' }).min(1);
const none = z.strictObject({});
const keyOnly = z.strictObject({ key: alias.optional() });

export const ACTION_OPTIONS: Record<ActionName, z.ZodType> = {
  preflight: none,
  checkIn: none,
  hsmLogin: none,
  generateKey: z.strictObject({
    key: alias.optional(),
    typeParam: paramName.optional(),
    purpose: z.enum(['root-signing', 'intermediate-signing'], { error: 'is root-signing or intermediate-signing' }).optional(),
    wrappable: z.boolean({ error: 'is true or false' }).optional(),
  }),
  selfTest: keyOnly,
  createBackup: keyOnly,
  handOutShares: z.strictObject({
    // A number of words (drawn among the share's own words 6–33), or 'all': the whole card, checksum included.
    confirmWords: z
      .union([z.literal('all'), z.number({ error: "is how many words each custodian re-enters: a whole number from 1 to 24, or 'all'" }).int('is a whole number of words').min(1, 'is at least 1 word').max(24, 'is at most 24 words')], {
        error: "is how many words each custodian re-enters: a whole number from 1 to 24, or 'all'",
      })
      .optional(),
    shareCards: z.boolean({ error: 'is true or false' }).optional(),
  }),
  collectShares: none,
  restoreBackup: none,
  proveIdentity: keyOnly,
  exportPublicKey: keyOnly,
  issueRootCert: z.strictObject({ key: alias.optional(), profile: profile.optional() }),
  issueCsr: keyOnly,
  issueCrossCert: z.strictObject({ key: alias.optional(), profile: profile.optional() }),
  destroyKey: z.strictObject({ key: alias.optional(), param: paramName.optional(), status: destroyedStatus.optional() }),
  recordStatement: keyOnly,
  resplitShares: none,
  updateKeyStatus: z.strictObject({ key: alias.optional(), param: paramName.optional(), status }),
  seal: none,
};

/** The options a step's action accepts, for messages. */
function optionNames(action: ActionName): string[] {
  const shape = (ACTION_OPTIONS[action] as unknown as { shape?: Record<string, unknown> }).shape;
  return Object.keys(shape ?? {});
}

/** Problems with one step's `with:` options, each under its own field path. */
export function optionIssues(step: { action?: ActionName; with?: Record<string, unknown> }, index: number): ScriptIssue[] {
  const at = (...rest: Array<string | number>): Array<string | number> => ['steps', index, 'with', ...rest];
  if (step.with === undefined) {
    return step.action === 'updateKeyStatus' ? [{ path: ['steps', index, 'action'], message: 'updateKeyStatus needs with: { status: … } (the status to set)' }] : [];
  }
  if (!step.action) return [{ path: at(), message: 'a step without an action takes no options; remove with:' }];
  const result = ACTION_OPTIONS[step.action].safeParse(step.with);
  if (result.success) return [];
  const names = optionNames(step.action);
  return result.error.issues.flatMap((issue): ScriptIssue[] => {
    if (issue.code === 'unrecognized_keys') {
      const takes = names.length > 0 ? `it takes ${names.join(', ')}` : 'it takes no options';
      return issue.keys.map((k) => ({ path: at(k), message: `${step.action} has no option '${k}' (${takes})` }));
    }
    const field = issue.path.map(String).join('.');
    const given = field in step.with! ? ` (given ${JSON.stringify(step.with![field])})` : '';
    return [{ path: at(...(issue.path as Array<string | number>)), message: `${field || 'with'} ${issue.message}${given}` }];
  });
}
