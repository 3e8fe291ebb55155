// Over 350 lines on purpose: five user journeys share one browser, one service and these page helpers.
import { readFile } from 'node:fs/promises';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../scripts/build.ts';
import { codeAt, startTestService, type TestService } from '../support/testService.ts';
import { enableTwoFactor } from '../support/twoFactorFlows.ts';
import { browserMissing, expectOnly, launchBrowser, openPage, screenshot } from './browser.ts';
import { auditRecord } from './serviceFixtures.ts';

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

/** Clicks, and waits for the answer of the UI's call it causes. */
async function submit(page: Page, click: () => Promise<void>) {
  await Promise.all([page.waitForResponse((r) => new URL(r.url()).pathname.startsWith('/ui/api/')), click()]);
}

/** A six-digit code that is not the current one. */
const wrongCode = (secret: string) => (currentCode(secret) === '000000' ? '111111' : '000000');

/** Nothing wider than the window: no sideways scrolling. */
const pageWidth = (page: Page) => page.evaluate('document.documentElement.scrollWidth');

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

/**
 * The setup dialog from its QR code to the saved recovery codes, as a person goes through it
 * (the secret read off step 1 where a phone would scan it); returns the secret.
 */
async function enrollInDialog(page: Page, name: string): Promise<string> {
  const dialog = page.getByRole('dialog', { name: 'Set up two-factor authentication' });
  await expect.poll(() => dialog.getByRole('img', { name: /QR code/ }).isVisible()).toBe(true);
  await dialog.getByRole('button', { name: "Can't scan? Enter this code manually" }).click();
  const secret = ((await dialog.locator('code.secret').textContent()) ?? '').replace(/\s/g, '');
  await dialog.getByRole('button', { name: 'Continue' }).click();
  await dialog.getByLabel('Six-digit code').fill(currentCode(secret));
  await dialog.getByRole('button', { name: 'Verify and enable' }).click();
  await saveCodes(page, await listedCodes(page), name);
  nextStep();
  return secret;
}

