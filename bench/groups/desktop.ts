import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { chromium, type Browser, type BrowserContext } from 'playwright-core';
import { CeremonyService } from '../../src/core/ceremony/service';
import { buildHandlerTable } from '../../src/main/ipc/handlers';
import { MainServices } from '../../src/main/ipc/services';
import { CHANNELS, type Channel } from '../../src/shared/ipc-contract';
import { bridgeShimScript } from '../../test/e2e/helpers/bridge-shim';
import { startRendererServer } from '../../test/e2e/helpers/static-server';
import { RENDERER, ROOT } from '../lib/paths';
import { belowCheck, ratioCheck, ratioOf, type Row } from '../lib/row';
import { interleave, nowMs, stats } from '../lib/stats';
import { benchDir } from '../lib/token';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];
const READY_BUTTON = 'Start Root key generation';

/**
 * 7. Desktop: (a) the built renderer (out/renderer, `electron-vite build`) gzipped, against the
 * smallest React 19 app bundled the same way; (b) time from navigation start to the first
 * interactive screen — the home screen with the ceremony scripts listed (fetched over IPC) and
 * their Start buttons — in headless Debian chromium, the renderer served on 127.0.0.1 by the app's
 * own app:// request handler, `window.keyrite` built by the e2e bridge shim over the real handler
 * table and core on a fresh KEYRITE_HOME. Reference: that minimal React app's first button, served
 * and loaded the same way.
 */
