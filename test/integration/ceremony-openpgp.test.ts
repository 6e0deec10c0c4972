import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeShare, encodeShare } from '../../src/core/backup';
import type { Answers } from '../../src/core/ceremony/answers';
import type { CeremonyService } from '../../src/core/ceremony/service';
import type { CeremonyView, StepInput } from '../../src/core/ceremony/types';
import { CeremonyRepository } from '../../src/core/store/ceremonies';
import { verifyBundle } from '../../src/core/transcript';
import { answersFor, openService, PEOPLE, ROOT_SUBJECT, runToEnd, tempDir } from '../helpers/ceremony';
import { TestGpg } from '../helpers/gpg';
import { scanForSecrets } from '../helpers/secrets';
import { createTestHsm } from '../helpers/softhsm';

/**
 * A root ceremony where three of five custodians enrolled their own OpenPGP keys (made by real
 * GnuPG): their shares are sealed to those keys and never shown, opened with plain `gpg
 * --decrypt` (not Keyrite) and used in a recovery drill that restores the same key.
 */
const hsm = createTestHsm(['root', 'drill', 'fresh', 'refuse', 'card']);
const home = tempDir('pgp-home');
const gpg = new TestGpg();
const keyDir = tempDir('pgp-keys');
const fpr: Record<string, string> = {};
const files: Record<string, { publicKey: string; secretKey: string }> = {};
let service: CeremonyService;
let bundle: string;
let rootView: CeremonyView;
const revealed: string[] = [];

