#!/usr/bin/env node
// End-to-end test of the resident web app at `/` (issue 20), in headless Debian Chromium,
// on a phone-sized window:
//
//   node resident-app.mjs BASE_URL - - SCREENSHOT_DIR
//
// 1. First load on an emulated slow 3G connection (DevTools network throttling): prints
//    the bytes transferred and the time until the app is usable, as figures.
// 2. French: service tile, position from geolocation (accuracy shown), "me too" offered for
//    the similar report seeded nearby, photo through the file chooser (shrunk in the
//    browser), description, reference shown.
// 3. Arabic, switched with the visible language switch, keyboard only: geolocation denied →
//    gazetteer search → place → description → send; reference shown.
// 4. Offline (the context set offline): two reports queued, the page reloaded (from the
//    service worker), network back → both sent. Prints `RESULT {"references": [...]}` so
//    the Rust driver can count the rows in the server's database.
// 5. Follow-up: notifications (permission granted, subscription with the server's VAPID key
//    registered with quiet hours, a push shown by the service worker), the commune's notice
//    near the chosen place, the service's easy-to-read text and videos (sign language named),
//    and the map pin placed by a click and by the keyboard alone (tiles from the Rust
//    driver's local tile server); a tap on the notification (notificationclick in the
//    service worker) opens the report; following a report another device made (found
//    nearby), its status after the operator acknowledges it, stopping.
// axe-core (serious/critical) in each language; screenshots at phone and tablet widths.
//
// Headless Chromium has no push service ("Registration failed - permission denied"), so the
// page's PushManager.subscribe returns the subscription of the Rust driver's local push
// service (BALAGH_TEST_PUSH_SUBSCRIPTION, the JSON of PushSubscription.toJSON()), after
// checking it was asked with the server's VAPID key; the driver then checks that the
// operator's resolution reached that push service for this subscription.

import { followedStatus, following, mapPin, notificationOpens, notifications, pushStandIn, serviceInfo, stopFollowing } from './resident-follow.mjs';
import {
  checkAccessibility,
  browserContext,
  expectConsoleErrors,
  expectVisible,
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

// PASSWORD is an API token of an agent of the operator the French report goes to.
const { password: operatorToken } = startRun('resident-app', 240_000);
let frenchId = null;
const PHONE = { width: 390, height: 844 };
const TABLET = { width: 820, height: 1180 };
// Next to the report the Rust driver seeds (Place Hassan II), inside the demo commune.
const HERE = { latitude: 35.5722, longitude: -5.3717, accuracy: 12 };
// DevTools' "Slow 3G" preset.
const SLOW_3G = { offline: false, latency: 2000, downloadThroughput: (500 * 1024 * 0.8) / 8, uploadThroughput: (500 * 1024 * 0.8) / 8 };
const FAST = { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 };

const waitFor = (page, fn, arg) => page.waitForFunction(fn, arg, { timeout: 15_000, polling: 100 });
const waiting = (page) => page.evaluate(() => document.getElementById('res-net').dataset.waiting);

async function firstLoad(page) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Network.enable');
  let bytes = 0;
  let decoded = 0;
  const requests = [];
  cdp.on('Network.loadingFinished', (e) => { bytes += e.encodedDataLength; });
  cdp.on('Network.dataReceived', (e) => { decoded += e.dataLength; });
  cdp.on('Network.requestWillBeSent', (e) => requests.push(new URL(e.request.url).pathname));
  await cdp.send('Network.emulateNetworkConditions', SLOW_3G);
  await page.goto(url('/?lang=fr'), { waitUntil: 'commit' });
  await waitFor(page, () => document.documentElement.dataset.ready === 'yes');
  const readyAt = Number(await page.evaluate(() => document.documentElement.dataset.readyAt));
  await cdp.send('Network.emulateNetworkConditions', FAST);
  await cdp.detach();
  log(`FIGURE first load on slow 3G: ${bytes} bytes transferred (${(bytes / 1024).toFixed(1)} KB with gzip; bodies ${(decoded / 1024).toFixed(1)} KB uncompressed; no tiles) in ${requests.length} requests; usable after ${readyAt} ms`);
  process.stdout.write(`FIGURE first_load_bytes=${bytes} first_load_uncompressed_body_bytes=${decoded} time_to_usable_ms=${readyAt}\n`);
  if (bytes > 150 * 1024) fail(`the first load transferred ${bytes} bytes, over the 150 KB budget`);
}

