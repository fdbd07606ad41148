#!/usr/bin/env node
// End-to-end test of the operator console, in headless Debian Chromium, in French then in
// Arabic, on a tablet-sized window (820×1180):
//
//   node operator-console.mjs BASE_URL EMAIL PASSWORD SCREENSHOT_DIR
//
// For each language an agent logs in, filters the queue, opens the first `new` ticket, sees
// its photo and its map (tiles from the server's tile URL: the Rust test points it at a
// local stand-in), starts it with the keyboard alone, pauses it awaiting the resident,
// resumes it and resolves it with a photo taken "from the camera" (a JPEG drawn on a
// canvas). axe-core checks every page (no serious or critical violation). Screenshots of
// the queue and the ticket at phone, tablet and desktop widths go to SCREENSHOT_DIR
// (queue-fr-tablet.png, ticket-ar-phone.png, …). The server needs two fresh tickets with
// a photo each. Prints `ok` on success; on failure prints why and exits 1.

import {
  checkAccessibility,
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
  url,
} from './harness.mjs';

const { email, password } = startRun('operator-console', 240_000);
const SIZES = {
  phone: { width: 390, height: 844 },
  tablet: { width: 820, height: 1180 },
  desktop: { width: 1280, height: 800 },
};
const NOTE = { fr: 'Conteneur vidé et nettoyé', ar: 'تم إفراغ الحاوية وتنظيفها' };

async function expectStatus(page, want) {
  try {
    await page.waitForFunction(
      (w) => {
        const el = document.querySelector('#status');
        return el !== null && el.dataset.status === w;
      },
      want,
      { timeout: 10_000 },
    );
  } catch {
    const got = await page.locator('#status').getAttribute('data-status').catch(() => null);
    const error = await page.locator('#error').textContent().catch(() => '');
    fail(`#status is ${JSON.stringify(got)}, expected ${JSON.stringify(want)} ${error ? `(error shown: ${error.trim()})` : ''}`);
  }
}

async function atSizes(page, name) {
  for (const [label, size] of Object.entries(SIZES)) {
    await page.setViewportSize(size);
    await shot(page, `${name}-${label}.png`);
  }
  await page.setViewportSize(SIZES.tablet);
}

/** A JPEG "taken by the camera": drawn on a canvas in the page. */
async function cameraPhoto(page) {
  const data = await page.evaluate(() => {
    const canvas = document.createElement('canvas');
    canvas.width = 320;
    canvas.height = 240;
    const ctx = canvas.getContext('2d');
    ctx.fillStyle = '#3a7d44';
    ctx.fillRect(0, 0, 320, 240);
    ctx.fillStyle = '#f2f2f2';
    ctx.fillRect(60, 50, 200, 140);
    return canvas.toDataURL('image/jpeg', 0.85).split(',')[1];
  });
  return { name: 'camera.jpg', mimeType: 'image/jpeg', buffer: Buffer.from(data, 'base64') };
}

