import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codeAt, startTestService, type TestService } from '../support/testService.ts';
import { asAdmin, enableTwoFactor, STEP } from '../support/twoFactorFlows.ts';
import {
  browserMissing,
  expectAccessible,
  expectOnly,
  launchBrowser,
  openPage,
  SCREENSHOTS,
  screenshot,
} from './browser.ts';
import { signIn, signOut, verifyWithCode } from './pageSteps.ts';
import { uiClient } from './uiClient.ts';

if (browserMissing !== null) console.warn(`web UI browser tests skipped: ${browserMissing}`);

/**
 * With DOCS_SCREENSHOTS=1, the account screen with two authenticator apps is also written to
 * docs/ for the README (1280×800, the window as a person sees it).
 */
const DOCS_SCREENSHOT = join(import.meta.dirname, '..', '..', 'docs', 'web-ui-authenticators.png');

let t: TestService;
let browser: Browser;

beforeAll(async () => {
  if (browserMissing !== null) return;
  t = await startTestService();
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await t?.stop();
});

/** The code an authenticator app shows now, by the service's clock. */
const currentCode = (secret: string) => codeAt(secret, t.clock.now());
const wrongCode = (secret: string) => (currentCode(secret) === '000000' ? '111111' : '000000');
/** Each app's codes work once a step: on to the next. */
const nextStep = () => t.clock.advance(STEP);

const PATH = '/ui/api/account/two-factor/authenticators';

async function onAccountPage(page: Page) {
  try {
    await expect.poll(() => page.getByRole('heading', { name: 'Account', level: 1 }).isVisible()).toBe(true);
    await expect.poll(() => twoFactorSwitch(page).isVisible()).toBe(true);
  } catch (error) {
    await screenshot(page, 'authenticators-failure', { check: false });
    throw error;
  }
}

const twoFactorSwitch = (page: Page) => page.getByRole('switch', { name: 'Two-factor authentication' });
const appList = (page: Page) => page.getByRole('list', { name: 'Authenticator apps' });
const appRow = (page: Page, name: string) =>
  appList(page)
    .getByRole('listitem')
    .filter({ has: page.getByText(name, { exact: true }) });

/** The names listed, in order, once the list shows `count` of them. */
async function listedApps(page: Page, count: number): Promise<string[]> {
  await expect.poll(() => appList(page).getByRole('listitem').count()).toBe(count);
  return appList(page).locator('.authenticator-name').allInnerTexts();
}

/** What has the keyboard: its role-ish tag, its text, and what describes it. */
const focused = (page: Page) =>
  page.evaluate(`(() => {
    const el = document.activeElement;
    const described = (el.getAttribute('aria-describedby') ?? '').split(' ').filter(Boolean)
      .map((id) => document.getElementById(id)?.textContent ?? '').join(' | ');
    return { tag: el.tagName.toLowerCase(), text: (el.textContent ?? '').trim(), described,
      label: el.labels?.[0]?.textContent ?? null };
  })()`) as Promise<{ tag: string; text: string; described: string; label: string | null }>;

/** The QR code step, as a person goes through it with the secret read off the page: the secret. */
async function scanAndConfirm(page: Page, dialogName: string, verifyLabel: string): Promise<string> {
  const dialog = page.getByRole('dialog', { name: dialogName });
  // The first QR code of a run can take longer than expect.poll's default second (a cold start).
  await expect
    .poll(() => dialog.getByRole('img', { name: /QR code/ }).isVisible(), { timeout: 10_000 })
    .toBe(true);
  await dialog.getByRole('button', { name: "Can't scan? Enter this code manually" }).click();
  const secret = ((await dialog.locator('code.secret').textContent()) ?? '').replace(/\s/g, '');
  expect(secret).toMatch(/^[A-Z2-7]{32}$/);
  await dialog.getByRole('button', { name: 'Continue' }).click();
  await expect.poll(async () => (await focused(page)).label).toBe('Six-digit code');
  await page.keyboard.type(currentCode(secret));
  await dialog.getByRole('button', { name: verifyLabel }).click();
  return secret;
}