async function photo(page) {
  // A 3000 × 2000 JPEG made by the browser itself; the app must shrink it to 2048 px.
  const dataUrl = await page.evaluate(() => {
    const c = document.createElement('canvas');
    c.width = 3000; c.height = 2000;
    const g = c.getContext('2d');
    g.fillStyle = '#6a8'; g.fillRect(0, 0, 3000, 2000);
    g.fillStyle = '#333'; g.fillRect(800, 500, 1400, 1000);
    return c.toDataURL('image/jpeg', 0.9);
  });
  return Buffer.from(dataUrl.split(',')[1], 'base64');
}

async function reference(page) {
  await waitFor(page, () => !!document.querySelector('#res-result .res-sent'));
  const text = await page.locator('#res-result .res-sent').textContent();
  const match = text.match(/[A-Z]{2,}-[A-Z0-9]+/);
  if (!match) fail(`no reference in "${text}"`);
  return match[0];
}

async function french(page, context) {
  await context.grantPermissions(['geolocation'], { origin: url('') });
  await context.setGeolocation(HERE);
  await page.setViewportSize(PHONE);
  await page.goto(url('/?lang=fr'));
  await waitFor(page, () => document.documentElement.dataset.ready === 'yes');
  const dir = await page.locator('html').getAttribute('dir');
  if (dir !== 'ltr') fail(`French page has dir=${dir}`);
  await checkAccessibility(page, 'resident-fr');
  await shot(page, 'phone-fr.png');
  await page.check('input[name=service][value=waste_bin_overflow]');
  await serviceInfo(page, 'fr');
  await page.click('#res-locate');
  await waitFor(page, () => /12/.test(document.getElementById('res-position').textContent));
  // The commune's notice around here, in French.
  await waitFor(page, () => /Collecte retardée/.test(document.getElementById('res-notices').textContent));
  // The similar report seeded nearby is offered, with "me too".
  await expectVisible(page, '#res-nearby-list button:not(.res-follow)');
  await page.click('#res-nearby-list button:not(.res-follow)');
  await waitFor(page, () => document.getElementById('res-nearby-status').textContent.length > 0);
  await page.setInputFiles('#res-photo', { name: 'photo.jpg', mimeType: 'image/jpeg', buffer: await photo(page) });
  await waitFor(page, () => document.getElementById('res-photo-status').textContent.length > 0);
  await page.fill('#res-description', 'Conteneur plein depuis trois jours');
  await checkAccessibility(page, 'resident-fr-filled');
  await shot(page, 'phone-fr-filled.png');
}

// Sent apart from the filling: the server's photo processing takes seconds on a busy machine.
async function frenchSend(page) {
  await page.click('#res-submit');
  const ref = await reference(page);
  // "My reports" is drawn after the reference is shown: wait for the new one in it.
  await waitFor(page, (r) => [...document.querySelectorAll('#res-mine li')].some((li) => li.textContent.includes(r)), ref);
  frenchId = await page.evaluate((r) => [...document.querySelectorAll('#res-mine li')].find((li) => li.textContent.includes(r)).dataset.id, ref);
  // The photo reached the server, at most 2048 px wide.
  const photos = await page.evaluate(async (id) => {
    const token = localStorage.getItem('balagh-device');
    const r = await fetch(`/api/v1/reports/${id}/photos`, { headers: { Authorization: `Bearer ${token}` } });
    return r.ok ? (await r.json()) : { status: r.status };
  }, frenchId);
  const list = Array.isArray(photos) ? photos : photos.photos;
  if (!list || list.length !== 1) fail(`expected one photo on the report, got ${JSON.stringify(photos).slice(0, 200)}`);
  await shot(page, 'phone-fr-sent.png');
  return ref;
}

