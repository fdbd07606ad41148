#!/usr/bin/env node
// End-to-end test of the public transparency page and the staff dashboard, in headless
// Debian Chromium.
//
//   node stats-pages.mjs BASE_URL STAFF_EMAIL PASSWORD SCREENSHOT_DIR
//
// Public page (/transparency) in French, Arabic and English: the <html> lang and dir, that
// Arabic lays out right to left (document.dir and the bounding boxes of the heading, the
// brand and table headers), the notices and open-count tables, both charts drawn (a canvas
// of non-zero size), the map rendered by Leaflet with GeoJSON paths (one per published
// cell), the service filter of the map, a skip link reached first with Tab, every form
// control labelled, text contrast at least 4.5:1. Staff dashboard: the login, three charts,
// the map of hot spots and open reports, filters that change the figures, and a CSV link
// that downloads text/csv. Any console error or uncaught page error (including a CSP
// violation) fails the run. Screenshots (transparency-fr.png, transparency-ar.png,
// transparency-en.png, transparency-ar-phone.png, dashboard.png, dashboard-filtered.png,
// dashboard-ar.png) go to SCREENSHOT_DIR. On failure it prints why, saves failure.png and
// exits 1; on success prints `ok`. Steps are bounded by STEP_TIMEOUT_MS, the run by
// RUN_TIMEOUT_MS.
//
// The data must hold at least one published month and one published map cell, one current
// notice, and open reports (the integration test `pages` seeds them).
//
// Run ./setup.sh first (Debian chromium + npm ci). Progress goes to stderr.

import {
  DESKTOP,
  browserContext,
  expectVisible,
  fail,
  finish,
  launch,
  log,
  noConsoleErrors,
  pathOf,
  shot,
  startRun,
  step,
  submit,
  text,
  url,
} from './harness.mjs';
import { readFile } from 'node:fs/promises';

const { email, password } = startRun('stats-pages', 150_000);
const PHONE = { width: 390, height: 844 };

/** Fails unless the box holds a drawn uPlot canvas of non-zero size. */
async function expectChart(page, selector) {
  try {
    await page.waitForFunction(
      (sel) => {
        const c = document.querySelector(`${sel} canvas`);
        if (!c) return false;
        const r = c.getBoundingClientRect();
        return r.width > 50 && r.height > 50 && c.width > 0 && c.height > 0;
      },
      selector,
      { timeout: 8_000 },
    );
  } catch {
    fail(`${selector} has no drawn canvas of non-zero size on ${pathOf(page.url())}`);
  }
}

/** Fails unless the map is a Leaflet container with at least `min` interactive paths; returns how many. */
async function expectMap(page, selector, min) {
  try {
    await page.waitForFunction(
      ([sel, n]) => {
        const m = document.querySelector(sel);
        return (
          m !== null &&
          m.classList.contains('leaflet-container') &&
          m.querySelectorAll('svg path.leaflet-interactive').length >= n &&
          m.querySelectorAll('svg path').length > n
        );
      },
      [selector, min],
      { timeout: 8_000 },
    );
  } catch {
    const got = await page
      .locator(`${selector} svg path.leaflet-interactive`)
      .count()
      .catch(() => 0);
    fail(`${selector} is not a Leaflet map with >= ${min} GeoJSON paths (has ${got}) on ${pathOf(page.url())}`);
  }
  const box = await page.locator(selector).boundingBox();
  if (!box || box.width < 200 || box.height < 200) fail(`${selector} is too small: ${JSON.stringify(box)}`);
  return page.locator(`${selector} svg path.leaflet-interactive`).count();
}

async function expectLangDir(page, lang, dir) {
  const got = await page.evaluate(() => ({
    lang: document.documentElement.lang,
    dir: document.dir,
    computed: getComputedStyle(document.body).direction,
  }));
  if (got.lang !== lang || got.dir !== dir || got.computed !== dir) {
    fail(`on ${pathOf(page.url())} expected lang=${lang} dir=${dir}, got ${JSON.stringify(got)}`);
  }
}

/** Tab from the top of the page reaches the skip link first, and it is visible then. */
async function expectSkipLink(page) {
  await page.evaluate(() => {
    if (document.activeElement) document.activeElement.blur();
    window.scrollTo(0, 0);
  });
  await page.keyboard.press('Tab');
  const focused = await page.evaluate(() => {
    const el = document.activeElement;
    if (!el) return null;
    const r = el.getBoundingClientRect();
    return { cls: el.className, href: el.getAttribute('href'), top: r.top, h: r.height, outline: getComputedStyle(el).outlineStyle };
  });
  if (!focused || focused.cls !== 'skip' || focused.href !== '#main') {
    fail(`the first Tab stop is not the skip link: ${JSON.stringify(focused)}`);
  }
  if (focused.top < 0 || focused.h < 10) fail(`the focused skip link is not visible: ${JSON.stringify(focused)}`);
}

