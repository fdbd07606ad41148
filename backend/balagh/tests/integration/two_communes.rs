//! Two communes in one deployment (issue 22): Tabarka, a synthetic Tunisian commune with
//! its own time zone, languages and reference prefix (`backend/balagh/demo/tabarka`), is
//! imported beside Tétouan through the loader of `balagh import-jurisdiction`. Each commune's
//! people then create what they can (a report and its ticket, a notice, a screen, an SMS
//! gateway, an Open311 key, an operator's failing webhook), every one of them carrying the
//! commune's marker. Then each commune's staff and operator accounts read EVERY `GET` route
//! of the OpenAPI document (and the push and webhook queues in every state), and no byte may
//! name the other commune's marker, reports, references, operators or objects. Both ways, on
//! both databases.

use crate::both_databases;
use crate::harness::*;
use balagh::demo::DemoData;
use balagh_domain::account::Role;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// A commune as its people see it.
struct Commune {
    id: &'static str,
    marker: &'static str,
    point: (f64, f64),
    waste_operator: &'static str,
    languages: &'static [&'static str],
}

const TETOUAN: Commune = Commune {
    id: "tetouan",
    marker: "TETMARKX",
    point: WEST,
    waste_operator: "nadafa-demo",
    languages: &["fr", "ar", "en"],
};

/// Inside the synthetic Tabarka, in its western waste zone.
const TABARKA: Commune = Commune {
    id: "tabarka",
    marker: "TBKMARKX",
    point: (36.950, 8.740),
    waste_operator: "tabarka-proprete-demo",
    languages: &["ar", "fr"],
};

/// What one commune's people can read with.
struct Accounts {
    staff: TestUser,
    agent: TestUser,
    manager: TestUser,
}

/// Everything a commune made that the other must never see.
struct Made {
    commune: &'static str,
    accounts: Accounts,
    secrets: Vec<String>,
}

async fn created(response: reqwest::Response, what: &str) -> Value {
    let status = response.status();
    let body = response.text().await.unwrap();
    assert!(status.is_success(), "{what}: {status} {body}");
    serde_json::from_str(&body).unwrap()
}

async fn make(app: &TestApp, c: &Commune) -> Made {
    let staff = app.staff_of(Role::StaffAdmin, c.id).await;
    let agent = app.user(Role::OperatorAgent, Some(c.waste_operator)).await;
    let manager = app
        .user(Role::OperatorManager, Some(c.waste_operator))
        .await;
    let mut secrets = vec![c.marker.to_owned(), c.waste_operator.to_owned()];

    let device = app.device().await;
    let mut body = report_body("waste_bin_overflow", c.point);
    body["description"] = json!(format!("Bac plein {}", c.marker));
    let key = uuid::Uuid::new_v4().to_string();
    let report = created(app.post_report(&device, &key, &body).await, "report").await;
    secrets.push(report["id"].as_str().unwrap().to_owned());
    secrets.push(report["reference"].as_str().unwrap().to_owned());
    operator_act(app, &agent.token, &report, "acknowledge", json!({})).await;

    let area = json!({"type": "Point", "coordinates": [c.point.1, c.point.0]});
    let texts: serde_json::Map<String, Value> = c
        .languages
        .iter()
        .map(|l| {
            let text = json!({"title": format!("Travaux {}", c.marker), "body": "Ce soir."});
            ((*l).to_owned(), text)
        })
        .collect();
    let notice = json!({
        "kind": "planned_interruption", "service_codes": ["light_out"], "area": area,
        "radius_m": 800.0, "urgent": false, "texts": texts,
        "valid_until": (time::OffsetDateTime::now_utc() + time::Duration::days(1))
            .format(&time::format_description::well_known::Rfc3339).unwrap(),
    });
    let posted = app
        .post_as(&staff.token, "/api/v1/notices", None, Some(notice))
        .await;
    secrets.push(
        created(posted, "notice").await["id"]
            .as_str()
            .unwrap()
            .to_owned(),
    );

    let screen = json!({
        "name": format!("Accueil {}", c.marker), "lat": c.point.0, "lon": c.point.1,
        "service_codes": ["light_out"], "languages": c.languages, "orientation": "landscape",
    });
    let posted = app
        .post_as(&staff.token, "/api/v1/staff/screens", None, Some(screen))
        .await;
    secrets.push(
        created(posted, "screen").await["id"]
            .as_str()
            .unwrap()
            .to_owned(),
    );

    let gateway = json!({
        "kind": "rapidpro_external", "name": format!("Passerelle {}", c.marker),
        "send_url": "http://127.0.0.1:9/send",
    });
    let posted = app
        .post_as(
            &staff.token,
            "/api/v1/staff/sms-gateways",
            None,
            Some(gateway),
        )
        .await;
    secrets.push(
        created(posted, "sms gateway").await["id"]
            .as_str()
            .unwrap()
            .to_owned(),
    );

    let key = json!({"name": format!("Clé {}", c.marker)});
    let posted = app
        .post_as(&staff.token, "/api/v1/staff/open311-keys", None, Some(key))
        .await;
    secrets.push(
        created(posted, "open311 key").await["id"]
            .as_str()
            .unwrap()
            .to_owned(),
    );

    // Nothing listens on port 9: the commune's next events die in its dead letters.
    let hook = app
        .client
        .put(app.url("/api/v1/operator/webhook"))
        .bearer_auth(&manager.token)
        .json(&json!({"url": "http://127.0.0.1:9/hook"}))
        .send()
        .await
        .unwrap();
    created(hook, "webhook").await;
    operator_act(app, &agent.token, &report, "start", json!({})).await;

    Made {
        commune: c.id,
        accounts: Accounts {
            staff,
            agent,
            manager,
        },
        secrets,
    }
}

