import type { Page } from 'playwright-core';
import { expect } from 'vitest';

/*
 * The steps every browser journey takes, as a person takes them: the demo sign-in, the second
 * step with a code, signing out.
 */

export async function signIn(page: Page, userId: string): Promise<void> {
  await page.goto('/');
  await page.getByLabel('User id').fill(userId);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

export async function signOut(page: Page): Promise<void> {
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect.poll(() => page.getByRole('heading', { name: 'Sign in' }).isVisible()).toBe(true);
}

export async function verifyWithCode(page: Page, code: string): Promise<void> {
  await expect
    .poll(() => page.getByRole('heading', { name: 'Two-step verification' }).isVisible())
    .toBe(true);
  await page.getByLabel('Six-digit code').fill(code);
  await page.getByRole('button', { name: 'Verify', exact: true }).click();
}
