import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serveAppRequest } from '../../../src/main/app-protocol';
import { APP_ORIGIN } from '../../../src/main/security';

/**
 * Serves the built renderer on 127.0.0.1 through the same request handler the app:// protocol
 * uses in Electron (same path checks, same CSP and headers): a page over file:// would not run
 * Vite's module scripts, and this way the tests exercise the real protocol code.
 */
export async function startRendererServer(root: string): Promise<{ url: string; close: () => Promise<void> }> {
  const server: Server = createServer((req, res) => {
    const appUrl = `${APP_ORIGIN}${req.url ?? '/'}`;
    serveAppRequest(appUrl, root).then(
      async (response) => {
        res.statusCode = response.status;
        response.headers.forEach((value, key) => res.setHeader(key, value));
        res.end(Buffer.from(await response.arrayBuffer()));
      },
      () => {
        res.statusCode = 500;
        res.end();
      },
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
