import { afterAll, describe, expect, it } from 'vitest';
import { listScripts } from '../../src/core/ceremony/script';
import { E2eApp } from './helpers/harness';

// The home screen must be usable before the main process answers: its Start buttons for the
// built-in ceremonies come with the renderer bundle, and the main process's list replaces them.
const app = new E2eApp();
afterAll(() => app.close());

describe('first screen', () => {
  it('offers the built-in ceremonies while the main process has not answered yet, then its answer', async () => {
    const release = app.hold('ceremony:scripts', 'ceremony:list', 'app:info');
    const page = await app.start();
    await page.getByRole('button', { name: 'Start Root key generation' }).waitFor();
    expect(app.calls.map((c) => c.channel)).toContain('ceremony:scripts');
    const core = listScripts().map((s) => s.title);
    const early = await page.locator('#scripts-title + ul li h3').allTextContents();
    // The bundle's list is the core's list of built-in scripts, not a copy that can drift.
    expect([...early].sort()).toEqual([...core].sort());
    release();
    await expect.poll(async () => (await page.locator('#scripts-title + ul li .meta').allTextContents()).length).toBe(core.length);
    const after = await page.locator('#scripts-title + ul li h3').allTextContents();
    expect(after).toEqual(early);
    // A Start button pressed early works: it opens the start screen of that script.
    await page.getByRole('button', { name: 'Start Root key generation' }).click();
    await page.getByRole('heading', { level: 1 }).filter({ hasText: 'Root key generation' }).waitFor();
  });
});
