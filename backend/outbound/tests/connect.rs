//! The policy at connect time, against a real loopback receiver: names that resolve (or
//! rebind) to loopback are refused by the client's resolver, and nothing reaches the
//! receiver; the development exemption reaches it.

use axum::Router;
use axum::routing::post;
use balagh_outbound::{
    HostLookup, OutboundPolicy, PolicyResolver, Refusal, check_resolved, client_builder,
    is_policy_refusal,
};
use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A test resolver: `rebind.test` answers a public address on the first lookup and
/// 127.0.0.1 afterwards; `loopback.test` always answers 127.0.0.1.
#[derive(Default)]
struct TestLookup {
    rebind_lookups: AtomicUsize,
}

impl HostLookup for TestLookup {
    fn lookup(
        &self,
        name: String,
    ) -> Pin<Box<dyn Future<Output = std::io::Result<Vec<IpAddr>>> + Send>> {
        let address = match name.as_str() {
            "rebind.test" if self.rebind_lookups.fetch_add(1, Ordering::SeqCst) == 0 => {
                "93.184.215.14"
            }
            "rebind.test" | "loopback.test" => "127.0.0.1",
            _ => return Box::pin(async { Err(std::io::ErrorKind::NotFound.into()) }),
        };
        let address: IpAddr = address.parse().unwrap();
        Box::pin(async move { Ok(vec![address]) })
    }
}

async fn receiver() -> (u16, Arc<AtomicUsize>) {
    let hits = Arc::new(AtomicUsize::new(0));
    let counted = hits.clone();
    let app = Router::new().route(
        "/hook",
        post(move || {
            let counted = counted.clone();
            async move {
                counted.fetch_add(1, Ordering::SeqCst);
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (port, hits)
}

fn development_resolver() -> PolicyResolver {
    let policy = OutboundPolicy {
        allow_loopback_http: true,
        allowed: Vec::new(),
    };
    PolicyResolver::new(Arc::new(policy), Arc::new(TestLookup::default()))
}

#[tokio::test]
async fn names_resolving_to_loopback_are_refused_at_configuration_and_at_connect() {
    let (port, hits) = receiver().await;
    let resolver = development_resolver();
    let client = client_builder(resolver.clone()).build().unwrap();

    let configured = format!("https://loopback.test:{port}/hook");
    assert!(matches!(
        check_resolved(&resolver, &configured).await,
        Err(Refusal::Resolved(_))
    ));
    // Even when a caller skips the configuration check, the connection is refused.
    let sent = client
        .post(format!("http://loopback.test:{port}/hook"))
        .send()
        .await;
    let error = sent.expect_err("a name resolving to loopback was connected to");
    assert!(is_policy_refusal(&error), "{error:?}");

    // The control: the development exemption reaches the same receiver by literal address.
    let literal = format!("http://127.0.0.1:{port}/hook");
    let url = check_resolved(&resolver, &literal).await.unwrap();
    let answer = client.post(url).send().await.unwrap();
    assert!(answer.status().is_success());
    assert_eq!(hits.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn dns_rebinding_after_configuration_is_refused_at_connect() {
    let (port, hits) = receiver().await;
    let resolver = development_resolver();
    let url = format!("https://rebind.test:{port}/hook");
    // Registered while the name pointed at a public address...
    let accepted = check_resolved(&resolver, &url).await.unwrap();
    // ...called after it moved to 127.0.0.1.
    let client = client_builder(resolver).build().unwrap();
    let error = client.post(accepted).send().await.unwrap_err();
    assert!(is_policy_refusal(&error), "{error:?}");
    assert_eq!(hits.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn redirects_are_not_followed() {
    let hits = Arc::new(AtomicUsize::new(0));
    let counted = hits.clone();
    let app = Router::new()
        .route(
            "/hook",
            post(|| async {
                (
                    axum::http::StatusCode::TEMPORARY_REDIRECT,
                    [("location", "/next")],
                )
            }),
        )
        .route(
            "/next",
            post(move || {
                let counted = counted.clone();
                async move {
                    counted.fetch_add(1, Ordering::SeqCst);
                    "followed"
                }
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let client = client_builder(development_resolver()).build().unwrap();
    let answer = client
        .post(format!("http://127.0.0.1:{port}/hook"))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status().as_u16(), 307);
    assert_eq!(hits.load(Ordering::SeqCst), 0);
}
