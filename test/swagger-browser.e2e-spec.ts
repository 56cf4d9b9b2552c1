import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BrowserContext, chromium, ConsoleMessage, Page } from 'playwright-core';
import { ScratchDatabase } from '../src/database/cli/scratch-database';
import { bearerFor, listening, Listening, scratchMariadb, startApp } from './helpers/test-app';

/** Debian's chromium package; CI installs it (scripts/ensure-debs.sh). Never a downloaded browser. */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARTIFACTS = join(__dirname, '..', 'test-artifacts');
const SCREENSHOT = join(ARTIFACTS, 'swagger-ui.png');
// Without the background-networking flags Chromium calls out to Google and is refused noisily.
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const CREDENTIAL_PATH = 'acme/prod/swagger-browser-check';

jest.setTimeout(120_000);

/**
 * Swagger UI as a person uses it, in headless Chromium: the page loads under the app's CSP, lists
 * the Custos routes, takes a token through Authorize, and "Try it out" → "Execute" calls the API.
 */
describe('Swagger UI in a real browser (MariaDB)', () => {
  let database: ScratchDatabase;
  let server: Listening;
  let profileDir: string;
  let context: BrowserContext;
  let page: Page;
  let token: string;
  const consoleErrors: string[] = [];
  const pageErrors: string[] = [];

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(
        `Chromium not found at ${CHROMIUM}: install Debian's chromium package ` +
          '(bash scripts/ensure-debs.sh, which .ci/run calls) or set CHROMIUM_PATH',
      );
    }
    database = await scratchMariadb();
    server = await listening(await startApp(database));
    const authorization = await bearerFor(server.sut, 'admin');
    token = authorization.replace(/^Bearer /, '');
    await server.sut.http
      .post('/api/v1/credentials')
      .set({ authorization })
      .send({
        path: CREDENTIAL_PATH,
        name: 'Swagger browser check',
        type: 'password',
        username: 'checker',
        secret: { password: 'never-shown-in-a-list-9f3a' },
      })
      .expect(201);

    profileDir = mkdtempSync(join(tmpdir(), 'custos-chromium-'));
    context = await chromium.launchPersistentContext(profileDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: { width: 1400, height: 1000 },
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.on('console', (message: ConsoleMessage) => {
      if (message.type() === 'error') consoleErrors.push(message.text());
    });
    page.on('pageerror', (error) => pageErrors.push(error.message));
    // Violations are reported to the page as events too, also the ones the console may not show.
    // (Page code as a string: this project compiles without the DOM types.)
    await page.addInitScript({
      content: `window.cspViolations = [];
        document.addEventListener('securitypolicyviolation', (event) => {
          window.cspViolations.push(event.violatedDirective + ' blocked ' + (event.blockedURI || 'inline'));
        });`,
    });
  });

  afterAll(async () => {
    await context?.close();
    if (profileDir) rmSync(profileDir, { recursive: true, force: true });
    await server?.sut.close();
    await database?.drop();
  });

  it('should show the Custos API with its routes grouped by tag', async () => {
    await page.goto(`${server.url}/api/docs`);
    await page.locator('.swagger-ui .info .title').filter({ hasText: 'Custos' }).waitFor();
    const tags = await page.locator('.opblock-tag-section h3 .opblock-tag, h3.opblock-tag').all();
    const names = await Promise.all(tags.map((tag) => tag.getAttribute('data-tag')));
    expect(names).toEqual(expect.arrayContaining(['auth', 'credentials', 'audit', 'incidents']));
    await expect(
      page.locator('#operations-credentials-CredentialsController_list').count(),
    ).resolves.toBe(1);
  });

  it('should authorize with a bearer token through the Authorize dialog', async () => {
    await page.locator('.auth-wrapper button.authorize').click();
    const dialog = page.locator('.modal-ux');
    const jwt = dialog.locator('.auth-container').filter({ hasText: 'jwt' });
    await jwt.locator('input').fill(token);
    await jwt.locator('button.authorize').click();
    // Authorized: the scheme offers Logout instead, and the page's button shows a closed lock.
    await jwt.locator('button[aria-label="Remove authorization"]').waitFor();
    await expect(jwt.locator('h6').innerText()).resolves.toBe('Authorized');
    await jwt.locator('button.btn-done').click();
    await dialog.waitFor({ state: 'detached' });
    await page.locator('.auth-wrapper button.authorize.locked').waitFor();
  });

  it('should execute GET /credentials from the page and show the answer', async () => {
    const operation = page.locator('#operations-credentials-CredentialsController_list');
    await operation.locator('button.opblock-summary-control').click();
    await operation.locator('button.try-out__btn').click();
    await operation.locator('button.execute').click();

    const response = operation.locator('.live-responses-table .response');
    await response.first().waitFor();
    await expect(response.locator('.response-col_status').first().innerText()).resolves.toBe('200');
    const body = await operation.locator('.live-responses-table .microlight').first().innerText();
    expect(body).toContain(CREDENTIAL_PATH);
    expect(body).not.toContain('never-shown-in-a-list');
    // The UI shows the curl it ran: with the token the dialog took.
    await expect(operation.locator('.curl-command').innerText()).resolves.toContain(
      'Authorization: Bearer',
    );

    // For the screenshot: every tag folded but this one, so the page shows all groups of routes
    // and the call that ran.
    for (const tag of await page.locator('h3.opblock-tag').all()) {
      if ((await tag.getAttribute('data-tag')) === 'credentials') continue;
      if ((await tag.getAttribute('data-is-open')) === 'true') await tag.click();
    }
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'swagger-ui-full.png'), fullPage: true });
    // The artifact to look at: the page from its top down to the answer the call got.
    await operation.locator('.live-responses-table').scrollIntoViewIfNeeded();
    const answer = await operation.locator('.live-responses-table').boundingBox();
    const scrollY = await page.evaluate<number>('window.scrollY');
    await page.screenshot({
      path: SCREENSHOT,
      fullPage: true,
      clip: { x: 0, y: 0, width: 1400, height: scrollY + answer!.y + answer!.height + 16 },
    });
    expect(existsSync(SCREENSHOT)).toBe(true);
  });

  it('should load under the content security policy without a violation or a page error', async () => {
    const violations = await page.evaluate<string[]>('window.cspViolations');
    expect(violations).toEqual([]);
    expect(consoleErrors.filter((text) => /content security policy/i.test(text))).toEqual([]);
    expect(pageErrors).toEqual([]);
  });
});
