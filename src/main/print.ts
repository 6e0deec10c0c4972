/**
 * Printing: a hidden window in its own in-memory session, with no preload, no JavaScript, every
 * request other than the page itself blocked, then the system print dialog. Two sources:
 * - a bundle's transcript.html (the signed bundle's own self-contained HTML, with its own CSP),
 *   read by main and loaded from a data: URL, never over file://;
 * - a share card, handed over as a string and loaded from a data: URL, so it never touches disk.
 * Errors never repeat the URL (for a card it holds the share's words): only a short reason.
 */
import { readInputText } from '../core/fs/input-file';
import type { BrowserWindow as BrowserWindowType, BrowserWindowConstructorOptions, Session } from 'electron';

export const PRINT_PARTITION = 'keyrite-print';

export interface PrintElectron {
  BrowserWindow: typeof BrowserWindowType;
  session: { fromPartition(p: string): Session };
}

export function printWindowOptions(ses: Session): BrowserWindowConstructorOptions {
  return {
    show: false,
    webPreferences: {
      session: ses,
      javascript: false,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
      devTools: false,
      spellcheck: false,
    },
  };
}

async function printUrl(url: string, electron: PrintElectron): Promise<void> {
  // No "persist:" prefix: the print session lives in memory only (no cache, no history on disk).
  const ses = electron.session.fromPartition(PRINT_PARTITION);
  ses.webRequest.onBeforeRequest((details, cb) => cb({ cancel: details.url !== url }));
  ses.setPermissionRequestHandler((_c, _p, cb) => cb(false));
  const win = new electron.BrowserWindow(printWindowOptions(ses));
  try {
    try {
      await win.loadURL(url);
    } catch (e) {
      // Electron's load error quotes the URL; keep only its code.
      const code = typeof (e as { code?: unknown }).code === 'string' ? (e as { code: string }).code : 'ERR_FAILED';
      throw new Error(`the page to print did not load (${code})`);
    }
    await new Promise<void>((resolve, reject) =>
      win.webContents.print({ silent: false, printBackground: true }, (ok, reason) => (ok || reason === 'cancelled' ? resolve() : reject(new Error(`printing failed (${reason})`)))),
    );
  } finally {
    win.destroy();
  }
}

/**
 * A bundle's transcript.html, read here (kind and size checked like every named input) and
 * printed from memory like a share card: the print window never gets a file:// URL, so it has
 * no file origin from which to reach other local files.
 */
export async function printHtmlFile(file: string, electron: PrintElectron): Promise<void> {
  const html = readInputText(file, { what: 'transcript page', domain: 'BUNDLE_HTML', maxBytes: TRANSCRIPT_HTML_MAX_BYTES });
  return printUrl(htmlDataUrl(html), electron);
}

/** transcript.html of a ceremony with thousands of events is a few MB; far more is not ours. */
export const TRANSCRIPT_HTML_MAX_BYTES = 64 * 1024 * 1024;

/** The page as a data: URL (base64, so any byte of the HTML survives). Secret when the page is. */
export function htmlDataUrl(html: string): string {
  return `data:text/html;charset=utf-8;base64,${Buffer.from(html, 'utf8').toString('base64')}`;
}

/** Print HTML held in memory (a share card): no temporary file, nothing written. */
export function printHtmlInMemory(html: string, electron: PrintElectron): Promise<void> {
  return printUrl(htmlDataUrl(html), electron);
}