async function arabicByKeyboard(page, context) {
  await context.clearPermissions();
  await page.click('a[hreflang=ar]');
  await waitFor(page, () => document.documentElement.lang === 'ar' && document.documentElement.dataset.ready === 'yes');
  if ((await page.locator('html').getAttribute('dir')) !== 'rtl') fail('Arabic page is not right to left');
  await checkAccessibility(page, 'resident-ar');
  await shot(page, 'phone-ar.png');
  // Keyboard only, from the top of the page.
  await page.evaluate(() => document.activeElement && document.activeElement.blur());
  const tabTo = async (predicate, what) => {
    for (let i = 0; i < 25; i++) {
      await page.keyboard.press('Tab');
      if (await page.evaluate(predicate)) return;
    }
    fail(`Tab never reached ${what}`);
  };
  await tabTo(() => document.activeElement.name === 'service', 'the services');
  // Space checks the focused service; ArrowDown moves to (and checks) the next one.
  await page.keyboard.press('Space');
  const checked = () => page.evaluate(() => document.querySelector('input[name=service]:checked').value);
  for (let i = 0; i < 20 && (await checked()) !== 'light_out'; i++) await page.keyboard.press('ArrowDown');
  if ((await checked()) !== 'light_out') fail(`keyboard chose ${await checked()}`);
  await tabTo(() => document.activeElement.id === 'res-locate', 'the position button');
  await page.keyboard.press('Enter');
  // Denied: the app says so and moves to the gazetteer search.
  await waitFor(page, () => document.activeElement.id === 'res-q');
  await page.keyboard.type('الفدان');
  await waitFor(page, () => !!document.querySelector('#res-places button'));
  await tabTo(() => document.activeElement.classList.contains('res-place'), 'a place');
  await page.keyboard.press('Enter');
  await waitFor(page, () => document.activeElement.id === 'res-description');
  const chosenPlace = await page.locator('#res-place-chosen').textContent();
  if (!chosenPlace.includes('الفدان')) fail(`place chosen: ${chosenPlace}`);
  // The notice around the place, in Arabic.
  await waitFor(page, () => /تأخير جمع النفايات/.test(document.getElementById('res-notices').textContent));
  await page.keyboard.type('المصباح مطفأ منذ أسبوع');
  await tabTo(() => document.activeElement.id === 'res-submit', 'the send button');
  await page.keyboard.press('Enter');
  const ref = await reference(page);
  await checkAccessibility(page, 'resident-ar-sent');
  await shot(page, 'phone-ar-sent.png');
  return ref;
}

async function tablets(page) {
  await page.setViewportSize(TABLET);
  for (const lang of ['fr', 'ar']) {
    await page.goto(url(`/?lang=${lang}`));
    await waitFor(page, () => document.documentElement.dataset.ready === 'yes');
    await shot(page, `tablet-${lang}.png`);
  }
  await page.setViewportSize(PHONE);
}

async function queueOffline(page, context, n) {
  await page.check('input[name=service][value=waste_street_not_swept]');
  await page.click('#res-locate');
  await waitFor(page, () => /12/.test(document.getElementById('res-position').textContent));
  await page.fill('#res-description', `Rue non balayée (hors ligne ${n})`);
  await page.click('#res-submit');
  await waitFor(page, (want) => document.getElementById('res-net').dataset.waiting === want, String(n));
}

