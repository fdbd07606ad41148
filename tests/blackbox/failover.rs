//! Failover of a highly available PostgreSQL (Patroni + etcd + HAProxy, see `ha_cluster`)
//! under load: the leader's node is taken away while two `balagh serve` replicas take
//! reports through HAProxy. Ignored by default: `tests/run` runs it alone, after every other
//! test (it starts three PostgreSQL servers of its own; the machine's cluster is not touched).

use super::faults::{Load, UNLIMITED, assert_stored_exactly_once, config_file, wait_ready};
use super::ha_cluster::HaCluster;
use super::replicas::{
    DayFigures, ROLLUPS_CAUGHT_UP, api_token, count, eventually, follower, rollup_sums,
    rollup_truth, seconds_long_sla, webhook_receiver,
};
use super::*;
use std::collections::HashMap;

/// Residents who follow their report with a phone that receives pushes.
const FOLLOWERS: usize = 8;

/// The two replicas, on HAProxy, with every background loop running often (SLA sweeps and
/// roll-ups every second), pushes going to a local FCM stand-in.
async fn start_replicas(
    scratch: &Scratch,
    url: &str,
    fcm: &balagh_push::stand_in::FcmStandIn,
) -> Vec<Server> {
    let mut account: Value =
        serde_json::from_str(balagh_push::stand_in::TEST_SERVICE_ACCOUNT_JSON).unwrap();
    account["token_uri"] = json!(fcm.token_uri());
    let account_file = scratch.0.join("fcm-service-account.json");
    std::fs::write(&account_file, account.to_string()).unwrap();
    let config = config_file(
        scratch,
        &format!(
            "[tickets]\nsla_sweep_seconds = 1\n[stats]\nrollup_interval_seconds = 1\n\
             [outbound]\nallow_loopback_http = true\n{UNLIMITED}"
        ),
    );
    let base_url = fcm.base_url().to_string();
    let env = [
        ("BALAGH_DATABASE_URL", url),
        (
            "BALAGH_PUSH_FCM_SERVICE_ACCOUNT_FILE",
            account_file.to_str().unwrap(),
        ),
        ("BALAGH_PUSH_FCM_BASE_URL", base_url.as_str()),
    ];
    let first = Server::start(&scratch.0, &["--config", &config], &env);
    let second = Server::start(&scratch.0, &["--config", &config, "--no-demo"], &env);
    vec![first, second]
}

