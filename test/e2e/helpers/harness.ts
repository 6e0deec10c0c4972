import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { CeremonyService } from '../../../src/core/ceremony/service';
import { buildHandlerTable, type HandlerTable } from '../../../src/main/ipc/handlers';
import { MainServices } from '../../../src/main/ipc/services';
import { CHANNELS, WITNESS_CHANNELS, type Channel } from '../../../src/shared/ipc-contract';
import { bridgeShimScript } from './bridge-shim';
import { startRendererServer } from './static-server';

export const ROOT = path.resolve(__dirname, '../../..');
export const RENDERER = path.join(ROOT, 'out/renderer');
export const ARTIFACTS = path.join(ROOT, 'test/e2e/artifacts');
export const CHROMIUM = '/usr/bin/chromium';
export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];
export const VIEWPORT = { width: 1280, height: 800 };

/**
 * One "application" for an e2e test file: a fresh KEYRITE_HOME (the embedded demo SoftHSM token
 * is created inside it), the real handler table over the real core, the built renderer in
 * Debian's chromium, and the binding between them. `restartMain()` drops the handler table and
 * every service behind it and builds new ones, as a restarted main process would.
 */
export class E2eApp {
  readonly home: string;
  private services!: MainServices;
  private table!: HandlerTable;
  private browser!: Browser;
  context!: BrowserContext;
  page!: Page;
  baseUrl = '';
  private closeServer: () => Promise<void> = async () => undefined;
  /** Channels called by each page, for assertions (never the inputs: they may hold PINs). */
  readonly calls: Array<{ page: 'main' | 'witness'; channel: string }> = [];
  readonly consoleErrors: string[] = [];
  witnessOpens = 0;
  /** Channels whose calls wait until released (see hold()). */
  private readonly held = new Map<string, Promise<void>>();
  readonly printed: Array<{ file: string; pdf: string }> = [];
  /** Share cards "printed": the PDF and the page's text, in memory only (never written anywhere). */
  readonly printedCards: Array<{ pdf: Buffer; text: string }> = [];
  /**
   * Answers for main's file dialog, taken in order per kind ('openpgpKey', 'shareFile', 'sealDir'…):
   * a path is what the person picked, null a cancelled dialog. A dialog nobody queued an answer
   * for fails the call, so a test never waits on a dialog it did not expect.
   */
  private readonly pickAnswers: Array<{ kind: string; path: string | null }> = [];
  readonly pickedKinds: string[] = [];

  constructor() {
    this.home = mkdtempSync(path.join(os.tmpdir(), 'keyrite-e2e-'));
  }

  private buildMain(): void {
    this.services = new MainServices(this.home, { ...process.env, KEYRITE_HOME: this.home, KEYRITE_PKCS11_MODULE: '', KEYRITE_TOKEN_LABEL: '' }, (opts) => CeremonyService.open(opts));
    this.table = buildHandlerTable({
      services: this.services,
      appVersion: '0.1.0-e2e',
      openWitness: () => {
        this.witnessOpens += 1;
      },
      // Electron prints through the system dialog; here chromium's PDF output stands in for it.
      printFile: async (file) => {
        const p = await this.context.newPage();
        try {
          await p.goto(pathToFileURL(file).href);
          const out = path.join(ARTIFACTS, `printed-${this.printed.length + 1}.pdf`);
          await p.pdf({ path: out, format: 'A4', printBackground: true });
          this.printed.push({ file, pdf: out });
        } finally {
          await p.close();
        }
      },
      // Like Electron's hidden print window: the card's HTML from memory, JavaScript off, every
      // request refused, and the PDF kept as a buffer (page.pdf without a path writes no file).
      printHtml: async (html) => {
        const ctx = await this.browser.newContext({ javaScriptEnabled: false });
        try {
          await ctx.route('**/*', (route) => route.abort());
          const p = await ctx.newPage();
          await p.setContent(html, { waitUntil: 'load' });
          const text = await p.locator('body').innerText();
          const pdf = await p.pdf({ format: 'A4', printBackground: true });
          this.printedCards.push({ pdf, text });
        } finally {
          await ctx.close();
        }
      },
      pickFile: async (kind: string) => {
        this.pickedKinds.push(kind);
        const i = this.pickAnswers.findIndex((a) => a.kind === kind);
        if (i < 0) throw new Error(`the test queued no answer for a '${kind}' file dialog`);
        return this.pickAnswers.splice(i, 1)[0].path;
      },
      log: () => undefined,
    });
  }

  /** What the next main-process file dialog of this kind answers (see pickAnswers). */
  willPick(kind: string, file: string | null): void {
    this.pickAnswers.push({ kind, path: file });
  }

