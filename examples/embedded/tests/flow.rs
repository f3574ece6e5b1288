//! The notes service end to end: a person of the application's own table signs
//! in through the embedded provider, a client gets tokens with the `oauth2`
//! crate, and the API lets it read or write by scope (200, 401, 403).

use std::net::SocketAddr;

use oauth2::basic::BasicClient;
use oauth2::{
    AuthUrl, AuthorizationCode, ClientId, CsrfToken, PkceCodeChallenge, RedirectUrl, Scope,
    TokenResponse, TokenUrl,
};
use serde_json::{Value, json};
use tollgate_example_embedded::{
    CLI_CLIENT_ID, CLI_REDIRECT_URI, add_person, build, register_cli_client,
};
use tollgate_testkit::browser::{send, sign_in_and_approve};
use tollgate_testkit::location_params;

struct Site {
    base: String,
    _dir: tollgate_testkit::TempDir,
}

async fn start() -> Site {
    let dir = tollgate_testkit::TempDir::new();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let site = build(&dir.0.join("notes.db"), &base).await.unwrap();
    add_person(
        &site.pool,
        "ada@example.com",
        "Ada Lovelace",
        "Engines",
        "analytical",
    )
    .await
    .unwrap();
    register_cli_client(&site.provider).await.unwrap();
    let router = site.router;
    tokio::spawn(async move {
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .unwrap();
    });
    Site { base, _dir: dir }
}

/// The whole authorization-code flow with PKCE for `scopes`; the access token.
async fn access_token(site: &Site, scopes: &[&str]) -> String {
    let base = &site.base;
    let client = BasicClient::new(ClientId::new(CLI_CLIENT_ID.into()))
        .set_auth_uri(AuthUrl::new(format!("{base}/o/authorize/")).unwrap())
        .set_token_uri(TokenUrl::new(format!("{base}/o/token/")).unwrap())
        .set_redirect_uri(RedirectUrl::new(CLI_REDIRECT_URI.into()).unwrap());
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, state) = client
        .authorize_url(CsrfToken::new_random)
        .add_scopes(scopes.iter().map(|s| Scope::new((*s).into())))
        .set_pkce_challenge(challenge)
        .url();
    let approval = sign_in_and_approve(base, url.as_str(), "ada@example.com", "analytical").await;
    let consent = approval.consent_page.expect("a consent page");
    assert!(consent.contains("Notes command line"));
    let params = location_params(&approval.location);
    assert_eq!(&params["state"], state.secret());
    let tokens = client
        .exchange_code(AuthorizationCode::new(params["code"].clone()))
        .set_pkce_verifier(verifier)
        .request_async(&|r| send(r))
        .await
        .expect("code exchange");
    tokens.access_token().secret().clone()
}

async fn notes(site: &Site, token: Option<&str>, add: Option<&str>) -> reqwest::Response {
    let http = reqwest::Client::new();
    let url = format!("{}/api/notes", site.base);
    let mut request = match add {
        Some(text) => http.post(url).json(&json!({ "text": text })),
        None => http.get(url),
    };
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.unwrap()
}

#[tokio::test]
async fn a_person_signs_in_and_the_api_checks_scopes() {
    let site = start().await;
    let reader = access_token(&site, &["openid", "profile", "email", "read"]).await;

    // The extra claim of the application's own table, in UserInfo.
    let info: Value = reqwest::Client::new()
        .get(format!("{}/o/userinfo/", site.base))
        .bearer_auth(&reader)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(info["department"], "Engines");
    assert_eq!(info["given_name"], "Ada");
    assert_eq!(info["email"], "ada@example.com");

    let listed = notes(&site, Some(&reader), None).await;
    assert_eq!(listed.status(), 200);
    let listed: Value = listed.json().await.unwrap();
    assert_eq!(listed["owner"], info["sub"]);
    assert_eq!(listed["notes"], json!([]));

    let unauthenticated = notes(&site, None, None).await;
    assert_eq!(unauthenticated.status(), 401);
    assert!(
        unauthenticated.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Bearer realm=")
    );
    assert_eq!(notes(&site, Some("tga_forged"), None).await.status(), 401);

    let refused = notes(&site, Some(&reader), Some("first")).await;
    assert_eq!(refused.status(), 403);
    let challenge = refused.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        challenge.contains("error=\"insufficient_scope\"") && challenge.contains("scope=\"write\"")
    );

    let writer = access_token(&site, &["read", "write"]).await;
    assert_eq!(
        notes(&site, Some(&writer), Some("first")).await.status(),
        200
    );
    let listed: Value = notes(&site, Some(&reader), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed["notes"], json!(["first"]));
}
