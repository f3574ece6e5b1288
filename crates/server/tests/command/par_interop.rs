//! RFC 9126 against a real `tollgate serve`, on SQLite and on PostgreSQL: the
//! `oauth2` crate makes the authorization request and redeems the code; the
//! push is a plain form POST, as RFC 9126 §2.1 defines it (the crate has no PAR).

use crate::support::*;
use oauth2::basic::BasicClient;
use oauth2::{
    AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, PkceCodeChallenge, RedirectUrl,
    Scope, TokenResponse, TokenUrl,
};
use tollgate_testkit::location_params;

const PASSWORD: &str = "par password";
const REDIRECT: &str = "http://127.0.0.1/bank-callback";

async fn pushed_flow(database_url: &str) {
    let dir = TempDir::new();
    let env = [("TOLLGATE_DATABASE_URL", database_url)];
    let out = run(tollgate(&dir.0)
        .args(["createuser", "alice", "--password", PASSWORD])
        .envs(env));
    assert!(out.status.success(), "{}", stderr(&out));
    let secret = generated_secret(&run(tollgate(&dir.0)
        .args(["createapplication", "confidential", "authorization-code"])
        .args([
            "--client-id",
            "bank",
            "--name",
            "Bank",
            "--redirect-uris",
            REDIRECT,
        ])
        .arg("--require-pushed-authorization-requests")
        .envs(env)));
    let mut server = Server::start(&dir.0, &env);
    let base = server.base.clone();
    let discovery: serde_json::Value =
        reqwest::get(format!("{base}/.well-known/openid-configuration"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    let par_endpoint = discovery["pushed_authorization_request_endpoint"]
        .as_str()
        .expect("advertised")
        .to_owned();
    let bank = BasicClient::new(ClientId::new("bank".into()))
        .set_client_secret(ClientSecret::new(secret.clone()))
        .set_auth_uri(AuthUrl::new(format!("{base}/o/authorize/")).unwrap())
        .set_token_uri(TokenUrl::new(format!("{base}/o/token/")).unwrap())
        .set_redirect_uri(RedirectUrl::new(REDIRECT.into()).unwrap());
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, csrf) = bank
        .authorize_url(CsrfToken::new_random)
        .add_scope(Scope::new("read".into()))
        .set_pkce_challenge(challenge)
        .url();

    // Sent directly, the request of a client that must push is refused at once.
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let direct = browser.get(url.as_str()).send().await.unwrap();
    let refused = direct.headers()["location"].to_str().unwrap().to_owned();
    assert!(refused.starts_with(REDIRECT), "{refused}");
    let refused = location_params(&refused);
    assert_eq!(refused["error"], "invalid_request");
    assert!(!refused.contains_key("code"));

    // Pushed: the same parameters, authenticated, then only a reference in the URL.
    let request: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    let pushed = reqwest::Client::new()
        .post(&par_endpoint)
        .basic_auth("bank", Some(&secret))
        .form(&request)
        .send()
        .await
        .unwrap();
    assert_eq!(pushed.status(), 201);
    let pushed: serde_json::Value = pushed.json().await.unwrap();
    let request_uri = pushed["request_uri"].as_str().unwrap();
    let mut by_reference = url::Url::parse(&format!("{base}/o/authorize/")).unwrap();
    by_reference
        .query_pairs_mut()
        .append_pair("client_id", "bank")
        .append_pair("request_uri", request_uri);
    let approval = sign_in_and_approve(&base, by_reference.as_str(), "alice", PASSWORD).await;
    let params = location_params(&approval.location);
    assert_eq!(&params["state"], csrf.secret());
    let tokens = bank
        .exchange_code(AuthorizationCode::new(params["code"].clone()))
        .set_pkce_verifier(verifier)
        .request_async(&|request| send(request))
        .await
        .expect("code exchange");
    assert!(tokens.access_token().secret().starts_with("tga_"));
    assert_eq!(tokens.scopes().unwrap()[0].as_str(), "read");

    // Used once: the reference leads nowhere now.
    let again = browser.get(by_reference.as_str()).send().await.unwrap();
    assert_eq!(again.status(), 400);
    assert!(again.text().await.unwrap().contains("invalid_request_uri"));
    assert!(server.stop_with("TERM").success(), "{}", server.log_text());
}

#[tokio::test]
async fn oauth2_crate_completes_a_pushed_request_on_sqlite() {
    let dir = TempDir::new();
    let url = format!("sqlite://{}", dir.0.join("par.db").display());
    pushed_flow(&url).await;
}

#[tokio::test]
async fn oauth2_crate_completes_a_pushed_request_on_postgresql() {
    let Some(db) =
        tollgate_testkit::postgres("oauth2_crate_completes_a_pushed_request_on_postgresql").await
    else {
        return;
    };
    pushed_flow(&db.url).await;
}
