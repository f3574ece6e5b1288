//! Client ID metadata documents over HTTP, on SQLite and PostgreSQL: documents
//! served by a local server, names resolved by the test-only network override,
//! so every fetching rule (public addresses only, pinned, no redirects, a
//! timeout, a size cap, JSON, back-off, a cap on fetches at once, freshness)
//! is exercised on this machine.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use crate::support::*;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use tokio::sync::Notify;
use tollgate::{Settings, TestNetwork};

const CLIENT: &str = "https://client.example/app.json";
const REDIRECT: &str = "https://client.example/cb";

/// What the document server answers for a path.
#[derive(Clone)]
struct Served {
    status: StatusCode,
    content_type: &'static str,
    cache_control: Option<&'static str>,
    body: String,
    /// Never answered, and told when asked: the fetch has begun and can only time out.
    held: Option<Arc<Notify>>,
}

impl Served {
    fn json(body: Value) -> Self {
        Served {
            status: StatusCode::OK,
            content_type: "application/json",
            cache_control: None,
            body: body.to_string(),
            held: None,
        }
    }
}

fn document(client_id: &str, name: &str) -> Value {
    json!({
        "client_id": client_id,
        "client_name": name,
        "redirect_uris": [REDIRECT],
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "token_endpoint_auth_method": "none",
    })
}

#[derive(Clone, Default)]
struct Documents {
    served: Arc<Mutex<HashMap<String, Served>>>,
    hits: Arc<Mutex<HashMap<String, usize>>>,
}

impl Documents {
    fn serve(&self, path: &str, served: Served) {
        self.served.lock().unwrap().insert(path.to_owned(), served);
    }

    fn hits(&self, path: &str) -> usize {
        self.hits.lock().unwrap().get(path).copied().unwrap_or(0)
    }
}

async fn answer(State(docs): State<Documents>, Path(path): Path<String>) -> Response {
    *docs.hits.lock().unwrap().entry(path.clone()).or_default() += 1;
    let Some(served) = docs.served.lock().unwrap().get(&path).cloned() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    if let Some(asked) = served.held {
        asked.notify_one();
        // Until the test ends: the provider's own timeout is what gives up.
        std::future::pending::<()>().await;
    }
    let mut headers = HeaderMap::new();
    headers.insert(
        "content-type",
        HeaderValue::from_static(served.content_type),
    );
    if let Some(cache) = served.cache_control {
        headers.insert("cache-control", HeaderValue::from_static(cache));
    }
    if served.status.is_redirection() {
        headers.insert("location", HeaderValue::from_static("/app.json"));
    }
    (served.status, headers, served.body).into_response()
}

