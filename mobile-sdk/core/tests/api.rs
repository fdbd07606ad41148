//! The rest of the resident's flow against the real `balagh` binary: one registration,
//! services per locale, "me too" instead of a duplicate, following, the operator's fix
//! confirmed, reopened and rated, a refused report, push registration following the
//! locale, notices, and an unknown token.

mod support;

use balagh_sdk::{
    AreaOfInterestView, Client, PushChannel, PushSettings, QueueState, QuietHoursView, ReportDraft,
    SdkError,
};
use serde_json::{Value, json};
use std::io::Write;
use std::process::{Command, Stdio};
use support::{LAT, LON, SERVICE, Scratch, Server};

fn draft(description: &str) -> ReportDraft {
    ReportDraft {
        service_code: SERVICE.into(),
        lat: LAT,
        lon: LON,
        accuracy_m: None,
        description: description.into(),
        attributes: Default::default(),
        photos: Vec::new(),
    }
}

/// An operator agent of the demo waste operator, logged in on the web API.
struct Operator {
    http: reqwest::Client,
    base: String,
    cookie: String,
    csrf: String,
}

impl Operator {
    async fn create(server: &Server, dir: &std::path::Path) -> Self {
        let password = "a passphrase for the sdk test";
        let mut create = Command::new(support::balagh_binary())
            .args([
                "create-user",
                "--email",
                "agent@nadafa.ma",
                "--name",
                "Agent",
            ])
            .args(["--role", "operator_agent", "--operator", "nadafa-demo"])
            .current_dir(dir)
            .env(
                "BALAGH_DATABASE_URL",
                format!("sqlite://{}", server.database.display()),
            )
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        writeln!(create.stdin.take().unwrap(), "{password}").unwrap();
        let created = create.wait_with_output().unwrap();
        assert!(
            created.status.success(),
            "{}",
            String::from_utf8_lossy(&created.stderr)
        );
        let http = reqwest::Client::new();
        let response = http
            .post(format!("{}/api/v1/auth/login", server.base_url))
            .json(&json!({"email": "agent@nadafa.ma", "password": password}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let cookie = response.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_owned();
        let body: Value = response.json().await.unwrap();
        Self {
            http,
            base: server.base_url.clone(),
            cookie,
            csrf: body["csrf_token"].as_str().unwrap().to_owned(),
        }
    }

    /// The ticket as the operator sees it, with its ETag.
    async fn ticket(&self, id: &str) -> (Value, String) {
        let response = self
            .http
            .get(format!("{}/api/v1/operator/tickets/{id}", self.base))
            .header("cookie", &self.cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let etag = response.headers()["etag"].to_str().unwrap().to_owned();
        (response.json().await.unwrap(), etag)
    }

    /// Applies one action at the ticket's current version.
    async fn act(&self, id: &str, action: &str, body: Value) {
        let (_, etag) = self.ticket(id).await;
        let response = self
            .http
            .post(format!(
                "{}/api/v1/operator/tickets/{id}/actions/{action}",
                self.base
            ))
            .header("cookie", &self.cookie)
            .header("x-csrf-token", &self.csrf)
            .header("if-match", etag)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(
            response.status().is_success(),
            "{action}: {}",
            response.text().await.unwrap()
        );
    }

    /// Takes the ticket to `resolved` through whatever actions its status allows.
    async fn resolve(&self, id: &str) {
        for _ in 0..5 {
            let (ticket, _) = self.ticket(id).await;
            if ticket["status"] == "resolved" {
                return;
            }
            let allowed: Vec<&str> = ticket["allowed_actions"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(Value::as_str)
                .collect();
            let action = ["resolve", "start", "acknowledge", "resume"]
                .into_iter()
                .find(|a| allowed.contains(a))
                .unwrap_or_else(|| panic!("no way forward from {ticket}"));
            self.act(id, action, json!({"note": "Conteneur vidé et nettoyé"}))
                .await;
        }
        panic!("ticket {id} not resolved");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_residents_whole_flow() {
    let scratch = Scratch::new("api");
    let port = support::free_port();
    let server = Server::start(&scratch.path("server"), port);
    let base = server.base_url.clone();
    let resident = Client::new(&base, scratch.path("resident"), "fr").unwrap();

    // Registered once; the token survives a restart of the app.
    let device = resident.register_device().await.unwrap();
    assert_eq!(resident.register_device().await.unwrap(), device);
    let restarted = Client::new(&base, scratch.path("resident"), "fr").unwrap();
    assert_eq!(restarted.device_id().await.unwrap(), Some(device));
    drop(restarted);

    // The server tags the services with an ETag and answers 304 while they are current.
    let http = reqwest::Client::new();
    let first = http
        .get(format!("{base}/api/v1/services"))
        .send()
        .await
        .unwrap();
    let etag = first.headers()["etag"].clone();
    let again = http
        .get(format!("{base}/api/v1/services"))
        .header("if-none-match", etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);

    // Services per locale, revalidated from the cache.
    let fr = resident.services().await.unwrap();
    assert_eq!(fr.list.language, "fr");
    assert_eq!(resident.services().await.unwrap().list, fr.list);
    resident.set_locale("ar-MA").await.unwrap();
    let ar = resident.services().await.unwrap();
    assert_eq!(ar.list.language, "ar");
    assert_ne!(ar.list.services[0].name, fr.list.services[0].name);

    // A report, sent at once.
    let local_id = resident
        .submit_report(draft("Conteneur qui déborde depuis trois jours"))
        .await
        .unwrap();
    assert_eq!(resident.flush().await.unwrap().sent, 1);
    let report_id = resident
        .queued_report(&local_id)
        .await
        .unwrap()
        .unwrap()
        .report_id
        .unwrap()
        .to_string();

    // A neighbour checks before reporting the same bin and says "me too" instead.
    let neighbour = Client::new(&base, scratch.path("neighbour"), "fr").unwrap();
    let nearby = neighbour.nearby_reports(LAT, LON, SERVICE).await.unwrap();
    assert_eq!(nearby.reports.len(), 1);
    assert_eq!(nearby.reports[0].id.to_string(), report_id);
    let support = neighbour.support(&report_id).await.unwrap();
    assert_eq!((support.supporters, support.already_supported), (1, false));
    assert!(
        neighbour
            .support(&report_id)
            .await
            .unwrap()
            .already_supported
    );
    match resident.support(&report_id).await {
        Err(SdkError::Rejected(problem)) => assert_eq!(problem.status, 409),
        other => panic!("supporting one's own report: {other:?}"),
    }
    assert!(neighbour.follow(&report_id).await.unwrap().following);
    assert!(!neighbour.unfollow(&report_id).await.unwrap().following);
    assert!(neighbour.followed_reports().await.unwrap().is_empty());
    assert!(neighbour.follow(&report_id).await.unwrap().following);
    assert_eq!(neighbour.followed_reports().await.unwrap().len(), 1);
    // The neighbour can open the report it follows (what the public may know of it), and
    // it does not become one of the neighbour's own reports.
    let followed = neighbour.report(&report_id).await.unwrap();
    assert_eq!(followed.viewer.as_deref(), Some("follower"));
    assert!(followed.attributes.as_object().unwrap().is_empty());
    assert!(neighbour.my_reports().await.unwrap().is_empty());

    // Not fixed yet: confirming is refused with the server's reasons; stars are checked.
    match resident.confirm_fixed(&report_id).await {
        Err(SdkError::Rejected(problem)) => assert_eq!(problem.status, 409),
        other => panic!("confirming a new report: {other:?}"),
    }
    assert!(matches!(
        resident.rate(&report_id, 9, None).await,
        Err(SdkError::InvalidInput(_))
    ));

    // The operator fixes it; the resident sees it, rates it, reopens it; fixed again,
    // the resident confirms.
    let operator = Operator::create(&server, &scratch.0).await;
    // First a question for the resident, answered from the app: the ticket resumes.
    operator.act(&report_id, "acknowledge", json!({})).await;
    operator.act(&report_id, "start", json!({})).await;
    operator
        .act(
            &report_id,
            "pause",
            json!({"reason": "awaiting_resident", "note": "Quel conteneur ?"}),
        )
        .await;
    assert!(matches!(
        resident.reply_to_operator(&report_id, "  ").await,
        Err(SdkError::InvalidInput(_))
    ));
    let answered = resident
        .reply_to_operator(&report_id, "Le vert, derrière la mosquée")
        .await
        .unwrap();
    assert_eq!(answered.status, "in_progress");
    operator.resolve(&report_id).await;
    let mine = resident.sync_my_reports().await.unwrap();
    assert_eq!(mine[0].report.status, "resolved");
    let rated = resident
        .rate(&report_id, 4, Some("Rapide".into()))
        .await
        .unwrap();
    assert_eq!(rated.status, "resolved");
    let reopened = resident
        .reopen(&report_id, "Toujours des sacs au sol")
        .await
        .unwrap();
    assert_eq!(reopened.status, "reopened");
    operator.resolve(&report_id).await;
    let closed = resident.confirm_fixed(&report_id).await.unwrap();
    assert_eq!(closed.status, "closed");
    let kinds: Vec<String> = resident.my_reports().await.unwrap()[0]
        .report
        .history
        .clone()
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert!(kinds.len() >= 5, "{kinds:?}");

    // A report the server refuses is kept, marked rejected with the problem, then dropped.
    let mut wrong = draft("Arrêt de bus cassé");
    wrong.service_code = "no_such_service".into();
    let wrong_id = resident.submit_report(wrong).await.unwrap();
    let summary = resident.flush().await.unwrap();
    assert_eq!((summary.sent, summary.rejected, summary.pending), (0, 1, 0));
    let queued = resident.queued_report(&wrong_id).await.unwrap().unwrap();
    assert_eq!(queued.state, QueueState::Rejected);
    let problem = queued.problem.unwrap();
    assert_eq!(problem.status, 422);
    assert!(
        problem.errors.iter().any(|e| e.field == "service_code"),
        "{problem:?}"
    );
    resident.discard_queued(&wrong_id).await.unwrap();
    assert!(resident.queued_reports().await.unwrap().is_empty());

    // Pushes, in the locale's language, following a change of locale.
    let registered = resident
        .register_push(PushSettings {
            channel: PushChannel::Fcm {
                token: "fcm-registration-token-of-this-phone".into(),
            },
            time_zone: Some("Africa/Casablanca".into()),
            quiet_hours: Some(QuietHoursView {
                start: "22:00".into(),
                end: "07:00".into(),
            }),
            areas: vec![AreaOfInterestView {
                lat: LAT,
                lon: LON,
                radius_m: 500.0,
            }],
        })
        .await
        .unwrap();
    assert_eq!(
        (registered.channel.as_str(), registered.language.as_str()),
        ("fcm", "ar")
    );
    resident.set_locale("en").await.unwrap();
    let now = resident.push_registration().await.unwrap().unwrap();
    assert_eq!(now.language, "en");
    assert_eq!(now.areas.len(), 1);
    resident.unregister_push().await.unwrap();
    assert_eq!(resident.push_registration().await.unwrap(), None);

    // Notices near a point (none published in the demo data), in the locale.
    let notices = resident
        .notices_near(LAT, LON, Some(2000.0), None)
        .await
        .unwrap();
    assert!(notices.notices.is_empty());

    // A server that does not know the device any more (its database was replaced).
    server.kill();
    let _fresh = Server::start(&scratch.path("fresh-server"), port);
    assert_eq!(
        resident.report(&report_id).await.unwrap_err(),
        SdkError::Unauthorized
    );
}
