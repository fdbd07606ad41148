#!/usr/bin/env node
// End-to-end test of a reception-area screen (issue 21), in headless Debian Chromium.
//
//   BALAGH_STAFF_TOKEN=… node screen.mjs BASE_URL LANDSCAPE_PATH PORTRAIT_PATH SCREENSHOT_DIR
//
// LANDSCAPE_PATH and PORTRAIT_PATH are the secret paths (`/screens/scr_…`) of two screens
// near a current notice; the token is a staff administrator's API token (to publish and
// clear an urgent notice). The intervals are shortened through the page's URL (rotate 2 s,
// poll 2 s, stale after 4 s) so that nothing waits a real minute.
//
// At 1920 × 1080: the French notices panel, then the services and how-to panels (QR code
// drawn), Arabic right to left, English; body text at least 48 px; axe-core clean (fr, ar,
// urgent); Tab reaches the skip link then the listen button, which speaks the current
// language's text (speechSynthesis recorded); an urgent notice published through the API
// takes over the whole screen and leaves when staff clear it; a network cut keeps the last
// data and says it is stale after the interval, then recovers. In portrait 1080 × 1920:
// French and Arabic, axe-core clean; revoked by staff, it stops showing its data. The page's clock is Playwright's, paused: the test moves
// it forward step by step, so rotation and polling do not race the checks. Screenshots go to SCREENSHOT_DIR; any console error
// other than the cut's failed requests fails the run.

import {
  checkAccessibility,
  expectConsoleErrors,
  fail,
  finish,
  launch,
  log,
  noConsoleErrors,
  shot,
  startRun,
  step,
  url,
} from './harness.mjs';

const { email: landscapePath, password: portraitPath } = startRun('screen', 240_000);
const token = process.env.BALAGH_STAFF_TOKEN || '';
if (!token) {
  process.stderr.write('screen: FAIL: BALAGH_STAFF_TOKEN is not set\n');
  process.exit(1);
}
const FAST = '?rotate=2&poll=2&stale=4';
const LANDSCAPE = { width: 1920, height: 1080 };
const PORTRAIT = { width: 1080, height: 1920 };

/** Waits until #screen's data attribute `name` is `want`. */
async function waitData(page, name, want, timeout = 12_000) {
  try {
    await page.waitForFunction(
      ([n, w]) => {
        const s = document.getElementById('screen');
        return s !== null && s.dataset[n] === w;
      },
      [name, want],
      { timeout },
    );
  } catch {
    const got = await page.evaluate((n) => document.getElementById('screen')?.dataset[n], name);
    fail(`#screen data-${name} stayed ${JSON.stringify(got)}, expected ${JSON.stringify(want)}`);
  }
}

/**
 * Moves the page's clock (installed and paused by the test: rotation, polling and the stale
 * check run on it) one `stepMs` at a time until #screen's data-`name` is `want`; the
 * screenshots and checks in between see a still screen, whatever the machine's speed.
 */
async function advance(page, name, want, stepMs = 1_000, maxSteps = 30) {
  for (let i = 0; i <= maxSteps; i += 1) {
    const got = await page.evaluate((n) => document.getElementById('screen')?.dataset[n], name);
    if (got === want) return;
    if (i === maxSteps) fail(`#screen data-${name} stayed ${JSON.stringify(got)}, expected ${JSON.stringify(want)}`);
    await page.clock.runFor(stepMs);
    // A poll the step started waits for its answer (real network, however slow the machine).
    await page.waitForFunction(() => document.getElementById('screen')?.dataset.polling !== '1', null, {
      timeout: 10_000,
    });
  }
}

/**
 * axe-core on the paused page: its queue waits on (fake) timers of 0–1 ms, so the clock
 * moves 5 ms at a time while it runs (far from the next 2 s rotation).
 */
async function accessible(page, label) {
  let done = false;
  const run = checkAccessibility(page, label).finally(() => {
    done = true;
  });
  let ticks = 0;
  while (!done && ticks < 200) {
    await page.clock.runFor(5);
    await new Promise((resolve) => setTimeout(resolve, 10));
    ticks += 1;
  }
  return run;
}