/// Every `GET` route without a path parameter, and the delivery queues in every state.
async fn readable_paths(app: &TestApp) -> Vec<String> {
    let openapi: Value = app
        .client
        .get(app.url("/api/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut paths: Vec<String> = openapi["paths"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(path, item)| !path.contains('{') && item.get("get").is_some())
        .map(|(path, _)| path.clone())
        .collect();
    for state in ["pending", "delivered", "dead"] {
        paths.push(format!("/api/v1/staff/push/deliveries?state={state}"));
        paths.push(format!("/api/v1/operator/webhook/deliveries?state={state}"));
    }
    paths
}

/// Reads every path as each of `who`'s accounts; returns the bodies that name a secret of
/// `other`, and how many bodies named `own` marker (the crawl really saw its own commune).
async fn crawl(
    app: &TestApp,
    paths: &[String],
    who: &Made,
    own: &str,
    other: &Made,
) -> (Vec<String>, usize) {
    let mut leaks = Vec::new();
    let mut own_seen = 0;
    let accounts = &who.accounts;
    for (role, token) in [
        ("staff", &accounts.staff.token),
        ("agent", &accounts.agent.token),
        ("manager", &accounts.manager.token),
    ] {
        for path in paths {
            let body = app.get(token, path).await.text().await.unwrap();
            own_seen += usize::from(body.contains(own));
            for secret in &other.secrets {
                if body.contains(secret.as_str()) {
                    leaks.push(format!("{role} GET {path} shows {secret}"));
                }
            }
        }
    }
    (leaks, own_seen)
}

/// The pages each commune's people work in, read with a session as a browser would.
const STAFF_PAGES: [&str; 11] = [
    "/staff/dashboard",
    "/staff/dashboard.csv",
    "/staff/triage",
    "/staff/intake",
    "/staff/notices",
    "/staff/disputes",
    "/staff/statement",
    "/staff/sla",
    "/staff/open311-keys",
    "/staff/users",
    "/staff/webhooks",
];
const OPERATOR_PAGES: [&str; 2] = ["/operator/queue", "/operator"];

async fn session(app: &TestApp, login: &str, email: &str) -> String {
    let response = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .post(app.url(login))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(crate::staff_pages::form(&[
            ("email", email),
            ("password", PASSWORD),
        ]))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303, "{login}");
    let cookie = response.headers()["set-cookie"].to_str().unwrap();
    cookie.split(';').next().unwrap().to_owned()
}

/// Reads the pages as `who`'s staff and agent; returns what names a secret of `other`.
async fn crawl_pages(app: &TestApp, who: &Made, other: &Made) -> Vec<String> {
    let staff = session(app, "/staff/login", &who.accounts.staff.email).await;
    let agent = session(app, "/operator/login", &who.accounts.agent.email).await;
    let mut leaks = Vec::new();
    // The public page and its file, naming the commune as links from it do.
    for page in ["/transparency", "/transparency/monthly.csv"] {
        let page = format!("{page}?jurisdiction={}", who.commune);
        let body = app
            .client
            .get(app.url(&page))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        leaks.extend(
            other
                .secrets
                .iter()
                .filter(|s| body.contains(s.as_str()))
                .map(|s| format!("page {page} shows {s}")),
        );
    }
    let visits = STAFF_PAGES
        .iter()
        .map(|p| (p, &staff))
        .chain(OPERATOR_PAGES.iter().map(|p| (p, &agent)));
    for (page, cookie) in visits {
        let response = app
            .client
            .get(app.url(page))
            .header("cookie", cookie.as_str())
            .send()
            .await
            .unwrap();
        assert!(
            response.status().is_success(),
            "{page}: {}",
            response.status()
        );
        let body = response.text().await.unwrap();
        for secret in &other.secrets {
            if body.contains(secret.as_str()) {
                leaks.push(format!("page {page} shows {secret}"));
            }
        }
    }
    leaks
}

/// Waits until each commune's failing webhook has given up on at least one event.
async fn wait_for_dead_letters(app: &TestApp, made: &[&Made]) {
    let started = Instant::now();
    for m in made {
        loop {
            let dead = app
                .get(
                    &m.accounts.manager.token,
                    "/api/v1/operator/webhook/deliveries?state=dead",
                )
                .await
                .text()
                .await
                .unwrap();
            if dead.len() > 2 {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "no dead webhook letter: {dead}"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

both_databases! {
    async fn one_communes_people_never_see_the_others_data(db: Db) {
        let app = TestApp::spawn(db).await;
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("demo/tabarka");
        let tabarka = DemoData::from_dir(&dir).unwrap();
        assert_eq!(tabarka.jurisdiction.time_zone.as_str(), "Africa/Tunis");
        tabarka.seed(app.store.as_ref()).await.unwrap();
        app.state.refresh_catalog().await.unwrap();

        let tet = make(&app, &TETOUAN).await;
        let tbk = make(&app, &TABARKA).await;
        assert!(tbk.secrets[3].starts_with("TBK-"), "Tabarka's own prefix: {}", tbk.secrets[3]);
        wait_for_dead_letters(&app, &[&tet, &tbk]).await;

        let paths = readable_paths(&app).await;
        assert!(paths.len() > 40, "{paths:?}");
        let (mut leaks, tet_seen) = crawl(&app, &paths, &tet, TETOUAN.marker, &tbk).await;
        let (tbk_leaks, tbk_seen) = crawl(&app, &paths, &tbk, TABARKA.marker, &tet).await;
        leaks.extend(tbk_leaks);
        leaks.extend(crawl_pages(&app, &tet, &tbk).await);
        leaks.extend(crawl_pages(&app, &tbk, &tet).await);
        assert!(leaks.is_empty(), "{} leaks:\n{}", leaks.len(), leaks.join("\n"));
        // The crawl saw each commune's own objects (lists of reports, notices, screens,
        // gateways, keys), so an empty answer everywhere cannot pass for isolation.
        assert!(tet_seen >= 5 && tbk_seen >= 5, "own marker seen {tet_seen} / {tbk_seen} times");

        // By id, across the boundary: not found.
        let tbk_report = &tbk.secrets[2];
        for path in [format!("/api/v1/staff/reports/{tbk_report}"), format!("/api/v1/operator/tickets/{tbk_report}")] {
            for token in [&tet.accounts.staff.token, &tet.accounts.agent.token] {
                let status = app.get(token, &path).await.status();
                assert!(status == 404 || status == 403, "{path}: {status}");
            }
        }
        let tbk_operator = app.operator_id(TABARKA.waste_operator).await.0;
        let path = format!("/api/v1/staff/operators/{tbk_operator}/webhook/deliveries?state=dead");
        let response = app.get(&tet.accounts.staff.token, &path).await;
        let (status, body) = (response.status(), response.text().await.unwrap());
        assert!(status == 404 || !tbk.secrets.iter().any(|s| body.contains(s.as_str())), "{path}: {status} {body}");
        app.stop().await;
    }
}
