import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { KINDS, Lane, countInstants, coverage, planSweep, runInstant, type InstantOutcome, type InstantPlan, type Kind } from '../helpers/kill-sweep';

/**
 * The full random kill sweep: `npm run sweep:kill` (KEYRITE_SWEEP_INSTANTS, default 200;
 * KEYRITE_SWEEP_SEED to replay; KEYRITE_SWEEP_LANES lanes side by side, each with its own
 * KEYRITE_HOME and SoftHSM tokens). Every instant is logged as it finishes to
 * test-results/kill-sweep.log; the summary goes to test-results/kill-sweep.md for docs/crash-safety.md.
 */
const SEED = Number(process.env.KEYRITE_SWEEP_SEED ?? Date.now() % 1_000_000);
const INSTANTS = Number(process.env.KEYRITE_SWEEP_INSTANTS ?? 200);
const LANES = Number(process.env.KEYRITE_SWEEP_LANES ?? 2);
const results = path.resolve('test-results');

it(`kill -9 at ${INSTANTS} seeded instants of all five ceremonies, each resumed to a verified bundle (seed ${SEED})`, async () => {
  mkdirSync(results, { recursive: true });
  const log = path.join(results, 'kill-sweep.log');
  writeFileSync(log, `seed ${SEED}, ${INSTANTS} instants, ${LANES} lanes, started ${new Date().toISOString()}\n`);
  const started = Date.now();
  const lanes = Array.from({ length: LANES }, (_, i) => new Lane(`lane${i}`));
  await Promise.all(lanes.map((l) => l.setUp()));
  const totals = {} as Record<Kind, number>;
  for (const kind of KINDS) totals[kind] = await countInstants(lanes[0], kind);
  appendFileSync(log, `crash points per full run: ${KINDS.map((k) => `${k} ${totals[k]}`).join(', ')}\n`);
  const plans = planSweep(SEED, INSTANTS, totals);
  const outcomes: InstantOutcome[] = [];
  const failures: string[] = [];
  // Lane i takes plans i, i+LANES, …: every lane still cycles through all five ceremonies.
  await Promise.all(lanes.map(async (lane, li) => {
    for (let i = li; i < plans.length; i += LANES) {
      const plan: InstantPlan = plans[i];
      try {
        const o = await runInstant(lane, plan);
        outcomes.push(o);
        appendFileSync(log, `ok   ${String(i + 1).padStart(4)} ${plan.kind} #${plan.killAt}${plan.resumeKills.map((k) => ` +#${k}`).join('')}: ${o.landed.join(' | ')}\n`);
      } catch (e) {
        const msg = `FAIL ${String(i + 1).padStart(4)} seed ${SEED}: ${(e as Error).message}`;
        failures.push(msg);
        appendFileSync(log, msg + '\n');
      }
    }
  }));
  const kills = outcomes.reduce((n, o) => n + o.landed.length, 0);
  const resumes = outcomes.reduce((n, o) => n + o.resumes, 0);
  const summary = [
    `Seed ${SEED}: ${outcomes.length} of ${INSTANTS} instants passed, ${failures.length} failed; ${kills} kill -9 landed (${kills - outcomes.length} of them in resumes), ${resumes} resumes; ${Math.round((Date.now() - started) / 60000)} min with ${LANES} lanes.`,
    `Crash points per full run: ${KINDS.map((k) => `${k} ${totals[k]}`).join(', ')}.`,
    '',
    'Kills per ceremony and step (where the store stood after the kill):',
    '',
    '```',
    coverage(outcomes),
    '```',
  ].join('\n');
  writeFileSync(path.join(results, 'kill-sweep.md'), summary + '\n');
  console.log(summary);
  expect(failures, failures.join('\n\n')).toEqual([]);
});
