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
// The first ticket of the queue must have status `new` (use fresh data).
//
// Run ./setup.sh first (Debian chromium + npm ci). Progress goes to stderr.

import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

let chromium;
try {
  ({ chromium } = await import('playwright-core'));
} catch (e) {
  process.stderr.write(`operator-queue: FAIL: cannot load playwright-core (run tests/browser/setup.sh): ${e.message.split('\n')[0]}\n`);
  process.exit(1);
}

const CHROMIUM = '/usr/bin/chromium';
const STEP_TIMEOUT_MS = 15_000;
const RUN_TIMEOUT_MS = 75_000; // then fail; reporting is capped at EXIT_GRACE_MS
const EXIT_GRACE_MS = 10_000; // so the process is gone well within 90 s
const DESKTOP = { width: 1280, height: 800 };
const TABLET = { width: 768, height: 1024 };
const NOTE = 'Conteneur vidé';
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

class TestFailure extends Error {}

function fail(message) {
  throw new TestFailure(message);
}

function log(message) {
  process.stderr.write(`operator-queue: ${message}\n`);
}

const args = process.argv.slice(2);
if (args.length !== 4 || args.some((a) => a === '')) {
  process.stderr.write(
    'usage: node operator-queue.mjs BASE_URL EMAIL PASSWORD SCREENSHOT_DIR\n' +
      '  e.g. node operator-queue.mjs http://127.0.0.1:8080 agent@example.org secret /artifacts/browser\n',
  );
  process.exit(1);
}
const [baseArg, email, password, screenshotArg] = args;
let base;
try {
  const parsed = new URL(baseArg);
  if (!/^https?:$/.test(parsed.protocol)) throw new Error('not http(s)');
  base = baseArg.replace(/\/+$/, '');
} catch {
  process.stderr.write(`operator-queue: FAIL: BASE_URL is not an http(s) URL: ${baseArg}\n`);
  process.exit(1);
}
const shotDir = path.resolve(screenshotArg);
const url = (p) => `${base}${p}`;
const pathOf = (u) => {
  try {
    return new URL(u).pathname;
  } catch {
    return u;
  }
};

// State shared with the failure handler.
let context = null;
let activePage = null;
let userDataDir = null;
let currentStep = 'start';
const problems = []; // console errors and page errors
let finished = false;

function watch(page, label) {
  page.on('console', (msg) => {
    if (msg.type() !== 'error') return;
    const loc = msg.location();
    const where = loc && loc.url ? ` (${loc.url}:${loc.lineNumber})` : '';
    problems.push(`[${label}] console.error on ${pathOf(page.url())}: ${msg.text()}${where}`);
  });
  page.on('pageerror', (err) => {
    problems.push(`[${label}] page error on ${pathOf(page.url())}: ${err && err.message ? err.message : err}`);
  });
  page.on('crash', () => problems.push(`[${label}] page crashed on ${pathOf(page.url())}`));
  page.setDefaultTimeout(STEP_TIMEOUT_MS);
  page.setDefaultNavigationTimeout(STEP_TIMEOUT_MS);
}

/** Runs one step; fails it if it takes longer than STEP_TIMEOUT_MS. */
async function step(name, fn) {
  currentStep = name;
  log(`step: ${name}`);
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(
      () => reject(new TestFailure(`timed out after ${STEP_TIMEOUT_MS / 1000} s`)),
      STEP_TIMEOUT_MS,
    );
  });
  try {
    const result = await Promise.race([fn(), timeout]);
    if (problems.length) fail(`${problems.length} console/page error(s) so far`);
    return result;
  } finally {
    clearTimeout(timer);
  }
}

