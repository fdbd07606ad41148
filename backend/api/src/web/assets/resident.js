// The resident web app (issue 20). Speaks only the public /api/v1, as a registered device.
// Every report goes through an IndexedDB outbox with its Idempotency-Key fixed when it is
// written: sent at once when the network allows, else when `online` fires or on the next
// load. The server keeps one report per device and key, whatever is retried.
'use strict';
(function () {
  const form = document.getElementById('res-form');
  if (!form) return;
  const config = JSON.parse(form.dataset.config);
  const $ = (id) => document.getElementById(id);
  const W = (id, vars) => {
    let text = config.words[id] || id;
    for (const k in vars || {}) text = text.split('{' + k + '}').join(String(vars[k]));
    return text;
  };
  const state = { service: null, group: null, point: null, accuracy: null, busLine: null, stopName: null, photo: null };
  const results = new Map();

  // --- device and API --------------------------------------------------------------------
  async function device() {
    let token = localStorage.getItem('balagh-device');
    if (token) return token;
    const response = await fetch('/api/v1/devices', { method: 'POST' });
    if (!response.ok) throw new Error('device registration: ' + response.status);
    token = (await response.json()).token;
    localStorage.setItem('balagh-device', token);
    return token;
  }
  async function api(path, options) {
    const token = await device();
    const opts = Object.assign({}, options || {});
    opts.headers = Object.assign({ Authorization: 'Bearer ' + token, 'Accept-Language': config.lang }, opts.headers || {});
    return fetch(path, opts);
  }
  function uuid() {
    if (crypto.randomUUID) return crypto.randomUUID();
    const b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
    const h = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
    return h.slice(0, 8) + '-' + h.slice(8, 12) + '-' + h.slice(12, 16) + '-' + h.slice(16, 20) + '-' + h.slice(20);
  }

  // --- IndexedDB: the outbox and my reports ------------------------------------------------
  let dbPromise = null;
  function db() {
    if (!dbPromise) {
      dbPromise = new Promise((resolve, reject) => {
        // Version 2 adds the reports followed without having written them.
        const open = indexedDB.open('balagh', 2);
        open.onupgradeneeded = () => {
          for (const [name, keyPath] of [['outbox', 'key'], ['mine', 'id'], ['followed', 'id']]) {
            if (!open.result.objectStoreNames.contains(name)) open.result.createObjectStore(name, { keyPath: keyPath });
          }
        };
        open.onsuccess = () => resolve(open.result);
        open.onerror = () => reject(open.error);
      });
    }
    return dbPromise;
  }
  async function tx(store, mode, fn) {
    const d = await db();
    return new Promise((resolve, reject) => {
      const t = d.transaction(store, mode);
      const request = fn(t.objectStore(store));
      t.oncomplete = () => resolve(request ? request.result : undefined);
      t.onerror = () => reject(t.error);
      t.onabort = () => reject(t.error);
    });
  }
  const put = (store, value) => tx(store, 'readwrite', (s) => s.put(value));
  const remove = (store, key) => tx(store, 'readwrite', (s) => s.delete(key));
  const all = (store) => tx(store, 'readonly', (s) => s.getAll());

  // --- sending -------------------------------------------------------------------------------
  async function sendOne(item) {
    const response = await api('/api/v1/reports', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'Idempotency-Key': item.key },
      body: JSON.stringify(item.body),
    });
    if (response.ok) {
      const report = await response.json();
      if (item.photo) {
        const data = new FormData();
        data.append('photo', item.photo, 'photo.jpg');
        try { await api('/api/v1/reports/' + report.id + '/photos', { method: 'POST', body: data }); } catch (e) { /* the report stands without it */ }
      }
      await put('mine', { id: report.id, reference: report.reference, service: item.body.service_code, at: item.created });
      await remove('outbox', item.key);
      results.set(item.key, { report: report });
      return;
    }
    if (response.status >= 400 && response.status < 500 && response.status !== 408 && response.status !== 429) {
      // Refused for good (the server says what was wrong): not retried.
      const problem = await response.json().catch(() => ({}));
      await remove('outbox', item.key);
      results.set(item.key, { error: problem.detail || problem.title || String(response.status) });
      return;
    }
    throw new Error('retry later: ' + response.status);
  }
  let flushing = null;
  let again = false;
  function flush() {
    if (flushing) { again = true; return flushing; }
    flushing = (async () => {
      do {
        again = false;
        const items = (await all('outbox')).sort((a, b) => a.created - b.created);
        for (const item of items) {
          try { await sendOne(item); } catch (e) { again = false; break; }
        }
      } while (again);
    })().finally(() => { flushing = null; showNetwork(); showMine(); });
    return flushing;
  }
  async function showNetwork() {
    const waiting = (await all('outbox')).length;
    const parts = [];
    if (!navigator.onLine) parts.push(W('res-offline'));
    if (waiting > 0) parts.push(W('res-waiting', { count: waiting }));
    $('res-net').textContent = parts.join(' ');
    $('res-net').dataset.waiting = String(waiting);
  }
  async function showMine() {
    const mine = (await all('mine')).sort((a, b) => b.at - a.at).slice(0, 10);
    const list = $('res-mine');
    const focused = list.contains(document.activeElement) ? document.activeElement.id : null;
    list.replaceChildren(...mine.map((r) => {
      const li = document.createElement('li');
      const ref = document.createElement('bdi');
      ref.textContent = r.reference;
      li.append(ref);
      li.dataset.id = r.id;
      li.id = 'report-' + r.id;
      li.tabIndex = -1;
      return li;
    }));
    // Redrawn (a second call after the queue was sent): the focus stays on the same report.
    if (focused && document.getElementById(focused)) document.getElementById(focused).focus();
    focusLinked();
    if (!navigator.onLine) return;
    for (const li of list.children) {
      api('/api/v1/reports/' + li.dataset.id).then((r) => (r.ok ? r.json() : null))
        .then((report) => { if (report) showReport(li, report); }).catch(() => {});
    }
  }
  // A notification opens `/#report-{id}`: that report gets the focus (once per link), in my
  // reports or else among the followed ones.
  let linked = null;
  function focusLinked() {
    const id = /^#report-/.test(location.hash) ? location.hash.slice('#report-'.length) : null;
    const target = id ? document.getElementById('report-' + id) || document.getElementById('followed-' + id) : null;
    if (!target || linked === location.hash) return;
    linked = location.hash;
    target.scrollIntoView({ block: 'center' });
    target.focus();
  }
  window.addEventListener('hashchange', focusLinked);
  // One of my reports: status, the operator's words, and what I can do now.
  function showReport(li, report) {
    const ref = document.createElement('bdi');
    ref.textContent = report.reference;
    const head = document.createElement('p');
    head.className = 'res-mine-head';
    head.append(ref, ' · ', W('res-status-' + report.status.replace(/_/g, '-')));
    li.replaceChildren(head);
    li.dataset.status = report.status;
    const question = askedOfMe(report);
    if (question !== null) {
      showQuestion(li, report, question);
      return;
    }
    const words = (report.history || []).map((e) => (e.data && (e.data.note || e.data.comment)) || '').filter(Boolean);
    if (words.length) {
      const answer = document.createElement('p');
      answer.className = 'res-answer';
      answer.textContent = W('res-answer', { text: words[words.length - 1] });
      li.append(answer);
    }
    if (report.status === 'resolved' || report.status === 'closed') li.append(rating(li, report));
    if (report.status !== 'resolved') return;
    const confirm = button(W('res-confirm'), async () => {
      const r = await api('/api/v1/reports/' + report.id + '/confirm', { method: 'POST' }).catch(() => null);
      if (r && r.ok) showReport(li, await r.json());
    });
    const reopen = button(W('res-reopen'), () => {
      reopen.disabled = true;
      const id = 'res-reopen-' + report.id;
      const label = document.createElement('label');
      label.htmlFor = id;
      label.className = 'res-label';
      label.textContent = W('res-reopen-why');
      const text = document.createElement('textarea');
      text.id = id;
      text.rows = 2;
      const send = button(W('res-reopen-send'), async () => {
        if (!text.value.trim()) { text.setAttribute('aria-invalid', 'true'); text.focus(); return; }
        const r = await api('/api/v1/reports/' + report.id + '/reopen', {
          method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ comment: text.value.trim() }),
        }).catch(() => null);
        if (r && r.ok) { showReport(li, await r.json()); li.querySelector('.res-mine-head').focus(); }
      });
      li.append(label, text, send);
      text.focus();
    });
    const actions = document.createElement('div');
    actions.className = 'res-actions';
    actions.append(confirm, reopen);
    li.append(actions);
    head.tabIndex = -1;
  }
  // The operator paused the ticket to ask me something: the question, or null.
  function askedOfMe(report) {
    if (report.status !== 'paused') return null;
    const pauses = (report.history || []).filter((e) => e.kind === 'status_changed' && e.data && e.data.action === 'pause');
    const last = pauses[pauses.length - 1];
    return last && last.data.reason === 'awaiting_resident' ? (last.data.note || '') : null;
  }
  function showQuestion(li, report, question) {
    const asked = document.createElement('p');
    asked.className = 'res-question';
    asked.textContent = W('res-question', { text: question });
    const id = 'res-reply-' + report.id;
    const label = document.createElement('label');
    label.htmlFor = id;
    label.className = 'res-label';
    label.textContent = W('res-reply-label');
    const text = document.createElement('textarea');
    text.id = id;
    text.rows = 2;
    const send = button(W('res-reply-send'), async () => {
      if (!text.value.trim()) { text.setAttribute('aria-invalid', 'true'); text.focus(); return; }
      const r = await api('/api/v1/reports/' + report.id + '/reply', {
        method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ text: text.value.trim() }),
      }).catch(() => null);
      if (r && r.ok) { showReport(li, await r.json()); li.querySelector('.res-mine-head').focus(); }
    });
    send.classList.add('res-reply-send');
    li.append(asked, label, text, send);
    li.querySelector('.res-mine-head').tabIndex = -1;
  }
  // Stars from 1 to 5, as radio buttons (a keyboard and a screen reader use them as they are).
  function rating(li, report) {
    const box = document.createElement('fieldset');
    box.className = 'res-rating';
    const legend = document.createElement('legend');
    legend.textContent = W('res-rate-legend');
    box.append(legend);
    for (let n = 1; n <= 5; n++) {
      const id = 'res-rate-' + report.id + '-' + n;
      const input = document.createElement('input');
      input.type = 'radio';
      input.name = 'res-rate-' + report.id;
      input.id = id;
      input.value = String(n);
      const label = document.createElement('label');
      label.htmlFor = id;
      label.textContent = W('res-rate-star', { n });
      const option = document.createElement('span');
      option.className = 'res-rate-option';
      option.append(input, label);
      box.append(option);
    }
    const send = button(W('res-rate-send'), async () => {
      const chosen = box.querySelector('input:checked');
      if (!chosen) { box.querySelector('input').focus(); return; }
      const r = await api('/api/v1/reports/' + report.id + '/rating', {
        method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ stars: Number(chosen.value) }),
      }).catch(() => null);
      if (!(r && r.ok)) return;
      const thanks = document.createElement('p');
      thanks.className = 'res-rated';
      thanks.setAttribute('role', 'status');
      thanks.textContent = W('res-rate-thanks');
      box.replaceWith(thanks);
      li.dataset.rated = chosen.value;
    });
    send.classList.add('res-rate-send');
    box.append(send);
    return box;
  }
  function button(text, onClick) {
    const b = document.createElement('button');
    b.type = 'button';
    b.className = 'res-button res-secondary';
    b.textContent = text;
    b.addEventListener('click', onClick);
    return b;
  }

  // --- the service and its details -------------------------------------------------------------
  function service() { return config.services.find((s) => s.code === state.service); }
  function renderAttributes() {
    const box = $('res-attributes');
    box.replaceChildren();
    const s = service();
    if (!s) return;
    for (const a of s.attributes) {
      const id = 'res-attr-' + a.code;
      const label = document.createElement('label');
      label.htmlFor = id;
      label.className = 'res-label';
      label.textContent = a.description + (a.required ? '' : ' ' + W('res-optional'));
      let input;
      if (a.datatype === 'singlevaluelist') {
        input = document.createElement('select');
        input.append(new Option(W('res-choose'), ''));
        for (const v of a.values) input.append(new Option(v.name, v.key));
      } else {
        input = document.createElement('input');
        input.type = a.datatype === 'number' ? 'number' : a.datatype === 'datetime' ? 'datetime-local' : 'text';
      }
      input.id = id;
      input.dataset.code = a.code;
      input.dataset.datatype = a.datatype;
      if (a.required) { input.required = true; input.setAttribute('aria-required', 'true'); }
      box.append(label, input);
    }
    fillBusAttributes();
  }
  function fillBusAttributes() {
    const line = $('res-attr-bus_line');
    if (line && state.busLine && Array.from(line.options).some((o) => o.value === state.busLine)) line.value = state.busLine;
    const stop = $('res-attr-stop_name');
    if (stop && state.stopName && !stop.value) stop.value = state.stopName;
  }
  function attributes() {
    const out = {};
    for (const input of $('res-attributes').querySelectorAll('[data-code]')) {
      if (!input.value) continue;
      const t = input.dataset.datatype;
      out[input.dataset.code] = t === 'number' ? Number(input.value) : t === 'datetime' ? new Date(input.value).toISOString() : input.value;
    }
    return out;
  }
  form.addEventListener('change', (event) => {
    if (event.target.name !== 'service') return;
    state.service = event.target.value;
    state.group = event.target.dataset.group;
    $('res-service-error').textContent = '';
    $('res-bus').hidden = state.group !== 'transport';
    if (state.group === 'transport') loadLines();
    renderAttributes();
    checkNearby();
    serviceListeners.forEach((fn) => fn(service()));
  });
  const serviceListeners = [];

  // --- where -------------------------------------------------------------------------------
  function setPoint(lat, lon, accuracy, label) {
    state.point = { lat: lat, lon: lon };
    state.accuracy = accuracy;
    $('res-place-error').textContent = '';
    $('res-place-chosen').textContent = label ? W('res-place-chosen', { name: label }) : '';
    checkNearby();
    pointListeners.forEach((fn) => fn(state.point, label));
  }
  const pointListeners = [];
  $('res-locate').addEventListener('click', () => {
    const note = $('res-position');
    if (!navigator.geolocation) { note.textContent = W('res-position-denied'); $('res-q').focus(); return; }
    note.textContent = W('res-position-waiting');
    navigator.geolocation.getCurrentPosition((p) => {
      note.textContent = W('res-position-accuracy', { m: Math.round(p.coords.accuracy) });
      setPoint(p.coords.latitude, p.coords.longitude, p.coords.accuracy, null);
    }, () => {
      note.textContent = W('res-position-denied');
      $('res-q').focus();
    }, { enableHighAccuracy: true, timeout: 20000, maximumAge: 60000 });
  });
  let searchTimer = null;
  $('res-q').addEventListener('input', () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(searchPlaces, 250);
  });
  async function searchPlaces() {
    const q = $('res-q').value.trim();
    const list = $('res-places');
    if (!q) { list.replaceChildren(); return; }
    let places = [];
    try {
      const r = await fetch('/api/v1/places?q=' + encodeURIComponent(q) + '&lang=' + config.lang);
      if (r.ok) places = (await r.json()).places;
    } catch (e) { /* offline: nothing to offer */ }
    if (q !== $('res-q').value.trim()) return;
    if (!places.length) {
      const li = document.createElement('li');
      li.textContent = W('res-search-none');
      list.replaceChildren(li);
      return;
    }
    list.replaceChildren(...places.map((p) => {
      const li = document.createElement('li');
      const b = document.createElement('button');
      b.type = 'button';
      b.className = 'res-place';
      b.textContent = p.name;
      b.addEventListener('click', () => {
        setPoint(p.lat, p.lon, null, p.name);
        list.replaceChildren();
        $('res-description').focus();
      });
      li.append(b);
      return li;
    }));
  }
  let linesLoaded = false;
  async function loadLines() {
    if (linesLoaded) return;
    try {
      const r = await fetch('/api/v1/bus-lines');
      if (!r.ok) return;
      for (const l of (await r.json()).lines) $('res-line').append(new Option(l.short_name + ' – ' + l.long_name, l.id));
      $('res-line').dataset.names = '';
      linesLoaded = true;
    } catch (e) { /* offline */ }
  }
  $('res-line').addEventListener('change', async () => {
    const line = $('res-line');
    const stop = $('res-stop');
    stop.replaceChildren(new Option(W('res-choose'), ''));
    stop.disabled = true;
    state.busLine = line.value ? line.options[line.selectedIndex].text.split(' – ')[0] : null;
    fillBusAttributes();
    if (!line.value) return;
    try {
      const r = await fetch('/api/v1/bus-lines/' + encodeURIComponent(line.value) + '/stops');
      if (!r.ok) return;
      for (const s of (await r.json()).stops) {
        const o = new Option(s.name, s.id);
        o.dataset.lat = s.lat; o.dataset.lon = s.lon;
        stop.append(o);
      }
      stop.disabled = false;
    } catch (e) { /* offline */ }
  });
  $('res-stop').addEventListener('change', () => {
    const o = $('res-stop').options[$('res-stop').selectedIndex];
    if (!o.value) return;
    state.stopName = o.text;
    fillBusAttributes();
    setPoint(Number(o.dataset.lat), Number(o.dataset.lon), null, o.text);
  });
  const mapButton = $('res-map-open');
  if (mapButton) mapButton.addEventListener('click', openMap);
  function load(tag, attrs) {
    return new Promise((resolve, reject) => {
      const el = document.createElement(tag);
      Object.assign(el, attrs);
      el.onload = resolve; el.onerror = reject;
      document.head.append(el);
    });
  }
  async function openMap() {
    const box = $('res-map');
    if (!box.hidden) return;
    box.hidden = false;
    $('res-position').textContent = W('res-map-hint');
    if (!window.L) {
      await load('link', { rel: 'stylesheet', href: config.leaflet_css });
      await load('script', { src: config.leaflet_js });
    }
    const map = L.map(box, { keyboard: true }).setView([35.5785, -5.3684], 15);
    L.tileLayer(config.tile_url, { maxZoom: 19, attribution: '© OpenStreetMap' }).addTo(map);
    map.getContainer().setAttribute('role', 'region');
    map.getContainer().setAttribute('aria-label', W('res-map-label'));
    let marker = null;
    const place = (latlng) => {
      if (marker) marker.setLatLng(latlng); else marker = L.circleMarker(latlng, { radius: 10 }).addTo(map);
      setPoint(latlng.lat, latlng.lng, null, W('res-map-pin', { lat: latlng.lat.toFixed(5), lon: latlng.lng.toFixed(5) }));
    };
    map.on('click', (e) => place(e.latlng));
    // Without a pointer: the arrow keys move the map under the cross at its centre, and
    // this button (or Enter on the map) puts the pin there. No drag is ever needed.
    $('res-map-centre').hidden = false;
    $('res-map-centre').addEventListener('click', () => place(map.getCenter()));
    map.getContainer().addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && e.target === map.getContainer()) { e.preventDefault(); place(map.getCenter()); }
    });
    map.on('movestart', () => { box.dataset.moving = 'yes'; });
    map.on('moveend', () => { box.dataset.moving = 'no'; });
    box.dataset.ready = 'yes';
  }

  // --- photo: shrunk and re-encoded (no metadata) in the browser -------------------------------
  $('res-photo').addEventListener('change', async () => {
    const file = $('res-photo').files[0];
    state.photo = null;
    $('res-photo-status').textContent = '';
    if (!file) return;
    const bitmap = await createImageBitmap(file);
    const scale = Math.min(1, 2048 / Math.max(bitmap.width, bitmap.height));
    const canvas = document.createElement('canvas');
    canvas.width = Math.round(bitmap.width * scale);
    canvas.height = Math.round(bitmap.height * scale);
    canvas.getContext('2d').drawImage(bitmap, 0, 0, canvas.width, canvas.height);
    state.photo = await new Promise((resolve) => canvas.toBlob(resolve, 'image/jpeg', 0.85));
    $('res-photo-status').textContent = W('res-photo-ready', { kb: Math.max(1, Math.round(state.photo.size / 1024)) });
  });

  // --- already reported nearby? ----------------------------------------------------------------
  async function checkNearby() {
    const section = $('res-nearby');
    if (!state.service || !state.point || !navigator.onLine) { section.hidden = true; return; }
    let reports = [];
    try {
      const r = await api('/api/v1/reports/nearby?lat=' + state.point.lat + '&lon=' + state.point.lon + '&service_code=' + encodeURIComponent(state.service));
      if (r.ok) reports = (await r.json()).reports;
    } catch (e) { return; }
    section.hidden = false;
    $('res-nearby-status').textContent = reports.length ? '' : W('res-nearby-none');
    $('res-nearby-list').replaceChildren(...reports.slice(0, 5).map((report) => {
      const li = document.createElement('li');
      li.dataset.id = report.id;
      const text = document.createElement('span');
      text.textContent = report.reference + ' · ' + W('res-distance', { m: Math.round(report.distance_m) }) +
        (report.description ? ' · ' + report.description : '') + ' · ' + W('res-supporters', { count: report.supporters });
      const b = document.createElement('button');
      b.type = 'button';
      b.className = 'res-button res-secondary';
      b.textContent = W('res-me-too');
      b.setAttribute('aria-describedby', 'res-nearby-title');
      b.addEventListener('click', async () => {
        b.disabled = true;
        const r = await api('/api/v1/reports/' + report.id + '/support', { method: 'POST' }).catch(() => null);
        if (r && r.ok) {
          $('res-nearby-status').textContent = W('res-me-too-done');
          // A supporter follows the report (the server says so): listed with the followed.
          if (app.supported) app.supported(report, li);
        } else b.disabled = false;
      });
      li.append(text, ' ', b);
      if (app.followButton) li.append(' ', app.followButton(report, $('res-nearby-status')));
      return li;
    }));
  }

  // --- submit -------------------------------------------------------------------------------------
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const description = $('res-description').value.trim();
    if (!state.service) { $('res-service-error').textContent = W('res-error-service'); form.querySelector('input[name=service]').focus(); return; }
    if (!state.point) { $('res-place-error').textContent = W('res-error-place'); $('res-q').focus(); return; }
    const missing = Array.from($('res-attributes').querySelectorAll('[required]')).find((i) => !i.value);
    if (missing) { missing.setAttribute('aria-invalid', 'true'); missing.focus(); return; }
    if (!description) { $('res-description').setAttribute('aria-invalid', 'true'); $('res-description').focus(); return; }
    const body = { service_code: state.service, lat: state.point.lat, lon: state.point.lon, description: description, attributes: attributes() };
    if (state.accuracy) body.accuracy_m = Math.round(state.accuracy * 10) / 10;
    const item = { key: uuid(), created: Date.now(), body: body, photo: state.photo };
    await put('outbox', item);
    const result = $('res-result');
    result.textContent = W('res-sending');
    if (navigator.onLine) await flush();
    const outcome = results.get(item.key);
    if (outcome && outcome.report) {
      result.replaceChildren();
      const p = document.createElement('p');
      p.className = 'res-sent';
      // The reference stays left to right inside an Arabic sentence.
      const [before, after] = W('res-sent', { reference: '\u0000' }).split('\u0000');
      const ref = document.createElement('bdi');
      ref.textContent = outcome.report.reference;
      p.append(before, ref, after || '');
      result.append(p);
    } else if (outcome && outcome.error) {
      result.textContent = W('res-error-send', { detail: outcome.error });
      return;
    } else {
      result.textContent = W('res-queued');
    }
    reset();
    showNetwork();
  });
  function reset() {
    form.querySelectorAll('input[name=service]').forEach((i) => { i.checked = false; });
    Object.assign(state, { service: null, group: null, point: null, accuracy: null, busLine: null, stopName: null, photo: null });
    ['res-description', 'res-photo', 'res-q'].forEach((id) => { $(id).value = ''; });
    ['res-position', 'res-place-chosen', 'res-photo-status'].forEach((id) => { $(id).textContent = ''; });
    $('res-attributes').replaceChildren();
    $('res-nearby').hidden = true;
    $('res-bus').hidden = true;
    serviceListeners.forEach((fn) => fn(null));
  }

  // For resident-follow.js (notifications, notices near me, service videos).
  // resident-follow.js adds followButton and supported (following reports of others).
  const app = window.BalaghResident = {
    config: config, W: W, api: api, $: $, state: state, onPoint: (fn) => pointListeners.push(fn),
    onService: (fn) => serviceListeners.push(fn), put: put, remove: remove, all: all, focusLinked: focusLinked,
  };

  // --- start ----------------------------------------------------------------------------------
  window.addEventListener('online', () => { showNetwork(); flush(); });
  window.addEventListener('offline', showNetwork);
  showNetwork();
  showMine();
  if (navigator.onLine) flush();
  document.documentElement.dataset.readyAt = String(Math.round(performance.now()));
  document.documentElement.dataset.ready = 'yes';
  if ('serviceWorker' in navigator) {
    navigator.serviceWorker.register(config.sw, { scope: '/' })
      .then(() => navigator.serviceWorker.ready)
      .then(() => caches.keys())
      .then((keys) => {
        const name = keys.find((k) => k.startsWith('balagh-shell-'));
        const manifest = document.querySelector('link[rel=manifest]');
        const keep = [location.href].concat(manifest ? [manifest.href] : []);
        return name ? caches.open(name).then((c) => c.addAll(keep)) : null;
      })
      .then(() => { document.documentElement.dataset.offlineReady = 'yes'; })
      .catch(() => {});
  }
}());
