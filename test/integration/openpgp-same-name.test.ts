import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeShare } from '../../src/core/backup';
import { AnswersDriver, driveWithAnswers, type Answers } from '../../src/core/ceremony/answers';
import { sealedFileName } from '../../src/core/ceremony/actions/sealed-handout';
import type { CeremonyService } from '../../src/core/ceremony/service';
import { verifyBundle } from '../../src/core/transcript';
import { answersFor, openService, PEOPLE, ROOT_SUBJECT, runToEnd, tempDir } from '../helpers/ceremony';
import { TestGpg } from '../helpers/gpg';
import { scanForSecrets } from '../helpers/secrets';
import { createTestHsm } from '../helpers/softhsm';

/**
 * Two custodians checked in under the same display name ("Sam Lee"), with different person ids:
 * one on words and one on OpenPGP, then both on OpenPGP. Each lives in a GnuPG home of their own
 * (as on their own card), so a share sealed to the wrong Sam cannot be opened by the right one.
 * Sealing, file names, the proof of possession, the records (actors, bag rows) and recovery must
 * follow the person, never the name.
 */
const hsm = createTestHsm(['words', 'both', 'drill']);
const SAM = 'Sam Lee';
const people = PEOPLE.map((p) => (p.id === 'c1' || p.id === 'c2' ? { ...p, name: SAM } : p));
const gpgOf: Record<string, TestGpg> = { c1: new TestGpg(), c2: new TestGpg() };
const keys: Record<string, { fpr: string; publicKey: string; secretKey: string }> = {};
let service: CeremonyService;

