//! Whole flows against a real `tollgate serve`, driven by an independent client
//! library (the `oauth2` crate), on SQLite and on PostgreSQL.

use crate::support::*;
use oauth2::basic::BasicClient;
use oauth2::{
    AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, PkceCodeChallenge, RedirectUrl,
    RefreshToken, RevocationUrl, Scope, StandardRevocableToken, TokenResponse, TokenUrl,
};
use tollgate_testkit::location_params;

const PASSWORD: &str = "interop password";
const REDIRECT: &str = "http://127.0.0.1/callback";

fn setup(dir: &TempDir, database_url: &str) -> (String, String) {
    let env = [("TOLLGATE_DATABASE_URL", database_url)];
    let out = run(tollgate(&dir.0)
        .args(["createuser", "alice", "--password", PASSWORD])
        .envs(env));
    assert!(out.status.success(), "{}", stderr(&out));
    let secret_of = |args: &[&str]| {
        let out = run(tollgate(&dir.0)
            .arg("createapplication")
            .args(args)
            .envs(env));
        generated_secret(&out)
    };
    let web = secret_of(&[
        "confidential",
        "authorization-code",
        "--client-id",
        "web",
        "--name",
        "Interop web",
        "--redirect-uris",
        REDIRECT,
    ]);
    let svc = secret_of(&["confidential", "client-credentials", "--client-id", "svc"]);
    (web, svc)
}

