import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
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
  await context.addInitScript({ content: RECORD_ANNOUNCEMENTS });
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

/**
 * Runs in every page before its own script: keeps what a screen reader would announce, i.e.
 * text that changes inside a live region (role alert, status or log, or aria-live other than
 * off), and alerts put on the page with their text. A timer (role=timer) is not announced.
 * (JavaScript in a string: the tests are compiled without the DOM's types.)
 */
const RECORD_ANNOUNCEMENTS = `(() => {
  const heard = [];
  window.__announced = heard;
  const announcing = (element) => {
    const role = element.getAttribute('role');
    const live = element.getAttribute('aria-live');
    return role === 'alert' || role === 'status' || role === 'log' || (live !== null && live !== 'off');
  };
  const regionOf = (node) => {
    for (let at = node instanceof Element ? node : node.parentElement; at !== null; at = at.parentElement) {
      if (at.getAttribute('role') === 'timer') return null;
      if (announcing(at)) return at;
    }
    return null;
  };
  const hear = (text) => {
    const said = (text ?? '').replace(/\\s+/g, ' ').trim();
    if (said !== '' && heard.at(-1) !== said) heard.push(said);
  };
  new MutationObserver((records) => {
    for (const record of records) {
      const region = regionOf(record.target);
      if (region !== null) {
        hear(region.textContent);
        continue;
      }
      for (const added of record.addedNodes) {
        if (!(added instanceof Element)) continue;
        for (const alert of [added, ...added.querySelectorAll('[role="alert"]')]) {
          if (alert.getAttribute('role') === 'alert') hear(alert.textContent);
        }
      }
    }
  }).observe(document, { subtree: true, childList: true, characterData: true });
})();`;

/** What the page has announced so far (see RECORD_ANNOUNCEMENTS). */
export const announced = (page: Page): Promise<string[]> =>
  page.evaluate('[...window.__announced]') as Promise<string[]>;

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

const AXE_RUN = `axe.run(document, {
  runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'] },
}).then((results) => results.violations.map((v) =>
  v.id + ': ' + v.help + ' (' + v.nodes.map((n) => n.target.join(' ')).join(', ') + ')'))`;

/** Every error on screen, unless it is in a live region and (a field's) marks its field invalid. */
const SILENT_ERRORS = `(() => {
  const visible = (el) => el.getClientRects().length > 0;
  const live = (el) =>
    el.closest('[role="alert"], [role="status"], [role="timer"], [aria-live]:not([aria-live="off"])');
  const problems = [];
  for (const error of document.querySelectorAll('.field-error, .message.error')) {
    const text = (error.textContent ?? '').trim();
    if (text === '' || !visible(error)) continue;
    if (live(error) === null) problems.push('not in a live region: ' + text);
    if (!error.classList.contains('field-error')) continue;
    const field = document.querySelector('[aria-describedby~="' + error.id + '"]');
    if (field === null) problems.push('describes no field: ' + text);
    else if (field.getAttribute('aria-invalid') !== 'true') problems.push('field not aria-invalid: ' + text);
  }
  return problems;
})()`;

/**
 * axe-core's WCAG 2.2 A/AA rules and best practices over the page as it is, and what axe
 * cannot know: every error on screen is in a live region (so it was announced, not only
 * drawn), and a field's error marks its field aria-invalid and describes it. axe is evaluated
 * through the test's own channel, so the page's Content-Security-Policy stays as served.
 */
export async function expectAccessible(page: Page, name: string): Promise<void> {
  if ((await page.evaluate('typeof window.axe')) === 'undefined') await page.evaluate(AXE_SOURCE);
  expect(await page.evaluate(AXE_RUN), `axe on ${name}`).toEqual([]);
  expect(await page.evaluate(SILENT_ERRORS), `errors announced on ${name}`).toEqual([]);
}

let shot = 0;
/** Writes `test-output/ui/NN-name.png`, after checking the screen's accessibility (unless told not to). */
export async function screenshot(
  page: Page,
  name: string,
  options: { readonly check?: boolean } = {},
): Promise<void> {
  if (options.check !== false) await expectAccessible(page, name);
  shot += 1;
  await page.screenshot({
    path: join(SCREENSHOTS, `${String(shot).padStart(2, '0')}-${name}.png`),
    fullPage: true,
  });
}
