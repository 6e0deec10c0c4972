import type { Page } from 'playwright-core';
import { inPage } from './harness';

/**
 * Drives the ceremony screens the way a keyboard-only operator does: Tab to move, type, Enter to
 * confirm. Nothing here clicks or fills; it reads the screen (as the people in the room do) and
 * presses keys.
 */

export interface Person {
  name: string;
  /** Role title as the "Add a …" buttons say it, lowercase (e.g. "key custodian"). */
  addAs?: string;
}

/** Press Tab (or Shift+Tab) until the focused element's label/text matches. */
export async function tabTo(page: Page, want: RegExp, opts: { max?: number; back?: boolean } = {}): Promise<void> {
  const max = opts.max ?? 120;
  for (let i = 0; i < max; i++) {
    const label = (await inPage.activeLabel(page)).trim();
    if (want.test(label)) return;
    await page.keyboard.press(opts.back ? 'Shift+Tab' : 'Tab');
  }
  throw new Error(`Tab never reached an element matching ${want} (last focus: "${(await inPage.activeLabel(page)).trim()}")`);
}

export async function runnerState(page: Page): Promise<string> {
  return (await page.locator('.runner').getAttribute('data-state')) ?? '';
}

/** Wait until the runner shows something else than `before` and is not busy. */
export async function waitForChange(page: Page, before: string, timeout = 60_000): Promise<string> {
  await page.waitForFunction(
    (b) => {
      const el = (globalThis as unknown as { document: { querySelector(s: string): { getAttribute(n: string): string | null } | null } }).document.querySelector('.runner');
      return !!el && el.getAttribute('data-state') !== b && el.getAttribute('data-busy') === 'no';
    },
    before,
    { timeout },
  );
  return runnerState(page);
}

export async function focusedText(page: Page): Promise<string> {
  return (await inPage.activeLabel(page)).trim();
}

export type ScreenKind = 'check-in' | 'openpgp-confirm' | 'signoff' | 'preflight-override' | 'pin-entry' | 'continue' | 'privacy-screen' | 'share-reveal' | 'sealed-seal' | 'sealed-proof' | 'share-confirm' | 'statement' | 'share-entry' | 'finished';
// A sealed share's proof of possession holds the read-back form: it is looked for first.
const KINDS: ScreenKind[] = ['check-in', 'openpgp-confirm', 'signoff', 'preflight-override', 'pin-entry', 'continue', 'privacy-screen', 'share-reveal', 'sealed-seal', 'sealed-proof', 'share-confirm', 'statement', 'share-entry', 'finished'];

export async function currentScreen(page: Page): Promise<ScreenKind> {
  await page.locator('.runner').waitFor();
  for (const k of KINDS) if ((await page.locator(`.step-main .${k}`).count()) > 0) return k;
  throw new Error(`No known step screen is showing (state ${await runnerState(page)})`);
}

/**
 * Check in `people` using only the keyboard. The script's minimum rows come first (their names
 * are typed in order, Enter moving to the next empty name); extra people are added with the
 * "Add a …" buttons. The last Enter, with every name filled, submits.
 */
export async function checkIn(page: Page, initial: string[], extra: Person[]): Promise<void> {
  for (let i = 0; i < initial.length; i++) {
    await page.keyboard.type(initial[i]);
    if (i < initial.length - 1) await page.keyboard.press('Enter');
  }
  for (const p of extra) {
    await tabTo(page, new RegExp(`^Add a ${p.addAs}$`, 'i'));
    await page.keyboard.press('Enter');
    await page.keyboard.type(p.name);
  }
  const before = await runnerState(page);
  await page.keyboard.press('Enter');
  await waitForChange(page, before);
}

export interface DriveOptions {
  pin: string;
  /** The security officer's PIN, typed when the PIN screen asks for the SO (a trusted KEK). */
  soPin?: string;
  /** Statement values typed into the first field, by step title. */
  statement?: string;
  overrideReason?: string;
  /** Called on each screen before acting (screenshots, assertions); return 'stop' to stop there. */
  onScreen?: (kind: ScreenKind, state: string) => Promise<void | 'stop'>;
  /** Shares to type at share entry, in order. */
  shares?: string[];
  /** Collected here: the words revealed for each share index. */
  revealed?: Map<number, string[]>;
  /**
   * Custodians with an OpenPGP key, as their own devices answer: the fingerprint's last digits
   * (typed at check-in), and the words of a sealed share file once decrypted (`gpg --decrypt`).
   */
  openpgp?: { tail: (custodian: string, digits: number) => string; sealedWords: (file: string) => string[] };
}