/** Every visible form control has a label; charts and maps have an aria-label. */
async function expectLabels(page) {
  const missing = await page.evaluate(() => {
    const out = [];
    for (const el of document.querySelectorAll('input:not([type=hidden]), select, textarea')) {
      if (!(el.labels && el.labels.length) && !el.getAttribute('aria-label')) out.push(el.id || el.name || el.tagName);
    }
    for (const el of document.querySelectorAll('[data-chart], [data-map]')) {
      if (!el.getAttribute('aria-label')) out.push(`#${el.id} (no aria-label)`);
    }
    return out;
  });
  if (missing.length) fail(`unlabelled controls on ${pathOf(page.url())}: ${missing.join(', ')}`);
}

/** Text of headings, paragraphs, table cells, links and buttons: contrast >= 4.5:1. */
async function expectContrast(page) {
  const bad = await page.evaluate(() => {
    const parse = (c) => {
      const m = c.match(/rgba?\(([^)]+)\)/);
      if (!m) return null;
      const p = m[1].split(',').map((x) => parseFloat(x));
      return { r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1 };
    };
    const lum = ({ r, g, b }) => {
      const f = (v) => {
        v /= 255;
        return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
      };
      return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
    };
    const background = (el) => {
      for (let e = el; e; e = e.parentElement) {
        const c = parse(getComputedStyle(e).backgroundColor);
        if (c && c.a > 0.5) return c;
      }
      return { r: 255, g: 255, b: 255, a: 1 };
    };
    const out = [];
    const seen = new Set();
    const sel = 'main h1, main h2, main h3, main p, main th, main td, main a, main button, main label, main dt, main dd, header a, header .who';
    for (const el of document.querySelectorAll(sel)) {
      if (!el.textContent.trim() || el.closest('.leaflet-container, .uplot')) continue;
      const r = el.getBoundingClientRect();
      if (r.width === 0 || r.height === 0) continue;
      const fg = parse(getComputedStyle(el).color);
      if (!fg) continue;
      const bg = background(el);
      const [a, b] = [lum(fg), lum(bg)].sort((x, y) => y - x);
      const ratio = (a + 0.05) / (b + 0.05);
      if (ratio < 4.5) {
        const key = `${el.tagName}.${el.className}`;
        if (!seen.has(key)) {
          seen.add(key);
          out.push(`${key} "${el.textContent.trim().slice(0, 30)}" ${ratio.toFixed(2)}:1`);
        }
      }
    }
    return out;
  });
  if (bad.length) fail(`low text contrast on ${pathOf(page.url())}: ${bad.join('; ')}`);
}

async function openPublic(page, query, language) {
  // The browser's own Accept-Language follows its locale (fr-FR): replace it on the way.
  const route = (r) =>
    r.continue({ headers: { ...r.request().headers(), 'accept-language': language } });
  if (language) await page.route('**/transparency*', route);
  const res = await page.goto(url(`/transparency${query}`), { waitUntil: 'load' });
  if (language) await page.unroute('**/transparency*', route);
  if (!res || !res.ok()) fail(`GET /transparency${query} answered ${res ? res.status() : 'nothing'}`);
  const csp = res.headers()['content-security-policy'] || '';
  if (!/script-src 'self'/.test(csp) || /unsafe-(inline|eval)/.test(csp)) fail(`unexpected Content-Security-Policy: ${csp}`);
  await expectVisible(page, 'h1');
  await expectChart(page, '#chart-monthly-counts');
  await expectChart(page, '#chart-monthly-sla');
  // The boundary is always drawn; each published cell adds one interactive path.
  const paths = await expectMap(page, '#public-map', 0);
  const cells = Number(await text(page, '#map-cells'));
  if (cells !== paths) fail(`#map-cells says ${cells} but the map draws ${paths} cells`);
  if ((await page.locator('#notices li').count()) < 1) fail('#notices lists no notice');
  if ((await page.locator('#open-table tbody td.num').count()) < 1) fail('#open-table has no count');
  if ((await page.locator('#monthly-table tbody tr').count()) < 1) fail('#monthly-table has no month');
  return cells;
}

