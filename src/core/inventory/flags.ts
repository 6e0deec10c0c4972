import { checkKeyType, type KeyPolicy } from '../policy';
import type { KeyRecord } from '../store/key-records';
import { inventoryKeyType } from './key-id';
import type { KeyFlags } from './types';

/**
 * What the current policy says about a stored key: weak when its type is not allowed for its
 * purpose (or the purpose is unknown), overdue when it is active past its rotation date. Computed
 * on read, so a policy change shows at once without rewriting the store.
 */
export function keyFlags(policy: KeyPolicy, r: KeyRecord, now: Date): KeyFlags {
  const reasons: string[] = [];
  let weak = false;
  if (Object.hasOwn(policy.purposes, r.purpose)) {
    const report = checkKeyType(policy, { type: inventoryKeyType(r), purpose: r.purpose as keyof KeyPolicy['purposes'] });
    weak = !report.ok;
    for (const v of report.errors) reasons.push(`${v.message} (rule ${v.rule})`);
  } else {
    weak = true;
    reasons.push(`'${r.purpose}' is not a purpose the current policy knows (rule purpose.known)`);
  }
  const overdue = r.status === 'active' && r.rotationDue !== null && new Date(r.rotationDue).getTime() < now.getTime();
  if (overdue) reasons.push(`Rotation was due on ${r.rotationDue!.slice(0, 10)}; run a key rotation ceremony (rule rotation.period).`);
  return { weak, overdue, reasons };
}
