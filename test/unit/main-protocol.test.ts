import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { handleAppProtocol, registerAppScheme, resolveAppFile, serveAppRequest } from '../../src/main/app-protocol';
import { CONTENT_SECURITY_POLICY } from '../../src/main/security';

let root = '';
beforeAll(() => {
  const base = mkdtempSync(path.join(os.tmpdir(), 'keyrite-proto-'));
  root = path.join(base, 'renderer');
  mkdirSync(path.join(root, 'assets'), { recursive: true });
  writeFileSync(path.join(root, 'index.html'), '<!doctype html><title>Keyrite</title>');
  writeFileSync(path.join(root, 'assets', 'app.js'), 'console.log(1)');
  writeFileSync(path.join(base, 'secret.txt'), 'outside the app');
});

describe('app:// protocol', () => {
  it('registers app as a standard, secure scheme that does not bypass the CSP', () => {
    const protocol = { registerSchemesAsPrivileged: vi.fn() };
    registerAppScheme(protocol);
    const [[schemes]] = protocol.registerSchemesAsPrivileged.mock.calls;
    expect(schemes).toEqual([expect.objectContaining({ scheme: 'app', privileges: expect.objectContaining({ standard: true, secure: true, bypassCSP: false }) })]);
  });

  it('serves the page and its assets with the CSP and the right content type', async () => {
    const page = await serveAppRequest('app://keyrite/index.html', root);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
    expect(await page.text()).toContain('<title>Keyrite</title>');
    const js = await serveAppRequest('app://keyrite/assets/app.js', root);
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect((await serveAppRequest('app://keyrite/', root)).status).toBe(200);
  });

  it.each([
    'app://keyrite/../secret.txt',
    'app://keyrite/%2e%2e/secret.txt',
    'app://keyrite/assets/%2e%2e%2f%2e%2e%2fsecret.txt',
    'app://keyrite/..%5csecret.txt',
    'app://keyrite/index.html%00.js',
    'app://other/index.html',
    'file:///etc/passwd',
    'app://keyrite/missing.js',
  ])('%s is not served (404, still with the CSP)', async (url) => {
    const r = await serveAppRequest(url, root);
    expect(r.status).toBe(404);
    expect(r.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
    expect(await r.text()).not.toContain('outside the app');
  });

  it('resolveAppFile never leaves the root', () => {
    expect(resolveAppFile('app://keyrite/assets/app.js', root)).toBe(path.join(root, 'assets', 'app.js'));
    // The URL parser folds dot segments first: '..' at the top stays at the top of the root.
    for (const url of ['app://keyrite/%2e%2e/secret.txt', 'app://keyrite/../../secret.txt', 'app://keyrite/assets/../../x']) {
      const file = resolveAppFile(url, root);
      expect(file === null || file.startsWith(root + path.sep)).toBe(true);
    }
    expect(resolveAppFile('app://keyrite/%E0%A4%A', root)).toBeNull();
  });

  it('handleAppProtocol answers app:// requests through serveAppRequest', async () => {
    const protocol = { handle: vi.fn() };
    handleAppProtocol(protocol, root);
    expect(protocol.handle.mock.calls[0][0]).toBe('app');
    const handler = protocol.handle.mock.calls[0][1] as (r: { url: string }) => Promise<Response>;
    expect((await handler({ url: 'app://keyrite/index.html' })).status).toBe(200);
  });
});
