import type { ActionName } from '../types';
import type { ScriptIssue } from './problems';

/**
 * Actions that work inside the HSM and so need a crypto officer logged in first. The same fact
 * as each handler's `requiresLogin` (a unit test holds the two together); restated here because
 * the script loader cannot import the action handlers, which import the loader.
 */
export const HSM_ACTIONS: ReadonlySet<ActionName> = new Set<ActionName>([
  'generateKey', 'selfTest', 'createBackup', 'handOutShares', 'restoreBackup', 'proveIdentity', 'exportPublicKey',
  'issueRootCert', 'issueCsr', 'issueCrossCert', 'destroyKey', 'resplitShares', 'seal',
]);

/** The part of a script the order check reads. */
export interface OrderInput {
  parameters: Record<string, { type: string }>;
  steps: Array<{ id: string; title: string; action?: ActionName; with?: Record<string, unknown>; confirm?: Record<string, number>; when?: string }>;
}

interface Provided {
  step: number;
  when?: string;
}

/**
 * The action order as a dependency graph: each action needs what earlier steps provide (people
 * checked in, a logged-in HSM, a key, a backup, shares in memory) or a parameter that names it.
 * A provider that runs only `when:` a parameter is true serves only steps under the same `when:`.
 * Every broken edge is reported, so a script that would stall midway is refused before it starts.
 */
