//! A client's keys at its `jwks_uri`: fetched through the outbound client
//! (loopback reachable only as an operator allows an internal network, with
//! `outbound_allowed_networks`), kept, and fetched again for a key it lacks.

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::State;
use jsonwebtoken::Algorithm;
use serde_json::{Value, json};
use tollgate::core::client_auth::TokenEndpointAuthMethod;
use tollgate::core::model::{ClientSecurity, NewApplication};
use tollgate::core::{ClientType, GrantType};
use tollgate_testkit::client_keys::{self, JWKS, Key};

use crate::support::*;

const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// The client's key server: the set it serves, and how often it was asked.
#[derive(Clone, Default)]
struct KeyServer(Arc<Mutex<(String, usize, Option<u16>)>>);

impl KeyServer {
    fn serve(&self, kids: &[&str]) {
        let all: Value = serde_json::from_str(JWKS).unwrap();
        let keys: Vec<Value> = all["keys"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|k| kids.contains(&k["kid"].as_str().unwrap()))
            .cloned()
            .collect();
        self.0.lock().unwrap().0 = json!({ "keys": keys }).to_string();
    }

    fn hits(&self) -> usize {
        self.0.lock().unwrap().1
    }

    /// Answers with this status from now on, or (`None`) the set again.
    fn fail(&self, status: Option<u16>) {
        self.0.lock().unwrap().2 = status;
    }
}

async fn answer(State(server): State<KeyServer>) -> axum::response::Response {
    use axum::response::IntoResponse;
    let mut served = server.0.lock().unwrap();
    served.1 += 1;
    if let Some(status) = served.2 {
        return axum::http::StatusCode::from_u16(status)
            .unwrap()
            .into_response();
    }
    (
        [
            ("content-type", "application/json"),
            ("cache-control", "max-age=600"),
        ],
        served.0.clone(),
    )
        .into_response()
}

