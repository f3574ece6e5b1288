//! RFC 9449 DPoP against a real `tollgate serve`, on SQLite and on PostgreSQL:
//! a client registered with `--dpop-bound-access-tokens` gets a token through
//! the `oauth2` crate with a proof signed by `jsonwebtoken`, introspection
//! names its key, and the resource-server example takes it only with a proof.

use crate::support::*;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::Algorithm;
use oauth2::basic::BasicClient;
use oauth2::{ClientId, ClientSecret, Scope, TokenResponse, TokenUrl};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tollgate_example_resource_server::{Config, app};
use tollgate_testkit::client_keys::{Key, dpop_proof, thumbprint};

fn proof(method: &str, url: &str, jti: &str, token: Option<&str>) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let mut claims = json!({"jti": jti, "htm": method, "htu": url, "iat": now});
    if let Some(token) = token {
        claims["ath"] = URL_SAFE_NO_PAD
            .encode(Sha256::digest(token.as_bytes()))
            .into();
    }
    dpop_proof(Key::Ec, Key::Ec, Algorithm::ES256, &claims)
}

fn client_secret(dir: &TempDir, env: &[(&str, &str)], args: &[&str]) -> String {
    generated_secret(&run(tollgate(&dir.0)
        .args(["createapplication", "confidential", "client-credentials"])
        .args(args)
        .envs(env.iter().copied())))
}

async fn dpop_flow(database_url: &str) {
    let dir = TempDir::new();
    let env = [("TOLLGATE_DATABASE_URL", database_url)];
    let secret = client_secret(
        &dir,
        &env,
        &["--client-id", "bound", "--dpop-bound-access-tokens"],
    );
    let api_secret = client_secret(&dir, &env, &["--client-id", "reports-api"]);
    let mut server = Server::start(&dir.0, &env);
    let base = server.base.clone();
    let token_url = format!("{base}/o/token/");
    let bound = BasicClient::new(ClientId::new("bound".into()))
        .set_client_secret(ClientSecret::new(secret.clone()))
        .set_token_uri(TokenUrl::new(token_url.clone()).unwrap());

    // The oauth2 crate's request, with the proof in its DPoP header.
    let with_proof = |jti: &'static str| {
        let token_url = token_url.clone();
        move |mut request: oauth2::HttpRequest| {
            let value = proof("POST", &token_url, jti, None);
            request.headers_mut().insert("DPoP", value.parse().unwrap());
            send(request)
        }
    };
    let tokens = bound
        .exchange_client_credentials()
        .add_scope(Scope::new("read".into()))
        .request_async(&with_proof("i1"))
        .await
        .expect("a DPoP-bound token");
    assert_eq!(tokens.token_type().as_ref().to_ascii_lowercase(), "dpop");
    let token = tokens.access_token().secret().clone();
    let replayed = bound
        .exchange_client_credentials()
        .request_async(&with_proof("i1"))
        .await;
    assert!(
        format!("{:?}", replayed.expect_err("a replayed proof")).contains("invalid_dpop_proof")
    );
    let unproven = bound
        .exchange_client_credentials()
        .request_async(&|request| send(request))
        .await;
    assert!(format!("{:?}", unproven.expect_err("no proof")).contains("invalid_dpop_proof"));

    let http = reqwest::Client::new();
    let introspected: Value = http
        .post(format!("{base}/o/introspect/"))
        .basic_auth("bound", Some(&secret))
        .form(&[("token", token.as_str())])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(introspected["cnf"]["jkt"], thumbprint(Key::Ec));

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let api_base = format!("http://{}", listener.local_addr().unwrap());
    let router = app(Config {
        issuer: base.clone(),
        resource: api_base.clone(),
        client_id: "reports-api".into(),
        client_secret: api_secret,
    })
    .unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    let reports = format!("{api_base}/api/reports");
    let as_bearer = http.get(&reports).bearer_auth(&token).send().await.unwrap();
    assert_eq!(as_bearer.status(), 401);
    let with_dpop = http
        .get(&reports)
        .header("Authorization", format!("DPoP {token}"))
        .header("DPoP", proof("GET", &reports, "r1", Some(&token)))
        .send()
        .await
        .unwrap();
    assert_eq!(with_dpop.status(), 200);
    let wrong_url = http
        .get(&reports)
        .header("Authorization", format!("DPoP {token}"))
        .header(
            "DPoP",
            proof("GET", &format!("{api_base}/api/other"), "r2", Some(&token)),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(wrong_url.status(), 401);
    assert!(server.stop_with("TERM").success(), "{}", server.log_text());
}

#[tokio::test]
async fn dpop_bound_tokens_end_to_end_on_sqlite() {
    let dir = TempDir::new();
    let url = format!("sqlite://{}", dir.0.join("dpop.db").display());
    dpop_flow(&url).await;
}

#[tokio::test]
async fn dpop_bound_tokens_end_to_end_on_postgresql() {
    let Some(db) = tollgate_testkit::postgres("dpop_bound_tokens_end_to_end_on_postgresql").await
    else {
        return;
    };
    dpop_flow(&db.url).await;
}