/** Stops the page's clock right after its first render. */
async function pause(page) {
  await page.waitForFunction(() => document.getElementById('screen')?.dataset.panel !== undefined);
  const now = await page.evaluate(() => Date.now());
  await page.clock.pauseAt(now + 50);
}

async function expectDir(page, lang, dir) {
  const got = await page.evaluate(() => [document.documentElement.lang, document.documentElement.dir]);
  if (got[0] !== lang || got[1] !== dir) fail(`<html> is ${got.join(' ')}, expected ${lang} ${dir}`);
  // Nothing sticks out sideways (a screen cannot be scrolled).
  const [scroll, inner] = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
  if (scroll > inner) fail(`the page is ${scroll} px wide in a ${inner} px window (${lang})`);
}

/** Body text of the shown panel at least `min` px, headings larger. */
async function expectLargeType(page, min) {
  const sizes = await page.evaluate(() =>
    [...document.querySelectorAll('.panel:not([hidden]) p, .panel:not([hidden]) li, #s-updated')]
      .filter((e) => e.textContent.trim() !== '')
      .map((e) => parseFloat(getComputedStyle(e).fontSize)),
  );
  if (sizes.length === 0) fail('no text in the shown panel');
  const smallest = Math.min(...sizes);
  if (smallest < min) fail(`text at ${smallest} px, signage asks for at least ${min} px`);
}

async function api(method, path, body) {
  const response = await fetch(url(path), {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: body ? JSON.stringify(body) : undefined,
  });
  if (!response.ok) fail(`${method} ${path}: ${response.status} ${await response.text()}`);
  return response.status === 204 ? null : response.json();
}

