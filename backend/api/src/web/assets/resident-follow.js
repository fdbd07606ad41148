// The resident web app, second part (issue 20): notifications (Web Push with VAPID and
// quiet hours, through the device API), service notices near the chosen place, and each
// service's videos and easy-to-read text. Uses what resident.js shares (window.BalaghResident).
'use strict';
(function () {
  const app = window.BalaghResident;
  if (!app) return;
  const { config, W, api, $ } = app;

  // --- notifications ---------------------------------------------------------------------------
  const pushStatus = (text) => { $('res-push-status').textContent = text; };
  function keyBytes(base64url) {
    const text = atob(base64url.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (base64url.length % 4)) % 4));
    return Uint8Array.from(text, (c) => c.charCodeAt(0));
  }
  function quietHours() {
    const start = $('res-quiet-start').value;
    const end = $('res-quiet-end').value;
    if (!start && !end) return null;
    if (!start || !end || start === end) return undefined;
    return { start: start, end: end };
  }
  async function subscription() {
    const registration = await navigator.serviceWorker.ready;
    const existing = await registration.pushManager.getSubscription();
    if (existing) return existing;
    const r = await fetch('/api/v1/push/web-push-key');
    const key = r.ok ? (await r.json()).public_key : null;
    if (!key) throw new Error('off');
    return registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: keyBytes(key) });
  }
  async function notifyOn() {
    const quiet = quietHours();
    if (quiet === undefined) {
      $('res-quiet-start').setAttribute('aria-invalid', 'true');
      pushStatus(W('res-quiet-invalid'));
      $('res-quiet-start').focus();
      return;
    }
    $('res-quiet-start').removeAttribute('aria-invalid');
    if (!('serviceWorker' in navigator) || !('PushManager' in window) || !('Notification' in window)) {
      pushStatus(W('res-push-unsupported'));
      return;
    }
    if ((await Notification.requestPermission()) !== 'granted') { pushStatus(W('res-push-denied')); return; }
    pushStatus(W('res-push-waiting'));
    let sub;
    try { sub = await subscription(); } catch (e) {
      pushStatus(e.message === 'off' ? W('res-push-off-server') : W('res-push-failed', { detail: e.message }));
      return;
    }
    const body = { channel: 'web_push', language: config.lang, subscription: sub.toJSON() };
    try { body.time_zone = Intl.DateTimeFormat().resolvedOptions().timeZone; } catch (e) { /* the server's zone */ }
    if (quiet) body.quiet_hours = quiet;
    let r = await api('/api/v1/devices/me/push', { method: 'PUT', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) }).catch(() => null);
    if (r && r.status === 422 && body.time_zone) {
      // A zone the server does not know: its own zone (Morocco's) is used instead.
      delete body.time_zone;
      r = await api('/api/v1/devices/me/push', { method: 'PUT', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) }).catch(() => null);
    }
    if (!r || !r.ok) { pushStatus(W('res-push-failed', { detail: r ? r.status : W('res-offline') })); return; }
    localStorage.setItem('balagh-push', 'web_push');
    showPush(await r.json());
  }
  function showPush(view) {
    const on = !!(view && view.active && view.channel === 'web_push');
    $('res-push-off').hidden = !on;
    $('res-push-on').textContent = on ? W('res-push-save') : W('res-push-on');
    document.getElementById('res-push').dataset.on = on ? 'yes' : 'no';
    if (!on) return;
    if (view.quiet_hours) {
      $('res-quiet-start').value = view.quiet_hours.start;
      $('res-quiet-end').value = view.quiet_hours.end;
      pushStatus(W('res-push-on-quiet', { start: view.quiet_hours.start, end: view.quiet_hours.end }));
    } else {
      pushStatus(W('res-push-is-on'));
    }
  }
  async function notifyOff() {
    const r = await api('/api/v1/devices/me/push', { method: 'DELETE' }).catch(() => null);
    if (!r || (!r.ok && r.status !== 404)) { pushStatus(W('res-push-failed', { detail: r ? r.status : W('res-offline') })); return; }
    try {
      const registration = await navigator.serviceWorker.ready;
      const sub = await registration.pushManager.getSubscription();
      if (sub) await sub.unsubscribe();
    } catch (e) { /* the server no longer sends anything anyway */ }
    localStorage.removeItem('balagh-push');
    showPush(null);
    pushStatus(W('res-push-stopped'));
    $('res-push-on').focus();
  }
  $('res-push-on').addEventListener('click', notifyOn);
  $('res-push-off').addEventListener('click', notifyOff);
  // Only a device that registered asks (a 404 would be an error in the console otherwise).
  if (localStorage.getItem('balagh-push') && navigator.onLine) {
    api('/api/v1/devices/me/push').then((r) => {
      if (r.status === 404) localStorage.removeItem('balagh-push');
      return r.ok ? r.json() : null;
    }).then(showPush).catch(() => {});
  }

  // --- service notices near the chosen place -------------------------------------------------------
  const dateFormat = new Intl.DateTimeFormat(config.lang, { dateStyle: 'medium', timeStyle: 'short' });
  async function showNotices(point, label) {
    const list = $('res-notices');
    const status = $('res-notices-status');
    let notices;
    try {
      const r = await fetch('/api/v1/notices?lat=' + point.lat + '&lon=' + point.lon, { headers: { 'Accept-Language': config.lang } });
      if (!r.ok) throw new Error(String(r.status));
      notices = (await r.json()).notices;
    } catch (e) {
      status.textContent = W('res-notices-unavailable');
      return;
    }
    status.textContent = notices.length
      ? W('res-notices-count', { count: notices.length, place: label || W('res-notices-here-place') })
      : W('res-notices-none', { place: label || W('res-notices-here-place') });
    list.replaceChildren(...notices.map((n) => {
      const li = document.createElement('li');
      li.id = 'notice-' + n.id;
      li.lang = n.language;
      if (n.language === 'ar') li.dir = 'rtl';
      const title = document.createElement('h3');
      title.textContent = n.title;
      const body = document.createElement('p');
      body.textContent = n.body;
      const until = document.createElement('p');
      until.className = 'res-hint';
      until.lang = config.lang;
      until.textContent = W('res-notices-until', { date: dateFormat.format(new Date(n.valid_until)) });
      li.append(title, body, until);
      return li;
    }));
  }
  app.onPoint(showNotices);
  $('res-notices-here').addEventListener('click', () => {
    const status = $('res-notices-status');
    if (!navigator.geolocation) { status.textContent = W('res-position-denied'); return; }
    status.textContent = W('res-position-waiting');
    navigator.geolocation.getCurrentPosition(
      (p) => showNotices({ lat: p.coords.latitude, lon: p.coords.longitude }, null),
      () => { status.textContent = W('res-notices-denied'); },
      { enableHighAccuracy: false, timeout: 20000, maximumAge: 300000 });
  });

  // --- the chosen service's videos and easy-to-read text -------------------------------------------
  function showService(service) {
    const box = $('res-service-info');
    const videos = service ? service.videos || [] : [];
    const easy = service ? service.easy_read : null;
    box.hidden = !videos.length && !easy;
    if (box.hidden) { box.replaceChildren(); return; }
    const title = document.createElement('h3');
    title.textContent = W('res-info-title', { service: service.name });
    box.replaceChildren(title);
    if (easy) {
      const text = document.createElement('p');
      text.className = 'res-easy';
      text.textContent = easy;
      box.append(text);
    }
    if (!videos.length) return;
    const buttons = document.createElement('div');
    buttons.className = 'res-actions';
    const player = document.createElement('div');
    player.className = 'res-player';
    for (const v of videos) {
      const b = document.createElement('button');
      b.type = 'button';
      b.className = 'res-button res-secondary res-video';
      b.textContent = W('res-video', { language: v.language_name });
      b.setAttribute('aria-expanded', 'false');
      b.addEventListener('click', () => {
        buttons.querySelectorAll('button').forEach((o) => o.setAttribute('aria-expanded', String(o === b)));
        const video = document.createElement('video');
        video.controls = true;
        video.preload = 'metadata';
        video.src = v.url;
        video.setAttribute('aria-label', W('res-video', { language: v.language_name }) + (v.title ? ' · ' + v.title : ''));
        if (v.language) video.lang = v.language;
        player.replaceChildren(video);
        video.focus();
      });
      buttons.append(b);
    }
    box.append(buttons, player);
  }
  app.onService(showService);

  // --- following reports others made ------------------------------------------------------------
  // The device follows through the API (pushes on each status change); the list of followed
  // reports is kept in IndexedDB (the API does not list them) with the last status seen.
  async function setFollowing(report, on, status) {
    if (!navigator.onLine) { status.textContent = W('res-follow-offline'); return false; }
    const r = await api('/api/v1/reports/' + report.id + '/follow', { method: on ? 'PUT' : 'DELETE' }).catch(() => null);
    if (!r || !r.ok) {
      status.textContent = W('res-follow-failed', { detail: r ? r.status : W('res-offline') });
      return false;
    }
    if (on) await app.put('followed', { id: report.id, reference: report.reference, at: Date.now() });
    else await app.remove('followed', report.id);
    status.textContent = W(on ? 'res-follow-started' : 'res-follow-stopped', { reference: report.reference });
    await showFollowed();
    return true;
  }
  // A toggle (aria-pressed): "Follow" pressed while this device follows the report.
  function followButton(report, status) {
    const b = document.createElement('button');
    b.type = 'button';
    b.className = 'res-button res-secondary res-follow';
    b.textContent = W('res-follow');
    b.setAttribute('aria-pressed', 'false');
    app.all('followed').then((items) => {
      if (items.some((i) => i.id === report.id)) b.setAttribute('aria-pressed', 'true');
    }).catch(() => {});
    let busy = false;
    b.addEventListener('click', async () => {
      if (busy) return;
      busy = true;
      b.setAttribute('aria-busy', 'true');
      const want = b.getAttribute('aria-pressed') !== 'true';
      if (await setFollowing(report, want, status)) b.setAttribute('aria-pressed', String(want));
      b.removeAttribute('aria-busy');
      busy = false;
    });
    return b;
  }
  // "Me too" makes the device a supporter, which follows the report on the server.
  async function supported(report, li) {
    await app.put('followed', { id: report.id, reference: report.reference, at: Date.now() });
    const toggle = li.querySelector('.res-follow');
    if (toggle) toggle.setAttribute('aria-pressed', 'true');
    await showFollowed();
  }
  async function showFollowed() {
    const items = (await app.all('followed')).sort((a, b) => b.at - a.at);
    const list = $('res-followed');
    const focused = list.contains(document.activeElement) ? document.activeElement.id : null;
    $('res-following-none').hidden = items.length > 0;
    list.replaceChildren(...items.map((item) => {
      const li = document.createElement('li');
      li.id = 'followed-' + item.id;
      li.dataset.id = item.id;
      li.tabIndex = -1;
      const head = document.createElement('p');
      head.className = 'res-mine-head';
      head.id = 'followed-head-' + item.id;
      const ref = document.createElement('bdi');
      ref.textContent = item.reference;
      const status = document.createElement('span');
      status.className = 'res-followed-status';
      if (item.status) {
        status.textContent = W('res-status-' + item.status.replace(/_/g, '-'));
        li.dataset.status = item.status;
      }
      head.append(ref, ' · ', status);
      const stop = document.createElement('button');
      stop.type = 'button';
      stop.className = 'res-button res-secondary res-unfollow';
      stop.textContent = W('res-unfollow');
      stop.setAttribute('aria-describedby', head.id);
      stop.addEventListener('click', async () => {
        if (await setFollowing(item, false, $('res-following-status'))) $('res-following-title').focus();
      });
      li.append(head, stop);
      return li;
    }));
    if (focused && document.getElementById(focused)) document.getElementById(focused).focus();
    app.focusLinked();
    if (!navigator.onLine) return;
    await Promise.all(Array.from(list.children).map((li) => refreshFollowed(li, items.find((i) => i.id === li.dataset.id))));
  }
  // The report as a follower sees it (its status); gone (404): the device no longer follows it.
  async function refreshFollowed(li, item) {
    const r = await api('/api/v1/reports/' + item.id).catch(() => null);
    if (r && r.status === 404) {
      await app.remove('followed', item.id);
      li.remove();
      $('res-following-none').hidden = $('res-followed').children.length > 0;
      return;
    }
    if (!r || !r.ok) return;
    const report = await r.json();
    li.querySelector('.res-followed-status').textContent = W('res-status-' + report.status.replace(/_/g, '-'));
    li.dataset.status = report.status;
    await app.put('followed', Object.assign({}, item, { status: report.status }));
  }
  app.followButton = followButton;
  app.supported = supported;
  showFollowed().catch(() => {});
}());
