import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { APP_ENTRY } from '../../src/main/security';
import { ROOT } from './helpers/harness';

/** The Electron binary, where `npm ci` could download it (not on registry-only machines). */
function electronBinary(): string | null {
  const pathTxt = path.join(ROOT, 'node_modules', 'electron', 'path.txt');
  if (!existsSync(pathTxt)) return null;
  const bin = path.join(ROOT, 'node_modules', 'electron', 'dist', readFileSync(pathTxt, 'utf8').trim());
  return existsSync(bin) ? bin : null;
}

const bin = electronBinary();
const display = Boolean(process.env.DISPLAY || process.env.WAYLAND_DISPLAY);
const why = !bin
  ? 'skipped: the Electron binary is not installed on this machine (electron is installed with ELECTRON_SKIP_BINARY_DOWNLOAD=1)'
  : !display
    ? 'skipped: no display (run under xvfb-run)'
    : '';

describe('the real Electron app', () => {
  // The one skip in the suite, with its reason in its name.
  it.skipIf(Boolean(why))(`launches out/main in Electron: app:// page, bridge present, Node absent, hardened window${why ? ` — ${why}` : ''}`, async () => {
    const { _electron } = await import('playwright-core');
    const home = mkdtempSync(path.join(os.tmpdir(), 'keyrite-electron-'));
    const app = await _electron.launch({ executablePath: bin!, args: [ROOT], env: { ...process.env, KEYRITE_HOME: home } as Record<string, string> });
    try {
      const win = await app.firstWindow();
      expect(win.url()).toBe(APP_ENTRY);
      await win.getByRole('heading', { name: 'Key ceremonies' }).waitFor();
      expect(await win.evaluate('typeof window.keyrite.app.info')).toBe('function');
      expect(await win.evaluate('typeof window.require')).toBe('undefined');
      expect(await win.evaluate('typeof window.process')).toBe('undefined');
      // Navigation away from the app is refused by the main process: wait for the attempt to reach
      // it (will-navigate, after the app's own handler has refused it), then the page is unchanged.
      type Seen = { navigationAttempts?: string[] };
      await app.evaluate(({ BrowserWindow }) => {
        const seen = globalThis as Seen;
        seen.navigationAttempts = [];
        BrowserWindow.getAllWindows()[0].webContents.on('will-navigate', (_e, url) => seen.navigationAttempts!.push(url));
      });
      await win.evaluate("location.href = 'https://example.com/'");
      await expect.poll(() => app.evaluate(() => (globalThis as Seen).navigationAttempts)).toEqual(['https://example.com/']);
      expect(win.url()).toBe(APP_ENTRY);
      expect(await app.evaluate(({ BrowserWindow }) => BrowserWindow.getAllWindows().length)).toBe(1);
      const info = await win.evaluate('window.keyrite.app.info()');
      expect(info).toMatchObject({ ok: true, value: { home } });
    } finally {
      await app.close();
      rmSync(home, { recursive: true, force: true });
    }
  });
});
