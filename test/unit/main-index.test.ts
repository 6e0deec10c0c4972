import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { CHANNELS } from '../../src/shared/ipc-contract';
import { APP_ENTRY, CONTENT_SECURITY_POLICY, WITNESS_ENTRY } from '../../src/main/security';

// The main process's wiring, with `electron` replaced by recorders: which scheme it registers,
// how it hardens the session and every webContents, the window it opens, and that IPC goes
// through the sender check to the real handler table.
const rec = vi.hoisted(() => {
  const listeners = new Map<string, Array<(...a: unknown[]) => unknown>>();
  const windows: Array<{ options: Record<string, unknown>; url?: string; webContents: { id: number } }> = [];
  let nextId = 1;
  let readyResolve: () => void = () => undefined;
  const ready = new Promise<void>((r) => (readyResolve = r));
  class BrowserWindow {
    webContents: { id: number };
    url?: string;
    constructor(public options: Record<string, unknown>) {
      this.webContents = { id: nextId++ };
      windows.push(this as never);
    }
    once() {}
    on() {}
    show() {}
    focus() {}
    close() {}
    isDestroyed() {
      return false;
    }
    isMinimized() {
      return false;
    }
    loadURL(url: string) {
      this.url = url;
      return Promise.resolve();
    }
  }
  return {
    listeners,
    windows,
    ready,
    readyResolve: () => readyResolve(),
    BrowserWindow,
    privileged: vi.fn(),
    handle: vi.fn(),
    ipcHandle: vi.fn(),
    setMenu: vi.fn(),
    enableSandbox: vi.fn(),
    session: {
      setPermissionRequestHandler: vi.fn(),
      setPermissionCheckHandler: vi.fn(),
      setDevicePermissionHandler: vi.fn(),
      webRequest: { onBeforeRequest: vi.fn(), onHeadersReceived: vi.fn() },
    },
  };
});

vi.mock('electron', () => ({
  app: {
    enableSandbox: rec.enableSandbox,
    requestSingleInstanceLock: () => true,
    whenReady: () => rec.ready,
    getVersion: () => '1.2.3',
    quit: vi.fn(),
    on: (event: string, fn: (...a: unknown[]) => unknown) => {
      rec.listeners.set(event, [...(rec.listeners.get(event) ?? []), fn]);
    },
  },
  BrowserWindow: rec.BrowserWindow,
  ipcMain: { handle: rec.ipcHandle },
  Menu: { setApplicationMenu: rec.setMenu },
  protocol: { registerSchemesAsPrivileged: rec.privileged, handle: rec.handle },
  session: { defaultSession: rec.session },
}));

beforeAll(async () => {
  process.env.KEYRITE_HOME = mkdtempSync(path.join(os.tmpdir(), 'keyrite-main-'));
  delete process.env.KEYRITE_DEV;
  await import('../../src/main/index');
  // Nothing may load before the scheme is privileged: it happens at import, before `ready`.
  expect(rec.privileged).toHaveBeenCalledTimes(1);
  expect(rec.handle).not.toHaveBeenCalled();
  rec.readyResolve();
  // The ready handler ends by opening the main window: wait for that, not for a guessed time.
  await vi.waitFor(() => expect(rec.windows).toHaveLength(1));
});

