import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, onTestFinished, vi } from 'vitest';
import { stringify } from 'yaml';
import { CeremonyRunner } from '../../src/core/ceremony/runner';
import { parseScript } from '../../src/core/ceremony/script';
import { CeremonyService } from '../../src/core/ceremony/service';
import type { CeremonyView, StepInput } from '../../src/core/ceremony/types';
import { AnswersDriver } from '../../src/core/ceremony/answers';
import { connectHsm, type HsmConnection } from '../../src/core/hsm/connect';
import { generateKeyPair } from '../../src/core/hsm/keygen';
import { parseKeyType } from '../../src/core/hsm/key-spec';
import { Store } from '../../src/core/store/db';
import { transcriptKeyLabel } from '../../src/core/transcript';
import { buildHandlerTable } from '../../src/main/ipc/handlers';
import { MainServices } from '../../src/main/ipc/services';
import { AIR_GAPPED, PEOPLE, answersFor, tempDir, ROOT_SUBJECT } from '../helpers/ceremony';
import { keyriteBin } from '../helpers/cli';
import { rng } from '../helpers/kill-sweep';
import { createTestHsm } from '../helpers/softhsm';

/**
 * Issue 13: the reproductions (kill -9 after the seal is committed; kill -9 right after the
 * transcript key is made), one process per ceremony (CLI against CLI, the desktop handler table
 * against the CLI, two services in one process, a writer that bypasses the lock), and store
 * writes that fail mid-step. Real SoftHSM, real sqlite, real `keyrite` processes.
 */
const hsm = createTestHsm(['crash']);
const home = tempDir('crash-home');
const answers = path.join(tempDir('crash-answers'), 'answers.yaml');
writeFileSync(answers, stringify({
  participants: PEOPLE,
  preflightOverride: { personId: 'ada', reason: 'test machine with a network interface' },
  statements: { 'seal-shares': { bags: 'BAG-1 BAG-2 BAG-3 BAG-4 BAG-5' } },
}));
// Not the demo token: the PINs come from the environment, never from the answers file.
const env: NodeJS.ProcessEnv = { ...process.env, KEYRITE_HOME: home, KEYRITE_PKCS11_MODULE: hsm.modulePath, KEYRITE_TOKEN_LABEL: 'crash', KEYRITE_PIN: hsm.userPin, KEYRITE_SO_PIN: hsm.soPin };
delete env.KEYRITE_FAULT_KILL_AT;

function keyrite(args: string[], extraEnv: Record<string, string> = {}) {
  // The test build when a crash-test switch is set (compiled out of the shipped CLI).
  return spawnSync(process.execPath, [keyriteBin(extraEnv), ...args], { env: { ...env, ...extraEnv }, encoding: 'utf8', timeout: 120_000 });
}