async function main() {
  const page = await step('prepare', () => launch('fr-FR'));

  await step('public page in French', async () => {
    const cells = await openPublic(page, '?lang=fr');
    await expectLangDir(page, 'fr', 'ltr');
    await expectSkipLink(page);
    await expectLabels(page);
    await expectContrast(page);
    // The map's service filter redraws the cells of one service.
    const options = await page.locator('#map-service option').count();
    if (cells === 0 || options < 2) {
      log('  note: no published map cell (nothing to filter)');
      await shot(page, 'transparency-fr.png');
      return;
    }
    const value = await page.locator('#map-service option').nth(1).getAttribute('value');
    await page.selectOption('#map-service', value);
    await page.waitForFunction(
      (n) => Number(document.querySelector('#map-cells').textContent) <= n,
      cells,
      { timeout: 5_000 },
    );
    const one = Number(await text(page, '#map-cells'));
    const drawn = await page.locator('#public-map svg path.leaflet-interactive').count();
    if (one !== drawn || one < 1) fail(`after filtering on ${value}: #map-cells ${one}, paths ${drawn}`);
    await page.selectOption('#map-service', '');
    log(`  ${cells} published cells, ${one} for ${value}`);
    await shot(page, 'transparency-fr.png');
  });

  await step('public page in Arabic (right to left)', async () => {
    await openPublic(page, '?lang=ar');
    await expectLangDir(page, 'ar', 'rtl');
    const layout = await page.evaluate(() => {
      const main = document.querySelector('main').getBoundingClientRect();
      const h1 = document.querySelector('h1');
      const range = document.createRange();
      range.selectNodeContents(h1);
      const text = range.getBoundingClientRect();
      const th = document.querySelector('#open-table tbody th');
      const thRange = document.createRange();
      thRange.selectNodeContents(th);
      const thText = thRange.getBoundingClientRect();
      const thBox = th.getBoundingClientRect();
      const brand = document.querySelector('header .brand').getBoundingClientRect();
      const nav = document.querySelector('header nav.languages').getBoundingClientRect();
      return {
        mainLeft: main.left, mainRight: main.right,
        h1Left: text.left, h1Right: text.right, h1Align: getComputedStyle(h1).textAlign,
        thRight: thText.right, thBoxRight: thBox.right, thLeft: thText.left, thBoxLeft: thBox.left,
        brandLeft: brand.left, navRight: nav.right, width: window.innerWidth,
      };
    });
    const pad = 40;
    // The heading's text hugs the right edge of the content, not the left.
    if (!(layout.mainRight - layout.h1Right < pad && layout.h1Left - layout.mainLeft > pad)) {
      fail(`the Arabic heading is not on the right: ${JSON.stringify(layout)}`);
    }
    // Row headers start on the right of their cells.
    if (!(layout.thBoxRight - layout.thRight < 20 && layout.thLeft - layout.thBoxLeft > 5)) {
      fail(`Arabic table headers are not right-aligned: ${JSON.stringify(layout)}`);
    }
    // The brand is on the right, the language switcher on the left.
    if (!(layout.brandLeft > layout.width / 2 && layout.navRight < layout.width / 2)) {
      fail(`the Arabic header is not mirrored: ${JSON.stringify(layout)}`);
    }
    await expectContrast(page);
    log(`  heading text ${Math.round(layout.h1Left)}–${Math.round(layout.h1Right)} in main ${Math.round(layout.mainLeft)}–${Math.round(layout.mainRight)}`);
    await shot(page, 'transparency-ar.png');
  });

  await step('public page in Arabic on a phone', async () => {
    await page.setViewportSize(PHONE);
    await openPublic(page, '?lang=ar');
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    if (overflow > 2) fail(`the Arabic page is ${overflow}px wider than a ${PHONE.width}px phone`);
    await shot(page, 'transparency-ar-phone.png');
    await page.setViewportSize(DESKTOP);
  });

  await step('public page in English (Accept-Language)', async () => {
    await openPublic(page, '', 'en-GB,en;q=0.9');
    await expectLangDir(page, 'en', 'ltr');
    const h1 = await text(page, 'h1');
    if (!/transparency/i.test(h1)) fail(`the English heading is ${JSON.stringify(h1)}`);
    await shot(page, 'transparency-en.png');
  });

  await step('staff log in', async () => {
    const res = await page.goto(url('/staff/dashboard'), { waitUntil: 'load' });
    if (!res || !res.ok()) fail(`GET /staff/dashboard answered ${res ? res.status() : 'nothing'}`);
    if (!pathOf(page.url()).endsWith('/staff/login')) fail(`not logged in, /staff/dashboard led to ${pathOf(page.url())}, expected /staff/login`);
    await expectLabels(page);
    await page.fill('input#email', email);
    await page.fill('input#password', password);
    await submit(page, 'form:has(input#email)');
    await page
      .waitForURL((u) => u.pathname.endsWith('/staff/dashboard'), { timeout: 5_000 })
      .catch(() => fail(`after logging in the page is ${pathOf(page.url())}, expected /staff/dashboard (wrong credentials?)`));
  });

  let before;
  await step('staff dashboard', async () => {
    await expectLangDir(page, 'fr', 'ltr');
    await expectChart(page, '#chart-sla');
    await expectChart(page, '#chart-resolution');
    await expectChart(page, '#chart-backlog');
    const points = Number(await text(page, '#map-points'));
    const cells = Number(await text(page, '#map-cells'));
    const drawn = await expectMap(page, '#staff-map', 1);
    if (drawn !== points + cells) fail(`#staff-map draws ${drawn} paths, expected ${cells} cells + ${points} open reports`);
    if ((await page.locator('#sla-table tbody tr').count()) < 1) fail('#sla-table is empty');
    await expectSkipLink(page);
    await expectLabels(page);
    await expectContrast(page);
    before = {
      kpi: await text(page, '#kpi-new'),
      rows: await page.locator('#sla-table tbody tr').count(),
      points,
    };
    log(`  new ${before.kpi}, ${before.rows} weekly rows, ${cells} hot-spot cells, ${points} open reports`);
    await shot(page, 'dashboard.png');
  });

  await step('filters change the figures', async () => {
    const value = await page.locator('#service option').nth(1).getAttribute('value');
    await page.selectOption('#service', value);
    await submit(page, 'form#filters');
    const u = new URL(page.url());
    if (u.searchParams.get('service') !== value) fail(`the filtered URL is ${page.url()}`);
    if ((await page.locator('#service').inputValue()) !== value) fail('the service filter is not kept');
    await expectChart(page, '#chart-sla');
    const after = {
      kpi: await text(page, '#kpi-new'),
      rows: await page.locator('#sla-table tbody tr').count(),
      points: Number(await text(page, '#map-points')),
    };
    if (after.kpi === before.kpi && after.points === before.points) {
      fail(`filtering on ${value} changed nothing: ${JSON.stringify({ before, after })}`);
    }
    log(`  ${value}: new ${after.kpi} (was ${before.kpi}), ${after.points} open reports (was ${before.points})`);
    await shot(page, 'dashboard-filtered.png');
  });

  await step('CSV download', async () => {
    const link = page.locator('a#csv-compliance');
    const href = await link.getAttribute('href');
    const response = await browserContext().request.get(new URL(href, page.url()).href);
    const type = response.headers()['content-type'] || '';
    if (response.status() !== 200 || !type.startsWith('text/csv')) fail(`${href} answered ${response.status()} ${type}`);
    const [download] = await Promise.all([page.waitForEvent('download', { timeout: 8_000 }), link.click()]);
    const file = await download.path();
    const body = await readFile(file, 'utf8');
    const first = body.split('\r\n')[0];
    if (first !== 'week,operator,service,new,resolved,breached,within_sla') fail(`the CSV starts with ${JSON.stringify(first)}`);
    if (body.split('\r\n').filter((l) => l).length < 2) fail('the CSV has no data row');
    if (!new URL(href, page.url()).searchParams.get('service')) fail(`the CSV link ignores the filters: ${href}`);
    log(`  ${download.suggestedFilename()}: ${body.split('\r\n').filter((l) => l).length - 1} rows`);
  });

  await step('staff dashboard in Arabic', async () => {
    const u = new URL(page.url());
    u.searchParams.set('lang', 'ar');
    const res = await page.goto(u.href, { waitUntil: 'load' });
    if (!res || !res.ok()) fail(`GET ${u.pathname}?lang=ar answered ${res ? res.status() : 'nothing'}`);
    await expectLangDir(page, 'ar', 'rtl');
    await expectChart(page, '#chart-sla');
    await expectMap(page, '#staff-map', 1);
    // Week labels ("2026-W37") read left to right in Arabic too: the table isolates them,
    // the charts run left to right.
    const weeks = await page.evaluate(() => Array.from(document.querySelectorAll('#sla-table tbody th'))
      .map((th) => { const b = th.querySelector('bdi'); return b ? b.getAttribute('dir') : null; }));
    if (weeks.some((d) => d !== 'ltr')) fail(`week labels not isolated left to right: ${JSON.stringify(weeks)}`);
    for (const id of ['#chart-sla', '#chart-resolution']) {
      const dir = await page.getAttribute(id, 'dir');
      if (dir !== 'ltr') fail(`${id} is drawn ${dir}, expected ltr`);
    }
    const label = await page.locator('label[for=service]').boundingBox();
    const select = await page.locator('#from').boundingBox();
    const width = await page.evaluate(() => window.innerWidth);
    if (!select || select.x < width / 2) fail(`the first Arabic filter is not on the right: ${JSON.stringify(select)}`);
    if (!label) fail('label[for=service] not found');
    await shot(page, 'dashboard-ar.png');
  });

  await noConsoleErrors();
}

await finish(main);
