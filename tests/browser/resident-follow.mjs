// The resident app's follow-up steps (issue 20), used by resident-app.mjs: notifications,
// the service's easy-to-read text and videos, and the map pin without dragging.

import { checkAccessibility, expectConsoleErrors, fail, shot, url } from './harness.mjs';

const waitFor = (page, fn, arg) => page.waitForFunction(fn, arg, { timeout: 15_000, polling: 100 });

/**
 * Headless Chromium has no push service: every page's PushManager gets a subscribe() that
 * records the applicationServerKey it is given and returns `subscriptionJson` (the local
 * push service's subscription, as PushSubscription.toJSON()).
 */
export async function pushStandIn(context, subscriptionJson) {
  if (!subscriptionJson) fail('BALAGH_TEST_PUSH_SUBSCRIPTION is not set');
  await context.addInitScript((json) => {
    if (!window.PushManager) return;
    const subscription = JSON.parse(json);
    let current = null;
    PushManager.prototype.getSubscription = async function getSubscription() { return current; };
    PushManager.prototype.subscribe = async function subscribe(options) {
      const key = new Uint8Array(options.applicationServerKey);
      sessionStorage.setItem('test-push-key', btoa(String.fromCharCode(...key)));
      sessionStorage.setItem('test-push-visible', String(options.userVisibleOnly));
      current = {
        endpoint: subscription.endpoint,
        toJSON: () => subscription,
        unsubscribe: async () => { current = null; return true; },
      };
      return current;
    };
  }, subscriptionJson);
}

const hhmm = (d) => `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;

/** The push the service worker got, shown as a notification tagged with the report. */
async function pushShown(page, context, reportId) {
  const cdp = await context.newCDPSession(page);
  const registrations = [];
  cdp.on('ServiceWorker.workerRegistrationUpdated', (e) => registrations.push(...e.registrations));
  await cdp.send('ServiceWorker.enable');
  for (let i = 0; i < 100 && !registrations.some((r) => !r.isDeleted); i++) await new Promise((r) => setTimeout(r, 100));
  const registration = registrations.find((r) => !r.isDeleted);
  if (!registration) fail('no service worker registration to push to');
  // What the push service hands the browser (the server's payload, decrypted).
  const data = JSON.stringify({
    title: 'Balagh', body: 'Le signalement est résolu.',
    data: { type: 'report_status', report_id: reportId, status: 'resolved' },
  });
  await cdp.send('ServiceWorker.deliverPushMessage', { origin: url(''), registrationId: registration.registrationId, data });
  await waitFor(page, async (tag) => {
    const shown = await (await navigator.serviceWorker.ready).getNotifications({ tag });
    return shown.length === 1 && shown[0].body === 'Le signalement est résolu.' && shown[0].data.report_id === tag.slice(7);
  }, `report-${reportId}`);
  await cdp.detach();
}

/** Notify me: permission, the subscription registered with quiet hours, a push shown. */
export async function notifications(page, context, reportId) {
  await context.grantPermissions(['geolocation', 'notifications'], { origin: url('') });
  await page.goto(url('/?lang=fr'));
  await waitFor(page, () => document.documentElement.dataset.ready === 'yes' && !!navigator.serviceWorker.controller);
  // Quiet hours that do not cover now (the resolution's push must come at once).
  const now = Date.now();
  const start = hhmm(new Date(now + 2 * 3600_000));
  const end = hhmm(new Date(now + 3 * 3600_000));
  await page.fill('#res-quiet-start', start);
  await page.fill('#res-quiet-end', end);
  await page.click('#res-push-on');
  await waitFor(page, () => document.getElementById('res-push').dataset.on === 'yes');
  const status = await page.locator('#res-push-status').textContent();
  if (!status.includes(start) || !status.includes(end)) fail(`the quiet hours are not confirmed: ${status}`);
  const check = await page.evaluate(async () => {
    const token = localStorage.getItem('balagh-device');
    const registration = await (await fetch('/api/v1/devices/me/push', { headers: { Authorization: `Bearer ${token}` } })).json();
    const key = (await (await fetch('/api/v1/push/web-push-key')).json()).public_key;
    return { registration, key, asked: sessionStorage.getItem('test-push-key'), visible: sessionStorage.getItem('test-push-visible') };
  });
  const { registration } = check;
  if (registration.channel !== 'web_push' || registration.language !== 'fr' || !registration.active) {
    fail(`registration: ${JSON.stringify(registration)}`);
  }
  if (registration.quiet_hours?.start !== start || registration.quiet_hours?.end !== end) {
    fail(`quiet hours stored: ${JSON.stringify(registration.quiet_hours)}, expected ${start}–${end}`);
  }
  const standard = check.key.replace(/-/g, '+').replace(/_/g, '/').replace(/=+$/, '');
  if (check.asked?.replace(/=+$/, '') !== standard || check.visible !== 'true') {
    fail(`subscribed with key ${check.asked} (userVisibleOnly ${check.visible}), the server's is ${check.key}`);
  }
  await checkAccessibility(page, 'resident-fr-notifications');
  await page.locator('#res-push').scrollIntoViewIfNeeded();
  await shot(page, 'phone-fr-notifications.png');
  await pushShown(page, context, reportId);
}

