import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_SO_PIN, DEMO_USER_PIN } from '../../src/core/hsm/config';
import { scanForSecrets } from '../helpers/secrets';
import { ARTIFACTS, E2eApp, inPage, setPresentation } from './helpers/harness';
import { checkIn, currentScreen, drive, focusedText, runnerState, tabTo, waitForChange, type ScreenKind } from './helpers/keyboard-driver';
import { ROOT_PEOPLE, shotSizes, SIZES, startDrillFromHome, startFromHome } from './helpers/screens';

// Whole ceremonies in the built renderer, keyboard only, through the real handler table and the
// real ceremony engine on the demo SoftHSM token of a fresh KEYRITE_HOME.
const app = new E2eApp();
let page: Awaited<ReturnType<E2eApp['start']>>;
const media = mkdtempSync(path.join(os.tmpdir(), 'keyrite-media-'));

// The root ceremony's results, used by the drill and the tampering tests.
let bundleA = '';
let cardIndex = 0;
const need = <T>(v: T | undefined): T => {
  if (v === undefined) throw new Error('missing');
  return v;
};
const sharesA = new Map<number, string[]>();
// Every share shown on screen in this file, for the scan of what the tests leave on disk.
const everyShare: string[][] = [];


/** The page fits the window: no horizontal overflow, and (for single-purpose screens) no scrolling. */
async function fits(vertical: boolean): Promise<{ width: boolean; height: boolean }> {
  const r = (await page.evaluate('({ sw: document.documentElement.scrollWidth, w: innerWidth, sh: document.documentElement.scrollHeight, h: innerHeight })')) as { sw: number; w: number; sh: number; h: number };
  if (r.sw > r.w || (vertical && r.sh > r.h)) console.log('does not fit', r);
  return { width: r.sw <= r.w, height: vertical ? r.sh <= r.h : true };
}

beforeAll(async () => {
  page = await app.start();
}, 120_000);
afterAll(() => app.close());

async function shot(name: string, both = true, top = false): Promise<void> {
  // Scrolling does not move focus, so the keyboard flow carries on from where it was.
  if (top) await page.evaluate('window.scrollTo(0, 0)');
  await app.screenshot(page, name);
  if (both) {
    await setPresentation(page, true);
    if (top) await page.evaluate('window.scrollTo(0, 0)');
    await app.screenshot(page, `${name}-presentation`);
    await setPresentation(page, false);
  }
}

