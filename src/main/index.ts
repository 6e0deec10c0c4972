/**
 * Electron main process, kept thin: security set-up, the app:// protocol, one window (plus an
 * optional witness window), and the IPC handler table registered behind the sender check.
 * Everything that matters happens in the core, through the handler table.
 */
import 'reflect-metadata';
import path from 'node:path';
import { app, BrowserWindow, dialog, ipcMain, Menu, protocol, session, utilityProcess } from 'electron';
import { CeremonyService } from '../core/ceremony/service';
import { keyriteHome } from '../core/config/paths';
import { disableCoreDumps } from '../core/process/core-dumps';
import { handleAppProtocol, registerAppScheme } from './app-protocol';
import { buildHandlerTable, type PickKind } from './ipc/handlers';
import { registerIpc } from './ipc/register';
import { printHtmlFile, printHtmlInMemory } from './print';
import { MainServices } from './ipc/services';
import { probeModuleInUtilityProcess } from './module-probe-electron';
import { APP_ENTRY, hardenSession, hardenWebContents, WITNESS_ENTRY } from './security';
import { mainWindowOptions, witnessWindowOptions } from './window-options';

// First, before any secret can be in memory: no core dumps for this process and, since the limit
// is inherited, for the renderer and GPU processes Chromium starts from it.
disableCoreDumps();

// Development conveniences (DevTools, the default menu, devtools:// requests) exist only in an
// unpackaged build: KEYRITE_DEV=1 on an installed Keyrite changes nothing.
const dev = process.env.KEYRITE_DEV === '1' && !app.isPackaged;
const preload = path.join(__dirname, '../preload/index.js');
const rendererRoot = path.join(__dirname, '../renderer');

// Before `ready`: the scheme must be privileged before any page loads.
registerAppScheme(protocol);
app.enableSandbox();

const windows = new Set<number>();
const witnesses = new Set<number>();
let mainWindow: BrowserWindow | null = null;
let witnessWindow: BrowserWindow | null = null;
let services: MainServices | null = null;

function track(win: BrowserWindow, witness: boolean): void {
  const id = win.webContents.id;
  windows.add(id);
  if (witness) witnesses.add(id);
  win.on('closed', () => {
    windows.delete(id);
    witnesses.delete(id);
  });
}

function createMainWindow(): BrowserWindow {
  const win = new BrowserWindow(mainWindowOptions({ preload, dev }));
  track(win, false);
  win.once('ready-to-show', () => win.show());
  win.on('closed', () => {
    mainWindow = null;
    witnessWindow?.close();
  });
  void win.loadURL(APP_ENTRY);
  return win;
}

function openWitness(): void {
  if (witnessWindow && !witnessWindow.isDestroyed()) {
    witnessWindow.focus();
    return;
  }
  const win = new BrowserWindow(witnessWindowOptions({ preload, dev }));
  track(win, true);
  win.once('ready-to-show', () => win.show());
  win.on('closed', () => {
    witnessWindow = null;
  });
  void win.loadURL(WITNESS_ENTRY);
  witnessWindow = win;
}

/** The main-process file dialog: the only way a module or script file outside the known places gets in. */
async function pickFile(kind: PickKind): Promise<string | null> {
  const options = PICK_DIALOGS[kind];
  const r = mainWindow ? await dialog.showOpenDialog(mainWindow, options) : await dialog.showOpenDialog(options);
  return r.canceled || r.filePaths.length === 0 ? null : r.filePaths[0];
}

const PICK_DIALOGS: Record<PickKind, Electron.OpenDialogOptions> = {
  module: { title: 'Choose the PKCS#11 module (.so) of your HSM', properties: ['openFile', 'dontAddToRecent'], filters: [{ name: 'PKCS#11 module', extensions: ['so'] }] },
  script: { title: 'Choose a ceremony script (.yaml)', properties: ['openFile', 'dontAddToRecent'], filters: [{ name: 'Ceremony script', extensions: ['yaml', 'yml'] }] },
  openpgpKey: { title: 'Choose the custodian\'s OpenPGP public key (.asc)', properties: ['openFile', 'dontAddToRecent'], filters: [{ name: 'OpenPGP public key', extensions: ['asc', 'pub', 'txt', 'gpg'] }, { name: 'All files', extensions: ['*'] }] },
  shareFile: { title: 'Choose the decrypted share file', properties: ['openFile', 'dontAddToRecent'] },
  sealDir: { title: 'Choose the folder (removable medium) for the sealed share', properties: ['openDirectory', 'createDirectory', 'dontAddToRecent'] },
};

// Two Keyrite processes would share one store and one HSM session: refuse the second.
if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  app.on('second-instance', () => {
    if (mainWindow) {
      if (mainWindow.isMinimized()) mainWindow.restore();
      mainWindow.focus();
    }
  });

  app.on('web-contents-created', (_event, contents) => hardenWebContents(contents, { dev }));

  void app.whenReady().then(() => {
    if (!dev) Menu.setApplicationMenu(null);
    hardenSession(session.defaultSession, { dev });
    handleAppProtocol(protocol, rendererRoot);

    services = new MainServices(keyriteHome(), process.env, (opts) => CeremonyService.open(opts));
    const table = buildHandlerTable({
      services,
      appVersion: app.getVersion(),
      openWitness,
      printFile: (file) => printHtmlFile(file, { BrowserWindow, session }),
      printHtml: (html) => printHtmlInMemory(html, { BrowserWindow, session }),
      probeModule: (modulePath) => probeModuleInUtilityProcess(utilityProcess, modulePath),
      pickFile: (kind) => pickFile(kind),
    });
    registerIpc(ipcMain, table, { isKnownContents: (id) => windows.has(id), isWitnessContents: (id) => witnesses.has(id) });

    mainWindow = createMainWindow();
  });

  app.on('window-all-closed', () => app.quit());

  let closing = false;
  app.on('before-quit', (event) => {
    if (closing || !services) return;
    // Close the store and the HSM session cleanly before exiting.
    event.preventDefault();
    closing = true;
    void services.close().finally(() => app.quit());
  });
}
