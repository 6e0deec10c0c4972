import { describe, expect, it } from 'vitest';
import { htmlDataUrl, PRINT_PARTITION, printHtmlInMemory, type PrintElectron } from '../../src/main/print';

// The Electron side of printing a share card, with `electron` replaced by recorders: what the
// hidden window is, what it loads, what it lets through, and what an error says.
const CARD = '<!doctype html><title>Share 2 — k</title><ol class="words"><li>abandon</li><li>ability</li><li>zoë</li></ol>';

function fakeElectron(opts: { load?: (url: string) => Promise<void>; printed?: [boolean, string] } = {}) {
  const rec = {
    partitions: [] as string[],
    filter: undefined as undefined | ((d: { url: string }, cb: (r: { cancel: boolean }) => void) => void),
    permission: undefined as undefined | ((c: unknown, p: string, cb: (ok: boolean) => void) => void),
    windows: [] as Array<{ options: Record<string, unknown>; url?: string; printOptions?: unknown; destroyed: boolean }>,
  };
  class BrowserWindow {
    url?: string;
    printOptions?: unknown;
    destroyed = false;
    constructor(public options: Record<string, unknown>) {
      rec.windows.push(this);
    }
    loadURL(url: string) {
      this.url = url;
      return opts.load ? opts.load(url) : Promise.resolve();
    }
    webContents = {
      print: (o: unknown, cb: (ok: boolean, reason: string) => void) => {
        this.printOptions = o;
        cb(...(opts.printed ?? [true, '']));
      },
    };
    destroy() {
      this.destroyed = true;
    }
  }
  const electron = {
    BrowserWindow,
    session: {
      fromPartition: (p: string) => {
        rec.partitions.push(p);
        return { webRequest: { onBeforeRequest: (fn: typeof rec.filter) => (rec.filter = fn) }, setPermissionRequestHandler: (fn: typeof rec.permission) => (rec.permission = fn) };
      },
    },
  } as unknown as PrintElectron;
  return { electron, rec };
}

describe('printing a share card from memory (electron mocked)', () => {
  it('loads the card as a data: URL holding exactly its HTML, in a hidden JavaScript-less window of an in-memory session, prints it, destroys the window', async () => {
    const { electron, rec } = fakeElectron();
    await printHtmlInMemory(CARD, electron);
    expect(rec.partitions).toEqual([PRINT_PARTITION]);
    expect(PRINT_PARTITION.startsWith('persist:')).toBe(false);
    expect(rec.windows).toHaveLength(1);
    const w = rec.windows[0];
    expect(w.options).toMatchObject({ show: false, webPreferences: { javascript: false, sandbox: true, contextIsolation: true, nodeIntegration: false } });
    expect(w.options.webPreferences).not.toHaveProperty('preload');
    expect(w.url).toBe(htmlDataUrl(CARD));
    const b64 = /^data:text\/html;charset=utf-8;base64,(.+)$/.exec(w.url!)![1];
    expect(Buffer.from(b64, 'base64').toString('utf8')).toBe(CARD);
    expect(w.printOptions).toMatchObject({ silent: false });
    expect(w.destroyed).toBe(true);
  });

  it('lets through only the card itself; every other request and every permission is refused', async () => {
    const { electron, rec } = fakeElectron();
    await printHtmlInMemory(CARD, electron);
    const verdict = (url: string) => {
      let r: { cancel: boolean } | undefined;
      rec.filter!({ url }, (x) => (r = x));
      return r!.cancel;
    };
    expect(verdict(htmlDataUrl(CARD))).toBe(false);
    for (const url of ['https://example.com/qr.png', 'file:///etc/passwd', 'app://keyrite/index.html', htmlDataUrl('<p>other</p>')]) expect(verdict(url)).toBe(true);
    let allowed: boolean | undefined;
    rec.permission!({}, 'media', (ok) => (allowed = ok));
    expect(allowed).toBe(false);
  });

  it('a page that does not load fails with its code only, never the URL (which holds the words); the window is destroyed', async () => {
    const { electron, rec } = fakeElectron({
      load: (url) => Promise.reject(Object.assign(new Error(`ERR_ABORTED (-3) loading '${url}'`), { code: 'ERR_ABORTED' })),
    });
    const err = await printHtmlInMemory(CARD, electron).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toBe('the page to print did not load (ERR_ABORTED)');
    expect((err as Error).message).not.toContain('base64');
    expect(rec.windows[0].destroyed).toBe(true);
  });

  it.each([
    [[false, 'cancelled'] as [boolean, string], null],
    [[false, 'Invalid printer settings'] as [boolean, string], 'printing failed (Invalid printer settings)'],
  ])('print dialog result %j', async (printed, failure) => {
    const { electron, rec } = fakeElectron({ printed });
    const err = await printHtmlInMemory(CARD, electron).then(() => null, (e: Error) => e.message);
    expect(err).toBe(failure);
    expect(rec.windows[0].destroyed).toBe(true);
  });
});