async function withTimeout(promise, ms) {
  let timer;
  try {
    return await Promise.race([
      promise,
      new Promise((resolve) => {
        timer = setTimeout(resolve, ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

async function text(page, selector) {
  const loc = page.locator(selector);
  const n = await loc.count();
  if (n === 0) fail(`${selector} not found on ${pathOf(page.url())}`);
  if (n > 1) fail(`${selector} matches ${n} elements on ${pathOf(page.url())}, expected one`);
  return (await loc.textContent()).trim();
}

async function expectVisible(page, selector) {
  try {
    await page.locator(selector).first().waitFor({ state: 'visible', timeout: STEP_TIMEOUT_MS });
  } catch {
    fail(`${selector} not visible on ${pathOf(page.url())}`);
  }
}

/** Waits until the text of `selector` is `want`; fails with the text it has. */
async function expectText(page, selector, want) {
  try {
    await page.waitForFunction(
      ([sel, w]) => {
        const el = document.querySelector(sel);
        return el !== null && el.textContent.trim() === w;
      },
      [selector, want],
      { timeout: 5_000 },
    );
  } catch {
    const el = page.locator(selector);
    const got = (await el.count()) ? JSON.stringify((await el.first().textContent()).trim()) : 'no such element';
    fail(`${selector} on ${pathOf(page.url())} is ${got}, expected ${JSON.stringify(want)}`);
  }
}

/** Clicks the submit button of `formSelector` and waits for the page it leads to. */
async function submit(page, formSelector) {
  const button = page.locator(`${formSelector} button[type=submit]`);
  const n = await button.count();
  if (n === 0) fail(`${formSelector} button[type=submit] not found on ${pathOf(page.url())}`);
  const navigated = page.waitForEvent('framenavigated', {
    predicate: (frame) => frame === page.mainFrame(),
    timeout: STEP_TIMEOUT_MS,
  });
  await button.first().click();
  try {
    await navigated;
  } catch {
    fail(`submitting ${formSelector} did not load a new page`);
  }
  await page.waitForLoadState('load');
}

async function shot(page, name) {
  const file = path.join(shotDir, name);
  await page.screenshot({ path: file, fullPage: true, timeout: STEP_TIMEOUT_MS });
  log(`  saved ${file}`);
}

async function cleanup() {
  if (context) {
    await withTimeout(context.close().catch(() => {}), 5_000);
    context = null;
  }
  if (userDataDir) {
    await rm(userDataDir, { recursive: true, force: true }).catch(() => {});
    userDataDir = null;
  }
}

async function reportFailure(message) {
  if (finished) return;
  finished = true;
  // Whatever hangs below (screenshot, browser shutdown), exit in time.
  setTimeout(() => process.exit(1), EXIT_GRACE_MS).unref();
  process.stderr.write(`operator-queue: FAIL at step "${currentStep}": ${message}\n`);
  if (activePage) {
    process.stderr.write(`operator-queue:   page: ${activePage.url()}\n`);
  }
  for (const p of problems) process.stderr.write(`operator-queue:   ${p}\n`);
  if (activePage && !activePage.isClosed()) {
    const file = path.join(shotDir, 'failure.png');
    let saved = await withTimeout(
      activePage
        .screenshot({ path: file, fullPage: true, timeout: 4_000 })
        .then(() => true)
        .catch(() => false),
      5_000,
    );
    if (!saved) {
      // A page stuck loading can block Playwright's screenshot; ask the browser directly.
      saved = await withTimeout(
        (async () => {
          const cdp = await context.newCDPSession(activePage);
          await cdp.send('Page.stopLoading').catch(() => {});
          const { data } = await cdp.send('Page.captureScreenshot', { format: 'png' });
          await writeFile(file, Buffer.from(data, 'base64'));
          return true;
        })().catch(() => false),
        4_000,
      );
    }
    process.stderr.write(
      saved ? `operator-queue:   saved ${file}\n` : 'operator-queue:   could not save failure.png\n',
    );
  }
  await withTimeout(cleanup(), 6_000);
  process.exit(1);
}

const watchdog = setTimeout(() => {
  reportFailure(`the whole run took longer than ${RUN_TIMEOUT_MS / 1000} s`);
}, RUN_TIMEOUT_MS);

async function main() {
  await step('prepare', async () => {
    await mkdir(shotDir, { recursive: true });
    userDataDir = await mkdtemp(path.join(tmpdir(), 'balagh-chromium-'));
    try {
      context = await chromium.launchPersistentContext(userDataDir, {
        executablePath: CHROMIUM,
        headless: true,
        args: CHROMIUM_ARGS,
        viewport: DESKTOP,
        locale: 'fr-FR',
        timeout: STEP_TIMEOUT_MS,
      });
    } catch (e) {
      fail(`could not start ${CHROMIUM} (run tests/browser/setup.sh): ${e.message.split('\n')[0]}`);
    }
    context.setDefaultTimeout(STEP_TIMEOUT_MS);
    context.setDefaultNavigationTimeout(STEP_TIMEOUT_MS);
    activePage = context.pages()[0] ?? (await context.newPage());
    watch(activePage, 'desktop');
  });
  const page = activePage;

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
    const svg = await page.locator('#map').evaluate((el) => el.tagName.toLowerCase() === 'svg' || el.querySelector('svg') !== null);
    if (!svg) fail('#map holds no inline <svg>');
    if ((await page.locator('ol#history').count()) !== 1) fail('ol#history not found');
    log(`  ticket ${ticketPath}, reference ${reference}`);
    await shot(page, 'ticket.png');
  });

  await step('acknowledge', async () => {
    const status = await text(page, '#status');
    if (status !== 'new') {
      fail(`#status of the first ticket is ${JSON.stringify(status)}, expected "new" (the test needs a fresh ticket first in the queue)`);
    }
    await submit(page, 'form#acknowledge');
    if (pathOf(page.url()) !== ticketPath) {
      fail(`after acknowledging the page is ${pathOf(page.url())}, expected ${ticketPath}`);
    }
    await expectText(page, '#status', 'acknowledged');
  });

  await step('resolve', async () => {
    const note = page.locator('form#resolve textarea[name=note]');
    if ((await note.count()) === 0) fail('form#resolve textarea[name=note] not found on the acknowledged ticket');
    await note.fill(NOTE);
    await submit(page, 'form#resolve');
    if (pathOf(page.url()) !== ticketPath) {
      fail(`after resolving the page is ${pathOf(page.url())}, expected ${ticketPath}`);
    }
    await expectText(page, '#status', 'resolved');
    const items = page.locator('ol#history > li');
    const n = await items.count();
    if (n === 0) fail('ol#history has no li entry after resolving');
    const last = (await items.nth(n - 1).textContent()).trim().replace(/\s+/g, ' ');
    if (!/resolve/i.test(last)) fail(`the last ol#history entry does not mention "resolve": ${JSON.stringify(last)}`);
    log(`  last history entry: ${last}`);
    await shot(page, 'resolved.png');
  });

  await step('queue at tablet size', async () => {
    const tablet = await context.newPage();
    watch(tablet, 'tablet');
    activePage = tablet;
    await tablet.setViewportSize(TABLET);
    const res = await tablet.goto(url('/operator/queue'), { waitUntil: 'load' });
    if (!res || !res.ok()) fail(`GET /operator/queue answered ${res ? res.status() : 'nothing'}`);
    if (!pathOf(tablet.url()).endsWith('/operator/queue')) fail(`tablet landed on ${pathOf(tablet.url())}, expected /operator/queue`);
    await expectVisible(tablet, 'table#queue');
    const overflow = await tablet.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    if (overflow > 0) log(`  note: the queue is ${overflow}px wider than the 768px tablet viewport`);
    await shot(tablet, 'queue-tablet.png');
  });

  await step('console and page errors', async () => {
    // Let late errors (e.g. deferred scripts) arrive before judging.
    await activePage.waitForTimeout(250);
    if (problems.length) fail(`${problems.length} console/page error(s) during the run`);
  });
}

try {
  await main();
  clearTimeout(watchdog);
  await withTimeout(cleanup(), 6_000);
  finished = true;
  process.stdout.write('ok\n');
  process.exit(0);
} catch (e) {
  clearTimeout(watchdog);
  // Playwright errors carry a multi-line call log: keep the first line, without colours.
  const raw = e instanceof TestFailure ? e.message : String(e && e.message ? e.message : e);
  const message = raw.split('\n')[0].replace(/\u001b\[[0-9;]*m/g, '');
  await reportFailure(message);
}
