// Over 350 lines on purpose: five user journeys share one browser, one service and these page helpers.
import { readFile } from 'node:fs/promises';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../scripts/build.ts';
import { codeAt, startTestService, type TestService } from '../support/testService.ts';
import { asAdmin, enableTwoFactor } from '../support/twoFactorFlows.ts';
import { announced, browserMissing, expectOnly, launchBrowser, openPage, screenshot } from './browser.ts';
import { signIn, signOut, verifyWithCode } from './pageSteps.ts';
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
    await screenshot(page, 'failure', { check: false });
    throw error;
  }
  await expect.poll(() => twoFactorSwitch(page).isVisible()).toBe(true);
}

const text = async (page: Page, selector: string) =>
  ((await page.locator(selector).textContent()) ?? '').trim();

/** The recovery codes as the dialog (or the page) lists them. */
async function listedCodes(page: Page, where = page.getByRole('dialog')): Promise<string[]> {
  const list = where.getByRole('list', { name: 'Recovery codes' });
  await expect.poll(() => list.getByRole('listitem').count()).toBe(10);
  return (await list.getByRole('listitem').allInnerTexts()).map((code) => code.trim());
}

/** Download (a .txt with all ten), Copy all, and Finish only once the box is ticked. */
async function saveCodes(
  page: Page,
  codes: readonly string[],
  name: string,
  dialog = page.getByRole('dialog'),
) {
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
 * The setup from its QR code to the saved recovery codes, as a person goes through it (the
 * secret read off step 1 where a phone would scan it): in the Account page's dialog, or on the
 * page of its own a required setup has. Returns the secret.
 */
async function enrollIn(page: Page, name: string, where: 'dialog' | 'page' = 'dialog'): Promise<string> {
  const setup =
    where === 'dialog'
      ? page.getByRole('dialog', { name: 'Set up two-factor authentication' })
      : page.getByRole('main');
  await expect.poll(() => setup.getByRole('img', { name: /QR code/ }).isVisible()).toBe(true);
  await setup.getByRole('button', { name: "Can't scan? Enter this code manually" }).click();
  const secret = ((await setup.locator('code.secret').textContent()) ?? '').replace(/\s/g, '');
  await setup.getByRole('button', { name: 'Continue' }).click();
  // Step 2 takes the keyboard straight to the code field.
  await expect
    .poll(() => page.evaluate('document.activeElement?.labels?.[0]?.textContent'))
    .toBe('Six-digit code');
  await page.keyboard.type(currentCode(secret));
  await setup.getByRole('button', { name: 'Verify and enable' }).click();
  await saveCodes(page, await listedCodes(page, setup), name, setup);
  nextStep();
  return secret;
}

/**
 * The setup that comes before anything else: the page, whatever its address, and the only
 * other way is signing out; the service refuses the session anything else.
 */
async function expectRequiredSetup(page: Page, why: string) {
  await expect
    .poll(() => page.getByRole('heading', { name: 'Set up two-factor authentication', level: 1 }).isVisible())
    .toBe(true);
  expect(await page.getByText(why).isVisible()).toBe(true);
  expect(await accountHeading(page).count()).toBe(0);
  expect(await page.getByRole('navigation', { name: 'Main' }).getByRole('link').count()).toBe(0);
  expect(await page.getByRole('button', { name: 'Sign out' }).isVisible()).toBe(true);
  const refused = await page.evaluate(() =>
    fetch('/ui/api/admin/users/summary').then(async (r) => ({
      status: r.status,
      title: ((await r.json()) as { title: string }).title,
    })),
  );
  expect(refused).toEqual({ status: 403, title: 'Set up two-factor authentication first' });
}

const HOUR = 3_600_000;

/** Sets "require 2FA" through the API, as another administrator's tool would. */
async function setPolicy(requireTwoFactor: boolean, gracePeriodHours: number) {
  const changed = await t.call('PUT', '/v1/admin/policy', {
    ...asAdmin(),
    body: { requireTwoFactor, gracePeriodHours },
  });
  expect(changed.status, changed.text).toBe(200);
}

/** At this width, no user id, status or button label of the admin table breaks over two lines. */
async function expectNoWrapping(page: Page) {
  const wrapped = await page.evaluate(`(() => {
    const texts = document.createTreeWalker(document.querySelector('.users tbody'), NodeFilter.SHOW_TEXT);
    const broken = [];
    for (let node = texts.nextNode(); node !== null; node = texts.nextNode()) {
      const range = document.createRange();
      range.selectNodeContents(node);
      const lines = new Set([...range.getClientRects()].map((r) => Math.round(r.top)));
      if (lines.size > 1) broken.push(node.textContent);
    }
    return broken;
  })()`);
  expect(wrapped).toEqual([]);
  expect(
    await page.evaluate(
      "document.querySelector('.table-scroll').scrollWidth <= document.querySelector('.table-scroll').clientWidth",
    ),
  ).toBe(true);
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
    // The switch's name holds what it shows.
    expect(
      await page.getByRole('switch', { name: 'Two-factor authentication Off', exact: true }).count(),
    ).toBe(1);
    expect(await page.getByRole('heading', { name: 'Two-factor authentication' }).isVisible()).toBe(true);
    expect(await text(page, '#tfa-status')).toBe('Off');
    await screenshot(page, 'account-off');

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
    const refusal = 'That code is not right. Check the code your authenticator app shows now and try again.';
    await expect.poll(() => dialog.getByText(refusal).isVisible()).toBe(true);
    // Announced, on the field that is marked invalid and described by it, with the keyboard there.
    expect(await announced(page)).toContain(refusal);
    const codeField = dialog.getByLabel('Six-digit code');
    expect(await codeField.getAttribute('aria-invalid')).toBe('true');
    const errorId = await dialog.getByText(refusal).getAttribute('id');
    expect((await codeField.getAttribute('aria-describedby'))?.split(' ')).toContain(errorId);
    expect(
      await codeField.evaluate(
        (field) => field === (field.ownerDocument as { activeElement: unknown }).activeElement,
      ),
    ).toBe(true);
    await screenshot(page, 'setup-step-2-wrong-code');
    await codeField.fill(currentCode(secret));
    await dialog.getByRole('button', { name: 'Verify and enable' }).click();

    // Step 3: ten codes, downloaded and copied; Finish once ticked. Behind them, the card
    // already says 2FA is on: it is, from the confirmation.
    const codes = await listedCodes(page);
    expect(new Set(codes).size).toBe(10);
    await expect.poll(() => text(page, '#tfa-status')).toMatch(/^On since /);
    await saveCodes(page, codes, 'setup-step-3-recovery-codes');
    await expect.poll(() => text(page, '#tfa-status')).toMatch(/^On since .+ · 10 recovery codes left$/);
    expect(await twoFactorSwitch(page).getAttribute('aria-checked')).toBe('true');
    expect(await page.getByText('Two-factor authentication is on.').isVisible()).toBe(true);
    await screenshot(page, 'account-enabled');
    // The news lasts until the next action.
    await page.getByRole('button', { name: 'Regenerate recovery codes' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Cancel' }).click();
    expect(await page.getByText('Two-factor authentication is on.').count()).toBe(0);
    nextStep();

    // Sign out, then sign in: the second step is real.
    await signOut(page);
    await signIn(page, user);
    await expect.poll(() => page.getByLabel('Six-digit code').isVisible()).toBe(true);
    expect(await page.evaluate(() => fetch('/ui/api/account/two-factor').then((r) => r.status))).toBe(401);
    // Nobody is signed in yet: no "Sign out", only a way to cancel this sign-in.
    expect(await page.getByRole('button', { name: 'Sign out' }).count()).toBe(0);
    expect(await page.getByRole('button', { name: 'Cancel sign-in' }).isVisible()).toBe(true);
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
    expect(
      await disable.getByText('your authenticator app and all your recovery codes stop working').isVisible(),
    ).toBe(true);
    expect(await disable.getByRole('button', { name: 'Disable' }).getAttribute('class')).toBe('danger-solid');
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
  it('counts the tries left, locks after five wrong codes and counts the lock down; a recovery code still lets the user in', async () => {
    const user = 'lee';
    const { secret, recoveryCodes } = await enableTwoFactor(t, user);
    const { page, watch, context } = await openPage(browser, t.url);
    // The page's own clock, to go through a lock's countdown without waiting for it.
    await page.clock.install();
    await signIn(page, user);
    await verifyWithCode(page, currentCode(secret));
    await onAccountPage(page);
    nextStep();

    await page.getByRole('button', { name: 'Regenerate recovery codes' }).click();
    const dialog = page.getByRole('dialog', { name: 'Regenerate recovery codes' });
    const verify = dialog.getByRole('button', { name: 'Verify', exact: true });
    const refusal = 'That code is not right. Check the code your authenticator app shows now and try again.';
    const said: string[] = [];
    for (let attempt = 1; attempt <= 5; attempt++) {
      await dialog.getByLabel('Six-digit code').fill(wrongCode(secret));
      await submit(page, () => verify.click());
      await expect.poll(() => dialog.getByText(refusal).isVisible()).toBe(true);
      said.push(((await dialog.locator('.field-error').textContent()) ?? '').slice(refusal.length).trim());
      if (attempt === 4) await screenshot(page, 'one-attempt-left');
    }
    // From the third failure in a row, how many tries are left; the fifth locks.
    expect(said).toEqual(['', '', '2 attempts left before a lock.', '1 attempt left before a lock.', '']);
    expect(await announced(page)).toContain(`${refusal} 1 attempt left before a lock.`);
    const lock = dialog.getByText('Too many failed attempts. Try again in 1 minute.');
    await expect.poll(() => lock.isVisible()).toBe(true);
    expect(await announced(page)).toContain('Too many failed attempts. Try again in 1 minute.');
    // Verify waits for the lock's end: no code can be sent into it.
    expect(await verify.isDisabled()).toBe(true);
    await screenshot(page, 'locked-regenerate');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    const cardLock = (time: string) =>
      page.getByText(
        `Codes from your authenticator app are locked after too many failed attempts: they are refused for ${time}. A recovery code still works.`,
      );
    await expect.poll(() => cardLock('1 minute').isVisible()).toBe(true);

    // Half a minute later, at the sign-in: the time left counts down, and the way out is a button.
    t.clock.advance(31_000);
    await signOut(page);
    await signIn(page, user);
    await verifyWithCode(page, currentCode(secret));
    const countdown = (left: string) =>
      page.getByText(`Too many failed attempts. Try again in ${left}, or use a recovery code.`);
    await expect.poll(() => countdown('29 seconds').isVisible()).toBe(true);
    const signInVerify = page.getByRole('button', { name: 'Verify', exact: true });
    expect(await signInVerify.isDisabled()).toBe(true);
    await screenshot(page, 'locked-sign-in-time-left');
    await page.clock.runFor(10_000);
    await expect.poll(() => countdown('19 seconds').isVisible()).toBe(true);
    // Counted, not spoken every second: the lock was announced once.
    expect(
      (await announced(page)).filter((line) => line.startsWith('Too many failed attempts. Try again in')),
    ).toEqual(['Too many failed attempts. Try again in 29 seconds, or use a recovery code.']);
    await page.clock.runFor(20_000);
    await expect.poll(() => signInVerify.isEnabled()).toBe(true);
    expect(
      await page.getByText('You can try a code from your authenticator app again now.').isVisible(),
    ).toBe(true);

    // The page's clock ran ahead; the service's decides: still locked there, counted down again.
    // While locked, a recovery code is still checked: a user holding one can always get back in.
    await verifyWithCode(page, currentCode(secret));
    await expect.poll(() => countdown('29 seconds').isVisible()).toBe(true);
    await page.getByRole('button', { name: 'use a recovery code', exact: true }).click();
    expect(await page.evaluate('document.activeElement?.labels?.[0]?.textContent')).toBe('Recovery code');
    await page.getByLabel('Recovery code').fill(recoveryCodes[0]!);
    await page.getByRole('button', { name: 'Verify', exact: true }).click();
    await onAccountPage(page);
    await expect.poll(() => text(page, '#tfa-status')).toContain('9 recovery codes left');
    expect(await page.getByText('locked after too many failed attempts').count()).toBe(0);

    const regenerate = 'POST /ui/api/account/two-factor/recovery-codes';
    expectOnly(watch, [
      ...Array.from({ length: 5 }, () => `422 ${regenerate}`),
      '429 POST /ui/api/session/verify',
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
        page
          .getByText(
            'Recovery codes are locked after too many failed attempts: they are refused for 30 seconds.',
          )
          .isVisible(),
      )
      .toBe(true);
    expect(await page.getByText('Codes from your authenticator app still work.').isVisible()).toBe(true);
    expect(await page.getByText('Codes from your authenticator app are locked').count()).toBe(0);
    await screenshot(page, 'recovery-codes-locked-account');
    expectOnly(watch, ['429 POST /ui/api/session/verify']);
    await context.close();
  });

  it('lets an administrator require 2FA with a grace, confirmed for whom it reaches, see who is enrolled, unlock a user and reset one, who is then led into setup', async () => {
    const user = 'carol';
    const { secret } = await enableTwoFactor(t, user);
    const admin = await openPage(browser, t.url, { width: 1280, height: 800 });
    await signIn(admin.page, 'admin');
    // An administrator without 2FA: the setup is the page (the admin page opens after).
    await expect
      .poll(() =>
        admin.page
          .getByText('As an administrator, you set up two-factor authentication before anything else')
          .isVisible(),
      )
      .toBe(true);
    expect(await admin.page.getByRole('link', { name: 'Admin' }).count()).toBe(0);
    expect(await accountHeading(admin.page).count()).toBe(0);
    await screenshot(admin.page, 'admin-led-into-setup');
    adminSecret = await enrollIn(admin.page, 'admin-setup-recovery-codes', 'page');
    await onAccountPage(admin.page);
    await expect.poll(() => admin.page.getByRole('link', { name: 'Admin' }).count()).toBe(1);
    await admin.page.getByRole('link', { name: 'Admin' }).click();
    await expect
      .poll(() => admin.page.getByRole('heading', { name: 'Administration' }).isVisible())
      .toBe(true);
    const requireAll = admin.page.getByRole('switch', { name: 'Require 2FA for all users' });
    await expect.poll(() => requireAll.getAttribute('aria-checked')).toBe('false');
    expect(
      await admin.page.getByRole('switch', { name: 'Require 2FA for all users Off', exact: true }).count(),
    ).toBe(1);

    // A grace that is not a number of hours is refused in words, before anything is asked.
    const grace = admin.page.getByLabel('Grace period (hours)');
    await grace.fill('1.5');
    await requireAll.click();
    await expect
      .poll(() => admin.page.getByText('Enter a whole number of hours, from 0 to 8760.').isVisible())
      .toBe(true);
    expect(await grace.getAttribute('aria-invalid')).toBe('true');
    expect(await announced(admin.page)).toContain('Enter a whole number of hours, from 0 to 8760.');
    expect(await admin.page.getByRole('dialog').count()).toBe(0);

    // One click changes everyone's sign-in: it is asked first, naming whom it reaches.
    await grace.fill('72');
    await requireAll.click();
    const confirm = admin.page.getByRole('dialog', { name: 'Require 2FA for all users?' });
    await expect.poll(() => confirm.isVisible()).toBe(true);
    const asked = (await confirm.textContent()) ?? '';
    expect(asked).toContain('within 72 hours of the next time they sign in');
    expect(asked).toMatch(/\d+ users? (has|have) it on already/);
    expect(asked).toContain('the service sees them only when they next sign in, and asks them then');
    await screenshot(admin.page, 'admin-require-confirm');
    await confirm.getByRole('button', { name: 'Cancel' }).click();
    expect(await requireAll.getAttribute('aria-checked')).toBe('false');
    await requireAll.click();
    await submit(admin.page, () =>
      confirm.getByRole('button', { name: 'Require 2FA for all users' }).click(),
    );
    await expect.poll(() => requireAll.getAttribute('aria-checked')).toBe('true');
    expect(
      await admin.page
        .getByText(
          'Two-factor authentication is now required for all users, with a grace period of 72 hours.',
        )
        .isVisible(),
    ).toBe(true);
    expect((await t.call('GET', `/v1/users/${user}/two-factor`)).json.required).toBe(true);
    expect((await t.call('GET', '/v1/admin/policy', asAdmin())).json.gracePeriodHours).toBe(72);

    // A user seen without 2FA (the web tier read their status at a sign-in) is counted and listed.
    const newcomer = 'gina';
    expect((await t.call('GET', `/v1/users/${newcomer}/two-factor`)).json.canDefer).toBe(true);
    const coverage = admin.page.locator('.coverage');
    await expect
      .poll(async () => {
        await admin.page.getByRole('button', { name: 'Refresh' }).click();
        return (await coverage.textContent()) ?? '';
      })
      .toMatch(
        /^Required: \d+ of \d+ seen users enrolled; 0 past their deadline\. Show who is not enrolled$/,
      );
    await admin.page.getByRole('button', { name: 'Show who is not enrolled' }).click();
    const newcomerRow = admin.page.getByRole('row', { name: new RegExp(`^${newcomer}\\b`) });
    await expect.poll(() => newcomerRow.count()).toBe(1);
    expect(await admin.page.getByLabel('Show').inputValue()).toBe('required');
    expect(await newcomerRow.getByRole('cell').nth(3).textContent()).toMatch(/\d{4}/);
    // Nothing to reset for a user without 2FA: not offered.
    expect(await newcomerRow.getByRole('button').count()).toBe(0);
    await expectNoWrapping(admin.page);
    await screenshot(admin.page, 'admin-coverage');
    // On a phone: each cell labelled by its column once, and nothing wider than the screen.
    await admin.page.setViewportSize({ width: 375, height: 740 });
    expect(await pageWidth(admin.page)).toBeLessThanOrEqual(375);
    expect(
      await admin.page.evaluate(`[...document.querySelectorAll('.users [data-label]')]
        .filter((cell) => cell.textContent.trim().toLowerCase().startsWith(cell.dataset.label.toLowerCase()))
        .map((cell) => cell.dataset.label + ': ' + cell.textContent)`),
    ).toEqual([]);
    await screenshot(admin.page, 'admin-coverage-375');
    await admin.page.setViewportSize({ width: 1280, height: 800 });
    await admin.page.getByLabel('Show').selectOption('');

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
    expect(await row.getByRole('cell').nth(4).textContent()).toBe('App codes');
    await expectNoWrapping(admin.page);
    await submit(admin.page, () => row.getByRole('button', { name: 'Unlock' }).click());
    await expect.poll(() => row.getByRole('cell').nth(4).textContent()).toBe('None');
    expect(await admin.page.getByText(`Unlocked two-factor authentication for ${user}.`).isVisible()).toBe(
      true,
    );
    // The button is gone; the keyboard is on the row's next control, not lost to the page.
    expect(await admin.page.evaluate('document.activeElement?.textContent')).toBe('Reset 2FA');
    expect((await t.call('GET', `/v1/users/${user}/two-factor`)).json.locked).toBe(false);

    // The emergency reset, with a reason.
    expect(await row.getByRole('cell').first().textContent()).toBe('On');
    await row.getByRole('button', { name: 'Reset 2FA' }).click();
    const reset = admin.page.getByRole('dialog', { name: `Reset two-factor authentication for ${user}` });
    const confirmReset = reset.getByRole('button', { name: 'Reset two-factor authentication' });
    await confirmReset.click();
    expect(await reset.getByText('Say why, for the audit history.').isVisible()).toBe(true);
    expect(await announced(admin.page)).toContain('Say why, for the audit history.');
    expect(await reset.getByLabel('Reason').getAttribute('aria-invalid')).toBe('true');
    await screenshot(admin.page, 'admin-reset-reason-missing');
    const reason = 'lost phone; identity checked, ticket 4711';
    await reset.getByLabel('Reason').fill(reason);
    await screenshot(admin.page, 'admin-reset');
    await submit(admin.page, () => confirmReset.click());
    await expect.poll(() => admin.page.getByRole('dialog').count()).toBe(0);
    expect(await row.getByRole('cell').first().textContent()).toBe('Off');
    // Nothing is left to reset: not offered again.
    expect(await row.getByRole('button').count()).toBe(0);
    expect(await admin.page.getByText(`Two-factor authentication was reset for ${user}`).isVisible()).toBe(
      true,
    );
    await screenshot(admin.page, 'admin-after-reset');
    expect((await t.call('GET', `/v1/users/${user}/two-factor`)).json.status).toBe('disabled');
    await expect
      .poll(() => auditRecord(t, user, 'AdminReset'))
      .toMatchObject({ actor: { role: 'admin', id: 'admin' }, details: { reason } });

    // The user, at the next page load, is led into setup: no grace after a reset, and no Account
    // page by any address until it is done.
    await carol.page.goto('/');
    await expectRequiredSetup(
      carol.page,
      'Your administrator requires two-factor authentication for all users, and it is due now',
    );
    await carol.page.goto('/admin');
    await expectRequiredSetup(carol.page, 'it is due now');
    await screenshot(carol.page, 'reset-user-led-into-setup');
    await enrollIn(carol.page, 'reset-user-setup-recovery-codes', 'page');
    await onAccountPage(carol.page);

    // Back as it was, for the other tests: asked too, and said to whom.
    await requireAll.click();
    const stop = admin.page.getByRole('dialog', { name: 'Stop requiring 2FA?' });
    await expect
      .poll(() => stop.getByText(/users? seen without two-factor authentication/).isVisible())
      .toBe(true);
    await submit(admin.page, () => stop.getByRole('button', { name: 'Stop requiring 2FA' }).click());
    await expect.poll(() => requireAll.getAttribute('aria-checked')).toBe('false');
    expectOnly(admin.watch, []);
    expectOnly(carol.watch, ['403 GET /ui/api/admin/users/summary', '403 GET /ui/api/admin/users/summary']);
    await admin.context.close();
    await carol.context.close();
  });

  it('with 2FA required and no grace: a user without it lands in setup, reaches no Account by any address until done', async () => {
    await setPolicy(true, 0);
    try {
      for (const viewport of [
        { width: 1280, height: 800 },
        { width: 375, height: 740 },
      ]) {
        const user = `dana-${viewport.width}`;
        const { page, watch, context } = await openPage(browser, t.url, viewport);
        await signIn(page, user);
        await expectRequiredSetup(
          page,
          'Your administrator requires two-factor authentication for all users, and it is due now',
        );
        await expect.poll(() => page.getByRole('img', { name: /QR code/ }).isVisible()).toBe(true);
        expect(await pageWidth(page)).toBeLessThanOrEqual(viewport.width);
        await screenshot(page, `required-setup-${viewport.width}`);
        // Account by its address: the setup again.
        await page.goto('/');
        await expectRequiredSetup(page, 'it is due now');
        await enrollIn(page, `required-setup-done-${viewport.width}`, 'page');
        await onAccountPage(page);
        expect(await page.getByText('Two-factor authentication is on.').isVisible()).toBe(true);
        await expect.poll(() => twoFactorSwitch(page).getAttribute('aria-checked')).toBe('true');
        expectOnly(watch, ['403 GET /ui/api/admin/users/summary', '403 GET /ui/api/admin/users/summary']);
        await context.close();
      }
    } finally {
      await setPolicy(false, 0);
    }
  });

  it('with a 72-hour grace: "Remind me later" lets the user in for the session, and past the deadline the setup is forced', async () => {
    await setPolicy(true, 72);
    try {
      const user = 'erin';
      const { page, watch, context } = await openPage(browser, t.url, { width: 1280, height: 800 });
      await signIn(page, user);
      const later = page.getByRole('button', { name: 'Remind me later (3 days left)' });
      await expect.poll(() => later.isVisible()).toBe(true);
      expect(await page.getByRole('button', { name: 'Set up now' }).isVisible()).toBe(true);
      expect(await accountHeading(page).count()).toBe(0);
      await screenshot(page, 'setup-offer');
      await later.click();
      await onAccountPage(page);
      await expect
        .poll(() =>
          page
            .getByText(/turn it on by .+ \(3 days left\)\. After that, you will have to set it up/)
            .isVisible(),
        )
        .toBe(true);
      await screenshot(page, 'account-after-remind-me-later');
      // For this session: the page loads again without asking.
      t.clock.advance(HOUR);
      await page.reload();
      await onAccountPage(page);
      // At the next sign-in, asked again.
      await signOut(page);
      await signIn(page, user);
      await expect
        .poll(() => page.getByRole('button', { name: 'Remind me later (3 days left)' }).isVisible())
        .toBe(true);
      await page.getByRole('button', { name: 'Remind me later (3 days left)' }).click();
      await onAccountPage(page);

      // The deadline passes (the service's clock, not a wait): the setup is due, in this very session.
      t.clock.advance(72 * HOUR);
      await page.reload();
      await expectRequiredSetup(page, 'it is due now');
      await signOut(page);
      await signIn(page, user);
      await expectRequiredSetup(page, 'it is due now');
      expectOnly(watch, ['403 GET /ui/api/admin/users/summary', '403 GET /ui/api/admin/users/summary']);
      await context.close();
    } finally {
      await setPolicy(false, 0);
    }
  });

  it('a shortened grace reaches a user who already chose "Remind me later"', async () => {
    await setPolicy(true, 72);
    try {
      const { page, watch, context } = await openPage(browser, t.url);
      await signIn(page, 'fred');
      await page.getByRole('button', { name: /^Remind me later/ }).click();
      await onAccountPage(page);
      t.clock.advance(2 * HOUR);
      await setPolicy(true, 1);
      await page.reload();
      await expectRequiredSetup(page, 'it is due now');
      expectOnly(watch, ['403 GET /ui/api/admin/users/summary']);
      await context.close();
    } finally {
      await setPolicy(false, 0);
    }
  });

  it('offers "Try again" wherever an error says to try again: the account card and the setup', async () => {
    const { page, watch, context } = await openPage(browser, t.url);
    // The service unavailable for one answer each (as when its store is unreachable).
    const unavailableOnce = async (path: string, method: string) => {
      let failed = false;
      await page.route(`**${path}`, async (route) => {
        if (failed || route.request().method() !== method) return route.continue();
        failed = true;
        await route.fulfill({
          status: 503,
          contentType: 'application/problem+json',
          headers: { 'retry-after': '5' },
          body: JSON.stringify({
            code: 'unavailable',
            status: 503,
            title: 'Unavailable',
            detail: 'try again',
          }),
        });
      });
    };
    await unavailableOnce('/ui/api/account/two-factor', 'GET');
    await signIn(page, 'hal');
    const retry = page.getByRole('button', { name: 'Try again' });
    await expect.poll(() => retry.isVisible()).toBe(true);
    expect(
      await page.getByText('The service is unavailable for a moment. Try again in 5 seconds.').isVisible(),
    ).toBe(true);
    await screenshot(page, 'account-card-load-failed');
    await retry.click();
    await expect.poll(() => twoFactorSwitch(page).isVisible()).toBe(true);

    await unavailableOnce('/ui/api/account/two-factor/enrollment', 'POST');
    await twoFactorSwitch(page).click();
    const dialog = page.getByRole('dialog', { name: 'Set up two-factor authentication' });
    await expect.poll(() => dialog.getByRole('button', { name: 'Try again' }).isVisible()).toBe(true);
    expect(await page.evaluate('document.activeElement?.textContent')).toBe('Try again');
    await screenshot(page, 'setup-start-failed');
    await dialog.getByRole('button', { name: 'Try again' }).click();
    await expect.poll(() => dialog.getByRole('img', { name: /QR code/ }).isVisible()).toBe(true);
    expectOnly(watch, [
      '503 GET /ui/api/account/two-factor',
      '503 POST /ui/api/account/two-factor/enrollment',
    ]);
    await context.close();
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