/// The operator acknowledges a ticket (its followers get a push, the operator a webhook);
/// returns the status and body of the first answer that is not 200.
async fn acknowledge(
    client: &reqwest::Client,
    server: &Server,
    manager: &str,
    report: &str,
) -> (u16, String) {
    let ticket = client
        .get(server.url(&format!("/api/v1/operator/tickets/{report}")))
        .bearer_auth(manager)
        .send()
        .await
        .unwrap();
    if ticket.status() != 200 {
        return (ticket.status().as_u16(), ticket.text().await.unwrap());
    }
    let etag = ticket.headers()["etag"].to_str().unwrap().to_owned();
    let r = client
        .post(server.url(&format!(
            "/api/v1/operator/tickets/{report}/actions/acknowledge"
        )))
        .bearer_auth(manager)
        .header("if-match", etag)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

/// Samples the load's acknowledgement count until `stop`; returns the longest stretch
/// without any new acknowledgement (the downtime residents saw).
fn watch_acknowledgements(
    load: &Load,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
) -> tokio::task::JoinHandle<Duration> {
    let acked = load.counter();
    tokio::spawn(async move {
        use std::sync::atomic::Ordering;
        let (mut last, mut since, mut longest) = (
            acked.load(Ordering::Relaxed),
            Instant::now(),
            Duration::ZERO,
        );
        while !stop.load(Ordering::Relaxed) {
            tokio::time::sleep(Duration::from_millis(20)).await;
            let now = acked.load(Ordering::Relaxed);
            if now != last {
                longest = longest.max(since.elapsed());
                (last, since) = (now, Instant::now());
            }
        }
        longest
    })
}

/// Readiness probes every 250 ms while there is no leader: each must be 200, or 503 with
/// Retry-After.
async fn probe_readiness(client: &reqwest::Client, replicas: &[Server]) -> (usize, usize) {
    let (mut unavailable, mut probes) = (0, 0);
    for server in replicas {
        let ready = client.get(server.url("/readyz")).send().await.unwrap();
        probes += 1;
        match ready.status().as_u16() {
            200 => {}
            503 => {
                assert!(ready.headers().contains_key("retry-after"));
                unavailable += 1;
            }
            other => panic!("/readyz answered {other} during the failover"),
        }
    }
    (unavailable, probes)
}

/// Webhooks as the test's receiver counts them: `webhook-id` → (times received, type).
type Received = std::sync::Arc<std::sync::Mutex<HashMap<String, (usize, String)>>>;

/// The cluster, the two replicas on it and what the checks need.
struct Rig {
    // Fields drop in this order: the replicas stop before the cluster does.
    replicas: Vec<Server>,
    cluster: HaCluster,
    url: String,
    client: reqwest::Client,
    fcm: balagh_push::stand_in::FcmStandIn,
    hooks: Received,
    manager: String,
    operator_id: String,
    /// Reports followed from phones: the first half acknowledged before the kill, the rest
    /// after.
    followers: Vec<String>,
    _scratch: Scratch,
}

impl Rig {
    /// The cluster, a database on it, two replicas, an operator's webhook on a loopback
    /// receiver, seconds-long SLA targets and the followers' reports.
    async fn start() -> Self {
        let cluster = HaCluster::start().await;
        let admin_pool = sqlx::PgPool::connect(&cluster.url("postgres"))
            .await
            .unwrap();
        sqlx::raw_sql("CREATE DATABASE balagh")
            .execute(&admin_pool)
            .await
            .unwrap();
        admin_pool.close().await;
        let url = cluster.url("balagh");
        let scratch = Scratch::new();
        let fcm = balagh_push::stand_in::FcmStandIn::start_with_test_key().await;
        let replicas = start_replicas(&scratch, &url, &fcm).await;
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap();
        let user = |server, email, role: &'static [&'static str]| {
            api_token(&client, server, &scratch.0, &url, email, role)
        };
        let admin = user(&replicas[0], "admin@commune.ma", &["--role", "staff_admin"]).await;
        let manager = user(
            &replicas[1],
            "manager@nadafa.ma",
            &["--role", "operator_manager", "--operator", "nadafa-demo"],
        )
        .await;
        let (hook_url, hooks) = webhook_receiver().await;
        let r = client
            .put(replicas[1].url("/api/v1/operator/webhook"))
            .bearer_auth(&manager)
            .json(&json!({"url": hook_url}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
        let pool = sqlx::PgPool::connect(&url).await.unwrap();
        let operator_id: String =
            sqlx::query_scalar("SELECT id::text FROM operators WHERE slug = 'nadafa-demo'")
                .fetch_one(&pool)
                .await
                .unwrap();
        pool.close().await;
        seconds_long_sla(&client, &replicas, &admin, &operator_id).await;
        let mut followers = Vec::new();
        for i in 0..FOLLOWERS {
            followers.push(follower(&client, &replicas[i % 2], &replicas[(i + 1) % 2], i).await);
        }
        // Both clocks of the followers' reports breach (2 s and 3 s) before the operator
        // acts on them, as in the replicas test: an action racing the sweeper that is raising
        // a breach on the same report is not what this test is about.
        let pool = sqlx::PgPool::connect(&url).await.unwrap();
        let breached = "SELECT COUNT(*) FROM report_events e JOIN reports r ON r.id = e.report_id \
                        WHERE e.kind = 'sla_breached' AND r.idempotency_key LIKE 'replicas-%'";
        eventually(60, "the followers' clocks breached", || async {
            count(&pool, breached).await >= (FOLLOWERS * 2) as i64
        })
        .await;
        pool.close().await;
        Self {
            cluster,
            url,
            replicas,
            client,
            fcm,
            hooks,
            manager,
            operator_id,
            followers,
            _scratch: scratch,
        }
    }

    /// The operator acknowledges the followers' tickets `range`.
    async fn acknowledge_followers(&mut self, range: std::ops::Range<usize>) {
        for i in range {
            let server = &self.replicas[i % 2];
            let (status, body) =
                acknowledge(&self.client, server, &self.manager, &self.followers[i]).await;
            if status != 200 {
                let errors = self.internal_errors();
                panic!("acknowledging answered {status} {body}: {errors:?}");
            }
        }
    }

    /// The replicas' internal errors logged so far, for a failure message.
    fn internal_errors(&mut self) -> Vec<String> {
        let mut lines = Vec::new();
        for server in &mut self.replicas {
            let logged: Vec<String> = server.logs.try_iter().collect();
            server.seen.extend(logged);
            let errors = server
                .seen
                .iter()
                .filter(|l| l.contains("\"internal error\""));
            lines.extend(errors.cloned());
        }
        lines
    }
}

/// What the failover took.
struct Failover {
    old_leader: String,
    promoted: String,
    at_kill: usize,
    promoted_after: Duration,
    recovered_after: Duration,
    unavailable_probes: usize,
    probes: usize,
}

/// Kills the leader's node under load, probes readiness until Patroni has promoted another
/// member (which must be the synchronous standby), and waits until reports are acknowledged
/// again.
async fn take_the_leader_away(rig: &mut Rig, load: &Load) -> Failover {
    let members = rig.cluster.members().await;
    let role = |role: &str| {
        members
            .iter()
            .find(|m| m.role == role)
            .map(|m| m.name.clone())
            .unwrap_or_else(|| panic!("no {role}: {members:?}"))
    };
    let (old_leader, sync_standby) = (role("leader"), role("sync_standby"));
    let at_kill = load.acknowledged();
    let killed = Instant::now();
    rig.cluster.kill_member(&old_leader);
    let (mut unavailable_probes, mut probes) = (0, 0);
    let promoted = loop {
        let (u, p) = probe_readiness(&rig.client, &rig.replicas).await;
        (unavailable_probes, probes) = (unavailable_probes + u, probes + p);
        let members = rig.cluster.members().await;
        if let Some(leader) = members
            .iter()
            .find(|m| m.role == "leader" && m.state == "running" && m.name != old_leader)
        {
            break leader.name.clone();
        }
        assert!(
            killed.elapsed() < Duration::from_secs(60),
            "no new leader 60 s after the kill: {members:?} (logs: {})",
            rig.cluster.logs()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    let promoted_after = killed.elapsed();
    assert_eq!(
        promoted, sync_standby,
        "only the synchronous standby may be promoted"
    );
    for server in &rig.replicas {
        wait_ready(&rig.client, server, 60).await;
    }
    load.progress(60, 60, "after the failover").await;
    Failover {
        old_leader,
        promoted,
        at_kill,
        promoted_after,
        recovered_after: killed.elapsed(),
        unavailable_probes,
        probes,
    }
}

/// Three Patroni members (synchronous replication), HAProxy on the leader, two replicas under
/// a load of report submissions with Idempotency-Keys; the leader's node is killed (its
/// Patroni and its postmaster, SIGKILL). Patroni promotes the synchronous standby; until then
/// the API answers 201 or 503 with Retry-After, never 500; it recovers by itself; every
/// acknowledged report is stored exactly once; webhooks, pushes, SLA breaches and statistics
/// roll-ups carry on across the failover, each once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "starts etcd, three Patroni/PostgreSQL members and HAProxy: run alone, by tests/run, after every other test"]
async fn patroni_failover_under_load_loses_no_acknowledged_report() {
    let setup = Instant::now();
    let mut rig = Rig::start().await;
    let set_up_in = setup.elapsed();

    // Load through both replicas; half the followers' tickets acknowledged before the kill
    // (their pushes sent before it: a push fan-out claimed as the leader goes waits out its
    // 10-minute lease), the other half after it.
    let replicas = [&rig.replicas[0], &rig.replicas[1]];
    let load = Load::start(&rig.client, &replicas, 8, "failover").await;
    load.progress(60, 90, "before the failover").await;
    rig.acknowledge_followers(0..FOLLOWERS / 2).await;
    eventually(60, "the first pushes", || async {
        acknowledgement_pushes(&rig.fcm) >= FOLLOWERS / 2
    })
    .await;
    let stop_watch = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let watch = watch_acknowledgements(&load, stop_watch.clone());
    tokio::time::sleep(Duration::from_millis(500)).await;
    let failover = take_the_leader_away(&mut rig, &load).await;
    rig.acknowledge_followers(FOLLOWERS / 2..FOLLOWERS).await;
    let outcome = load.finish().await;
    stop_watch.store(true, std::sync::atomic::Ordering::Relaxed);
    let downtime = watch.await.unwrap();

    if !outcome.wrong.is_empty() {
        let (wrong, first) = (outcome.wrong.len(), outcome.wrong[0].clone());
        let errors = rig.internal_errors();
        panic!("{wrong} answers other than 201 or 503 + Retry-After, e.g. {first}: {errors:?}");
    }
    outcome.assert_only_created_or_unavailable();
    assert_stored_exactly_once(&rig.url, "failover-", &outcome.acknowledged).await;
    let pool = sqlx::PgPool::connect(&rig.url).await.unwrap();
    let reports = count(&pool, "SELECT COUNT(*) FROM reports").await as usize;
    wait_until_worked(&pool, &rig).await;
    let workers = check_worked_once(&pool, &rig, reports).await;
    pool.close().await;

    let Failover {
        old_leader,
        promoted,
        at_kill,
        unavailable_probes,
        probes,
        ..
    } = &failover;
    eprintln!(
        "Patroni failover under load: cluster and replicas up in {:.1} s; leader {old_leader} \
         killed after {at_kill} reports, {promoted} promoted {:.1} s later, reports \
         acknowledged again within {:.1} s of the kill; longest stretch without an \
         acknowledgement (downtime) {:.1} s; {} reports acknowledged, lost 0, duplicates 0, \
         {} answered 503 + Retry-After and retried ({} replayed by key), {unavailable_probes} \
         of {probes} /readyz probes 503 + Retry-After without a leader; {workers}",
        set_up_in.as_secs_f64(),
        failover.promoted_after.as_secs_f64(),
        failover.recovered_after.as_secs_f64(),
        downtime.as_secs_f64(),
        outcome.acknowledged.len(),
        outcome.unavailable,
        outcome.replayed,
    );
    for server in std::mem::take(&mut rig.replicas) {
        server.terminate();
    }
}

/// A row of the outbox, for a failure message: id, state, attempts, lease, last error.
type OutboxRow = (String, String, i32, Option<String>, Option<String>);

/// Waits until every webhook in the outbox for the operator has been received (else says
/// which are missing).
async fn wait_for_webhooks(
    pool: &sqlx::PgPool,
    hooks: &Received,
    operator_id: &str,
) -> Result<(), String> {
    let webhook_ids = format!(
        "SELECT 'msg_' || replace(id::text, '-', '') FROM outbox \
         WHERE topic = 'webhook' AND operator_id = '{operator_id}' ORDER BY 1"
    );
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let rows: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(webhook_ids.clone()))
            .fetch_all(pool)
            .await
            .unwrap();
        let (missing, received) = {
            let received = hooks.lock().unwrap();
            let missing: Vec<String> = rows
                .iter()
                .filter(|id| !received.contains_key(*id))
                .cloned()
                .collect();
            (missing, received.len())
        };
        let extra = received + missing.len() - rows.len();
        if missing.is_empty() && extra == 0 {
            return Ok(());
        }
        if Instant::now() > deadline {
            let undelivered: Vec<OutboxRow> = sqlx::query_as(
                "SELECT id::text, state, attempts, locked_until::text, last_error \
                 FROM outbox WHERE topic = 'webhook' AND state <> 'delivered' LIMIT 5",
            )
            .fetch_all(pool)
            .await
            .unwrap();
            return Err(format!(
                "webhooks: {} not received (e.g. {:?}), {extra} received that the outbox does \
                 not hold; undelivered rows: {undelivered:?}",
                missing.len(),
                &missing[..missing.len().min(3)]
            ));
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

fn acknowledgement_pushes(fcm: &balagh_push::stand_in::FcmStandIn) -> usize {
    fcm.messages()
        .iter()
        .filter(|m| m.message["data"]["status"] == "acknowledged")
        .count()
}

/// After the failover the workers finish what was left: no clock past due unbreached, every
/// webhook received, every acknowledgement push sent, the roll-ups caught up. Work a replica
/// had claimed just before the leader went is leased (60 s) and taken up again once the
/// lease runs out.
async fn wait_until_worked(pool: &sqlx::PgPool, rig: &Rig) {
    let overdue = "SELECT COUNT(*) FROM sla_clocks WHERE state = 'running' \
                   AND due_at < now() - interval '2 seconds'";
    eventually(120, "every clock past due breached", || async {
        count(pool, overdue).await == 0
    })
    .await;
    if let Err(missing) = wait_for_webhooks(pool, &rig.hooks, &rig.operator_id).await {
        for (i, replica) in rig.replicas.iter().enumerate() {
            let mut lines = replica.log_lines("webhook");
            lines.retain(|l| !l.contains("SSLRequest"));
            lines.extend(replica.log_lines("panicked"));
            for line in &lines[lines.len().saturating_sub(12)..] {
                eprintln!("replica {i}: {line}");
            }
        }
        panic!("{missing}");
    }
    eventually(120, "every push sent", || async {
        acknowledgement_pushes(&rig.fcm) >= FOLLOWERS
    })
    .await;
    eventually(120, "the roll-up job to catch up", || async {
        count(pool, ROLLUPS_CAUGHT_UP).await == 1
    })
    .await;
    // A few more sweeps, deliveries and roll-up runs change nothing.
    tokio::time::sleep(Duration::from_secs(3)).await;
}

/// Each piece of work done once: each breached clock raised once, each webhook event
/// received once by its `webhook-id`, each push sent once, the roll-ups equal to the reports
/// table. Returns the figures.
async fn check_worked_once(pool: &sqlx::PgPool, rig: &Rig, reports: usize) -> String {
    // As many breach events per report as breached clocks.
    let per_report: Vec<(String, i64, i64)> = sqlx::query_as(
        "SELECT c.report_id::text, c.breached, \
             (SELECT COUNT(*) FROM report_events e \
              WHERE e.report_id = c.report_id AND e.kind = 'sla_breached') AS raised \
         FROM (SELECT report_id, COUNT(*) FILTER (WHERE breached_at IS NOT NULL) AS breached \
               FROM sla_clocks GROUP BY report_id) c",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    let breached: i64 = per_report.iter().map(|r| r.1).sum();
    let wrong: Vec<_> = per_report.iter().filter(|r| r.1 != r.2).collect();
    assert!(
        wrong.is_empty(),
        "breaches raised other than once: {wrong:?}"
    );
    assert!(
        breached as usize >= reports,
        "the seconds-long clocks breached"
    );

    let hooks = rig.hooks.lock().unwrap().clone();
    // Webhooks are sent at least once: one sent as the leader went, whose delivery could not
    // be recorded, is sent again once its lease runs out, with the same `webhook-id`, which
    // receivers use to drop repeats (Standard Webhooks) — so each event is taken once. Only
    // a message in the middle of a delivery at the kill can repeat: at most one batch (32)
    // per replica, once.
    let repeats: usize = hooks.values().map(|(n, _)| n - 1).sum();
    assert!(
        hooks.values().all(|(n, _)| *n <= 2) && repeats <= 64,
        "webhooks repeated beyond what was in flight at the kill: {hooks:?}"
    );
    let by_type = |t: &str| hooks.values().filter(|(_, e)| e == t).count();
    assert_eq!(by_type("ticket.sla_breached") as i64, breached);

    let mut pushes: HashMap<(String, String), usize> = HashMap::new();
    for m in rig.fcm.messages() {
        let status = m.message["data"]["status"].as_str().unwrap_or_default();
        *pushes
            .entry((m.token.clone(), status.to_owned()))
            .or_default() += 1;
    }
    let repeated: Vec<_> = pushes.iter().filter(|(_, n)| **n > 1).collect();
    assert!(
        repeated.is_empty(),
        "pushes sent more than once: {repeated:?}"
    );
    assert_eq!(acknowledgement_pushes(&rig.fcm), FOLLOWERS);

    let truth = rollup_truth(pool).await;
    let rolled_up: Vec<DayFigures> = sqlx::query_as(sqlx::AssertSqlSafe(rollup_sums("cell = 0")))
        .fetch_all(pool)
        .await
        .unwrap();
    let new: i64 = truth.iter().map(|r| r.2).sum();
    assert_eq!(new, reports as i64, "{truth:?}");
    assert_eq!(rolled_up, truth, "roll-ups per (service, local day)");
    format!(
        "workers across the failover: {} webhooks each received once by webhook-id ({} \
         created, {} breaches; {repeats} sent again after the failover with the same id), \
         {FOLLOWERS} acknowledgement pushes (half before the kill, half after) each sent once, \
         {breached} clocks breached once \
         each, roll-ups equal to the reports table ({new} new)",
        hooks.len(),
        by_type("ticket.created"),
        by_type("ticket.sla_breached"),
    )
}
