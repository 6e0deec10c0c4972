import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { printWindowOptions } from '../../src/main/print';
import { mainWindowOptions, secureWebPreferences, witnessWindowOptions } from '../../src/main/window-options';
import {
  APP_ENTRY, CONTENT_SECURITY_POLICY, hardenSession, hardenWebContents, isAllowedRequest, isAppUrl, SECURITY_HEADERS, withSecurityHeaders,
  type HardenableContents, type HardenableSession,
} from '../../src/main/security';

/** A stand-in for webContents that records its listeners, so the test can fire the events. */
function fakeContents() {
  const emitter = new EventEmitter();
  let openHandler: ((details: { url: string }) => { action: string }) | undefined;
  const contents = {
    on: (event: string, fn: (...args: unknown[]) => void) => {
      emitter.on(event, fn);
      return contents;
    },
    setWindowOpenHandler: (fn: typeof openHandler) => {
      openHandler = fn;
    },
    closeDevTools: vi.fn(),
  };
  return {
    contents: contents as unknown as HardenableContents,
    fire(event: string) {
      const e = { preventDefault: vi.fn() };
      emitter.emit(event, e, 'https://example.com/');
      return e;
    },
    open: (url: string) => openHandler!({ url }),
    listeners: (event: string) => emitter.listenerCount(event),
    closeDevTools: contents.closeDevTools,
  };
}

function fakeSession() {
  const s = {
    permission: undefined as undefined | ((wc: unknown, perm: string, cb: (ok: boolean) => void) => void),
    check: undefined as undefined | ((...a: unknown[]) => boolean),
    device: undefined as undefined | ((...a: unknown[]) => boolean),
    before: undefined as undefined | ((d: { url: string }, cb: (r: { cancel: boolean }) => void) => void),
    headers: undefined as undefined | ((d: { responseHeaders?: Record<string, string[]> }, cb: (r: { responseHeaders: Record<string, string[]> }) => void) => void),
  };
  const session = {
    setPermissionRequestHandler: (fn: typeof s.permission) => (s.permission = fn),
    setPermissionCheckHandler: (fn: typeof s.check) => (s.check = fn),
    setDevicePermissionHandler: (fn: typeof s.device) => (s.device = fn),
    webRequest: {
      onBeforeRequest: (fn: typeof s.before) => (s.before = fn),
      onHeadersReceived: (fn: typeof s.headers) => (s.headers = fn),
    },
  };
  return { session: session as unknown as HardenableSession, s };
}

describe('window options', () => {
  it.each([
    ['main window', mainWindowOptions],
    ['witness window', witnessWindowOptions],
  ])('%s: isolated, sandboxed, no Node, web security on, nothing loosened', (_name, make) => {
    const o = make({ preload: '/app/out/preload/index.js', dev: false });
    expect(o.webPreferences).toEqual({
      preload: '/app/out/preload/index.js',
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      experimentalFeatures: false,
      webviewTag: false,
      navigateOnDragDrop: false,
      spellcheck: false,
      safeDialogs: true,
      devTools: false,
    });
    expect(o.webPreferences).not.toHaveProperty('enableBlinkFeatures');
  });

  it('devtools only in development (KEYRITE_DEV)', () => {
    expect(secureWebPreferences({ preload: 'p', dev: true }).devTools).toBe(true);
    expect(secureWebPreferences({ preload: 'p', dev: false }).devTools).toBe(false);
  });

  it('the window is 1280×800 and the app is served from app://keyrite/, not file://', () => {
    expect(mainWindowOptions({ preload: 'p', dev: false })).toMatchObject({ width: 1280, height: 800 });
    expect(APP_ENTRY).toBe('app://keyrite/index.html');
  });
});

describe('print window', () => {
  it('prints with no JavaScript, no preload, sandboxed, in its own session', () => {
    const ses = {} as never;
    const o = printWindowOptions(ses);
    expect(o.show).toBe(false);
    expect(o.webPreferences).toMatchObject({ session: ses, javascript: false, sandbox: true, contextIsolation: true, nodeIntegration: false, devTools: false });
    expect(o.webPreferences).not.toHaveProperty('preload');
  });
});

