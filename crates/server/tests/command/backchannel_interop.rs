//! OpenID Connect Back-Channel Logout against a real `tollgate serve`, on
//! SQLite and on PostgreSQL: a client registered with
//! `--backchannel-logout-uri` signs a user in through the `openidconnect`
//! crate; when the user signs out, the relying party's endpoint (on loopback,
//! allowed by `outbound_allowed_networks`) receives a logout token that
//! `jsonwebtoken` verifies against the published JWKS, naming the ID token's
//! `sub` and `sid`.

use std::time::Duration;

use crate::support::*;
use axum::Router;
use axum::extract::State;
use openidconnect::core::{CoreClient, CoreProviderMetadata, CoreResponseType};
use openidconnect::{
    AuthenticationFlow, AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce,
    PkceCodeChallenge, RedirectUrl, TokenResponse,
};
use serde_json::{Map, Value};
use tokio::sync::mpsc;
use tollgate_testkit::browser::sign_in_and_approve;
use tollgate_testkit::location_params;

const PASSWORD: &str = "back-channel password";
const REDIRECT: &str = "https://bcl.example/cb";

async fn received(State(tokens): State<mpsc::UnboundedSender<String>>, body: String) {
    let token = url::form_urlencoded::parse(body.as_bytes())
        .find(|(name, _)| name == "logout_token")
        .map(|(_, value)| value.into_owned())
        .unwrap_or_default();
    tokens.send(token).unwrap();
}

/// The relying party's back-channel logout endpoint: its URI, and the tokens it receives.
async fn logout_endpoint() -> (String, mpsc::UnboundedReceiver<String>) {
    let (sender, tokens) = mpsc::unbounded_channel();
    let router = Router::new()
        .route("/logout", axum::routing::post(received))
        .with_state(sender);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let uri = format!("http://{}/logout", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (uri, tokens)
}

/// A JWT's claims, unverified (the `openidconnect` crate verified the ID token).
fn payload(jwt: &str) -> Map<String, Value> {
    jsonwebtoken::dangerous::insecure_decode_claims(jwt).unwrap()
}

async fn backchannel_flow(database_url: &str) {
    let dir = TempDir::new();
    let env = [
        ("TOLLGATE_DATABASE_URL", database_url),
        ("TOLLGATE_OUTBOUND_ALLOWED_NETWORKS", "[\"127.0.0.1\"]"),
        ("TOLLGATE_OIDC_RP_INITIATED_LOGOUT_ALWAYS_PROMPT", "false"),
    ];
    let (uri, mut tokens) = logout_endpoint().await;
    let out = run(tollgate(&dir.0)
        .args(["createuser", "alice", "--password", PASSWORD])
        .envs(env));
    assert!(out.status.success(), "{}", stderr(&out));
    let secret = generated_secret(&run(tollgate(&dir.0)
        .args(["createapplication", "confidential", "authorization-code"])
        .args(["--client-id", "bcl", "--redirect-uris", REDIRECT])
        .args(["--skip-authorization", "--backchannel-logout-uri", &uri])
        .arg("--backchannel-logout-session-required")
        .envs(env)));
    let mut server = Server::start(&dir.0, &env);
    let base = server.base.clone();
    let metadata =
        CoreProviderMetadata::discover_async(IssuerUrl::new(base.clone()).unwrap(), &send)
            .await
            .expect("discovery");
    let jwks = metadata.jwks_uri().url().to_string();
    let client = CoreClient::from_provider_metadata(
        metadata,
        ClientId::new("bcl".into()),
        Some(ClientSecret::new(secret)),
    )
    .set_redirect_uri(RedirectUrl::new(REDIRECT.into()).unwrap());
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, _, nonce) = client
        .authorize_url(
            AuthenticationFlow::<CoreResponseType>::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .set_pkce_challenge(challenge)
        .url();
    let approval = sign_in_and_approve(&base, url.as_str(), "alice", PASSWORD).await;
    let code = location_params(&approval.location)["code"].clone();
    let response = client
        .exchange_code(AuthorizationCode::new(code))
        .unwrap()
        .set_pkce_verifier(verifier)
        .request_async(&send)
        .await
        .expect("code exchange");
    let id_token = response.id_token().expect("an ID token");
    id_token
        .claims(&client.id_token_verifier(), &nonce)
        .expect("the ID token verifies");
    let id_claims = payload(&id_token.to_string());
    let sid = id_claims["sid"].as_str().expect("a sid").to_owned();

    // The user signs out at the provider; the client is told in the back channel.
    let signed_out = approval
        .browser
        .get(format!("{base}/o/logout/"))
        .query(&[("id_token_hint", id_token.to_string())])
        .send()
        .await
        .unwrap();
    assert_eq!(signed_out.status(), 200);
    let token = tokio::time::timeout(Duration::from_secs(20), tokens.recv())
        .await
        .expect("a logout token within 20 s")
        .unwrap();

    // Verified as an RP must (§2.6), with an implementation other than Tollgate's.
    let header = jsonwebtoken::decode_header(&token).unwrap();
    assert_eq!(header.typ.as_deref(), Some("logout+jwt"));
    let set: jsonwebtoken::jwk::JwkSet = reqwest::get(&jwks).await.unwrap().json().await.unwrap();
    let key = set
        .find(header.kid.as_deref().unwrap())
        .expect("a published key");
    let mut validation = jsonwebtoken::Validation::new(header.alg);
    validation.set_audience(&["bcl"]);
    validation.set_issuer(&[&base]);
    let claims = jsonwebtoken::decode::<Map<String, Value>>(
        &token,
        &jsonwebtoken::DecodingKey::from_jwk(key).unwrap(),
        &validation,
    )
    .expect("the logout token verifies")
    .claims;
    assert_eq!(claims["sub"], id_claims["sub"]);
    assert_eq!(claims["sid"], sid);
    assert!(claims["events"]["http://schemas.openid.net/event/backchannel-logout"].is_object());
    assert!(!claims.contains_key("nonce"));
    assert!(server.stop_with("TERM").success(), "{}", server.log_text());
}

#[tokio::test]
async fn backchannel_logout_end_to_end_on_sqlite() {
    let dir = TempDir::new();
    let url = format!("sqlite://{}", dir.0.join("bcl.db").display());
    backchannel_flow(&url).await;
}

#[tokio::test]
async fn backchannel_logout_end_to_end_on_postgresql() {
    let Some(db) = tollgate_testkit::postgres("backchannel_logout_end_to_end_on_postgresql").await
    else {
        return;
    };
    backchannel_flow(&db.url).await;
}
