import { appendFileSync } from 'node:fs';

/**
 * Crash-test seam, inert unless the environment asks for it. The engine names the instants
 * between its durable effects (a store commit, an HSM object made, a bundle file written); a
 * test kills the process with SIGKILL at one of them — the worst moment for a crash:
 *
 * - `KEYRITE_FAULT_KILL_AT=<name>` kills at the first crossing of the point called `<name>`
 *   (a step id names the point after that step's action ran and before its result is committed);
 * - `KEYRITE_FAULT_KILL_AT=#<n>` kills at the n-th point this process crosses, whatever its name
 *   (the random kill sweep picks n from a seed);
 * - `KEYRITE_FAULT_TRACE=<file>` appends "<n> <name>" for every point crossed, so a sweep can see
 *   how many instants a run has and where each one is.
 */
let crossed = 0;

export function crashPoint(name: string): void {
  const at = process.env.KEYRITE_FAULT_KILL_AT;
  const trace = process.env.KEYRITE_FAULT_TRACE;
  if (!at && !trace) return;
  crossed += 1;
  if (trace) appendFileSync(trace, `${crossed} ${name}\n`);
  if (at === name || at === `#${crossed}`) process.kill(process.pid, 'SIGKILL');
}
