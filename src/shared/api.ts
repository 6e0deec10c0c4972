/**
 * Builds the `window.keyrite` object: one namespace per domain, one function per verb, each
 * forwarding to a single `invoke(channel, input)`. The preload passes `ipcRenderer.invoke`; the
 * end-to-end tests inject this same function (via its source text) over Playwright's binding, so
 * both sides are built by the same code from the same channel list.
 *
 * Self-contained on purpose (no imports, no closures over module state): the tests serialise it
 * with `Function.prototype.toString`.
 */
export function buildApi(
  channels: readonly string[],
  invoke: (channel: string, input: unknown) => Promise<unknown>,
): Record<string, Record<string, (input?: unknown) => Promise<unknown>>> {
  const api: Record<string, Record<string, (input?: unknown) => Promise<unknown>>> = {};
  for (const channel of channels) {
    const [domain, verb] = channel.split(':');
    if (!api[domain]) api[domain] = {};
    api[domain][verb] = (input?: unknown) => invoke(channel, input);
  }
  for (const domain of Object.keys(api)) Object.freeze(api[domain]);
  return Object.freeze(api);
}