describe('root key generation 3-of-5, keyboard only', () => {
  it('runs every step from check-in to the sealed bundle, and the bundle verifies', async () => {
    const seen = new Set<ScreenKind>();
    await page.locator('h1').waitFor();
    await startFromHome(page, 'Root key generation', path.join(media, 'root-a'));
    bundleA = path.join(media, 'root-a');

    expect(await currentScreen(page)).toBe('check-in');
    expect(await focusedText(page)).toBe('Name of person 1');
    await shot('check-in');
    expect(await page.locator('.role-counts').textContent()).toContain('exactly 5');
    await shotSizes(app, page, 'check-in-chips');
    await checkIn(page, ROOT_PEOPLE, []);

    let reshown = false;
    let misread = false;
    for (;;) {
    const stoppedAt = await drive(page, {
      pin: DEMO_USER_PIN, soPin: DEMO_SO_PIN,
      revealed: sharesA,
      onScreen: async (kind) => {
        if (kind === 'share-reveal' && !reshown && seen.has('share-reveal')) return 'stop';
        if (kind === 'share-confirm' && !misread) return 'stop';
        if (kind === 'continue' && (await page.locator('.continue.irreversible').count()) > 0 && !seen.has('irreversible' as ScreenKind)) {
          seen.add('irreversible' as ScreenKind);
          // Not the usual focused Continue: focus is on the typed confirmation, the button names the token and is disabled until then.
          expect(await focusedText(page)).toMatch(/^Token label \(keyrite-demo\)$/);
          const button = page.locator('.irreversible-button');
          expect(await button.textContent()).toMatch(/^Generate the ec-p384 key on token keyrite-demo$/);
          expect(await button.isDisabled()).toBe(true);
          await shotSizes(app, page, 'irreversible-generate', { presentation: false });
          return;
        }
        if (seen.has(kind)) return;
        seen.add(kind);
        if (kind === 'signoff') {
          // The attestation is stated, nobody is preselected, and a wrong name signs nothing.
          expect(await page.locator('.attestation blockquote').textContent()).toMatch(/^I (saw|have heard) step \d+/);
          expect(await focusedText(page)).toBe('Your full name or initials');
          expect(await page.locator('.signoff button[type="submit"]').isDisabled()).toBe(true);
          await page.keyboard.type('Somebody Else');
          await page.keyboard.press('Enter');
          await page.locator('#signoff-problem').waitFor();
          await shotSizes(app, page, 'signoff');
          await page.keyboard.press('Control+A');
          await page.keyboard.press('Backspace');
        }
        if (kind === 'preflight-override') await shot('preflight-override');
        if (kind === 'pin-entry') await shot('pin-entry');
        if (kind === 'continue') await shot('step-continue');
        if (kind === 'privacy-screen') await shot('share-privacy');
        if (kind === 'share-reveal') {
          // The witness window follows along and never shows the share.
          const witness = await app.newPage('/index.html#witness');
          await witness.locator('.now-up').waitFor();
          expect(await witness.locator('.now-up').textContent()).toMatch(/^Now: share \d of 5 for .+ — only they look/);
          const words = await page.locator('.share-words .word').allTextContents();
          expect(words).toHaveLength(33);
          const witnessText = await inPage.bodyText(witness);
          expect(witnessText).toContain('Hand out the shares');
          // A share's words as a run would be unmistakable; single words may appear in prose.
          expect(witnessText).not.toContain(words.slice(0, 4).join(' '));
          expect(witnessText).not.toContain(words[0] + '\n');
          await witness.screenshot({ path: path.join(path.dirname(await app.screenshot(page, 'share-reveal')), 'witness.png') });
          await witness.close();
          // Presentation mode is held off while the share is on screen: F5 does nothing.
          await page.keyboard.press('F5');
          expect(await inPage.presentation(page)).toBe(false);
          expect(await page.locator('.header-status button[aria-pressed]').isDisabled()).toBe(true);
          for (const size of SIZES) {
            await page.setViewportSize(size);
            await app.screenshot(page, `share-reveal-${size.width}`);
            expect({ size: size.width, ...(await fits(true)) }).toEqual({ size: size.width, width: true, height: true });
            // Opens at its header and word 1, not scrolled past them.
            expect(await page.evaluate('window.scrollY')).toBe(0);
          }
          await page.setViewportSize(SIZES[1]);
          // The grid reads down the columns, like the printed card: word 2 is under word 1.
          const box = async (n: number) => (await page.locator('.share-words li').nth(n - 1).boundingBox())!;
          expect((await box(2)).x).toBe((await box(1)).x);
          expect((await box(12)).x).toBeGreaterThan((await box(1)).x);

          // The script allows cards: print this one by keyboard, then back to "Written down".
          expect(await focusedText(page)).toBe('Written down — hide the share');
          await tabTo(page, /^Print share card$/);
          await page.keyboard.press('Enter');
          const status = page.locator('.share-reveal [role="status"]');
          await status.waitFor();
          expect(await status.textContent()).toMatch(/^Share card \d+ for .+ sent to the printer\.$/);
          cardIndex = Number(await status.getAttribute('data-share'));
          await app.screenshot(page, 'share-card-printed');
          expect(app.printedCards).toHaveLength(1);
          const card = app.printedCards[0];
          expect(card.pdf.subarray(0, 5).toString()).toBe('%PDF-');
          expect(card.pdf.length).toBeGreaterThan(5_000);
          // The printed page is this share: its header, custodian and every word, in order.
          expect(card.text).toContain(((await page.locator('.share-header').textContent()) ?? '').trim());
          expect(card.text).toContain(need(/^(.+): write down share/.exec((await page.locator('#reveal-title').textContent()) ?? '')?.[1]));
          expect(card.text.replace(/\s+/g, ' ')).toContain(words.join(' '));
          await tabTo(page, /^Written down — hide the share$/, { back: true });
        }
        if (kind === 'statement') await shot('statement');
      },
    });
    if (stoppedAt === 'finished') break;
    if (stoppedAt === 'share-reveal') {
      // Leaving the share's screen hides it; coming back shows a gate, not the words.
      reshown = true;
      // (The single-purpose share screen keeps only the main navigation.)
      await tabTo(page, /^Ceremonies$/, { back: true });
      await page.keyboard.press('Enter');
      await page.getByRole('heading', { name: 'Key ceremonies', level: 1 }).waitFor();
      await tabTo(page, /^Resume Root key generation$/);
      await page.keyboard.press('Enter');
      await page.locator('.share-hidden').waitFor();
      expect(await page.locator('.share-words').count()).toBe(0);
      await shotSizes(app, page, 'share-hidden', { presentation: false });
      expect(await focusedText(page)).toMatch(/^Ask to see share \d+ again \(recorded\)$/);
      const s1 = await runnerState(page);
      await page.keyboard.press('Enter');
      await waitForChange(page, s1);
      expect(await currentScreen(page)).toBe('privacy-screen');
      const s2 = await runnerState(page);
      await page.keyboard.press('Enter');
      await waitForChange(page, s2);
      expect(await currentScreen(page)).toBe('share-reveal');
      const types = await app.eventTypes(bundleA);
      expect(types.slice(-2)).toEqual(['SHARE_RESHOW_REQUESTED', 'SHARE_REDISPLAYED']);
      continue;
    }
    if (stoppedAt === 'share-confirm') {
      // A read-back with one wrong word: the right words stay, the wrong one is marked and focused.
      misread = true;
      await page.keyboard.press('F5');
      expect(await inPage.presentation(page)).toBe(false);
      const state = await runnerState(page);
      const idx = Number(state.split('|')[3].split('.')[0]);
      const words = sharesA.get(idx)!;
      const labels = await page.locator('.share-confirm .word-input label').allTextContents();
      const positions = labels.map((l) => Number(/Word (\d+)/.exec(l)![1]));
      expect(positions.every((p) => p > 5)).toBe(true);
      const wrongWord = words[positions[1] - 1] === 'zoo' ? 'zone' : 'zoo';
      for (const [i, p] of positions.entries()) {
        await page.keyboard.type(i === 1 ? wrongWord : words[p - 1]);
        if (i < positions.length - 1) await page.keyboard.press('Tab');
      }
      await page.keyboard.press('Enter');
      await waitForChange(page, state);
      expect(await page.locator('.step-error').getAttribute('data-code')).toBe('SHARE_CONFIRM_MISMATCH');
      expect(await page.locator('.step-error .error-message').textContent()).not.toContain('on the screen');
      expect(await page.locator('.share-confirm input.invalid').count()).toBe(1);
      const values = await page.locator('.share-confirm input').evaluateAll((els) => els.map((e) => (e as unknown as { value: string }).value));
      expect(values).toEqual(positions.map((p, i) => (i === 1 ? wrongWord : words[p - 1])));
      expect(await focusedText(page)).toBe(`Word ${positions[1]} — does not match`);
      for (const size of SIZES) {
        await page.setViewportSize(size);
        expect((await fits(true)).width).toBe(true);
        await app.screenshot(page, `share-readback-mistake-${size.width}`);
      }
      await page.setViewportSize(SIZES[1]);
      const s3 = await runnerState(page);
      await page.keyboard.type(words[positions[1] - 1]); // replaces the selected wrong word
      await page.keyboard.press('Enter');
      await waitForChange(page, s3);
      expect((await runnerState(page)).split('|')[5]).toBe('');
      continue;
    }
    throw new Error(`stopped at ${stoppedAt}`);
    }

    expect(cardIndex).toBeGreaterThan(0);
    everyShare.push(...sharesA.values());
    expect([...seen].sort()).toEqual(['continue', 'finished', 'irreversible', 'pin-entry', 'preflight-override', 'privacy-screen', 'share-confirm', 'share-reveal', 'signoff', 'statement'].sort());
    expect(sharesA.size).toBe(5);
    await page.getByRole('heading', { name: 'Ceremony sealed' }).waitFor();
    const hex = await page.locator('.final-hash .hash-hex').getAttribute('data-hex');
    expect(hex).toMatch(/^[0-9a-f]{64}$/);
    expect(await page.locator('.final-hash .hash-words li').count()).toBeGreaterThanOrEqual(16);
    await shot('sealed', true, true);

    // Print the transcript (chromium's PDF output stands in for the printer), by keyboard.
    await page.keyboard.press('Tab');
    expect(await focusedText(page)).toBe('Print the transcript');
    await page.keyboard.press('Enter');
    await page.getByText('Sent to the printer.').waitFor();
    expect(app.printed).toHaveLength(1);
    expect(app.printed[0].file).toBe(path.join(bundleA, 'transcript.html'));
    // The card print is in the sealed transcript: who and which share, never the words.
    const cardEvents = readFileSync(path.join(bundleA, 'transcript.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { type: string; data: Record<string, unknown> }).filter((e) => e.type === 'SHARE_CARD_PRINTED');
    expect(cardEvents).toHaveLength(1);
    expect(Object.keys(cardEvents[0].data).sort()).toEqual(['custodian', 'index', 'splitId']);
    expect(cardEvents[0].data.index).toBe(cardIndex);
    expect(JSON.stringify(cardEvents[0])).not.toContain(sharesA.get(cardIndex)!.slice(0, 3).join(' '));
    const pdf = readFileSync(app.printed[0].pdf);
    expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
    expect(pdf.length).toBeGreaterThan(10_000);
    await page.keyboard.press('Shift+Tab');

    // "Verify this bundle": Enter opens the verify screen with the folder filled in.
    expect(await focusedText(page)).toBe('Verify this bundle');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Verify a bundle' }).waitFor();
    expect(await focusedText(page)).toBe('Bundle folder');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: '✔ The bundle verifies' }).waitFor();
    expect(await page.locator('.verified .final-hash .hash-hex').getAttribute('data-hex')).toBe(hex);
    expect(await page.locator('.verified').textContent()).toContain('Ada Administrator (admin)');
    await shot('verify-ok');

    // The auditor compares the final hash with the signed paper: a miscopied word is a mismatch.
    const finalWords = await page.locator('.verified .final-hash .hash-words li').allTextContents();
    await tabTo(page, /^Final hash from the paper transcript/);
    const wrong = [...finalWords];
    wrong[3] = wrong[3] === 'aardvark' ? 'absurd' : 'aardvark';
    await page.keyboard.type(wrong.join(' '));
    await page.locator('.paper-mismatch').waitFor();
    await page.locator('.paper-compare').scrollIntoViewIfNeeded();
    for (const size of SIZES) {
      await page.setViewportSize(size);
      expect((await fits(false)).width).toBe(true);
      await page.locator('.paper-compare').scrollIntoViewIfNeeded();
      await app.screenshot(page, `verify-paper-mismatch-${size.width}`);
    }
    await page.keyboard.press('Control+A');
    await page.keyboard.type(finalWords.join(' ').toUpperCase());
    await page.locator('.paper-match').waitFor();
    await page.keyboard.press('Control+A');
    await page.keyboard.type(need(hex ?? undefined).match(/.{4}/g)!.join(' '));
    await page.locator('.paper-match').waitFor();
    for (const size of SIZES) {
      await page.setViewportSize(size);
      await page.locator('.paper-compare').scrollIntoViewIfNeeded();
      await app.screenshot(page, `verify-paper-match-${size.width}`);
    }
    await page.setViewportSize(SIZES[1]);

    // The witness window keeps the sealed ceremony (final hash, key words) until it is dismissed.
    const witness = await app.newPage('/index.html#witness');
    await witness.getByRole('heading', { name: 'Ceremony sealed' }).waitFor();
    expect(await witness.locator('.final-hash .hash-hex').getAttribute('data-hex')).toBe(hex);
    expect(await witness.locator('.final-hash .hash-words li').count()).toBe(finalWords.length);
    for (const size of SIZES) {
      await witness.setViewportSize(size);
      await witness.screenshot({ path: path.join(ARTIFACTS, `witness-sealed-${size.width}.png`) });
    }
    await witness.getByRole('button', { name: /^Dismiss/ }).click();
    await witness.getByText('No ceremony is running').waitFor();
    await witness.close();

    // Nothing secret (or anything else) was left in the browser's storage.
    expect(await inPage.storage(page)).toEqual({ local: 0, session: 0, idb: 0 });
    // No share word, no PIN went through the witness page's calls; no CSP violation happened.
    expect(app.calls.filter((c) => c.page === 'witness').map((c) => c.channel)).toEqual(expect.arrayContaining(['ceremony:witness']));
    expect(app.calls.filter((c) => c.page === 'witness').every((c) => c.channel === 'ceremony:witness' || c.channel === 'app:info')).toBe(true);
    expect((await inPage.cspViolations(page))).toEqual([]);
  }, 300_000);

  it('shows the transcript of the sealed ceremony with its chain head, and the key in the inventory', async () => {
    await tabTo(page, /^Ceremonies$/);
    await page.keyboard.press('Enter');
    await tabTo(page, /^Open$/);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Ceremony sealed' }).waitFor();
    await tabTo(page, /^Transcript$/);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Transcript', level: 1 }).waitFor();
    // The events arrive after the heading: wait for the table, not just the screen.
    await page.locator('table.events tbody tr').first().waitFor();
    const types = await page.locator('table.events tbody tr td:nth-child(3)').allTextContents();
    expect(types[0]).toBe('CEREMONY_STARTED');
    expect(types).toEqual(expect.arrayContaining(['KEY_GENERATED', 'SHARE_CONFIRMED', 'SHARE_CARD_PRINTED', 'CEREMONY_SEALED']));
    expect(types[types.length - 1]).toBe('CEREMONY_SEALED');
    const transcript = await inPage.bodyText(page);
    for (const words of sharesA.values()) expect(transcript).not.toContain(words.slice(0, 3).join(' '));
    expect(transcript).not.toContain(DEMO_USER_PIN);
    await shot('transcript');

    await tabTo(page, /^Key inventory$/, { back: true });
    await page.keyboard.press('Enter');
    await page.locator('table.keys tbody tr').first().waitFor();
    expect(await page.locator('table.keys tbody tr').count()).toBe(1);
    expect(await page.locator('table.keys').textContent()).toContain('root-signing');
    await shot('inventory');
  });
});

