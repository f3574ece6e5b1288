//! `tollgate serve` as an operator runs it: /health, request ids, signing key on
//! first start, both databases, graceful shutdown.

use crate::support::*;
use tollgate::Store;

async fn get(url: &str) -> reqwest::Response {
    reqwest::Client::new()
        .get(url)
        .send()
        .await
        .expect("request")
}

#[tokio::test]
async fn serves_health_on_sqlite_with_a_signing_key_and_request_ids() {
    let dir = TempDir::new();
    let mut server = Server::start(&dir.0, &[]);
    let response = get(&format!("{}/health", server.base)).await;
    assert_eq!(response.status(), 200);
    assert!(response.headers().contains_key("x-request-id"));
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["status"], "ok");
    assert_eq!(get(&format!("{}/nope", server.base)).await.status(), 404);

    let given = reqwest::Client::new()
        .get(format!("{}/health", server.base))
        .header("x-request-id", "trace-me-42")
        .send()
        .await
        .unwrap();
    assert_eq!(given.headers()["x-request-id"], "trace-me-42");

    assert!(
        dir.0.join("tollgate.db").exists(),
        "the default database is ./tollgate.db"
    );
    let store = Store::connect(&format!("sqlite://{}", dir.0.join("tollgate.db").display()))
        .await
        .unwrap();
    let keys = store.signing_keys(i64::MAX - 1).await.unwrap();
    let mut algorithms: Vec<_> = keys.iter().map(|k| k.algorithm.as_str()).collect();
    algorithms.sort_unstable();
    assert_eq!(
        algorithms,
        ["ES256", "EdDSA", "RS256"],
        "one key per algorithm"
    );

    let status = server.stop_with("TERM");
    assert!(status.success(), "{status:?}: {}", server.log_text());
    assert!(
        server.log_text().contains("shutting down"),
        "{}",
        server.log_text()
    );

    // A restart keeps the keys it made on first start.
    let mut again = Server::start(&dir.0, &[]);
    assert_eq!(get(&format!("{}/health", again.base)).await.status(), 200);
    assert_eq!(store.signing_keys(i64::MAX - 1).await.unwrap(), keys);
    assert!(again.stop_with("INT").success());
}

#[tokio::test]
async fn serves_health_on_postgresql_and_reports_an_outage() {
    let Some(db) =
        tollgate_testkit::postgres("serves_health_on_postgresql_and_reports_an_outage").await
    else {
        return;
    };
    let dir = TempDir::new();
    let mut server = Server::start(&dir.0, &[("TOLLGATE_DATABASE_URL", &db.url)]);
    assert_eq!(get(&format!("{}/health", server.base)).await.status(), 200);
    assert!(!dir.0.join("tollgate.db").exists());

    db.destroy();
    let response = get(&format!("{}/health", server.base)).await;
    assert_eq!(response.status(), 503);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["status"], "unavailable");
    assert!(server.stop_with("TERM").success());
}

#[tokio::test]
async fn logs_never_carry_the_authorization_header_or_query() {
    let dir = TempDir::new();
    let mut server = Server::start(&dir.0, &[("RUST_LOG", "debug")]);
    let response = reqwest::Client::new()
        .get(format!("{}/health?code=tgc_leak-me-not", server.base))
        .header("authorization", "Bearer tga_leak-me-not")
        .header("cookie", "session=tgx_leak-me-not")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(server.stop_with("TERM").success());
    let logs = server.log_text();
    assert!(logs.contains("/health"), "the request was logged: {logs}");
    assert!(
        !logs.contains("leak-me-not"),
        "a secret reached the logs:\n{logs}"
    );
}

/// Each argon2 check of a chosen secret holds 19 MiB: concurrent guesses wait
/// for one of a few permits instead of each taking its own.
#[tokio::test]
async fn guessing_a_chosen_client_secret_costs_bounded_memory() {
    let dir = TempDir::new();
    let out = run(tollgate(&dir.0).args([
        "createapplication",
        "confidential",
        "client-credentials",
        "--client-id",
        "chosen",
        "--client-secret",
        "a secret somebody chose",
    ]));
    assert!(out.status.success(), "{}", stderr(&out));
    let mut server = Server::start(&dir.0, &[]);
    let client = reqwest::Client::new();
    let guesses: Vec<_> = (0..32)
        .map(|i| {
            let request = client
                .post(format!("{}/o/token/", server.base))
                .basic_auth("chosen", Some(format!("guess {i}")))
                .form(&[("grant_type", "client_credentials")]);
            tokio::spawn(async move { request.send().await.unwrap().status().as_u16() })
        })
        .collect();
    for guess in guesses {
        let status = guess.await.unwrap();
        assert!(matches!(status, 401 | 429), "{status}");
    }
    let peak_mib = server.peak_memory_kib() / 1024;
    assert!(
        peak_mib < 200,
        "32 concurrent guesses took the server to {peak_mib} MiB"
    );
    assert!(server.stop_with("TERM").success());
}

#[tokio::test]
async fn request_logs_name_the_client_a_trusted_proxy_names() {
    let dir = TempDir::new();
    let mut server = Server::start(
        &dir.0,
        &[
            ("RUST_LOG", "debug"),
            ("TOLLGATE_TRUSTED_PROXIES", "[\"127.0.0.1\"]"),
        ],
    );
    let response = reqwest::Client::new()
        .get(format!("{}/health", server.base))
        .header("x-forwarded-for", "203.0.113.5, 198.51.100.23")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(server.stop_with("TERM").success());
    let logs = server.log_text();
    assert!(
        logs.contains("198.51.100.23") && !logs.contains("203.0.113.5"),
        "the request line names the proxy's client, not what the client claimed:\n{logs}"
    );
}

#[tokio::test]
async fn signing_keys_are_sealed_under_the_secret_key_and_refused_without_it() {
    let dir = TempDir::new();
    let key = [(
        "TOLLGATE_SECRET_KEY",
        "a serve test secret key, 32 chars or more",
    )];
    let mut server = Server::start(&dir.0, &key);
    assert_eq!(
        get(&format!("{}/o/.well-known/jwks.json", server.base))
            .await
            .status(),
        200
    );
    assert!(server.stop_with("TERM").success());
    let store = Store::connect(&format!("sqlite://{}", dir.0.join("tollgate.db").display()))
        .await
        .unwrap();
    for stored in store.signing_keys(0).await.unwrap() {
        assert!(
            stored.private_key_pem.starts_with("sealed-v1:")
                && !stored.private_key_pem.contains("PRIVATE KEY"),
            "{} key stored unsealed",
            stored.algorithm
        );
    }
    // Without the key the server refuses to start, saying why, rather than fail requests later.
    let out = run(tollgate(&dir.0)
        .arg("serve")
        .env("TOLLGATE_BIND", "127.0.0.1:0"));
    assert!(!out.status.success());
    let err = one_line_failure(&out);
    assert!(
        err.contains("signing keys could not be loaded") && err.contains("secret_key"),
        "{err}"
    );
}
