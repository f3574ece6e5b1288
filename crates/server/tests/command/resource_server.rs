//! The resource-server example (examples/resource-server) against a real
//! `tollgate serve`: tokens checked by remote introspection, refusals per RFC
//! 6750 naming the RFC 9728 metadata, which names the provider.

use crate::support::*;
use serde_json::Value;
use tollgate_example_resource_server::{Config, app};

fn secret_for(dir: &TempDir, env: &[(&str, &str)], client_id: &str) -> String {
    let out = run(tollgate(&dir.0)
        .args(["createapplication", "confidential", "client-credentials"])
        .args(["--client-id", client_id])
        .envs(env.iter().copied()));
    generated_secret(&out)
}

#[tokio::test]
async fn the_example_api_checks_tokens_with_a_separate_tollgate() {
    let dir = TempDir::new();
    let url = format!("sqlite://{}", dir.0.join("idp.db").display());
    let env = [("TOLLGATE_DATABASE_URL", url.as_str())];
    let api_secret = secret_for(&dir, &env, "reports-api");
    let client_secret = secret_for(&dir, &env, "dashboard");
    let server = Server::start(&dir.0, &env);

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let api_base = format!("http://{}", listener.local_addr().unwrap());
    let router = app(Config {
        issuer: server.base.clone(),
        resource: api_base.clone(),
        client_id: "reports-api".into(),
        client_secret: api_secret,
    })
    .unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });

    let http = reqwest::Client::new();
    let token = |scope: &'static str| {
        let http = http.clone();
        let (base, secret) = (server.base.clone(), client_secret.clone());
        async move {
            let response: Value = http
                .post(format!("{base}/o/token/"))
                .basic_auth("dashboard", Some(secret))
                .form(&[("grant_type", "client_credentials"), ("scope", scope)])
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            response["access_token"].as_str().unwrap().to_owned()
        }
    };
    let reports = format!("{api_base}/api/reports");

    let read = token("read").await;
    let ok = http.get(&reports).bearer_auth(&read).send().await.unwrap();
    assert_eq!(ok.status(), 200);
    let body: Value = ok.json().await.unwrap();
    assert_eq!(body["for"], "dashboard");

    let refused = http
        .delete(&reports)
        .bearer_auth(&read)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);
    let challenge = refused.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        challenge.contains("error=\"insufficient_scope\""),
        "{challenge}"
    );
    let write = token("write").await;
    assert_eq!(
        http.delete(&reports)
            .bearer_auth(&write)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );

    let missing = http.get(&reports).send().await.unwrap();
    assert_eq!(missing.status(), 401);
    let challenge = missing.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .to_owned();
    let metadata_url = format!("{api_base}/.well-known/oauth-protected-resource");
    assert!(
        challenge.contains(&format!("resource_metadata=\"{metadata_url}\"")),
        "{challenge}"
    );
    let forged = http
        .get(&reports)
        .bearer_auth("tga_forged")
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 401);

    let metadata: Value = http
        .get(&metadata_url)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(metadata["resource"], api_base);
    assert_eq!(metadata["authorization_servers"][0], server.base);
}