/// A key server on loopback; the `jwks_uri` it answers at.
async fn key_server() -> (KeyServer, String) {
    let server = KeyServer::default();
    let router = Router::new()
        .route("/jwks.json", axum::routing::get(answer))
        .with_state(server.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (server, format!("http://127.0.0.1:{port}/jwks.json"))
}

async fn remote_client(app: &App, jwks_uri: &str) {
    let client = NewApplication {
        client_secret_hash: None,
        security: ClientSecurity {
            jwks_uri: Some(jwks_uri.to_owned()),
            token_endpoint_auth_method: Some(TokenEndpointAuthMethod::PrivateKeyJwt),
            ..Default::default()
        },
        ..new_client(
            "remote",
            ClientType::Confidential,
            vec![GrantType::ClientCredentials],
            &[],
        )
    };
    app.store.create_application(&client, 0).await.unwrap();
}

/// The token endpoint's status for a client-credentials request of `remote`
/// authenticated with an assertion signed by `key` under `kid`.
async fn token_status(app: &App, key: Key, alg: Algorithm, kid: &str, jti: &str) -> u16 {
    let now = app.clock.now();
    let claims = json!({
        "iss": "remote", "sub": "remote", "aud": app.settings.issuer,
        "exp": now + 60, "jti": jti,
    });
    let jwt = client_keys::sign(key, alg, Some(kid), &claims);
    let form = [
        ("grant_type", "client_credentials"),
        ("client_assertion_type", ASSERTION_TYPE),
        ("client_assertion", jwt.as_str()),
    ];
    app.post_form("/o/token/", &form, None)
        .await
        .status()
        .as_u16()
}

/// A provider on a manual clock that may reach loopback, with `remote`'s keys at `uri`.
async fn remote_client_app(uri: &str) -> (App, ManualClock) {
    let clock = ManualClock::new();
    let app = TestApp::new()
        .clock(clock.clone())
        .settings(|s| s.outbound_allowed_networks = vec!["127.0.0.1".into()])
        .start()
        .await;
    remote_client(&app, uri).await;
    (app, clock)
}

#[tokio::test]
async fn keys_are_fetched_kept_and_fetched_again_for_a_new_kid() {
    let (server, uri) = key_server().await;
    server.serve(&["ec-1"]);
    let (app, clock) = remote_client_app(&uri).await;

    assert_eq!(
        token_status(&app, Key::Ec, Algorithm::ES256, "ec-1", "1").await,
        200
    );
    assert_eq!(
        token_status(&app, Key::Ec, Algorithm::ES256, "ec-1", "2").await,
        200
    );
    assert_eq!(server.hits(), 1, "kept, not fetched per request");

    // The client rotates to a new key; a minute after the last fetch, the new kid fetches the set again.
    server.serve(&["ec-1", "rsa-1"]);
    assert_eq!(
        token_status(&app, Key::Rsa, Algorithm::RS256, "rsa-1", "3").await,
        401
    );
    assert_eq!(
        server.hits(),
        1,
        "an unknown kid fetches at most once a minute"
    );
    clock.advance(61);
    assert_eq!(
        token_status(&app, Key::Rsa, Algorithm::RS256, "rsa-1", "4").await,
        200
    );
    assert_eq!(server.hits(), 2);
    // A forged kid, a minute on: one more fetch, then nothing for a minute.
    clock.advance(61);
    for jti in ["5", "6", "7"] {
        assert_eq!(
            token_status(&app, Key::Stranger, Algorithm::RS256, "forged", jti).await,
            401
        );
    }
    assert_eq!(server.hits(), 3);

    // Past its max-age, the set is fetched again.
    clock.advance(601);
    assert_eq!(
        token_status(&app, Key::Ec, Algorithm::ES256, "ec-1", "8").await,
        200
    );
    assert_eq!(server.hits(), 4);
}

#[tokio::test]
async fn an_internal_address_is_reached_only_when_the_operator_allows_it() {
    let (server, uri) = key_server().await;
    server.serve(&["ec-1"]);
    let app = TestApp::new().start().await;
    remote_client(&app, &uri).await;
    assert_eq!(
        token_status(&app, Key::Ec, Algorithm::ES256, "ec-1", "1").await,
        401
    );
    assert_eq!(server.hits(), 0, "no connection to loopback was made");

    // Allowed for loopback, still never over plain http to a public address, nor to cloud metadata.
    let app = TestApp::new()
        .settings(|s| s.outbound_allowed_networks = vec!["127.0.0.1".into()])
        .start()
        .await;
    remote_client(&app, "http://169.254.169.254/latest/meta-data/jwks").await;
    assert_eq!(
        token_status(&app, Key::Ec, Algorithm::ES256, "ec-1", "2").await,
        401
    );
}

#[tokio::test]
async fn a_key_server_that_is_down_is_asked_again_a_minute_later_not_at_every_request() {
    let (server, uri) = key_server().await;
    server.serve(&["ec-1"]);
    server.fail(Some(503));
    let (app, clock) = remote_client_app(&uri).await;
    for jti in ["1", "2", "3"] {
        assert_eq!(
            token_status(&app, Key::Ec, Algorithm::ES256, "ec-1", jti).await,
            401
        );
    }
    assert_eq!(server.hits(), 1, "one fetch, then a minute's rest");
    server.fail(None);
    clock.advance(61);
    assert_eq!(
        token_status(&app, Key::Ec, Algorithm::ES256, "ec-1", "4").await,
        200
    );
    assert_eq!(server.hits(), 2);
}

#[tokio::test]
async fn a_set_its_server_says_is_gone_is_not_used_from_memory() {
    let (server, uri) = key_server().await;
    server.serve(&["ec-1"]);
    let (app, clock) = remote_client_app(&uri).await;
    assert_eq!(
        token_status(&app, Key::Ec, Algorithm::ES256, "ec-1", "1").await,
        200
    );
    // Past its max-age the server says 404: the client withdrew its keys, and the old copy goes.
    server.fail(Some(404));
    clock.advance(601);
    assert_eq!(
        token_status(&app, Key::Ec, Algorithm::ES256, "ec-1", "2").await,
        401
    );
    assert_eq!(server.hits(), 2);
}