/** The administrator's authenticator: set up in the admin journey, or through the API when run alone. */
let adminSecret: string | undefined;
const adminTwoFactorSecret = async () => {
  adminSecret ??= (await enableTwoFactor(t, 'admin')).secret;
  return adminSecret;
};

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
    await expect.poll(() => page.getByText('That code has just been used.').isVisible()).toBe(true);
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
      .poll(() =>
        page
          .getByText('That recovery code has already been used: each one works once. Use another.')
          .isVisible(),
      )
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
  it('locks after five wrong codes and says how long is left; a recovery code still lets the user in', async () => {
    const user = 'lee';
    const { secret, recoveryCodes } = await enableTwoFactor(t, user);
    const { page, watch, context } = await openPage(browser, t.url);
    await signIn(page, user);
    await verifyWithCode(page, currentCode(secret));
    await onAccountPage(page);
    nextStep();

    await page.getByRole('button', { name: 'Regenerate recovery codes' }).click();
    const dialog = page.getByRole('dialog', { name: 'Regenerate recovery codes' });
    const verify = dialog.getByRole('button', { name: 'Verify', exact: true });
    for (let attempt = 1; attempt <= 5; attempt++) {
      await dialog.getByLabel('Six-digit code').fill(wrongCode(secret));
      await submit(page, () => verify.click());
      await expect.poll(() => dialog.getByText('That code is not right').isVisible()).toBe(true);
    }
    await dialog.getByLabel('Six-digit code').fill(currentCode(secret));
    await submit(page, () => verify.click());
    await expect
      .poll(() => dialog.getByText('Too many failed attempts. Try again in 1 minute.').isVisible())
      .toBe(true);
    await screenshot(page, 'locked-regenerate');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await expect
      .poll(() =>
        page
          .getByText(
            'Codes from your authenticator app are locked after too many failed attempts: they are refused for 1 minute.',
          )
          .isVisible(),
      )
      .toBe(true);

    // Half a minute later, at the sign-in: the time left, and the way out.
    t.clock.advance(31_000);
    await signOut(page);
    await signIn(page, user);
    await verifyWithCode(page, currentCode(secret));
    await expect
      .poll(() =>
        page
          .getByText('Too many failed attempts. Try again in 29 seconds, or use a recovery code.')
          .isVisible(),
      )
      .toBe(true);
    await screenshot(page, 'locked-sign-in-time-left');

    // While locked, a recovery code is still checked: a user holding one can always get back in.
    await page.getByRole('button', { name: 'Use a recovery code instead' }).click();
    await page.getByLabel('Recovery code').fill(recoveryCodes[0]!);
    await page.getByRole('button', { name: 'Verify', exact: true }).click();
    await onAccountPage(page);
    await expect.poll(() => text(page, '#tfa-status')).toContain('9 recovery codes left');
    expect(await page.getByText('locked after too many failed attempts').count()).toBe(0);

    const regenerate = 'POST /ui/api/account/two-factor/recovery-codes';
    expectOnly(watch, [
      ...Array.from({ length: 5 }, () => `422 ${regenerate}`),
      `429 ${regenerate}`,
      '429 POST /ui/api/session/verify',
    ]);
    await context.close();
  });

  it('with the recovery codes locked, says so at the sign-in and on the account card, and the app still signs in', async () => {
    const user = 'rosa';
    const { secret, recoveryCodes } = await enableTwoFactor(t, user);
    // Five wrong recovery codes (from the web tier, through the API) lock rosa's recovery codes.
    for (let attempt = 0; attempt < 5; attempt++) {
      const wrong = await t.call('POST', `/v1/users/${user}/two-factor/verify`, {
        body: { recoveryCode: `zzzzz-${attempt}0000` },
        headers: { 'x-end-user-ip': '203.0.113.10' },
      });
      expect(wrong.json.code).toBe('invalid-code');
    }
    nextStep();
    const { page, watch, context } = await openPage(browser, t.url);
    await signIn(page, user);
    await verifyWithRecoveryCode(page, recoveryCodes[0]!);
    await expect
      .poll(() =>
        page
          .getByText(
            'Too many wrong recovery codes: they are locked. Try again in 30 seconds, or use the code from your authenticator app.',
          )
          .isVisible(),
      )
      .toBe(true);
    await screenshot(page, 'recovery-codes-locked-sign-in');

    // The authenticator app was never blocked by them.
    await page.getByRole('button', { name: 'Use your authenticator app instead' }).click();
    await page.getByLabel('Six-digit code').fill(currentCode(secret));
    await page.getByRole('button', { name: 'Verify', exact: true }).click();
    await onAccountPage(page);
    await expect
      .poll(() =>
        page.getByText('Recovery codes are locked after too many failed attempts, until').isVisible(),
      )
      .toBe(true);
    expect(await page.getByText('Codes from your authenticator app still work.').isVisible()).toBe(true);
    expect(await page.getByText('Codes from your authenticator app are locked').count()).toBe(0);
    await screenshot(page, 'recovery-codes-locked-account');
    expectOnly(watch, ['429 POST /ui/api/session/verify']);
    await context.close();
  });

  it('lets an administrator require 2FA for all users (the switch locks), unlock a user, and reset one with a reason', async () => {
    const user = 'carol';
    const { secret } = await enableTwoFactor(t, user);
    const admin = await openPage(browser, t.url);
    await signIn(admin.page, 'admin');
    // An administrator without 2FA is led into its setup first; the admin page opens after.
    await expect
      .poll(() =>
        admin.page
          .getByText('As an administrator, you set up two-factor authentication before anything else')
          .isVisible(),
      )
      .toBe(true);
    expect(await admin.page.getByRole('link', { name: 'Admin' }).count()).toBe(0);
    await screenshot(admin.page, 'admin-led-into-setup');
    adminSecret = await enrollInDialog(admin.page, 'admin-setup-recovery-codes');
    await onAccountPage(admin.page);
    await expect.poll(() => admin.page.getByRole('link', { name: 'Admin' }).count()).toBe(1);
    await admin.page.getByRole('link', { name: 'Admin' }).click();
    await expect
      .poll(() => admin.page.getByRole('heading', { name: 'Administration' }).isVisible())
      .toBe(true);
    const requireAll = admin.page.getByRole('switch', { name: 'Require 2FA for all users' });
    await expect.poll(() => requireAll.getAttribute('aria-checked')).toBe('false');
    await submit(admin.page, () => requireAll.click());
    await expect.poll(() => requireAll.getAttribute('aria-checked')).toBe('true');
    expect(
      await admin.page.getByText('Two-factor authentication is now required for all users.').isVisible(),
    ).toBe(true);
    expect((await t.call('GET', `/v1/users/${user}/two-factor`)).json.required).toBe(true);

    // The user's switch is locked, and the page says why.
    const carol = await openPage(browser, t.url);
    await signIn(carol.page, user);
    await verifyWithCode(carol.page, currentCode(secret));
    await onAccountPage(carol.page);
    nextStep();
    const locked = twoFactorSwitch(carol.page);
    await expect.poll(() => locked.getAttribute('aria-checked')).toBe('true');
    expect(await locked.isDisabled()).toBe(true);
    expect(
      await carol.page
        .getByText(
          'Your administrator requires two-factor authentication for all users, so it cannot be turned off.',
        )
        .isVisible(),
    ).toBe(true);
    await locked.click({ force: true });
    expect(await carol.page.getByRole('dialog').count()).toBe(0);
    await screenshot(carol.page, 'switch-locked-by-administrator');
    expect(await carol.page.getByRole('link', { name: 'Admin' }).count()).toBe(0);
    await carol.page.goto('/admin');
    await expect
      .poll(() => carol.page.getByText('Only administrators can open this page').isVisible())
      .toBe(true);

    // Five wrong codes (from the web tier, through the API) lock carol; the administrator unlocks.
    for (let attempt = 0; attempt < 5; attempt++) {
      const wrong = await t.call('POST', `/v1/users/${user}/two-factor/verify`, {
        body: { code: wrongCode(secret) },
        headers: { 'x-end-user-ip': '203.0.113.9' },
      });
      expect(wrong.json.code).toBe('invalid-code');
    }
    const row = admin.page.getByRole('row', { name: new RegExp(`^${user}\\b`) });
    await expect
      .poll(async () => {
        await admin.page.getByRole('button', { name: 'Refresh' }).click();
        return row.getByRole('button', { name: 'Unlock' }).count();
      })
      .toBe(1);
    expect(await row.getByRole('cell').nth(3).textContent()).toBe('Authenticator app');
    await submit(admin.page, () => row.getByRole('button', { name: 'Unlock' }).click());
    await expect.poll(() => row.getByRole('cell').nth(3).textContent()).toBe('No');
    expect(await admin.page.getByText(`Unlocked two-factor authentication for ${user}.`).isVisible()).toBe(
      true,
    );
    expect((await t.call('GET', `/v1/users/${user}/two-factor`)).json.locked).toBe(false);

    // The emergency reset, with a reason.
    expect(await row.getByRole('cell').first().textContent()).toBe('On');
    await row.getByRole('button', { name: 'Reset two-factor authentication' }).click();
    const reset = admin.page.getByRole('dialog', { name: `Reset two-factor authentication for ${user}` });
    const confirm = reset.getByRole('button', { name: 'Reset two-factor authentication' });
    await confirm.click();
    expect(await reset.getByText('Say why, for the audit history.').isVisible()).toBe(true);
    const reason = 'lost phone; identity checked, ticket 4711';
    await reset.getByLabel('Reason').fill(reason);
    await screenshot(admin.page, 'admin-reset');
    await submit(admin.page, () => confirm.click());
    await expect.poll(() => admin.page.getByRole('dialog').count()).toBe(0);
    expect(await row.getByRole('cell').first().textContent()).toBe('Off');
    expect(await admin.page.getByText(`Two-factor authentication was reset for ${user}`).isVisible()).toBe(
      true,
    );
    await screenshot(admin.page, 'admin-after-reset');
    expect((await t.call('GET', `/v1/users/${user}/two-factor`)).json.status).toBe('disabled');
    await expect
      .poll(() => auditRecord(t, user, 'AdminReset'))
      .toMatchObject({ actor: { role: 'admin', id: 'admin' }, details: { reason } });

    // The user sees 2FA off, and is asked to turn it on again.
    await carol.page.goto('/');
    await onAccountPage(carol.page);
    await expect.poll(() => twoFactorSwitch(carol.page).getAttribute('aria-checked')).toBe('false');
    expect(await twoFactorSwitch(carol.page).isDisabled()).toBe(false);
    expect(
      await carol.page
        .getByText('Your administrator requires two-factor authentication for all users: turn it on')
        .isVisible(),
    ).toBe(true);

    // Back as it was, for the other tests.
    await submit(admin.page, () => requireAll.click());
    await expect.poll(() => requireAll.getAttribute('aria-checked')).toBe('false');
    expectOnly(admin.watch, []);
    expectOnly(carol.watch, []);
    await admin.context.close();
    await carol.context.close();
  });

  it('says when a setup has expired, and starts again with a new QR code', async () => {
    const { page, watch, context } = await openPage(browser, t.url);
    await signIn(page, 'eve');
    await onAccountPage(page);
    await twoFactorSwitch(page).click();
    const dialog = page.getByRole('dialog', { name: 'Set up two-factor authentication' });
    const readSecret = async () => {
      await dialog.getByRole('button', { name: "Can't scan? Enter this code manually" }).click();
      return ((await dialog.locator('code.secret').textContent()) ?? '').replace(/\s/g, '');
    };
    const first = await readSecret();
    await dialog.getByRole('button', { name: 'Continue' }).click();
    t.clock.advance(15 * 60_000 + 1_000);
    await dialog.getByLabel('Six-digit code').fill(currentCode(first));
    await submit(page, () => dialog.getByRole('button', { name: 'Verify and enable' }).click());
    await expect
      .poll(() =>
        dialog
          .getByText(
            'This setup has expired: a QR code is valid for 15 minutes. Start again to get a new one.',
          )
          .isVisible(),
      )
      .toBe(true);
    await screenshot(page, 'setup-expired');
    await dialog.getByRole('button', { name: 'Start again' }).click();
    await expect.poll(() => dialog.getByRole('img', { name: /QR code/ }).isVisible()).toBe(true);
    const second = await readSecret();
    expect(second).not.toBe(first);
    await dialog.getByRole('button', { name: 'Continue' }).click();
    await dialog.getByLabel('Six-digit code').fill(currentCode(second));
    await dialog.getByRole('button', { name: 'Verify and enable' }).click();
    expect(await listedCodes(page)).toHaveLength(10);
    nextStep();

    expectOnly(watch, ['409 POST /ui/api/account/two-factor/enrollment/confirm']);
    await context.close();
  });

  it('works by keyboard alone, with a visible focus, 320 px wide', async () => {
    const { page, watch, context } = await openPage(browser, t.url, { width: 320, height: 640 });
    await page.goto('/');
    await expect
      .poll(() => page.evaluate('document.activeElement?.labels?.[0]?.textContent'))
      .toBe('User id');
    await page.keyboard.type('kim');
    await page.keyboard.press('Enter');
    await onAccountPage(page);
    expect(await pageWidth(page)).toBeLessThanOrEqual(320);
    await screenshot(page, 'narrow-account');

    // Tab to the switch: the focus ring shows where the keyboard is.
    for (let presses = 0; presses < 20; presses++) {
      if ((await page.evaluate("document.activeElement?.getAttribute('role')")) === 'switch') break;
      await page.keyboard.press('Tab');
    }
    expect(await page.evaluate("document.activeElement?.getAttribute('role')")).toBe('switch');
    expect(await page.evaluate('getComputedStyle(document.activeElement).outlineStyle')).toBe('solid');
    expect(await page.evaluate('getComputedStyle(document.activeElement).outlineWidth')).toBe('3px');

    await page.keyboard.press('Space');
    const dialog = page.getByRole('dialog', { name: 'Set up two-factor authentication' });
    await expect.poll(() => dialog.getByRole('img', { name: /QR code/ }).isVisible()).toBe(true);
    expect(await pageWidth(page)).toBeLessThanOrEqual(320);
    await screenshot(page, 'narrow-setup');
    await page.keyboard.press('Escape');
    await expect.poll(() => page.getByRole('dialog').count()).toBe(0);
    expect(await page.evaluate("document.activeElement?.getAttribute('role')")).toBe('switch');
    await expect.poll(() => text(page, '#tfa-status')).toBe('Off — setup was started but not finished');

    await signOut(page);
    await signIn(page, 'admin');
    await verifyWithCode(page, currentCode(await adminTwoFactorSecret()));
    nextStep();
    await onAccountPage(page);
    await page.goto('/admin');
    await expect.poll(() => page.getByRole('row', { name: /^kim\b/ }).count()).toBe(1);
    expect(await pageWidth(page)).toBeLessThanOrEqual(320);
    await screenshot(page, 'narrow-admin');
    expectOnly(watch, []);
    await context.close();
  });
});

