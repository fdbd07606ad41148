//! The service worker (`/sw.js`, scope `/`): keeps the app shell (the page in each language
//! the resident opened, its script, stylesheet and Leaflet) so the app opens without
//! network. API calls are never cached: the offline queue lives in the page's IndexedDB.

use super::super::assets;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

/// The worker's script; its cache name carries the assets' version, so a new binary's
/// worker replaces the old shell.
fn script() -> String {
    let shell: Vec<String> = [
        "resident.js",
        "resident-follow.js",
        "resident.css",
        "resident-icon.svg",
    ]
    .iter()
    .map(|name| assets::url(name))
    .collect();
    let version = assets::url("resident.js");
    let version = version.rsplit('=').next().unwrap_or("0");
    format!(
        r#"'use strict';
const CACHE = 'balagh-shell-{version}';
const SHELL = {shell};
self.addEventListener('install', (event) => {{
  event.waitUntil(caches.open(CACHE).then((c) => c.addAll(SHELL)).then(() => self.skipWaiting()));
}});
self.addEventListener('activate', (event) => {{
  event.waitUntil(caches.keys().then((keys) => Promise.all(
    keys.filter((k) => k.startsWith('balagh-shell-') && k !== CACHE).map((k) => caches.delete(k))
  )).then(() => self.clients.claim()));
}});
self.addEventListener('fetch', (event) => {{
  const url = new URL(event.request.url);
  if (event.request.method !== 'GET' || url.origin !== self.location.origin) return;
  if ((event.request.mode === 'navigate' && url.pathname === '/') || url.pathname === '/manifest.webmanifest') {{
    // The page and its manifest: the kept copy at once when there is one, refreshed from
    // the network in the background (the next visit shows the refreshed one); else the
    // network.
    event.respondWith(caches.open(CACHE).then((c) => c.match(event.request, {{ ignoreVary: true }}).then((hit) => {{
      const refresh = () => fetch(event.request).then((response) => {{
        if (response.ok) c.put(event.request, response.clone());
        return response;
      }});
      if (hit) {{
        if (self.navigator.onLine) event.waitUntil(refresh().catch(() => null));
        return hit;
      }}
      return refresh().catch(() => caches.match(url.pathname, {{ ignoreSearch: true, ignoreVary: true }})
        .then((any) => any || Response.error()));
    }})));
    return;
  }}
  if (url.pathname.startsWith('/assets/')) {{
    // Versioned files: the kept copy, else the network (and keep it).
    event.respondWith(caches.open(CACHE).then((c) => c.match(event.request).then((hit) =>
      hit || fetch(event.request).then((response) => {{
        if (response.ok) c.put(event.request, response.clone());
        return response;
      }}))));
  }}
}});
// A push (Web Push, encrypted by the server, decrypted by the browser): the title and body
// are already in the resident's language; the data says which report or notice it is about.
self.addEventListener('push', (event) => {{
  let message = {{}};
  try {{ message = event.data ? event.data.json() : {{}}; }} catch (e) {{ message = {{ body: event.data.text() }}; }}
  const data = message.data || {{}};
  const tag = data.report_id ? 'report-' + data.report_id : data.notice_id ? 'notice-' + data.notice_id : 'balagh';
  event.waitUntil(self.registration.showNotification(message.title || 'Balagh', {{
    body: message.body || '', tag: tag, data: data, icon: {icon},
  }}));
}});
// A tap on the notification opens the report (or the notice) in the app, reusing its window.
self.addEventListener('notificationclick', (event) => {{
  event.notification.close();
  const data = event.notification.data || {{}};
  const target = data.report_id ? '/#report-' + data.report_id : data.notice_id ? '/#notice-' + data.notice_id : '/';
  event.waitUntil(self.clients.matchAll({{ type: 'window', includeUncontrolled: true }}).then((windows) => {{
    const open = windows.find((w) => new URL(w.url).pathname === '/');
    // A window that may not take the focus is still at the report: no second window then.
    if (open) return open.navigate(target).then((w) => (w || open).focus().catch(() => w))
      .catch(() => self.clients.openWindow(target));
    return self.clients.openWindow(target);
  }}));
}});
"#,
        icon = serde_json::to_string(&assets::url("resident-icon.svg"))
            .unwrap_or_else(|_| "''".into()),
        shell = serde_json::to_string(&shell).unwrap_or_else(|_| "[]".into()),
    )
}

pub async fn service_worker() -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/javascript; charset=utf-8"),
            ),
            // Browsers check for a new worker on each visit.
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
            (
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static("default-src 'self'"),
            ),
        ],
        script(),
    )
        .into_response()
}
