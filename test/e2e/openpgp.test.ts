import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_SO_PIN, DEMO_USER_PIN } from '../../src/core/hsm/config';
import { scanForSecrets } from '../helpers/secrets';
import { TestGpg } from '../helpers/gpg';
import { ARTIFACTS, E2eApp, inPage } from './helpers/harness';
import { currentScreen, drive, focusedText, runnerState, tabTo, waitForChange, type DriveOptions } from './helpers/keyboard-driver';
import { ROOT_PEOPLE, shotSizes, SIZES, startDrillFromHome, startFromHome } from './helpers/screens';

// Shares sealed to custodians' own OpenPGP keys, in the built renderer, keyboard only, through the
// real handler table and the real core on the demo SoftHSM token. The keys are real (plain `gpg
// --batch` in a throw-away GNUPGHOME: the custodians' own devices), and so is the decryption.
const app = new E2eApp();
const gpg = new TestGpg();
let page: Awaited<ReturnType<E2eApp['start']>>;
const media = mkdtempSync(path.join(os.tmpdir(), 'keyrite-pgp-media-'));
/** The custodians' removable medium: their public key files, and a sealed share written there. */
const usb = path.join(media, 'usb');
/** The custodians' own devices: where they decrypt. Outside every scanned folder; removed at the end. */
const device = mkdtempSync(path.join(os.tmpdir(), 'keyrite-pgp-device-'));
const bundle = path.join(media, 'root-pgp');

// Five custodians present a key; Cass says at the fingerprint it is not hers and Cyd cannot decrypt,
// so both move to words and the final split is 3 of 5 sealed.
const ENROLLED = ['Cora Custodian', 'Carl Custodian', 'Cleo Custodian', 'Cyd Custodian'];
// Cass presents a key too, but says at the fingerprint that it is not hers: she gets words.
const PRESENTED = [...ENROLLED, 'Cass Custodian'];
/** Keys check-in must refuse, made as a careless custodian's gpg would. */
const HOSTILE = {
  weak: (uid: string) => gpg.makeKey(uid, 'rsa1024', 'rsa1024'),
  expired: (uid: string) => gpg.makeKey(uid, 'ed25519', 'cv25519', ['--faked-system-time', '20200101T000000']),
  'sign-only': (uid: string) => gpg.makeKey(uid, 'ed25519', null),
};
const keys = new Map<string, { fingerprint: string; armored: string; file: string }>();

/** Every page text and DOM seen, in memory: checked against the sealed shares once they are decrypted. */
const seen: Array<{ where: string; text: string }> = [];
async function record(where: string): Promise<void> {
  seen.push({ where: `${where} (text)`, text: await inPage.bodyText(page) }, { where: `${where} (DOM)`, text: await page.content() });
}

/** A share text as the custodian's `gpg --decrypt` prints it: the header line, then the 33 words. */
function wordsOf(text: string): string[] {
  return text.trim().split(/\s+/).filter((w) => /^[a-z]+$/.test(w)).slice(-33);
}

/** What the custodian's own device does with a sealed file; the plaintext stays on the device. */
const decrypted = new Map<string, string[]>();
function decryptOnDevice(file: string): string[] {
  const known = decrypted.get(file);
  if (known) return known;
  const words = wordsOf(gpg.decrypt(file));
  expect(words).toHaveLength(33);
  decrypted.set(file, words);
  return words;
}

function tail(name: string, digits: number): string {
  return keys.get(name)!.fingerprint.slice(-digits);
}