/**
 * A tap on the notification: headless Chromium shows notifications nowhere to tap, so the
 * test dispatches `notificationclick` in the service worker with the notification it shows
 * (untrusted, so its waitUntil is collected instead of throwing). The worker's handler must
 * bring the open window to `/#report-{id}`, where the app focuses that report.
 */
export async function notificationOpens(page, context, reportId) {
  await page.goto(url('/?lang=fr'));
  await waitFor(page, () => document.documentElement.dataset.ready === 'yes' && !!navigator.serviceWorker.controller);
  if (/^#report-/.test(await page.evaluate(() => location.hash))) fail('the page is at a report before the tap');
  const worker = context.serviceWorkers().find((w) => w.url().endsWith('/sw.js')) ??
    (await context.waitForEvent('serviceworker', { predicate: (w) => w.url().endsWith('/sw.js') }));
  const tapped = await worker.evaluate(async (tag) => {
    // Headless Chromium may have dropped the pushed one already: shown again as the push
    // handler shows it (that handler is tested by the push step).
    if (!(await self.registration.getNotifications({ tag })).length) {
      await self.registration.showNotification('Balagh', { tag, body: 'Le signalement est résolu.', data: { report_id: tag.slice(7) } });
    }
    const [notification] = await self.registration.getNotifications({ tag });
    if (!notification) return 'no notification';
    const event = new NotificationEvent('notificationclick', { notification });
    const waits = [];
    Object.defineProperty(event, 'waitUntil', { value: (p) => waits.push(p) });
    self.dispatchEvent(event);
    // Bounded: what counts is where the page ends (checked below), not the promise.
    await Promise.race([Promise.allSettled(waits), new Promise((r) => setTimeout(r, 5000))]);
    return `${waits.length} wait`;
  }, `report-${reportId}`);
  if (tapped !== '1 wait') fail(`notificationclick: ${tapped}`);
  const opened = await page.waitForFunction((id) => location.pathname === '/' && location.hash === `#report-${id}`
    && document.documentElement.dataset.ready === 'yes' && document.activeElement?.id === `report-${id}`,
  reportId, { timeout: 10_000, polling: 100 }).catch(() => null);
  if (!opened) {
    const where = await page.evaluate(() => `${location.pathname}${location.hash}, focus on "${document.activeElement?.id}"`);
    fail(`the tap did not open report-${reportId}: the page is at ${where}`);
  }
  // The handler closed the notification it opened.
  const left = await page.evaluate(async (tag) => (await (await navigator.serviceWorker.ready).getNotifications({ tag })).length, `report-${reportId}`);
  if (left !== 0) fail(`the notification is still shown after the tap (${left})`);
}

/**
 * Follow a report another device made, found nearby: the toggle is pressed, the report is
 * listed with its status, the operator's change reaches it; offline the toggle says it needs
 * the network; stop following → gone (and the server no longer shows it to this device).
 */
export async function following(page, context, { reportId, service, here }) {
  await context.grantPermissions(['geolocation'], { origin: url('') });
  await context.setGeolocation(here);
  await page.goto(url('/?lang=fr'));
  await waitFor(page, () => document.documentElement.dataset.ready === 'yes');
  await page.check(`input[name=service][value=${service}]`);
  await page.click('#res-locate');
  const toggle = `#res-nearby-list li[data-id="${reportId}"] .res-follow`;
  await waitFor(page, (sel) => document.querySelector(sel)?.getAttribute('aria-pressed') === 'false', toggle);
  const label = await page.locator(toggle).textContent();
  if (label !== 'Suivre') fail(`the toggle says "${label}"`);
  await page.click(toggle);
  await waitFor(page, (sel) => document.querySelector(sel)?.getAttribute('aria-pressed') === 'true', toggle);
  const item = `#followed-${reportId}`;
  await waitFor(page, (sel) => !!document.querySelector(sel)?.dataset.status, item);
  // Listed with the report this device supported ("me too" follows it too).
  const listed = await page.$$eval('#res-followed li', (lis) => lis.length);
  if (listed !== 2) fail(`${listed} followed reports listed, expected the supported one and this one`);
  const asFollower = await page.evaluate(async (id) => {
    const token = localStorage.getItem('balagh-device');
    const r = await fetch(`/api/v1/reports/${id}`, { headers: { Authorization: `Bearer ${token}` } });
    return r.ok ? (await r.json()).viewer : r.status;
  }, reportId);
  if (asFollower !== 'follower') fail(`the server does not show the followed report to this device: ${asFollower}`);
}

/** The operator acknowledges the followed report: the follower sees it, in French and Arabic. */
export async function followedStatus(page, { reportId, operatorToken }) {
  const item = `#followed-${reportId}`;
  const ticket = url(`/api/v1/operator/tickets/${reportId}`);
  const auth = { Authorization: `Bearer ${operatorToken}` };
  const read = await fetch(ticket, { headers: auth });
  if (!read.ok) fail(`the operator cannot read the followed report: ${read.status}`);
  const acked = await fetch(`${ticket}/actions/acknowledge`, {
    method: 'POST', headers: { ...auth, 'If-Match': read.headers.get('etag'), 'Content-Type': 'application/json' }, body: '{}',
  });
  if (!acked.ok) fail(`acknowledge: ${acked.status} ${await acked.text()}`);
  await page.reload();
  await waitFor(page, (sel) => document.querySelector(sel)?.dataset.status === 'acknowledged', item);
  const shown = await page.locator(`${item} .res-followed-status`).textContent();
  if (shown !== 'pris en compte') fail(`status shown: "${shown}"`);
  await checkAccessibility(page, 'resident-fr-following');
  await page.locator(item).scrollIntoViewIfNeeded();
  await shot(page, 'phone-fr-following.png');
  await page.goto(url('/?lang=ar'));
  await waitFor(page, (sel) => document.querySelector(sel)?.dataset.status === 'acknowledged', item);
  const arabic = await page.locator(`${item} .res-followed-status`).textContent();
  if (arabic !== 'تم التكفل') fail(`status shown in Arabic: "${arabic}"`);
  await checkAccessibility(page, 'resident-ar-following');
  await page.locator(item).scrollIntoViewIfNeeded();
  await shot(page, 'phone-ar-following.png');
}

/** Offline the app says stopping needs the network; online, stop following → gone. */
export async function stopFollowing(page, context, { reportId }) {
  const item = `#followed-${reportId}`;
  // Offline (on the Arabic page): nothing changes and the app says why.
  await context.setOffline(true);
  await waitFor(page, () => !navigator.onLine);
  await page.click(`${item} .res-unfollow`);
  await waitFor(page, () => /الشبكة/.test(document.getElementById('res-following-status').textContent));
  if (!(await page.$(item))) fail('stopping offline removed the report');
  await context.setOffline(false);
  await waitFor(page, () => navigator.onLine);

  // Stop following: gone from the list, focus on the section's title, unknown to the device.
  await page.goto(url('/?lang=fr'));
  await waitFor(page, (sel) => !!document.querySelector(sel)?.dataset.status, item);
  await page.click(`${item} .res-unfollow`);
  await waitFor(page, (sel) => !document.querySelector(sel) && document.activeElement?.id === 'res-following-title', item);
  // Asked from here, not the page (Chromium would log the 404 as an error).
  const token = await page.evaluate(() => localStorage.getItem('balagh-device'));
  const after = (await fetch(url(`/api/v1/reports/${reportId}`), { headers: { Authorization: `Bearer ${token}` } })).status;
  if (after !== 404) fail(`after stopping, the device still reads the report: ${after}`);
  await page.reload();
  await waitFor(page, () => document.documentElement.dataset.ready === 'yes');
  if (await page.$(item)) fail('the report is listed again after a reload');
}

/** The chosen service's easy-to-read text and its videos, each naming its language. */
export async function serviceInfo(page, lang) {
  const want = lang === 'ar'
    ? { text: 'الحاوية ممتلئة', sign: 'لغة الإشارة المغربية' }
    : { text: 'Le bac est plein', sign: 'langue des signes marocaine' };
  await waitFor(page, (text) => document.getElementById('res-service-info').textContent.includes(text), want.text);
  const buttons = await page.$$eval('#res-service-info button.res-video', (bs) => bs.map((b) => b.textContent));
  if (buttons.length !== 2 || !buttons[1].includes(want.sign)) fail(`video buttons: ${JSON.stringify(buttons)}`);
  // The video host is not reachable from the test: an empty answer stands in for it.
  expectConsoleErrors(/videos\.balagh\.test/);
  await page.route('https://videos.balagh.test/**', (route) => route.fulfill({ status: 200, contentType: 'video/mp4', body: '' }));
  await page.click('#res-service-info button.res-video >> nth=1');
  await waitFor(page, () => document.activeElement && document.activeElement.tagName === 'VIDEO');
  const video = await page.$eval('#res-service-info video', (v) => ({ src: v.src, label: v.getAttribute('aria-label'), lang: v.lang }));
  if (video.src !== 'https://videos.balagh.test/bac-xms.mp4' || !video.label.includes(want.sign) || video.lang !== 'xms') {
    fail(`video: ${JSON.stringify(video)}`);
  }
  await checkAccessibility(page, `resident-${lang}-service-info`);
  await page.locator('#res-service-info').scrollIntoViewIfNeeded();
  await shot(page, `phone-${lang}-service-info.png`);
}

/** The pin by a click on the map, then with the keyboard alone (arrows move, Enter places). */
export async function mapPin(page) {
  await page.goto(url('/?lang=fr'));
  await waitFor(page, () => document.documentElement.dataset.ready === 'yes');
  await page.click('#res-map-open');
  await waitFor(page, () => document.getElementById('res-map').dataset.ready === 'yes' && !!document.querySelector('#res-map .leaflet-tile-loaded'));
  const box = await page.locator('#res-map').boundingBox();
  await page.mouse.click(box.x + box.width / 2 + 60, box.y + box.height / 2 - 40);
  await waitFor(page, () => /carte/.test(document.getElementById('res-place-chosen').textContent));
  const clicked = await page.locator('#res-place-chosen').textContent();
  // Keyboard: from the map button, Tab reaches the map; the arrows move it under the cross.
  await page.focus('#res-map-open');
  for (let i = 0; i < 5 && !(await page.evaluate(() => document.activeElement.id === 'res-map')); i++) await page.keyboard.press('Tab');
  if (!(await page.evaluate(() => document.activeElement.id === 'res-map'))) fail('Tab never reached the map');
  for (const key of ['ArrowLeft', 'ArrowLeft', 'ArrowUp']) await page.keyboard.press(key);
  await waitFor(page, () => document.getElementById('res-map').dataset.moving === 'no');
  await page.keyboard.press('Enter');
  await waitFor(page, (before) => {
    const now = document.getElementById('res-place-chosen').textContent;
    return /carte/.test(now) && now !== before;
  }, clicked);
  const entered = await page.locator('#res-place-chosen').textContent();
  // The button does the same from the map's centre (it has not moved since).
  for (let i = 0; i < 8 && !(await page.evaluate(() => document.activeElement.id === 'res-map-centre')); i++) await page.keyboard.press('Tab');
  if (!(await page.evaluate(() => document.activeElement.id === 'res-map-centre'))) fail('Tab never reached the map-centre button');
  await page.keyboard.press('Enter');
  await waitFor(page, (want) => document.getElementById('res-place-chosen').textContent === want, entered);
  await checkAccessibility(page, 'resident-fr-map');
  await page.locator('#res-map').scrollIntoViewIfNeeded();
  await shot(page, 'phone-fr-map.png');
}
