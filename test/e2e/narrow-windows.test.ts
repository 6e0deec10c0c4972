import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_SO_PIN, DEMO_USER_PIN } from '../../src/core/hsm/config';
import { E2eApp, ROOT, setPresentation } from './helpers/harness';
import { checkIn, drive, focusedText, tabTo } from './helpers/keyboard-driver';
import { ROOT_PEOPLE, startFromHome } from './helpers/screens';

/**
 * The desktop app in windows smaller than the 1024×768 and 1280×800 of the screenshot sets: an
 * 800×600 window, a phone-sized 360×640 one, and 640×400 — 1280×800 at 200 % zoom. Nothing may
 * reach past the right edge (a control there is unreachable without a sideways scroll nobody
 * expects), and a share's 33 words must each be whole, on one line, beside their own number.
 */
const app = new E2eApp();
let page: Page;
const media = mkdtempSync(path.join(os.tmpdir(), 'keyrite-narrow-'));
const NARROW = [
  { width: 800, height: 600 },
  { width: 640, height: 400 },
  { width: 360, height: 640 },
] as const;

// Page-side expressions are strings: the test code is typechecked as Node code (no DOM library).
const SIDEWAYS = `(() => ({ sw: document.documentElement.scrollWidth, w: innerWidth,
  past: [...document.querySelectorAll('body *')].filter((e) => !e.closest('.skip-link, .visually-hidden') && e.getBoundingClientRect().width > 0 && e.getBoundingClientRect().right > innerWidth + 1)
    .slice(0, 4).map((e) => e.tagName.toLowerCase() + (e.className ? '.' + e.className : '')) }))()`;

/** Nothing past the window's right edge: [] when the page fits, else the first culprits. */
async function pastTheEdge(): Promise<string[]> {
  const r = (await page.evaluate(SIDEWAYS)) as { sw: number; w: number; past: string[] };
  return r.sw > r.w ? [`scrollWidth ${r.sw} > ${r.w}`, ...r.past] : r.past;
}

beforeAll(async () => {
  page = await app.start();
  await page.getByRole('button', { name: 'Start Root key generation' }).waitFor();
}, 120_000);
afterAll(async () => {
  await page.setViewportSize({ width: 1280, height: 800 });
  await app.close();
});

