import { crashPoint } from '../fault';

/**
 * The crash point after a step's action touched the HSM or the disk and before its result is
 * committed, named by the step id (`KEYRITE_FAULT_KILL_AT=<step id>`); see src/core/fault.ts.
 */
export function killHereForCrashTest(stepId: string): void {
  crashPoint(stepId);
}