/// RFC 7662, as the `web` client asks.
async fn introspect(base: &str, web_secret: &str, token: &str) -> serde_json::Value {
    reqwest::Client::new()
        .post(format!("{base}/o/introspect/"))
        .basic_auth("web", Some(web_secret))
        .form(&[("token", token)])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn whole_flows(database_url: &str) {
    let dir = TempDir::new();
    let (web_secret, svc_secret) = setup(&dir, database_url);
    let mut server = Server::start(&dir.0, &[("TOLLGATE_DATABASE_URL", database_url)]);
    let base = server.base.clone();
    let http = |request| send(request);

    let web = BasicClient::new(ClientId::new("web".into()))
        .set_client_secret(ClientSecret::new(web_secret.clone()))
        .set_auth_uri(AuthUrl::new(format!("{base}/o/authorize/")).unwrap())
        .set_token_uri(TokenUrl::new(format!("{base}/o/token/")).unwrap())
        .set_revocation_url(RevocationUrl::new(format!("{base}/o/revoke_token/")).unwrap())
        .set_redirect_uri(RedirectUrl::new(REDIRECT.into()).unwrap());

    // Authorization code + PKCE, through the real sign-in and consent pages.
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, csrf) = web
        .authorize_url(CsrfToken::new_random)
        .add_scope(Scope::new("read".into()))
        .add_scope(Scope::new("write".into()))
        .set_pkce_challenge(challenge)
        .url();
    let approval = sign_in_and_approve(&base, url.as_str(), "alice", PASSWORD).await;
    let consent = approval
        .consent_page
        .expect("the first request asks for consent");
    assert!(consent.contains("Interop web"), "{consent}");
    let callback = approval.location;
    assert!(callback.starts_with(REDIRECT), "{callback}");
    let params = location_params(&callback);
    assert_eq!(&params["state"], csrf.secret());
    assert_eq!(params["iss"], base, "RFC 9207 iss");
    let tokens = web
        .exchange_code(AuthorizationCode::new(params["code"].clone()))
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .expect("code exchange");
    assert!(tokens.access_token().secret().starts_with("tga_"));
    assert_eq!(tokens.expires_in().map(|d| d.as_secs()), Some(36000));
    let scopes: Vec<String> = tokens
        .scopes()
        .unwrap()
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(scopes, ["read", "write"]);
    let first_refresh = tokens.refresh_token().expect("a refresh token").clone();

    // Refresh with rotation, narrowing the scope.
    let refreshed = web
        .exchange_refresh_token(&first_refresh)
        .add_scope(Scope::new("read".into()))
        .request_async(&http)
        .await
        .expect("refresh");
    let second_refresh = refreshed.refresh_token().expect("rotated").clone();
    assert_ne!(second_refresh.secret(), first_refresh.secret());
    assert_eq!(refreshed.scopes().unwrap()[0].as_str(), "read");
    let replay = web
        .exchange_refresh_token(&first_refresh)
        .request_async(&http)
        .await;
    assert!(replay.is_err(), "a rotated refresh token is spent");

    // Revocation: the client revokes what it holds; the refresh token stops working.
    let other = web
        .exchange_refresh_token(&RefreshToken::new("tgr_unknown".into()))
        .request_async(&http)
        .await;
    assert!(other.is_err());
    // A second code flow: consent is remembered, so no page this time.
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, _) = web
        .authorize_url(CsrfToken::new_random)
        .add_scope(Scope::new("read".into()))
        .set_pkce_challenge(challenge)
        .url();
    let approval = sign_in_and_approve(&base, url.as_str(), "alice", PASSWORD).await;
    assert!(approval.consent_page.is_none(), "consent is remembered");
    let code = location_params(&approval.location)["code"].clone();
    let second = web
        .exchange_code(AuthorizationCode::new(code))
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .expect("second code");
    let fresh = second.refresh_token().expect("a refresh token").clone();
    // The oauth2 crate sends revocations over https only (RFC 7009 §2.1 wants TLS),
    // and this test server speaks plain http on loopback: it must refuse, so the
    // same request goes out through reqwest, authenticated the way the crate would.
    let refused = web.revoke_token(StandardRevocableToken::RefreshToken(fresh.clone()));
    assert!(matches!(
        refused,
        Err(oauth2::ConfigurationError::InsecureUrl(_))
    ));
    let revoked = reqwest::Client::new()
        .post(format!("{base}/o/revoke_token/"))
        .basic_auth("web", Some(&web_secret))
        .form(&[
            ("token", fresh.secret().as_str()),
            ("token_type_hint", "refresh_token"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), 200);
    assert!(
        web.exchange_refresh_token(&fresh)
            .request_async(&http)
            .await
            .is_err()
    );
    let access = second.access_token().secret();
    let introspected = introspect(&base, &web_secret, access).await;
    assert_eq!(
        introspected["active"], false,
        "revoking the refresh token revoked its access token"
    );

    // Client credentials: a token and no refresh token.
    let svc = BasicClient::new(ClientId::new("svc".into()))
        .set_client_secret(ClientSecret::new(svc_secret))
        .set_token_uri(TokenUrl::new(format!("{base}/o/token/")).unwrap());
    let cc = svc
        .exchange_client_credentials()
        .add_scope(Scope::new("write".into()))
        .request_async(&http)
        .await
        .expect("client credentials");
    assert!(cc.refresh_token().is_none());
    assert_eq!(cc.scopes().unwrap()[0].as_str(), "write");

    // RFC 8707: a token for two resources names them as its audience.
    let targeted = svc
        .exchange_client_credentials()
        .add_extra_param("resource", "https://api.example/v1")
        .add_extra_param("resource", "https://files.example/")
        .request_async(&http)
        .await
        .expect("client credentials with resources");
    let introspected = introspect(&base, &web_secret, targeted.access_token().secret()).await;
    assert_eq!(
        introspected["aud"],
        serde_json::json!(["https://api.example/v1", "https://files.example/"])
    );
    let refused = svc
        .exchange_client_credentials()
        .add_extra_param("resource", "https://api.example/#top")
        .request_async(&http)
        .await;
    match refused {
        Err(oauth2::RequestTokenError::ServerResponse(e)) => {
            assert_eq!(e.error().to_string(), "invalid_target")
        }
        other => panic!("a resource with a fragment is invalid_target: {other:?}"),
    }
    let bad = BasicClient::new(ClientId::new("svc".into()))
        .set_client_secret(ClientSecret::new("tgs_wrong".into()))
        .set_token_uri(TokenUrl::new(format!("{base}/o/token/")).unwrap());
    assert!(
        bad.exchange_client_credentials()
            .request_async(&http)
            .await
            .is_err()
    );

    assert!(server.stop_with("TERM").success(), "{}", server.log_text());
}

#[tokio::test]
async fn oauth2_crate_completes_every_flow_on_sqlite() {
    let dir = TempDir::new();
    let url = format!("sqlite://{}", dir.0.join("interop.db").display());
    whole_flows(&url).await;
}

#[tokio::test]
async fn oauth2_crate_completes_every_flow_on_postgresql() {
    let Some(db) =
        tollgate_testkit::postgres("oauth2_crate_completes_every_flow_on_postgresql").await
    else {
        return;
    };
    whole_flows(&db.url).await;
}