describe('resume after the main process restarts mid-ceremony', () => {
  it('a restart during share hand-out comes back to the same ceremony, voids the split, and finishes', async () => {
    await startFromHome(page, 'Root key generation', path.join(media, 'root-b'));
    await checkIn(page, ROOT_PEOPLE, []);
    const revealed = new Map<number, string[]>();
    // Drive until the third custodian is about to see their share, then "restart".
    await drive(page, { pin: DEMO_USER_PIN, soPin: DEMO_SO_PIN, revealed, onScreen: async (kind, state) => (kind === 'privacy-screen' && state.split('|')[3] === '3.privacy' ? 'stop' : undefined) });
    const splitBefore = await app.invoke('ceremony:list');
    expect(splitBefore.ok).toBe(true);

    await app.restartMain();
    await page.reload();
    await page.getByRole('heading', { name: 'Key ceremonies' }).waitFor();
    await page.getByRole('heading', { name: 'In progress' }).waitFor();
    await shot('home-resume');
    await tabTo(page, /^Resume Root key generation$/);
    await page.keyboard.press('Enter');
    await page.locator('.runner').waitFor();
    // The step that was running. The HSM session died with the old process: log in again.
    expect(await page.locator('.step-main h1').textContent()).toBe('Hand out the shares');
    if ((await currentScreen(page)) === 'pin-entry') {
      const s = await runnerState(page);
      await page.keyboard.type(DEMO_USER_PIN);
      await page.keyboard.press('Enter');
      await waitForChange(page, s);
    }
    // The shares already given out are declared void.
    const message = await page.locator('.continue .need-message').textContent();
    expect(message).toContain('Shares are never stored, so that backup is void');
    await shot('resume-void-split');

    const after = new Map<number, string[]>();
    await drive(page, { pin: DEMO_USER_PIN, soPin: DEMO_SO_PIN, revealed: after });
    await page.getByRole('heading', { name: 'Ceremony sealed' }).waitFor();
    everyShare.push(...revealed.values(), ...after.values());
    // New split: none of the void shares is handed out again.
    expect(after.size).toBe(5);
    for (const [i, words] of revealed) expect(after.get(i)).not.toEqual(words);

    await page.keyboard.press('Enter'); // Verify this bundle
    await page.getByRole('heading', { name: 'Verify a bundle' }).waitFor();
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: '✔ The bundle verifies' }).waitFor();
    const events = await app.invoke('ceremony:list');
    if (!events.ok) throw new Error(events.error.message);
    const b = (events.value as Array<{ id: string; outDir: string; status: string }>).find((c) => c.outDir === path.join(media, 'root-b'));
    expect(b?.status).toBe('sealed');
    const t = await app.invoke('ceremony:events', { id: b!.id });
    if (!t.ok) throw new Error(t.error.message);
    const types = (t.value as { events: Array<{ type: string }> }).events.map((e) => e.type);
    expect(types.filter((x) => x === 'KEY_GENERATED')).toHaveLength(1);
    expect(types.filter((x) => x === 'BACKUP_WRITTEN')).toHaveLength(2);
    expect(await inPage.storage(page)).toEqual({ local: 0, session: 0, idb: 0 });
  });
});

