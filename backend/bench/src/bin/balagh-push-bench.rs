//! `balagh-push-bench`: one service notice fanned out to many devices, end to end — the
//! notice and its fan-out message stored, the fan-out worker queueing one push per device
//! whose area of interest it reaches, the delivery workers sending them to a local FCM
//! stand-in that checks the OAuth bearer of every request. The baseline, measured in the
//! same run against the same stand-in, is the same number of pushes sent straight through
//! the FCM client with no database at all.

use balagh::config::{DatabaseUrl, LogFormat, Settings};
use balagh::server::Application;
use balagh::workers::WorkerSettings;
use balagh_api::ApiSettings;
use balagh_push::stand_in::FcmStandIn;
use balagh_push::{PushClient, PushMessage, PushSettings, PushTarget};
use balagh_store::{
    Backend, NewDevice, PushChannel, PushRegistration, StoredArea, StoredNotice, Ts,
};
use clap::Parser;
use futures_util::StreamExt;
use rand::Rng;
use std::time::{Duration, Instant};

#[derive(Debug, Parser)]
#[command(about = "Fan-out of one notice to many devices against a local FCM stand-in")]
struct Args {
    /// Database to benchmark (a fresh one): postgres://… or sqlite://…
    #[arg(long)]
    database_url: DatabaseUrl,
    /// Devices registered with an area of interest the notice reaches.
    #[arg(long, default_value_t = 100_000)]
    devices: usize,
    /// Pushes in flight at once (the delivery workers' and the baseline's).
    #[arg(long, default_value_t = 64)]
    concurrency: usize,
    /// Pushes claimed per delivery round.
    #[arg(long, default_value_t = 500)]
    batch: u32,
}

/// Tétouan's centre.
const CENTRE: (f64, f64) = (35.5785, -5.3684);

fn proc_status_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

/// Resets the peak-RSS mark (Linux), so the next peak is the measured phase's own.
fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

async fn queued_pushes(backend: Backend, url: &str) -> i64 {
    let sql = "SELECT COUNT(*) FROM outbox WHERE topic = 'push'";
    match backend {
        Backend::Postgres => {
            let pool = sqlx::PgPool::connect(url).await.expect("connect");
            let n = sqlx::query_scalar(sql)
                .fetch_one(&pool)
                .await
                .expect("count");
            pool.close().await;
            n
        }
        Backend::Sqlite => {
            let pool = sqlx::SqlitePool::connect(url).await.expect("connect");
            let n = sqlx::query_scalar(sql)
                .fetch_one(&pool)
                .await
                .expect("count");
            pool.close().await;
            n
        }
    }
}

fn registration(i: usize, rng: &mut impl Rng) -> (NewDevice, PushRegistration) {
    let id = uuid::Uuid::now_v7();
    let now = Ts::now();
    // Homes spread over about ±1.5 km around the centre; a 500 m area each.
    let lat = CENTRE.0 + rng.random_range(-0.0135..0.0135);
    let lon = CENTRE.1 + rng.random_range(-0.0165..0.0165);
    let language = ["fr", "ar", "en"][i % 3];
    (
        NewDevice {
            id,
            token_hash: {
                let mut hash = id.as_bytes().to_vec();
                hash.extend_from_slice(&(i as u64).to_le_bytes());
                hash
            },
            created_at: now,
        },
        PushRegistration {
            device_id: id,
            channel: PushChannel::Fcm {
                token: format!("bench-token-{i:07}"),
            },
            language: language.to_owned(),
            time_zone: "Africa/Casablanca".to_owned(),
            quiet_hours: None,
            areas: vec![StoredArea {
                lat,
                lon,
                radius_m: 500.0,
            }],
            active: true,
            deactivated_reason: None,
            updated_at: now,
        },
    )
}

