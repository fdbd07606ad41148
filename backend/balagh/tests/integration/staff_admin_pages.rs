//! The staff back office's administration pages (issue 19): Open311 keys, accounts, the
//! SLA calendar and policy versions, the penalty statement and operators' webhook health,
//! each in French and Arabic, its forms refused without the session's CSRF token or the
//! right role.

use crate::both_databases;
use crate::harness::*;
use crate::staff_pages::{Browser, input_value};
use balagh_domain::ServiceGroup;
use balagh_domain::account::Role;
use balagh_store::{OutboxState, Ts, WebhookEndpoint};
use serde_json::json;

/// A page without Fluent's bidi isolation marks (around every placeable), to search it.
fn plain(page: &str) -> String {
    page.replace(['\u{2068}', '\u{2069}'], "")
}

fn rtl(page: &str) -> bool {
    page.contains(r#"<html lang="ar" dir="rtl">"#)
}

both_databases! {
    async fn staff_admins_issue_and_revoke_open311_keys_from_the_page(db: Db) {
        let app = TestApp::spawn(db).await;
        let admin = app.user(Role::StaffAdmin, None).await;
        let browser = Browser::login(&app, &admin.email).await;
        let (status, page) = browser.get("/staff/open311-keys?lang=fr").await;
        assert_eq!(status, 200);
        assert!(page.contains(r#"id="keys""#) && page.contains("Clés Open311"), "{page}");
        let (_, arabic) = browser.get("/staff/open311-keys?lang=ar").await;
        assert!(rtl(&arabic) && arabic.contains("مفاتيح"));
        let csrf = input_value(&page, "csrf_token");

        let (status, _, _) = browser.post("/staff/open311-keys?lang=fr", &[("csrf_token", "forged"), ("name", "FixMyStreet")]).await;
        assert_eq!(status, 403);
        let (status, _, refused) = browser.post("/staff/open311-keys?lang=fr", &[("csrf_token", &csrf), ("name", "  ")]).await;
        assert_eq!(status, 422);
        assert!(refused.contains(r#"id="error""#), "{refused}");
        assert!(app.store.open311_keys(None).await.unwrap().is_empty());

        // Issued: the key is on this answer, once, and it works.
        let (status, _, issued) = browser.post("/staff/open311-keys?lang=fr", &[("csrf_token", &csrf), ("name", "FixMyStreet")]).await;
        assert_eq!(status, 201);
        let secret = input_value(&issued, "secret");
        assert!(secret.starts_with("o311_"), "{issued}");
        let hash = balagh_api::auth::secrets::hash(&secret);
        let key = app.store.open311_key_by_hash(&hash).await.unwrap().expect("the key is stored");
        assert_eq!(key.name, "FixMyStreet");
        let (_, listed) = browser.get("/staff/open311-keys?lang=fr").await;
        assert!(listed.contains("FixMyStreet") && !listed.contains(&secret), "never shown again");

        // Agents do not manage keys.
        let agent = app.user(Role::StaffAgent, None).await;
        let other = Browser::login(&app, &agent.email).await;
        let (status, _) = other.get("/staff/open311-keys?lang=fr").await;
        assert_eq!(status, 403);
        let (_, triage) = other.get("/staff/triage?lang=fr").await;
        assert!(!triage.contains("/staff/open311-keys"), "no link to a page that is not theirs");
        let agent_csrf = input_value(&triage, "csrf_token");
        let (status, _, _) = other.post(&format!("/staff/open311-keys/{}/revoke?lang=fr", key.id), &[("csrf_token", &agent_csrf)]).await;
        assert_eq!(status, 403);

        let (status, location, _) = browser.post(&format!("/staff/open311-keys/{}/revoke?lang=fr", key.id), &[("csrf_token", &csrf)]).await;
        assert_eq!((status, location.as_str()), (303, "/staff/open311-keys?lang=fr&done=revoked"));
        assert!(app.store.open311_key_by_hash(&hash).await.unwrap().is_none(), "a revoked key no longer authenticates");
        let keys = app.store.open311_keys(None).await.unwrap();
        assert!(keys.iter().find(|k| k.id == key.id).unwrap().revoked_at.is_some());
        let (_, page) = browser.get(&location).await;
        assert!(page.contains(r#"data-state="revoked""#) && page.contains(r#"id="done""#));
        // Revoked once only.
        let (status, _, _) = browser.post(&format!("/staff/open311-keys/{}/revoke?lang=fr", key.id), &[("csrf_token", &csrf)]).await;
        assert_eq!(status, 404);
        app.stop().await;
    }

    async fn staff_admins_create_disable_and_enable_accounts_from_the_page(db: Db) {
        let app = TestApp::spawn(db).await;
        let admin = app.user(Role::StaffAdmin, None).await;
        let browser = Browser::login(&app, &admin.email).await;
        let (status, page) = browser.get("/staff/users?lang=fr").await;
        assert_eq!(status, 200);
        assert!(page.contains(&admin.email), "{page}");
        // One's own account cannot be disabled from here.
        assert!(!page.contains(&format!("/staff/users/{}/active", admin.id)));
        let (_, arabic) = browser.get("/staff/users?lang=ar").await;
        assert!(rtl(&arabic) && arabic.contains("مدير الجماعة"));
        let csrf = input_value(&page, "csrf_token");
        let operator = app.operator_id("nadafa-demo").await.0.to_string();
        let fields = |password: &'static str| {
            vec![
                ("csrf_token", csrf.clone()), ("display_name", "Samir Agent".to_owned()),
                ("email", "samir@nadafa.example".to_owned()), ("role", "operator_agent".to_owned()),
                ("operator_id", operator.clone()), ("password", password.to_owned()),
            ]
        };
        let as_refs = |f: &[(&'static str, String)]| f.iter().map(|(k, v)| (*k, v.clone())).collect::<Vec<_>>();
        let send = async |f: Vec<(&'static str, String)>| {
            let borrowed: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
            browser.post("/staff/users?lang=fr", &borrowed).await
        };
        // Too short a password: the form comes back with what was typed, not the password.
        let (status, _, refused) = send(as_refs(&fields("short"))).await;
        assert_eq!(status, 422);
        assert!(refused.contains(r#"id="error""#) && refused.contains("Samir Agent") && refused.contains("password"), "{refused}");
        assert!(!refused.contains(r#"value="short""#));
        let mut forged = as_refs(&fields("a long enough passphrase"));
        forged[0].1 = "forged".into();
        let (status, _, _) = send(forged).await;
        assert_eq!(status, 403);
        let (status, location, body) = send(as_refs(&fields("a long enough passphrase"))).await;
        assert_eq!((status, location.as_str()), (303, "/staff/users?lang=fr&done=created"), "{body}");
        let email = balagh_domain::account::Email::parse("samir@nadafa.example").unwrap();
        let (created, _) = app.store.user_for_login(&email).await.unwrap().expect("created");
        assert_eq!(created.grant.role(), Role::OperatorAgent);

        // Disabled: the person can no longer log in; enabled again: they can.
        let path = format!("/staff/users/{}/active?lang=fr", created.id);
        let (status, location, _) = browser.post(&path, &[("csrf_token", &csrf), ("active", "false")]).await;
        assert_eq!((status, location.as_str()), (303, "/staff/users?lang=fr&done=disabled"));
        assert!(!app.store.user(created.id).await.unwrap().unwrap().active);
        let (_, page) = browser.get(&location).await;
        assert!(page.contains(r#"data-active="false""#) && page.contains("Le compte a été désactivé."));
        let login = app.client.post(app.url("/api/v1/auth/login"))
            .json(&json!({"email": "samir@nadafa.example", "password": "a long enough passphrase"}))
            .send().await.unwrap();
        assert_eq!(login.status(), 401);
        let (status, _, _) = browser.post(&path, &[("csrf_token", &csrf), ("active", "true")]).await;
        assert_eq!(status, 303);
        assert!(app.store.user(created.id).await.unwrap().unwrap().active);

        // Analysts do not manage accounts.
        let analyst = app.user(Role::StaffAnalyst, None).await;
        let reader = Browser::login(&app, &analyst.email).await;
        let (status, _) = reader.get("/staff/users?lang=fr").await;
        assert_eq!(status, 403);
        app.stop().await;
    }

    async fn staff_read_the_sla_page_and_admins_change_the_calendar_and_add_a_policy(db: Db) {
        let app = TestApp::spawn(db).await;
        let admin = app.user(Role::StaffAdmin, None).await;
        let browser = Browser::login(&app, &admin.email).await;
        let (status, page) = browser.get("/staff/sla?lang=fr").await;
        assert_eq!(status, 200);
        assert!(page.contains("08:30-16:30") && page.contains(r#"id="calendar-form""#), "{page}");
        // The demo's policies apply from the beginning: said in words, not as the epoch.
        assert!(page.contains(r#"<dd class="since-beginning">depuis le début</dd>"#) && !page.contains("1970"), "{page}");
        let (_, arabic) = browser.get("/staff/sla?lang=ar").await;
        assert!(rtl(&arabic) && arabic.contains("جدول العمل") && arabic.contains("منذ البداية") && !arabic.contains("1970"));
        let csrf = input_value(&page, "csrf_token");
        let mut calendar = vec![("csrf_token", csrf.as_str()), ("national_holidays", "morocco")];
        for day in ["hours_monday", "hours_tuesday", "hours_wednesday", "hours_thursday", "hours_friday"] {
            calendar.push((day, "08:30-16:30"));
        }
        calendar.push(("hours_saturday", "09:00-12:00"));
        calendar.push(("holidays", "2026-12-24 Moussem"));
        calendar.push(("overrides", "2027-02-18 09:00-15:00 Ramadan"));
        let (status, _, _) = browser.post("/staff/sla/calendar?lang=fr", &[("csrf_token", "forged"), ("hours_monday", "")]).await;
        assert_eq!(status, 403);
        let mut wrong = calendar.clone();
        wrong.push(("movable_holidays", "eid_al_fitr"));
        let (status, _, refused) = browser.post("/staff/sla/calendar?lang=fr", &wrong).await;
        assert_eq!(status, 422);
        assert!(refused.contains(r#"id="error""#) && refused.contains("movable_holidays (line 1)") && refused.contains("Moussem"), "{refused}");
        let (status, location, body) = browser.post("/staff/sla/calendar?lang=fr", &calendar).await;
        assert_eq!((status, location.as_str()), (303, "/staff/sla?lang=fr&done=calendar"), "{body}");
        let tetouan = balagh_domain::Slug::parse("id", "tetouan").unwrap();
        let spec = app.state.catalog().sla_calendar_spec(&tetouan).cloned().unwrap();
        assert_eq!(spec.weekly_hours["saturday"][0].to_string(), "09:00-12:00");
        assert_eq!(spec.holidays[0].name, "Moussem");
        let (_, page) = browser.get(&location).await;
        assert!(page.contains("09:00-12:00") && page.contains(r#"id="done""#));

        // A new policy version for a waste contract, penalties in dirhams.
        let contract = app.store.contracts().await.unwrap().into_iter().find(|c| c.group == ServiceGroup::WASTE).unwrap().id;
        let before = app.state.catalog().sla_policy_versions(contract).len();
        let policy = [
            ("csrf_token", csrf.as_str()), ("clock", "business_hours"), ("effective_from", ""),
            ("targets", "acknowledge 2h\nresolve 8h priority=urgent\nresolve 24h"),
            ("reason_awaiting_resident", "on"), ("thresholds", "50, 90"),
            ("per_breach", "150"), ("per_hour", "12,50"), ("cap", ""),
        ];
        let path = format!("/staff/sla/contracts/{}/policies?lang=fr", contract.0);
        let mut bad = policy.to_vec();
        bad[3] = ("targets", "resolve");
        let (status, _, refused) = browser.post(&path, &bad).await;
        assert_eq!(status, 422);
        assert!(refused.contains("targets (line 1)"), "{refused}");
        let (status, location, body) = browser.post(&path, &policy).await;
        assert_eq!((status, location.as_str()), (303, "/staff/sla?lang=fr&done=policy"), "{body}");
        let versions = app.state.catalog().sla_policy_versions(contract).to_vec();
        assert_eq!(versions.len(), before + 1);
        let added = &versions.last().unwrap().policy;
        assert_eq!(added.penalty.per_breach_minor, 15000);
        assert_eq!(added.penalty.per_started_hour_late_minor, 1250);
        assert_eq!(added.penalty.cap_per_period_minor, None);
        assert_eq!(added.targets.len(), 3);
        let (_, page) = browser.get("/staff/sla?lang=fr").await;
        assert!(plain(&page).contains("150.00 MAD par dépassement"), "{page}");

        // Agents read the page without its forms and cannot post them.
        let agent = app.user(Role::StaffAgent, None).await;
        let other = Browser::login(&app, &agent.email).await;
        let (status, page) = other.get("/staff/sla?lang=fr").await;
        assert_eq!(status, 200);
        assert!(!page.contains(r#"id="calendar-form""#) && !page.contains("policy-form"));
        let agent_csrf = input_value(&page, "csrf_token");
        let mut theirs = calendar.clone();
        theirs[0] = ("csrf_token", agent_csrf.as_str());
        let (status, _, _) = other.post("/staff/sla/calendar?lang=fr", &theirs).await;
        assert_eq!(status, 403);
        app.stop().await;
    }

    async fn the_statement_page_lists_a_contracts_breaches_in_dirhams_beside_its_csv(db: Db) {
        let app = TestApp::spawn(db).await;
        let admin = app.user(Role::StaffAdmin, None).await;
        let operator = app.operator_id("nadafa-demo").await;
        let contract = app.store.contracts().await.unwrap().into_iter()
            .find(|c| c.operator == operator && c.group == ServiceGroup::WASTE).unwrap().id.0;
        // Acknowledge within a second: the report's clock breaches at once.
        let policy = json!({
            "effective_from": "2026-01-01T00:00:00Z", "clock": "always",
            "targets": [
                {"metric": "acknowledge", "service_code": null, "priority": null, "duration": "PT1S"},
                {"metric": "resolve", "service_code": null, "priority": null, "duration": "PT10H"}
            ],
            "pause_reasons_that_stop_the_clock": ["awaiting_resident"],
            "penalty": {"per_breach_minor": 10000, "per_started_hour_late_minor": 1000, "cap_per_period_minor": 50000}
        });
        let stored = app.post_as(&admin.token, &format!("/api/v1/staff/contracts/{contract}/sla-policies"), None, Some(policy)).await;
        assert!(stored.status().is_success());
        let (_, report) = app.reported("waste_bin_overflow", WEST).await;
        let reference = report["reference"].as_str().unwrap().to_owned();

        let browser = Browser::login(&app, &admin.email).await;
        let (status, chooser) = browser.get("/staff/statement?lang=fr").await;
        assert_eq!(status, 200);
        assert!(chooser.contains(&contract.to_string()) && !chooser.contains(r#"id="statement""#));
        // The breach shows once its second has passed (bounded polling, no fixed sleep).
        let path = format!("/staff/statement?lang=fr&contract={contract}");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        let page = loop {
            let (status, page) = browser.get(&path).await;
            assert_eq!(status, 200, "{page}");
            if page.contains(&reference) {
                break page;
            }
            assert!(std::time::Instant::now() < deadline, "the breach never showed: {page}");
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        };
        // 100 MAD for the breach and 10 MAD for its first started hour late.
        assert!(page.contains(r#"id="statement""#) && page.contains("Nadafa"), "{page}");
        let shown = plain(&page);
        assert!(shown.contains("110.00 MAD") && shown.contains("500.00 MAD"), "{page}");
        let csv = input_href(&page, "csv");
        assert!(csv.contains("format=csv") && csv.contains(&contract.to_string()), "{csv}");
        let download = browser.client.get(app.url(&csv.replace("&#38;", "&").replace("&amp;", "&"))).header("cookie", &browser.cookie).send().await.unwrap();
        let status = download.status();
        let body = download.text().await.unwrap();
        assert_eq!(status, 200, "{csv}: {body}");
        assert!(body.contains(&reference) && body.contains("110.00"), "{body}");
        let (_, arabic) = browser.get(&format!("/staff/statement?lang=ar&contract={contract}")).await;
        assert!(rtl(&arabic) && plain(&arabic).contains("110.00 درهم"), "{arabic}");
        // A bad month is refused; an unknown contract is not found.
        let (status, _) = browser.get(&format!("{path}&month=2026-13")).await;
        assert_eq!(status, 422);
        let (status, _) = browser.get(&format!("/staff/statement?lang=fr&contract={}", uuid::Uuid::now_v7())).await;
        assert_eq!(status, 404);
        app.stop().await;
    }

    async fn staff_see_operators_webhook_health_and_retry_a_dead_letter(db: Db) {
        let app = TestApp::spawn(db).await;
        let agent = app.user(Role::StaffAgent, None).await;
        let operator = app.operator_id("nadafa-demo").await;
        // An address the delivery worker refuses (cloud metadata): its messages die at once.
        app.store.set_webhook_endpoint(&WebhookEndpoint {
            operator_id: operator.0,
            url: "https://169.254.169.254/latest/meta-data/".to_owned(),
            secret: balagh_webhooks::WebhookSecret::generate().expose(),
            active: true,
        }, Ts::now()).await.unwrap();
        app.reported("waste_bin_overflow", WEST).await;
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        let dead = loop {
            let dead = app.store.outbox_messages(operator, OutboxState::Dead, 10).await.unwrap();
            if let Some(first) = dead.into_iter().next() {
                break first;
            }
            assert!(std::time::Instant::now() < deadline, "no dead letter");
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        };
        let browser = Browser::login(&app, &agent.email).await;
        let (status, page) = browser.get("/staff/webhooks?lang=fr").await;
        assert_eq!(status, 200);
        assert!(page.contains(r#"data-state="dead""#) && page.contains("169.254.169.254") && page.contains("outbound policy"), "{page}");
        assert!(page.contains(&format!("/staff/webhooks/{}/{}/retry", operator.0, dead.id)));
        let (_, arabic) = browser.get("/staff/webhooks?lang=ar").await;
        assert!(rtl(&arabic) && arabic.contains("إعادة الإرسال"));
        let csrf = input_value(&page, "csrf_token");
        let retry = format!("/staff/webhooks/{}/{}/retry?lang=fr", operator.0, dead.id);
        let (status, _, _) = browser.post(&retry, &[("csrf_token", "forged")]).await;
        assert_eq!(status, 403);
        let (status, location, _) = browser.post(&retry, &[("csrf_token", &csrf)]).await;
        assert_eq!((status, location.as_str()), (303, "/staff/webhooks?lang=fr&done=retry"));
        // Another operator's path does not reach this message.
        let other = app.operator_id("nour-eclairage-demo").await;
        let (status, _, _) = browser.post(&format!("/staff/webhooks/{}/{}/retry?lang=fr", other.0, dead.id), &[("csrf_token", &csrf)]).await;
        assert_eq!(status, 404);
        // An operator without a webhook: its events are settled as delivered with nothing
        // sent, so the page says there is no webhook and shows no last delivery.
        let (_, lit) = app.reported("light_out", WEST).await;
        let lighting = app.operator_id(lit["operator"]["slug"].as_str().unwrap()).await;
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while app.store.outbox_messages(lighting, OutboxState::Delivered, 1).await.unwrap().is_empty() {
            assert!(std::time::Instant::now() < deadline, "the lighting operator's event is never settled");
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        let (_, page) = browser.get("/staff/webhooks?lang=fr").await;
        let sections: Vec<&str> = page.split("<section").skip(1).collect();
        let without: Vec<&&str> = sections.iter().filter(|s| s.contains(r#"data-state="none""#)).collect();
        assert!(!without.is_empty(), "{page}");
        for section in without {
            assert!(section.contains("Aucun webhook configuré") && !section.contains("Dernière livraison"), "{section}");
        }
        let with = sections.iter().find(|s| s.contains(r#"data-state="dead""#)).unwrap();
        assert!(with.contains("Dernière livraison"), "{with}");
        // Analysts do not operate deliveries.
        let analyst = app.user(Role::StaffAnalyst, None).await;
        let reader = Browser::login(&app, &analyst.email).await;
        let (status, _) = reader.get("/staff/webhooks?lang=fr").await;
        assert_eq!(status, 403);
        app.stop().await;
    }
}

both_databases! {
    async fn notices_on_the_transparency_page_say_where_they_apply(db: Db) {
        let app = TestApp::spawn(db).await;
        let staff = app.user(Role::StaffAgent, None).await;
        let browser = Browser::login(&app, &staff.email).await;
        let (_, page) = browser.get("/staff/notices?lang=fr").await;
        let csrf = input_value(&page, "csrf_token");
        let zone = app.store.contracts().await.unwrap()[0].zone_name.clone();
        let (status, _, body) = browser.post("/staff/notices?lang=fr", &[
            ("csrf_token", csrf.as_str()), ("kind", "planned_interruption"), ("hours", "8"),
            ("service_light_out", "on"), ("title_fr", "Coupure prévue"), ("body_fr", "Travaux"),
            ("area", ""), ("district", zone.as_str()),
        ]).await;
        assert_eq!(status, 303, "{body}");
        let public = app.client.get(app.url("/transparency?lang=fr")).send().await.unwrap().text().await.unwrap();
        let item = public.split(r#"<li class="notice">"#).nth(1).expect("the notice is listed");
        assert!(item.contains(r#"<span class="where">Secteur : <bdi>"#) && item.contains(&zone), "{item}");
        app.stop().await;
    }
}

/// The `href` of the link with this id.
fn input_href(html: &str, id: &str) -> String {
    let marker = format!(r#"id="{id}" href=""#);
    let start = html.find(&marker).unwrap_or_else(|| panic!("no link {id}")) + marker.len();
    html[start..].split('"').next().unwrap().to_owned()
}