type Ev = { type: string; actor: string | null; data: Record<string, unknown> };
const events = (dir: string): Ev[] => readFileSync(path.join(dir, 'transcript.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Ev);

function participants(sealed: string[]): Answers['participants'] {
  return people.map((p) => (sealed.includes(p.id) ? { ...p, openpgpKey: keys[p.id].publicKey, openpgpTestSecretKey: keys[p.id].secretKey } : p));
}

async function root(token: string, sealed: string[]): Promise<{ out: string; ev: Ev[]; revealed: string[]; shown: string[] }> {
  const out = path.join(tempDir(`same-name-${token}`), 'bundle');
  const revealed: string[] = [];
  // Whom each hand-out and fingerprint confirmation names on screen, as the room reads it.
  const shown = new Set<string>();
  const view = await service.start({ script: 'root-key-generation', outDir: out, parameters: { threshold: 3, count: 5, ...ROOT_SUBJECT } });
  const done = await driveWithAnswers(view, (input) => service.provide(view.ceremonyId, input), new AnswersDriver(answersFor(hsm, { participants: participants(sealed) })), {
    onView: (v) => {
      if (v.revealedShare) revealed.push(v.revealedShare.words.join(' '));
      const need = v.current?.need;
      if (need?.kind === 'shareHandout') shown.add(`share ${need.shareIndex}: ${need.custodian.name}`);
      if (need?.kind === 'openpgpConfirm') shown.add(`key: ${need.custodian.name}`);
    },
  });
  expect(done.status).toBe('sealed');
  expect((await verifyBundle(out)).ok).toBe(true);
  return { out, ev: events(out), revealed, shown: [...shown] };
}

/** Who each record names: [index, actor] of an event type, in order. */
const byIndex = (ev: Ev[], type: string) => ev.filter((e) => e.type === type).map((e) => [e.data.index, e.actor]);

beforeAll(async () => {
  const dir = tempDir('same-name-keys');
  for (const id of ['c1', 'c2']) {
    // The same user id on both keys: nothing but the person id tells them apart.
    const fpr = gpgOf[id].makeKey(`${SAM} <sam@example.org>`);
    keys[id] = { fpr, ...gpgOf[id].keyFiles(fpr, dir, id) };
  }
}, 120_000);
afterAll(async () => {
  await service?.close();
  for (const g of Object.values(gpgOf)) g.close();
});

describe('two custodians named Sam Lee, one sealed (c1) and one on words (c2)', () => {
  let run: Awaited<ReturnType<typeof root>>;
  beforeAll(async () => {
    service = await reopen('words');
    run = await root('words', ['c1']);
  }, 120_000);

  it('seals share 1 to c1\'s key and shows share 2 to c2, and every record names the right person', () => {
    const split = run.ev.find((e) => e.type === 'BACKUP_WRITTEN')!.data.splitId as string;
    const sealed = run.ev.filter((e) => e.type === 'SHARE_SEALED');
    expect(sealed.map((e) => [e.data.index, e.actor, e.data.recipientFingerprint, e.data.fileName])).toEqual([[1, 'c1', keys.c1.fpr, `c1-${split}-share-1.asc`]]);
    expect(run.ev.filter((e) => e.type === 'SHARE_ISSUED').map((e) => e.data.index)).toEqual([2, 3, 4, 5]);
    expect(byIndex(run.ev, 'SHARE_CONFIRMED')).toEqual([[1, 'c1'], [2, 'c2'], [3, 'c3'], [4, 'c4'], [5, 'c5']]);
    expect(run.ev.filter((e) => e.type === 'SHARE_CONFIRMED').map((e) => e.data.delivery ?? 'words')).toEqual(['openpgp', 'words', 'words', 'words', 'words']);
    const bags = run.ev.find((e) => e.type === 'STATEMENT_RECORDED' && e.data.bags)!.data.bags as Array<{ shareIndex: number; custodianId: string }>;
    expect(bags.map((b) => [b.shareIndex, b.custodianId])).toEqual([[1, 'c1'], [2, 'c2'], [3, 'c3'], [4, 'c4'], [5, 'c5']]);
    expect(readdirSync(`${run.out}-sealed-shares`)).toEqual([`c1-${split}-share-1.asc`]);
    // The screen tells the two apart by id ("everyone except Sam Lee looks away" would not).
    expect(run.shown).toEqual(['key: Sam Lee (c1)', 'share 1: Sam Lee (c1)', 'share 2: Sam Lee (c2)', 'share 3: Cleo Three', 'share 4: Cyd Four', 'share 5: Cass Five']);
  });

  it('recovery takes each Sam\'s share as their own: c1 decrypts hers, c2 types his words', async () => {
    const text = gpgOf.c1.decrypt(path.join(`${run.out}-sealed-shares`, readdirSync(`${run.out}-sealed-shares`)[0]));
    expect(decodeShare(text).index).toBe(1);
    // c2's own key cannot open c1's share: it was sealed to the person, not to the name.
    expect(() => gpgOf.c2.decrypt(path.join(`${run.out}-sealed-shares`, readdirSync(`${run.out}-sealed-shares`)[0]))).toThrow();
    const drill = await drillWith(run, [run.revealed[0], text, run.revealed[1]]);
    expect(drill.filter((e) => e.type === 'SHARE_ACCEPTED').map((e) => [e.data.index, e.data.custodian])).toEqual([[2, SAM], [1, SAM], [3, 'Cleo Three']]);
    expect(drill.find((e) => e.type === 'IDENTITY_PROVEN')!.data).toMatchObject({ fingerprintMatches: true, signatureVerified: true });
  }, 120_000);
});

describe('two custodians named Sam Lee, both sealed', () => {
  let run: Awaited<ReturnType<typeof root>>;
  beforeAll(async () => {
    service = await reopen('both');
    run = await root('both', ['c1', 'c2']);
  }, 120_000);

  it('each share goes to its own Sam\'s key, in a file of its own that only that Sam can open', () => {
    const split = run.ev.find((e) => e.type === 'BACKUP_WRITTEN')!.data.splitId as string;
    const sealed = run.ev.filter((e) => e.type === 'SHARE_SEALED');
    expect(sealed.map((e) => [e.data.index, e.actor, e.data.recipientFingerprint])).toEqual([[1, 'c1', keys.c1.fpr], [2, 'c2', keys.c2.fpr]]);
    expect(byIndex(run.ev, 'SHARE_CONFIRMED')).toEqual([[1, 'c1'], [2, 'c2'], [3, 'c3'], [4, 'c4'], [5, 'c5']]);
    expect(run.ev.filter((e) => e.type === 'SHARE_CONFIRMED' && e.data.delivery === 'openpgp').map((e) => e.data.recipientFingerprint)).toEqual([keys.c1.fpr, keys.c2.fpr]);
    expect(run.shown.slice(0, 4)).toEqual(['key: Sam Lee (c1)', 'key: Sam Lee (c2)', 'share 1: Sam Lee (c1)', 'share 2: Sam Lee (c2)']);
    const dir = `${run.out}-sealed-shares`;
    const files = readdirSync(dir).sort();
    expect(files).toEqual([`c1-${split}-share-1.asc`, `c2-${split}-share-2.asc`]);
    for (const [i, id] of ['c1', 'c2'].entries()) {
      const other = id === 'c1' ? 'c2' : 'c1';
      expect(decodeShare(gpgOf[id].decrypt(path.join(dir, files[i]))).index).toBe(i + 1);
      expect(() => gpgOf[other].decrypt(path.join(dir, files[i])), `${other} opened ${id}'s share`).toThrow();
    }
  });

  it('the two Sams\' shares and a third restore the key; no share word is in any written file', async () => {
    const dir = `${run.out}-sealed-shares`;
    const [one, two] = readdirSync(dir).sort().map((f, i) => gpgOf[`c${i + 1}`].decrypt(path.join(dir, f)));
    const drill = await drillWith(run, [two, run.revealed[0], one]);
    expect(drill.filter((e) => e.type === 'SHARE_ACCEPTED').map((e) => e.data.index)).toEqual([2, 3, 1]);
    expect(drill.find((e) => e.type === 'IDENTITY_PROVEN')!.data).toMatchObject({ fingerprintMatches: true, signatureVerified: true });
    const words = [one, two, ...run.revealed].flatMap((t) => t.trim().split('\n').pop()!.split(' '));
    expect(scanForSecrets([run.out, dir], [], { shareWords: words })).toEqual([]);
  }, 120_000);
});

describe('sealed file names', () => {
  it.each([
    ['same name, different ids', ['c1', 'c2'], [1, 2]],
    ['ids differing only in case (a FAT medium folds case)', ['Sam', 'sam'], [1, 2]],
    ['an id that looks like a split and index', ['a', 'a-0000-0000-share-1'], [1, 12]],
  ])('cannot collide within a split: %s', (_name, ids, indices) => {
    const names = ids.map((id, i) => sealedFileName(id, '7F3A-91C2', indices[i]));
    expect(new Set(names).size).toBe(2);
    expect(new Set(names.map((n) => n.toLowerCase())).size).toBe(2);
    for (const [i, n] of names.entries()) expect(n).toMatch(new RegExp(`-7F3A-91C2-share-${indices[i]}\\.asc$`));
  });
});

async function reopen(token: string): Promise<CeremonyService> {
  await service?.close();
  return openService(tempDir(`same-name-home-${token}`), hsm.config(token));
}

async function drillWith(run: { out: string; ev: Ev[] }, shares: string[]): Promise<Ev[]> {
  const keyId = run.ev.find((e) => e.type === 'KEY_GENERATED')!.data.keyId as string;
  const drillOut = path.join(tempDir('same-name-drill'), 'bundle');
  const view = await service.start({ script: 'backup-recovery-drill', outDir: drillOut, backupFile: path.join(run.out, 'backup', `${keyId}.backup.json`), parameters: { targetToken: 'drill' } });
  const done = await runToEnd(service, view, answersFor(hsm, { participants: people, shares }));
  expect(done.status).toBe('sealed');
  return events(drillOut);
}
