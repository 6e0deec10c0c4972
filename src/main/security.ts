/**
 * The window's security rules, in one place (Electron's security checklist): what the app may
 * load, what its pages may do, and the headers on every response. Functions take the Electron
 * objects they harden as arguments so the unit tests can hand them recorders.
 */
import type { Session, WebContents } from 'electron';

export const APP_SCHEME = 'app';
export const APP_HOST = 'keyrite';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;
export const APP_ENTRY = `${APP_ORIGIN}/index.html`;
export const WITNESS_ENTRY = `${APP_ENTRY}#witness`;

/**
 * Everything comes from the app itself: no inline script or style, no remote anything, no
 * plugins, no framing, no form posts, no fetch (the renderer talks to the core over IPC only).
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "font-src 'self'",
  "connect-src 'none'",
  "media-src 'none'",
  "object-src 'none'",
  "frame-src 'none'",
  "worker-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

export const SECURITY_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'Content-Security-Policy': CONTENT_SECURITY_POLICY,
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Permissions-Policy': 'camera=(), microphone=(), geolocation=(), usb=(), serial=(), hid=(), bluetooth=()',
});

/** True for `app://keyrite/…` and nothing else (not `app://other/`, not a look-alike). */
export function isAppUrl(url: string): boolean {
  try {
    const u = new URL(url);
    return u.protocol === `${APP_SCHEME}:` && u.host === APP_HOST && u.username === '' && u.password === '';
  } catch {
    return false;
  }
}

/** The only requests a Keyrite page may make: to the app itself (plus devtools' own in development). */
export function isAllowedRequest(url: string, opts: { dev: boolean }): boolean {
  if (isAppUrl(url)) return true;
  return opts.dev && (url.startsWith('devtools://') || url.startsWith('chrome-extension://'));
}

/** Merge the security headers into a response's headers, replacing any CSP already there. */
export function withSecurityHeaders(headers: Record<string, string[] | string> | undefined): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  const ours = new Set(Object.keys(SECURITY_HEADERS).map((k) => k.toLowerCase()));
  for (const [k, v] of Object.entries(headers ?? {})) {
    if (!ours.has(k.toLowerCase())) out[k] = Array.isArray(v) ? v : [v];
  }
  for (const [k, v] of Object.entries(SECURITY_HEADERS)) out[k] = [v];
  return out;
}

export type HardenableContents = Pick<WebContents, 'on' | 'setWindowOpenHandler' | 'closeDevTools'>;

/**
 * Pages never navigate (the app is one page; links to elsewhere are not followed), never open
 * windows, never attach webviews, and only open devtools in development.
 */
export function hardenWebContents(contents: HardenableContents, opts: { dev: boolean }): void {
  const deny = (event: { preventDefault(): void }) => event.preventDefault();
  contents.on('will-navigate', deny);
  contents.on('will-frame-navigate', deny);
  contents.on('will-redirect', deny);
  contents.on('will-attach-webview', deny);
  contents.setWindowOpenHandler(() => ({ action: 'deny' }));
  if (!opts.dev) contents.on('devtools-opened', () => contents.closeDevTools());
}

export type HardenableSession = Pick<Session, 'setPermissionRequestHandler' | 'setPermissionCheckHandler' | 'setDevicePermissionHandler'> & {
  webRequest: Pick<Session['webRequest'], 'onBeforeRequest' | 'onHeadersReceived'>;
};

/** Deny every permission, block every request outside the app, and put the CSP on every response. */
export function hardenSession(ses: HardenableSession, opts: { dev: boolean }): void {
  ses.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  ses.setPermissionCheckHandler(() => false);
  ses.setDevicePermissionHandler(() => false);
  ses.webRequest.onBeforeRequest((details, callback) => callback({ cancel: !isAllowedRequest(details.url, opts) }));
  ses.webRequest.onHeadersReceived((details, callback) => callback({ responseHeaders: withSecurityHeaders(details.responseHeaders) }));
}
