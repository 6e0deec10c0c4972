import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectHsm, type HsmConnection } from '../../src/core/hsm/connect';
import { isKeyriteError } from '../../src/core/errors';
import { createTranscriptKey, hsmTranscriptSigner, makeEvent, sealBundle, verifyBundle, type EventType, type TranscriptEvent } from '../../src/core/transcript';
import { runKeyrite } from '../helpers/cli';
import { createTestHsm } from '../helpers/softhsm';

/**
 * keyrite verify checks transcript.jsonl on worker threads when it is large (or when
 * KEYRITE_VERIFY_WORKERS says so): a sealed bundle, signed by a transcript key on SoftHSM, must
 * verify to the same report on any number of workers — in process and through the built CLI,
 * whose worker script is a bundle of its own — and a tampered copy must be refused with the same
 * code and details whichever thread saw the damage.
 */
const hsm = createTestHsm(['verify-workers']);
const work = mkdtempSync(path.join(os.tmpdir(), 'keyrite-verify-workers-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const CEREMONY = 'c-2025-workers';
const COUNT = 2500;
let conn: HsmConnection;
let bundle: string;

function transcript(key: { label: string; spkiPem: string; spkiSha256: string }): TranscriptEvent[] {
  const steps = ['prepare', 'generate', 'backup'].map((id) => ({ id, title: `Step ${id}`, say: `The ${id} step — “read aloud”.` }));
  const out: TranscriptEvent[] = [];
  const t0 = Date.parse('2025-06-01T09:00:00.000Z');
  const emit = (type: EventType, data: Record<string, unknown>, step: string | null = null, actor: string | null = null): void => {
    out.push(makeEvent(out[out.length - 1] ?? null, { at: new Date(t0 + out.length * 250).toISOString(), ceremony: CEREMONY, step, actor, type, data }));
  };
  emit('CEREMONY_STARTED', { title: 'Workers — root', scriptId: 'root', scriptVersion: '1', steps, parameters: { keyType: 'ec-p384', shares: 3 }, demo: false });
  emit('TRANSCRIPT_KEY_CREATED', { ...key, tokenLabel: 'verify-workers' });
  for (let i = 0; out.length < COUNT - 1; i++) {
    const step = steps[Math.floor(i / 50) % steps.length].id;
    const who = ['p-ada', 'p-zoë', null][i % 3];
    if (i % 50 === 0) emit('STEP_STARTED', { index: i, say: `Round ${i}` }, step);
    else if (i % 11 === 0) emit('PARTICIPANT_CHECKED_IN', { personId: who ?? 'p-x', name: `Zoë <${i % 4}>`, roles: ['witness'] }, step, who);
    else if (i % 7 === 0) emit('STEP_CONFIRMED', { personId: 'p-ada', name: 'Ada', role: 'witness' }, step, 'p-ada');
    else emit('KEY_USED', { keyId: 'root', purpose: 'self-test', n: i, digest: 'ab'.repeat(32), pem: i % 97 === 0 ? '-----BEGIN X-----\nAAAA\n-----END X-----\n' : null }, step, who);
  }
  emit('CEREMONY_SEALED', { events: COUNT, htmlFormat: 2 }, steps[2].id);
  return out;
}

beforeAll(async () => {
  conn = connectHsm(hsm.config('verify-workers'));
  conn.session.login(hsm.userPin);
  bundle = path.join(work, 'bundle');
  mkdirSync(bundle);
  const key = createTranscriptKey(conn.session, CEREMONY);
  await sealBundle({ dir: bundle, events: transcript(key), signer: hsmTranscriptSigner(conn.session, CEREMONY) });
});
afterAll(() => conn?.close());

async function outcome(dir: string, workers: number): Promise<unknown> {
  try {
    return await verifyBundle(dir, { workers });
  } catch (e) {
    if (!isKeyriteError(e)) throw e;
    return { code: e.code, message: e.message, details: e.details };
  }
}

let copies = 0;
function tampered(edit: (bytes: Buffer) => Buffer, file = 'transcript.jsonl'): string {
  const dir = path.join(work, `copy-${++copies}`);
  cpSync(bundle, dir, { recursive: true });
  writeFileSync(path.join(dir, file), edit(readFileSync(path.join(dir, file))));
  return dir;
}

describe('keyrite verify on worker threads', () => {
  it('reports the same on 0 to 4 workers', async () => {
    const reports = [];
    for (const workers of [0, 1, 2, 3, 4]) reports.push(await verifyBundle(bundle, { workers }));
    expect(reports[0]).toMatchObject({ ok: true, events: COUNT, ceremony: CEREMONY });
    for (const r of reports.slice(1)) expect(r).toEqual(reports[0]);
  });

  it('the built CLI verifies with its bundled worker script, on 2 workers as on none', () => {
    for (const workers of ['0', '2']) {
      const r = runKeyrite(['verify', '--json', bundle], { env: { KEYRITE_VERIFY_WORKERS: workers } });
      expect(r.status, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ ok: true, events: COUNT });
    }
  });

  it('a byte flipped or lines moved anywhere is refused with the same code and details on 0, 2 and 3 workers (seeded)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }), fc.integer({ min: 1, max: 255 }), fc.constantFrom('flip', 'swap', 'drop', 'html'), async (at, xor, kind) => {
        const dir = tampered(
          (bytes) => {
            if (kind === 'flip' || kind === 'html') {
              const out = Buffer.from(bytes);
              out[Math.floor(at * out.length)] ^= xor;
              return out;
            }
            const lines = bytes.toString('utf8').split('\n').slice(0, -1);
            const i = Math.floor(at * (lines.length - 1));
            if (kind === 'swap') [lines[i], lines[i + 1]] = [lines[i + 1], lines[i]];
            else lines.splice(i, 1);
            return Buffer.from(lines.map((l) => l + '\n').join(''), 'utf8');
          },
          kind === 'html' ? 'transcript.html' : 'transcript.jsonl',
        );
        const expected = await outcome(dir, 0);
        expect(expected).toMatchObject({ code: expect.stringMatching(/^(TRANSCRIPT|BUNDLE)_/) });
        for (const workers of [2, 3]) expect(await outcome(dir, workers)).toEqual(expected);
        rmSync(dir, { recursive: true, force: true });
      }),
      { seed: 180_018, numRuns: 12 },
    );
  });

  it('the built CLI on 2 workers refuses a tampered copy with the in-process code', async () => {
    const dir = tampered((bytes) => {
      const lines = bytes.toString('utf8').split('\n');
      lines[COUNT - 700] = lines[COUNT - 700].replace('"purpose":"self-test"', '"purpose":"self-tesT"');
      return Buffer.from(lines.join('\n'), 'utf8');
    });
    const expected = (await outcome(dir, 0)) as { code: string; details: Record<string, unknown> };
    expect(expected).toMatchObject({ code: 'TRANSCRIPT_EVENT_HASH', details: { line: COUNT - 699, seq: COUNT - 699 } });
    const r = runKeyrite(['verify', dir], { env: { KEYRITE_VERIFY_WORKERS: '2' } });
    expect(r.status).toBe(1);
    expect(r.errorCode).toBe('TRANSCRIPT_EVENT_HASH');
    expect(r.stderr).toContain(`Event ${COUNT - 699} (line ${COUNT - 699}`);
  });

  it('a build without the worker script still verifies, and says so by code when workers are asked for', () => {
    // A copy of the CLI build inside the checkout (so its packages resolve), minus the worker.
    const build = mkdtempSync(path.join(process.cwd(), 'out/cli-no-worker-'));
    try {
      cpSync(path.join(process.cwd(), 'out/cli'), build, { recursive: true });
      rmSync(path.join(build, 'transcript-verify-worker.mjs'));
      const run = (env: Record<string, string>) => spawnSync(process.execPath, [path.join(build, 'keyrite.mjs'), 'verify', bundle], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 120_000 });
      const quiet = run({ KEYRITE_VERIFY_WORKERS: '' });
      expect(quiet.status, quiet.stderr).toBe(0);
      expect(quiet.stdout).toMatch(/^OK: bundle verified/m);
      const asked = run({ KEYRITE_VERIFY_WORKERS: '2' });
      expect(asked.status).toBe(1);
      expect(asked.stderr).toContain('INTERNAL_VERIFY_WORKER_MISSING');
      expect(asked.stderr).toContain('unset KEYRITE_VERIFY_WORKERS');
    } finally {
      rmSync(build, { recursive: true, force: true });
    }
  });
});
