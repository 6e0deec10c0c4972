import { readdirSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { expect } from 'vitest';
import { setPresentation, type E2eApp } from './harness';
import { checkIn, focusedText, tabTo } from './keyboard-driver';

/** The window sizes of every screenshot set: a 1024×768 projector and a 1280×800 laptop (the default). */
export const SIZES = [
  { width: 1024, height: 768 },
  { width: 1280, height: 800 },
] as const;

/** Check-in of a root ceremony opens with one row per required person: a 5-share backup needs exactly 5 custodians. */
export const ROOT_PEOPLE = ['Ada Administrator', 'Otto Officer', 'Cora Custodian', 'Carl Custodian', 'Cleo Custodian', 'Cyd Custodian', 'Cass Custodian', 'Wren Witness'];

/** From wherever focus is, open the ceremony choice by keyboard. */
export async function openCeremonies(page: Page): Promise<void> {
  await tabTo(page, /^Ceremonies$/);
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { name: 'Key ceremonies', level: 1 }).waitFor();
}

/**
 * From wherever focus is, reach the home screen's button for a script and start it, keyboard
 * only: the bundle folder is the first field, the backup file (when the script takes one) the next.
 */
export async function startFromHome(page: Page, title: string, outDir: string, backupFile?: string): Promise<void> {
  await openCeremonies(page);
  await tabTo(page, new RegExp(`^Start ${title}$`));
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { name: `Start: ${title}` }).waitFor();
  expect(await focusedText(page)).toBe('Bundle folder');
  await page.keyboard.type(outDir);
  if (backupFile) {
    await page.keyboard.press('Tab');
    expect(await focusedText(page)).toBe('Backup file to use');
    await page.keyboard.type(backupFile);
  }
  await page.keyboard.press('Enter');
  await page.locator('.runner').waitFor({ timeout: 60_000 });
}

export interface ShotOptions {
  /** Also in presentation mode (default true). */
  presentation?: boolean;
  /** What the screenshot is about: scrolled into view (the first match, or the last with `last`). */
  show?: string;
  last?: boolean;
  /** Where `show` goes in the window (default 'center'). */
  block?: 'start' | 'center';
  /**
   * Fail when something reaches past the window on the right: anything on the page ('page'), or
   * in the screen's content only ('main': the app header's own fit is not every test's subject).
   */
  overflow?: 'page' | 'main';
  /** Called after each screenshot with where it was taken (e.g. to keep the page's text). */
  afterShot?: (where: string) => Promise<void>;
}

// Page-side expressions are strings: the test code is typechecked as Node code (no DOM library).
const PAGE_OVERFLOW = `(() => ({ sw: document.documentElement.scrollWidth, w: innerWidth,
  wide: [...document.querySelectorAll('body *')].filter((e) => e.getBoundingClientRect().right > innerWidth + 1).slice(-4).map((e) => e.tagName + '.' + e.className) }))()`;
const MAIN_OVERFLOW = "[...document.querySelectorAll('main *')].filter((e) => e.getBoundingClientRect().right > innerWidth + 1).slice(0, 5).map((e) => e.tagName + '.' + e.className)";

/**
 * Screenshots `<name>-<width>` (and `-presentation`) at every size of SIZES, as
 * test/e2e/artifacts/<name>-….png; the window is left at the default size, presentation off.
 */
export async function shotSizes(app: E2eApp, page: Page, name: string, opts: ShotOptions = {}): Promise<void> {
  for (const size of SIZES) {
    await page.setViewportSize(size);
    for (const presentation of opts.presentation === false ? [false] : [false, true]) {
      await setPresentation(page, presentation);
      await page.evaluate('window.scrollTo(0, 0)');
      if (opts.show) {
        const target = opts.last ? page.locator(opts.show).last() : page.locator(opts.show).first();
        await target.evaluate((e, block) => (e as unknown as { scrollIntoView(o: unknown): void }).scrollIntoView({ block }), opts.block ?? 'center');
      }
      const label = `${size.width}${presentation ? '-presentation' : ''}`;
      await app.screenshot(page, `${name}-${label}`);
      await opts.afterShot?.(`screenshot ${name} ${size.width}${presentation ? ' presentation' : ''}`);
      if (opts.overflow === 'page') {
        const r = (await page.evaluate(PAGE_OVERFLOW)) as { sw: number; w: number; wide: string[] };
        expect(r.sw, `${name} at ${label} overflows sideways: ${r.wide.join(', ')}`).toBeLessThanOrEqual(r.w);
      } else if (opts.overflow === 'main') {
        const overflowing = (await page.evaluate(MAIN_OVERFLOW)) as string[];
        expect({ name, size: size.width, presentation, overflowing }).toEqual({ name, size: size.width, presentation, overflowing: [] });
      }
    }
    await setPresentation(page, false);
  }
  await page.setViewportSize(SIZES[1]);
}

/**
 * Start a recovery drill of the backup in `bundle` (into `outDir`) and check in its people: three
 * custodians' worth of room (admin, officer, two custodians, two witnesses, one added by hand).
 */
export async function startDrillFromHome(page: Page, bundle: string, outDir: string): Promise<void> {
  const backupDir = path.join(bundle, 'backup');
  const backupFile = path.join(backupDir, readdirSync(backupDir).find((f) => f.endsWith('.backup.json'))!);
  await startFromHome(page, 'Backup and recovery drill', outDir, backupFile);
  await checkIn(page, ['Ada Administrator', 'Otto Officer', 'Cora Custodian', 'Carl Custodian', 'Wren Witness'], [{ name: 'Will Witness', addAs: 'witness' }]);
}
