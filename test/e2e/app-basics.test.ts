import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { E2eApp, inPage, setPresentation } from './helpers/harness';

// The built renderer in Debian's chromium, driven through the real handler table and core on a
// fresh KEYRITE_HOME with its own demo SoftHSM token.
const app = new E2eApp();
let page: Awaited<ReturnType<E2eApp['start']>>;

beforeAll(async () => {
  page = await app.start();
}, 120_000);
afterAll(() => app.close());

const nav = (name: string) => page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name });

describe('desktop app in chromium (real handlers, real core)', () => {
  it('loads the home screen with the built-in ceremony scripts and the demo token badge', async () => {
    await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe('Key ceremonies');
    await page.getByRole('button', { name: 'Start Root key generation' }).waitFor();
    await page.getByText('Demo token').first().waitFor();
    const scripts = await page.locator('#scripts-title + ul li h3').allTextContents();
    expect(scripts).toEqual(expect.arrayContaining(['Root key generation', 'Backup and recovery drill']));
    // The heading has focus, so keyboard users start at the top of the screen.
    expect(await inPage.activeTag(page)).toBe('H1');
    await app.screenshot(page, 'home');
    await setPresentation(page, true);
    await app.screenshot(page, 'home-presentation');
    await setPresentation(page, false);
  });

  it('toggles presentation mode with P outside inputs and with F5, but not while typing', async () => {
    await nav('Ceremonies').click();
    await page.locator('h1').focus();
    await page.keyboard.press('p');
    expect(await inPage.presentation(page)).toBe(true);
    await page.keyboard.press('F5');
    expect(await inPage.presentation(page)).toBe(false);
    await nav('Verify a bundle').click();
    await page.getByLabel('Bundle folder').focus();
    await page.keyboard.type('/tmp/p');
    expect(await page.getByLabel('Bundle folder').inputValue()).toBe('/tmp/p');
    expect(await inPage.presentation(page)).toBe(false);
    // Large type: the base font grows in presentation mode.
    const size = () => inPage.fontSize(page);
    const normal = await size();
    await setPresentation(page, true);
    expect(await size()).toBeGreaterThan(normal * 1.4);
    await setPresentation(page, false);
  });

  it('shows the HSM screen: module, the demo token, and every mechanism Keyrite needs supported', async () => {
    await nav('HSM').click();
    await page.getByRole('heading', { name: 'HSM', level: 1 }).waitFor();
    await page.getByRole('heading', { name: /Token “keyrite-demo”/ }).waitFor();
    await expect.poll(() => page.locator('.preflight-ok').first().textContent()).toContain('every mechanism Keyrite needs is supported');
    const rows = await page.locator('table.mechanisms tbody tr').count();
    expect(rows).toBeGreaterThanOrEqual(5);
    expect(await page.locator('table.mechanisms').first().textContent()).toContain('CKM_AES_KEY_WRAP_PAD');
    await app.screenshot(page, 'hsm');
    await setPresentation(page, true);
    await app.screenshot(page, 'hsm-presentation');
    await setPresentation(page, false);
  });

  it('settings: a missing module path is refused with its code and sentence; a valid output folder is saved', async () => {
    await nav('Settings').click();
    await page.getByRole('heading', { name: 'Settings', level: 1 }).waitFor();
    await page.getByLabel('PKCS#11 module').fill('/nonexistent/libvendor-pkcs11.so');
    await page.getByLabel('PKCS#11 module').press('Enter');
    const alert = page.locator('.error-panel');
    await alert.waitFor();
    expect(await alert.getAttribute('data-code')).toBe('SETTINGS_MODULE_MISSING');
    expect(await alert.textContent()).toContain("There is no file at '/nonexistent/libvendor-pkcs11.so'");
    await app.screenshot(page, 'settings-error');

    await page.getByLabel('PKCS#11 module').fill('relative/lib.so');
    await page.getByRole('button', { name: 'Save settings' }).click();
    await expect.poll(() => alert.getAttribute('data-code')).toBe('SETTINGS_PATH_RELATIVE');

    const out = path.join(app.home, 'media');
    await page.getByLabel('PKCS#11 module').fill('');
    await page.getByLabel('Output folder').fill(out);
    await page.getByLabel('Output folder').press('Enter');
    await page.getByText('Settings saved.').waitFor();
    const saved = await app.invoke('settings:get');
    expect(saved).toMatchObject({ ok: true, value: { outputFolder: out, modulePath: null, effective: { outputFolder: out, demo: true } } });
    await app.screenshot(page, 'settings');
    await setPresentation(page, true);
    await app.screenshot(page, 'settings-presentation');
    await setPresentation(page, false);
  });

  it.each([
    ['a folder that does not exist', () => path.join(os.tmpdir(), 'keyrite-no-such-bundle'), 'BUNDLE_NOT_FOUND', 'There is no bundle folder'],
    ['an empty folder', () => mkdtempSync(path.join(os.tmpdir(), 'keyrite-empty-')), 'BUNDLE_EMPTY', 'is empty'],
    [
      'a folder with an unsealed transcript',
      () => {
        const d = mkdtempSync(path.join(os.tmpdir(), 'keyrite-unsealed-'));
        writeFileSync(path.join(d, 'transcript.jsonl'), '{}\n');
        return d;
      },
      'TRANSCRIPT_NOT_SEALED',
      'never sealed',
    ],
  ])('verify a bundle: %s shows the error code, the sentence and a way forward', async (_name, makeDir, code, text) => {
    await nav('Verify a bundle').click();
    const dir = makeDir();
    await page.getByLabel('Bundle folder').fill(dir);
    await page.getByLabel('Bundle folder').press('Enter');
    const alert = page.locator('.error-panel');
    await expect.poll(() => alert.getAttribute('data-code')).toBe(code);
    expect(await alert.textContent()).toContain(text);
    await page.getByRole('button', { name: 'Verify again' }).waitFor();
    await page.getByRole('button', { name: 'Back to home' }).waitFor();
    if (code === 'TRANSCRIPT_NOT_SEALED') {
      await app.screenshot(page, 'verify-error');
      await setPresentation(page, true);
      await app.screenshot(page, 'verify-error-presentation');
      await setPresentation(page, false);
    }
  });

  it('inventory is empty on a fresh home and says when keys will appear', async () => {
    await nav('Key inventory').click();
    await page.getByText('No keys yet.').waitFor();
  });

  it('the renderer never gets a stack trace: bad input comes back as IPC_INPUT_INVALID, from the page too', async () => {
    const result: unknown = await page.evaluate('window.keyrite.ceremony.view({ id: 42 })');
    expect(result).toMatchObject({ ok: false, error: { code: 'IPC_INPUT_INVALID' } });
    expect(JSON.stringify(result)).not.toMatch(/at .*\.ts:\d+|node_modules/);
  });

  it('the page cannot reach the network or Node, and nothing was stored in the browser', async () => {
    const probe: { fetchBlocked: boolean; require: string; process: string } = await page.evaluate(`(async () => {
      let fetchBlocked = false;
      try { await fetch('http://127.0.0.1:9/'); } catch { fetchBlocked = true; }
      return { fetchBlocked, require: typeof window.require, process: typeof window.process };
    })()`);
    expect(probe.fetchBlocked).toBe(true);
    expect(probe.require).toBe('undefined');
    expect(probe.process).toBe('undefined');
    // The CSP (connect-src 'none') is what stopped it.
    await expect.poll(async () => (await inPage.cspViolations(page)).some((v) => v.startsWith('connect-src'))).toBe(true);
    expect(await inPage.storage(page)).toEqual({ local: 0, session: 0, idb: 0 });
  });

  it('loaded with no CSP violation other than the probe above and no console error', async () => {
    const violations = await inPage.cspViolations(page);
    expect(violations.filter((v) => !v.startsWith('connect-src'))).toEqual([]);
    expect(app.consoleErrors.filter((e) => !/Content Security Policy|Failed to fetch|ERR_CONNECTION_REFUSED|connect-src/.test(e))).toEqual([]);
  });
});