async function followUp(page) {
  const ticket = url(`/api/v1/operator/tickets/${frenchId}`);
  const auth = { Authorization: `Bearer ${operatorToken}` };
  const read = await fetch(ticket, { headers: auth });
  if (!read.ok) fail(`the operator cannot read the ticket: ${read.status}`);
  // The operator asks the resident a question (the ticket waits for the answer).
  const item = `#res-mine li[data-id="${frenchId}"]`;
  let etag = read.headers.get('etag');
  for (const [action, body] of [
    ['acknowledge', {}],
    ['start', {}],
    ['pause', { reason: 'awaiting_resident', note: 'Quel conteneur exactement ?' }],
  ]) {
    const r = await fetch(`${ticket}/actions/${action}`, {
      method: 'POST',
      headers: { ...auth, 'If-Match': etag, 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (!r.ok) fail(`${action}: ${r.status} ${await r.text()}`);
    etag = r.headers.get('etag');
  }
  await page.reload();
  await waitFor(page, (sel) => document.querySelector(sel)?.dataset.status === 'paused', item);
  const question = await page.locator(`${item} .res-question`).textContent();
  if (!question.includes('Quel conteneur exactement ?')) fail(`the operator's question is not shown: ${question}`);
  await checkAccessibility(page, 'resident-fr-question');
  await page.fill(`#res-reply-${frenchId}`, 'Le vert, derrière la mosquée');
  await page.click(`${item} .res-reply-send`);
  await waitFor(page, (sel) => document.querySelector(sel)?.dataset.status === 'in_progress', item);
  const after = await fetch(ticket, { headers: auth });
  const history = (await after.json()).history || [];
  const answered = history[history.length - 1];
  if (!answered || answered.data.note !== 'Le vert, derrière la mosquée') fail(`the operator does not read the answer: ${JSON.stringify(answered)}`);
  const resolved = await fetch(`${ticket}/actions/resolve`, {
    method: 'POST',
    headers: { ...auth, 'If-Match': after.headers.get('etag'), 'Content-Type': 'application/json' },
    body: JSON.stringify({ note: 'Conteneur vidé ce matin' }),
  });
  if (!resolved.ok) fail(`resolve: ${resolved.status} ${await resolved.text()}`);
  await page.reload();
  await waitFor(page, (sel) => document.querySelector(sel)?.dataset.status === 'resolved', item);
  const answer = await page.locator(`${item} .res-answer`).textContent();
  if (!answer.includes('Conteneur vidé ce matin')) fail(`the operator's answer is not shown: ${answer}`);
  await checkAccessibility(page, 'resident-fr-resolved');
  // A rating, by keyboard-usable radio buttons.
  await page.check(`#res-rate-${frenchId}-4`);
  await page.click(`${item} .res-rate-send`);
  await waitFor(page, (sel) => document.querySelector(sel)?.dataset.rated === '4', item);
  await shot(page, 'phone-fr-rated.png');
  await page.click(`${item} .res-actions button >> nth=1`);
  await page.fill(`#res-reopen-${frenchId}`, 'Le conteneur déborde encore');
  await page.click(`${item} > button`);
  await waitFor(page, (sel) => document.querySelector(sel)?.dataset.status === 'reopened', item);
  await shot(page, 'phone-fr-reopened.png');
}

async function main() {
  const page = await step('prepare', () => launch('fr-FR'));
  const context = browserContext();
  await pushStandIn(context, process.env.BALAGH_TEST_PUSH_SUBSCRIPTION);
  await step('first load on slow 3G', () => firstLoad(page));
  const references = [];
  await step('French: position, me too, photo', () => french(page, context));
  await step('French: sent with its photo, reference', async () => references.push(await frenchSend(page)));
  await step('Arabic by keyboard: position denied, gazetteer, reference', async () => references.push(await arabicByKeyboard(page, context)));
  await step('notifications: permission, subscription with quiet hours, a push shown', () => notifications(page, context, frenchId));
  await step('a tap on the notification opens the report', () => notificationOpens(page, context, frenchId));
  await step('Arabic: the service explained (easy-to-read text, videos)', async () => {
    await page.goto(url('/?lang=ar'));
    await waitFor(page, () => document.documentElement.dataset.ready === 'yes');
    await page.check('input[name=service][value=waste_bin_overflow]');
    await serviceInfo(page, 'ar');
  });
  const followed = { reportId: process.env.BALAGH_TEST_FOLLOW_REPORT, service: 'waste_damaged_bin', here: HERE, operatorToken };
  await step('follow a report another device made, found nearby', () => following(page, context, followed));
  await step('the operator acknowledges it: the follower sees it (French, Arabic)', () => followedStatus(page, followed));
  await step('stop following: offline says why, online it is gone', () => stopFollowing(page, context, followed));
  await step('map: the pin placed by a click, then by the keyboard alone', () => mapPin(page));
  await step('tablet screenshots', () => tablets(page));
  await step('offline: two reports queued', async () => {
    await page.goto(url('/?lang=fr'));
    await waitFor(page, () => document.documentElement.dataset.offlineReady === 'yes');
    await context.grantPermissions(['geolocation'], { origin: url('') });
    // Chromium logs the loads that fail while offline (the worker answers from its copy).
    expectConsoleErrors(/net::ERR_INTERNET_DISCONNECTED/);
    await context.setOffline(true);
    await waitFor(page, () => !navigator.onLine);
    await queueOffline(page, context, 1);
    await queueOffline(page, context, 2);
    await checkAccessibility(page, 'resident-fr-offline');
    await shot(page, 'phone-fr-offline.png');
  });
  await step('offline: reloaded from the service worker, still waiting', async () => {
    await page.reload();
    await waitFor(page, () => document.documentElement.dataset.ready === 'yes');
    // The count is read from IndexedDB after the page is ready: wait until it is shown.
    await waitFor(page, () => document.getElementById('res-net').dataset.waiting !== undefined);
    const left = await waiting(page);
    if (left !== '2') fail(`after the reload ${left} reports wait, expected 2`);
  });
  await step('online again: the queue is sent', async () => {
    await context.setOffline(false);
    await waitFor(page, () => document.getElementById('res-net').dataset.waiting === '0');
    await waitFor(page, () => document.querySelectorAll('#res-mine li').length === 4);
    const mine = await page.$$eval('#res-mine li', (lis) => lis.map((li) => li.querySelector('bdi').textContent));
    for (const ref of mine) if (!references.includes(ref)) references.push(ref);
    await shot(page, 'phone-fr-sent-after-offline.png');
  });
  await step('my reports: the operator resolves, the resident reads the answer and reopens', () => followUp(page));
  await noConsoleErrors();
  process.stdout.write(`RESULT ${JSON.stringify({ references, french_id: frenchId })}\n`);
}

finish(main);