function keyriteAsync(args: string[], delayMs = 0): Promise<{ code: number | null; stdout: string; stderr: string; pid?: number }> {
  return new Promise((resolve) => {
    setTimeout(() => {
      const child = spawn(process.execPath, ['bin/keyrite.mjs', ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('close', (code) => resolve({ code, stdout, stderr, pid: child.pid }));
    }, delayMs);
  });
}

function events(bundle: string): Array<{ seq: number; type: string; data: Record<string, unknown> }> {
  return readFileSync(path.join(bundle, 'transcript.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
}

async function storeEvents(id: string): Promise<Array<{ seq: number; type: string; data: Record<string, unknown> }>> {
  const store = await Store.open(path.join(home, 'keyrite.sqlite'), { create: false });
  try {
    return (await store.all<{ line: string }>('SELECT line FROM events WHERE ceremony_id = ? ORDER BY seq', [id])).map((r) => JSON.parse(r.line));
  } finally {
    await store.close();
  }
}

/** A root ceremony killed at the named crash point; returns its id and bundle folder. */
function killedAt(point: string): { id: string; out: string } {
  const out = path.join(tempDir('crash-out'), 'bundle');
  const r = keyrite(['ceremony', 'run', 'root-key-generation', '--param', `subject=${ROOT_SUBJECT.subject}`, '--answers', answers, '--out', out], { KEYRITE_FAULT_KILL_AT: point });
  expect(r.signal, `${point}: the run should have been killed\n${r.stdout}\n${r.stderr}`).toBe('SIGKILL');
  return { id: /Ceremony (\S+):/.exec(r.stdout)![1], out };
}

function expectVerified(out: string): void {
  const v = keyrite(['verify', out]);
  expect(v.status, v.stdout + v.stderr).toBe(0);
  const o = execFileSync('openssl', ['dgst', '-sha384', '-verify', path.join(out, 'transcript-key.pem'), '-signature', path.join(out, 'transcript.sig'), path.join(out, 'transcript.jsonl')], { encoding: 'utf8' });
  expect(o).toContain('Verified OK');
}

let conn: HsmConnection;
beforeAll(() => {
  conn = connectHsm(hsm.config('crash'));
  conn.session.login(hsm.userPin);
});
afterAll(() => conn?.close());

describe('kill -9 inside the seal (issue 13, item 1)', () => {
  it('after CEREMONY_SEALED is committed and before any bundle file: resume writes the bundle from the store, with no new event', async () => {
    const { id, out } = killedAt('seal:committed');
    expect(existsSync(path.join(out, 'transcript.jsonl'))).toBe(false);
    const before = await storeEvents(id);
    expect(before.at(-1)!.type).toBe('CEREMONY_SEALED');

    const resumed = keyrite(['ceremony', 'resume', id, '--answers', answers]);
    expect(resumed.status, resumed.stdout + resumed.stderr).toBe(0);
    expect(resumed.stdout).toContain('wrote transcript.jsonl, transcript-key.pem, transcript.html, transcript.sig, SHA256SUMS');
    expectVerified(out);
    const after = await storeEvents(id);
    expect(after).toEqual(before);
    expect(events(out)).toEqual(before);

    // Nothing after the seal: resume and abort are refused, with the reason.
    const again = keyrite(['ceremony', 'resume', id, '--answers', answers]);
    expect(again.status).not.toBe(0);
    expect(again.stderr).toContain('CEREMONY_ALREADY_SEALED');
    const abort = keyrite(['ceremony', 'abort', id, '--reason', 'trying to abort a sealed ceremony', '--by', 'ada']);
    expect(abort.status).not.toBe(0);
    expect(abort.stderr).toContain('CEREMONY_ALREADY_SEALED');
    expect(await storeEvents(id)).toEqual(before);

    // A bundle cut short later (two files lost) gets exactly those two back.
    rmSync(path.join(out, 'transcript.sig'));
    rmSync(path.join(out, 'SHA256SUMS'));
    const repaired = keyrite(['ceremony', 'resume', id]);
    expect(repaired.status, repaired.stderr).toBe(0);
    expect(repaired.stdout).toContain('wrote transcript.sig, SHA256SUMS from the store');
    expectVerified(out);

    // A bundle file that is not what the seal wrote is never overwritten.
    appendFileSync(path.join(out, 'transcript.html'), '<!-- edited -->');
    rmSync(path.join(out, 'SHA256SUMS'));
    const refused = keyrite(['ceremony', 'resume', id]);
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toContain('BUNDLE_FILE_CHANGED');
    expect(refused.stderr).toContain('is sealed (its signed transcript is saved)');
    expect(refused.stderr).toContain("'transcript.html'");
    expect(readFileSync(path.join(out, 'transcript.html'), 'utf8')).toContain('<!-- edited -->');
  }, 600_000);

  it('after the transcript is signed but before the seal is committed: resume seals once', async () => {
    const { id, out } = killedAt('seal:signed');
    expect((await storeEvents(id)).some((e) => e.type === 'CEREMONY_SEALED')).toBe(false);
    const resumed = keyrite(['ceremony', 'resume', id, '--answers', answers]);
    expect(resumed.status, resumed.stdout + resumed.stderr).toBe(0);
    expectVerified(out);
    const ev = events(out);
    expect(ev.filter((e) => e.type === 'CEREMONY_SEALED')).toHaveLength(1);
    expect(ev.at(-1)!.type).toBe('CEREMONY_SEALED');
  });
});

describe('kill -9 around the transcript key (issue 13, item 2)', () => {
  const keysLabelled = (label: string) => ({ priv: conn.session.find({ class: 'private', label }).length, pub: conn.session.find({ class: 'public', label }).length });

  it('right after the key is made: resume finds it by label, checks it and adopts it', () => {
    const { id, out } = killedAt('transcript-key:created');
    const resumed = keyrite(['ceremony', 'resume', id, '--answers', answers]);
    expect(resumed.status, resumed.stdout + resumed.stderr).toBe(0);
    expectVerified(out);
    const created = events(out).filter((e) => e.type === 'TRANSCRIPT_KEY_CREATED');
    expect(created).toHaveLength(1);
    expect(created[0].data.reconciled).toBe(true);
    // The adopted key signed the seal, then was destroyed: transcript keys are one-time (issue 15).
    expect(keysLabelled(transcriptKeyLabel(id))).toEqual({ priv: 0, pub: 0 });
  });

  it('half a key pair left by a crash inside key generation is destroyed and the key made afresh', () => {
    const { id, out } = killedAt('transcript-key:announced');
    const label = transcriptKeyLabel(id);
    const half = generateKeyPair(conn.session, { spec: parseKeyType('ec-p384'), label, custody: 'non-extractable' });
    conn.session.destroy(half.privateKey);
    const resumed = keyrite(['ceremony', 'resume', id, '--answers', answers]);
    expect(resumed.status, resumed.stdout + resumed.stderr).toBe(0);
    expectVerified(out);
    const created = events(out).filter((e) => e.type === 'TRANSCRIPT_KEY_CREATED');
    expect(created).toHaveLength(1);
    expect(created[0].data.reconciled).toBeUndefined();
    // The half pair is gone and the fresh key, used once for the seal, destroyed (issue 15).
    expect(keysLabelled(label)).toEqual({ priv: 0, pub: 0 });
  });

  it('a key under the announced label that is not exactly right is reported, neither used nor deleted', () => {
    const { id } = killedAt('transcript-key:announced');
    const label = transcriptKeyLabel(id);
    generateKeyPair(conn.session, { spec: parseKeyType('ec-p384'), label, custody: 'wrap-untrusted' }); // extractable: not a transcript key
    const resumed = keyrite(['ceremony', 'resume', id, '--answers', answers]);
    expect(resumed.status).not.toBe(0);
    expect(resumed.stderr).toContain('TRANSCRIPT_KEY_INVALID');
    expect(resumed.stderr).toContain('CKA_EXTRACTABLE');
    expect(keysLabelled(label)).toEqual({ priv: 1, pub: 1 });
  });

  it('a key under the label that the ceremony never announced is refused as someone else\'s', () => {
    const { id } = killedAt('preflight');
    const label = transcriptKeyLabel(id);
    generateKeyPair(conn.session, { spec: parseKeyType('ec-p384'), label, custody: 'non-extractable' });
    const resumed = keyrite(['ceremony', 'resume', id, '--answers', answers]);
    expect(resumed.status).not.toBe(0);
    expect(resumed.stderr).toContain('TRANSCRIPT_KEY_EXISTS');
    expect(keysLabelled(label)).toEqual({ priv: 1, pub: 1 });
  });
});

describe('one process per ceremony (issue 13, item 4)', () => {
  const seed = Number(process.env.KEYRITE_RACE_SEED ?? Date.now() % 1_000_000);
  const jitter = rng(seed);

  it.each([2, 2, 2, 3, 3, 3])(`%i processes resume one ceremony at once: one runs, the others get CEREMONY_IN_USE (seed ${seed})`, async (n) => {
    const { id, out } = killedAt('preflight');
    const results = await Promise.all(Array.from({ length: n }, () => keyriteAsync(['ceremony', 'resume', id, '--answers', answers], Math.floor(jitter() * 150))));
    const winners = results.filter((r) => r.code === 0);
    const losers = results.filter((r) => r.code !== 0);
    expect(winners, results.map((r) => r.stdout + r.stderr).join('\n----\n')).toHaveLength(1);
    expect(winners[0].stdout).toContain('sealed');
    for (const l of losers) {
      expect(l.stderr).toContain('CEREMONY_IN_USE');
      expect(l.stderr).toContain(`process ${winners[0].pid}`);
      expect(l.stdout).not.toContain('Resuming');
    }
    expectVerified(out);
    const ev = await storeEvents(id);
    expect(ev.filter((e) => e.type === 'CEREMONY_SEALED')).toHaveLength(1);
    expect(ev.filter((e) => e.type === 'CEREMONY_RESUMED')).toHaveLength(1);
    expect(ev.at(-1)!.type).toBe('CEREMONY_SEALED');
  });

  it('the desktop handler table and the CLI on the same KEYRITE_HOME exclude each other; a killed holder leaves no lock', async () => {
    const { id, out } = killedAt('preflight');
    const services = new MainServices(home, { ...env }, (opts) => CeremonyService.open({ ...opts, interfaces: AIR_GAPPED }));
    const table = buildHandlerTable({ services, appVersion: 'test', log: () => undefined });
    try {
      const viewed = (await table['ceremony:view']({ id })) as { ok: boolean; value?: CeremonyView };
      expect(viewed.ok).toBe(true);
      const cli = keyrite(['ceremony', 'resume', id, '--answers', answers]);
      expect(cli.status).not.toBe(0);
      expect(cli.stderr).toContain('CEREMONY_IN_USE');
      expect(cli.stderr).toContain(`process ${process.pid}`);
    } finally {
      await services.close();
    }

    // Now the CLI holds it (stopped mid-run), and the desktop is refused, until the CLI is killed.
    const child = spawn(process.execPath, ['bin/keyrite.mjs', 'ceremony', 'resume', id, '--answers', answers], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    // Whatever happens below, a stopped child must not stay stopped holding the store.
    onTestFinished(() => {
      child.kill('SIGKILL');
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    // 'Resuming' is printed once the CLI holds the ceremony; a loaded machine may take a while.
    await vi.waitFor(() => expect(stdout, stderr).toContain('Resuming'), { timeout: 120_000, interval: 50 });
    child.kill('SIGSTOP');
    const desktop = new MainServices(home, { ...env }, (opts) => CeremonyService.open({ ...opts, interfaces: AIR_GAPPED }));
    const table2 = buildHandlerTable({ services: desktop, appVersion: 'test', log: () => undefined });
    try {
      const refused = (await table2['ceremony:view']({ id })) as { ok: boolean; error?: { code: string; message: string } };
      expect(refused.ok).toBe(false);
      expect(refused.error!.code).toBe('CEREMONY_IN_USE');
      expect(refused.error!.message).toContain(`process ${child.pid}`);
      const closed = new Promise((r) => child.on('close', r));
      child.kill('SIGKILL');
      await closed;
      const taken = (await table2['ceremony:view']({ id })) as { ok: boolean; value?: CeremonyView };
      expect(taken.ok, JSON.stringify(taken)).toBe(true);
    } finally {
      await desktop.close();
    }
    const finished = keyrite(['ceremony', 'resume', id, '--answers', answers]);
    expect(finished.status, finished.stderr).toBe(0);
    expectVerified(out);
  });

  it('two services in one process: the second is refused while the first holds the ceremony', async () => {
    const { id } = killedAt('preflight');
    const a = await CeremonyService.open({ home, hsm: hsm.config('crash'), interfaces: AIR_GAPPED });
    const b = await CeremonyService.open({ home, hsm: hsm.config('crash'), interfaces: AIR_GAPPED });
    try {
      await a.view(id);
      await expect(b.view(id)).rejects.toMatchObject({ code: 'CEREMONY_IN_USE' });
      await a.release(id);
      await expect(b.view(id)).resolves.toMatchObject({ ceremonyId: id });
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('a writer that bypasses the lock cannot overwrite another\'s step: compare-and-set on the state version', async () => {
    const { id } = killedAt('preflight');
    const service = await CeremonyService.open({ home, hsm: hsm.config('crash'), interfaces: AIR_GAPPED });
    try {
      const loadScriptFile = (file: string) => parseScript(readFileSync(file, 'utf8'), file);
      const first = await CeremonyRunner.load(service.deps, id, loadScriptFile);
      const second = await CeremonyRunner.load(service.deps, id, loadScriptFile);
      // The second load saved CEREMONY_RESUMED after the first read the ceremony: the first is stale.
      const before = await storeEvents(id);
      await expect(first.provide({ kind: 'continue' })).rejects.toMatchObject({ code: 'CEREMONY_STATE_CONFLICT' });
      expect(first.isHalted).toBe(true);
      expect(await storeEvents(id)).toEqual(before);
      await expect(first.view()).rejects.toMatchObject({ code: 'CEREMONY_STATE_CONFLICT' });
      const moved = await second.provide({ kind: 'continue' });
      expect(moved.lastError).toBeNull();
      expect((await storeEvents(id)).length).toBeGreaterThan(before.length);
      first.close();
      second.close();
    } finally {
      await service.close();
    }
  });
});

describe('a store write that fails mid-step (issue 13, items 3 and 5)', () => {
  type Fault = 'locked' | 'readonly';

  /** Drive a root ceremony in-process; at input number `at`, make the store refuse writes. */
  async function driveWithFault(fault: Fault, pick: (view: CeremonyView, i: number) => boolean) {
    const service = await CeremonyService.open({ home, hsm: hsm.config('crash'), interfaces: AIR_GAPPED });
    const out = path.join(tempDir('crash-fault'), 'bundle');
    const driver = new AnswersDriver(answersFor(hsm));
    const revealed: string[] = [];
    let faulted = false;
    try {
      let view = await service.start({ script: 'root-key-generation', outDir: out, parameters: ROOT_SUBJECT });
      const id = view.ceremonyId;
      for (let i = 0; view.status === 'running'; i++) {
        if (view.revealedShare) revealed.push(view.revealedShare.header);
        const input = driver.next(view) as StepInput;
        if (!faulted && pick(view, i)) {
          faulted = true;
          const before = await storeEvents(id);
          const blocker = await armFault(service, fault);
          const error = await service.provide(id, input).then(() => null, (e: unknown) => e as { code: string; message: string });
          await blocker();
          expect(error, `input ${i} (${input.kind}) should have failed`).not.toBeNull();
          expect(error!.code).toBe(fault === 'locked' ? 'STORE_LOCKED' : 'STORE_UNAVAILABLE');
          expect(error!.message).toContain(`keyrite ceremony resume ${id}`);
          expect(await storeEvents(id)).toEqual(before);
          // The next call loads the ceremony from the store again: a resume.
          view = await service.view(id);
          expect(view.chainHead.seq).toBe(before.length + 1);
          continue;
        }
        view = await service.provide(id, input);
      }
      expect(view.status).toBe('sealed');
      expectVerified(out);
      const ev = events(out);
      const issued = new Set(ev.filter((e) => e.type === 'SHARE_ISSUED').map((e) => e.data.header));
      // Every share a person saw is recorded as issued: nothing was revealed that is not in the transcript.
      for (const h of revealed) expect(issued.has(h), `share ${h} was shown but not recorded`).toBe(true);
      expect(ev.filter((e) => e.type === 'CEREMONY_RESUMED')).toHaveLength(1);
      return { revealed, ev };
    } finally {
      await service.close();
    }
  }

  /** A real sqlite refusal: another connection holding the write lock, or the connection made read-only. */
  async function armFault(service: CeremonyService, fault: Fault): Promise<() => Promise<void>> {
    if (fault === 'readonly') {
      await service.deps.store.exec('PRAGMA query_only = 1');
      return () => service.deps.store.exec('PRAGMA query_only = 0');
    }
    const other = await Store.open(path.join(home, 'keyrite.sqlite'), { create: false });
    await other.exec('BEGIN EXCLUSIVE');
    return async () => {
      await other.exec('ROLLBACK');
      await other.close();
    };
  }

  it('at the moment a share would be revealed: the share is not shown, memory goes back to the store', async () => {
    const { revealed, ev } = await driveWithFault('readonly', (v) => v.current?.need.kind === 'shareHandout' && v.current.need.phase === 'privacy' && v.current.need.shareIndex === 2);
    // The split whose hand-out was cut off is void: a new backup replaced it, and all five shares of it were confirmed.
    expect(ev.filter((e) => e.type === 'BACKUP_WRITTEN')).toHaveLength(2);
    expect(revealed.length).toBeGreaterThanOrEqual(6);
  });

  const seed = Number(process.env.KEYRITE_FAULT_SEED ?? Date.now() % 1_000_000);
  it.each<Fault>(['locked', 'readonly'])(`%s store at a random input of the ceremony (seed ${seed})`, async (fault) => {
    const next = rng(seed + (fault === 'locked' ? 1 : 2));
    const at = 1 + Math.floor(next() * 40);
    await driveWithFault(fault, (_v, i) => i === at);
  });
});
