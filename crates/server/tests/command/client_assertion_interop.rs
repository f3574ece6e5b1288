//! RFC 7523 `private_key_jwt` against a real `tollgate serve`, on SQLite and
//! on PostgreSQL: a client registered by `createapplication
//! --token-endpoint-auth-method private_key_jwt --jwks-file` gets tokens
//! through the `oauth2` crate and revokes them, authenticating with assertions
//! signed by `jsonwebtoken`; a replayed assertion is refused.

use crate::support::*;
use jsonwebtoken::Algorithm;
use oauth2::basic::BasicClient;
use oauth2::{AuthType, ClientId, Scope, TokenResponse, TokenUrl};
use serde_json::{Value, json};
use tollgate_testkit::client_keys::{self, JWKS, Key};

const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

fn assertion(issuer: &str, jti: &str) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let claims = json!({
        "iss": "service", "sub": "service", "aud": issuer,
        "exp": now + 120, "iat": now, "jti": jti,
    });
    client_keys::sign(Key::Ec, Algorithm::ES256, Some("ec-1"), &claims)
}

async fn assertion_flow(database_url: &str) {
    let dir = TempDir::new();
    let env = [("TOLLGATE_DATABASE_URL", database_url)];
    let jwks_file = dir.0.join("service-jwks.json");
    std::fs::write(&jwks_file, JWKS).unwrap();
    let out = run(tollgate(&dir.0)
        .args(["createapplication", "confidential", "client-credentials"])
        .args([
            "--client-id",
            "service",
            "--token-endpoint-auth-method",
            "private_key_jwt",
        ])
        .arg("--jwks-file")
        .arg(&jwks_file)
        .arg("--json")
        .envs(env));
    assert!(out.status.success(), "{}", stderr(&out));
    let created: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(created["token_endpoint_auth_method"], "private_key_jwt");
    assert_eq!(created["client_secret"], Value::Null, "keys, no secret");
    assert_eq!(
        created["jwks"],
        serde_json::from_str::<Value>(JWKS).unwrap()
    );

    let mut server = Server::start(&dir.0, &env);
    let base = server.base.clone();
    let discovery: Value = reqwest::get(format!("{base}/.well-known/openid-configuration"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let methods = discovery["token_endpoint_auth_methods_supported"]
        .as_array()
        .unwrap();
    assert!(methods.contains(&json!("private_key_jwt")), "{methods:?}");
    let issuer = discovery["issuer"].as_str().unwrap().to_owned();
    let service = BasicClient::new(ClientId::new("service".into()))
        .set_auth_type(AuthType::RequestBody)
        .set_token_uri(TokenUrl::new(format!("{base}/o/token/")).unwrap());

    let first = assertion(&issuer, "interop-1");
    let tokens = service
        .exchange_client_credentials()
        .add_scope(Scope::new("read".into()))
        .add_extra_param("client_assertion_type", ASSERTION_TYPE)
        .add_extra_param("client_assertion", first.clone())
        .request_async(&|request| send(request))
        .await
        .expect("client credentials with private_key_jwt");
    assert!(tokens.access_token().secret().starts_with("tga_"));

    let replayed = service
        .exchange_client_credentials()
        .add_extra_param("client_assertion_type", ASSERTION_TYPE)
        .add_extra_param("client_assertion", first)
        .request_async(&|request| send(request))
        .await;
    let message = format!("{:?}", replayed.expect_err("a replayed assertion"));
    assert!(message.contains("invalid_client"), "{message}");

    // RFC 7009 as a plain form: the oauth2 crate revokes over https only.
    let revoked = reqwest::Client::new()
        .post(format!("{base}/o/revoke_token/"))
        .form(&[
            ("token", tokens.access_token().secret().as_str()),
            ("client_assertion_type", ASSERTION_TYPE),
            ("client_assertion", &assertion(&issuer, "interop-2")),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), 200);
    assert!(server.stop_with("TERM").success(), "{}", server.log_text());
}

#[tokio::test]
async fn oauth2_crate_authenticates_with_private_key_jwt_on_sqlite() {
    let dir = TempDir::new();
    let url = format!("sqlite://{}", dir.0.join("assert.db").display());
    assertion_flow(&url).await;
}

#[tokio::test]
async fn oauth2_crate_authenticates_with_private_key_jwt_on_postgresql() {
    let Some(db) =
        tollgate_testkit::postgres("oauth2_crate_authenticates_with_private_key_jwt_on_postgresql")
            .await
    else {
        return;
    };
    assertion_flow(&db.url).await;
}
