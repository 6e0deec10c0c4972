import { buildApi } from '../../../src/shared/api';
import { CHANNELS } from '../../../src/shared/ipc-contract';

/**
 * The test stand-in for the preload: builds `window.keyrite` in the page with the very same
 * `buildApi` function and channel list the preload uses, forwarding to the Playwright binding
 * `keyriteInvoke` (which calls the real handler table). It also records CSP violations.
 */
export function bridgeShimScript(channels: readonly string[] = CHANNELS): string {
  return `(() => {
  const buildApi = ${buildApi.toString()};
  const invoke = (channel, input) => window.keyriteInvoke(channel, input);
  Object.defineProperty(window, 'keyrite', { value: buildApi(${JSON.stringify(channels)}, invoke), writable: false, configurable: false });
  window.__cspViolations = [];
  document.addEventListener('securitypolicyviolation', (e) => window.__cspViolations.push(e.violatedDirective + ' ' + e.blockedURI));
})();`;
}
