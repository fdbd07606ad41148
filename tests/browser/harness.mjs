// Shared scaffolding of the browser tests (stats-pages.mjs, operator-queue.mjs): argument
// parsing, headless Debian Chromium through playwright-core, bounded steps, console and page
// errors collected from every watched page, screenshots, and on failure a report with
// failure.png and exit 1 (bounded by the run's watchdog). One run per process.

import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

let chromium;
try {
  ({ chromium } = await import('playwright-core'));
} catch (e) {
  process.stderr.write(`FAIL: cannot load playwright-core (run tests/browser/setup.sh): ${e.message.split('\n')[0]}\n`);
  process.exit(1);
}


const CHROMIUM = '/usr/bin/chromium';
export const STEP_TIMEOUT_MS = 15_000;
const EXIT_GRACE_MS = 10_000; // reporting a failure is capped at this
export const DESKTOP = { width: 1280, height: 800 };
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

export class TestFailure extends Error {}

export function fail(message) {
  throw new TestFailure(message);
}

export function log(message) {
  process.stderr.write(`${name}: ${message}\n`);
}

export const pathOf = (u) => {
  try {
    return new URL(u).pathname;
  } catch {
    return u;
  }
};

// State shared with the failure handler.
let name = 'browser-test';
let base = '';
let shotDir = '';
let watchdog = null;
let context = null;
let activePage = null;
let userDataDir = null;
let currentStep = 'start';
const problems = []; // console errors and page errors
let finished = false;

// Console errors a run expects (e.g. failed loads while it holds the browser offline).
const expected = [];

/** From now on, console errors matching `pattern` are expected, not problems. */
export function expectConsoleErrors(pattern) {
  expected.push(pattern);
}

function watch(page, label) {
  page.on('console', (msg) => {
    if (msg.type() !== 'error') return;
    if (expected.some((p) => p.test(msg.text()))) return;
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
export async function step(name, fn) {
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

export async function withTimeout(promise, ms) {
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

export async function text(page, selector) {
  const loc = page.locator(selector);
  const n = await loc.count();
  if (n === 0) fail(`${selector} not found on ${pathOf(page.url())}`);
  if (n > 1) fail(`${selector} matches ${n} elements on ${pathOf(page.url())}, expected one`);
  return (await loc.textContent()).trim();
}

export async function expectVisible(page, selector) {
  try {
    await page.locator(selector).first().waitFor({ state: 'visible', timeout: STEP_TIMEOUT_MS });
  } catch {
    fail(`${selector} not visible on ${pathOf(page.url())}`);
  }
}

/** Waits until the text of `selector` is `want`; fails with the text it has. */
export async function expectText(page, selector, want) {
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
export async function submit(page, formSelector) {
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

export async function shot(page, name) {
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
  process.stderr.write(`${name}: FAIL at step "${currentStep}": ${message}\n`);
  if (activePage) {
    process.stderr.write(`${name}:   page: ${activePage.url()}\n`);
  }
  for (const p of problems) process.stderr.write(`${name}:   ${p}\n`);
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
      saved ? `${name}:   saved ${file}\n` : `${name}:   could not save failure.png\n`,
    );
  }
  await withTimeout(cleanup(), 6_000);
  process.exit(1);
}

/** `BASE_URL + p`. */
export const url = (p) => `${base}${p}`;

/**
 * Starts the run of script `scriptName`: reads BASE_URL EMAIL PASSWORD SCREENSHOT_DIR from
 * the command line (exits 1 with the usage otherwise) and arms the watchdog that fails the
 * whole run after `runTimeoutMs`. Returns the email and password.
 */
export function startRun(scriptName, runTimeoutMs) {
  name = scriptName;
  const args = process.argv.slice(2);
  if (args.length !== 4 || args.some((a) => a === '')) {
    process.stderr.write(
      `usage: node ${name}.mjs BASE_URL EMAIL PASSWORD SCREENSHOT_DIR\n` +
        `  e.g. node ${name}.mjs http://127.0.0.1:8080 agent@example.org secret /artifacts/browser\n`,
    );
    process.exit(1);
  }
  const [baseArg, emailArg, passwordArg, screenshotArg] = args;
  try {
    const parsed = new URL(baseArg);
    if (!/^https?:$/.test(parsed.protocol)) throw new Error('not http(s)');
    base = baseArg.replace(/\/+$/, '');
  } catch {
    process.stderr.write(`${name}: FAIL: BASE_URL is not an http(s) URL: ${baseArg}\n`);
    process.exit(1);
  }
  shotDir = path.resolve(screenshotArg);
  watchdog = setTimeout(() => {
    reportFailure(`the whole run took longer than ${runTimeoutMs / 1000} s`);
  }, runTimeoutMs);
  return { email: emailArg, password: passwordArg };
}

/** Starts Chromium (a fresh profile) and watches its first page, which it returns. */
export async function launch(locale) {
  await mkdir(shotDir, { recursive: true });
  userDataDir = await mkdtemp(path.join(tmpdir(), 'balagh-chromium-'));
  try {
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: DESKTOP,
      locale,
      timeout: STEP_TIMEOUT_MS,
    });
  } catch (e) {
    fail(`could not start ${CHROMIUM} (run tests/browser/setup.sh): ${e.message.split('\n')[0]}`);
  }
  context.setDefaultTimeout(STEP_TIMEOUT_MS);
  context.setDefaultNavigationTimeout(STEP_TIMEOUT_MS);
  activePage = context.pages()[0] ?? (await context.newPage());
  watch(activePage, 'desktop');
  return activePage;
}

/** The browser context (for requests that share the pages' cookies). */
export function browserContext() {
  return context;
}

/** A new page of the browser, watched and shown in the failure report from now on. */
export async function newPage(label) {
  const page = await context.newPage();
  watch(page, label);
  activePage = page;
  return page;
}

/** The last step: lets late errors (deferred scripts) arrive, then fails on any. */
export async function noConsoleErrors() {
  await step('console and page errors', async () => {
    await activePage.waitForTimeout(250);
    if (problems.length) fail(`${problems.length} console/page error(s) during the run`);
  });
}

/** Runs `main`; prints `ok` and exits 0, or reports the failure and exits 1. */
export async function finish(main) {
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
}

// --- accessibility -----------------------------------------------------------------------
// axe-core (from npm, tests/browser/node_modules) injected through the DevTools protocol,
// which the pages' strict CSP does not govern, so the pages keep `script-src 'self'`.
let axeSource = null;

/**
 * Runs axe-core (WCAG 2.0–2.2 A and AA rules) on the page as it is now and fails the step
 * on any serious or critical violation, naming the rule and the first elements it hit.
 * Returns the number of violations of lower impact (for the run's log).
 */
export async function checkAccessibility(page, label) {
  if (axeSource === null) {
    const { readFile } = await import('node:fs/promises');
    const here = path.dirname(new URL(import.meta.url).pathname);
    axeSource = await readFile(path.join(here, 'node_modules/axe-core/axe.min.js'), 'utf8');
  }
  await page.evaluate(axeSource);
  const result = await page.evaluate(() =>
    // eslint-disable-next-line no-undef
    axe.run(document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'] },
      resultTypes: ['violations'],
    }),
  );
  const severe = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  if (severe.length > 0) {
    const lines = severe.map(
      (v) => `${v.impact} ${v.id}: ${v.help} — ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(' | ')}`,
    );
    fail(`axe-core on ${label} (${pathOf(page.url())}):\n  ${lines.join('\n  ')}`);
  }
  log(`axe-core ${label}: 0 serious or critical, ${result.violations.length} minor`);
  return result.violations.length;
}