/** Answer whatever the current step asks, with the keyboard, until the ceremony is finished. */
export async function drive(page: Page, opts: DriveOptions): Promise<ScreenKind> {
  let sharesTyped = 0;
  for (let guard = 0; guard < 200; guard++) {
    const kind = await currentScreen(page);
    const state = await runnerState(page);
    if ((await opts.onScreen?.(kind, state)) === 'stop') return kind;
    switch (kind) {
      case 'finished':
        return kind;
      case 'signoff': {
        // Nobody is preselected: focus is on the name field, and the next person types their name.
        if ((await focusedText(page)) !== 'Your full name or initials') throw new Error(`sign-off: focus is on "${await focusedText(page)}"`);
        const name = await page.locator('.signoff .may-sign [data-name]').first().getAttribute('data-name');
        await page.keyboard.type(name ?? '');
        await page.keyboard.press('Enter');
        break;
      }
      case 'preflight-override':
        await page.keyboard.type(opts.overrideReason ?? 'Rehearsal on a test workstation with its network up');
        await page.keyboard.press('Control+Enter');
        break;
      case 'pin-entry': {
        const so = /Security Officer/.test((await page.locator('label[for=pin]').textContent()) ?? '');
        if (so && !opts.soPin) throw new Error('pin-entry: the SO PIN is asked for, but no soPin was given to drive()');
        await page.keyboard.type(so ? opts.soPin! : opts.pin);
        await page.keyboard.press('Enter');
        break;
      }
      case 'continue': {
        // Making or destroying a key: type what the labels ask for (key id, token label), then Enter.
        const labels = await page.locator('.continue.irreversible .field label').allTextContents();
        for (const [i, label] of labels.entries()) {
          await page.keyboard.type(/\(([^)]+)\)$/.exec(label)?.[1] ?? '');
          if (i < labels.length - 1) await page.keyboard.press('Tab');
        }
        await page.keyboard.press('Enter');
        break;
      }
      case 'privacy-screen':
        await page.keyboard.press('Enter');
        break;
      case 'openpgp-confirm': {
        if (!opts.openpgp) throw new Error('openpgp-confirm: no openpgp answers were given to drive()');
        const name = ((await page.locator('.openpgp-confirm h2').textContent()) ?? '').split(':')[0];
        const digits = Number(/last (\d+) characters/.exec((await page.locator('label[for=openpgp-tail]').textContent()) ?? '')?.[1]);
        if ((await focusedText(page)) !== `${name}: type the last ${digits} characters of the fingerprint as your own device shows them`) throw new Error(`openpgp-confirm: focus is on "${await focusedText(page)}"`);
        await page.keyboard.type(opts.openpgp.tail(name, digits));
        await page.keyboard.press('Enter');
        break;
      }
      case 'sealed-seal':
        // Focus is on "Seal share N to …'s key and write the file"; the default folder is taken.
        await page.keyboard.press('Enter');
        break;
      case 'sealed-proof': {
        if (!opts.openpgp) throw new Error('sealed-proof: no openpgp answers were given to drive()');
        const file = (await page.locator('.sealed-proof').getAttribute('data-file')) ?? '';
        const words = opts.openpgp.sealedWords(file);
        const labels = await page.locator('.sealed-proof .word-input label').allTextContents();
        for (let i = 0; i < labels.length; i++) {
          await page.keyboard.type(words[Number(/Word (\d+)/.exec(labels[i])?.[1]) - 1]);
          if (i < labels.length - 1) await page.keyboard.press('Tab');
        }
        await page.keyboard.press('Enter');
        break;
      }
      case 'share-reveal': {
        const header = (await page.locator('.share-header').textContent()) ?? '';
        const index = Number(/share (\d+) of/.exec(header)?.[1]);
        opts.revealed?.set(index, await page.locator('.share-words .word').allTextContents());
        await page.keyboard.press('Enter');
        break;
      }
      case 'share-confirm': {
        const header = (await page.locator('.step-main h2').first().textContent()) ?? '';
        const labels = await page.locator('.share-confirm .word-input label').allTextContents();
        const name = header.split(':')[0];
        const index = await shareIndexFor(page, name, opts.revealed);
        const words = opts.revealed?.get(index) ?? [];
        for (let i = 0; i < labels.length; i++) {
          const pos = Number(/Word (\d+)/.exec(labels[i])?.[1]);
          await page.keyboard.type(words[pos - 1]);
          if (i < labels.length - 1) await page.keyboard.press('Tab');
        }
        await page.keyboard.press('Enter');
        break;
      }
      case 'statement':
        await page.keyboard.type(opts.statement ?? 'BAG-0001 BAG-0002 BAG-0003 BAG-0004 BAG-0005');
        await page.keyboard.press('Enter');
        break;
      case 'share-entry': {
        const text = opts.shares?.[sharesTyped++];
        if (!text) throw new Error('share entry: no share left to type');
        await page.keyboard.type(text);
        await page.keyboard.press('Enter');
        break;
      }
      case 'check-in':
        throw new Error('check-in is driven by checkIn()');
    }
    const after = await waitForChange(page, state);
    const error = after.split('|')[5];
    if (error) throw new Error(`the step reported ${error}: ${await page.locator('.step-error .error-message').first().textContent()}`);
  }
  throw new Error('the ceremony did not finish');
}

/** The share index being confirmed: the last one revealed to this custodian. */
async function shareIndexFor(page: Page, _custodian: string, revealed?: Map<number, string[]>): Promise<number> {
  const state = await runnerState(page);
  const idx = Number(state.split('|')[3].split('.')[0]);
  if (!revealed?.has(idx)) throw new Error(`share ${idx} was never revealed on screen`);
  return idx;
}
