import { spawnSync } from 'node:child_process';
import { CLI } from '../lib/paths';
import { ratioCheck, ratioOf, type Row } from '../lib/row';
import { interleave, stats } from '../lib/stats';

/**
 * 8. CLI start: `keyrite --version`, `--help` and `verify --help` — what a person types first,
 * and the fixed cost in front of every command — against `node -e 0` (Node's own start),
 * spawned side by side.
 */
export async function run(opts: { quick: boolean }): Promise<Row[]> {
  const rounds = opts.quick ? 5 : 25;
  const spawn = (args: string[]) => (): void => {
    const r = spawnSync(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    if (r.status !== 0) throw new Error(`${args.join(' ')} failed: ${r.stderr.toString()}`);
  };
  const cases = [
    { id: '8a', name: 'keyrite --version', args: ['--version'] },
    { id: '8b', name: 'keyrite --help', args: ['--help'] },
    { id: '8c', name: 'keyrite verify --help', args: ['verify', '--help'] },
    { id: '8d', name: 'keyrite ceremony list (loads the ceremony group)', args: ['ceremony', 'list'] },
  ];
  const sides = [{ name: 'node', run: spawn(['-e', '0']) }, ...cases.map((c) => ({ name: c.id, run: spawn([CLI, ...c.args]) }))];
  const samples = await interleave(sides, { rounds, warmup: 2 });
  const node = stats(samples.get('node')!);
  return cases.map((c) => {
    const k = stats(samples.get(c.id)!);
    const ratio = ratioOf(k, node);
    const targeted = c.id !== '8d';
    return {
      id: c.id,
      group: 'CLI start',
      name: c.name,
      keyrite: { label: `${c.name} (spawned)`, unit: 'ms', stats: k },
      reference: { label: 'node -e 0 (spawned)', unit: 'ms', stats: node },
      ratio,
      target: targeted ? 'ratio ≤ 1.5' : 'none set (reported)',
      checks: targeted ? [ratioCheck(ratio, 1.5)] : [],
      notes: [
        `${rounds} interleaved rounds of all five commands after 2 warm-ups. --version and the help pages are answered by the start-up fast path (src/cli/fast-path.ts) from out/cli/help.json, written at build time from the real commander program, without loading commander or any command group.`,
      ],
      why: targeted ? `Node's own start is ${node.median.toFixed(0)} ms here; keyrite adds the bin shim, the entry chunk and reading help.json` : undefined,
    } satisfies Row;
  });
}