async function main() {
  const page = await step('prepare', () => launch('fr-FR'));
  await page.clock.install();
  // Record what the listen button asks the browser to say.
  await page.addInitScript(() => {
    window.__spoken = [];
    if ('speechSynthesis' in window) {
      window.speechSynthesis.speak = (u) => window.__spoken.push([u.lang, u.text]);
    }
  });
  let lat = 0;
  let lon = 0;

  await step('landscape, French notices', async () => {
    await page.setViewportSize(LANDSCAPE);
    await page.goto(url(landscapePath + FAST));
    await pause(page);
    await waitData(page, 'lang', 'fr');
    await waitData(page, 'panel', 'notices');
    await expectDir(page, 'fr', 'ltr');
    const notices = await page.locator('#notice-list li').count();
    if (notices < 1) fail('no notice shown near the screen');
    await expectLargeType(page, 48);
    await shot(page, 'landscape-fr-notices.png');
    await accessible(page, 'screen fr');
  });

  await step('keyboard and speech', async () => {
    await page.keyboard.press('Tab');
    const first = await page.evaluate(() => document.activeElement?.className);
    if (first !== 'skip') fail(`Tab reached ${first} first, expected the skip link`);
    await page.keyboard.press('Tab');
    const second = await page.evaluate(() => document.activeElement?.id);
    if (second !== 'listen') fail(`Tab reached #${second} second, expected #listen`);
    await page.keyboard.press('Enter');
    const spoken = await page.evaluate(() => window.__spoken);
    const lang = await page.evaluate(() => document.documentElement.lang);
    if (spoken.length !== 1 || spoken[0][0] !== lang || spoken[0][1].length < 40) {
      fail(`speech: ${JSON.stringify(spoken)} in ${lang}`);
    }
    await page.evaluate(() => document.activeElement.blur());
  });

  await step('landscape, the services and how-to panels', async () => {
    await advance(page, 'panel', 'services');
    if ((await page.locator('#service-list li').count()) !== 2) fail('expected the two services of the screen');
    await shot(page, 'landscape-services.png');
    await advance(page, 'panel', 'how');
    const qr = await page.locator('svg.qr').boundingBox();
    if (!qr || qr.width < 300) fail(`QR code ${JSON.stringify(qr)}: too small to scan from afar`);
    const how = await page.locator('#how-list').textContent();
    if (!how.includes('0612 345 678') || !how.includes('16 h 30')) fail(`how to report: ${how}`);
    await shot(page, 'landscape-how.png');
  });

  await step('landscape, Arabic right to left', async () => {
    await advance(page, 'lang', 'ar');
    await expectDir(page, 'ar', 'rtl');
    const box = await page.locator('#s-title').boundingBox();
    if (!box || box.x < LANDSCAPE.width / 2) fail(`Arabic title at x=${box && box.x}: not laid out right to left`);
    await shot(page, 'landscape-ar.png');
    await accessible(page, 'screen ar');
  });

  await step('landscape, English', async () => {
    await advance(page, 'lang', 'en');
    await expectDir(page, 'en', 'ltr');
    await shot(page, 'landscape-en.png');
  });

  let urgent = null;
  await step('an urgent notice takes over', async () => {
    const screens = await api('GET', '/api/v1/staff/screens');
    lat = screens[0].lat;
    lon = screens[0].lon;
    const until = new Date(Date.now() + 3600_000).toISOString();
    urgent = await api('POST', '/api/v1/notices', {
      kind: 'other',
      service_codes: ['light_out'],
      area: { type: 'Point', coordinates: [lon, lat] },
      radius_m: 300,
      valid_until: until,
      urgent: true,
      texts: {
        fr: { title: 'Alerte : câble électrique tombé', body: 'Ne vous approchez pas de la rue du marché.' },
        ar: { title: 'تنبيه: سقوط كابل كهربائي', body: 'لا تقتربوا من شارع السوق.' },
        en: { title: 'Alert: power cable down', body: 'Keep away from the market street.' },
      },
    });
    await advance(page, 'urgent', '1');
    const hidden = await page.evaluate(() => ['services', 'how'].every((p) => document.getElementById(`panel-${p}`).hidden));
    if (!hidden) fail('other panels still shown during an urgent notice');
    const first = await page.locator('#notice-list li').count();
    if (first !== 1) fail(`${first} notices shown during the urgent one, expected only it`);
    await shot(page, 'landscape-urgent.png');
    await accessible(page, 'screen urgent');
  });

  await step('staff clear the urgency: the screen goes back to its rotation', async () => {
    await api('DELETE', `/api/v1/notices/${urgent.id}/urgent`);
    await advance(page, 'urgent', '0');
    await advance(page, 'panel', 'services');
  });

  await step('a network cut keeps the data and says it is stale', async () => {
    expectConsoleErrors(/Failed to load resource|net::ERR_/);
    await page.route('**/api/v1/screens/**', (route) => route.abort('internetdisconnected'));
    await advance(page, 'state', 'stale');
    if (!(await page.locator('#s-stale').isVisible())) fail('the stale notice is not shown');
    if ((await page.locator('#service-list li').count()) !== 2) fail('the last good data is gone');
    await shot(page, 'landscape-stale.png');
    await page.unroute('**/api/v1/screens/**');
    await advance(page, 'state', 'fresh');
  });

  await step('portrait, French and Arabic', async () => {
    await page.setViewportSize(PORTRAIT);
    await page.goto(url(portraitPath + FAST));
    await pause(page);
    await waitData(page, 'lang', 'fr');
    await expectLargeType(page, 48);
    await shot(page, 'portrait-fr.png');
    await accessible(page, 'portrait fr');
    await advance(page, 'lang', 'ar');
    await expectDir(page, 'ar', 'rtl');
    await shot(page, 'portrait-ar.png');
    await accessible(page, 'portrait ar');
  });

  await step('a revoked screen stops showing its data', async () => {
    const screens = await api('GET', '/api/v1/staff/screens');
    const portrait = screens.find((s) => s.orientation === 'portrait' && !s.revoked_at);
    if (!portrait) fail('no portrait screen listed');
    await api('DELETE', `/api/v1/staff/screens/${portrait.id}`);
    await advance(page, 'state', 'revoked');
    const shown = await page.evaluate(() => [...document.querySelectorAll('.panel')].some((p) => !p.hidden));
    if (shown || (await page.locator('#listen').isVisible())) fail('data still shown or read on a revoked screen');
    await shot(page, 'portrait-revoked.png');
  });
  log(`screen at ${lat}, ${lon}`);
  await noConsoleErrors();
}

await finish(main);
