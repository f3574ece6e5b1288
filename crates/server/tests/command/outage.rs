//! PostgreSQL out of reach: every endpoint says 503, soon, with `Retry-After`
//! (never a 500, never a 401), and all is well again once it is back.

use std::time::{Duration, Instant};

use crate::support::cut::Forwarder;
use crate::support::*;
use serde_json::Value;

/// How soon an answer must come while the database is out of reach.
const PROMPTLY: Duration = Duration::from_secs(3);

#[tokio::test(flavor = "multi_thread")]
async fn a_database_outage_is_a_prompt_503_and_passes() {
    let Some(db) = tollgate_testkit::postgres("a_database_outage_is_a_prompt_503_and_passes").await
    else {
        return;
    };
    let mut url = url::Url::parse(&db.url).unwrap();
    let target = format!("{}:{}", url.host_str().unwrap(), url.port().unwrap_or(5432));
    let mut postgres = Forwarder::start(target.parse().unwrap()).await;
    url.set_port(Some(postgres.address.port())).unwrap();
    let env = [
        ("TOLLGATE_DATABASE_URL", url.as_str()),
        ("TOLLGATE_DATABASE_TIMEOUT_SECONDS", "1"),
        // Every client authentication goes to the database.
        ("TOLLGATE_CLIENT_CACHE_SECONDS", "0"),
    ];
    let dir = TempDir::new();
    let secret = generated_secret(&run(tollgate(&dir.0)
        .args(["createapplication", "confidential", "client-credentials"])
        .args(["--client-id", "svc", "--name", "Service"])
        .envs(env)));
    let server = Server::start(&dir.0, &env);
    let browser = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let token_request = || {
        browser
            .post(format!("{}/o/token/", server.base))
            .basic_auth("svc", Some(&secret))
            .form(&[("grant_type", "client_credentials")])
    };
    let answer: Value = token_request().send().await.unwrap().json().await.unwrap();
    let token = answer["access_token"].as_str().unwrap().to_owned();
    // The sign-in form, fetched while all is well.
    let login = format!("{}/o/login/", server.base);
    let page = browser
        .get(&login)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = tollgate_testkit::hidden(&page, "csrf_token").expect("a form token");

    postgres.cut();
    let json_endpoints = [
        ("token", token_request()),
        (
            "introspection",
            browser
                .post(format!("{}/o/introspect/", server.base))
                .basic_auth("svc", Some(&secret))
                .form(&[("token", token.as_str())]),
        ),
        (
            "userinfo",
            browser
                .get(format!("{}/o/userinfo/", server.base))
                .bearer_auth(&token),
        ),
    ];
    for (name, request) in json_endpoints {
        let response = promptly(name, request).await;
        assert_eq!(response.status(), 503, "{name}");
        assert!(response.headers().contains_key("retry-after"), "{name}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"], "temporarily_unavailable", "{name}: {body}");
    }
    let sign_in = browser.post(&login).form(&[
        ("csrf_token", csrf.as_str()),
        ("next", ""),
        ("username", "alice"),
        ("password", "a password"),
    ]);
    let response = promptly("sign-in", sign_in).await;
    assert_eq!(response.status(), 503);
    assert!(response.headers().contains_key("retry-after"));

    let started = Instant::now();
    let health = browser
        .get(format!("{}/health", server.base))
        .send()
        .await
        .unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "/health took {:?}",
        started.elapsed()
    );
    assert_eq!(health.status(), 503);
    assert!(health.headers().contains_key("retry-after"));

    postgres.restore().await;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let health = browser.get(format!("{}/health", server.base)).send().await;
        if health.is_ok_and(|h| h.status() == 200) {
            break;
        }
        assert!(Instant::now() < deadline, "the database did not come back");
    }
    assert_eq!(token_request().send().await.unwrap().status(), 200);
    assert!(
        !server.log_text().contains("panicked"),
        "{}",
        server.log_text()
    );
}

/// The answer to `request`, which must come within [`PROMPTLY`].
async fn promptly(name: &str, request: reqwest::RequestBuilder) -> reqwest::Response {
    let started = Instant::now();
    let response = request.send().await.unwrap();
    assert!(
        started.elapsed() < PROMPTLY,
        "{name} took {:?}",
        started.elapsed()
    );
    response
}
