import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { connectHsm, type HsmConnection } from '../../src/core/hsm/connect';
import { Store } from '../../src/core/store/db';
import { PEOPLE, ROOT_SUBJECT, tempDir } from '../helpers/ceremony';
import { keyriteBin } from '../helpers/cli';
import { scanForSecrets } from '../helpers/secrets';
import { createTestHsm } from '../helpers/softhsm';

/**
 * Ceremonies stopped from outside. First a kill inside the HSM's key pair generation. SoftHSM writes the two halves as two token
 * objects, so a `kill -9` (or a Ctrl-C: Node's default SIGINT ends the process as abruptly)
 * landing in C_GenerateKeyPair leaves the public half alone under the key's label. Found by a
 * SIGINT at a random instant of `keyrite ceremony run root-key-generation --demo`: every resume
 * was then refused ("already holds 1 object(s) labelled …"), the ceremony stuck for good. The
 * label is the key id this ceremony claimed and committed before generating, so a half pair
 * under it is this ceremony's own unfinished generation, as for the transcript key. Then SIGINT and
 * SIGTERM sent to an unattended run (an answers file): before, Node's default ended it silently.
 */
const hsm = createTestHsm(['halfgen']);
const home = tempDir('halfgen-home');
const answers = path.join(tempDir('halfgen-answers'), 'answers.yaml');
writeFileSync(answers, stringify({
  participants: PEOPLE,
  preflightOverride: { personId: 'ada', reason: 'test machine with a network interface' },
  statements: { 'seal-shares': { bags: 'BAG-1 BAG-2 BAG-3 BAG-4 BAG-5' } },
}));
const env: NodeJS.ProcessEnv = { ...process.env, KEYRITE_HOME: home, KEYRITE_PKCS11_MODULE: hsm.modulePath, KEYRITE_TOKEN_LABEL: 'halfgen', KEYRITE_PIN: hsm.userPin, KEYRITE_SO_PIN: hsm.soPin };
delete env.KEYRITE_FAULT_KILL_AT;

function keyrite(args: string[], extraEnv: Record<string, string> = {}) {
  return spawnSync(process.execPath, [keyriteBin(extraEnv), ...args], { env: { ...env, ...extraEnv }, encoding: 'utf8', timeout: 120_000 });
}

/** The key id the ceremony claimed (and committed) before generating. */
async function claimedKeyId(ceremonyId: string): Promise<string> {
  const store = await Store.open(path.join(home, 'keyrite.sqlite'), { create: false });
  try {
    const row = await store.get<{ key_id: string }>('SELECT key_id FROM key_id_claims WHERE ceremony_id = ?', [ceremonyId]);
    return row!.key_id;
  } finally {
    await store.close();
  }
}

let conn: HsmConnection;
beforeAll(() => {
  conn = connectHsm(hsm.config('halfgen'));
  conn.session.login(hsm.userPin);
});
afterAll(() => conn?.close());

describe.each([
  ['the public half', 'private'],
  ['the private half', 'public'],
] as const)('a root key generation killed inside C_GenerateKeyPair, leaving %s alone', (_left, lost) => {
  it('resume clears the half pair under its own key id and generates the key once; the bundle verifies', async () => {
    const out = path.join(tempDir('halfgen-out'), 'bundle');
    // Killed right after the pair is made, then one half removed: what a kill between SoftHSM's two object writes leaves.
    const killed = keyrite(['ceremony', 'run', 'root-key-generation', '--param', `subject=${ROOT_SUBJECT.subject}`, '--answers', answers, '--out', out], { KEYRITE_FAULT_KILL_AT: 'key:generated' });
    expect(killed.signal, killed.stderr).toBe('SIGKILL');
    const id = /Ceremony (\S+):/.exec(killed.stdout)![1];
    const keyId = await claimedKeyId(id);
    // The whole pair, not yet recorded: this ceremony's, and the check says so (not a stranger).
    const early = keyrite(['inventory', 'check']);
    expect(early.stdout).toMatch(new RegExp(`^UNRECORDED\\s+${keyId}\\s+Key ${keyId} .*is being made by ceremony ${id}.*keyrite ceremony resume ${id}`, 'm'));
    for (const h of conn.session.find({ class: lost, label: keyId })) conn.session.destroy(h);
    expect(conn.session.find({ label: keyId })).toHaveLength(1);

    const resumed = keyrite(['ceremony', 'resume', id, '--answers', answers]);
    expect(resumed.status, resumed.stderr).toBe(0);
    expect(conn.session.find({ class: 'private', label: keyId })).toHaveLength(1);
    expect(conn.session.find({ class: 'public', label: keyId })).toHaveLength(1);
    const v = keyrite(['verify', out]);
    expect(v.status, v.stdout + v.stderr).toBe(0);
    const generated = execFileSync('jq', ['-c', 'select(.type == "KEY_GENERATED") | .data | {keyId, reconciled}', path.join(out, 'transcript.jsonl')], { encoding: 'utf8' }).trim().split('\n');
    expect(generated).toEqual([JSON.stringify({ keyId, reconciled: false })]);
    const check = keyrite(['inventory', 'check']);
    expect(check.status, check.stdout + check.stderr).toBe(0);
  }, 180_000);
});

/** Start an unattended run, send `signal` once it works on the first step, and wait for it to end. */
function signalledRun(out: string, signal: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [keyriteBin(), 'ceremony', 'run', 'root-key-generation', '--param', `subject=${ROOT_SUBJECT.subject}`, '--answers', answers, '--out', out], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let sent = false;
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      // Once it works on the first step (the id is printed a moment before the run takes signals over).
      if (!sent && /── Step 1 of/.test(stdout)) {
        sent = true;
        child.kill(signal);
      }
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code, sig) => resolve({ code, signal: sig, stdout, stderr }));
  });
}

describe.each([
  ['SIGINT', 130],
  ['SIGTERM', 143],
] as const)('an unattended run stopped by %s', (signal, exitCode) => {
  it('says where it stopped and how to resume, with its own exit code; the resume seals a bundle that verifies', async () => {
    const out = path.join(tempDir('signal-out'), 'bundle');
    const r = await signalledRun(out, signal);
    const id = /Ceremony (\S+):/.exec(r.stdout)![1];
    expect(r.code, `${r.signal} ${r.stdout.slice(0, 400)} ${r.stderr}`).toBe(exitCode);
    expect(r.stderr.trim()).toMatch(new RegExp(`^keyrite: Stopped by .*${signal === 'SIGINT' ? 'Ctrl-C' : 'SIGTERM'}.* Resume with \`keyrite ceremony resume ${id}\`\\. \\[CEREMONY_INTERRUPTED\\]$`, 'm'));
    const resumed = keyrite(['ceremony', 'resume', id, '--answers', answers]);
    expect(resumed.status, resumed.stderr).toBe(0);
    const v = keyrite(['verify', out]);
    expect(v.status, v.stdout + v.stderr).toBe(0);
    const check = keyrite(['inventory', 'check']);
    expect(check.status, check.stdout + check.stderr).toBe(0);
    // Stopped mid-run, then finished: no PIN in the store, the lock files or the bundle.
    expect(scanForSecrets([home, out], [hsm.userPin, hsm.soPin])).toEqual([]);
  }, 180_000);
});
