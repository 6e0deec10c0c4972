import type { KeyStatus } from '../store/key-records';

/**
 * Lifecycle order. Forward moves may skip stages (a destruction ceremony takes an active key
 * straight to destroyed); nothing moves backwards, and destroyed is final.
 */
const ORDER: Record<KeyStatus, number> = { active: 0, retiring: 1, archived: 2, destroyed: 3, compromised: -1 };

export function statusTransitionAllowed(from: KeyStatus, to: KeyStatus): boolean {
  if (from === to || from === 'destroyed') return false;
  if (to === 'compromised') return true;
  if (from === 'compromised') return to === 'destroyed';
  return ORDER[to] > ORDER[from];
}