describe('narrow windows', () => {
  it('the header wraps: every menu entry, the token badge and the Presentation button stay inside the window', async () => {
    await page.locator('.header-status .badge').waitFor();
    for (const size of NARROW) {
      await page.setViewportSize(size);
      for (const presentation of [false, true]) {
        await setPresentation(page, presentation);
        const controls = page.locator('.app-header button, .app-header .badge');
        for (let i = 0; i < (await controls.count()); i++) {
          const box = (await controls.nth(i).boundingBox())!;
          expect({ size: size.width, presentation, control: await controls.nth(i).textContent(), inside: box.x >= 0 && box.x + box.width <= size.width }).toMatchObject({ inside: true });
        }
        expect({ size: size.width, presentation, past: await pastTheEdge() }).toEqual({ size: size.width, presentation, past: [] });
      }
      await setPresentation(page, false);
    }
  });

  it("the HSM screen breaks the token's URI and the mechanism table instead of running off the right edge", async () => {
    await page.getByRole('button', { name: 'HSM', exact: true }).click();
    await page.locator('.token .uri').first().waitFor();
    for (const size of NARROW) {
      await page.setViewportSize(size);
      expect({ size: size.width, past: await pastTheEdge() }).toEqual({ size: size.width, past: [] });
    }
  });

  it("the verify screen of a sealed bundle fits: facts stacked, each key's line a line, not a grid of the facts", async () => {
    // A sealed bundle from the terminal runner's rehearsal (its own KEYRITE_HOME and demo token).
    const bundle = path.join(media, 'verified');
    const made = spawnSync(process.execPath, ['bin/keyrite.mjs', 'ceremony', 'run', 'root-key-generation', '--demo', '--out', bundle], {
      cwd: ROOT,
      env: { ...process.env, KEYRITE_HOME: mkdtempSync(path.join(os.tmpdir(), 'keyrite-narrow-home-')), KEYRITE_PKCS11_MODULE: '', KEYRITE_TOKEN_LABEL: '', KEYRITE_PIN: '' },
      encoding: 'utf8',
    });
    expect(made.status, made.stderr).toBe(0);
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.getByRole('button', { name: 'Verify a bundle' }).click();
    await page.locator('#bundle-dir').fill(bundle);
    await page.keyboard.press('Enter');
    await page.locator('.verified').waitFor({ timeout: 60_000 });
    // A key's line inside the Keys fact is a line (a nested div once took the facts' two-column grid).
    const keyLines = (await page.evaluate("[...document.querySelectorAll('.facts dd > div')].map((e) => getComputedStyle(e).display)")) as string[];
    expect(keyLines.length).toBeGreaterThan(0);
    expect(new Set(keyLines)).toEqual(new Set(['block']));
    for (const size of NARROW) {
      await page.setViewportSize(size);
      for (const presentation of [false, true]) {
        await setPresentation(page, presentation);
        expect({ size: size.width, presentation, past: await pastTheEdge() }).toEqual({ size: size.width, presentation, past: [] });
      }
      await setPresentation(page, false);
    }
  }, 60_000);

  it('check-in fits the width: each person a block of labelled fields in a phone-sized window', async () => {
    await page.setViewportSize({ width: 1280, height: 800 });
    await startFromHome(page, 'Root key generation', path.join(media, 'root'));
    for (const size of NARROW) {
      await page.setViewportSize(size);
      expect({ screen: 'check-in', size: size.width, past: await pastTheEdge() }).toEqual({ screen: 'check-in', size: size.width, past: [] });
    }
  });

  it('the abort dialog keeps Tab inside it, closes with Escape wherever focus is in it, and gives focus back to its button', async () => {
    const inDialog = 'Boolean(document.activeElement && document.activeElement.closest("[role=dialog], dialog[open]"))';
    const outside = 'Boolean(document.activeElement && document.activeElement !== document.body && !document.activeElement.closest("[role=dialog], dialog[open]"))';
    for (const size of [NARROW[2], { width: 1280, height: 800 }]) {
      await page.setViewportSize(size);
      await tabTo(page, /^Abort the ceremony…$/, { max: 120 });
      await page.keyboard.press('Enter');
      await page.getByRole('dialog').waitFor();
      expect(await focusedText(page)).toBe('Reason');
      // The whole dialog is on screen, its last button too.
      const box = (await page.getByRole('dialog').locator('form').boundingBox())!;
      expect(box.x >= 0 && box.y >= 0 && box.x + box.width <= size.width && box.y + box.height <= size.height).toBe(true);
      // Round and round: never onto the page under the shade (the browser's own stop, body, is allowed).
      for (let i = 0; i < 8; i++) {
        await page.keyboard.press(i < 5 ? 'Tab' : 'Shift+Tab');
        expect({ size: size.width, tab: i, outside: await page.evaluate(outside) }).toEqual({ size: size.width, tab: i, outside: false });
      }
      await tabTo(page, /^Keep going$/);
      expect(await page.evaluate(inDialog)).toBe(true);
      await page.keyboard.press('Escape');
      await page.getByRole('dialog').waitFor({ state: 'detached' });
      expect(await focusedText(page)).toBe('Abort the ceremony…');
    }
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.getByRole('textbox', { name: 'Name of person 1' }).focus();
  });

  it('a ceremony at 640×400 and 360×640: the steps and the share fit the width; each share word whole beside its number', async () => {
    await page.setViewportSize({ width: 1280, height: 800 });
    await checkIn(page, ROOT_PEOPLE, []);
    const screens = new Set<string>();
    const stoppedAt = await drive(page, {
      pin: DEMO_USER_PIN,
      soPin: DEMO_SO_PIN,
      onScreen: async (kind) => {
        for (const size of NARROW.slice(1)) {
          await page.setViewportSize(size);
          expect({ screen: kind, size: size.width, past: await pastTheEdge() }).toEqual({ screen: kind, size: size.width, past: [] });
        }
        screens.add(kind);
        await page.setViewportSize({ width: 1280, height: 800 });
        return kind === 'share-reveal' ? 'stop' : undefined;
      },
    });
    expect(stoppedAt).toBe('share-reveal');
    expect([...screens]).toEqual(expect.arrayContaining(['signoff', 'pin-entry', 'continue', 'privacy-screen', 'share-reveal']));
    for (const size of NARROW) {
      await page.setViewportSize(size);
      const items = page.locator('.share-words li');
      expect(await items.count()).toBe(33);
      const boxes = await Promise.all([...Array(33).keys()].map(async (i) => (await items.nth(i).boundingBox())!));
      const words = await Promise.all([...Array(33).keys()].map(async (i) => (await items.nth(i).locator('.word').boundingBox())!));
      for (const [i, b] of boxes.entries()) {
        // Inside the window, and the word on the same line as its number (no li taller than the others).
        expect({ size: size.width, word: i + 1, inside: b.x >= 0 && words[i].x + words[i].width <= Math.min(size.width, b.x + b.width + 1) }).toMatchObject({ inside: true });
        expect({ size: size.width, word: i + 1, height: Math.round(b.height) }).toEqual({ size: size.width, word: i + 1, height: Math.round(boxes[0].height) });
      }
      // Still read down the columns, like the card: word 2 under word 1.
      expect(boxes[1].x).toBe(boxes[0].x);
      expect(boxes[1].y).toBeGreaterThan(boxes[0].y);
      expect({ size: size.width, past: await pastTheEdge() }).toEqual({ size: size.width, past: [] });
    }
  }, 240_000);
});