type Ev = { type: string; actor: string | null; data: Record<string, unknown> };
const events = (dir: string): Ev[] => readFileSync(path.join(dir, 'transcript.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Ev);

/** c1, c2, c3 present keys; c4 and c5 take words on screen. */
function enrolled(extra: Record<string, Partial<NonNullable<Answers['participants']>[number]>> = {}): Answers['participants'] {
  return PEOPLE.map((p) => (files[p.id] ? { ...p, openpgpKey: files[p.id].publicKey, openpgpTestSecretKey: files[p.id].secretKey, ...extra[p.id] } : p));
}

beforeAll(async () => {
  for (const id of ['c1', 'c2', 'c3']) {
    fpr[id] = gpg.makeKey(`${id} custodian <${id}@example.org>`);
    files[id] = gpg.keyFiles(fpr[id], keyDir, id);
  }
  service = await openService(home, hsm.config('root'));
  bundle = path.join(tempDir('pgp-out'), 'bundle');
  const view = await service.start({ script: 'root-key-generation', outDir: bundle, parameters: { threshold: 3, count: 5, ...ROOT_SUBJECT } });
  rootView = await runToEnd(service, view, answersFor(hsm, { participants: enrolled() }), revealed);
}, 120_000);
afterAll(async () => {
  await service?.close();
  gpg.close();
});

const sealedDir = (): string => `${bundle}-sealed-shares`;

describe('a root ceremony with three of five custodians on OpenPGP', () => {
  it('seals, and records the confirmed fingerprints, the files\' SHA-256 and the recipients', () => {
    expect(rootView.status).toBe('sealed');
    const ev = events(bundle);
    const enrolledEv = ev.filter((e) => e.type === 'OPENPGP_KEY_ENROLLED');
    expect(enrolledEv.map((e) => e.data.fingerprint)).toEqual(['c1', 'c2', 'c3'].map((id) => fpr[id]));
    expect(enrolledEv.map((e) => e.actor)).toEqual(['c1', 'c2', 'c3']);
    const sealed = ev.filter((e) => e.type === 'SHARE_SEALED');
    expect(sealed).toHaveLength(3);
    const splitId = ev.find((e) => e.type === 'BACKUP_WRITTEN')!.data.splitId as string;
    for (const [i, e] of sealed.entries()) {
      const id = `c${i + 1}`;
      expect(e.data).toMatchObject({ index: i + 1, recipientFingerprint: fpr[id], fileName: `${id}-${splitId}-share-${i + 1}.asc`, dir: sealedDir() });
      const bytes = readFileSync(path.join(sealedDir(), e.data.fileName as string));
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(e.data.sha256);
      expect(bytes.toString('utf8')).toMatch(/^-----BEGIN PGP MESSAGE-----/);
    }
    // Words were shown only to the two custodians without a key; all five proved possession.
    expect(ev.filter((e) => e.type === 'SHARE_ISSUED').map((e) => e.data.custodian)).toEqual(['Cyd Four', 'Cass Five']);
    expect(revealed).toHaveLength(2);
    const confirmed = ev.filter((e) => e.type === 'SHARE_CONFIRMED');
    expect(confirmed).toHaveLength(5);
    expect(confirmed.filter((e) => e.data.delivery === 'openpgp').map((e) => e.data.recipientFingerprint)).toEqual(['c1', 'c2', 'c3'].map((id) => fpr[id]));
  });

  it('the bundle verifies and holds no sealed share (they are beside it, on the custodians\' media)', async () => {
    const report = await verifyBundle(bundle);
    expect(report.ok).toBe(true);
    expect(report.files.some((f) => f.endsWith('.asc'))).toBe(false);
    expect(readdirSync(sealedDir()).sort()).toHaveLength(3);
  });

  it('plain gpg opens each sealed file to the documented share text, and the drill restores the same key from it', async () => {
    const ev = events(bundle);
    const opened = ev.filter((e) => e.type === 'SHARE_SEALED').map((e) => gpg.decrypt(path.join(sealedDir(), e.data.fileName as string)));
    for (const [i, text] of opened.entries()) {
      const share = decodeShare(text);
      expect(share.index).toBe(i + 1);
      expect(text).toMatch(new RegExp(`^share ${i + 1} of 5 · needs 3 · split [0-9A-F]{4}-[0-9A-F]{4}\\n(\\S+ ){32}\\S+\\n$`));
    }
    const keyId = ev.find((e) => e.type === 'KEY_GENERATED')!.data.keyId as string;
    const drillOut = path.join(tempDir('pgp-drill'), 'bundle');
    const view = await service.start({ script: 'backup-recovery-drill', outDir: drillOut, backupFile: path.join(bundle, 'backup', `${keyId}.backup.json`), parameters: { targetToken: 'drill' } });
    // The sealed file itself, handed over by mistake, is refused with its own code, not "unknown word".
    const toShares = await advanceTo(view, 'shareEntry', answersFor(hsm));
    const wrong = await service.provide(view.ceremonyId, { kind: 'share', text: readFileSync(path.join(sealedDir(), ev.find((e) => e.type === 'SHARE_SEALED')!.data.fileName as string), 'utf8') });
    expect(wrong.lastError?.code).toBe('SHARE_FILE_ENCRYPTED');
    // Two decrypted files and one share typed from words: the same decoder, checksum and digest.
    const done = await runToEnd(service, toShares, answersFor(hsm, { shares: [opened[2], revealed[0], opened[0]] }));
    expect(done.status).toBe('sealed');
    const drill = events(drillOut);
    expect(drill.filter((e) => e.type === 'SHARE_ACCEPTED').map((e) => e.data.index)).toEqual([3, 4, 1]);
    expect(drill.find((e) => e.type === 'IDENTITY_PROVEN')!.data).toMatchObject({ fingerprintMatches: true, signatureVerified: true });
    expect((await verifyBundle(drillOut)).ok).toBe(true);
    // Canary: no run of share words in any file written — bundles, store, sealed files, drill.
    const words = [...revealed, ...opened].flatMap((t) => encodeShare(decodeShare(t)));
    expect(scanForSecrets([home, bundle, drillOut, sealedDir()], [], { shareWords: words })).toEqual([]);
    for (const e of [...ev, ...drill]) for (const t of [...revealed, ...opened]) expect(JSON.stringify(e)).not.toContain(t.trim().split('\n').pop()!.split(' ').slice(5, 8).join(' '));
  }, 120_000);
});

describe('share rotation moves custodians between words and OpenPGP', () => {
  it('Cora (sealed) moves to words, Cyd (words) brings a key; the new split restores nothing old', async () => {
    const ev = events(bundle);
    const keyId = ev.find((e) => e.type === 'KEY_GENERATED')!.data.keyId as string;
    const opened = ev.filter((e) => e.type === 'SHARE_SEALED').map((e) => gpg.decrypt(path.join(sealedDir(), e.data.fileName as string)));
    // Cyd's new key is local to this test: the other tests enrol c1–c3 only.
    const c4 = gpg.makeKey('c4 custodian <c4@example.org>');
    const c4Files = gpg.keyFiles(c4, keyDir, 'c4');
    const moved = enrolled()!.map((p) => (p.id === 'c1' ? { id: p.id, name: p.name, roles: p.roles } : p.id === 'c4' ? { ...p, openpgpKey: c4Files.publicKey, openpgpTestSecretKey: c4Files.secretKey } : p));
    const out = path.join(tempDir('pgp-rotate'), 'bundle');
    const shown: string[] = [];
    const view = await service.start({ script: 'share-rotation', outDir: out, backupFile: path.join(bundle, 'backup', `${keyId}.backup.json`), parameters: { threshold: 3, count: 5 } });
    const done = await runToEnd(service, view, answersFor(hsm, { participants: moved, shares: [opened[1], revealed[0], opened[2]] }), shown);
    expect(done.status).toBe('sealed');
    const rot = events(out);
    expect(rot.filter((e) => e.type === 'OPENPGP_KEY_ENROLLED').map((e) => e.data.personId)).toEqual(['c2', 'c3', 'c4']);
    expect(rot.filter((e) => e.type === 'SHARE_SEALED').map((e) => [e.data.custodian, e.data.recipientFingerprint])).toEqual([['Carl Two', fpr.c2], ['Cleo Three', fpr.c3], ['Cyd Four', c4]]);
    expect(rot.filter((e) => e.type === 'SHARE_ISSUED').map((e) => e.data.custodian)).toEqual(['Cora One', 'Cass Five']);
    const newSplit = rot.find((e) => e.type === 'SHARES_RESPLIT')!.data.newSplitId as string;
    expect(readdirSync(`${out}-sealed-shares`).sort()).toEqual([`c2-${newSplit}-share-2.asc`, `c3-${newSplit}-share-3.asc`, `c4-${newSplit}-share-4.asc`]);
    expect((await verifyBundle(out)).ok).toBe(true);
  }, 120_000);
});

/** Drive with answers until the need is `kind` (answers that stop short of it). */
async function advanceTo(start: CeremonyView, kind: string, answers: Answers, on: CeremonyService = service): Promise<CeremonyView> {
  const { AnswersDriver } = await import('../../src/core/ceremony/answers');
  const driver = new AnswersDriver(answers);
  let view = start;
  while (view.current && view.current.need.kind !== kind) {
    const input = await driver.nextAsync(view);
    view = await on.provide(view.ceremonyId, input!);
    expect(view.lastError).toBeNull();
  }
  return view;
}

describe('the sealed hand-out refuses what does not fit it', () => {
  it('no folder inside the bundle or missing, no reveal, a card only once written — and that card has no words', async () => {
    const s = await openService(tempDir('pgp-card-home'), hsm.config('card'));
    try {
      const out = path.join(tempDir('pgp-card'), 'bundle');
      let view = await s.start({ script: 'root-key-generation', outDir: out, parameters: { threshold: 3, count: 5, ...ROOT_SUBJECT } });
      view = await advanceTo(view, 'shareHandout', answersFor(hsm, { participants: enrolled() }), s);
      const need = view.current!.need;
      if (need.kind !== 'shareHandout') throw new Error(need.kind);
      expect(need).toMatchObject({ phase: 'seal', shareIndex: 1, sealed: { recipientFingerprint: fpr.c1, defaultDir: `${out}-sealed-shares` } });
      expect(need.sealed!.file).toBeUndefined();
      await expect(s.shareCard(view.ceremonyId)).rejects.toMatchObject({ code: 'SHARE_CARD_UNAVAILABLE' });
      const tries: Array<[StepInput, string]> = [
        [{ kind: 'shareSeal', dir: path.join(out, 'backup') }, 'SHARE_SEAL_DIR'],
        [{ kind: 'shareSeal', dir: path.join(tempDir('pgp-card-x'), 'not-mounted') }, 'SHARE_SEAL_DIR'],
        [{ kind: 'shareAck' }, 'CEREMONY_INPUT_UNEXPECTED'],
        [{ kind: 'shareReshow' }, 'CEREMONY_INPUT_UNEXPECTED'],
        [{ kind: 'shareCannotDecrypt' }, 'CEREMONY_INPUT_UNEXPECTED'],
        [{ kind: 'shareConfirm', words: ['abandon'] }, 'CEREMONY_INPUT_UNEXPECTED'],
      ];
      for (const [input, code] of tries) expect((await s.provide(view.ceremonyId, input)).lastError?.code, JSON.stringify(input)).toBe(code);
      const medium = tempDir('pgp-card-medium');
      view = await s.provide(view.ceremonyId, { kind: 'shareSeal', dir: medium });
      expect(view.lastError).toBeNull();
      const sealed = view.current!.need;
      if (sealed.kind !== 'shareHandout' || !sealed.sealed?.file) throw new Error('not sealed');
      expect(sealed.phase).toBe('confirm');
      expect(sealed.confirmPositions).toHaveLength(4);
      expect(view.revealedShare).toBeUndefined();
      const words = gpg.decrypt(sealed.sealed.file.path).trim().split('\n').pop()!.split(' ');
      const card = await s.shareCard(view.ceremonyId);
      expect(card.html).toContain(sealed.sealed.file.sha256);
      expect(card.html).toContain(sealed.sealed.file.name);
      // No run of its words (single words can be ordinary English on the card: "file", "key", "own").
      const cardText = card.html.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ');
      for (let i = 0; i + 2 <= words.length; i++) expect(cardText).not.toContain(words.slice(i, i + 2).join(' '));
      // A wrong read-back names the file to check again.
      const wrong = await s.provide(view.ceremonyId, { kind: 'shareConfirm', words: sealed.confirmPositions!.map(() => 'zoo') });
      expect(wrong.lastError?.code).toBe('SHARE_CONFIRM_MISMATCH');
      expect(wrong.lastError?.message).toContain(sealed.sealed.file.name);
      const right = await s.provide(view.ceremonyId, { kind: 'shareConfirm', words: sealed.confirmPositions!.map((p) => words[p].slice(0, 4).toUpperCase()) });
      expect(right.lastError).toBeNull();
      const next = right.current!.need;
      expect(next).toMatchObject({ kind: 'shareHandout', shareIndex: 2, phase: 'seal' });
      const ev = (await new CeremonyRepository(s.deps.store).events(view.ceremonyId)) as Ev[];
      // A file already there under the name share 2 would get is refused, never overwritten.
      const split = ev.find((e) => e.type === 'BACKUP_WRITTEN')!.data.splitId as string;
      writeFileSync(path.join(medium, `c2-${split}-share-2.asc`), 'someone else\'s file');
      expect((await s.provide(view.ceremonyId, { kind: 'shareSeal', dir: medium })).lastError?.code).toBe('SHARE_SEAL_EXISTS');
      expect(readFileSync(path.join(medium, `c2-${split}-share-2.asc`), 'utf8')).toBe('someone else\'s file');
      expect(ev.find((e) => e.type === 'SHARE_CARD_PRINTED')!.data).toMatchObject({ index: 1, sealed: true, sha256: sealed.sealed.file.sha256 });
      await s.abort(view.ceremonyId, 'test ends here after share 1', 'ada');
    } finally {
      await s.close();
    }
  }, 120_000);
});

describe('a custodian who cannot decrypt', () => {
  it('voids the split (recorded), removes its sealed files, and gets words in a fresh split', async () => {
    const out = path.join(tempDir('pgp-fresh'), 'bundle');
    const s = await openService(tempDir('pgp-fresh-home'), hsm.config('fresh'));
    try {
      const shown: string[] = [];
      const view = await s.start({ script: 'root-key-generation', outDir: out, parameters: { threshold: 3, count: 5, ...ROOT_SUBJECT } });
      const done = await runToEnd(s, view, answersFor(hsm, { participants: enrolled({ c2: { openpgpCannotDecrypt: true } }) }), shown);
      expect(done.status).toBe('sealed');
      const ev = events(out);
      const backups = ev.filter((e) => e.type === 'BACKUP_WRITTEN');
      expect(backups).toHaveLength(2);
      const [first, second] = backups.map((b) => b.data.splitId as string);
      expect(second).not.toBe(first);
      const undecryptable = ev.find((e) => e.type === 'SHARE_UNDECRYPTABLE')!;
      expect(undecryptable.data).toMatchObject({ index: 2, custodian: 'Carl Two', voidSplit: first, recipientFingerprint: fpr.c2, fallback: 'words' });
      expect(undecryptable.data.removedSealedFiles).toEqual([`c1-${first}-share-1.asc`, `c2-${first}-share-2.asc`]);
      expect(backups[1].data).toMatchObject({ supersedes: first, reason: 'Carl Two could not decrypt sealed share 2' });
      // In the fresh split Carl receives words; Cora and Cleo are sealed again; only live files remain.
      const issuedAfter = ev.slice(ev.indexOf(backups[1])).filter((e) => e.type === 'SHARE_ISSUED').map((e) => e.data.custodian);
      expect(issuedAfter).toEqual(['Carl Two', 'Cyd Four', 'Cass Five']);
      expect(readdirSync(`${out}-sealed-shares`).sort()).toEqual([`c1-${second}-share-1.asc`, `c3-${second}-share-3.asc`]);
      expect((await verifyBundle(out)).ok).toBe(true);
    } finally {
      await s.close();
    }
  }, 120_000);
});

describe('keys refused at check-in', () => {
  let s: CeremonyService;
  let view: CeremonyView;
  const keys: Record<string, string> = {};
  beforeAll(async () => {
    keys.weak = gpg.publicKey(gpg.makeKey('Wes Weak <wes@example.org>', 'rsa1024', 'rsa1024'));
    // Made "in 2010" in a home of its own: with today's keys in the keyring, gpg's trustdb check at a
    // faked time sees keys from the future and may fail the run.
    const past = new TestGpg();
    try {
      keys.expired = past.publicKey(past.makeKey('Eve Expired <eve@example.org>', 'ed25519', 'cv25519', ['--faked-system-time', '20100101T000000']));
    } finally {
      past.close();
    }
    keys.signOnly = gpg.publicKey(gpg.makeKey('Sid Signonly <sid@example.org>', 'ed25519', null));
    keys.good = gpg.publicKey(fpr.c1);
    const lines = keys.good.split('\n');
    const body = lines.findIndex((l) => l === '') + 3;
    keys.tampered = [...lines.slice(0, body), ...lines.slice(body + 1)].join('\n');
    s = await openService(tempDir('pgp-refuse-home'), hsm.config('refuse'));
    view = await s.start({ script: 'root-key-generation', outDir: path.join(tempDir('pgp-refuse'), 'bundle'), parameters: { threshold: 3, count: 5, ...ROOT_SUBJECT } });
  }, 120_000);
  afterAll(async () => s?.close());

  const checkIn = (withKeys: Record<string, string>): StepInput => ({ kind: 'participants', participants: PEOPLE.map((p) => (withKeys[p.id] ? { ...p, openpgpKey: withKeys[p.id] } : p)) });

  it.each([
    ['an RSA-1024 key', { c1: 'weak' }, 'OPENPGP_KEY_WEAK'],
    ['an expired key', { c2: 'expired' }, 'OPENPGP_KEY_EXPIRED'],
    ['a key without an encryption subkey', { c3: 'signOnly' }, 'OPENPGP_KEY_NO_ENCRYPTION'],
    ['the same key for two custodians', { c1: 'good', c4: 'good' }, 'OPENPGP_KEY_REUSED'],
    ['an armor with a line cut out', { c1: 'tampered' }, 'OPENPGP_KEY_INVALID'],
    ['garbage', { c1: 'garbage' }, 'OPENPGP_KEY_INVALID'],
    ['a key on a witness', { wren: 'good' }, 'OPENPGP_KEY_NOT_CUSTODIAN'],
  ])('%s is refused with its code, naming the custodian, and nothing is recorded', async (_name, which, code) => {
    const given = Object.fromEntries(Object.entries(which).map(([id, k]) => [id, keys[k] ?? 'not a key at all']));
    const v = await s.provide(view.ceremonyId, checkIn(given));
    expect(v.lastError?.code).toBe(code);
    expect(v.lastError?.message).toMatch(/Cora One|Carl Two|Cleo Three|Cyd Four|Wren Witness/);
    expect(v.participants).toEqual([]);
    expect(v.current?.need.kind).toBe('participants');
  });

  it('a wrong fingerprint tail is refused; "not my key" drops the key (recorded) and the custodian gets words', async () => {
    let v = await s.provide(view.ceremonyId, checkIn({ c1: keys.good }));
    expect(v.lastError).toBeNull();
    const need = v.current!.need;
    if (need.kind !== 'openpgpConfirm') throw new Error(`expected openpgpConfirm, got ${need.kind}`);
    expect(need).toMatchObject({ custodian: { id: 'c1' }, fingerprint: fpr.c1, tailLength: 8, remaining: 0 });
    expect(need.fingerprintWords).toHaveLength(20);
    expect(need.fingerprintGroups.replace(/ /g, '')).toBe(fpr.c1);
    v = await s.provide(view.ceremonyId, { kind: 'openpgpConfirm', typed: '00000000' });
    expect(v.lastError?.code).toBe('OPENPGP_FINGERPRINT_MISMATCH');
    v = await s.provide(view.ceremonyId, { kind: 'openpgpReject' });
    expect(v.lastError).toBeNull();
    expect(v.current?.need.kind).toBe('signoff');
    const ev = (await new CeremonyRepository(s.deps.store).events(view.ceremonyId)) as Ev[];
    expect(ev.find((e) => e.type === 'OPENPGP_KEY_REJECTED')!.data).toMatchObject({ personId: 'c1', fingerprint: fpr.c1, fallback: 'words' });
    expect(ev.some((e) => e.type === 'OPENPGP_KEY_ENROLLED')).toBe(false);
    expect(existsSync(path.join(keyDir, 'c1.pub.asc'))).toBe(true);
  });
});
