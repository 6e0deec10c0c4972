import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_SO_PIN, DEMO_USER_PIN } from '../../src/core/hsm/config';
import { E2eApp } from './helpers/harness';
import { checkIn, currentScreen, drive, focusedText, tabTo } from './helpers/keyboard-driver';
import { openCeremonies, shotSizes, SIZES } from './helpers/screens';

// The Parameters page of a root ceremony, in the built renderer, through the real handler table
// and the real core on the demo SoftHSM token of a fresh KEYRITE_HOME.
const app = new E2eApp();
let page: Awaited<ReturnType<E2eApp['start']>>;
const media = mkdtempSync(path.join(os.tmpdir(), 'keyrite-params-media-'));

beforeAll(async () => {
  page = await app.start();
}, 120_000);
afterAll(() => app.close());

const field = (name: string) => page.locator(`.field.parameter[data-parameter="${name}"]`);
const startButton = () => page.getByRole('button', { name: 'Start the ceremony' });

/** Wait until the core's verdict on the current values is on the page (the check is debounced). */
async function settled(): Promise<void> {
  await page.waitForTimeout(400);
  await page.locator('fieldset.parameters').waitFor();
}

async function openRootStart(): Promise<void> {
  await openCeremonies(page);
  await tabTo(page, /^Start Root key generation$/);
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { name: 'Start: Root key generation' }).waitFor();
  await page.locator('fieldset.parameters').waitFor();
}

