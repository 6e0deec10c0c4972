/**
 * Printing a bundle's transcript.html: a hidden window in its own session, with no preload, no
 * JavaScript, every request other than the file itself blocked, then the system print dialog.
 * The page is the signed bundle's own HTML (self-contained, with its own strict CSP).
 */
import { pathToFileURL } from 'node:url';
import type { BrowserWindow as BrowserWindowType, BrowserWindowConstructorOptions, Session } from 'electron';

export const PRINT_PARTITION = 'keyrite-print';

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

export async function printHtmlFile(
  file: string,
  electron: { BrowserWindow: typeof BrowserWindowType; session: { fromPartition(p: string): Session } },
): Promise<void> {
  const url = pathToFileURL(file).toString();
  const ses = electron.session.fromPartition(PRINT_PARTITION);
  ses.webRequest.onBeforeRequest((details, cb) => cb({ cancel: details.url !== url }));
  ses.setPermissionRequestHandler((_c, _p, cb) => cb(false));
  const win = new electron.BrowserWindow(printWindowOptions(ses));
  try {
    await win.loadURL(url);
    await new Promise<void>((resolve, reject) =>
      win.webContents.print({ silent: false, printBackground: true }, (ok, reason) => (ok || reason === 'cancelled' ? resolve() : reject(new Error(reason)))),
    );
  } finally {
    win.destroy();
  }
}
