//! The operator console over HTTP on both databases (paging past 200, filters, the actions
//! a status allows, languages, people's names), and end to end in headless Chromium at
//! tablet size in French and Arabic (`tests/browser/operator-console.mjs`, screenshots in
//! `artifacts/screenshots/operator/`).

use crate::both_databases;
use crate::harness::*;
use balagh_domain::account::Role;
use std::path::Path;

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// An agent logged in through the form.
struct Agent {
    client: reqwest::Client,
    cookie: String,
    user: TestUser,
}

impl Agent {
    async fn login(app: &TestApp) -> Self {
        let user = app.user(Role::OperatorAgent, Some("nadafa-demo")).await;
        let client = no_redirects();
        let response = client
            .post(app.url("/operator/login?lang=fr"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!(
                "email={}&password={}",
                user.email.replace('@', "%40"),
                PASSWORD.replace(' ', "+")
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 303);
        assert_eq!(response.headers()["location"], "/operator/queue?lang=fr");
        let cookie = response.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_owned();
        Self {
            client,
            cookie,
            user,
        }
    }

    async fn get(&self, app: &TestApp, path: &str) -> (u16, reqwest::header::HeaderMap, String) {
        let response = self
            .client
            .get(app.url(path))
            .header("cookie", &self.cookie)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        // Fluent isolates its arguments (U+2068 … U+2069): compare the words without them.
        let text = response.text().await.unwrap();
        (status, headers, text.replace(['\u{2068}', '\u{2069}'], ""))
    }

    async fn page(&self, app: &TestApp, path: &str) -> String {
        let (status, _, body) = self.get(app, path).await;
        assert_eq!(status, 200, "{path}: {body}");
        body
    }

    /// Posts a form of the ticket page (CSRF token and version taken from `page`).
    async fn post(
        &self,
        app: &TestApp,
        page: &str,
        path: &str,
        fields: &[(&str, &str)],
    ) -> reqwest::Response {
        let mut body = format!(
            "csrf_token={}&version={}",
            attribute_after(page, r#"name="csrf_token" value=""#),
            attribute_after(page, r#"name="version" value=""#)
        );
        for (k, v) in fields {
            body.push_str(&format!("&{k}={}", encode(v)));
        }
        self.client
            .post(app.url(path))
            .header("cookie", &self.cookie)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap()
    }
}

fn encode(v: &str) -> String {
    v.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The text after `marker` up to the next `"`.
fn attribute_after(page: &str, marker: &str) -> String {
    let start = page
        .find(marker)
        .unwrap_or_else(|| panic!("{marker} not in {page}"))
        + marker.len();
    page[start..].split('"').next().unwrap().to_owned()
}

/// Ticket ids linked from a queue page.
fn ticket_ids(page: &str) -> Vec<String> {
    page.split(r#"class="open" href="/operator/tickets/"#)
        .skip(1)
        .map(|rest| rest.split('?').next().unwrap().to_owned())
        .collect()
}

fn next_page(page: &str) -> Option<String> {
    page.find(r#"id="next-page""#)?;
    let link = attribute_after(page, r#"id="next-page" rel="next" href=""#);
    Some(link.replace("&amp;", "&").replace("&#38;", "&"))
}

/// Which action forms the ticket page offers.
fn offered(page: &str) -> Vec<&'static str> {
    [
        "acknowledge",
        "start",
        "pause",
        "resume",
        "resolve",
        "reject_not_ours",
    ]
    .into_iter()
    .filter(|a| page.contains(&format!(r#"<form id="{a}""#)))
    .collect()
}

/// A small JPEG, as a tablet's camera would send (smaller).
fn jpeg() -> Vec<u8> {
    let image = image::RgbImage::from_fn(64, 48, |x, y| {
        image::Rgb([(x * 4) as u8, (y * 5) as u8, 90])
    });
    let mut bytes = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, 85)
        .encode_image(&image)
        .unwrap();
    bytes
}

async fn resolve_with_photo(
    app: &TestApp,
    agent: &Agent,
    id: &str,
    page: &str,
    version: Option<&str>,
) -> reqwest::Response {
    resolve_with(app, agent, id, page, version, &jpeg()).await
}

async fn resolve_with(
    app: &TestApp,
    agent: &Agent,
    id: &str,
    page: &str,
    version: Option<&str>,
    photo: &[u8],
) -> reqwest::Response {
    let boundary = "balagh-operator-boundary-51c3";
    let field = |name: &str, value: &str| {
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
        )
    };
    let version = version.map_or_else(
        || attribute_after(page, r#"name="version" value=""#),
        str::to_owned,
    );
    let mut body = [
        field("csrf_token", &attribute_after(page, r#"name="csrf_token" value=""#)),
        field("version", &version),
        field("note", "Conteneur vidé et nettoyé"),
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"camera.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n"),
    ]
    .concat()
    .into_bytes();
    body.extend_from_slice(photo);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    agent
        .client
        .post(app.url(&format!("/operator/tickets/{id}/resolve?lang=fr")))
        .header("cookie", &agent.cookie)
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(body)
        .send()
        .await
        .unwrap()
}

both_databases! {
    async fn the_queue_pages_past_200_tickets_and_filters_them(db: Db) {
        let app = TestApp::spawn(db).await;
        let resident = app.device().await;
        const TICKETS: usize = 239;
        for i in 0..TICKETS {
            let response = app.post_report(&resident, &format!("queue-{i}"), &report_body("waste_bin_overflow", WEST)).await;
            assert_eq!(response.status(), 201, "report {i}");
        }
        let agent = Agent::login(&app).await;
        let mut path = Some("/operator/queue?lang=fr".to_owned());
        let (mut seen, mut pages) = (Vec::new(), 0);
        while let Some(p) = path.take() {
            let page = agent.page(&app, &p).await;
            let ids = ticket_ids(&page);
            assert!(page.contains(r#"<span id="total">239 tickets</span>"#), "the total on every page");
            assert!(ids.len() <= 50, "{} rows on one page", ids.len());
            seen.extend(ids);
            pages += 1;
            assert!(pages <= 6, "paging does not end");
            if pages > 1 {
                assert!(page.contains(r#"id="first-page""#), "a later page links back to the first");
            }
            path = next_page(&page);
        }
        assert_eq!(pages, 5, "239 tickets in pages of 50");
        let unique: std::collections::HashSet<&String> = seen.iter().collect();
        assert_eq!((seen.len(), unique.len()), (TICKETS, TICKETS), "every ticket once");

        // Filters: one paused ticket; nothing overdue yet; the service filter keeps them all.
        let first = &seen[0];
        let ticket = agent.page(&app, &format!("/operator/tickets/{first}?lang=fr")).await;
        let paused = agent.post(&app, &ticket, &format!("/operator/tickets/{first}/pause?lang=fr"), &[("reason", "third_party")]).await;
        assert_eq!(paused.status(), 303);
        let only_paused = agent.page(&app, "/operator/queue?lang=fr&status=paused").await;
        assert_eq!(ticket_ids(&only_paused), vec![first.clone()]);
        assert!(only_paused.contains(r#"<span id="total">1 ticket</span>"#), "the total follows the filters");
        assert!(only_paused.contains(r#"<option value="paused" selected>"#), "the filter stays chosen");
        let overdue = agent.page(&app, "/operator/queue?lang=fr&overdue=1").await;
        assert!(ticket_ids(&overdue).is_empty(), "nothing is overdue yet");
        let by_service = agent.page(&app, "/operator/queue?lang=fr&service=waste_bin_overflow").await;
        assert_eq!(ticket_ids(&by_service).len(), 50);
        let other_service = agent.page(&app, "/operator/queue?lang=fr&service=waste_missed_collection").await;
        assert!(ticket_ids(&other_service).is_empty());
        app.stop().await;
    }

    async fn a_ticket_offers_the_actions_its_status_allows(db: Db) {
        let app = TestApp::spawn(db).await;
        let (_, report) = app.reported("waste_bin_overflow", WEST).await;
        let id = report["id"].as_str().unwrap();
        let agent = Agent::login(&app).await;
        let path = format!("/operator/tickets/{id}?lang=fr");
        let page = agent.page(&app, &path).await;
        assert_eq!(offered(&page), ["acknowledge", "start", "pause", "resolve", "reject_not_ours"]);
        assert!(page.contains(r#"data-status="new">Nouveau<"#), "{page}");
        assert!(page.contains(r#"id="no-photo""#));

        // A form without the session's CSRF token changes nothing.
        let forged = page.replace(r#"name="csrf_token" value=""#, r#"name="csrf_token" value="x"#);
        let refused = agent.post(&app, &forged, &format!("/operator/tickets/{id}/pause?lang=fr"), &[("reason", "third_party")]).await;
        assert_eq!(refused.status(), 403);
        let refused = refused.text().await.unwrap();
        assert!(refused.contains("autre session") && refused.contains(r#"data-status="new""#), "{refused}");

        // Pause for the resident: a paused ticket offers resume (and resolve, not ours).
        let pause = agent.post(&app, &page, &format!("/operator/tickets/{id}/pause?lang=fr"), &[("reason", "awaiting_resident"), ("note", "Accès fermé")]).await;
        assert_eq!(pause.status(), 303);
        assert_eq!(pause.headers()["location"], path.as_str());
        let page = agent.page(&app, &path).await;
        assert!(page.contains(r#"data-status="paused">En pause<"#), "{page}");
        assert_eq!(offered(&page), ["resume", "resolve", "reject_not_ours"]);
        assert!(page.contains("En attente du résident"), "the pause reason in words");

        // A form sent from a stale page: the ticket as it is now, with why.
        let stale = agent.post(&app, &page.replace(r#"name="version" value=""#, r#"name="version" value="1"#), &format!("/operator/tickets/{id}/resume?lang=fr"), &[]).await;
        assert_eq!(stale.status(), 409);
        assert!(stale.text().await.unwrap().contains("Quelqu&#39;un a modifié ce ticket") , "stale message");
        // An action the status does not allow is refused in words too.
        let illegal = agent.post(&app, &page, &format!("/operator/tickets/{id}/start?lang=fr"), &[]).await;
        assert_eq!(illegal.status(), 409);
        // A pause without a reason is the agent's to fix.
        let resumed = agent.post(&app, &page, &format!("/operator/tickets/{id}/resume?lang=fr"), &[]).await;
        assert_eq!(resumed.status(), 303);
        let page = agent.page(&app, &path).await;
        assert_eq!(offered(&page), ["pause", "resolve", "reject_not_ours"]);
        let no_reason = agent.post(&app, &page, &format!("/operator/tickets/{id}/pause?lang=fr"), &[("reason", "")]).await;
        assert_eq!(no_reason.status(), 422);
        assert!(no_reason.text().await.unwrap().contains("Indiquez un motif."));

        // Resolve with a photo from the camera: kept as evidence, shown, and nothing left to do.
        let not_a_photo = resolve_with(&app, &agent, id, &page, None, b"%PDF-1.4 not a photo").await;
        assert_eq!(not_a_photo.status(), 415);
        let not_a_photo = not_a_photo.text().await.unwrap();
        assert!(not_a_photo.contains("Cette photo n&#39;a pas été acceptée") && not_a_photo.contains(r#"data-status="in_progress""#), "{not_a_photo}");
        let stale_resolve = resolve_with_photo(&app, &agent, id, &page, Some("1")).await;
        assert_eq!(stale_resolve.status(), 409);
        let resolved = resolve_with_photo(&app, &agent, id, &page, None).await;
        assert_eq!(resolved.status(), 303, "{:?}", resolved.text().await);
        let (status, headers, page) = agent.get(&app, &path).await;
        assert_eq!(status, 200);
        assert!(page.contains(r#"data-status="resolved">Résolu<"#));
        assert_eq!(offered(&page), Vec::<&str>::new());
        assert!(page.contains(r#"id="no-actions""#));
        assert_eq!(page.matches("Photo 1 de l&#39;intervention").count(), 1, "one evidence photo (not the stale one): {page}");
        let thumbnail = attribute_after(&page, r#"<img src=""#).replace("&amp;", "&").replace("&#38;", "&");
        let image = app.client.get(&thumbnail).send().await.unwrap();
        assert_eq!(image.status(), 200);
        assert_eq!(image.headers()["content-type"], "image/jpeg");
        let csp = headers["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("img-src 'self' data: https://tile.openstreetmap.org"), "{csp}");
        assert!(csp.contains("script-src 'self'"), "{csp}");
        let api: serde_json::Value = app.get(&agent.user.token, &format!("/api/v1/operator/tickets/{id}")).await.json().await.unwrap();
        let evidence = api["photos"].as_array().unwrap().iter().filter(|p| p["purpose"] == "evidence").count();
        assert_eq!(evidence, 1);
        let resolution = api["history"].as_array().unwrap().iter().rev().find(|e| e["kind"] == "status_changed").unwrap().clone();
        assert_eq!(resolution["data"]["action"], "resolve", "{resolution}");
        assert!(resolution["data"]["evidence_photo"].is_string(), "{resolution}");
        app.stop().await;
    }

    async fn the_console_speaks_the_agents_language(db: Db) {
        let app = TestApp::spawn(db).await;
        let resident = app.device().await;
        let mut body = report_body("waste_bin_overflow", WEST);
        body["attributes"] = serde_json::json!({"bin_type": "recycling"});
        let created = app.post_report(&resident, "language-1", &body).await;
        assert_eq!(created.status(), 201);
        let report: serde_json::Value = created.json().await.unwrap();
        let id = report["id"].as_str().unwrap();
        let agent = Agent::login(&app).await;
        let french = agent.page(&app, &format!("/operator/tickets/{id}?lang=fr")).await;
        assert!(french.contains("<dt>Type de conteneur</dt><dd class=\"answer\"><bdi>Tri sélectif</bdi></dd>"), "the resident's answers in words: {french}");
        let arabic = agent.page(&app, &format!("/operator/tickets/{id}?lang=ar")).await;
        assert!(arabic.contains(r#"<html lang="ar" dir="rtl">"#), "{arabic}");
        assert!(arabic.contains("جديدة"), "the status in Arabic");
        assert!(arabic.contains("تأكيد الاطلاع"), "the actions in Arabic");
        assert!(arabic.contains("نوع الحاوية") && arabic.contains("فرز انتقائي"), "answers in Arabic");
        assert!(arabic.contains(&format!(r#"action="/operator/tickets/{id}/acknowledge?lang=ar""#)), "forms keep the language");
        assert!(arabic.contains(r#"hreflang="fr""#) && arabic.contains(r#"aria-current="page">العربية"#), "a visible language switch");
        let acknowledged = agent.post(&app, &arabic, &format!("/operator/tickets/{id}/acknowledge?lang=ar"), &[]).await;
        assert_eq!(acknowledged.headers()["location"], format!("/operator/tickets/{id}?lang=ar").as_str());

        let response = agent.client.get(app.url("/operator/queue")).header("cookie", &agent.cookie).header("accept-language", "ar-MA,ar;q=0.9").send().await.unwrap();
        let queue = response.text().await.unwrap();
        assert!(queue.contains(r#"<html lang="ar" dir="rtl">"#));
        assert!(queue.contains("قائمة التذاكر"));
        let english = agent.page(&app, "/operator/queue?lang=en").await;
        assert!(english.contains(r#"<html lang="en" dir="ltr">"#));
        assert!(english.contains("Acknowledged"), "statuses in English, not codes");
        let french = agent.page(&app, "/operator/queue").await;
        assert!(french.contains(r#"<html lang="fr" dir="ltr">"#));
        assert!(french.contains("Pris en compte"));
        let login = no_redirects().get(app.url("/operator/login?lang=ar")).send().await.unwrap().text().await.unwrap();
        assert!(login.contains(r#"<html lang="ar" dir="rtl">"#) && login.contains("دخول المفوَّض إليه"));
        app.stop().await;
    }

    async fn an_open311_address_is_shown_with_the_map_links(db: Db) {
        let app = TestApp::spawn(db).await;
        let admin = app.user(Role::StaffAdmin, None).await;
        let key: serde_json::Value = app
            .post_as(&admin.token, "/api/v1/staff/open311-keys", None, Some(serde_json::json!({"name": "fms"})))
            .await
            .json()
            .await
            .unwrap();
        let body = [
            ("api_key", key["key"].as_str().unwrap()),
            ("service_code", "waste_bin_overflow"),
            ("lat", "35.575"),
            ("long", "-5.4"),
            ("address_string", "Avenue Mohammed V, Tétouan"),
            ("description", "Conteneur plein"),
        ]
        .iter()
        .map(|(k, v)| format!("{k}={}", encode(v)))
        .collect::<Vec<_>>()
        .join("&");
        let created = app
            .client
            .post(app.url("/open311/v2/requests.json"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(created.status(), 200);
        let agent = Agent::login(&app).await;
        let queue = agent.page(&app, "/operator/queue?lang=fr").await;
        let id = ticket_ids(&queue).pop().expect("the Open311 report in the queue");
        let page = agent.page(&app, &format!("/operator/tickets/{id}?lang=fr")).await;
        assert!(page.contains(r#"<dd id="address"><bdi>Avenue Mohammed V, Tétouan</bdi></dd>"#), "{page}");
        assert!(page.contains(r#"href="geo:35.575000,-5.400000""#));
        assert!(page.contains(r#"href="https://www.openstreetmap.org/?mlat=35.575000&#38;mlon=-5.400000#map=18/35.575000/-5.400000""#)
            || page.contains(r#"href="https://www.openstreetmap.org/?mlat=35.575000&amp;mlon=-5.400000#map=18/35.575000/-5.400000""#), "{page}");
        assert!(page.contains(r#"data-tiles="https://tile.openstreetmap.org/{z}/{x}/{y}.png""#) || page.contains("data-tiles=\"https://tile.openstreetmap.org/&#123;z&#125;"), "the tile URL setting reaches the map");
        app.stop().await;
    }

    async fn the_history_names_people(db: Db) {
        let app = TestApp::spawn(db).await;
        let (_, report) = app.reported("waste_bin_overflow", WEST).await;
        let id = report["id"].as_str().unwrap();
        let agent = Agent::login(&app).await;
        let colleague = app.user(Role::OperatorManager, Some("nadafa-demo")).await;
        let path = format!("/operator/tickets/{id}?lang=fr");
        let page = agent.page(&app, &path).await;
        assert!(page.contains(&format!(r#"<option value="{}">Test operator_manager</option>"#, colleague.id)), "colleagues to assign to");
        let assigned = agent.post(&app, &page, &format!("/operator/tickets/{id}/assign?lang=fr"), &[("agent", &colleague.id.to_string())]).await;
        assert_eq!(assigned.status(), 303);
        let page = agent.page(&app, &path).await;
        let commented = agent.post(&app, &page, &format!("/operator/tickets/{id}/comment?lang=fr"), &[("text", "Camion prévu demain <matin>\u{202E}"), ("public", "1")]).await;
        assert_eq!(commented.status(), 303);
        let page = agent.page(&app, &path).await;
        let history = &page[page.find(r#"<ol id="history">"#).unwrap()..];
        assert!(history.contains("Attribué à Test operator_manager"), "{history}");
        assert!(history.contains("(<bdi>Test operator_agent</bdi>)"), "the agent by name: {history}");
        assert!(history.contains("Camion prévu demain &#60;matin&#62;") || history.contains("Camion prévu demain &lt;matin&gt;"), "{history}");
        assert!(history.contains("Résident "), "the resident by label: {history}");
        assert!(!page.contains("user:") && !page.contains("device:"), "no raw actor ids");
        assert!(!page.contains('\u{202E}'), "a bidi override reached the page");
        assert!(page.contains(r#"<dd id="assignee"><bdi>Test operator_manager</bdi></dd>"#));
        let queue = agent.page(&app, "/operator/queue?lang=fr").await;
        assert!(queue.contains("<bdi>Test operator_manager</bdi>"), "the queue names the assignee");
        let mine = agent.page(&app, "/operator/queue?lang=fr&mine=1").await;
        assert!(ticket_ids(&mine).is_empty(), "assigned to a colleague, not to me");
        // Someone of another company is not an agent to assign to.
        let stranger = app.user(Role::OperatorAgent, Some("nour-eclairage-demo")).await;
        let refused = agent.post(&app, &page, &format!("/operator/tickets/{id}/assign?lang=fr"), &[("agent", &stranger.id.to_string())]).await;
        assert_eq!(refused.status(), 422);
        let empty = agent.post(&app, &page, &format!("/operator/tickets/{id}/comment?lang=fr"), &[("text", " ")]).await;
        assert_eq!(empty.status(), 422);
        // Another operator's ticket does not exist for this one.
        let (other, _, _) = agent.get(&app, &format!("/operator/tickets/{}?lang=fr", uuid::Uuid::now_v7())).await;
        assert_eq!(other, 404);
        app.stop().await;
    }
}

/// A stand-in for the tile server: one grey PNG tile for any `/tiles/{z}/{x}/{y}.png`,
/// counting what it serves. Returns its tile URL and the counter.
pub async fn tile_stand_in() -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let tile = {
        let image = image::RgbImage::from_fn(256, 256, |x, y| {
            if x % 64 == 0 || y % 64 == 0 {
                image::Rgb([200, 200, 200])
            } else {
                image::Rgb([236, 238, 232])
            }
        });
        let mut bytes = std::io::Cursor::new(Vec::new());
        image.write_to(&mut bytes, image::ImageFormat::Png).unwrap();
        bytes.into_inner()
    };
    let served = std::sync::Arc::new(AtomicUsize::new(0));
    let counter = served.clone();
    let router = axum::Router::new().route(
        "/tiles/{z}/{x}/{y}",
        axum::routing::get(move || {
            let (tile, counter) = (tile.clone(), counter.clone());
            async move {
                counter.fetch_add(1, Ordering::SeqCst);
                ([("content-type", "image/png")], tile)
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await });
    (
        format!("http://{address}/tiles/{{z}}/{{x}}/{{y}}.png"),
        served,
    )
}

/// A report with a resident's photo, for the browser run.
async fn report_with_photo(app: &TestApp, key: &str) {
    let resident = app.device().await;
    let response = app
        .post_report(&resident, key, &report_body("waste_bin_overflow", WEST))
        .await;
    assert_eq!(response.status(), 201);
    let id = response.json::<serde_json::Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let boundary = "balagh-resident-boundary-0a1b";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"bin.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(&jpeg());
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let photo = app
        .client
        .post(app.url(&format!("/api/v1/reports/{id}/photos")))
        .bearer_auth(&resident)
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(photo.status(), 201);
}

/// The console end to end in headless Chromium (Debian's package, driven by Playwright;
/// `tests/browser/setup.sh` installs both), at tablet size in French and Arabic, with
/// axe-core on every page. One database is enough here: the pages' behaviour is checked
/// on both above.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_operator_console_works_in_a_real_browser() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let browser = repo.join("tests/browser");
    assert!(
        browser.join("node_modules/playwright-core").exists()
            && Path::new("/usr/bin/chromium").exists(),
        "run tests/browser/setup.sh first (tests/run does)"
    );
    let (tiles, served) = tile_stand_in().await;
    let app = TestApp::spawn_with(
        Db::Sqlite,
        balagh_api::ApiSettings {
            map_tile_url: tiles,
            ..balagh_api::ApiSettings::default()
        },
    )
    .await;
    report_with_photo(&app, "browser-1").await;
    report_with_photo(&app, "browser-2").await;
    let agent = app.user(Role::OperatorAgent, Some("nadafa-demo")).await;
    let shots = repo.join("artifacts/screenshots/operator");
    std::fs::create_dir_all(&shots).unwrap();
    let (script, address, email, dir) = (
        browser.join("operator-console.mjs"),
        app.address.clone(),
        agent.email.clone(),
        shots.clone(),
    );
    let run = tokio::task::spawn_blocking(move || {
        std::process::Command::new("node")
            .arg(script)
            .args([address.as_str(), email.as_str(), PASSWORD])
            .arg(dir)
            .output()
    })
    .await
    .unwrap()
    .unwrap();
    let out = String::from_utf8_lossy(&run.stdout);
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "browser run failed:\n{out}\n{err}");
    assert!(
        served.load(std::sync::atomic::Ordering::SeqCst) > 0,
        "the map asked the configured tile server for nothing"
    );
    for lang in ["fr", "ar"] {
        for page in ["queue", "ticket", "resolved"] {
            for size in ["phone", "tablet", "desktop"] {
                let shot = format!("{page}-{lang}-{size}.png");
                let bytes = std::fs::metadata(shots.join(&shot)).map_or(0, |m| m.len());
                assert!(bytes > 5_000, "{shot}: {bytes} bytes");
            }
        }
    }
    app.stop().await;
}