describe.skipIf(browserMissing !== null)('authenticator apps in Chromium', () => {
  it('adds a second authenticator, signs in with a code of each, renames one and removes them', async () => {
    const { page, watch, context } = await openPage(browser, t.url, { width: 1280, height: 800 });
    const user = 'grace';

    // 2FA on with the switch: the first app, under its default name.
    await signIn(page, user);
    await onAccountPage(page);
    await twoFactorSwitch(page).click();
    const phone = await scanAndConfirm(page, 'Set up two-factor authentication', 'Verify and enable');
    const setup = page.getByRole('dialog', { name: 'Set up two-factor authentication' });
    await expect.poll(() => setup.getByRole('list', { name: 'Recovery codes' }).isVisible()).toBe(true);
    await setup.getByLabel('I have saved my recovery codes').check();
    await setup.getByRole('button', { name: 'Finish' }).click();
    expect(await listedApps(page, 1)).toEqual(['Authenticator app']);
    nextStep();

    // Add another: a name and a current code of the first app, then the setup's QR code step.
    await page.getByRole('button', { name: 'Add another authenticator' }).click();
    const add = page.getByRole('dialog', { name: 'Add an authenticator app' });
    await expect
      .poll(() => add.getByRole('heading', { name: 'Name your new authenticator app' }).isVisible())
      .toBe(true);
    expect((await focused(page)).label).toBe('Name');
    // A name the account already has is refused on the field, before anything is sent.
    await add.getByLabel('Name').fill('authenticator APP');
    await add.getByLabel('Six-digit code').fill(currentCode(phone));
    await add.getByRole('button', { name: 'Continue' }).click();
    const taken = 'You already have an authenticator app with that name. Choose another name.';
    await expect.poll(() => add.getByText(taken).isVisible()).toBe(true);
    expect(await add.getByLabel('Name').getAttribute('aria-invalid')).toBe('true');
    expect((await focused(page)).label).toBe('Name');
    await add.getByLabel('Name').fill('Backup phone');
    await add.getByRole('button', { name: 'Continue' }).click();
    await expect.poll(() => add.getByText('Step 2 of 3').isVisible()).toBe(true);
    await screenshot(page, 'add-authenticator-qr-code');
    // The new app's code of the same time step as the first app's proof: each app has its own.
    const backup = await scanAndConfirm(page, 'Add an authenticator app', 'Verify and add');
    await expect.poll(() => page.getByRole('dialog').count()).toBe(0);
    // The page reads the list again after the dialog closes: what it then says is waited for.
    await expect
      .poll(() =>
        page.getByText('“Backup phone” was added. A code from it now works when you sign in.').isVisible(),
      )
      .toBe(true);
    expect(await listedApps(page, 2)).toEqual(['Authenticator app', 'Backup phone']);
    await expect.poll(async () => (await focused(page)).text).toBe('Add another authenticator');
    await expect.poll(() => appRow(page, 'Backup phone').getByText('Never used').isVisible()).toBe(true);
    nextStep();

    // Sign in with a code of the first app, then with a code of the second at the same step.
    await signOut(page);
    await signIn(page, user);
    await verifyWithCode(page, currentCode(phone));
    await onAccountPage(page);
    await signOut(page);
    await signIn(page, user);
    await verifyWithCode(page, currentCode(backup));
    await onAccountPage(page);
    expect(await listedApps(page, 2)).toEqual(['Authenticator app', 'Backup phone']);
    for (const name of ['Authenticator app', 'Backup phone']) {
      await expect
        .poll(() => appRow(page, name).locator('.hint').textContent())
        .toMatch(/^Added .+ · Last used .+$/);
    }
    // axe's WCAG rules, and every error announced, on the account screen with two apps.
    await expectAccessible(page, 'account with two authenticator apps');
    await screenshot(page, 'account-two-authenticators', { check: false });
    await page.screenshot({ path: join(SCREENSHOTS, 'web-ui-authenticators.png') });
    if (process.env.DOCS_SCREENSHOTS === '1')
      copyFileSync(join(SCREENSHOTS, 'web-ui-authenticators.png'), DOCS_SCREENSHOT);
    nextStep();

    // Rename: the rule and uniqueness are checked on the field; the keyboard returns to the row.
    await appRow(page, 'Backup phone').getByRole('button', { name: 'Rename' }).click();
    const rename = page.getByRole('dialog', { name: 'Rename “Backup phone”' });
    expect(await rename.getByLabel('Name').inputValue()).toBe('Backup phone');
    await rename.getByLabel('Name').fill('  ');
    await rename.getByRole('button', { name: 'Save' }).click();
    await expect
      .poll(() => rename.getByText('Enter a name for this authenticator app, e.g. Backup phone.').isVisible())
      .toBe(true);
    await rename.getByLabel('Name').fill('x'.repeat(65));
    await rename.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => rename.getByText('Use at most 64 characters.').isVisible()).toBe(true);
    await rename.getByLabel('Name').fill('Old phone');
    await rename.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => page.getByRole('dialog').count()).toBe(0);
    await expect
      .poll(() => page.getByText('“Backup phone” is now called “Old phone”.').isVisible())
      .toBe(true);
    expect(await listedApps(page, 2)).toEqual(['Authenticator app', 'Old phone']);
    expect(await focused(page)).toMatchObject({ text: 'Rename', described: 'Old phone' });

    // Remove the first with a code of the other: a confirmation that asks for a code.
    const [firstId] = (await appList(page)
      .locator('.authenticator-name')
      .evaluateAll((names) => names.map((name) => name.id.replace(/^authenticator-/, '')))) as string[];
    await appRow(page, 'Authenticator app').getByRole('button', { name: 'Remove' }).click();
    const remove = page.getByRole('dialog', { name: 'Remove “Authenticator app”?' });
    await expect
      .poll(() => remove.getByText('Codes from “Authenticator app” stop working at once.').isVisible())
      .toBe(true);
    await remove.getByLabel('Six-digit code').fill(wrongCode(backup));
    await remove.getByRole('button', { name: 'Remove' }).click();
    await expect.poll(() => remove.getByText('That code is not right.').isVisible()).toBe(true);
    await remove.getByLabel('Six-digit code').fill(currentCode(backup));
    await remove.getByRole('button', { name: 'Remove' }).click();
    await expect.poll(() => page.getByRole('dialog').count()).toBe(0);
    await expect
      .poll(() =>
        page.getByText('“Authenticator app” was removed. Codes from it no longer work.').isVisible(),
      )
      .toBe(true);
    expect(await listedApps(page, 1)).toEqual(['Old phone']);
    await expect.poll(async () => (await focused(page)).text).toBe('Authenticator apps');
    nextStep();

    // 2FA required meanwhile: removing the only app is refused in the service's words, and
    // once the card is read again, Remove is unavailable with the reason.
    const required = await t.call('PUT', '/v1/admin/policy', {
      ...asAdmin(),
      body: { requireTwoFactor: true, gracePeriodHours: 0 },
    });
    expect(required.status, required.text).toBe(200);
    const [lastId] = (await appList(page)
      .locator('.authenticator-name')
      .evaluateAll((names) => names.map((name) => name.id.replace(/^authenticator-/, '')))) as string[];
    await appRow(page, 'Old phone').getByRole('button', { name: 'Remove' }).click();
    const removeLast = page.getByRole('dialog', { name: 'Remove “Old phone”?' });
    await expect
      .poll(() => removeLast.getByText('removing it turns two-factor authentication off').isVisible())
      .toBe(true);
    await removeLast.getByLabel('Six-digit code').fill(currentCode(backup));
    await removeLast.getByRole('button', { name: 'Remove' }).click();
    const refusal =
      'Your administrator requires two-factor authentication for all users, so your only authenticator app cannot be removed. Add another authenticator first.';
    await expect
      .poll(() => removeLast.getByRole('alert').filter({ hasText: refusal }).isVisible())
      .toBe(true);
    await screenshot(page, 'remove-only-authenticator-refused');
    await removeLast.getByRole('button', { name: 'Cancel' }).click();
    const keep = appRow(page, 'Old phone').getByRole('button', { name: 'Remove' });
    await expect.poll(() => keep.getAttribute('aria-disabled')).toBe('true');
    await keep.focus();
    expect((await focused(page)).described).toBe(`Old phone | ${refusal}`);
    // Pressed anyway (from the keyboard: it is focusable so that its reason can be read), it does nothing.
    await page.keyboard.press('Enter');
    expect(await page.getByRole('dialog').count()).toBe(0);
    const off = await t.call('PUT', '/v1/admin/policy', { ...asAdmin(), body: { requireTwoFactor: false } });
    expect(off.status).toBe(200);
    nextStep();

    // Not required any more: removing the last app turns 2FA off, and the keyboard is on the switch.
    await page.reload();
    await onAccountPage(page);
    await appRow(page, 'Old phone').getByRole('button', { name: 'Remove' }).click();
    await removeLast.getByLabel('Six-digit code').fill(currentCode(backup));
    await removeLast.getByRole('button', { name: 'Remove' }).click();
    await expect.poll(() => twoFactorSwitch(page).getAttribute('aria-checked')).toBe('false');
    await expect
      .poll(() => page.getByText('“Old phone” was removed. Two-factor authentication is off.').isVisible())
      .toBe(true);
    expect(await appList(page).count()).toBe(0);
    await expect.poll(() => page.evaluate('document.activeElement?.getAttribute("role")')).toBe('switch');
    expect((await t.call('GET', `/v1/users/${user}/two-factor`)).json.status).toBe('disabled');

    expectOnly(watch, [
      `422 DELETE ${PATH}/${firstId}`, // the wrong code when removing the first app
      `403 DELETE ${PATH}/${lastId}`, // the only app, while 2FA is required
    ]);
    await context.close();
  });

  it('offers no sixth authenticator, and says why', async () => {
    const user = 'henry';
    const { secret } = await enableTwoFactor(t, user);
    // Four more through the UI's own routes, in a session of their own.
    const other = uiClient(t.url);
    await other.signIn(user);
    expect(
      (await other.call('POST', '/ui/api/session/verify', { body: { code: currentCode(secret) } })).status,
    ).toBe(200);
    for (const name of ['Tablet', 'Work phone', 'Laptop', 'Watch']) {
      nextStep();
      const added = await other.call('POST', PATH, { body: { name, code: currentCode(secret) } });
      expect(added.status, added.text).toBe(200);
      const confirmed = await other.call('POST', `${PATH}/${added.json.authenticatorId}/confirm`, {
        body: { code: currentCode(added.json.secret) },
      });
      expect(confirmed.status, confirmed.text).toBe(200);
    }
    nextStep();

    const { page, watch, context } = await openPage(browser, t.url);
    await signIn(page, user);
    await verifyWithCode(page, currentCode(secret));
    await onAccountPage(page);
    expect(await listedApps(page, 5)).toEqual([
      'Authenticator app',
      'Tablet',
      'Work phone',
      'Laptop',
      'Watch',
    ]);
    const addAnother = page.getByRole('button', { name: 'Add another authenticator' });
    expect(await addAnother.getAttribute('aria-disabled')).toBe('true');
    const why = 'You have 5 authenticator apps, the most an account can have. Remove one to add another.';
    await expect.poll(() => page.getByText(why).isVisible()).toBe(true);
    await addAnother.focus();
    expect((await focused(page)).described).toBe(why);
    await page.keyboard.press('Enter');
    expect(await page.getByRole('dialog').count()).toBe(0);
    await screenshot(page, 'five-authenticators');
    expectOnly(watch, []);
    await context.close();
  });
});
