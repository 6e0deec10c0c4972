import { spawn, execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { loadScript } from '../../src/core/ceremony/script';
import { createSoftHsmDir, findSoftHsmModule, initSoftHsmToken } from '../../src/core/hsm/softhsm';
import { CeremonyRepository } from '../../src/core/store/ceremonies';
import { Store } from '../../src/core/store/db';
import { PEOPLE, ROOT_SUBJECT } from './ceremony';
import { keyriteBin } from './cli';
import { TEST_SO_PIN, TEST_USER_PIN } from './softhsm';

/**
 * The random kill sweep: kill -9 at seeded random instants of all five built-in ceremonies, each
 * run through the real `keyrite` CLI on a real SoftHSM token and a real sqlite store, then resume
 * (the resume itself killed again, sometimes) until the ceremony is sealed, then check the bundle
 * with `keyrite verify` and plain openssl, and the transcript for keys made twice or sign-offs
 * missing or repeated.
 *
 * An "instant" is one of the engine's crash points (src/core/fault.ts): the boundaries between its
 * durable effects — before and after every store commit, inside the commit's transaction, after an
 * HSM key is made, after the transcript key is announced and made, after a step's action, around
 * a sealed share file's write (announced, temporary file complete, in place), after the seal is
 * signed and after it is committed. `KEYRITE_FAULT_KILL_AT=#n` kills a process at the
 * n-th it crosses, so an instant is reproducible from the seed.
 */

export const KINDS = ['root-key-generation', 'backup-recovery-drill', 'key-rotation', 'key-destruction', 'share-rotation'] as const;
export type Kind = (typeof KINDS)[number];

/** A small seeded PRNG (mulberry32): the same seed gives the same instants. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** One lane: its own KEYRITE_HOME and SoftHSM token directory, so lanes run side by side. */
export class Lane {
  readonly home: string;
  readonly hsmConf: string;
  readonly modulePath = findSoftHsmModule();
  readonly token = 'sweep';
  readonly drillToken = 'sweep-drill';
  private readonly tmp: string;
  /** From a sealed root ceremony made at set-up: what the other ceremonies need. */
  fixture!: { keyId: string; backup: string; shares: string };
  /** A second root key, the one key rotations retire (a drill of a retiring key is refused). */
  rotationFixture!: { keyId: string; cert: string };
  /** The key the last root ceremony of this lane made, for the next key destruction. */
  private freshKey: string | null = null;

  constructor(readonly name: string) {
    this.tmp = mkdtempSync(path.join(os.tmpdir(), `keyrite-sweep-${name}-`));
    this.home = path.join(this.tmp, 'home');
    const dir = createSoftHsmDir(path.join(this.tmp, 'hsm'));
    this.hsmConf = dir.conf;
    initSoftHsmToken(dir, this.token, TEST_USER_PIN, TEST_SO_PIN);
    initSoftHsmToken(dir, this.drillToken, TEST_USER_PIN, TEST_SO_PIN);
    for (const kind of KINDS) writeFileSync(this.answersFile(kind), stringify(answersFor(kind)));
  }

  get dir(): string {
    return this.tmp;
  }

  answersFile(kind: Kind): string {
    return path.join(this.tmp, `${kind}.answers.yaml`);
  }

  env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
    // Not the demo token: the PINs come from the environment, never from the answers file.
    const env: NodeJS.ProcessEnv = { ...process.env, KEYRITE_HOME: this.home, KEYRITE_PKCS11_MODULE: this.modulePath, KEYRITE_TOKEN_LABEL: this.token, SOFTHSM2_CONF: this.hsmConf, KEYRITE_PIN: TEST_USER_PIN, KEYRITE_SO_PIN: TEST_SO_PIN, ...extra };
    delete env.KEYRITE_FAULT_KILL_AT;
    delete env.KEYRITE_FAULT_TRACE;
    return { ...env, ...extra };
  }

  keyrite(args: string[], extra: Record<string, string> = {}, timeoutMs = 180_000): Promise<RunResult> {
    return new Promise((resolve) => {
      const child = spawn(process.execPath, [keyriteBin(extra), ...args], { env: this.env(extra), stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        resolve({ code, signal, stdout, stderr });
      });
    });
  }

  /** A sealed root ceremony whose key, backup, shares and certificate the other ceremonies use. */
  async setUp(): Promise<void> {
    const root = async (name: string, extra: string[]): Promise<{ out: string; keyId: string }> => {
      const out = path.join(this.tmp, name);
      const r = await this.keyrite(['ceremony', 'run', 'root-key-generation', '--answers', this.answersFile('root-key-generation'), '--out', out, ...extra]);
      if (r.code !== 0) throw new Error(`lane ${this.name}: fixture root ceremony failed\n${r.stdout}\n${r.stderr}`);
      return { out, keyId: events(out).find((e) => e.type === 'KEY_GENERATED')!.data.keyId as string };
    };
    const shares = path.join(this.tmp, 'fixture-shares.txt');
    const a = await root('fixture-root', ['--drill-shares', shares]);
    this.fixture = { keyId: a.keyId, backup: path.join(a.out, 'backup', `${a.keyId}.backup.json`), shares };
    const b = await root('fixture-rotation', []);
    this.rotationFixture = { keyId: b.keyId, cert: path.join(b.out, 'keys', `${b.keyId}.cert.pem`) };
  }

  /** The CLI arguments that start `kind` in a new bundle folder (and what they consume). */
  startArgs(kind: Kind, out: string, instanceTmp: string): string[] {
    const base = ['ceremony', 'run', kind, '--answers', this.answersFile(kind), '--out', out];
    switch (kind) {
      case 'root-key-generation':
        return base;
      case 'backup-recovery-drill':
        return [...base, '--backup', this.fixture.backup, '--drill-shares', this.fixture.shares, '--param', `targetToken=${this.drillToken}`];
      case 'key-rotation':
        return [...base, '--param', `oldKeyId=${this.rotationFixture.keyId}`, '--param', `oldCertFile=${this.rotationFixture.cert}`];
      case 'key-destruction':
        return [...base, '--param', `keyId=${this.freshKey ?? ''}`];
      case 'share-rotation': {
        // share-rotation reads the old shares from the file and writes the new ones to it: a copy.
        const shares = path.join(instanceTmp, 'shares.txt');
        copyFileSync(this.fixture.shares, shares);
        return [...base, '--backup', this.fixture.backup, '--drill-shares', shares];
      }
    }
  }

  resumeArgs(kind: Kind, id: string): string[] {
    const base = ['ceremony', 'resume', id, '--answers', this.answersFile(kind)];
    if (kind === 'backup-recovery-drill') return [...base, '--drill-shares', this.fixture.shares];
    // The old shares come from the fixture: the killed run may already have written the new split
    // over its own copy (as custodians would still hold their old shares on paper).
    if (kind === 'share-rotation') return [...base, '--drill-shares', this.fixture.shares];
    return base;
  }

  /** Key destruction needs a key nobody else uses: the last root ceremony's, or a new one. */
  async ensureFreshKey(): Promise<void> {
    if (this.freshKey) return;
    const out = path.join(mkdtempSync(path.join(this.tmp, 'fresh-')), 'bundle');
    const r = await this.keyrite(['ceremony', 'run', 'root-key-generation', '--answers', this.answersFile('root-key-generation'), '--out', out]);
    if (r.code !== 0) throw new Error(`lane ${this.name}: could not make a key to destroy\n${r.stderr}`);
    this.freshKey = events(out).find((e) => e.type === 'KEY_GENERATED')!.data.keyId as string;
  }

  keyMade(keyId: string | null): void {
    this.freshKey = keyId;
  }

  keyDestroyed(): void {
    this.freshKey = null;
  }

  /** Private key objects labelled `label` on a token, counted by OpenSC's pkcs11-tool (not by Keyrite). */
  privateKeysLabelled(label: string, token = this.token): number {
    const tool = (args: string[]): string => execFileSync('pkcs11-tool', ['--module', this.modulePath, ...args], { env: this.env(), encoding: 'utf8' });
    // pkcs11-tool's --token-label does not pick the slot when listing: find the slot id by label.
    const slots = [...tool(['-L']).matchAll(/^Slot \d+ \((0x[0-9a-f]+)\):[^\n]*\n\s+token label\s+:\s+(.*?)\s*$/gm)];
    const slot = slots.find((m) => m[2] === token)?.[1];
    if (!slot) throw new Error(`pkcs11-tool sees no token '${token}'`);
    const out = tool(['--slot', slot, '--login', '--pin', TEST_USER_PIN, '--list-objects', '--type', 'privkey']);
    return out.split('\n').filter((l) => l.trim() === `label:      ${label}`).length;
  }
}