async function workOneTicket(page, lang) {
  await step(`[${lang}] log in`, async () => {
    await page.goto(url(`/operator/login?lang=${lang}`), { waitUntil: 'load' });
    const html = page.locator('html');
    if ((await html.getAttribute('lang')) !== lang) fail(`login page lang is not ${lang}`);
    if (lang === 'ar' && (await html.getAttribute('dir')) !== 'rtl') fail('the Arabic login page is not right to left');
    await checkAccessibility(page, `login ${lang}`);
    await page.fill('input#email', email);
    await page.fill('input#password', password);
    await submit(page, 'form:has(input#email)');
    if (!pathOf(page.url()).endsWith('/operator/queue')) fail(`after logging in the page is ${pathOf(page.url())}`);
  });

  let ticketPath;
  await step(`[${lang}] queue`, async () => {
    await expectVisible(page, 'table#queue');
    if ((await page.locator('html').getAttribute('lang')) !== lang) fail(`the queue is not in ${lang}`);
    await checkAccessibility(page, `queue ${lang}`);
    await atSizes(page, `queue-${lang}`);
    // Filter on `new` with the form (no script needed).
    await page.selectOption('#f-status', 'new');
    await submit(page, 'form#filters');
    const statuses = await page.locator('table#queue span.status').evaluateAll((els) => els.map((e) => e.dataset.status));
    if (statuses.length === 0) fail('no `new` ticket in the filtered queue (seed two fresh tickets)');
    if (statuses.some((s) => s !== 'new')) fail(`the status filter let through ${statuses.join(',')}`);
    await checkAccessibility(page, `filtered queue ${lang}`);
  });

  await step(`[${lang}] open a ticket: photo and map`, async () => {
    await page.locator('table#queue tr.ticket a.open').first().click();
    await page.waitForURL((u) => /\/operator\/tickets\/[^/]+$/.test(u.pathname));
    await page.waitForLoadState('load');
    ticketPath = pathOf(page.url());
    await expectStatus(page, 'new');
    const img = page.locator('#photos img').first();
    await img.waitFor({ state: 'visible' });
    const loaded = await img.evaluate((el) => el.complete && el.naturalWidth > 0);
    if (!loaded) fail('the report photo did not load');
    await page.waitForSelector('#map .leaflet-tile-loaded', { timeout: 15_000 }).catch(() => fail('the map drew no tile'));
    await page.waitForSelector('#map .leaflet-interactive, #map path', { timeout: 5_000 }).catch(() => fail('the map has no marker'));
    const zoomIn = await page.locator('#map .leaflet-control-zoom-in').getAttribute('aria-label');
    const wanted = await page.locator('#map').getAttribute('data-zoom-in');
    if (!zoomIn || zoomIn !== wanted) fail(`the zoom button says ${JSON.stringify(zoomIn)}, expected ${JSON.stringify(wanted)}`);
    const geo = await page.locator('#geo-link').getAttribute('href');
    if (!/^geo:-?\d+\.\d+,-?\d+\.\d+$/.test(geo || '')) fail(`#geo-link is ${geo}`);
    await checkAccessibility(page, `ticket ${lang}`);
    await atSizes(page, `ticket-${lang}`);
    log(`  ${ticketPath}`);
  });

  await step(`[${lang}] start with the keyboard`, async () => {
    await page.focus('form#start button[type=submit]');
    const navigated = page.waitForNavigation({ waitUntil: 'load' });
    await page.keyboard.press('Enter');
    await navigated;
    if (pathOf(page.url()) !== ticketPath) fail(`after starting the page is ${pathOf(page.url())}`);
    await expectStatus(page, 'in_progress');
  });

  await step(`[${lang}] pause awaiting the resident`, async () => {
    await page.selectOption('#pause-reason', 'awaiting_resident');
    await submit(page, 'form#pause');
    await expectStatus(page, 'paused');
    if ((await page.locator('form#resume').count()) !== 1) fail('a paused ticket does not offer resume');
    if ((await page.locator('form#start, form#pause, form#acknowledge').count()) !== 0) fail('a paused ticket offers start, pause or acknowledge');
    await checkAccessibility(page, `paused ticket ${lang}`);
    await shot(page, `paused-${lang}-tablet.png`);
  });

  await step(`[${lang}] resume`, async () => {
    await submit(page, 'form#resume');
    await expectStatus(page, 'in_progress');
  });

  await step(`[${lang}] resolve with a photo`, async () => {
    await page.fill('#resolve-note', NOTE[lang]);
    await page.setInputFiles('#resolve-photo', await cameraPhoto(page));
    await submit(page, 'form#resolve');
    await expectStatus(page, 'resolved');
    const photos = page.locator('#photos img');
    if ((await photos.count()) !== 2) fail(`${await photos.count()} photo(s) after resolving, expected the report's and the evidence`);
    await page.waitForFunction(() => [...document.querySelectorAll('#photos img')].every((i) => i.complete && i.naturalWidth > 0));
    const last = (await page.locator('ol#history > li').last().textContent()).replace(/\s+/g, ' ');
    if (!last.includes(NOTE[lang])) fail(`the last history entry does not carry the note: ${last}`);
    if (/user:|device:/.test(await page.locator('ol#history').textContent())) fail('raw actor ids in the history');
    await checkAccessibility(page, `resolved ticket ${lang}`);
    await atSizes(page, `resolved-${lang}`);
  });

  await step(`[${lang}] log out`, async () => {
    await submit(page, 'header form');
    if (!pathOf(page.url()).endsWith('/operator/login')) fail(`after logging out the page is ${pathOf(page.url())}`);
  });
}

async function main() {
  const page = await step('prepare', () => launch('fr-FR'));
  await page.setViewportSize(SIZES.tablet);
  await workOneTicket(page, 'fr');
  await workOneTicket(page, 'ar');
  await noConsoleErrors();
}

await finish(main);
