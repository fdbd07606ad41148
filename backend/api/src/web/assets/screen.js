// Reception-area screens (web/screen): rotates the panels and the screen's languages, polls
// the screen's JSON at its own offset within the polling interval, keeps the last good data
// when the network drops and says so once it is older than the stale interval, and reads the
// current language's text aloud on demand. No inline script: the data comes from the JSON
// block of the page.
(function () {
  'use strict';
  var root = document.getElementById('screen');
  var block = document.getElementById('screen-data');
  if (!root || !block) { return; }
  var data = JSON.parse(block.textContent);
  var content = data.content;
  var options = data.options;
  var token = window.location.pathname.split('/').filter(Boolean)[1] || '';
  var url = '/api/v1/screens/' + encodeURIComponent(token) + '/content';
  var PANELS = ['notices', 'services', 'how'];
  var language = 0;
  var panel = 0;
  var lastGood = Date.now();
  var revoked = false;

  function byId(id) { return document.getElementById(id); }
  function languages() { return content.screen.languages.length ? content.screen.languages : ['fr']; }
  function texts() { return content.texts[languages()[language % languages().length]]; }

  function item(className, lang) {
    var li = document.createElement('li');
    li.className = className;
    if (lang) { li.lang = lang; }
    return li;
  }
  function add(parent, tag, text, className) {
    var node = document.createElement(tag);
    node.textContent = text;
    if (className) { node.className = className; }
    parent.appendChild(node);
    return node;
  }

  function renderNotices(t) {
    var list = byId('notice-list');
    list.textContent = '';
    t.notices.forEach(function (n) {
      if (content.urgent && !n.urgent) { return; }
      var li = item(n.urgent ? 'notice urgent' : 'notice', n.lang);
      add(li, 'h3', n.title);
      add(li, 'p', n.body);
      add(li, 'p', n.until, 'until');
      list.appendChild(li);
    });
    byId('no-notices').textContent = t.no_notices;
    byId('no-notices').hidden = t.notices.length > 0;
    byId('h-notices').textContent = content.urgent ? t.urgent_heading : t.notices_heading;
  }

  function renderServices(t) {
    byId('h-services').textContent = t.services_heading;
    byId('s-period').textContent = t.services_period;
    var list = byId('service-list');
    list.textContent = '';
    t.services.forEach(function (s) {
      var li = item('service');
      add(li, 'h3', s.name);
      add(li, 'p', s.district, 'district');
      s.lines.forEach(function (line) { add(li, 'p', line); });
      list.appendChild(li);
    });
  }

  function renderHow(t) {
    byId('h-how').textContent = t.how_heading;
    var list = byId('how-list');
    list.textContent = '';
    t.how.forEach(function (line) { add(list, 'li', line); });
    var qr = root.querySelector('svg.qr');
    if (qr) { qr.setAttribute('aria-label', t.qr_label); }
  }

  var shownKey = '';

  function render() {
    var t = texts();
    // Nothing changes on screen when a poll brings the same content.
    var key = JSON.stringify([t, content.urgent, panel]);
    if (key === shownKey) { return; }
    shownKey = key;
    document.documentElement.lang = t.lang;
    document.documentElement.dir = t.dir;
    document.title = t.title + ' · Balagh';
    byId('s-title').textContent = t.title;
    byId('s-updated').textContent = t.updated;
    byId('s-stale').textContent = t.stale;
    byId('listen').textContent = t.listen;
    renderNotices(t);
    renderServices(t);
    renderHow(t);
    var shown = content.urgent ? 'notices' : PANELS[panel];
    PANELS.forEach(function (name) { byId('panel-' + name).hidden = name !== shown; });
    root.classList.toggle('is-urgent', !!content.urgent);
    root.dataset.lang = t.lang;
    root.dataset.panel = shown;
    root.dataset.urgent = content.urgent ? '1' : '0';
  }

  function step() {
    if (revoked) { return; }
    panel += 1;
    if (content.urgent || panel >= PANELS.length) {
      panel = 0;
      language = (language + 1) % languages().length;
    }
    render();
  }

  function checkStale() {
    if (revoked) { return; }
    var stale = Date.now() - lastGood > options.stale * 1000;
    byId('s-stale').hidden = !stale;
    root.dataset.state = stale ? 'stale' : 'fresh';
  }

  // Staff revoked this screen: its data is no longer for show.
  function showRevoked() {
    PANELS.forEach(function (name) { byId('panel-' + name).hidden = true; });
    byId('s-stale').textContent = texts().revoked;
    byId('s-stale').hidden = false;
    byId('listen').hidden = true;
    root.dataset.state = 'revoked';
  }

  function schedule() {
    // Every screen polls at its own second of the interval, so that many do not poll at once.
    var now = Date.now() / 1000;
    var next = (Math.floor((now - options.offset) / options.poll) + 1) * options.poll + options.offset;
    window.setTimeout(poll, Math.max(0.5, next - now) * 1000);
  }

  function poll() {
    root.dataset.polling = '1';
    fetch(url, { cache: 'no-store', headers: { Accept: 'application/json' } })
      .then(function (response) {
        if (response.status === 404) { revoked = true; }
        if (!response.ok) { throw new Error('status ' + response.status); }
        return response.json();
      })
      .then(function (fresh) {
        content = fresh;
        lastGood = Date.now();
        render();
        checkStale();
      })
      .catch(function () {
        if (revoked) { showRevoked(); } else { checkStale(); }
      })
      .then(function () {
        root.dataset.polling = '0';
        if (!revoked) { schedule(); }
      });
  }

  function listen() {
    if (!('speechSynthesis' in window)) { return; }
    window.speechSynthesis.cancel();
    var t = texts();
    var utterance = new window.SpeechSynthesisUtterance(t.speech);
    utterance.lang = t.lang;
    window.speechSynthesis.speak(utterance);
  }

  var button = byId('listen');
  if ('speechSynthesis' in window) {
    button.hidden = false;
    button.addEventListener('click', listen);
  }
  render();
  window.setInterval(step, options.rotate * 1000);
  window.setInterval(checkStale, 1000);
  schedule();
}());
