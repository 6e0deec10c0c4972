/**
 * Crash-test seam, off unless KEYRITE_FAULT_KILL_AT names a step id: the process then kills
 * itself with SIGKILL right after that step's action touched the HSM or the disk and before the
 * result is committed — the worst moment for a crash. Used by the kill -9 resume tests.
 */
export function killHereForCrashTest(stepId: string): void {
  if (process.env.KEYRITE_FAULT_KILL_AT && process.env.KEYRITE_FAULT_KILL_AT === stepId) process.kill(process.pid, 'SIGKILL');
}
