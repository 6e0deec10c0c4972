import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it, vi } from 'vitest';

// An installed (packaged) Keyrite started with KEYRITE_DEV=1, `electron` mocked: the variable must
// change nothing — no DevTools, no default menu, no devtools:// or chrome-extension:// requests.
const rec = vi.hoisted(() => {
  const windows: Array<{ options: Record<string, unknown> }> = [];
  let readyResolve: () => void = () => undefined;
  const ready = new Promise<void>((r) => (readyResolve = r));
  class BrowserWindow {
    webContents = { id: windows.length + 1 };
    constructor(public options: Record<string, unknown>) {
      windows.push(this as never);
    }
    once() {}
    on() {}
    loadURL() {
      return Promise.resolve();
    }
  }
  return {
    windows,
    ready,
    readyResolve: () => readyResolve(),
    BrowserWindow,
    setMenu: vi.fn(),
    onBeforeRequest: vi.fn(),
    listeners: new Map<string, Array<(...a: unknown[]) => unknown>>(),
  };
});

vi.mock('electron', () => ({
  app: {
    isPackaged: true,
    enableSandbox: vi.fn(),
    requestSingleInstanceLock: () => true,
    whenReady: () => rec.ready,
    getVersion: () => '1.0.0',
    quit: vi.fn(),
    on: (event: string, fn: (...a: unknown[]) => unknown) => rec.listeners.set(event, [...(rec.listeners.get(event) ?? []), fn]),
  },
  BrowserWindow: rec.BrowserWindow,
  dialog: { showOpenDialog: vi.fn() },
  utilityProcess: { fork: vi.fn() },
  ipcMain: { handle: vi.fn() },
  Menu: { setApplicationMenu: rec.setMenu },
  protocol: { registerSchemesAsPrivileged: vi.fn(), handle: vi.fn() },
  session: {
    defaultSession: {
      setPermissionRequestHandler: vi.fn(),
      setPermissionCheckHandler: vi.fn(),
      setDevicePermissionHandler: vi.fn(),
      webRequest: { onBeforeRequest: rec.onBeforeRequest, onHeadersReceived: vi.fn() },
    },
  },
}));

beforeAll(async () => {
  process.env.KEYRITE_HOME = mkdtempSync(path.join(os.tmpdir(), 'keyrite-packaged-'));
  process.env.KEYRITE_DEV = '1';
  await import('../../src/main/index');
  rec.readyResolve();
  // The ready handler ends by opening the main window: wait for that, not for a guessed time.
  await vi.waitFor(() => expect(rec.windows).toHaveLength(1));
});

describe('packaged app with KEYRITE_DEV=1 (electron mocked)', () => {
  it('opens its window without DevTools and removes the default menu', () => {
    expect(rec.windows).toHaveLength(1);
    expect(rec.windows[0].options.webPreferences).toMatchObject({ devTools: false });
    expect(rec.setMenu).toHaveBeenCalledWith(null);
  });

  it('blocks devtools:// and chrome-extension:// requests', () => {
    const filter = rec.onBeforeRequest.mock.calls[0][0] as (d: { url: string }, cb: (r: { cancel: boolean }) => void) => void;
    for (const url of ['devtools://devtools/bundled/inspector.html', 'chrome-extension://abcdef/script.js']) {
      const cb = vi.fn();
      filter({ url }, cb);
      expect(cb).toHaveBeenCalledWith({ cancel: true });
    }
  });

  it('closes DevTools if something opens them anyway', () => {
    const [created] = rec.listeners.get('web-contents-created')!;
    const on = vi.fn();
    created({}, { on, setWindowOpenHandler: vi.fn(), closeDevTools: vi.fn() });
    expect(on.mock.calls.map((c) => c[0])).toContain('devtools-opened');
  });
});