export async function run(opts: { quick: boolean }): Promise<Row[]> {
  const work = benchDir('desktop');
  try {
    const reference = path.join(work, 'reference-renderer');
    await buildReferenceApp(reference);
    const app = gzipSizes(RENDERER);
    const ref = gzipSizes(reference);
    const rows: Row[] = [
      {
        id: '7a',
        group: 'Desktop',
        name: 'renderer bundle size, gzip',
        keyrite: { label: 'out/renderer, all files gzipped', unit: 'KB', stats: stats([app.gzip / 1024]) },
        reference: { label: 'minimal React 19 app (esbuild, minified)', unit: 'KB', stats: stats([ref.gzip / 1024]) },
        ratio: app.gzip / ref.gzip,
        target: '< 400 KB',
        checks: [belowCheck(app.gzip / 1024, 400, 'KB', 'gzip size')],
        notes: [`KB = 1024 bytes, zlib default level; ${app.files.length} files, ${(app.raw / 1024).toFixed(0)} KB before compression: ${app.files.map((f) => `${f.name} ${(f.gzip / 1024).toFixed(1)} KB`).join(', ')}.`],
      },
    ];
    rows.push(await loadTime(work, reference, opts.quick));
    return rows;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

function gzipSizes(dir: string): { raw: number; gzip: number; files: Array<{ name: string; gzip: number }> } {
  const files: Array<{ name: string; gzip: number }> = [];
  let raw = 0;
  const walk = (rel: string): void => {
    for (const entry of readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const r = path.join(rel, entry.name);
      if (entry.isDirectory()) walk(r);
      else {
        const bytes = readFileSync(path.join(dir, r));
        raw += bytes.length;
        files.push({ name: r, gzip: gzipSync(bytes).length });
      }
    }
  };
  walk('');
  return { raw, gzip: files.reduce((a, f) => a + f.gzip, 0), files };
}

/** The floor any React app pays: React + ReactDOM, one component, one button. */
async function buildReferenceApp(dir: string): Promise<void> {
  mkdirSync(path.join(dir, 'assets'), { recursive: true });
  await build({
    stdin: {
      contents: `import { createElement } from 'react';
import { createRoot } from 'react-dom/client';
function App() { return createElement('main', null, createElement('h1', null, 'Key ceremonies'), createElement('button', { type: 'button' }, ${JSON.stringify(READY_BUTTON)})); }
createRoot(document.getElementById('root')).render(createElement(App));`,
      resolveDir: ROOT,
      loader: 'js',
    },
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    define: { 'process.env.NODE_ENV': '"production"' },
    outfile: path.join(dir, 'assets/index.js'),
    logLevel: 'warning',
  });
  writeFileSync(
    path.join(dir, 'index.html'),
    `<!doctype html>\n<html lang="en">\n<head><meta charset="UTF-8"><title>Reference</title><script type="module" crossorigin src="./assets/index.js"></script></head>\n<body><div id="root"></div></body>\n</html>\n`,
  );
}

/** Records, from inside the page, when the ready button first exists (ms since navigation start). */
const READY_PROBE = `(() => {
  window.__benchReady = null;
  const check = () => {
    if (window.__benchReady !== null) return;
    for (const b of document.querySelectorAll('button')) {
      if (b.textContent.trim() === ${JSON.stringify(READY_BUTTON)} && !b.disabled) { window.__benchReady = performance.now(); return; }
    }
  };
  new MutationObserver(check).observe(document, { subtree: true, childList: true, characterData: true, attributes: true });
})();`;

async function loadTime(work: string, referenceDir: string, quick: boolean): Promise<Row> {
  const home = path.join(work, 'home');
  mkdirSync(home, { recursive: true });
  const services = new MainServices(home, { ...process.env, KEYRITE_HOME: home, KEYRITE_PKCS11_MODULE: '', KEYRITE_TOKEN_LABEL: '' }, (o) => CeremonyService.open(o));
  const table = buildHandlerTable({ services, appVersion: '0.1.0-bench', openWitness: () => undefined, log: () => undefined });
  const appServer = await startRendererServer(RENDERER);
  const refServer = await startRendererServer(referenceDir);
  let browser: Browser | undefined;
  const ipc = new Map<string, number[]>();
  try {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    const b = browser;
    // A new context per load: nothing cached from the previous load, as when the app starts.
    const newContext = async (): Promise<BrowserContext> => {
      const context = await b.newContext({ viewport: { width: 1280, height: 800 } });
      await context.exposeBinding('keyriteInvoke', async (_source, channel: unknown, input: unknown) => {
        if (typeof channel !== 'string' || !(CHANNELS as readonly string[]).includes(channel)) return { ok: false, error: { code: 'IPC_CHANNEL_UNKNOWN', message: 'Unknown channel.' } };
        const t0 = nowMs();
        try {
          return await table[channel as Channel](input);
        } finally {
          const list = ipc.get(channel) ?? [];
          list.push(nowMs() - t0);
          ipc.set(channel, list);
        }
      });
      await context.addInitScript({ content: bridgeShimScript() });
      await context.addInitScript({ content: READY_PROBE });
      return context;
    };
    const load = (url: string) => async (): Promise<number> => {
      const context = await newContext();
      try {
        const page = await context.newPage();
        const errors: string[] = [];
        page.on('pageerror', (e) => errors.push(String(e)));
        await page.goto(url);
        // Functions, not strings: the app's CSP forbids eval, which string predicates need.
        const ready = await page.waitForFunction(() => (globalThis as unknown as { __benchReady: number | null }).__benchReady, undefined, { timeout: 30_000 });
        if (errors.length > 0) throw new Error(`bench: page errors: ${errors.join('; ')}`);
        return (await ready.jsonValue()) as number;
      } finally {
        await context.close();
      }
    };
    const rounds = quick ? 3 : 15;
    const samples = await interleave(
      [
        { name: 'keyrite', run: load(`${appServer.url}/index.html`) },
        { name: 'reference', run: load(`${refServer.url}/index.html`) },
      ],
      { rounds, warmup: 2 },
    );
    const k = stats(samples.get('keyrite')!);
    const r = stats(samples.get('reference')!);
    // Per call, without the two warm-up loads (the first opens the store and the engine).
    const perCall = [...ipc.entries()].map(([channel, list]) => `${channel} ${stats(list.slice(Math.round((list.length / (rounds + 2)) * 2))).median.toFixed(1)} ms`).join(', ');
    return {
      id: '7b',
      group: 'Desktop',
      name: 'page load to first interactive screen (headless chromium)',
      keyrite: { label: `home screen with "${READY_BUTTON}"`, unit: 'ms', stats: k },
      reference: { label: 'minimal React app, first button', unit: 'ms', stats: r },
      ratio: ratioOf(k, r),
      // Issue #18 replaced the absolute 500 ms budget with a ratio: on a shared, loaded machine even
      // the minimal React app takes longer than 500 ms, so only the side-by-side ratio means much.
      target: 'ratio ≤ 1.3',
      checks: [ratioCheck(ratioOf(k, r), 1.3)],
      notes: [
        `Measured in the page (performance.now() when the button first exists, i.e. from navigation start), ${rounds} loads per side interleaved after 2 warm-ups, each in a fresh browser context. Includes the IPC calls the home screen makes (app info, scripts, ceremonies) answered by the real handler table and core through Playwright's binding, which stands in for Electron's IPC; the Electron window's own start-up is not included.`,
        `Main-side handler time per call (median, after the warm-ups; the calls overlap): ${perCall}. The Start buttons do not wait for them: the built-in ceremonies are compiled into the renderer (__BUILTIN_CEREMONIES__) and the lists fill in when the answers come.`,
        `The earlier absolute budget (< 500 ms) is reported, not checked: the median was ${k.median.toFixed(0)} ms here against ${r.median.toFixed(0)} ms for the minimal app.`,
      ],
      why: `the first screen does more than the minimal app before its first button exists (the app's own bundle, its styles and the home screen's layout)`,
    };
  } finally {
    await browser?.close().catch(() => undefined);
    await appServer.close();
    await refServer.close();
    await services.close();
  }
}