describe('content security policy', () => {
  it('allows only the app itself: no inline script, no remote, no fetch, no framing', () => {
    const d = Object.fromEntries(CONTENT_SECURITY_POLICY.split('; ').map((x) => [x.split(' ')[0], x.split(' ').slice(1).join(' ')]));
    expect(d['default-src']).toBe("'self'");
    expect(d['script-src']).toBe("'self'");
    expect(d['style-src']).toBe("'self'");
    expect(d['connect-src']).toBe("'none'");
    expect(d['object-src']).toBe("'none'");
    expect(d['frame-ancestors']).toBe("'none'");
    expect(CONTENT_SECURITY_POLICY).not.toMatch(/unsafe-inline|unsafe-eval|https?:|data:|\*/);
  });

  it('the page declares the same policy in its meta tag (minus frame-ancestors, which meta cannot carry)', () => {
    const html = readFileSync(path.resolve(__dirname, '../../src/renderer/index.html'), 'utf8');
    const meta = /http-equiv="Content-Security-Policy" content="([^"]+)"/.exec(html)?.[1];
    expect(meta).toBe(CONTENT_SECURITY_POLICY.replace("; frame-ancestors 'none'", ''));
  });

  it('every response gets the CSP and the other security headers; a CSP sent by anything else is replaced', () => {
    const out = withSecurityHeaders({ 'content-security-policy': ["default-src *"], 'Content-Type': 'text/html' });
    expect(out['Content-Security-Policy']).toEqual([CONTENT_SECURITY_POLICY]);
    expect(out['content-security-policy']).toBeUndefined();
    expect(out['Content-Type']).toEqual(['text/html']);
    for (const [k, v] of Object.entries(SECURITY_HEADERS)) expect(out[k]).toEqual([v]);
  });
});

describe('navigation, new windows, webviews, devtools', () => {
  it.each(['will-navigate', 'will-frame-navigate', 'will-redirect', 'will-attach-webview'])('%s is prevented', (event) => {
    const f = fakeContents();
    hardenWebContents(f.contents, { dev: false });
    expect(f.fire(event).preventDefault).toHaveBeenCalled();
  });

  it('window.open and target=_blank are denied, for any URL', () => {
    const f = fakeContents();
    hardenWebContents(f.contents, { dev: false });
    expect(f.open('https://example.com/')).toEqual({ action: 'deny' });
    expect(f.open('app://keyrite/index.html')).toEqual({ action: 'deny' });
  });

  it('devtools are closed as soon as they open outside development', () => {
    const prod = fakeContents();
    hardenWebContents(prod.contents, { dev: false });
    prod.fire('devtools-opened');
    expect(prod.closeDevTools).toHaveBeenCalled();
    const dev = fakeContents();
    hardenWebContents(dev.contents, { dev: true });
    expect(dev.listeners('devtools-opened')).toBe(0);
  });
});

describe('session: permissions and requests', () => {
  it.each(['media', 'geolocation', 'notifications', 'clipboard-read', 'openExternal', 'usb'])('permission request "%s" is denied', (perm) => {
    const { session, s } = fakeSession();
    hardenSession(session, { dev: false });
    const cb = vi.fn();
    s.permission!({}, perm, cb);
    expect(cb).toHaveBeenCalledWith(false);
    expect(s.check!({}, perm)).toBe(false);
    expect(s.device!({})).toBe(false);
  });

  it.each([
    ['app://keyrite/index.html', false],
    ['app://keyrite/assets/index.js', false],
    ['https://example.com/x.js', true],
    ['http://127.0.0.1:8080/', true],
    ['file:///etc/passwd', true],
    ['app://other/index.html', true],
    ['ws://localhost/', true],
    ['devtools://devtools/bundled/inspector.html', true],
    ['data:text/html,hi', true],
  ])('request to %s: cancelled=%s', (url, cancel) => {
    const { session, s } = fakeSession();
    hardenSession(session, { dev: false });
    const cb = vi.fn();
    s.before!({ url }, cb);
    expect(cb).toHaveBeenCalledWith({ cancel });
  });

  it('devtools requests pass only in development', () => {
    expect(isAllowedRequest('devtools://devtools/bundled/inspector.html', { dev: true })).toBe(true);
    expect(isAllowedRequest('devtools://devtools/bundled/inspector.html', { dev: false })).toBe(false);
  });

  it('responses get the CSP header', () => {
    const { session, s } = fakeSession();
    hardenSession(session, { dev: false });
    const cb = vi.fn();
    s.headers!({ responseHeaders: {} }, cb);
    expect(cb.mock.calls[0][0].responseHeaders['Content-Security-Policy']).toEqual([CONTENT_SECURITY_POLICY]);
  });

  it.each([
    ['app://keyrite/index.html', true],
    ['app://keyrite/', true],
    ['app://keyrite.evil/index.html', false],
    ['app://user:pw@keyrite/index.html', false],
    ['app://other/', false],
    ['https://keyrite/', false],
    ['not a url', false],
  ])('isAppUrl(%s) = %s', (url, ok) => {
    expect(isAppUrl(url)).toBe(ok);
  });
});