describe('main process wiring (electron mocked)', () => {
  it('privileges app:// before ready, enables the sandbox everywhere, serves the renderer through it', () => {
    expect(rec.privileged.mock.calls[0][0]).toEqual([expect.objectContaining({ scheme: 'app', privileges: expect.objectContaining({ standard: true, secure: true }) })]);
    expect(rec.enableSandbox).toHaveBeenCalled();
    expect(rec.handle.mock.calls[0][0]).toBe('app');
  });

  it('hardens the default session: permissions denied, non-app requests blocked, CSP on every response', () => {
    const deny = vi.fn();
    rec.session.setPermissionRequestHandler.mock.calls[0][0]({}, 'media', deny);
    expect(deny).toHaveBeenCalledWith(false);
    const before = vi.fn();
    rec.session.webRequest.onBeforeRequest.mock.calls[0][0]({ url: 'https://example.com/' }, before);
    expect(before).toHaveBeenCalledWith({ cancel: true });
    const headers = vi.fn();
    rec.session.webRequest.onHeadersReceived.mock.calls[0][0]({ responseHeaders: {} }, headers);
    expect(headers.mock.calls[0][0].responseHeaders['Content-Security-Policy']).toEqual([CONTENT_SECURITY_POLICY]);
  });

  it('removes the default menu (reload, devtools) outside development', () => {
    expect(rec.setMenu).toHaveBeenCalledWith(null);
  });

  it('opens one secure window on app://keyrite/index.html', () => {
    expect(rec.windows).toHaveLength(1);
    const w = rec.windows[0];
    expect(w.url).toBe(APP_ENTRY);
    expect(w.options.webPreferences).toMatchObject({ contextIsolation: true, sandbox: true, nodeIntegration: false, webSecurity: true, devTools: false });
    expect(String((w.options.webPreferences as { preload: string }).preload)).toMatch(/preload[/\\]index\.js$/);
  });

  it('hardens every webContents that is created (navigation and new windows denied)', () => {
    const [created] = rec.listeners.get('web-contents-created')!;
    const on = vi.fn();
    const setWindowOpenHandler = vi.fn();
    created({}, { on, setWindowOpenHandler, closeDevTools: vi.fn() });
    expect(on.mock.calls.map((c) => c[0])).toEqual(expect.arrayContaining(['will-navigate', 'will-redirect', 'will-attach-webview']));
    expect(setWindowOpenHandler.mock.calls[0][0]({ url: 'https://x' })).toEqual({ action: 'deny' });
  });

  it('registers every channel of the contract, behind the sender check, on the real handler table', async () => {
    const registered = new Map(rec.ipcHandle.mock.calls.map((c) => [c[0] as string, c[1] as (e: unknown, i?: unknown) => Promise<{ ok: boolean; value?: unknown; error?: { code: string } }>]));
    expect([...registered.keys()].sort()).toEqual([...CHANNELS].sort());
    const id = rec.windows[0].webContents.id;
    const fromApp = { senderFrame: { url: APP_ENTRY, parent: null }, sender: { id } };
    const fromElsewhere = { senderFrame: { url: 'https://evil.example/', parent: null }, sender: { id } };
    expect(await registered.get('app:info')!(fromElsewhere)).toMatchObject({ ok: false, error: { code: 'IPC_SENDER_REJECTED' } });
    const info = await registered.get('app:info')!(fromApp);
    expect(info).toMatchObject({ ok: true, value: { version: '1.2.3', home: process.env.KEYRITE_HOME, witnessAvailable: true } });
  });

  it('opens a witness window on request, which may then use the witness channels only', async () => {
    const registered = new Map(rec.ipcHandle.mock.calls.map((c) => [c[0] as string, c[1] as (e: unknown, i?: unknown) => Promise<{ ok: boolean; error?: { code: string } }>]));
    const main = { senderFrame: { url: APP_ENTRY, parent: null }, sender: { id: rec.windows[0].webContents.id } };
    expect(await registered.get('app:openWitness')!(main)).toMatchObject({ ok: true });
    expect(rec.windows).toHaveLength(2);
    const witness = rec.windows[1];
    expect(witness.url).toBe(WITNESS_ENTRY);
    expect(witness.options.webPreferences).toMatchObject({ sandbox: true, contextIsolation: true });
    const fromWitness = { senderFrame: { url: WITNESS_ENTRY, parent: null }, sender: { id: witness.webContents.id } };
    expect(await registered.get('ceremony:provide')!(fromWitness, { id: 'c', input: { kind: 'continue' } })).toMatchObject({ ok: false, error: { code: 'IPC_SENDER_REJECTED' } });
    expect(await registered.get('app:info')!(fromWitness)).toMatchObject({ ok: true });
  });
});
