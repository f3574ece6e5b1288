//! RFC 9101 against a real `tollgate serve`, on SQLite and on PostgreSQL: a
//! client registered by `createapplication --jwks-file` sends the `oauth2`
//! crate's authorization request as a request object signed by `jsonwebtoken`,
//! by value and then pushed, and redeems the codes with the `oauth2` crate.

use crate::support::*;
use jsonwebtoken::Algorithm;
use oauth2::basic::BasicClient;
use oauth2::{
    AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, PkceCodeChallenge, RedirectUrl,
    Scope, TokenResponse, TokenUrl,
};
use serde_json::{Map, Value, json};
use tollgate_testkit::client_keys::{self, JWKS, Key};
use tollgate_testkit::location_params;

const PASSWORD: &str = "request object password";
const REDIRECT: &str = "http://127.0.0.1/signer-callback";

/// The oauth2 crate's authorization request `url` as request object claims:
/// every parameter, with `iss`, `aud`, `exp` and `jti`, signed by `jsonwebtoken`.
fn signed_request(
    url: &url::Url,
    issuer: &str,
    jti: &str,
    key: Key,
    alg: Algorithm,
    kid: &str,
) -> String {
    let mut claims: Map<String, Value> = url
        .query_pairs()
        .map(|(name, value)| (name.into_owned(), Value::String(value.into_owned())))
        .collect();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    claims.extend([
        ("iss".to_owned(), json!("signer")),
        ("aud".to_owned(), json!(issuer)),
        ("exp".to_owned(), json!(now + 300)),
        ("jti".to_owned(), json!(jti)),
    ]);
    client_keys::sign(key, alg, Some(kid), &Value::Object(claims))
}

async fn request_object_flow(database_url: &str) {
    let dir = TempDir::new();
    let env = [("TOLLGATE_DATABASE_URL", database_url)];
    let out = run(tollgate(&dir.0)
        .args(["createuser", "alice", "--password", PASSWORD])
        .envs(env));
    assert!(out.status.success(), "{}", stderr(&out));
    let jwks_file = dir.0.join("signer-jwks.json");
    std::fs::write(&jwks_file, JWKS).unwrap();
    let secret = generated_secret(&run(tollgate(&dir.0)
        .args(["createapplication", "confidential", "authorization-code"])
        .args([
            "--client-id",
            "signer",
            "--name",
            "Signer",
            "--redirect-uris",
            REDIRECT,
        ])
        .arg("--jwks-file")
        .arg(&jwks_file)
        .envs(env)));
    let mut server = Server::start(&dir.0, &env);
    let base = server.base.clone();
    let discovery: Value = reqwest::get(format!("{base}/.well-known/openid-configuration"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(discovery["request_parameter_supported"], true);
    let issuer = discovery["issuer"].as_str().unwrap().to_owned();
    let signer = BasicClient::new(ClientId::new("signer".into()))
        .set_client_secret(ClientSecret::new(secret.clone()))
        .set_auth_uri(AuthUrl::new(format!("{base}/o/authorize/")).unwrap())
        .set_token_uri(TokenUrl::new(format!("{base}/o/token/")).unwrap())
        .set_redirect_uri(RedirectUrl::new(REDIRECT.into()).unwrap());

    let request = || {
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, csrf) = signer
            .authorize_url(CsrfToken::new_random)
            .add_scope(Scope::new("read".into()))
            .set_pkce_challenge(challenge)
            .url();
        (url, csrf.secret().clone(), verifier)
    };

    // By value: only client_id and the object travel.
    let (url, state, verifier) = request();
    let jwt = signed_request(&url, &issuer, "by-value", Key::Ec, Algorithm::ES256, "ec-1");
    let mut by_value = url::Url::parse(&format!("{base}/o/authorize/")).unwrap();
    by_value
        .query_pairs_mut()
        .append_pair("client_id", "signer")
        .append_pair("request", &jwt);
    let approval = sign_in_and_approve(&base, by_value.as_str(), "alice", PASSWORD).await;
    let params = location_params(&approval.location);
    assert_eq!(params["state"], state);
    let tokens = signer
        .exchange_code(AuthorizationCode::new(params["code"].clone()))
        .set_pkce_verifier(verifier)
        .request_async(&|request| send(request))
        .await
        .expect("code exchange");
    assert_eq!(tokens.scopes().unwrap()[0].as_str(), "read");

    // The same object again: its jti was used.
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let replayed = browser.get(by_value.as_str()).send().await.unwrap();
    assert_eq!(replayed.status(), 400);
    assert!(
        replayed
            .text()
            .await
            .unwrap()
            .contains("invalid_request_object")
    );

    // Pushed (RFC 9126 §3): the object is the request.
    let (url, state, verifier) = request();
    let jwt = signed_request(&url, &issuer, "pushed", Key::Rsa, Algorithm::PS256, "rsa-1");
    let pushed = reqwest::Client::new()
        .post(
            discovery["pushed_authorization_request_endpoint"]
                .as_str()
                .unwrap(),
        )
        .basic_auth("signer", Some(&secret))
        .form(&[("request", jwt.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(pushed.status(), 201);
    let pushed: Value = pushed.json().await.unwrap();
    let mut by_reference = url::Url::parse(&format!("{base}/o/authorize/")).unwrap();
    by_reference
        .query_pairs_mut()
        .append_pair("client_id", "signer")
        .append_pair("request_uri", pushed["request_uri"].as_str().unwrap());
    let approval = sign_in_and_approve(&base, by_reference.as_str(), "alice", PASSWORD).await;
    let params = location_params(&approval.location);
    assert_eq!(params["state"], state);
    signer
        .exchange_code(AuthorizationCode::new(params["code"].clone()))
        .set_pkce_verifier(verifier)
        .request_async(&|request| send(request))
        .await
        .expect("code exchange");

    // Signed by a key the client never registered: refused.
    let (url, _, _) = request();
    let forged = signed_request(
        &url,
        &issuer,
        "forged",
        Key::Stranger,
        Algorithm::RS256,
        "rsa-1",
    );
    let mut forged_url = url::Url::parse(&format!("{base}/o/authorize/")).unwrap();
    forged_url
        .query_pairs_mut()
        .append_pair("client_id", "signer")
        .append_pair("request", &forged);
    let refused = browser.get(forged_url.as_str()).send().await.unwrap();
    assert_eq!(refused.status(), 400);
    assert!(server.stop_with("TERM").success(), "{}", server.log_text());
}

#[tokio::test]
async fn oauth2_crate_sends_signed_request_objects_on_sqlite() {
    let dir = TempDir::new();
    let url = format!("sqlite://{}", dir.0.join("ro.db").display());
    request_object_flow(&url).await;
}

#[tokio::test]
async fn oauth2_crate_sends_signed_request_objects_on_postgresql() {
    let Some(db) =
        tollgate_testkit::postgres("oauth2_crate_sends_signed_request_objects_on_postgresql").await
    else {
        return;
    };
    request_object_flow(&db.url).await;
}