function events(dir: string): Array<{ type: string; data: Record<string, unknown> }> {
  return readFileSync(path.join(dir, 'transcript.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { type: string; data: Record<string, unknown> });
}

const row = (name: string) => page.locator(`.openpgp-key[data-person="${name}"]`);

/** The key file on the medium, chosen in main's dialog (the harness answers it), by keyboard. */
async function keyFromFile(name: string, file: string): Promise<void> {
  app.willPick('openpgpKey', file);
  await tabTo(page, new RegExp(`^Choose the OpenPGP key file of ${name}$`));
  await page.keyboard.press('Enter');
}

async function removeKey(name: string): Promise<void> {
  await tabTo(page, new RegExp(`^Remove the OpenPGP key of ${name}$`));
  await page.keyboard.press('Enter');
  await row(name).locator('.openpgp-loaded').waitFor({ state: 'detached' });
}

async function submitCheckIn(): Promise<string> {
  const before = await runnerState(page);
  await tabTo(page, /^Check in 8 people$/);
  await page.keyboard.press('Enter');
  return waitForChange(page, before);
}

beforeAll(async () => {
  page = await app.start();
  mkdirSync(usb);
  for (const name of PRESENTED) {
    const fingerprint = gpg.makeKey(`${name} <${name.split(' ')[0].toLowerCase()}@example.test>`);
    const armored = gpg.publicKey(fingerprint);
    const file = path.join(usb, `${name.split(' ')[0].toLowerCase()}.asc`);
    writeFileSync(file, armored);
    keys.set(name, { fingerprint, armored, file });
  }
}, 120_000);
afterAll(async () => {
  await app.close();
  gpg.close();
  rmSync(device, { recursive: true, force: true });
});

const revealed = new Map<number, string[]>();

describe('root ceremony with shares sealed to custodians\' OpenPGP keys', () => {
  it('enrols keys at check-in, refusing bad ones on their own row and keeping the others', async () => {
    await page.locator('h1').waitFor();
    await startFromHome(page, 'Root key generation', bundle);
    expect(await currentScreen(page)).toBe('check-in');
    for (let i = 0; i < ROOT_PEOPLE.length; i++) {
      await page.keyboard.type(ROOT_PEOPLE[i]);
      if (i < ROOT_PEOPLE.length - 1) await page.keyboard.press('Enter');
    }
    // Only custodians may bring a key.
    expect(await page.locator('.openpgp-key').count()).toBe(5);

    // Cora: her key file from the medium. Focus lands on its "Remove key", keeping the keyboard's place.
    await keyFromFile('Cora Custodian', keys.get('Cora Custodian')!.file);
    await row('Cora Custodian').locator('.openpgp-loaded').waitFor();
    expect(await row('Cora Custodian').locator('.openpgp-loaded').textContent()).toContain('cora.asc');
    expect(await focusedText(page)).toBe('Remove the OpenPGP key of Cora Custodian');

    // Carl: pasted.
    await tabTo(page, /^Paste the OpenPGP key of Carl Custodian$/);
    await page.keyboard.press('Enter');
    expect(await focusedText(page)).toBe('Paste the OpenPGP public key of Carl Custodian');
    await page.keyboard.insertText(keys.get('Carl Custodian')!.armored);
    await page.keyboard.press('Tab');
    expect(await focusedText(page)).toBe('Use this key');
    await page.keyboard.press('Enter');
    await row('Carl Custodian').locator('.openpgp-loaded').waitFor();
    expect(await row('Carl Custodian').locator('.openpgp-loaded').textContent()).toContain('pasted');

    // Hostile pastes are refused on the row at once: not a key at all.
    await tabTo(page, /^Paste the OpenPGP key of Cleo Custodian$/);
    await page.keyboard.press('Enter');
    await page.keyboard.insertText('my key is on my laptop');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    expect(await row('Cleo Custodian').locator('.row-problem').getAttribute('data-code')).toBe('OPENPGP_KEY_INVALID');
    await tabTo(page, /^Cancel$/);
    await page.keyboard.press('Enter');

    // A private key file never crosses into the page: main refuses it, on Cleo's row.
    const secretKeyFile = path.join(usb, 'cleo-secret.asc');
    writeFileSync(secretKeyFile, '-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nlQdGBGZ\n-----END PGP PRIVATE KEY BLOCK-----\n');
    await keyFromFile('Cleo Custodian', secretKeyFile);
    await row('Cleo Custodian').locator('.row-problem').waitFor();
    expect(await row('Cleo Custodian').locator('.row-problem').getAttribute('data-code')).toBe('OPENPGP_KEY_PRIVATE');
    expect(await inPage.bodyText(page)).not.toContain('lQdGBGZ');
    // A cancelled dialog changes nothing.
    app.willPick('openpgpKey', null);
    await tabTo(page, /^Choose the OpenPGP key file of Cyd Custodian$/);
    await page.keyboard.press('Enter');
    await expect.poll(() => app.pickedKinds.length).toBe(3);
    expect(await row('Cyd Custodian').locator('.openpgp-loaded').count()).toBe(0);
    await keyFromFile('Cyd Custodian', keys.get('Cyd Custodian')!.file);
    await row('Cyd Custodian').locator('.openpgp-loaded').waitFor();
    await keyFromFile('Cass Custodian', keys.get('Cass Custodian')!.file);
    await row('Cass Custodian').locator('.openpgp-loaded').waitFor();

    // Keys the core refuses, each with its own code and sentence, on Cleo's row; every other row is kept.
    const hostile: Array<{ kind: 'weak' | 'expired' | 'sign-only' | 'duplicate'; code: string }> = [
      { kind: 'weak', code: 'OPENPGP_KEY_WEAK' },
      { kind: 'expired', code: 'OPENPGP_KEY_EXPIRED' },
      { kind: 'sign-only', code: 'OPENPGP_KEY_NO_ENCRYPTION' },
      { kind: 'duplicate', code: 'OPENPGP_KEY_REUSED' },
    ];
    for (const [i, h] of hostile.entries()) {
      const file = h.kind === 'duplicate' ? keys.get('Carl Custodian')!.file : path.join(usb, `cleo-${h.kind}.asc`);
      if (h.kind !== 'duplicate') writeFileSync(file, gpg.publicKey(HOSTILE[h.kind](`Cleo ${h.kind} <cleo-${h.kind}@example.test>`)));
      if (i > 0) await removeKey('Cleo Custodian');
      await keyFromFile('Cleo Custodian', file);
      await row('Cleo Custodian').locator('.openpgp-loaded').waitFor();
      const state = await submitCheckIn();
      expect(state.split('|')[2]).toBe('participants');
      expect(await page.locator('.step-error').getAttribute('data-code')).toBe(h.code);
      const problem = row('Cleo Custodian').locator('.row-problem');
      expect(await problem.getAttribute('data-code')).toBe(h.code);
      expect((await problem.textContent())!.length).toBeGreaterThan(40);
      // The other rows: names, roles and keys as they were.
      const names = await page.locator('.people input[aria-label^="Name of person"]').evaluateAll((els) => els.map((e) => (e as unknown as { value: string }).value));
      expect(names).toEqual(ROOT_PEOPLE);
      for (const other of ['Cora Custodian', 'Carl Custodian', 'Cyd Custodian', 'Cass Custodian']) expect(await row(other).locator('.openpgp-loaded').count()).toBe(1);
      // One key for two custodians names both rows; otherwise only Cleo's is marked.
      expect(await page.locator('.openpgp-key.refused').count()).toBe(h.kind === 'duplicate' ? 2 : 1);
      if (h.kind === 'weak') await shotSizes(app, page, 'openpgp-enrolment', { show: '.openpgp-key.refused', overflow: 'main', afterShot: record });
    }

    // Cleo brings her own good key: check-in goes through, then each enrolled custodian confirms.
    await removeKey('Cleo Custodian');
    await keyFromFile('Cleo Custodian', keys.get('Cleo Custodian')!.file);
    await row('Cleo Custodian').locator('.openpgp-loaded').waitFor();
    await record('check-in with keys');
    const state = await submitCheckIn();
    expect(state.split('|')[2]).toBe('openpgpConfirm');
    // The refused attempts recorded nothing: one check-in, of eight people.
    expect((await app.eventTypes(bundle)).filter((t) => t === 'PARTICIPANT_CHECKED_IN')).toHaveLength(8);
  }, 180_000);

  it('shows each fingerprint large, in groups and words, on the operator\'s screen and the witness window; a wrong tail is refused', async () => {
    expect(await currentScreen(page)).toBe('openpgp-confirm');
    const fpr = keys.get('Cora Custodian')!.fingerprint;
    expect(await page.locator('.openpgp-confirm h2').textContent()).toBe('Cora Custodian: is this your OpenPGP key?');
    expect(await page.locator('.fingerprint-large .hash-hex').getAttribute('data-hex')).toBe(fpr);
    expect((await page.locator('.fingerprint-large .hash-hex span').allTextContents()).join('')).toBe(fpr);
    const words = await page.locator('.fingerprint-large .hash-words li').allTextContents();
    expect(words).toHaveLength(fpr.length / 2);
    expect(await page.locator('.openpgp-facts').textContent()).toContain('cora@example.test');
    expect(await focusedText(page)).toBe('Cora Custodian: type the last 8 characters of the fingerprint as your own device shows them');

    // The witness window shows the same words for the room, and nothing else of the key.
    const witness = await app.newPage('/index.html#witness');
    const shown = witness.locator('.witness-hash').first();
    await shown.locator('.hash-words li').first().waitFor();
    expect(await shown.locator('figcaption').textContent()).toBe('OpenPGP key of Cora Custodian');
    expect(await shown.locator('.hash-words li').allTextContents()).toEqual(words);
    for (const size of SIZES) {
      await witness.setViewportSize(size);
      await witness.screenshot({ path: path.join(ARTIFACTS, `openpgp-witness-fingerprint-${size.width}.png`) });
    }
    await witness.close();

    // A tail from another key (a swapped file) is refused; the custodian retypes from their device.
    const s1 = await runnerState(page);
    await page.keyboard.type(keys.get('Carl Custodian')!.fingerprint.slice(-8));
    await page.keyboard.press('Enter');
    await waitForChange(page, s1);
    expect(await page.locator('.step-error').getAttribute('data-code')).toBe('OPENPGP_FINGERPRINT_MISMATCH');
    expect(await currentScreen(page)).toBe('openpgp-confirm');
    await shotSizes(app, page, 'openpgp-fingerprint-confirmation', { show: '.fingerprint-large', overflow: 'main', afterShot: record });
    // The typed digits are selected: typing replaces them. Lower case and spaces are fine.
    const s2 = await runnerState(page);
    await page.keyboard.type(fpr.slice(-8, -4).toLowerCase() + ' ' + fpr.slice(-4));
    await page.keyboard.press('Enter');
    await waitForChange(page, s2);
    expect((await runnerState(page)).split('|')[5]).toBe('');
    expect((await app.eventTypes(bundle)).filter((t) => t === 'OPENPGP_KEY_ENROLLED')).toHaveLength(1);
  }, 120_000);

  it('hands out sealed shares without ever showing their words: proof of possession, a mistake, and a custodian who cannot decrypt', async () => {
    let mistakeDone = false;
    let cannotDone = false;
    let sealShot = false;
    const opts: DriveOptions = {
      pin: DEMO_USER_PIN,
      soPin: DEMO_SO_PIN,
      revealed,
      openpgp: { tail, sealedWords: decryptOnDevice },
      onScreen: async (kind) => {
        await record(`screen ${kind}`);
        if (kind === 'openpgp-confirm' && (await page.locator('.openpgp-confirm h2').textContent())?.startsWith('Cass Custodian')) return 'stop';
        if (kind === 'sealed-seal') {
          const name = /^(.+)'s share is sealed/.exec((await page.locator('#seal-title').textContent()) ?? '')?.[1];
          if (name === 'Cyd Custodian' && !cannotDone) return 'stop';
          if (!sealShot) {
            sealShot = true;
            expect(await focusedText(page)).toMatch(/^Seal share \d to .+'s key and write the file$/);
            expect(await page.locator('.share-words').count()).toBe(0);
          }
        }
        if (kind === 'sealed-proof') {
          const label = (await page.locator('.sealed-proof').getAttribute('aria-label')) ?? '';
          if (!mistakeDone) return 'stop';
          if (label.endsWith('Cyd Custodian') && !cannotDone) return 'stop';
        }
        if (kind === 'share-reveal') {
          // Only custodians on words see a share on screen.
          const who = ((await page.locator('#reveal-title').textContent()) ?? '').split(':')[0];
          expect(['Cass Custodian', 'Cyd Custodian']).toContain(who);
          if (who === 'Cyd Custodian') expect(cannotDone).toBe(true);
        }
      },
    };
    for (;;) {
      const stoppedAt = await drive(page, opts);
      if (stoppedAt === 'finished') break;
      if (stoppedAt === 'openpgp-confirm') {
        // Cass does not recognise the fingerprint: the key is dropped (recorded), she gets words.
        await tabTo(page, /^This is not my key…$/);
        await page.keyboard.press('Enter');
        await page.locator('.reject-key').waitFor();
        expect(await focusedText(page)).toBe('Back: it is my key');
        await app.screenshot(page, 'openpgp-reject-key');
        const s = await runnerState(page);
        await tabTo(page, /^Drop this key — Cass Custodian gets words on screen$/, { back: true });
        await page.keyboard.press('Enter');
        await waitForChange(page, s);
        expect((await app.eventTypes(bundle)).slice(-1)).toEqual(['OPENPGP_KEY_REJECTED']);
        continue;
      }
      if (stoppedAt === 'sealed-seal') {
        // Cyd's share goes to the medium the administrator chooses in main's folder dialog.
        app.willPick('sealDir', usb);
        await tabTo(page, /^Choose the medium folder…$/);
        await page.keyboard.press('Enter');
        await page.locator('.seal-dir code.path', { hasText: usb }).waitFor();
        await shotSizes(app, page, 'openpgp-sealed-handout-seal', { show: '.sealed-seal', overflow: 'main', afterShot: record });
        // The witness window: who is up, that the share is sealed (nobody looks away), and the key's words.
        const witness = await app.newPage('/index.html#witness');
        await witness.locator('.now-up').waitFor();
        expect(await witness.locator('.now-up').textContent()).toBe('Now: share 4 of 5 for Cyd Custodian — sealed to their OpenPGP key: it is never on screen, nobody needs to look away.');
        expect(await witness.locator('.witness-hash figcaption').first().textContent()).toBe('Share 4 sealed to the OpenPGP key of Cyd Custodian');
        await witness.screenshot({ path: path.join(ARTIFACTS, 'openpgp-witness-sealed.png') });
        seen.push({ where: 'witness during a sealed hand-out', text: await inPage.bodyText(witness) }, { where: 'witness DOM', text: await witness.content() });
        await witness.close();
        const s = await runnerState(page);
        await tabTo(page, /^Seal share \d to Cyd Custodian's key and write the file$/);
        await page.keyboard.press('Enter');
        await waitForChange(page, s);
        expect(await page.locator('.sealed-proof').getAttribute('data-file')).toMatch(new RegExp(`^${usb}/cyd-.+\\.asc$`));
        continue;
      }
      if (stoppedAt === 'sealed-proof' && !mistakeDone) {
        // The sealed hand-out: where the file is, its SHA-256 for reading aloud, the recipient. No words.
        mistakeDone = true;
        const file = (await page.locator('.sealed-proof').getAttribute('data-file'))!;
        const name = /Sealed share \d of 5 for (.+)$/.exec((await page.locator('.sealed-proof').getAttribute('aria-label'))!)![1];
        expect(existsSync(file)).toBe(true);
        expect(await page.locator('.sealed-file-name').textContent()).toBe(path.basename(file));
        const sha = await page.locator('.sealed-sha256 .hash-hex').getAttribute('data-hex');
        expect(sha).toMatch(/^[0-9a-f]{64}$/);
        expect(await page.locator('.sealed-proof .recipient-fingerprint').getAttribute('data-fingerprint')).toBe(keys.get(name)!.fingerprint);
        await shotSizes(app, page, 'openpgp-sealed-handout', { show: '.sealed-proof', overflow: 'main', afterShot: record });

        // The custodian decrypts on their own device and types back the asked words, one wrong.
        const words = decryptOnDevice(file);
        const labels = await page.locator('.sealed-proof .word-input label').allTextContents();
        const positions = labels.map((l) => Number(/Word (\d+)/.exec(l)![1]));
        expect(positions.every((p) => p > 5)).toBe(true);
        expect(await page.locator('.sealed-proof input[type=password]').count()).toBe(positions.length);
        expect(await focusedText(page)).toBe(`Word ${positions[0]}`);

        // The printed card of a sealed share: split, index and the file's hash, never a word.
        await tabTo(page, /^Print share card$/);
        await page.keyboard.press('Enter');
        await page.locator('.sealed-proof [role="status"]').waitFor();
        expect(app.printedCards).toHaveLength(1);
        const card = app.printedCards[0].text;
        expect(card.replace(/\s+/g, '').toLowerCase()).toContain(sha!);
        const splitId = /-([0-9A-F]{4}-[0-9A-F]{4})-share-\d+\.asc$/.exec(file)![1];
        expect(card).toContain(splitId);
        for (let i = 5; i + 3 <= 33; i++) expect(card).not.toContain(words.slice(i, i + 3).join(' '));
        expect(card).not.toContain(words.slice(5).join('\n'));
        await tabTo(page, new RegExp(`^Word ${positions[0]}$`), { back: true });
        const wrongWord = words[positions[1] - 1] === 'zoo' ? 'zone' : 'zoo';
        for (const [i, p] of positions.entries()) {
          await page.keyboard.type(i === 1 ? wrongWord : words[p - 1]);
          if (i < positions.length - 1) await page.keyboard.press('Tab');
        }
        // Typed blind: no completion list spells a word out.
        expect(await page.locator('.sealed-proof .completions').count()).toBe(0);
        const s = await runnerState(page);
        await page.keyboard.press('Enter');
        await waitForChange(page, s);
        expect(await page.locator('.step-error').getAttribute('data-code')).toBe('SHARE_CONFIRM_MISMATCH');
        expect(await page.locator('.sealed-proof input.invalid').count()).toBe(1);
        const values = await page.locator('.sealed-proof input').evaluateAll((els) => els.map((e) => (e as unknown as { value: string }).value));
        expect(values).toEqual(positions.map((p, i) => (i === 1 ? wrongWord : words[p - 1])));
        expect(await focusedText(page)).toBe(`Word ${positions[1]} — does not match`);
        await shotSizes(app, page, 'openpgp-proof-of-possession-mistake', { show: '.sealed-readback', overflow: 'main', afterShot: record });
        const s2 = await runnerState(page);
        await page.keyboard.type(words[positions[1] - 1]);
        await page.keyboard.press('Enter');
        await waitForChange(page, s2);
        expect((await runnerState(page)).split('|')[5]).toBe('');
        continue;
      }
      if (stoppedAt === 'sealed-proof') {
        // Cyd cannot open the file (a card left at home): the split is void, a fresh one is made.
        // (The test still learns what it held, to prove those words never showed either.)
        cannotDone = true;
        const cydFile = (await page.locator('.sealed-proof').getAttribute('data-file'))!;
        decryptOnDevice(cydFile);
        await tabTo(page, /^Cyd Custodian cannot decrypt it…$/);
        await page.keyboard.press('Enter');
        await page.locator('.cannot-decrypt').waitFor();
        expect(await focusedText(page)).toBe('Back: try decrypting again');
        await app.screenshot(page, 'openpgp-cannot-decrypt');
        await record('cannot decrypt');
        const s = await runnerState(page);
        await tabTo(page, /^Void the split and make a fresh one \(recorded\)$/);
        await page.keyboard.press('Enter');
        await waitForChange(page, s);
        expect((await app.eventTypes(bundle)).slice(-1)).toEqual(['SHARE_UNDECRYPTABLE']);
        // The void split's sealed files are gone from the media.
        expect(existsSync(cydFile)).toBe(false);
        continue;
      }
      throw new Error(`stopped at ${stoppedAt}`);
    }
    expect(mistakeDone && cannotDone).toBe(true);
    await page.getByRole('heading', { name: 'Ceremony sealed' }).waitFor();
    await record('sealed');

    // The transcript: four keys enrolled; two splits; the final one has three sealed shares, each
    // recorded with the file's SHA-256 and the recipient — and no words.
    const ev = events(bundle);
    expect(ev.filter((e) => e.type === 'PARTICIPANT_CHECKED_IN' && typeof e.data.openpgpFingerprint === 'string').map((e) => e.data.name)).toEqual(PRESENTED);
    expect(ev.filter((e) => e.type === 'OPENPGP_KEY_REJECTED').map((e) => e.data.custodian)).toEqual(['Cass Custodian']);
    expect(ev.filter((e) => e.type === 'OPENPGP_KEY_ENROLLED').map((e) => e.data.custodian)).toEqual(ENROLLED);
    expect(ev.filter((e) => e.type === 'OPENPGP_KEY_ENROLLED').map((e) => e.data.fingerprint)).toEqual(ENROLLED.map((n) => keys.get(n)!.fingerprint));
    const backups = ev.filter((e) => e.type === 'BACKUP_WRITTEN');
    expect(backups).toHaveLength(2);
    const finalSplit = backups[1].data.splitId;
    const sealedFinal = ev.filter((e) => e.type === 'SHARE_SEALED' && e.data.splitId === finalSplit);
    expect(sealedFinal.map((e) => e.data.custodian)).toEqual(['Cora Custodian', 'Carl Custodian', 'Cleo Custodian']);
    for (const e of sealedFinal) {
      expect(e.data.recipientFingerprint).toBe(keys.get(String(e.data.custodian))!.fingerprint);
      expect(e.data.sha256).toMatch(/^[0-9a-f]{64}$/);
    }
    // Cass and (after the fresh split) Cyd saw words on screen; the sealed custodians never did.
    expect([...revealed.keys()].sort()).toEqual([4, 5]);
  }, 420_000);

  it('never put a sealed share\'s words in the page, the DOM, a screenshot, the bundle or the store', () => {
    // The final split's sealed files are on the media; the void split's were removed by Keyrite,
    // but their custodians decrypted them during the hand-out (Cyd too, before giving up).
    const sealedFiles = [path.join(media, 'root-pgp-sealed-shares'), usb].flatMap((d) => (existsSync(d) ? readdirSync(d).filter((f) => /-share-\d+\.asc$/.test(f)).map((f) => path.join(d, f)) : []));
    expect(sealedFiles).toHaveLength(3);
    for (const f of sealedFiles) decryptOnDevice(f);
    expect(decrypted.size).toBe(7);
    // Words 1–5 are the split's, the same on every share of it (Cass saw them on screen): the rest are the share's own.
    const own = [...decrypted.values()].map((w) => w.slice(5));
    // Page text and DOM as a plain run of words: markup, numbers ("6 abandon 7 ability") and
    // punctuation dropped, so a share shown in any layout is found.
    const plain = seen.map(({ where, text }) => ({ where, words: ` ${text.replace(/<[^>]*>/g, ' ').toLowerCase().split(/[^a-z]+/).filter(Boolean).join(' ')} ` }));
    const found = (words: string[]) => plain.filter((p) => words.some((_, i) => i + 3 <= words.length && p.words.includes(` ${words.slice(i, i + 3).join(' ')} `))).map((p) => p.where);
    for (const words of own) expect(found(words)).toEqual([]);
    expect(seen.length).toBeGreaterThan(40);
    // The same check finds the share Cass was shown on screen: it can fail.
    expect(found(revealed.get(5)!.slice(5)).length).toBeGreaterThan(0);
    // Files: screenshots, the bundle (transcript, backup), the sealed files, the app's store and token.
    const hits = scanForSecrets([ARTIFACTS, media, app.home], own.map((w) => w.join(' ')), { shareWords: own.flat() });
    expect(hits).toEqual([]);
  });
});

describe('recovery drill from a sealed share decrypted with plain gpg', () => {
  it('takes the decrypted file, refuses the still-encrypted one, and restores the key with typed shares beside it', async () => {
    await startDrillFromHome(page, bundle, path.join(media, 'drill'));
    await drive(page, { pin: DEMO_USER_PIN, soPin: DEMO_SO_PIN, onScreen: async (kind) => (kind === 'share-entry' ? 'stop' : undefined) });

    const ev = events(bundle);
    const finalSplit = ev.filter((e) => e.type === 'BACKUP_WRITTEN')[1].data.splitId;
    const sealedOf = (custodian: string) => {
      const e = ev.find((x) => x.type === 'SHARE_SEALED' && x.data.splitId === finalSplit && x.data.custodian === custodian)!;
      return path.join(String(e.data.dir), String(e.data.fileName));
    };

    // The sealed file itself (not decrypted) is refused with a sentence saying what to do.
    app.willPick('shareFile', sealedOf('Cora Custodian'));
    const s0 = await runnerState(page);
    await tabTo(page, /^Load a decrypted share file…$/);
    await page.keyboard.press('Enter');
    await waitForChange(page, s0);
    expect(await page.locator('.step-error').getAttribute('data-code')).toBe('SHARE_FILE_ENCRYPTED');

    // Cora decrypts on her own device with plain gpg and hands Keyrite the decrypted file.
    const plain = path.join(device, 'cora-share.txt');
    writeFileSync(plain, gpg.decrypt(sealedOf('Cora Custodian')));
    app.willPick('shareFile', plain);
    const s1 = await runnerState(page);
    await tabTo(page, /^Load a decrypted share file…$/);
    await page.keyboard.press('Enter');
    await waitForChange(page, s1);
    expect(await page.locator('.accepted li').allTextContents()).toEqual([expect.stringContaining('(Cora Custodian) accepted')]);
    // The words never came to the page: the field is empty, the text nowhere.
    expect(await page.locator('.share-entry textarea').inputValue()).toBe('');
    await shotSizes(app, page, 'openpgp-recovery-by-file', { show: '.share-entry', overflow: 'main', afterShot: record });

    // Carl decrypts too, and types his words; Cass types her on-screen share.
    const carl = decryptOnDevice(sealedOf('Carl Custodian'));
    await drive(page, { pin: DEMO_USER_PIN, soPin: DEMO_SO_PIN, shares: [carl.join(' '), revealed.get(5)!.join(' ')] });
    await page.getByRole('heading', { name: 'Ceremony sealed' }).waitFor();
    const drill = events(path.join(media, 'drill')).map((e) => e.type);
    expect(drill).toEqual(expect.arrayContaining(['SHARE_ACCEPTED', 'KEK_REBUILT', 'KEY_RESTORED', 'IDENTITY_PROVEN', 'CEREMONY_SEALED']));
    expect(drill.filter((t) => t === 'SHARE_ACCEPTED')).toHaveLength(3);
    expect(await inPage.storage(page)).toEqual({ local: 0, session: 0, idb: 0 });
    // Nothing of the decrypted file reached the drill bundle or the screens.
    const cora = wordsOf(readFileSync(plain, 'utf8')).slice(5);
    expect(scanForSecrets([ARTIFACTS, media], [cora.join(' ')], { shareWords: cora })).toEqual([]);
  }, 300_000);
});