describe('recovery drill with a mistyped word', () => {
  it('names the wrong word, offers the correction, accepts it, and proves the restored key is the same', async () => {
    await startDrillFromHome(page, bundleA, path.join(media, 'drill'));
    await drive(page, { pin: DEMO_USER_PIN, soPin: DEMO_SO_PIN, onScreen: async (kind) => (kind === 'share-entry' ? 'stop' : undefined) });

    // Share 1 with word 7 replaced by another list word: the checksum catches it and points at it.
    const share1 = [...sharesA.get(1)!];
    const original = share1[6];
    share1[6] = original === 'abandon' ? 'ability' : 'abandon';
    const before = await runnerState(page);
    await page.keyboard.type(share1.join(' '));
    await page.keyboard.press('Enter');
    await waitForChange(page, before);
    const error = page.locator('.step-error');
    expect(await error.getAttribute('data-code')).toBe('SHARE_CHECKSUM');
    expect(await error.textContent()).toContain('Word 7 is most likely wrong');
    expect(await page.locator('.word-chips li.flagged').textContent()).toContain(share1[6]);
    expect(await page.locator('.correction .suggestion').textContent()).toBe(original);
    await shot('share-entry-error');

    // Keyboard: reach the correction, apply it (focus returns to the words), Enter submits.
    await tabTo(page, new RegExp(`^Use “${original}” for word 7$`));
    await page.keyboard.press('Enter');
    expect(await focusedText(page)).toContain('Share words');
    const s2 = await runnerState(page);
    await page.keyboard.press('Enter');
    await waitForChange(page, s2);
    expect(await page.locator('.accepted li').allTextContents()).toEqual([expect.stringContaining('Share 1 (Cora Custodian) accepted')]);

    // Share 3 typed with 4-letter prefixes completed by Tab; share 5 typed in full.
    const s3 = await runnerState(page);
    for (const w of sharesA.get(3)!) {
      if (w.length > 4) {
        await page.keyboard.type(w.slice(0, 4));
        await page.keyboard.press('Tab');
      } else {
        await page.keyboard.type(`${w} `);
      }
    }
    expect((await page.locator('.share-entry textarea').inputValue()).trim()).toBe(sharesA.get(3)!.join(' '));
    await page.keyboard.press('Enter');
    await waitForChange(page, s3);
    expect(await page.locator('.accepted li').count()).toBe(2);

    await drive(page, { pin: DEMO_USER_PIN, soPin: DEMO_SO_PIN, shares: [sharesA.get(5)!.join(' ')] });
    await page.getByRole('heading', { name: 'Ceremony sealed' }).waitFor();
    await shot('drill-sealed', false);
    const t = await app.invoke('ceremony:list');
    if (!t.ok) throw new Error(t.error.message);
    const drill = (t.value as Array<{ id: string; scriptId: string }>).find((c) => c.scriptId === 'backup-recovery-drill')!;
    const ev = await app.invoke('ceremony:events', { id: drill.id });
    if (!ev.ok) throw new Error(ev.error.message);
    const types = (ev.value as { events: Array<{ type: string }> }).events.map((e) => e.type);
    expect(types).toEqual(expect.arrayContaining(['SHARE_REJECTED', 'KEK_REBUILT', 'KEY_RESTORED', 'IDENTITY_PROVEN', 'CEREMONY_SEALED']));
    expect(await inPage.storage(page)).toEqual({ local: 0, session: 0, idb: 0 });
  });
});

