/**
 * Crash-test seam, off unless KEYRITE_FAULT_KILL_AT names a step id: the process then kills
 * itself with SIGKILL right after that step's action touched the HSM or the disk and before the
 * result is committed — the worst moment for a crash. Used by the kill -9 resume tests, which run
 * the test build (out/cli-test). In every shipped bundle (build/bundle-node.mjs, electron-vite's
 * main build) `process.env.KEYRITE_FAULT_KILL_AT` is replaced by `undefined`, so this is a no-op
 * there and the variable's name does not occur in the shipped code.
 */
export function killHereForCrashTest(stepId: string): void {
  const at = process.env.KEYRITE_FAULT_KILL_AT;
  if (at && at === stepId) process.kill(process.pid, 'SIGKILL');
}
