import { spawnSync } from 'node:child_process';
import { cpSync, readFileSync, rmSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { connectHsm } from '../../src/core/hsm/connect';
import { makeEvent, transcriptKeyLabel, type TranscriptEvent } from '../../src/core/transcript';
import { sealBundle } from '../../src/core/transcript/seal';
import { createTranscriptKey, hsmTranscriptSigner } from '../../src/core/transcript/transcript-key';
import { verifyBundle } from '../../src/core/transcript/verify';
import { workerCount } from '../../src/core/transcript/line-pool';
import { demoHsm, runDemoCeremony } from '../lib/ceremony';
import { CLI } from '../lib/paths';
import { belowCheck, ratioCheck, ratioOf, type Check, type Row } from '../lib/row';
import { interleave, nowMs, stats, timeIt } from '../lib/stats';
import { benchDir, USER_PIN } from '../lib/token';

/**
 * 4. Transcript verify: sealed bundles of 10k and 100k events — realistic events, cycled from a
 * real demo ceremony's transcript, sealed by sealBundle with a real transcript key on SoftHSM —
 * checked by `keyrite verify` (spawned, as a user runs it) against `openssl dgst -sha384 -verify`
 * plus `sha256sum -c SHA256SUMS` over the same bytes (spawned too).
 */
export async function run(opts: { quick: boolean }): Promise<Row[]> {
  const home = benchDir('verify');
  try {
    const hsm = demoHsm(home);
    const demoBundle = path.join(home, 'demo-bundle');
    await runDemoCeremony(home, hsm, demoBundle);
    const template = readFileSync(path.join(demoBundle, 'transcript.jsonl'), 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as TranscriptEvent);

    const conn = connectHsm(hsm);
    const sizes = [
      { id: '4a', events: 10_000, rounds: opts.quick ? 3 : 12 },
      { id: '4b', events: 100_000, rounds: opts.quick ? 2 : 8 },
    ];
    const bundles: Array<{ dir: string; sealMs: number; bytes: number }> = [];
    try {
      conn.session.login(USER_PIN);
      for (const size of sizes) {
        const ceremonyId = `bench-verify-${size.events}`;
        const key = createTranscriptKey(conn.session, ceremonyId);
        const events = syntheticTranscript(template, ceremonyId, size.events, key);
        const dir = path.join(home, `bundle-${size.events}`);
        // The files the events record (public key, certificate, CSR, backup) are part of the bundle.
        for (const sub of ['keys', 'backup']) cpSync(path.join(demoBundle, sub), path.join(dir, sub), { recursive: true });
        const t0 = nowMs();
        await sealBundle({ dir, events, signer: hsmTranscriptSigner(conn.session, ceremonyId) });
        bundles.push({ dir, sealMs: nowMs() - t0, bytes: statSync(path.join(dir, 'transcript.jsonl')).size });
      }
    } finally {
      conn.close();
    }

    const rows: Row[] = [];
    for (const [i, size] of sizes.entries()) {
      const { dir, sealMs, bytes } = bundles[i];
      const keyrite = (): void => {
        const r = spawnSync(process.execPath, [CLI, 'verify', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
        if (r.status !== 0 || !/^OK:/m.test(r.stdout.toString())) throw new Error(`keyrite verify failed: ${r.stderr.toString()}`);
      };
      const reference = (): void => {
        const sig = spawnSync('openssl', ['dgst', '-sha384', '-verify', 'transcript-key.pem', '-signature', 'transcript.sig', 'transcript.jsonl'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
        if (sig.status !== 0 || !sig.stdout.toString().includes('Verified OK')) throw new Error(`openssl dgst -verify failed: ${sig.stdout.toString()}${sig.stderr.toString()}`);
        const sums = spawnSync('sha256sum', ['--quiet', '-c', 'SHA256SUMS'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
        if (sums.status !== 0) throw new Error(`sha256sum -c failed: ${sums.stdout.toString()}${sums.stderr.toString()}`);
      };
      const samples = await interleave([{ name: 'keyrite', run: keyrite }, { name: 'reference', run: reference }], { rounds: size.rounds, warmup: 1 });
      const k = stats(samples.get('keyrite')!);
      const r = stats(samples.get('reference')!);
      const inProcess: number[] = [];
      for (let n = 0; n < Math.max(3, Math.ceil(size.rounds / 2)); n++) {
        inProcess.push(
          await timeIt(async () => {
            const report = await verifyBundle(dir);
            if (report.events !== size.events) throw new Error('verifyBundle counted the wrong number of events');
          }),
        );
      }
      const ip = stats(inProcess);
      const peakRssMb = cliPeakRssMb(dir);
      const startup = stats(await cliStartup(size.rounds, home));
      const ratio = ratioOf(k, r);
      const threads = workerCount(bytes);
      const checks: Check[] = [ratioCheck(ratio, size.events === 100_000 ? 2 : 3)];
      if (size.events === 100_000) checks.push(belowCheck(k.median, 1000, 'ms', 'keyrite verify median'));
      const label = size.events === 100_000 ? '100k' : '10k';
      rows.push({
        id: size.id,
        group: 'Transcript verify',
        name: `${label} events (${(bytes / 2 ** 20).toFixed(1)} MiB transcript)`,
        keyrite: { label: 'keyrite verify (spawned)', unit: 'ms', stats: k },
        reference: { label: 'openssl dgst -sha384 -verify + sha256sum -c (spawned)', unit: 'ms', stats: r },
        ratio,
        target: size.events === 100_000 ? 'ratio ≤ 2; < 1 s' : 'ratio ≤ 3',
        checks,
        notes: [
          `Peak RSS of \`keyrite verify\` (the spawned process's maxRSS): ${peakRssMb.toFixed(0)} MB.`,
          `In-process verifyBundle: median ${ip.median.toFixed(0)} ms (min ${ip.min.toFixed(0)}, max ${ip.max.toFixed(0)}); \`keyrite verify\` on a missing folder (Node start + loading the verify command, refused before any file is read): median ${startup.median.toFixed(0)} ms.`,
          `keyrite verify checks more than the reference: canonical JSON, hash and link of every event, the sealed shape of the chain, the key against the fingerprint recorded in the chain, recorded file hashes, unlisted files, and transcript.html re-rendered byte for byte. Worker threads for the per-line checks on this machine: ${threads} (of ${availableParallelism()} cores). Sealing the bundle (set-up, not timed in the ratio) took ${(sealMs / 1000).toFixed(2)} s.`,
        ],
        why: `\`keyrite verify\` is a Node process: starting it and loading the verify command takes ${startup.median.toFixed(0)} ms here (\`keyrite verify\` on a missing folder) before it checks anything. It then checks every one of the ${size.events} events (strict UTF-8, JSON.parse, canonical form, SHA-256 and link per line) and renders each event's row of transcript.html, ${threads === 0 ? 'on its main thread (below 16 MB per worker thread, starting one costs more than it saves)' : `in ~1 MB pieces of whole lines over the file in shared memory, taken in turn by the main thread and ${threads} worker thread${threads === 1 ? '' : 's'}`}, while libuv's thread pool does the whole-file SHA-384 signature check and the main thread the SHA-256 of every file, which are all the reference does (${r.median.toFixed(0)} ms in all, process starts included); last, it links the ranges and compares the re-rendered transcript.html byte for byte (${ip.median.toFixed(0)} ms in process, peak RSS ${peakRssMb.toFixed(0)} MB)`,
        extra: { inProcessVerifyBundle: ip, cliStartup: startup, sealMs, transcriptBytes: bytes, peakRssMb },
      });
    }
    return rows;
  } finally {
    if (process.env.KEYRITE_BENCH_KEEP) process.stderr.write(`[bench] kept ${home}\n`);
    else rmSync(home, { recursive: true, force: true });
  }
}

/**
 * Peak RSS of one `keyrite verify` run: the child reports its own maxRSS as it exits (spawnSync
 * gives no rusage), through a preloaded one-line module.
 */
function cliPeakRssMb(dir: string): number {
  const report = "data:text/javascript,process.on('exit',()=>process.stderr.write('\\nmaxrss-kb='+process.resourceUsage().maxRSS+'\\n'))";
  const r = spawnSync(process.execPath, ['--import', report, CLI, 'verify', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
  const m = /maxrss-kb=(\d+)/.exec(r.stderr.toString());
  if (r.status !== 0 || !m) throw new Error(`keyrite verify (peak RSS run) failed: ${r.stderr.toString()}`);
  return Number(m[1]) / 1024;
}

/**
 * Time to start the CLI, load the verify command and refuse a folder that is not there: the fixed
 * cost inside every `keyrite verify` (Node start, the verify modules, the first check), with no
 * file read. Not `keyrite verify --help`: the start-up fast path answers that from help.json
 * without loading the verify command at all.
 */
async function cliStartup(rounds: number, home: string): Promise<number[]> {
  const missing = path.join(home, 'no-such-bundle');
  const out: number[] = [];
  for (let i = 0; i < rounds; i++) {
    out.push(
      await timeIt(() => {
        const r = spawnSync(process.execPath, [CLI, 'verify', missing], { stdio: ['ignore', 'pipe', 'pipe'] });
        if (r.status !== 1 || !r.stderr.toString().includes('[BUNDLE_NOT_FOUND]')) throw new Error(`keyrite verify on a missing folder did not refuse it with BUNDLE_NOT_FOUND: ${r.stderr.toString()}`);
      }),
    );
  }
  return out;
}

/**
 * A sealed-shape transcript of `count` events for ceremony `ceremonyId`: the real demo
 * transcript's events in order, then its body (everything but start, transcript key and seal)
 * again and again, then CEREMONY_SEALED. Every event is made with makeEvent, so the chain is
 * exactly what the engine would write.
 */
function syntheticTranscript(template: TranscriptEvent[], ceremonyId: string, count: number, key: { label: string; spkiPem: string; spkiSha256: string }): TranscriptEvent[] {
  const special = new Set(['CEREMONY_STARTED', 'TRANSCRIPT_KEY_CREATED', 'CEREMONY_SEALED']);
  const first = template.filter((e) => e.type !== 'CEREMONY_SEALED');
  const body = template.filter((e) => !special.has(e.type));
  const sealed = template[template.length - 1];
  if (sealed.type !== 'CEREMONY_SEALED') throw new Error('bench: the demo transcript is not sealed');
  const base = Date.parse('2025-06-01T09:00:00.000Z');
  const events: TranscriptEvent[] = [];
  let prev: TranscriptEvent | null = null;
  const push = (t: TranscriptEvent, data: Record<string, unknown>): void => {
    prev = makeEvent(prev, { at: new Date(base + events.length * 250).toISOString(), ceremony: ceremonyId, step: t.step, actor: t.actor, type: t.type, data });
    events.push(prev);
  };
  for (const t of first) {
    if (events.length >= count - 1) break;
    push(t, t.type === 'TRANSCRIPT_KEY_CREATED' ? { ...t.data, label: key.label, spkiPem: key.spkiPem, spkiSha256: key.spkiSha256 } : t.data);
  }
  for (let i = 0; events.length < count - 1; i++) {
    const t = body[i % body.length];
    push(t, t.data);
  }
  push(sealed, { ...sealed.data, events: count, transcriptKey: { label: transcriptKeyLabel(ceremonyId), spkiSha256: key.spkiSha256 } });
  return events;
}
