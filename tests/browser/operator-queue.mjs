#!/usr/bin/env node
// End-to-end test of the operator web queue, in headless Debian Chromium.
//
//   node operator-queue.mjs BASE_URL EMAIL PASSWORD SCREENSHOT_DIR
//
// Logs in at BASE_URL/operator/login, checks the queue, opens the first
// ticket, acknowledges it, resolves it with a note, and screenshots each step
// (queue.png, ticket.png, resolved.png, queue-tablet.png) into SCREENSHOT_DIR.
// Any console error or uncaught page error fails the run. On failure it prints
// why, saves SCREENSHOT_DIR/failure.png and exits 1; on success prints `ok`.
// Each step is bounded by STEP_TIMEOUT_MS and the whole run by RUN_TIMEOUT_MS.
// The first ticket of the queue must have status `new` (use fresh data). Map tiles from
// any other host than BASE_URL are answered with a blank tile (no network needed).
//
// Run ./setup.sh first (Debian chromium + npm ci). Progress goes to stderr.

import {
  browserContext,
  expectVisible,
  fail,
  finish,
  launch,
  log,
  newPage,
  noConsoleErrors,
  pathOf,
  shot,
  startRun,
  step,
  submit,
  text,
  url,
} from './harness.mjs';

const { email, password } = startRun('operator-queue', 75_000);
const TABLET = { width: 768, height: 1024 };
const NOTE = 'Conteneur vidé';
// A 1×1 transparent PNG.
const BLANK_TILE = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==',
  'base64',
);

/** Waits until #status has `data-status` = `want`. */
async function expectStatus(page, want) {
  try {
    await page.waitForFunction((w) => document.querySelector('#status')?.dataset.status === w, want, { timeout: 5_000 });
  } catch {
    const got = await page.locator('#status').getAttribute('data-status').catch(() => null);
    fail(`#status on ${pathOf(page.url())} is ${JSON.stringify(got)}, expected ${JSON.stringify(want)}`);
  }
}

async function main() {
  const page = await step('prepare', () => launch('fr-FR'));
  const base = url('');
  await browserContext().route(
    (u) => !u.href.startsWith(base),
    (route) => route.fulfill({ status: 200, contentType: 'image/png', body: BLANK_TILE }),
  );

  await step('log in', async () => {
    const res = await page.goto(url('/operator/login'), { waitUntil: 'load' });
    if (!res) fail('no response for /operator/login');
    if (!res.ok()) fail(`GET /operator/login answered ${res.status()}`);
    await expectVisible(page, 'input#email');
    await expectVisible(page, 'input#password');
    await page.fill('input#email', email);
    await page.fill('input#password', password);
    // Scoped to the login form: other forms (e.g. a log-out button) may share the page.
    await submit(page, 'form:has(input#email)');
    await page
      .waitForURL((u) => u.pathname.endsWith('/operator/queue'), { timeout: 5_000 })
      .catch(() => fail(`after logging in the page is ${pathOf(page.url())}, expected /operator/queue (wrong credentials?)`));
  });

  let ticketPath;
  await step('queue', async () => {
    await expectVisible(page, 'table#queue');
    const lang = await page.locator('html').getAttribute('lang');
    if (!lang || !lang.trim()) fail('<html> has no lang attribute on /operator/queue');
    const rows = page.locator('table#queue tr.ticket');
    const n = await rows.count();
    if (n < 1) fail('table#queue has no tr.ticket row (seed at least one ticket)');
    for (let i = 0; i < n; i++) {
      const row = rows.nth(i);
      const href = await row.locator('a.open').first().getAttribute('href').catch(() => null);
      if (!href) fail(`row ${i + 1} of table#queue has no a.open link`);
      if (!/\/operator\/tickets\/[^/?#]+$/.test(pathOf(new URL(href, page.url()).href))) {
        fail(`row ${i + 1}: a.open links to ${href}, expected /operator/tickets/{id}`);
      }
      if ((await row.locator('td.status').count()) !== 1) fail(`row ${i + 1} of table#queue has no td.status cell`);
    }
    log(`  ${n} ticket(s) in the queue, lang="${lang}"`);
    await shot(page, 'queue.png');
  });

  await step('open the first ticket', async () => {
    const link = page.locator('table#queue tr.ticket').first().locator('a.open').first();
    await link.click();
    await page
      .waitForURL((u) => /\/operator\/tickets\/[^/]+$/.test(u.pathname))
      .catch(() => fail(`clicking a.open led to ${pathOf(page.url())}, expected /operator/tickets/{id}`));
    await page.waitForLoadState('load');
    ticketPath = pathOf(page.url());
    const reference = await text(page, '#reference');
    if (!reference) fail('#reference is empty');
    await expectVisible(page, '#map');
    await page.waitForSelector('#map .leaflet-tile-loaded').catch(() => fail('#map drew no tile'));
    if ((await page.locator('ol#history').count()) !== 1) fail('ol#history not found');
    log(`  ticket ${ticketPath}, reference ${reference}`);
    await shot(page, 'ticket.png');
  });

  await step('acknowledge', async () => {
    const status = await page.locator('#status').getAttribute('data-status');
    if (status !== 'new') {
      fail(`#status of the first ticket is ${JSON.stringify(status)}, expected "new" (the test needs a fresh ticket first in the queue)`);
    }
    await submit(page, 'form#acknowledge');
    if (pathOf(page.url()) !== ticketPath) {
      fail(`after acknowledging the page is ${pathOf(page.url())}, expected ${ticketPath}`);
    }
    await expectStatus(page, 'acknowledged');
  });

  await step('resolve', async () => {
    const note = page.locator('form#resolve textarea[name=note]');
    if ((await note.count()) === 0) fail('form#resolve textarea[name=note] not found on the acknowledged ticket');
    await note.fill(NOTE);
    await submit(page, 'form#resolve');
    if (pathOf(page.url()) !== ticketPath) {
      fail(`after resolving the page is ${pathOf(page.url())}, expected ${ticketPath}`);
    }
    await expectStatus(page, 'resolved');
    const items = page.locator('ol#history > li');
    const n = await items.count();
    if (n === 0) fail('ol#history has no li entry after resolving');
    const last = (await items.nth(n - 1).textContent()).trim().replace(/\s+/g, ' ');
    if (!last.includes(NOTE)) fail(`the last ol#history entry does not carry the note: ${JSON.stringify(last)}`);
    log(`  last history entry: ${last}`);
    await shot(page, 'resolved.png');
  });

  await step('queue at tablet size', async () => {
    const tablet = await newPage('tablet');
    await tablet.setViewportSize(TABLET);
    const res = await tablet.goto(url('/operator/queue'), { waitUntil: 'load' });
    if (!res || !res.ok()) fail(`GET /operator/queue answered ${res ? res.status() : 'nothing'}`);
    if (!pathOf(tablet.url()).endsWith('/operator/queue')) fail(`tablet landed on ${pathOf(tablet.url())}, expected /operator/queue`);
    await expectVisible(tablet, 'table#queue');
    const overflow = await tablet.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    if (overflow > 0) log(`  note: the queue is ${overflow}px wider than the 768px tablet viewport`);
    await shot(tablet, 'queue-tablet.png');
  });

  await noConsoleErrors();
}

await finish(main);
