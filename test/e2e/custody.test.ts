import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_SO_PIN, DEMO_USER_PIN } from '../../src/core/hsm/config';
import { findSoftHsmModule } from '../../src/core/hsm/softhsm';
import { loadScript } from '../../src/core/ceremony/script';
import { renderScriptHtml } from '../../src/core/ceremony/script-html';
import { renderBlankShareCardHtml } from '../../src/core/backup/blank-share-card';
import { E2eApp } from './helpers/harness';
import { checkIn, drive, focusedText, runnerState, tabTo, waitForChange } from './helpers/keyboard-driver';
import { openCeremonies, ROOT_PEOPLE, shotSizes, SIZES, startFromHome } from './helpers/screens';

// Chain of custody in the built renderer over the real core and the demo SoftHSM token: bag
// serials per share, the printable ceremony script and blank share card, Settings testing the
// module, Verify saying what to do after tampering.
const app = new E2eApp();
let page: Awaited<ReturnType<E2eApp['start']>>;
const media = mkdtempSync(path.join(os.tmpdir(), 'keyrite-custody-'));
const CUSTODIANS = ROOT_PEOPLE.slice(2, 7);
let bundle = '';

beforeAll(async () => {
  page = await app.start();
}, 120_000);
afterAll(() => app.close());

describe('bag serials: one row per share, on its custodian\'s row', () => {
  it('pre-fills share and custodian, refuses a bag used twice on its row, and records the mapping', async () => {
    await page.locator('h1').waitFor();
    bundle = path.join(media, 'root');
    await startFromHome(page, 'Root key generation', bundle);
    await checkIn(page, ROOT_PEOPLE, []);
    const revealed = new Map<number, string[]>();
    const stopped = await drive(page, { pin: DEMO_USER_PIN, soPin: DEMO_SO_PIN, revealed, onScreen: async (kind) => (kind === 'statement' ? 'stop' : undefined) });
    expect(stopped).toBe('statement');
    const rows = page.locator('.bag-rows tbody tr');
    expect(await rows.count()).toBe(5);
    for (const [i, name] of CUSTODIANS.entries()) {
      expect(await rows.nth(i).locator('td').nth(0).textContent()).toBe(`${i + 1} of 5`);
      expect(await rows.nth(i).locator('td').nth(1).textContent()).toBe(name);
    }
    // Focus is on share 1's row; one serial per row, Tab to the next.
    expect(await focusedText(page)).toBe('Bag serial for share 1 (Cora Custodian)');
    for (const [i, serial] of ['TEB-2001', 'TEB-2002', 'TEB-2003'].entries()) {
      await page.keyboard.type(serial);
      await page.keyboard.press('Tab');
      expect(await focusedText(page)).toBe(`Bag serial for share ${i + 2} (${CUSTODIANS[i + 1]})`);
    }
    await shotSizes(app, page, 'bag-serials', { show: '.statement .actions', last: true, overflow: 'page' });

    // Share 4 typed with share 2's bag: marked on that row at once, and Record refuses.
    await page.keyboard.type('teb-2002');
    const row4 = page.locator('.bag-row[data-share="4"]');
    await row4.locator('.inline-error').waitFor();
    expect(await row4.getAttribute('class')).toContain('bad');
    expect(await row4.locator('.inline-error').textContent()).toBe('Same bag as share 2 (Carl Custodian): every share has its own bag.');
    await page.keyboard.press('Enter');
    expect(await page.locator('.statement .form-problem').textContent()).toBe('Share 4 (Cyd Custodian): Same bag as share 2 (Carl Custodian): every share has its own bag.');
    await shotSizes(app, page, 'bag-serials-error', { show: '.statement .form-problem', last: true, overflow: 'page' });

    // Fix only that row; a space moves on to the next row (a list read out or scanned).
    await page.locator('#bag-4').fill('');
    await page.locator('#bag-4').focus();
    await page.keyboard.type('TEB-2004 TEB-2005');
    expect(await page.locator('#bag-5').inputValue()).toBe('TEB-2005');
    expect(await page.locator('#bag-1').inputValue()).toBe('TEB-2001');
    const before = await runnerState(page);
    await page.keyboard.press('Enter');
    await waitForChange(page, before);
    expect((await runnerState(page)).split('|')[5]).toBe('');
    expect(await drive(page, { pin: DEMO_USER_PIN, soPin: DEMO_SO_PIN, revealed })).toBe('finished');

    const events = readFileSync(path.join(bundle, 'transcript.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { type: string; data: Record<string, unknown> });
    const st = events.find((e) => e.type === 'STATEMENT_RECORDED')!;
    expect(st.data.bags).toEqual(CUSTODIANS.map((custodian, i) => ({ bag: `TEB-200${i + 1}`, shareIndex: i + 1, custodian, custodianId: expect.any(String) })));
    expect(readFileSync(path.join(bundle, 'transcript.html'), 'utf8')).toContain('<tr><td><code>TEB-2004</code></td><td>4</td><td>Cyd Custodian</td>');
  }, 300_000);
});

describe('Settings test the module before saving it', () => {
  it('lists the tokens of a real module; refuses a non-PKCS#11 file with its code and saves nothing', async () => {
    await tabTo(page, /^Settings$/);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Settings', level: 1 }).waitFor();

    // A real module: loaded in a child process, its tokens listed (the demo token's module).
    const real = findSoftHsmModule();
    await page.getByLabel('PKCS#11 module').fill(real);
    await page.getByRole('button', { name: 'Test module' }).click();
    const tested = page.locator('.module-test');
    await tested.waitFor();
    expect(await tested.textContent()).toMatch(/Loaded: .*SoftHSM/);
    expect(await page.locator('.module-tokens tbody tr').count()).toBeGreaterThanOrEqual(1);

    // A file that is not a PKCS#11 library, picked in the (main-process) dialog: refused on test and on save.
    const fake = path.join(media, 'libvendor-pkcs11.so');
    writeFileSync(fake, '\x7fELF not really a library');
    app.willPick('module', fake);
    await page.getByRole('button', { name: 'Choose module file…' }).click();
    await expect.poll(() => page.getByLabel('PKCS#11 module').inputValue()).toBe(fake);
    await page.getByRole('button', { name: 'Test module' }).click();
    const refused = page.locator('.error-panel');
    await refused.waitFor();
    expect(await refused.getAttribute('data-code')).toBe('SETTINGS_MODULE_NOT_PKCS11');
    expect(await refused.locator('.error-message').textContent()).toContain(`'${fake}' did not load as a PKCS#11 module`);
    await shotSizes(app, page, 'settings-module-refused', { show: '.settings .error-panel', last: true, overflow: 'page' });
    await page.getByRole('button', { name: 'Save settings' }).click();
    await expect.poll(async () => page.locator('.error-panel').last().getAttribute('data-code')).toBe('SETTINGS_MODULE_NOT_PKCS11');
    expect(await page.getByText('Settings saved.').count()).toBe(0);
    const saved = await app.invoke('settings:get');
    expect(saved).toMatchObject({ ok: true, value: { modulePath: null } });
  }, 120_000);
});

describe('Verify: what to do after tampering; the demo token flagged', () => {
  it('a bundle made on the demo token verifies with DEMO first', async () => {
    await tabTo(page, /^Verify a bundle$/);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Verify a bundle' }).waitFor();
    await page.keyboard.type(bundle);
    await page.keyboard.press('Enter');
    await page.locator('.verified').waitFor();
    expect(await page.locator('.verified .demo-banner').textContent()).toMatch(/^DEMO/);
  }, 60_000);

  it('a changed event: names transcript.jsonl and the event, keep the evidence, whom to call', async () => {
    const copy = path.join(mkdtempSync(path.join(os.tmpdir(), 'keyrite-tampered-')), 'bundle');
    cpSync(bundle, copy, { recursive: true });
    const file = path.join(copy, 'transcript.jsonl');
    const lines = readFileSync(file, 'utf8').split('\n');
    const at = lines.findIndex((l) => l.includes('"STATEMENT_RECORDED"'));
    lines[at] = lines[at].replace('TEB-2003', 'TEB-2999');
    writeFileSync(file, lines.join('\n'));
    await page.getByLabel('Bundle folder').fill(copy);
    await page.getByLabel('Bundle folder').press('Enter');
    await page.locator('.error-panel').waitFor();
    expect(await page.locator('.error-panel').getAttribute('data-code')).toBe('TRANSCRIPT_EVENT_HASH');
    const next = page.locator('.next-steps li');
    expect(await next.count()).toBe(5);
    expect(await next.nth(1).textContent()).toBe(`The problem is in transcript.jsonl (event ${at + 1}) in ${copy}.`);
    expect(await next.nth(2).textContent()).toMatch(/^Keep this copy as evidence/);
    expect(await next.nth(4).textContent()).toContain('Call the ceremony administrator and the security officer');
    await shotSizes(app, page, 'verify-tampered-next', { show: '.next-steps', last: true, overflow: 'page' });
    // Nothing was changed by verifying: the evidence is as it was left.
    expect(readFileSync(file, 'utf8')).toBe(lines.join('\n'));
  }, 60_000);
});

describe('printable ceremony script, before the ceremony', () => {
  it('Print script on the ceremony choice prints every step with a checkbox, time and initials', async () => {
    await openCeremonies(page);
    const before = app.printedCards.length;
    await tabTo(page, /^Print the script of Root key generation$/);
    await page.keyboard.press('Enter');
    await page.locator('.print-sent').first().waitFor();
    expect(app.printedCards.length).toBe(before + 1);
    const loaded = loadScript('root-key-generation');
    const printed = app.printedCards.at(-1)!.text;
    expect(printed).toContain('root-key-generation version 1');
    for (const step of loaded.script.steps) expect(printed).toContain(step.title);
    expect(printed.match(/☐/g)!.length).toBeGreaterThanOrEqual(loaded.script.steps.length);
    await shotSizes(app, page, 'ceremony-script-printed', { show: '.print-sent', last: true, overflow: 'page' });
    // The printed page itself, as the printer gets it.
    const paper = await app.context.newPage();
    await paper.setContent(renderScriptHtml(loaded));
    for (const size of SIZES) {
      await paper.setViewportSize(size);
      await app.screenshot(paper, `ceremony-script-printed-page-${size.width}`);
    }
    await paper.close();
  }, 60_000);

  it('Print a blank share card on the ceremony choice sends 33 numbered, empty boxes to the printer', async () => {
    await openCeremonies(page);
    const before = app.printedCards.length;
    await tabTo(page, /^Print a blank share card$/);
    await page.keyboard.press('Enter');
    await page.locator('.blank-card-sent').waitFor();
    expect(app.printedCards.length).toBe(before + 1);
    const printed = app.printedCards.at(-1)!.text;
    // Every box numbered 1 to 33 once, and nothing of any share: the card is blank.
    for (let n = 1; n <= 33; n++) expect(printed).toMatch(new RegExp(`(^|\\D)${n}\\.`));
    expect(printed).not.toMatch(/(^|\D)34\./);
    await shotSizes(app, page, 'share-card-blank-sent', { show: '.blank-card-sent', last: true, overflow: 'page' });
  }, 60_000);

  it('the blank share card has the same 3×11 column grid as the share on screen', async () => {
    const paper = await app.context.newPage();
    await paper.setContent(renderBlankShareCardHtml({ splitId: '7F3A-91C2', index: 2, count: 5, custodian: 'Carl Custodian' }));
    // Column-wise like the screen and the printed card: the first row reads 1, 12, 23.
    const firstRow = await paper.locator('.grid ol li:first-child .n').allTextContents();
    expect(firstRow).toEqual(['1.', '12.', '23.']);
    expect(await paper.locator('.grid li').count()).toBe(33);
    for (const size of SIZES) {
      await paper.setViewportSize(size);
      await app.screenshot(paper, `share-card-blank-${size.width}`);
    }
    await paper.close();
  });
});
