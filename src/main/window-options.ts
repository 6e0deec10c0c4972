import type { BrowserWindowConstructorOptions, WebPreferences } from 'electron';

/**
 * The renderer gets no Node, runs sandboxed in an isolated world, and sees only what the preload
 * exposes. Every option that loosens this is spelled out as off, so a default changing in a
 * future Electron cannot quietly turn it on.
 */
export function secureWebPreferences(opts: { preload: string; dev: boolean }): WebPreferences {
  return {
    preload: opts.preload,
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
    devTools: opts.dev,
  };
}

export function mainWindowOptions(opts: { preload: string; dev: boolean }): BrowserWindowConstructorOptions {
  return {
    title: 'Keyrite',
    width: 1280,
    height: 800,
    minWidth: 900,
    minHeight: 600,
    show: false,
    backgroundColor: '#f7f7f5',
    autoHideMenuBar: true,
    webPreferences: secureWebPreferences(opts),
  };
}

/** The witness window: a second, read-only screen for a projector. Same rules, its own size. */
export function witnessWindowOptions(opts: { preload: string; dev: boolean }): BrowserWindowConstructorOptions {
  return {
    ...mainWindowOptions(opts),
    title: 'Keyrite — witness view',
    width: 1280,
    height: 720,
  };
}