describe('Parameters page before check-in', () => {
  it('shows every parameter with its control and the limits of script and policy; values from the script are marked', async () => {
    await page.locator('h1').waitFor();
    await openRootStart();
    expect(await focusedText(page)).toBe('Bundle folder');
    // A rehearsal on the demo token: the subject is the demo name, marked as a rehearsal value.
    expect(await page.locator('#param-subject').inputValue()).toBe('CN=Keyrite Demo Root CA, O=Keyrite');
    expect(await field('subject').locator('label').textContent()).toContain('rehearsal value');
    expect(await field('subject').locator('.rdns li').allTextContents()).toEqual(['CN = Keyrite Demo Root CA', 'O = Keyrite']);
    // Key type: a select of the types the policy allows for a root-signing key (no RSA-2048).
    expect(await page.locator('#param-keyType option').allTextContents()).toEqual(['rsa-3072', 'rsa-4096', 'ec-p256', 'ec-p384', 'ec-p521']);
    expect(await field('keyType').locator('label').textContent()).toContain('from the script');
    expect(await field('threshold').locator('.limits').textContent()).toBe('2 to 5 · script 2 to 16 · policy: at least 2, at most the share count (5)');
    expect(await field('count').locator('.limits').textContent()).toBe('2 to 16 · script 2 to 16 · policy: at most 16 shares');
    expect(await field('days').locator('.limits').textContent()).toBe('1 to 9131 · script at least 1 · policy: at most 9131 days for root-signing');
    expect(await page.locator('#param-threshold').getAttribute('max')).toBe('5');
    expect(await page.locator('.profiles li[data-profile="root-ca"]').textContent()).toBe('Self-signed root certificate: root-ca · root-signing');
    // The drill-only shares file is not a desktop field.
    expect(await field('drillSharesFile').count()).toBe(0);
    expect(await startButton().isEnabled()).toBe(true);
    await shotSizes(app, page, 'parameters', { show: 'fieldset.parameters', block: 'start' });
    await page.setViewportSize(SIZES[0]);
    const r = (await page.evaluate('({ sw: document.documentElement.scrollWidth, w: innerWidth })')) as { sw: number; w: number };
    expect(r.sw, 'no horizontal scroll at 1024×768').toBeLessThanOrEqual(r.w);
    await page.setViewportSize(SIZES[1]);
  });

  it('a refused value is marked on its own field with the reason, and Start stays disabled until every value is clean', async () => {
    await page.locator('#param-threshold').fill('6');
    await field('threshold').locator('.inline-error').waitFor();
    expect(await field('threshold').locator('.inline-error').textContent()).toMatch(/A threshold of 6 cannot be met with only 5 share\(s\)/);
    expect(await field('threshold').locator('.inline-error').getAttribute('data-code')).toBe('POLICY_VIOLATION');
    expect(await field('count').locator('.inline-error').count()).toBe(0);
    expect(await startButton().isDisabled()).toBe(true);
    await page.locator('#param-subject').fill('CN=Example Root, C=Netherlands');
    await field('subject').locator('.inline-error').waitFor();
    expect(await field('subject').locator('.inline-error').textContent()).toMatch(/C must be a two-letter ISO 3166 country code/);
    expect(await page.locator('#param-subject').getAttribute('aria-invalid')).toBe('true');
    await page.locator('#param-days').fill('20000');
    await field('days').locator('.inline-error').waitFor();
    expect(await field('days').locator('.inline-error').textContent()).toMatch(/at most 9131 days/);
    await shotSizes(app, page, 'parameters-error', { presentation: false, show: '.field.parameter.has-problem', block: 'start' });
    await page.setViewportSize(SIZES[0]);
    const r = (await page.evaluate('({ sw: document.documentElement.scrollWidth, w: innerWidth })')) as { sw: number; w: number };
    expect(r.sw, 'no horizontal scroll at 1024×768 with errors shown').toBeLessThanOrEqual(r.w);
    await page.setViewportSize(SIZES[1]);
    // Enter in the bundle folder does not start a refused ceremony either.
    await page.locator('#out-dir').fill(path.join(media, 'refused'));
    await page.locator('#out-dir').press('Enter');
    await settled();
    expect(await page.locator('.runner').count()).toBe(0);
    expect(readdirSync(media)).toEqual([]);
  });

  it('a real run names its own root: the chosen values reach the root certificate and the transcript; the chips ask for exactly the share count', async () => {
    // Not a rehearsal: no demo subject to fall back on, and the empty subject is refused on its field.
    await page.locator('#param-subject').fill('');
    await page.getByLabel(/Rehearsal on the demo token/).uncheck();
    await settled();
    expect(await page.locator('#param-subject').inputValue()).toBe('');
    await field('subject').locator('.inline-error').waitFor();
    expect(await field('subject').locator('.inline-error').getAttribute('data-code')).toBe('CEREMONY_PARAMETER_MISSING');
    expect(await startButton().isDisabled()).toBe(true);

    await page.locator('#param-subject').fill('CN=Acme Test Root CA, O=Acme, C=NL');
    await page.locator('#param-keyType').selectOption('ec-p256');
    await page.locator('#param-count').fill('3');
    await page.locator('#param-threshold').fill('2');
    await page.locator('#param-days').fill('730');
    await settled();
    await page.waitForFunction(() => !(globalThis as unknown as { document: { querySelector(s: string): { disabled: boolean } | null } }).document.querySelector('form.start button[type=submit]')?.disabled);
    expect(await page.locator('.field.parameter .inline-error').count()).toBe(0);
    expect(await field('subject').locator('.rdns li').allTextContents()).toEqual(['CN = Acme Test Root CA', 'O = Acme', 'C = NL']);
    // P-256 is allowed but not recommended: a warning, shown, not blocking.
    expect(await page.locator('.parameter-warnings').textContent()).toMatch(/P-256/);
    const bundle = path.join(media, 'acme-root');
    await page.locator('#out-dir').fill(bundle);
    await startButton().click();
    await page.locator('.runner').waitFor({ timeout: 60_000 });

    expect(await currentScreen(page)).toBe('check-in');
    // The custodian chip states the real rule: one share per custodian, exactly the count chosen.
    const chip = page.locator('.role-counts li', { hasText: 'Key custodian' });
    expect(await chip.textContent()).toBe('Key custodian: 0 checked in · needs exactly 3');
    expect(await chip.getAttribute('class')).toBe('short');
    await checkIn(page, ['Ada Administrator', 'Otto Officer', 'Cora Custodian', 'Carl Custodian', 'Cleo Custodian', 'Wren Witness'], []);
    const revealed = new Map<number, string[]>();
    expect(await drive(page, { pin: DEMO_USER_PIN, soPin: DEMO_SO_PIN, revealed })).toBe('finished');
    expect([...revealed.keys()].sort()).toEqual([1, 2, 3]);

    const events = readFileSync(path.join(bundle, 'transcript.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { type: string; data: Record<string, unknown> });
    const started = events.find((e) => e.type === 'CEREMONY_STARTED')!;
    expect(started.data.demo).toBe(false);
    expect(started.data.parameters).toEqual({ keyType: 'ec-p256', threshold: 2, count: 3, subject: 'CN=Acme Test Root CA, O=Acme, C=NL', days: 730, trustedKek: true });
    expect((started.data.policyWarnings as string[]).join(' ')).toMatch(/P-256/);
    expect(events.filter((e) => e.type === 'SHARE_ISSUED')).toHaveLength(3);

    const certs = readdirSync(path.join(bundle, 'keys')).filter((f) => f.endsWith('.cert.pem'));
    expect(certs).toHaveLength(1);
    const cert = path.join(bundle, 'keys', certs[0]);
    expect(execFileSync('openssl', ['x509', '-noout', '-subject', '-in', cert], { encoding: 'utf8' }).trim()).toBe('subject=CN = Acme Test Root CA, O = Acme, C = NL');
    const dates = execFileSync('openssl', ['x509', '-noout', '-startdate', '-enddate', '-in', cert], { encoding: 'utf8' });
    const start = Date.parse(/notBefore=(.*)/.exec(dates)![1]);
    const end = Date.parse(/notAfter=(.*)/.exec(dates)![1]);
    expect(Math.round((end - start) / 86_400_000)).toBe(730);
    expect(execFileSync('openssl', ['x509', '-noout', '-text', '-in', cert], { encoding: 'utf8' })).toMatch(/ASN1 OID: prime256v1/);

    const html = readFileSync(path.join(bundle, 'transcript.html'), 'utf8');
    expect(html).toMatch(/<h2>Parameters<\/h2>[\s\S]*<th>subject<\/th><td>CN=Acme Test Root CA, O=Acme, C=NL<\/td>/);
    expect(html).toContain('<th>threshold</th><td>2</td>');
    expect(html).toContain('<th>count</th><td>3</td>');
    expect(html).toContain('<th>keyType</th><td>ec-p256</td>');
  }, 300_000);
});