describe('verify a tampered bundle', () => {
  it.each([
    [
      'an event changed after sealing',
      (dir: string) => {
        const file = path.join(dir, 'transcript.jsonl');
        const lines = readFileSync(file, 'utf8').split('\n');
        lines[2] = lines[2].replace('"seq":3', '"seq":3,"x":1');
        writeFileSync(file, lines.join('\n'));
      },
      /^TRANSCRIPT_/,
    ],
    [
      'the exported public key replaced',
      (dir: string) => {
        const keys = path.join(dir, 'keys');
        const pem = readdirSync(keys).find((f) => f.endsWith('.pub.pem'))!;
        writeFileSync(path.join(keys, pem), readFileSync(path.join(keys, pem), 'utf8').replace(/A/, 'B'));
      },
      /^BUNDLE_/,
    ],
  ])('%s: the error is shown with its code and what to do next', async (name, tamper, code) => {
    const copy = mkdtempSync(path.join(os.tmpdir(), 'keyrite-tampered-'));
    cpSync(bundleA, copy, { recursive: true });
    tamper(copy);
    await tabTo(page, /^Verify a bundle$/);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Verify a bundle' }).waitFor();
    await page.keyboard.type(copy);
    await page.keyboard.press('Enter');
    const panel = page.locator('.error-panel');
    await panel.waitFor();
    expect(await panel.getAttribute('data-code')).toMatch(code);
    expect((await panel.locator('.error-message').textContent())!.length).toBeGreaterThan(20);
    await page.getByRole('button', { name: 'Verify again' }).waitFor();
    if (name.startsWith('an event')) await shot('verify-tampered');
    expect(existsSync(copy)).toBe(true);
  });
});

describe('what the tests leave on disk', () => {
  it('no share word is in test/e2e/artifacts (screens, transcript PDFs) or in a bundle: cards were printed from memory', () => {
    expect(everyShare.length).toBeGreaterThanOrEqual(10);
    const words = everyShare.flat();
    const hits = scanForSecrets([ARTIFACTS, media], everyShare.map((w) => w.join(' ')), { shareWords: words });
    expect(hits).toEqual([]);
    // The only PDFs there are the transcripts the harness printed; no card became a file.
    const pdfs = readdirSync(ARTIFACTS).filter((f) => f.endsWith('.pdf')).map((f) => path.join(ARTIFACTS, f));
    expect(pdfs.sort()).toEqual(expect.arrayContaining(app.printed.map((p) => p.pdf)));
    expect(pdfs.filter((f) => !app.printed.some((p) => p.pdf === f)).every((f) => /printed-\d+\.pdf$/.test(f))).toBe(true);
    expect(app.printedCards.length).toBeGreaterThan(0);
  });
});
