import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Behaviour,
  behaviours,
  closedPortUrl,
  downloadErrorBodies,
  type FaultInjector,
  moodleBodies,
  type RecordedRequest,
  startFaultInjector,
} from './support/fault-injector.js';
import { startTestGateway, type TestGateway } from './support/gateway-harness.js';
import { type LaunchedProvider, launchRestProvider } from './support/rest-provider-launcher.js';
import { TEST_JWT_SECRET, userJwt } from './support/test-callers.js';
import { readZip } from './support/zip-read.js';

/** Debian's Chromium: playwright-core drives it, it brings no browser of its own (see scripts/ensure-chromium.sh). */
const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** A Moodle that answers its site info and makes zips, but whose download script is broken. */
function brokenDownloads(recorded: RecordedRequest): Behaviour {
  if (recorded.path.startsWith('/blocks/')) return behaviours.downloadError(downloadErrorBodies.invalidToken);
  if (recorded.form.wsfunction === 'core_webservice_get_site_info') {
    return behaviours.moodle(moodleBodies.siteInfo.replace('Peer Moodle 4.5', 'Broken Moodle'));
  }
  // Slow enough for the page to show its progress.
  return behaviours.slowMoodle(moodleBodies.privateFilesZip, 700);
}

describe('the page at /, in Chromium: a signed-in user retrieves their files from each platform', () => {
  let sciences: LaunchedProvider;
  let broken: FaultInjector;
  let deadUrl: string;
  let gateway: TestGateway;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let shots: string;
  const cspViolations: string[] = [];

  beforeAll(async () => {
    [sciences, broken, deadUrl, shots] = await Promise.all([
      launchRestProvider({ siteName: 'Faculty of Sciences' }),
      startFaultInjector(brokenDownloads),
      closedPortUrl(),
      mkdtemp(join(tmpdir(), 'page-screenshots-')),
    ]);
    gateway = await startTestGateway({
      auth: { jwt: { secret: TEST_JWT_SECRET } },
      sites: [
        { id: 'sciences', url: sciences.url, token: sciences.token, priority: 3 },
        { id: 'old', url: deadUrl, token: 'old-moodle-token-0123456789', priority: 2, name: 'Old Moodle' },
        { id: 'broken', url: broken.url, token: 'broken-moodle-token-0123456789', priority: 1 },
      ],
    });
    if (!existsSync(CHROMIUM)) {
      throw new Error(
        `${CHROMIUM} is missing: run "bash scripts/ensure-chromium.sh" (npm test does it first)`,
      );
    }
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    context = await browser.newContext({ acceptDownloads: true, viewport: { width: 900, height: 800 } });
    page = await context.newPage();
    page.on('console', (message) => {
      if (/Content.Security.Policy/i.test(message.text())) cspViolations.push(message.text());
    });
  });
  afterAll(async () => {
    await browser?.close();
    await gateway?.close();
    await Promise.all([sciences?.close(), broken?.close()]);
    if (shots) await rm(shots, { recursive: true, force: true });
  });

  it('serves the page with a strict Content-Security-Policy and asks for a token', async () => {
    const response = await page.goto(`${gateway.url}/`);
    expect(response?.status()).toBe(200);
    expect(response?.headers()['content-security-policy']).toContain("default-src 'self'");
    await expect(page.title()).resolves.toBe('My files on other platforms');
    await page.getByLabel('Your sign-in token').waitFor();
  });

  it('refuses a token the gateway does not accept, and says so', async () => {
    await page.getByLabel('Your sign-in token').fill('not-a-valid-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page.getByRole('alert').textContent()).resolves.toContain('This token was not accepted');
  });

  it('signs in with the keyboard alone and lists one row per site; a failing site is a link to it', async () => {
    await page.getByLabel('Your sign-in token').focus();
    await page.keyboard.type(await userJwt('alice'));
    await page.keyboard.press('Enter');
    await page.getByText('Signed in as alice.').waitFor();
    const rows = page.locator('#sites > li');
    await rows.nth(2).waitFor();
    await expect(rows.count()).resolves.toBe(3);
    await expect(rows.nth(0).locator('.site-name').textContent()).resolves.toBe('Faculty of Sciences');
    await expect(rows.nth(2).locator('.site-name').textContent()).resolves.toBe('Broken Moodle');
    for (const index of [0, 2]) {
      await expect(rows.nth(index).getByRole('button', { name: 'Retrieve files' }).count()).resolves.toBe(1);
    }
    // As the block does: no button for a site that fails, a link to the site instead.
    const old = rows.nth(1);
    await expect(old.getByRole('button').count()).resolves.toBe(0);
    const link = old.getByRole('link', { name: 'Go to Old Moodle' });
    await expect(link.getAttribute('href')).resolves.toBe(`${deadUrl}/`);
    await expect(old.textContent()).resolves.toContain('cannot be reached right now');
    await page.screenshot({ path: join(shots, 'signed-in.png'), fullPage: true });
  });

  it('"Retrieve files" downloads the zip of the user’s files under the name it announced', async () => {
    const row = page.locator('#sites > li').nth(0);
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      row.getByRole('button', { name: 'Retrieve files' }).click(),
    ]);
    const filename = download.suggestedFilename();
    expect(filename).toMatch(/^my_privatefiles_Faculty_of_Sciences_\d{4}-\d\d-\d\d-\d\d-\d\d-\d\d\.zip$/);
    await expect(row.locator('.status').textContent()).resolves.toContain(`Your file: ${filename}`);
    const path = await download.path();
    const entries = await readZip(await readFile(path));
    const names = entries.map((entry) => entry.name);
    expect(names).toEqual(
      expect.arrayContaining(['welcome.txt', 'notes/todo.txt', 'notes/2024/lecture-1.md']),
    );
    expect(entries.find((entry) => entry.name === 'welcome.txt')?.data.toString('utf8')).toContain('alice');
    await page.screenshot({ path: join(shots, 'retrieved.png'), fullPage: true });
  });

  it('shows progress while a site prepares the zip, then the error page in plain words when the download fails', async () => {
    const row = page.locator('#sites > li').nth(2);
    await row.getByRole('button', { name: 'Retrieve files' }).click();
    await row.locator('progress').waitFor();
    await expect(row.locator('.status').textContent()).resolves.toContain(
      'Preparing the zip of your files on Broken Moodle',
    );
    await page.waitForURL(/\/download\//);
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('Download failed');
    const text = await page.locator('main').textContent();
    expect(text).toContain(
      "The site no longer accepts this gateway's access. Please tell your administrator.",
    );
    expect(text).toContain('Invalid token - token not found');
    await page.screenshot({ path: join(shots, 'error-page.png'), fullPage: true });
    await page.getByRole('link', { name: 'Back to your files' }).click();
    // Still signed in: the token is kept for the tab's session.
    await page.getByText('Signed in as alice.').waitFor();
  });

  it('"Download everything" downloads one zip holding each healthy site’s zip and a README of the failed ones', async () => {
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Download everything' }).click(),
    ]);
    expect(download.suggestedFilename()).toMatch(/^my_privatefiles_all_sites_.*\.zip$/);
    const entries = await readZip(await readFile(await download.path()));
    expect(entries.map((entry) => entry.name)).toEqual([
      expect.stringMatching(/^my_privatefiles_Faculty_of_Sciences_.*\.zip$/),
      'README.txt',
    ]);
    const readme = entries[1]?.data.toString('utf8') ?? '';
    expect(readme).toContain('Old Moodle');
    expect(readme).toContain('Broken Moodle');
  });

  it('broke no rule of the Content-Security-Policy', () => {
    expect(cspViolations).toEqual([]);
  });
});