describe.skipIf(browserMissing !== null)(
  'the web UI in Chromium, behind a sign-in proxy (production)',
  () => {
    let proxied: TestService;
    beforeAll(async () => {
      if (browserMissing !== null) return;
      // The browser itself stands in for the proxy: it connects from 127.0.0.1, which TRUST_PROXY
      // names, and sends the header the proxy would set.
      const port = await freePort();
      proxied = await startTestService({
        env: {
          NODE_ENV: 'production',
          PORT: String(port),
          PUBLIC_URL: `http://127.0.0.1:${port}`,
          UI_ENABLED: 'true',
          UI_TRUSTED_USER_HEADER: 'X-Forwarded-User',
          TRUST_PROXY: '127.0.0.1',
        },
      });
    });
    afterAll(async () => {
      await proxied?.stop();
    });

    it('signs in the user the proxy names at once, asks only the second step, and waits after a sign-out', async () => {
      const { secret } = await enableTwoFactor(proxied, 'pat@example.com');
      const { page, watch, context } = await openPage(browser, proxied.url);
      await context.setExtraHTTPHeaders({ 'x-forwarded-user': 'pat@example.com' });
      await page.goto('/');
      // No user-id form: straight to the second step of the user the proxy signed in.
      await expect
        .poll(() => page.getByRole('heading', { name: 'Two-step verification' }).isVisible())
        .toBe(true);
      expect(await page.getByLabel('User id').count()).toBe(0);
      expect(await page.getByRole('main').getByText('pat@example.com').isVisible()).toBe(true);
      await screenshot(page, 'proxy-second-step');
      proxied.clock.advance(STEP);
      await page.getByLabel('Six-digit code').fill(codeAt(secret, proxied.clock.now()));
      await page.getByRole('button', { name: 'Verify', exact: true }).click();
      await expect.poll(() => accountHeading(page).isVisible()).toBe(true);
      await page.getByRole('button', { name: 'Sign out' }).click();
      await expect.poll(() => page.getByRole('button', { name: 'Sign in again' }).isVisible()).toBe(true);
      expect(await page.getByRole('heading', { name: 'Two-step verification' }).count()).toBe(0);
      await page.getByRole('button', { name: 'Sign in again' }).click();
      await expect
        .poll(() => page.getByRole('heading', { name: 'Two-step verification' }).isVisible())
        .toBe(true);
      expectOnly(watch, []);
      await context.close();
    });
  },
);
