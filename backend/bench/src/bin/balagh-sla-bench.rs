//! `balagh-sla-bench`: what an SLA sweep tick and a penalty statement cost as the reports
//! table grows. At each size it makes the same number of clocks due and times the sweeps
//! that raise their alarms, an idle tick (nothing due), and an operator's monthly
//! statement; the first size is the baseline the others are compared with.

use balagh::config::DatabaseUrl;
use balagh::demo::DemoData;
use balagh_api::{ApiSettings, AppState};
use balagh_app::Catalog;
use balagh_store::{Backend, StatementScope, Store, Ts};
use clap::Parser;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Debug, Parser)]
#[command(about = "SLA sweeper tick and statement timings at growing table sizes")]
struct Args {
    /// Database to benchmark (a fresh one): postgres://… or sqlite://…
    #[arg(long)]
    database_url: DatabaseUrl,
    /// Table sizes (reports) to measure at, comma-separated; the first is the baseline.
    #[arg(long, value_delimiter = ',', default_value = "10000,1000000")]
    sizes: Vec<usize>,
    /// Clocks made due before each timed sweep.
    #[arg(long, default_value_t = 1000)]
    due: usize,
    /// History the reports are spread over, in days.
    #[arg(long, default_value_t = 1095)]
    days: u32,
}

struct Figures {
    stored: i64,
    sweep_ms: f64,
    per_clock_us: f64,
    idle_ms: f64,
    statement_ms: f64,
    statement_lines: usize,
    statement_tickets: usize,
}

async fn make_due(store: &Arc<dyn Store>, url: &str, count: usize) {
    // Pushes `count` open clocks' next look to now, as if their thresholds had come.
    let sql = format!(
        "UPDATE sla_clocks SET next_check_at = $1, locked_until = NULL \
         WHERE (report_id, metric, cycle) IN (SELECT report_id, metric, cycle FROM sla_clocks \
         WHERE state IN ('running', 'breached') AND met_at IS NULL AND withdrawn_at IS NULL \
         ORDER BY report_id LIMIT {count})"
    );
    let now = Ts::now();
    match store.backend() {
        Backend::Postgres => {
            let pool = sqlx::PgPool::connect(url).await.expect("connect");
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(now)
                .execute(&pool)
                .await
                .expect("make due");
            sqlx::raw_sql("CHECKPOINT")
                .execute(&pool)
                .await
                .expect("checkpoint");
            pool.close().await;
        }
        Backend::Sqlite => {
            let pool = sqlx::SqlitePool::connect(url).await.expect("connect");
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(now)
                .execute(&pool)
                .await
                .expect("make due");
            pool.close().await;
        }
    }
}

async fn measure(state: &AppState, store: &Arc<dyn Store>, url: &str, due: usize) -> Figures {
    let lease = time::Duration::seconds(60);
    make_due(store, url, due).await;
    let started = Instant::now();
    loop {
        let s = balagh_app::clocks::sweep(state, Ts::now(), lease, 200)
            .await
            .expect("sweep");
        if s.reports < 200 {
            break;
        }
    }
    let sweep = started.elapsed();
    // Idle ticks, after a few that warm the pool's connections and prepared statements.
    let mut idle = Duration::ZERO;
    for round in 0..60 {
        let started = Instant::now();
        balagh_app::clocks::sweep(state, Ts::now(), lease, 200)
            .await
            .expect("idle sweep");
        if round >= 10 {
            idle += started.elapsed();
        }
    }
    let idle = idle / 50;
    let operator = store.operators().await.expect("operators")[0].operator.id;
    let until = time::OffsetDateTime::now_utc();
    let from = until - time::Duration::days(30);
    let statement_started = Instant::now();
    let statement = balagh_app::contracts::statements::build(
        state,
        StatementScope::Operator(operator),
        from,
        until,
    )
    .await
    .expect("statement");
    let statement_time = statement_started.elapsed();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    Figures {
        stored: store.count_reports().await.expect("count"),
        sweep_ms: ms(sweep),
        per_clock_us: ms(sweep) * 1000.0 / due.max(1) as f64,
        idle_ms: ms(idle),
        statement_ms: ms(statement_time),
        statement_lines: statement.lines.len(),
        statement_tickets: statement.tickets,
    }
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let store = balagh::database::open_migrated(&args.database_url, 8)
        .await
        .expect("database");
    let demo = DemoData::load().expect("demo data");
    demo.seed(store.as_ref()).await.expect("seed");
    let catalog = Catalog::load(store.as_ref()).await.expect("catalog");
    let photos = balagh_app::photos::PhotoStorage {
        objects: balagh_objects::Objects::open(&balagh_objects::StorageConfig::Local(
            balagh_objects::LocalConfig {
                root: std::env::temp_dir().join("balagh-sla-bench-photos"),
            },
        ))
        .expect("photo storage"),
        signer: balagh_objects::UrlSigner::random(),
    };
    let state = AppState::new(store.clone(), catalog, ApiSettings::default(), None, photos);
    println!(
        "balagh-sla-bench: {} backend; {} clocks made due per measurement; statement = one operator, last 30 days",
        store.backend().as_str(),
        args.due
    );
    println!(
        "{:>10} | {:>10} {:>12} {:>10} | {:>12} {:>8} {:>8} | {:>12} {:>14}",
        "stored",
        "sweep ms",
        "µs / clock",
        "idle ms",
        "statement ms",
        "tickets",
        "lines",
        "sweep ratio",
        "statement ratio"
    );
    let mut baseline: Option<(f64, f64)> = None;
    for size in &args.sizes {
        let stored = store.count_reports().await.expect("count") as usize;
        if *size > stored {
            balagh::generate::generate(&store, size - stored, args.days)
                .await
                .expect("fill");
        }
        let f = measure(&state, &store, args.database_url.expose(), args.due).await;
        let (sweep_base, statement_base) = *baseline.get_or_insert((f.sweep_ms, f.statement_ms));
        println!(
            "{:>10} | {:>10.1} {:>12.0} {:>10.2} | {:>12.1} {:>8} {:>8} | {:>11.2}x {:>13.2}x",
            f.stored,
            f.sweep_ms,
            f.per_clock_us,
            f.idle_ms,
            f.statement_ms,
            f.statement_tickets,
            f.statement_lines,
            f.sweep_ms / sweep_base,
            f.statement_ms / statement_base
        );
    }
}
