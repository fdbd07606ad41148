#!/usr/bin/env node
// A day of the commune's staff in the back office, in headless Debian Chromium:
//
//   STAFF_DAY='{"fr": {...}, "ar": {...}}' node staff-day.mjs BASE_URL STAFF_EMAIL PASSWORD SCREENSHOT_DIR
//
// For each language (French on a desktop window, Arabic on a tablet one), with the reports
// STAFF_DAY names (`route`: a report sent back by its operator; `duplicate`: another one
// near `original`, whose reference is `original_ref`): log in, triage the queue, route a
// report with the keyboard alone, merge the duplicate from the candidates list, hide the
// original's description and publish its photo, enter a counter report (service, district, hazard answer,
// resident's contact) and check its receipt prints without the navigation, publish a
// notice over an area drawn by three clicks on the map, then end it; then the administration
// pages: a contract's statement, the SLA page, an Open311 key issued and shown once, the
// accounts and the operators' webhooks. Every page is checked
// with axe-core (no serious or critical violation), its lang and dir, a skip link first in
// the Tab order; screenshots at phone, tablet and desktop widths go to SCREENSHOT_DIR. Any
// console error or uncaught page error (a CSP violation included) fails the run.

import {
  DESKTOP,
  checkAccessibility,
  expectText,
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

const { email, password } = startRun('staff-day', 420_000);
const PHONE = { width: 390, height: 844 };
const TABLET = { width: 820, height: 1180 };
const DAY = JSON.parse(process.env.STAFF_DAY || '{}');
for (const l of ['fr', 'ar']) {
  if (!DAY[l] || !DAY[l].route || !DAY[l].duplicate || !DAY[l].original || !DAY[l].original_ref || !DAY[l].contract) {
    process.stderr.write(`staff-day: FAIL: STAFF_DAY lacks ${l}.route/duplicate/original/original_ref/contract\n`);
    process.exit(1);
  }
}

async function expectLanguage(page, lang) {
  const got = await page.evaluate(() => ({ lang: document.documentElement.lang, dir: document.documentElement.dir }));
  const dir = lang === 'ar' ? 'rtl' : 'ltr';
  if (got.lang !== lang || got.dir !== dir) fail(`on ${pathOf(page.url())} expected ${lang}/${dir}, got ${JSON.stringify(got)}`);
}

async function expectSkipLink(page) {
  await page.evaluate(() => {
    if (document.activeElement) document.activeElement.blur();
    window.scrollTo(0, 0);
  });
  await page.keyboard.press('Tab');
  const cls = await page.evaluate(() => document.activeElement && document.activeElement.className);
  if (cls !== 'skip') fail(`the first Tab stop on ${pathOf(page.url())} is not the skip link (${cls})`);
}

/** Checks a page: language, skip link, accessibility; saves a screenshot. */
async function checkPage(page, lang, label, fresh = true) {
  await expectLanguage(page, lang);
  // axe-core first, on the page as it shows (the skip link, once focused, overlays the
  // navigation's first row on purpose: it is a transient layer, not a target to space).
  try {
    await checkAccessibility(page, `${label} (${lang})`);
  } catch (e) {
    // The run's report keeps a failure's first line: the rules hit come after it.
    log(e.message);
    throw e;
  }
  // Only on a page just loaded: after typing, Tab goes on from the last field.
  if (fresh) await expectSkipLink(page);
  await page.evaluate(() => document.activeElement && document.activeElement.blur());
  await shot(page, `${label}-${lang}.png`);
}

/** Presses Enter on `selector` (keyboard only) and waits for the page it leads to. */
async function pressEnter(page, selector) {
  await page.focus(selector);
  const navigated = page.waitForEvent('framenavigated', { predicate: (f) => f === page.mainFrame() });
  await page.keyboard.press('Enter');
  await navigated;
  await page.waitForLoadState('load');
}

async function day(page, lang) {
  const d = DAY[lang];
  await step(`${lang}: the triage queue`, async () => {
    await page.goto(url(`/staff/triage?lang=${lang}`));
    await expectVisible(page, `#triage a.open[href^="/staff/reports/${d.route}"]`);
    await checkPage(page, lang, 'triage');
  });

  await step(`${lang}: route a report with the keyboard alone`, async () => {
    await pressEnter(page, `#triage a.open[href^="/staff/reports/${d.route}"]`);
    if (!pathOf(page.url()).endsWith(`/staff/reports/${d.route}`)) fail(`the link led to ${page.url()}`);
    // The report's place on the map, tiles from the configured (local stand-in) server.
    await page.waitForFunction(() => document.querySelector('#report-map.drawn img.leaflet-tile-loaded'));
    await checkPage(page, lang, 'report');
  });

  await step(`${lang}: the route form, keyboard only`, async () => {
    await page.focus('#contract');
    await page.keyboard.press('ArrowDown');
    await pressEnter(page, '#route button[type=submit]');
    await expectVisible(page, '#done');
    const status = await text(page, '#fact-status');
    if (status !== (lang === 'ar' ? 'جديد' : 'Nouveau')) fail(`status after routing: ${status}`);
  });

  await step(`${lang}: merge a duplicate`, async () => {
    await page.goto(url(`/staff/reports/${d.duplicate}?lang=${lang}`));
    const radio = page.locator('#duplicate .choice', { hasText: d.original_ref }).locator('input[type=radio]');
    if ((await radio.count()) !== 1) fail(`no duplicate candidate ${d.original_ref}`);
    await radio.check();
    await submit(page, '#duplicate');
    await expectVisible(page, '#done');
    await shot(page, `report-merged-${lang}.png`);
  });

  await step(`${lang}: moderate the original's description`, async () => {
    await page.goto(url(`/staff/reports/${d.original}?lang=${lang}`));
    await page.fill('#moderate-reason', lang === 'ar' ? 'رقم هاتف في النص' : 'Numéro de téléphone dans le texte');
    await submit(page, '#moderate');
    await expectVisible(page, '#hidden-badge');
  });

  await step(`${lang}: publish the original's photo`, async () => {
    // Its photo is shown to staff (not yet public) and can be published.
    await page.waitForFunction(() => {
      const img = document.querySelector('#photos img');
      return img && img.complete && img.naturalWidth > 0;
    });
    await submit(page, '#photos form');
    await expectVisible(page, '#photos li[data-approved="true"]');
    await checkPage(page, lang, 'report-moderated');
  });

  await step(`${lang}: a counter report and its receipt`, async () => {
    await page.goto(url(`/staff/intake?lang=${lang}`));
    await checkPage(page, lang, 'intake');
  });

  await step(`${lang}: fill in the counter form`, async () => {
    await page.selectOption('#service', 'light_damaged_pole');
    await submit(page, '#choose-service');
    await expectVisible(page, '#intake');
    await page.selectOption('#place', { index: 1 });
    await page.fill('#description', lang === 'ar' ? 'أسلاك مكشوفة أمام المدرسة' : "Câbles apparents devant l'école");
    await page.selectOption('#attr_hazard', 'exposed_wires');
    await page.fill('#contact_name', 'Fatima Z.');
    await page.fill('#contact_phone', '+212 600 000 000');
    await checkPage(page, lang, 'intake-form', false);
  });

  await step(`${lang}: the receipt`, async () => {
    await submit(page, '#intake');
    if (!pathOf(page.url()).endsWith('/receipt')) fail(`the intake led to ${page.url()}`);
    const reference = await text(page, '#reference');
    if (!/^[A-Z]{2,5}-/.test(reference)) fail(`receipt reference: ${reference}`);
    // A gateway is connected: the receipt says the reference went to the number by SMS.
    const sms = await text(page, '#receipt-sms');
    if (!sms.includes('+212600000000')) fail(`receipt SMS line: ${sms}`);
    await checkPage(page, lang, 'receipt');
    await page.emulateMedia({ media: 'print' });
    const printed = await page.evaluate(() => ({
      header: getComputedStyle(document.querySelector('header.site')).display,
      button: document.querySelector('#print').checkVisibility() ? 'shown' : 'none',
    }));
    await page.emulateMedia({ media: 'screen' });
    if (printed.header !== 'none' || printed.button !== 'none') fail(`the printed receipt shows the navigation: ${JSON.stringify(printed)}`);
  });

  await step(`${lang}: publish a notice drawn on the map`, async () => {
    await page.goto(url(`/staff/notices?lang=${lang}`));
    await page.waitForFunction(() => {
      const m = document.querySelector('#notice-map');
      return m && m.classList.contains('leaflet-container') && m.querySelectorAll('svg path').length > 0;
    });
    await checkPage(page, lang, 'notices');
  });

  await step(`${lang}: draw and publish the notice`, async () => {
    await page.locator('#notice-map').scrollIntoViewIfNeeded();
    const box = await page.locator('#notice-map').boundingBox();
    const cx = box.x + box.width / 2;
    const cy = box.y + box.height / 2;
    for (const [dx, dy] of [[-40, -30], [40, -30], [0, 40]]) {
      await page.mouse.click(cx + dx, cy + dy);
    }
    await page.waitForFunction(() => document.querySelector('#notice-map').getAttribute('data-points') === '3');
    const area = JSON.parse(await page.inputValue('#area'));
    if (area.type !== 'Polygon' || area.coordinates[0].length !== 4) fail(`drawn area: ${JSON.stringify(area)}`);
    await page.check('#service_light_out');
    const title = lang === 'ar' ? 'انقطاع الإنارة' : 'Coupure éclairage';
    await page.fill('#title_fr', `${title} (${lang})`);
    await page.fill('#body_fr', 'Travaux sur le réseau, retour prévu ce soir.');
    await page.fill('#title_ar', 'انقطاع الإنارة');
    await page.fill('#body_ar', 'أشغال على الشبكة.');
    await shot(page, `notices-drawn-${lang}.png`);
    await submit(page, '#publish');
  });

  await step(`${lang}: the published notice`, async () => {
    await expectVisible(page, '#done');
    const rows = await page.locator('#notices tr.notice').count();
    if (rows < 1) fail('the published notice is not listed');
    await page.waitForFunction(() => document.querySelectorAll('#notice-map path.leaflet-interactive').length > 0);
    await checkPage(page, lang, 'notices-published');
  });
}

/** The disputes page (its actions are checked over HTTP in staff_pages.rs). */
async function disputes(page, lang) {
  await step(`${lang}: the disputes page`, async () => {
    await page.goto(url(`/staff/disputes?lang=${lang}`));
    await expectVisible(page, '#disputes');
    await checkPage(page, lang, 'disputes');
  });
}

/** The administration pages: a statement to print, the SLA page, an Open311 key issued
 * and shown once, the accounts and the operators' webhooks. */
async function administration(page, lang) {
  await step(`${lang}: a contract's statement`, async () => {
    await page.goto(url(`/staff/statement?lang=${lang}`));
    await submit(page, '#choose');
    await expectVisible(page, '#statement');
    await expectVisible(page, '#csv');
    await checkPage(page, lang, 'statement');
  });
  await step(`${lang}: the SLA calendar and policies`, async () => {
    await page.goto(url(`/staff/sla?lang=${lang}`));
    await expectVisible(page, '#weekly-hours');
    await checkPage(page, lang, 'sla');
  });
  await step(`${lang}: issue an Open311 key`, async () => {
    await page.goto(url(`/staff/open311-keys?lang=${lang}`));
    await page.fill('#name', lang === 'ar' ? 'تطبيق شريك' : 'Application partenaire');
    await submit(page, '#new-key');
    await expectVisible(page, '#issued');
    const key = await page.inputValue('#secret');
    if (!key.startsWith('o311_')) fail(`the issued key looks wrong: ${key.slice(0, 8)}…`);
    await checkPage(page, lang, 'keys-issued', false);
  });
  await step(`${lang}: the accounts`, async () => {
    await page.goto(url(`/staff/users?lang=${lang}`));
    await expectVisible(page, '#users');
    await checkPage(page, lang, 'users');
  });
  await step(`${lang}: the operators' webhooks`, async () => {
    await page.goto(url(`/staff/webhooks?lang=${lang}`));
    await expectVisible(page, '.operator-health');
    await checkPage(page, lang, 'webhooks');
  });
}

/** Screenshots of every page at the three widths. */
async function widths(page, lang) {
  const d = DAY[lang];
  const pages = [
    ['triage', `/staff/triage?lang=${lang}`],
    ['report', `/staff/reports/${d.original}?lang=${lang}`],
    ['intake', `/staff/intake?lang=${lang}&service=light_damaged_pole`],
    ['notices', `/staff/notices?lang=${lang}`],
    ['disputes', `/staff/disputes?lang=${lang}`],
    ['statement', `/staff/statement?lang=${lang}&contract=${d.contract}`],
    ['sla', `/staff/sla?lang=${lang}`],
    ['keys', `/staff/open311-keys?lang=${lang}`],
    ['users', `/staff/users?lang=${lang}`],
    ['webhooks', `/staff/webhooks?lang=${lang}`],
  ];
  for (const [size, viewport] of [['phone', PHONE], ['tablet', TABLET], ['desktop', DESKTOP]]) {
    for (const [label, path] of pages) {
      await step(`${lang}: ${label} at ${size} width`, async () => {
        await page.setViewportSize(viewport);
        await page.goto(url(path));
        await expectLanguage(page, lang);
        await shot(page, `${label}-${lang}-${size}.png`);
      });
    }
  }
}

await finish(async () => {
  const page = await launch('fr-FR');
  await step('log in', async () => {
    await page.goto(url('/staff/login?lang=fr'));
    await page.fill('#email', email);
    await page.fill('#password', password);
    await submit(page, 'form:has(input#email)');
    if (pathOf(page.url()) !== '/staff/dashboard') fail(`the login led to ${page.url()}`);
  });
  await page.setViewportSize(DESKTOP);
  await day(page, 'fr');
  await disputes(page, 'fr');
  await administration(page, 'fr');
  await page.setViewportSize(TABLET);
  await day(page, 'ar');
  await disputes(page, 'ar');
  await administration(page, 'ar');
  await widths(page, 'fr');
  await widths(page, 'ar');
  log('done');
  await noConsoleErrors();
});
