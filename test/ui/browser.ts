import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { expect } from 'vitest';

/** Debian's Chromium (`npx playwright install` cannot download here), or CHROMIUM_PATH. */
export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

/** Why the browser tests cannot run here, or null when they can. */
export const browserMissing: string | null = existsSync(CHROMIUM)
  ? null
  : `${CHROMIUM} is missing (apt-get install -y chromium)`;

const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Git ignores it: screenshots of every step, to look at after a run. */
export const SCREENSHOTS = join(import.meta.dirname, '..', '..', 'test-output', 'ui');

/** Chromium, with the screenshots of an earlier run cleared away. */
export function launchBrowser(): Promise<Browser> {
  rmSync(SCREENSHOTS, { recursive: true, force: true });
  mkdirSync(SCREENSHOTS, { recursive: true });
  return chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
}

/** What a page did that a test must account for. */
export type PageWatch = {
  /** console errors and warnings of the page's own, uncaught exceptions, requests elsewhere */
  readonly problems: string[];
  /** every answer of 400 or more, as `status METHOD /path` */
  readonly refusals: string[];
  /** Chromium's own network log lines for those answers ("Failed to load resource: …") */
  readonly networkLog: string[];
};

/**
 * Chromium writes a console line for every answer of 400 or more ("Failed to load resource: the
 * server responded with a status of 422"), whatever the page does with it. Those are kept
 * apart, so a test can check each against an answer it provoked (a wrong code); anything else
 * on the console is a problem.
 */
const NETWORK_LOG = /^Failed to load resource: the server responded with a status of (\d{3})\b/;

/**
 * A fresh browser profile on the service's origin, that may use the clipboard and download,
 * and that records what a page must never do: write to the console, throw, or load anything
 * from another origin.
 */
export async function openPage(
  browser: Browser,
  baseUrl: string,
  viewport: { width: number; height: number } = { width: 1024, height: 720 },
): Promise<{ context: BrowserContext; page: Page; watch: PageWatch }> {
  const origin = new URL(baseUrl).origin;
  const context = await browser.newContext({ viewport, acceptDownloads: true, baseURL: baseUrl });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin });
  const page = await context.newPage();
  const watch: PageWatch = { problems: [], refusals: [], networkLog: [] };
  page.on('console', (message) => {
    if (message.type() !== 'error' && message.type() !== 'warning') return;
    const network = NETWORK_LOG.exec(message.text());
    if (network !== null) watch.networkLog.push(network[1]!);
    else watch.problems.push(`console ${message.type()}: ${message.text()}`);
  });
  page.on('pageerror', (error) => watch.problems.push(`uncaught: ${error.message}`));
  page.on('response', (response) => {
    if (response.status() >= 400) {
      watch.refusals.push(
        `${response.status()} ${response.request().method()} ${new URL(response.url()).pathname}`,
      );
    }
  });
  context.on('request', (request) => {
    const url = new URL(request.url());
    if (url.protocol === 'data:') return;
    if (url.origin !== origin) watch.problems.push(`request to another origin: ${request.url()}`);
  });
  return { context, page, watch };
}

/**
 * Nothing on the console but Chromium's line for each refused answer, and exactly the refused
 * answers the test provoked.
 */
export function expectOnly(watch: PageWatch, provoked: readonly string[]): void {
  expect(watch.problems).toEqual([]);
  expect(watch.refusals).toEqual(provoked);
  expect([...watch.networkLog].sort()).toEqual(watch.refusals.map((r) => r.slice(0, 3)).sort());
}

let shot = 0;
/** Writes `test-output/ui/NN-name.png`. */
export async function screenshot(page: Page, name: string): Promise<void> {
  shot += 1;
  await page.screenshot({
    path: join(SCREENSHOTS, `${String(shot).padStart(2, '0')}-${name}.png`),
    fullPage: true,
  });
}