  async start(): Promise<Page> {
    if (!existsSync(path.join(RENDERER, 'index.html'))) {
      throw new Error(`The renderer is not built (${RENDERER}). Run \`npx electron-vite build\` (npm test does it first).`);
    }
    mkdirSync(ARTIFACTS, { recursive: true });
    this.buildMain();
    const server = await startRendererServer(RENDERER);
    this.baseUrl = server.url;
    this.closeServer = server.close;
    this.browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    this.context = await this.browser.newContext({ viewport: VIEWPORT });
    // Like the main process's sender check: the witness page may only use the witness channels.
    await this.context.exposeBinding('keyriteInvoke', async (source, channel: unknown, input: unknown) => {
      const witness = source.page.url().endsWith('#witness');
      if (typeof channel !== 'string' || !(CHANNELS as readonly string[]).includes(channel)) {
        return { ok: false, error: { code: 'IPC_CHANNEL_UNKNOWN', message: 'Unknown channel.' } };
      }
      if (witness && !WITNESS_CHANNELS.includes(channel as Channel)) {
        return { ok: false, error: { code: 'IPC_SENDER_REJECTED', message: 'The witness window is read-only.' } };
      }
      this.calls.push({ page: witness ? 'witness' : 'main', channel });
      await this.held.get(channel);
      return this.table[channel as Channel](input);
    });
    await this.context.addInitScript({ content: bridgeShimScript() });
    this.page = await this.newPage('/index.html');
    return this.page;
  }

  async newPage(pathname: string): Promise<Page> {
    const page = await this.context.newPage();
    page.on('console', (m) => {
      if (m.type() === 'error') this.consoleErrors.push(m.text());
    });
    page.on('pageerror', (e) => this.consoleErrors.push(String(e)));
    await page.goto(`${this.baseUrl}${pathname}`);
    return page;
  }

  /** Make calls to these channels wait (a slow main process) until the returned function is called. */
  hold(...channels: Channel[]): () => void {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    for (const c of channels) this.held.set(c, gate);
    return () => {
      for (const c of channels) this.held.delete(c);
      release();
    };
  }

  /** Call a channel the way the renderer does (for set-up steps that are not under test). */
  invoke<C extends Channel>(channel: C, input?: unknown): ReturnType<HandlerTable[C]> {
    return this.table[channel](input) as ReturnType<HandlerTable[C]>;
  }

  /** Simulate a restarted main process: close the store and the engine, build a new table. */
  async restartMain(): Promise<void> {
    await this.services.close();
    this.buildMain();
  }

  async screenshot(page: Page, name: string): Promise<string> {
    const file = path.join(ARTIFACTS, `${name}.png`);
    await page.screenshot({ path: file, fullPage: false });
    return file;
  }

  /** Event types of the ceremony writing to outDir, from the store (transcript.jsonl exists only once sealed). */
  async eventTypes(outDir: string): Promise<string[]> {
    const list = await this.invoke('ceremony:list');
    if (!list.ok) throw new Error(list.error.message);
    const c = (list.value as Array<{ id: string; outDir: string }>).find((x) => x.outDir === outDir)!;
    const t = await this.invoke('ceremony:events', { id: c.id });
    if (!t.ok) throw new Error(t.error.message);
    return (t.value as { events: Array<{ type: string }> }).events.map((e) => e.type);
  }

  async close(): Promise<void> {
    await this.browser?.close().catch(() => undefined);
    await this.closeServer();
    await this.services?.close();
    rmSync(this.home, { recursive: true, force: true });
  }
}

/** Toggle presentation mode with the keyboard and wait for it to apply. */
export async function setPresentation(page: Page, on: boolean): Promise<void> {
  // F5 toggles from anywhere, without moving focus (so a keyboard-driven flow carries on).
  if ((await inPage.presentation(page)) !== on) await page.keyboard.press('F5');
  await page.waitForFunction(`document.documentElement.classList.contains('presentation') === ${on}`);
}

// Page-side checks are written as expression strings: the test code is typechecked as Node code
// (no DOM library), and these run in the page.
export const inPage = {
  presentation: (page: Page): Promise<boolean> => page.evaluate("document.documentElement.classList.contains('presentation')"),
  activeTag: (page: Page): Promise<string | undefined> => page.evaluate('document.activeElement ? document.activeElement.tagName : undefined'),
  activeLabel: (page: Page): Promise<string> => page.evaluate("(() => { const a = document.activeElement; if (!a) return ''; return (a.labels && a.labels[0] ? a.labels[0].textContent : '') || a.getAttribute('aria-label') || a.textContent || ''; })()"),
  fontSize: (page: Page): Promise<number> => page.evaluate('parseFloat(getComputedStyle(document.documentElement).fontSize)'),
  cspViolations: (page: Page): Promise<string[]> => page.evaluate('window.__cspViolations'),
  storage: (page: Page): Promise<{ local: number; session: number; idb: number }> =>
    page.evaluate('(async () => ({ local: localStorage.length, session: sessionStorage.length, idb: (await indexedDB.databases()).length }))()'),
  bodyText: (page: Page): Promise<string> => page.evaluate('document.body.innerText'),
};