function answersFor(kind: Kind): Record<string, unknown> {
  const { script } = loadScript(kind);
  const roles = script.roles.map((r) => r.id);
  return {
    // A new root is named by the room (no default subject outside a rehearsal).
    ...('subject' in script.parameters ? { parameters: { ...ROOT_SUBJECT } } : {}),
    participants: PEOPLE.map((p) => ({ ...p, roles: p.roles.filter((r) => roles.includes(r)) })).filter((p) => p.roles.length > 0),
    preflightOverride: { personId: 'ada', reason: 'test machine with a network interface' },
    statements: { 'seal-shares': { bags: 'BAG-1 BAG-2 BAG-3 BAG-4 BAG-5' }, 'backups-destroyed': { backups: 'shredded', shares: 'BAG-1..5 burned' } },
  };
}

export interface SweepEvent {
  seq: number;
  ceremony: string;
  type: string;
  step: string | null;
  actor: string | null;
  data: Record<string, unknown>;
}

export function events(bundle: string): SweepEvent[] {
  return readFileSync(path.join(bundle, 'transcript.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as SweepEvent);
}

/** Crash points a full, unkilled run of `kind` crosses: the range the sweep draws instants from. */
export async function countInstants(lane: Lane, kind: Kind): Promise<number> {
  const instanceTmp = mkdtempSync(path.join(lane.dir, 'count-'));
  const trace = path.join(instanceTmp, 'trace.txt');
  if (kind === 'key-destruction') await lane.ensureFreshKey();
  const r = await lane.keyrite(lane.startArgs(kind, path.join(instanceTmp, 'bundle'), instanceTmp), { KEYRITE_FAULT_TRACE: trace });
  if (r.code !== 0) throw new Error(`lane ${lane.name}: counting run of ${kind} failed\n${r.stdout}\n${r.stderr}`);
  if (kind === 'root-key-generation') lane.keyMade(events(path.join(instanceTmp, 'bundle')).find((e) => e.type === 'KEY_GENERATED')!.data.keyId as string);
  if (kind === 'key-destruction') lane.keyDestroyed();
  return readFileSync(trace, 'utf8').trim().split('\n').length;
}

export interface InstantPlan {
  kind: Kind;
  /** Kill the first run at its n-th crash point. */
  killAt: number;
  /** Then kill resumes at these points, one per resume, before a last resume runs free. */
  resumeKills: number[];
}

export interface InstantOutcome {
  plan: InstantPlan;
  /** Where each kill landed: 'step i/N title' from `keyrite ceremony status`, or 'before start'. */
  landed: string[];
  resumes: number;
}

/** Draw `n` instants from a seed, spread evenly over the kinds and uniformly over each kind's points. */
export function planSweep(seed: number, n: number, totals: Record<Kind, number>): InstantPlan[] {
  const next = rng(seed);
  const plans: InstantPlan[] = [];
  for (let i = 0; i < n; i++) {
    const kind = KINDS[i % KINDS.length];
    const total = totals[kind];
    const killAt = 1 + Math.floor(next() * total);
    const resumeKills: number[] = [];
    // One instant in three also kills its resume, sometimes twice: resume must survive itself.
    while (resumeKills.length < 2 && next() < 1 / 3) resumeKills.push(1 + Math.floor(next() * Math.max(1, total - killAt + 4)));
    plans.push({ kind, killAt, resumeKills });
  }
  return plans;
}

/**
 * Run one planned instant and check the result. Throws an Error that names the instant (the
 * caller adds the seed) with every process's output when anything is wrong.
 */
export async function runInstant(lane: Lane, plan: InstantPlan): Promise<InstantOutcome> {
  const instanceTmp = mkdtempSync(path.join(lane.dir, 'instant-'));
  const out = path.join(instanceTmp, 'bundle');
  const log: string[] = [];
  const fail = (why: string): never => {
    throw new Error(`${plan.kind} killed at instant #${plan.killAt}${plan.resumeKills.length ? `, resumes at ${plan.resumeKills.map((k) => `#${k}`).join(', ')}` : ''}: ${why}\n${log.join('\n')}`);
  };
  if (plan.kind === 'key-destruction') await lane.ensureFreshKey();
  const first = await lane.keyrite(lane.startArgs(plan.kind, out, instanceTmp), { KEYRITE_FAULT_KILL_AT: `#${plan.killAt}` });
  log.push(`run: ${first.signal ?? first.code}\n${first.stdout}\n${first.stderr}`);
  const landed: string[] = [];
  const id = /Ceremony (\S+):/.exec(first.stdout)?.[1];
  if (!id) {
    // Killed before the ceremony existed: nothing may be left that claims to be it.
    if (first.signal !== 'SIGKILL') fail('the run neither started a ceremony nor was killed');
    if (existsSync(path.join(out, 'transcript.jsonl'))) fail('a bundle was written for a ceremony that never started');
    return { plan, landed: ['before start'], resumes: 0 };
  }
  if (first.signal === 'SIGKILL') landed.push(await where(lane, id));
  else if (first.code !== 0) fail('the killed run failed on its own');
  let resumes = 0;
  let done = first.signal !== 'SIGKILL';
  for (const k of plan.resumeKills) {
    if (done) break;
    const r = await lane.keyrite(lane.resumeArgs(plan.kind, id), { KEYRITE_FAULT_KILL_AT: `#${k}` });
    resumes += 1;
    log.push(`resume (kill at #${k}): ${r.signal ?? r.code}\n${r.stdout}\n${r.stderr}`);
    if (r.signal === 'SIGKILL') landed.push(`resume: ${await where(lane, id)}`);
    else if (r.code === 0) done = true;
    else if (!r.stderr.includes('CEREMONY_ALREADY_SEALED')) fail('a resume failed');
    else done = true;
  }
  if (!done) {
    const r = await lane.keyrite(lane.resumeArgs(plan.kind, id));
    resumes += 1;
    log.push(`resume: ${r.signal ?? r.code}\n${r.stdout}\n${r.stderr}`);
    // A kill after the bundle was complete leaves nothing to resume: refused, and the bundle is whole.
    if (r.code !== 0 && !r.stderr.includes('CEREMONY_ALREADY_SEALED')) fail('the last resume failed');
  }
  checkBundle(lane, plan.kind, out, fail);
  return { plan, landed, resumes };
}

/** Where the ceremony stands after a kill, read from the store itself (no extra keyrite process). */
async function where(lane: Lane, id: string): Promise<string> {
  const store = await Store.open(path.join(lane.home, 'keyrite.sqlite'), { create: false });
  try {
    const c = (await new CeremonyRepository(store).list()).find((x) => x.id === id);
    if (!c) return 'not in the store';
    return c.status === 'running' ? `step ${c.currentStep + 1}/${c.stepCount} ${c.currentStepTitle ?? ''}` : c.status;
  } finally {
    await store.close();
  }
}

function checkBundle(lane: Lane, kind: Kind, out: string, fail: (why: string) => never): void {
  const verify = execFileSyncSafe(process.execPath, ['bin/keyrite.mjs', 'verify', out], lane.env());
  if (verify.code !== 0) fail(`keyrite verify refused the bundle: ${verify.output}`);
  const openssl = execFileSyncSafe('openssl', ['dgst', '-sha384', '-verify', path.join(out, 'transcript-key.pem'), '-signature', path.join(out, 'transcript.sig'), path.join(out, 'transcript.jsonl')], lane.env());
  if (openssl.code !== 0 || !openssl.output.includes('Verified OK')) fail(`openssl refused the signature: ${openssl.output}`);
  const sums = execFileSyncSafe('sha256sum', ['--quiet', '-c', 'SHA256SUMS'], lane.env(), out);
  if (sums.code !== 0) fail(`sha256sum -c SHA256SUMS failed: ${sums.output}`);

  const ev = events(out);
  if (ev.some((e, i) => e.seq !== i + 1)) fail('the chain skips or repeats a seq');
  if (ev.filter((e) => e.type === 'CEREMONY_SEALED').length !== 1 || ev.at(-1)!.type !== 'CEREMONY_SEALED') fail('CEREMONY_SEALED is not exactly once, at the end');
  if (ev.filter((e) => e.type === 'TRANSCRIPT_KEY_CREATED').length !== 1) fail('the transcript key is recorded more or less than once');

  // Each key generated once, and exactly one key under its label on the token.
  const generated = ev.filter((e) => e.type === 'KEY_GENERATED');
  const expectKeys = kind === 'root-key-generation' || kind === 'key-rotation' ? 1 : 0;
  if (generated.length !== expectKeys) fail(`${generated.length} KEY_GENERATED events, expected ${expectKeys}`);
  for (const g of generated) {
    const n = lane.privateKeysLabelled(g.data.keyId as string);
    if (n !== 1) fail(`the token holds ${n} private keys labelled ${String(g.data.keyId)}`);
  }
  const transcriptKeys = lane.privateKeysLabelled(`keyrite-transcript-${ev[0].ceremony}`);
  if (transcriptKeys > 1) fail(`the token holds ${transcriptKeys} transcript keys for this ceremony`);
  if (kind === 'root-key-generation') lane.keyMade(generated[0].data.keyId as string);
  if (kind === 'key-destruction') lane.keyDestroyed();

  // Every sign-off once: per step, each person at most once and exactly the quorum the script asks.
  const script = loadScript(kind).script;
  const skipped = new Set(ev.filter((e) => e.type === 'STEP_COMPLETED' && (e.data.evidence as { skipped?: boolean } | undefined)?.skipped).map((e) => e.data.index as number));
  for (const [i, step] of script.steps.entries()) {
    const signed = ev.filter((e) => e.type === 'STEP_CONFIRMED' && e.data.index === i).map((e) => e.data.personId as string);
    if (new Set(signed).size !== signed.length) fail(`step ${step.id} has a sign-off twice (${signed.join(', ')})`);
    const quorum = skipped.has(i) ? 0 : Object.values(step.confirm ?? {}).reduce((a, b) => a + b, 0);
    if (signed.length !== quorum) fail(`step ${step.id} has ${signed.length} sign-offs, the script asks for ${quorum}`);
  }
}

function execFileSyncSafe(cmd: string, args: string[], env: NodeJS.ProcessEnv, cwd?: string): { code: number; output: string } {
  try {
    const output = execFileSync(cmd, args, { env, cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    return { code: 0, output };
  } catch (e) {
    const err = e as { status?: number; stdout?: string; stderr?: string };
    return { code: err.status ?? 1, output: `${err.stdout ?? ''}${err.stderr ?? ''}` };
  }
}

/** Kills per kind and step, for the sweep's record. */
export function coverage(outcomes: InstantOutcome[]): string {
  const counts = new Map<string, number>();
  for (const o of outcomes) for (const l of o.landed) counts.set(`${o.plan.kind}: ${l.replace(/^resume: /, '')}`, (counts.get(`${o.plan.kind}: ${l.replace(/^resume: /, '')}`) ?? 0) + 1);
  return [...counts.entries()].sort(([a], [b]) => a.localeCompare(b, 'en', { numeric: true })).map(([k, v]) => `${String(v).padStart(4)}  ${k}`).join('\n');
}