async fn baseline(fcm: &FcmStandIn, count: usize, concurrency: usize) -> Duration {
    let client = PushClient::new(PushSettings {
        fcm: Some(fcm.test_config()),
        ..PushSettings::default()
    })
    .expect("client");
    let message = PushMessage::new("Collecte retardée", "La collecte passera l'après-midi.");
    let started = Instant::now();
    let failures = futures_util::stream::iter(0..count)
        .map(|i| {
            let client = client.clone();
            let message = message.clone();
            async move {
                let target = PushTarget::Fcm {
                    token: format!("baseline-{i:07}"),
                };
                client.send(&target, &message).await
            }
        })
        .buffer_unordered(concurrency)
        .filter(|outcome| std::future::ready(!outcome.is_done()))
        .count()
        .await;
    assert_eq!(failures, 0, "the stand-in refused baseline pushes");
    started.elapsed()
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let backend = Backend::from_url(args.database_url.expose()).expect("database URL");
    let fcm = FcmStandIn::start_with_test_key().await;
    // Counting only: 100k recorded messages would weigh on the memory figure.
    fcm.set_recording(false);

    let settings = Settings {
        listen: "127.0.0.1:0".parse().expect("address"),
        database_url: args.database_url.clone(),
        database_max_connections: 10,
        database_replicas: None,
        demo_data: true,
        log_format: LogFormat::Text,
        api: ApiSettings::default(),
        catalog_refresh: Duration::from_secs(3600),
        workers: WorkerSettings {
            poll_interval: Duration::from_millis(100),
            push_batch: args.batch,
            push_concurrency: args.concurrency,
            ..WorkerSettings::default()
        },
        photo_storage: balagh_objects::StorageConfig::Local(balagh_objects::LocalConfig {
            root: std::env::temp_dir().join(format!("balagh-push-bench-{}", uuid::Uuid::new_v4())),
        }),
        photo_url_key: None,
        push: PushSettings {
            fcm: Some(fcm.test_config()),
            ..PushSettings::default()
        },
    };
    let app = Application::build(&settings).await.expect("application");
    let state = app.state().clone();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        app.run_until(async {
            let _ = stopped.await;
        })
        .await
        .expect("serve")
    });

    println!(
        "balagh-push-bench: {} devices, {} database, {} in flight, batches of {}",
        args.devices,
        backend.as_str(),
        args.concurrency,
        args.batch
    );
    let started = Instant::now();
    let mut rng = rand::rng();
    let chunk = 10_000;
    for first in (0..args.devices).step_by(chunk) {
        let devices: Vec<_> = (first..(first + chunk).min(args.devices))
            .map(|i| registration(i, &mut rng))
            .collect();
        state
            .store()
            .bulk_insert_push_devices(&devices)
            .await
            .expect("devices");
    }
    state.store().analyze().await.expect("analyze");
    println!(
        "setup: {} devices registered in {:.1} s",
        args.devices,
        started.elapsed().as_secs_f64()
    );

    let raw = baseline(&fcm, args.devices, args.concurrency).await;
    let before = fcm.message_count();
    let raw_rate = args.devices as f64 / raw.as_secs_f64();
    println!(
        "baseline (FCM client straight to the stand-in, no database): {:.1} s, {:.0} msg/s",
        raw.as_secs_f64(),
        raw_rate
    );

    let rss_before = proc_status_kib("VmRSS:");
    reset_peak_rss();
    let now = Ts::now();
    let notice = StoredNotice {
        id: uuid::Uuid::now_v7(),
        jurisdiction_id: "tetouan".into(),
        kind: "collection_delay".into(),
        service_codes: vec!["waste_missed_collection".into()],
        area: serde_json::json!({"type": "Point", "coordinates": [CENTRE.1, CENTRE.0]}),
        radius_m: Some(3000.0),
        bbox: balagh_domain::notify::NoticeArea::Circle {
            centre: balagh_domain::GeoPoint::parse(CENTRE.0, CENTRE.1).expect("point"),
            radius_m: 3000.0,
        }
        .bbox(),
        valid_from: now,
        valid_until: Ts::new(now.get() + time::Duration::hours(12)),
        texts: serde_json::json!({
            "fr": {"title": "Collecte retardée", "body": "La collecte de demain passera l'après-midi."},
            "ar": {"title": "تأخير جمع النفايات", "body": "سيتم الجمع غدا بعد الظهر."},
            "en": {"title": "Collection delayed", "body": "Tomorrow's collection comes in the afternoon."}
        }),
        operator_id: None,
        published_by: uuid::Uuid::nil(),
        created_at: now,
        withdrawn_at: None,
        urgent: false,
    };
    // The notice's publisher must exist: the bench publishes as a staff user it creates.
    let publisher = balagh_store::NewUser {
        id: uuid::Uuid::now_v7(),
        email: balagh_domain::account::Email::parse("bench@balagh.invalid").expect("email"),
        display_name: "Benchmark".into(),
        password_hash: "!".into(),
        grant: balagh_domain::account::Grant::new(
            balagh_domain::account::Role::StaffAgent,
            balagh_domain::account::Scope::Jurisdiction(
                balagh_domain::Slug::parse("id", "tetouan").expect("slug"),
            ),
        )
        .expect("grant"),
        created_at: now,
    };
    state.store().create_user(&publisher).await.expect("user");
    let notice = StoredNotice {
        published_by: publisher.id,
        ..notice
    };
    let published = Instant::now();
    state
        .store()
        .create_notice(&notice, &balagh_app::notify::notice_fanout(&notice, now))
        .await
        .expect("notice");
    let target = args.devices;
    let mut fanned_out = None;
    let mut peak_rss = 0;
    loop {
        tokio::time::sleep(Duration::from_millis(100)).await;
        peak_rss = peak_rss.max(proc_status_kib("VmRSS:"));
        if fanned_out.is_none()
            && queued_pushes(backend, args.database_url.expose()).await >= target as i64
        {
            fanned_out = Some(published.elapsed());
        }
        if fcm.message_count() - before >= target {
            break;
        }
        if published.elapsed() > Duration::from_secs(1800) {
            panic!(
                "only {} of {target} pushes after 30 minutes",
                fcm.message_count() - before
            );
        }
    }
    let total = published.elapsed();
    let hwm = proc_status_kib("VmHWM:").max(peak_rss);
    let rate = target as f64 / total.as_secs_f64();
    println!(
        "fan-out: {} pushes queued in {:.1} s",
        target,
        fanned_out.unwrap_or(total).as_secs_f64()
    );
    println!(
        "end to end: {} pushes delivered in {:.1} s, {:.0} msg/s ({:.0} % of the baseline rate)",
        target,
        total.as_secs_f64(),
        rate,
        100.0 * rate / raw_rate
    );
    println!(
        "memory (process: server, workers, stand-in, bench): RSS {:.0} MiB before, peak {:.0} MiB during (+{:.0} MiB)",
        rss_before as f64 / 1024.0,
        hwm as f64 / 1024.0,
        hwm.saturating_sub(rss_before) as f64 / 1024.0
    );
    println!(
        "stand-in: {} access-token requests for {} pushes",
        fcm.token_requests(),
        fcm.message_count()
    );
    let _ = stop.send(());
    server.await.expect("server");
}
