import { readFile } from 'node:fs/promises';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codeAt, startTestService, type TestService } from '../support/testService.ts';
import { browserMissing, expectOnly, launchBrowser, openPage, screenshot } from './browser.ts';

if (browserMissing !== null) console.warn(`web UI browser tests skipped: ${browserMissing}`);

const STEP = 30_000;
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

/** Each code works once and only a later step than the last one accepted: move to the next. */
const nextStep = () => t.clock.advance(STEP);

async function signIn(page: Page, userId: string) {
  await page.goto('/');
  await page.getByLabel('User id').fill(userId);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

async function signOut(page: Page) {
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect.poll(() => page.getByRole('heading', { name: 'Sign in' }).isVisible()).toBe(true);
}

async function verifyWithCode(page: Page, code: string) {
  await expect
    .poll(() => page.getByRole('heading', { name: 'Two-step verification' }).isVisible())
    .toBe(true);
  await page.getByLabel('Six-digit code').fill(code);
  await page.getByRole('button', { name: 'Verify', exact: true }).click();
}

async function verifyWithRecoveryCode(page: Page, recoveryCode: string) {
  await expect
    .poll(() => page.getByRole('heading', { name: 'Two-step verification' }).isVisible())
    .toBe(true);
  await page.getByRole('button', { name: 'Use a recovery code instead' }).click();
  await page.getByLabel('Recovery code').fill(recoveryCode);
  await page.getByRole('button', { name: 'Verify', exact: true }).click();
}

const accountHeading = (page: Page) => page.getByRole('heading', { name: 'Account', level: 1 });
const twoFactorSwitch = (page: Page) => page.getByRole('switch', { name: 'Two-factor authentication' });

async function onAccountPage(page: Page) {
  try {
    await expect.poll(() => accountHeading(page).isVisible()).toBe(true);
  } catch (error) {
    await screenshot(page, 'failure');
    throw error;
  }
  await expect.poll(() => twoFactorSwitch(page).isVisible()).toBe(true);
}

const text = async (page: Page, selector: string) =>
  ((await page.locator(selector).textContent()) ?? '').trim();

/** The recovery codes as the dialog lists them. */
async function listedCodes(page: Page): Promise<string[]> {
  const list = page.getByRole('dialog').getByRole('list', { name: 'Recovery codes' });
  await expect.poll(() => list.getByRole('listitem').count()).toBe(10);
  return (await list.getByRole('listitem').allInnerTexts()).map((code) => code.trim());
}

/** Download (a .txt with all ten), Copy all, and Finish only once the box is ticked. */
async function saveCodes(page: Page, codes: readonly string[], name: string) {
  const dialog = page.getByRole('dialog');
  const finish = dialog.getByRole('button', { name: 'Finish' });
  expect(await finish.isDisabled()).toBe(true);

  const [download] = await Promise.all([
    page.waitForEvent('download'),
    dialog.getByRole('button', { name: 'Download' }).click(),
  ]);
  expect(download.suggestedFilename()).toMatch(/\.txt$/);
  const saved = await readFile(await download.path(), 'utf8');
  for (const code of codes) expect(saved).toContain(code);

  await dialog.getByRole('button', { name: 'Copy all' }).click();
  await expect.poll(() => dialog.getByRole('status').textContent()).toContain('Copied');
  expect(await page.evaluate('navigator.clipboard.readText()')).toBe(codes.join('\n'));

  await dialog.getByLabel('I have saved my recovery codes').check();
  expect(await finish.isEnabled()).toBe(true);
  await screenshot(page, name);
  await finish.click();
  await expect.poll(() => page.getByRole('dialog').count()).toBe(0);
}

describe.skipIf(browserMissing !== null)('the web UI in Chromium', () => {
  it('walks every flow of a user: enable, sign in with a code and a recovery code, regenerate, disable', async () => {
    const { page, watch, context } = await openPage(browser, t.url);
    const user = 'ada';

    // Demo sign-in, then Settings → Account.
    await page.goto('/');
    await expect.poll(() => page.getByText('Demo sign-in.').isVisible()).toBe(true);
    await screenshot(page, 'sign-in');
    await signIn(page, user);
    await onAccountPage(page);
    expect(await twoFactorSwitch(page).getAttribute('aria-checked')).toBe('false');
    expect(await page.getByRole('heading', { name: 'Two-factor authentication' }).isVisible()).toBe(true);
    expect(await text(page, '#tfa-status')).toBe('Off');

    // Step 1: the QR code, and the secret as text.
    await twoFactorSwitch(page).click();
    const dialog = page.getByRole('dialog', { name: 'Set up two-factor authentication' });
    const qr = dialog.getByRole('img', { name: /QR code/ });
    await expect.poll(() => qr.isVisible()).toBe(true);
    expect(await qr.getAttribute('src')).toMatch(/^data:image\/png;base64,/);
    expect(await qr.evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth > 100)).toBe(
      true,
    );
    await dialog.getByRole('button', { name: "Can't scan? Enter this code manually" }).click();
    const shownSecret = dialog.locator('code.secret');
    expect(await shownSecret.isVisible()).toBe(true);
    const secret = ((await shownSecret.textContent()) ?? '').replace(/\s/g, '');
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    await screenshot(page, 'setup-step-1-qr-code');

    // Step 2: a wrong code is refused in words; the right one enables.
    await dialog.getByRole('button', { name: 'Continue' }).click();
    const wrong = currentCode(secret) === '123456' ? '654321' : '123456';
    await dialog.getByLabel('Six-digit code').fill(wrong);
    await dialog.getByRole('button', { name: 'Verify and enable' }).click();
    await expect.poll(() => dialog.getByText('That code is not right').isVisible()).toBe(true);
    await screenshot(page, 'setup-step-2-wrong-code');
    await dialog.getByLabel('Six-digit code').fill(currentCode(secret));
    await dialog.getByRole('button', { name: 'Verify and enable' }).click();

    // Step 3: ten codes, downloaded and copied; Finish once ticked.
    const codes = await listedCodes(page);
    expect(new Set(codes).size).toBe(10);
    await saveCodes(page, codes, 'setup-step-3-recovery-codes');
    await expect.poll(() => text(page, '#tfa-status')).toMatch(/^On since .+ · 10 recovery codes left$/);
    expect(await twoFactorSwitch(page).getAttribute('aria-checked')).toBe('true');
    expect(await page.getByText('Two-factor authentication is on.').isVisible()).toBe(true);
    await screenshot(page, 'account-enabled');
    nextStep();

    // Sign out, then sign in: the second step is real.
    await signOut(page);
    await signIn(page, user);
    await expect.poll(() => page.getByLabel('Six-digit code').isVisible()).toBe(true);
    expect(await page.evaluate(() => fetch('/ui/api/account/two-factor').then((r) => r.status))).toBe(401);
    await screenshot(page, 'second-step');
    await verifyWithCode(page, currentCode(secret));
    await onAccountPage(page);
    nextStep();

    // The same code twice in one step is refused: it works once.
    await signOut(page);
    await signIn(page, user);
    const code = currentCode(secret);
    await verifyWithCode(page, code);
    await onAccountPage(page);
    await signOut(page);
    await signIn(page, user);
    await verifyWithCode(page, code);
    await expect
      .poll(() => page.getByText(/That code (is not right|has just been used)/).isVisible())
      .toBe(true);
    nextStep();
    await verifyWithCode(page, currentCode(secret));
    await onAccountPage(page);

    // A recovery code instead, once; the same one then fails.
    await signOut(page);
    await signIn(page, user);
    await verifyWithRecoveryCode(page, codes[0]!);
    await onAccountPage(page);
    await expect.poll(() => text(page, '#tfa-status')).toContain('9 recovery codes left');
    await screenshot(page, 'signed-in-with-recovery-code');
    await signOut(page);
    await signIn(page, user);
    await verifyWithRecoveryCode(page, codes[0]!);
    await expect
      .poll(() => page.getByText('That recovery code is not valid, or it has already been used.').isVisible())
      .toBe(true);
    expect(await page.getByLabel('Recovery code').getAttribute('aria-invalid')).toBe('true');
    await screenshot(page, 'used-recovery-code-refused');
    nextStep();
    await page.getByRole('button', { name: 'Use your authenticator app instead' }).click();
    await page.getByLabel('Six-digit code').fill(currentCode(secret));
    await page.getByRole('button', { name: 'Verify', exact: true }).click();
    await onAccountPage(page);
    nextStep();

    // Regenerate: a code, then a new list; the old codes stop working.
    await page.getByRole('button', { name: 'Regenerate recovery codes' }).click();
    const regenerate = page.getByRole('dialog', { name: 'Regenerate recovery codes' });
    await regenerate.getByLabel('Six-digit code').fill(currentCode(secret));
    await regenerate.getByRole('button', { name: 'Verify', exact: true }).click();
    const fresh = await listedCodes(page);
    expect(fresh.filter((c) => codes.includes(c))).toEqual([]);
    await saveCodes(page, fresh, 'regenerated-recovery-codes');
    await expect.poll(() => text(page, '#tfa-status')).toContain('10 recovery codes left');
    nextStep();
    await signOut(page);
    await signIn(page, user);
    await verifyWithRecoveryCode(page, codes[1]!);
    await expect
      .poll(() => page.getByText('That recovery code is not valid, or it has already been used.').isVisible())
      .toBe(true);
    await page.getByLabel('Recovery code').fill(fresh[0]!);
    await page.getByRole('button', { name: 'Verify', exact: true }).click();
    await onAccountPage(page);

    // Two or fewer codes left: the page says so.
    for (const spare of fresh.slice(1, 8)) {
      const used = await t.call('POST', `/v1/users/${user}/two-factor/verify`, {
        body: { recoveryCode: spare },
      });
      expect(used.status).toBe(200);
    }
    await page.reload();
    await onAccountPage(page);
    await expect
      .poll(() => page.getByText('Only 2 recovery codes are left. Regenerate recovery codes').isVisible())
      .toBe(true);
    await screenshot(page, 'recovery-codes-low');

    // Disable: the switch asks for a code.
    await twoFactorSwitch(page).click();
    const disable = page.getByRole('dialog', { name: 'Turn off two-factor authentication' });
    await disable.getByLabel('Six-digit code').fill(currentCode(secret));
    await screenshot(page, 'disable');
    await disable.getByRole('button', { name: 'Disable' }).click();
    await expect.poll(() => text(page, '#tfa-status')).toBe('Off');
    expect(await twoFactorSwitch(page).getAttribute('aria-checked')).toBe('false');
    expect((await t.call('GET', `/v1/users/${user}/two-factor`)).json.status).toBe('disabled');
    nextStep();

    const verify = 'POST /ui/api/session/verify';
    expectOnly(watch, [
      '422 POST /ui/api/account/two-factor/enrollment/confirm', // the wrong code in setup
      '401 GET /ui/api/account/two-factor', // the account, asked for before the second step
      `422 ${verify}`, // the code used a second time
      `422 ${verify}`, // the recovery code used a second time
      `422 ${verify}`, // an old recovery code after regenerating
    ]);
    await context.close();
  });
});