/// The document server, on loopback; its port stands for 443.
async fn document_server() -> (Documents, u16) {
    let docs = Documents::default();
    let router = Router::new()
        .route("/{*path}", axum::routing::get(answer))
        .with_state(docs.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (docs, port)
}

/// Documents served on this machine: names resolved as `hosts` say, `https`
/// connecting to `port` instead, and loopback allowed as an operator allows an
/// internal network (`outbound_allowed_networks`) when `loopback_allowed`.
fn network(port: u16, hosts: &[(&str, &[&str])], loopback_allowed: bool) -> Net {
    let allowed = if loopback_allowed {
        vec!["127.0.0.1".to_owned()]
    } else {
        vec![]
    };
    let network = TestNetwork {
        hosts: hosts
            .iter()
            .map(|(name, addresses)| {
                let parsed: Vec<IpAddr> = addresses.iter().map(|a| a.parse().unwrap()).collect();
                ((*name).to_owned(), parsed)
            })
            .collect(),
        port: Some(port),
    };
    (network, allowed)
}

/// The test resolver, and `outbound_allowed_networks`.
type Net = (TestNetwork, Vec<String>);

const LOCAL: &[&str] = &["127.0.0.1"];

async fn provider(
    db: Db,
    test: &str,
    (network, allowed): Net,
    configure: impl FnOnce(&mut Settings),
) -> Option<App> {
    TestApp::new()
        .settings(|s| {
            s.cimd_enabled = true;
            s.outbound_allowed_networks = allowed;
            s.request_approval_prompt = tollgate::core::authorize::ApprovalPrompt::Force;
            configure(s);
        })
        .provider(|p| p.cimd_test_network(network))
        .on(db, test)
        .start()
        .await
}

fn request(client_id: &str) -> Vec<(&str, &str)> {
    vec![
        ("client_id", client_id),
        ("response_type", "code"),
        ("redirect_uri", REDIRECT),
        ("scope", "read"),
        ("state", "st"),
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
    ]
}

/// 200 with the consent page when the client is known, 400 when it is not.
async fn consent_page(app: &App, client_id: &str) -> (u16, String) {
    let response = app.authorize(&request(client_id)).await;
    (response.status().as_u16(), response.text().await.unwrap())
}

async fn a_client_described_by_its_document_signs_a_user_in(db: Db) {
    let (docs, port) = document_server().await;
    docs.serve("app.json", Served::json(document(CLIENT, "Example Notes")));
    let net = network(port, &[("client.example", LOCAL)], true);
    let Some(app) = provider(db, "cimd_flow", net, |_| {}).await else {
        return;
    };
    let metadata = app.discovery().await;
    assert_eq!(metadata["client_id_metadata_document_supported"], true);

    app.sign_in("alice").await;
    let (status, page) = consent_page(&app, CLIENT).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Example Notes"), "{page}");
    assert!(
        page.contains("It describes itself at") && page.contains("client.example"),
        "{page}"
    );
    let response = app.consent(&request(CLIENT), true).await;
    let params = location_params(&location(&response));
    assert!(location(&response).starts_with(REDIRECT));
    let tokens = app
        .token(
            &[
                ("grant_type", "authorization_code"),
                ("code", &params["code"]),
                ("redirect_uri", REDIRECT),
                ("code_verifier", VERIFIER),
                ("client_id", CLIENT),
            ],
            None,
        )
        .await;
    assert_eq!(tokens.status(), 200);
    let tokens = json(tokens).await;
    assert!(tokens["access_token"].is_string() && tokens["refresh_token"].is_string());
    // One fetch: the copy is fresh for the floor of five minutes.
    assert_eq!(docs.hits("app.json"), 1);

    // A redirect URI the document does not list is never redirected to.
    let mut other = request(CLIENT);
    other[2] = ("redirect_uri", "https://evil.example/cb");
    assert_eq!(app.authorize(&other).await.status(), 400);
}

async fn documents_that_break_a_rule_leave_the_client_unknown(db: Db) {
    let (docs, port) = document_server().await;
    let id = |path: &str| format!("https://client.example/{path}");
    let cases: Vec<(&str, Served)> = vec![
        (
            "other-id.json",
            Served::json(document("https://client.example/else.json", "X")),
        ),
        ("secret.json", {
            let mut doc = document(&id("secret.json"), "X");
            doc["client_secret"] = "s".into();
            Served::json(doc)
        }),
        ("confidential.json", {
            let mut doc = document(&id("confidential.json"), "X");
            doc["token_endpoint_auth_method"] = "client_secret_basic".into();
            Served::json(doc)
        }),
        (
            "text.json",
            Served {
                content_type: "text/html",
                ..Served::json(document(&id("text.json"), "X"))
            },
        ),
        (
            "moved.json",
            Served {
                status: StatusCode::FOUND,
                ..Served::json(document(&id("moved.json"), "X"))
            },
        ),
        (
            "missing.json",
            Served {
                status: StatusCode::NOT_FOUND,
                ..Served::json(document(&id("missing.json"), "X"))
            },
        ),
        ("large.json", {
            let mut doc = document(&id("large.json"), "X");
            doc["padding"] = "x".repeat(2_000).into();
            Served::json(doc)
        }),
        (
            "broken.json",
            Served {
                body: "{".into(),
                ..Served::json(json!({}))
            },
        ),
    ];
    let Some(app) = provider(
        db,
        "cimd_rules",
        network(port, &[("client.example", LOCAL)], true),
        |s| s.cimd_max_document_size = 1_024,
    )
    .await
    else {
        return;
    };
    app.sign_in("alice").await;
    for (path, served) in cases {
        docs.serve(path, served);
        let (status, page) = consent_page(&app, &id(path)).await;
        assert_eq!(status, 400, "{path}: {page}");
        assert!(page.contains("Invalid client_id"), "{path}: {page}");
        assert_eq!(docs.hits(path), 1, "{path}");
    }
    // Malformed ids are never fetched.
    for bad in [
        "https://client.example/a/../app.json",
        "https://client.example/app.json#x",
    ] {
        assert_eq!(consent_page(&app, bad).await.0, 400, "{bad}");
    }
    assert_eq!(docs.hits("app.json"), 0);

    // A failure is not asked again during the back-off, even once the document is fixed.
    docs.serve(
        "missing.json",
        Served::json(document(&id("missing.json"), "Fixed")),
    );
    assert_eq!(consent_page(&app, &id("missing.json")).await.0, 400);
    assert_eq!(docs.hits("missing.json"), 1);
}

async fn only_public_addresses_are_fetched(db: Db) {
    let (docs, port) = document_server().await;
    let hosts: &[(&str, &[&str])] = &[
        ("private.example", &["10.0.0.7"]),
        ("metadata.example", &["169.254.169.254"]),
        ("mapped.example", &["::ffff:127.0.0.1"]),
        ("nat64.example", &["64:ff9b::7f00:1"]),
        ("mixed.example", &["93.184.216.34", "10.0.0.7"]),
        ("nowhere.example", &[]),
    ];
    let Some(app) = provider(db, "cimd_addresses", network(port, hosts, true), |_| {}).await else {
        return;
    };
    app.sign_in("alice").await;
    for (host, _) in hosts {
        let client = format!("https://{host}/app.json");
        docs.serve("app.json", Served::json(document(&client, "X")));
        assert_eq!(consent_page(&app, &client).await.0, 400, "{host}");
    }
    // Loopback itself, when no network is allowed: the real rule on this machine.
    let strict = network(port, &[("client.example", LOCAL)], false);
    let Some(app) = provider(db, "cimd_loopback", strict, |_| {}).await else {
        return;
    };
    app.sign_in("alice").await;
    docs.serve("app.json", Served::json(document(CLIENT, "X")));
    assert_eq!(consent_page(&app, CLIENT).await.0, 400);
    assert_eq!(docs.hits("app.json"), 0, "no connection was made");
}

async fn a_stale_copy_is_fetched_again_and_kept_when_the_fetch_fails(db: Db) {
    let (docs, port) = document_server().await;
    let net = network(port, &[("client.example", LOCAL)], true);
    let Some(app) = provider(db, "cimd_stale", net, |s| {
        s.cimd_metadata_min_age_seconds = 0;
        s.cimd_failure_backoff_seconds = 0;
    })
    .await
    else {
        return;
    };
    app.sign_in("alice").await;
    let served = |name: &str| Served {
        cache_control: Some("max-age=0"),
        ..Served::json(document(CLIENT, name))
    };
    docs.serve("app.json", served("First"));
    assert!(consent_page(&app, CLIENT).await.1.contains("First"));
    docs.serve("app.json", served("Second"));
    assert!(consent_page(&app, CLIENT).await.1.contains("Second"));
    docs.serve(
        "app.json",
        Served {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            ..served("Broken")
        },
    );
    let (status, page) = consent_page(&app, CLIENT).await;
    assert_eq!(status, 200, "the last good copy is kept");
    assert!(page.contains("Second"), "{page}");
    assert_eq!(docs.hits("app.json"), 3);
    // A document that is gone takes its client with it.
    docs.serve(
        "app.json",
        Served {
            status: StatusCode::GONE,
            ..served("Gone")
        },
    );
    assert_eq!(consent_page(&app, CLIENT).await.0, 400);
    assert_eq!(docs.hits("app.json"), 4);
}

async fn fetches_time_out_and_are_capped(db: Db) {
    let (docs, port) = document_server().await;
    let net = network(port, &[("client.example", LOCAL)], true);
    let Some(app) = provider(db, "cimd_limits", net, |s| {
        s.cimd_fetch_timeout_seconds = 1;
        s.cimd_max_concurrent_fetches = 1;
    })
    .await
    else {
        return;
    };
    app.sign_in("alice").await;
    let slow = "https://client.example/slow.json";
    let asked = Arc::new(Notify::new());
    docs.serve(
        "slow.json",
        Served {
            held: Some(asked.clone()),
            ..Served::json(document(slow, "Slow"))
        },
    );
    docs.serve("app.json", Served::json(document(CLIENT, "Quick")));
    let slow_fetch = {
        let query: Vec<(String, String)> = request(slow)
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        let request = app.browser.get(app.url("/o/authorize/")).query(&query);
        tokio::spawn(async move { request.send().await.unwrap().status().as_u16() })
    };
    asked.notified().await;
    // The one fetch allowed at a time is taken: this client stays unknown, unasked.
    assert_eq!(consent_page(&app, CLIENT).await.0, 400);
    assert_eq!(docs.hits("app.json"), 0);
    assert_eq!(
        slow_fetch.await.unwrap(),
        400,
        "the slow document timed out"
    );
    assert_eq!(consent_page(&app, CLIENT).await.0, 200);
}

async fn documents_are_off_by_default_and_hosts_may_be_limited(db: Db) {
    let (docs, port) = document_server().await;
    docs.serve("app.json", Served::json(document(CLIENT, "X")));
    let Some(off) = TestApp::new().on(db, "cimd_off").start().await else {
        return;
    };
    off.sign_in("alice").await;
    assert_eq!(consent_page(&off, CLIENT).await.0, 400);
    let metadata = off.discovery().await;
    assert_eq!(metadata["client_id_metadata_document_supported"], false);

    let allowed = "https://x.apps.example/app.json";
    let hosts: &[(&str, &[&str])] = &[("client.example", LOCAL), ("x.apps.example", LOCAL)];
    let Some(app) = provider(db, "cimd_hosts", network(port, hosts, true), |s| {
        s.cimd_allowed_hosts = vec![".apps.example".into()];
    })
    .await
    else {
        return;
    };
    app.sign_in("alice").await;
    assert_eq!(consent_page(&app, CLIENT).await.0, 400);
    assert_eq!(docs.hits("app.json"), 0);
    docs.serve("app.json", Served::json(document(allowed, "Allowed")));
    assert_eq!(consent_page(&app, allowed).await.0, 200);
}

on_both_databases!(
    a_client_described_by_its_document_signs_a_user_in,
    documents_that_break_a_rule_leave_the_client_unknown,
    only_public_addresses_are_fetched,
    a_stale_copy_is_fetched_again_and_kept_when_the_fetch_fails,
    fetches_time_out_and_are_capped,
    documents_are_off_by_default_and_hosts_may_be_limited,
);