export function orderIssues(script: OrderInput): ScriptIssue[] {
  const issues: ScriptIssue[] = [];
  const facts = new Map<string, Provided>();
  const params = script.parameters;
  const checkInAt = script.steps.findIndex((s) => s.action === 'checkIn');

  script.steps.forEach((step, i) => {
    const at = (...rest: Array<string | number>): Array<string | number> => ['steps', i, ...rest];
    const issue = (path: Array<string | number>, message: string): void => {
      issues.push({ path, message, code: 'CEREMONY_SCRIPT_ORDER' });
    };
    const usable = (fact: string): Provided | undefined => {
      const p = facts.get(fact);
      return p && (p.when === undefined || p.when === step.when) ? p : undefined;
    };
    /** Require an earlier fact; name the provider when it exists but runs only conditionally. */
    const need = (fact: string, what: string, providers: string): boolean => {
      if (usable(fact)) return true;
      const p = facts.get(fact);
      issue(at('action'), p
        ? `${step.action} needs ${what}, which step '${script.steps[p.step].id}' provides only when '${p.when}' is true; give this step the same when:, or drop it from that step`
        : `${step.action} needs ${what} from an earlier step (${providers}); move this step after one`);
      return false;
    };
    const needParam = (name: string, type: string | string[], why: string): void => {
      const types = Array.isArray(type) ? type : [type];
      const p = params[name];
      if (!p) issue(at('action'), `${step.action} needs parameter '${name}' (${why}), which this script does not declare`);
      else if (!types.includes(p.type)) issue(['parameters', name, 'type'], `parameter '${name}' is used by step '${step.id}' (${step.action}) as ${why}, so its type must be ${types.join(' or ')}, not ${p.type}`);
    };
    const provide = (fact: string): void => {
      // A check-in or login under when: is refused above; counting it as unconditional keeps
      // that one problem from being repeated at every later step.
      facts.set(fact, { step: i, when: step.action === 'checkIn' || step.action === 'hsmLogin' ? undefined : step.when });
    };
    const keyAlias = typeof step.with?.key === 'string' ? step.with.key : 'ceremony';
    const needKey = (alias = keyAlias): void => {
      need(`key:${alias}`, `the ${alias} key`, alias === 'restored' ? 'restoreBackup' : alias === 'ceremony' ? 'generateKey or resplitShares' : `a step with with: { key: ${alias} }`);
    };
    const needBackupSource = (): void => {
      if (usable('backup')) return;
      if (params.backupFile?.type === 'file') return;
      need('backup', 'a backup', 'createBackup or resplitShares, or a backupFile parameter of type file');
    };

    if (i < checkInAt && (step.action || step.confirm)) {
      issue(at(step.action ? 'action' : 'confirm'), 'nothing happens before participants check in: put the checkIn step first');
    }
    if (step.when !== undefined && (step.action === 'checkIn' || step.action === 'hsmLogin' || step.action === 'seal')) {
      issue(at('when'), `a ${step.action} step always runs; remove when:`);
    }
    if (!step.action) return;
    if (HSM_ACTIONS.has(step.action) && !usable('login')) {
      need('login', 'a crypto officer logged in to the HSM', 'hsmLogin');
    }
    switch (step.action) {
      case 'checkIn':
        if (facts.has('people')) issue(at('action'), `participants already checked in at step '${script.steps[facts.get('people')!.step].id}'; a ceremony has one check-in`);
        provide('people');
        break;
      case 'hsmLogin':
        provide('login');
        break;
      case 'preflight':
      case 'seal':
        break;
      case 'generateKey':
        needParam(typeof step.with?.typeParam === 'string' ? step.with.typeParam : 'keyType', 'keyType', 'the type of key to generate');
        provide(`key:${keyAlias}`);
        break;
      case 'selfTest':
      case 'exportPublicKey':
        needKey();
        break;
      case 'issueCsr':
        needKey();
        needParam('subject', 'subject', 'the subject of the request');
        break;
      case 'issueRootCert':
        needKey();
        needParam('subject', 'subject', 'the certificate subject');
        needParam('days', 'integer', 'the validity in days');
        break;
      case 'issueCrossCert':
        needKey();
        needParam('subject', 'subject', 'the certificate subject');
        needParam('days', 'integer', 'the validity in days');
        needParam('oldKeyId', 'keyId', 'the old root key');
        needParam('oldCertFile', 'file', "the old root's certificate");
        break;
      case 'createBackup':
        needKey();
        needParam('threshold', 'integer', 'the shares needed to rebuild the KEK');
        needParam('count', 'integer', 'the number of shares');
        provide('backup');
        provide('backup-to-hand-out');
        break;
      case 'handOutShares':
        if (need('backup-to-hand-out', 'a backup whose shares are not yet handed out', 'createBackup or resplitShares')) facts.delete('backup-to-hand-out');
        break;
      case 'collectShares':
        needBackupSource();
        provide('shares');
        break;
      case 'restoreBackup':
        needBackupSource();
        need('shares', 'the custodians\' shares', 'collectShares');
        provide('key:restored');
        break;
      case 'resplitShares':
        needBackupSource();
        need('shares', 'the outgoing custodians\' shares', 'collectShares');
        needParam('threshold', 'integer', 'the shares needed with the new split');
        needParam('count', 'integer', 'the number of new shares');
        provide('backup');
        provide('backup-to-hand-out');
        provide('key:ceremony');
        break;
      case 'proveIdentity':
        needBackupSource();
        needKey(typeof step.with?.key === 'string' ? step.with.key : 'restored');
        break;
      case 'destroyKey':
      case 'updateKeyStatus': {
        const param = typeof step.with?.param === 'string' ? step.with.param : 'keyId';
        if (!usable(`key:${keyAlias}`)) {
          if (params[param]) needParam(param, 'keyId', 'the key to ' + (step.action === 'destroyKey' ? 'destroy' : 'update'));
          else needKey();
        }
        provide(`key:${keyAlias}`);
        break;
      }
      case 'recordStatement':
        // The statement is filed under a key in the inventory only if that key is known by then.
        if (typeof step.with?.key === 'string') needKey(step.with.key);
        break;
    }
  });

  const pending = facts.get('backup-to-hand-out');
  if (pending) {
    issues.push({ path: ['steps', pending.step, 'action'], message: `the shares of the backup made at step '${script.steps[pending.step].id}' are never handed out: add a handOutShares step after it (shares exist only in memory)`, code: 'CEREMONY_SCRIPT_ORDER' });
  }
  if (checkInAt < 0) issues.push({ path: ['steps'], message: 'the script has no checkIn step: participants must check in first', code: 'CEREMONY_SCRIPT_ORDER' });
  return issues;
}
