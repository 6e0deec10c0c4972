import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { decodeShare } from '../../src/core/backup';
import { loadScript } from '../../src/core/ceremony/script';
import { connectHsm } from '../../src/core/hsm/connect';
import { runKeyrite } from '../helpers/cli';
import { PEOPLE, ROOT_SUBJECT, tempDir } from '../helpers/ceremony';
import { TestGpg } from '../helpers/gpg';
import { scanForSecrets } from '../helpers/secrets';
import { createTestHsm } from '../helpers/softhsm';

/**
 * Share rotation on an HSM that does not hold the key (the usual case: the key lives in the
 * production HSM, the rotation only needs the KEK). One new custodian cannot decrypt their sealed
 * share: the split is void, and the fresh split is made from the outgoing custodians' shares
 * again — never from the key, which is not there. Run through the real `keyrite` CLI with an
 * answers file; the sealed files are opened with plain `gpg`, and a drill restores the same key.
 */
const hsm = createTestHsm(['root', 'rotate', 'drill']);
const home = tempDir('rot-pgp-home');
const work = tempDir('rot-pgp-work');
const gpg = new TestGpg();
const env = (token: string) => ({ KEYRITE_HOME: home, KEYRITE_PKCS11_MODULE: hsm.modulePath, KEYRITE_TOKEN_LABEL: token, KEYRITE_PIN: hsm.userPin, KEYRITE_SO_PIN: hsm.soPin });
const keyrite = (args: string[], token: string) => runKeyrite(args, { env: env(token), timeout: 170_000 });
const base = { preflightOverride: { personId: 'ada', reason: 'test machine with a network interface' }, statements: { 'seal-shares': { bags: 'BAG-1 BAG-2 BAG-3 BAG-4 BAG-5' } } };

type Ev = { type: string; actor: string | null; data: Record<string, unknown> };
const events = (dir: string): Ev[] => readFileSync(path.join(dir, 'transcript.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Ev);
/** The people of PEOPLE with the roles `script` has. */
const forScript = (script: string) => {
  const roles = loadScript(script).script.roles.map((r) => r.id);
  return PEOPLE.map((p) => ({ ...p, roles: p.roles.filter((r) => roles.includes(r)) })).filter((p) => p.roles.length > 0);
};
/** The share texts of a drill shares file (its `#` lines are headers and comments). */
const drillShares = (file: string): string[] => readFileSync(file, 'utf8').split('\n').filter((l) => l && !l.startsWith('#'));

const root = path.join(work, 'root');
const oldShares = path.join(work, 'old-shares.txt');
let keyId: string;
const fpr: Record<string, string> = {};
const keyFiles: Record<string, { publicKey: string; secretKey: string }> = {};

beforeAll(() => {
  const answers = path.join(work, 'root.yaml');
  writeFileSync(answers, stringify({ participants: PEOPLE, parameters: { ...ROOT_SUBJECT }, ...base }));
  const r = keyrite(['ceremony', 'run', 'root-key-generation', '--answers', answers, '--out', root, '--drill-shares', oldShares], 'root');
  expect(r.status, r.stdout + r.stderr).toBe(0);
  keyId = events(root).find((e) => e.type === 'KEY_GENERATED')!.data.keyId as string;
  for (const id of ['c1', 'c2']) {
    fpr[id] = gpg.makeKey(`${id} custodian <${id}@example.org>`);
    keyFiles[id] = gpg.keyFiles(fpr[id], work, id);
  }
}, 180_000);
afterAll(() => gpg.close());

describe('share rotation where a new custodian cannot decrypt and the key is not in this HSM', () => {
  it('re-splits the KEK from the outgoing shares again, seals anew, and the final split restores the same key', () => {
    const old = drillShares(oldShares);
    expect(old).toHaveLength(5);
    // The rotation's token never held the key: nothing here can remake a backup from it.
    const conn = connectHsm(hsm.config('rotate'));
    try {
      conn.session.login(hsm.userPin);
      expect(conn.session.find({ class: 'private', label: keyId })).toHaveLength(0);
    } finally {
      conn.close();
    }
    const answers = path.join(work, 'rotate.yaml');
    writeFileSync(answers, stringify({
      ...base,
      participants: PEOPLE.map((p) => (p.id === 'c1' ? { ...p, openpgpKey: 'c1.pub.asc', openpgpTestSecretKey: 'c1.sec.asc' } : p.id === 'c2' ? { ...p, openpgpKey: 'c2.pub.asc', openpgpTestSecretKey: 'c2.sec.asc', openpgpCannotDecrypt: true } : p)),
      // Three outgoing shares for the rotation, then three (others, in another order) for the fresh split.
      shares: [old[0], old[1], old[2], old[4], old[3], old[0]],
    }));
    const out = path.join(work, 'rotated');
    const newShares = path.join(work, 'new-shares.txt');
    const r = keyrite(['ceremony', 'run', 'share-rotation', '--answers', answers, '--backup', path.join(root, 'backup', `${keyId}.backup.json`), '--out', out, '--drill-shares-out', newShares], 'rotate');
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(keyrite(['verify', out], 'rotate').status).toBe(0);

    const ev = events(out);
    const oldSplit = events(root).find((e) => e.type === 'BACKUP_WRITTEN')!.data.splitId as string;
    const backups = ev.filter((e) => e.type === 'BACKUP_WRITTEN');
    expect(backups).toHaveLength(2);
    const [voidSplit, finalSplit] = backups.map((b) => b.data.splitId as string);
    expect(new Set([oldSplit, voidSplit, finalSplit]).size).toBe(3);
    const undecryptable = ev.find((e) => e.type === 'SHARE_UNDECRYPTABLE')!;
    expect(undecryptable.data).toMatchObject({ index: 2, custodian: 'Carl Two', voidSplit, recipientFingerprint: fpr.c2, fallback: 'words' });
    expect(undecryptable.actor).toBe('c2');
    // The fresh split comes from the old split's shares (six accepted: three, then three again), not from a key.
    expect(backups[1].data).toMatchObject({ supersedes: voidSplit, resplitFrom: oldSplit, reason: 'Carl Two could not decrypt sealed share 2' });
    expect(ev.filter((e) => e.type === 'SHARE_ACCEPTED').map((e) => e.data.index)).toEqual([1, 2, 3, 5, 4, 1]);
    expect(ev.filter((e) => e.type === 'SHARE_ACCEPTED').every((e) => e.data.splitId === oldSplit)).toBe(true);
    expect(ev.filter((e) => e.type === 'KEY_GENERATED' || e.type === 'KEY_USED')).toEqual([]);
    // Carl gets words this time; Cora is sealed again; only the final split's file is left.
    expect(ev.slice(ev.indexOf(backups[1])).filter((e) => e.type === 'SHARE_ISSUED').map((e) => e.data.custodian)).toEqual(['Carl Two', 'Cleo Three', 'Cyd Four', 'Cass Five']);
    const sealedDir = `${out}-sealed-shares`;
    expect(readdirSync(sealedDir)).toEqual([`c1-${finalSplit}-share-1.asc`]);
    const final = JSON.parse(readFileSync(path.join(out, 'backup', `${keyId}.backup.json`), 'utf8')) as { split: { id: string } };
    expect(final.split.id).toBe(finalSplit);

    // Plain gpg opens Cora's file; with two word shares of the final split a drill restores the same key.
    const cora = gpg.decrypt(path.join(sealedDir, `c1-${finalSplit}-share-1.asc`));
    expect(decodeShare(cora).index).toBe(1);
    const words = drillShares(newShares);
    expect(words).toHaveLength(4);
    const drillAnswers = path.join(work, 'drill.yaml');
    writeFileSync(drillAnswers, stringify({ ...base, participants: forScript('backup-recovery-drill'), shares: [cora, words[0], words[2]] }));
    const drillOut = path.join(work, 'drill');
    const d = keyrite(['ceremony', 'run', 'backup-recovery-drill', '--answers', drillAnswers, '--backup', path.join(out, 'backup', `${keyId}.backup.json`), '--param', 'targetToken=drill', '--out', drillOut], 'rotate');
    expect(d.status, d.stdout + d.stderr).toBe(0);
    const drill = events(drillOut);
    expect(drill.filter((e) => e.type === 'SHARE_ACCEPTED').map((e) => e.data.splitId)).toEqual([finalSplit, finalSplit, finalSplit]);
    expect(drill.find((e) => e.type === 'IDENTITY_PROVEN')!.data).toMatchObject({ fingerprintMatches: true, signatureVerified: true });

    // No PIN and no share word of any split in anything Keyrite wrote (store, bundles, sealed files).
    const all = [...old, cora, ...words].flatMap((t) => t.trim().split('\n').pop()!.split(' '));
    expect(scanForSecrets([home, root, out, drillOut, sealedDir], [hsm.userPin, hsm.soPin], { shareWords: all })).toEqual([]);
  }, 300_000);

  it('killed mid sealed hand-out, resumes the same way: the outgoing shares again, never the key', () => {
    const old = drillShares(oldShares);
    const answers = path.join(work, 'rotate-kill.yaml');
    writeFileSync(answers, stringify({
      ...base,
      participants: PEOPLE.map((p) => (p.id === 'c1' || p.id === 'c2' ? { ...p, openpgpKey: `${p.id}.pub.asc`, openpgpTestSecretKey: `${p.id}.sec.asc` } : p)),
      // Each process reads the list from its start: the killed run's rotation, then the resume's fresh split.
      shares: [old[2], old[3], old[4]],
    }));
    const out = path.join(work, 'rotated-kill');
    const args = ['ceremony', 'run', 'share-rotation', '--answers', answers, '--backup', path.join(root, 'backup', `${keyId}.backup.json`), '--out', out];
    // Killed once Cora's sealed file is on the medium, before it is recorded.
    const killed = runKeyrite(args, { env: { ...env('rotate'), KEYRITE_FAULT_KILL_AT: 'sealed-share:written' }, timeout: 170_000 });
    expect(killed.signal, killed.stdout + killed.stderr).toBe('SIGKILL');
    const id = /Ceremony (\S+):/.exec(killed.stdout)![1];
    const voidFiles = readdirSync(`${out}-sealed-shares`);
    expect(voidFiles).toHaveLength(1);
    const r = keyrite(['ceremony', 'resume', id, '--answers', answers], 'rotate');
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(keyrite(['verify', out], 'rotate').status).toBe(0);
    const ev = events(out);
    const backups = ev.filter((e) => e.type === 'BACKUP_WRITTEN');
    expect(backups).toHaveLength(2);
    const finalSplit = backups[1].data.splitId as string;
    expect(backups[1].data).toMatchObject({ supersedes: backups[0].data.splitId, reason: 'shares lost when Keyrite stopped during hand-out', removedSealedFiles: voidFiles });
    expect(readdirSync(`${out}-sealed-shares`).sort()).toEqual([`c1-${finalSplit}-share-1.asc`, `c2-${finalSplit}-share-2.asc`]);
    for (const [i, id] of ['c1', 'c2'].entries()) expect(decodeShare(gpg.decrypt(path.join(`${out}-sealed-shares`, `${id}-${finalSplit}-share-${i + 1}.asc`))).index).toBe(i + 1);
  }, 300_000);
});
