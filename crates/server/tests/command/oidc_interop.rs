//! OpenID Connect against a real `tollgate serve`, with the `openidconnect` crate
//! as a strict relying party (signature against the published JWKS, `iss`, `aud`,
//! `nonce`, `at_hash`, `c_hash`): once per signing algorithm, on SQLite and on
//! PostgreSQL; and key rotation end to end.

use std::time::Duration;

use crate::support::*;
use openidconnect::core::{
    CoreAuthPrompt, CoreClient, CoreIdToken, CoreIdTokenClaims, CoreJsonWebKey,
    CoreJwsSigningAlgorithm, CoreProviderMetadata, CoreResponseType,
};
use openidconnect::{
    AccessToken, AccessTokenHash, AuthenticationFlow, AuthorizationCode, AuthorizationCodeHash,
    ClientId, ClientSecret, CsrfToken, IssuerUrl, JsonWebKey as _, Nonce, OAuth2TokenResponse,
    PkceCodeChallenge, RedirectUrl, Scope, TokenResponse,
};
use reqwest::redirect::Policy;
use tollgate_testkit::{hidden, hidden_fields, location_params};

const PASSWORD: &str = "oidc interop password";
const REDIRECT: &str = "https://rp.example/cb";
const LOGOUT: &str = "https://rp.example/bye";
const SECRET_KEY: &str = "oidc interop secret key, 32 chars or more";

/// A user, and the `rp` client signing with `algorithm`; returns its secret.
/// An HS256 client may not use the implicit or hybrid grants (as in DOT): its
/// secret must not sign what travels through the browser.
fn setup(dir: &TempDir, env: &[(&str, &str)], algorithm: &str) -> String {
    let grants: &[&str] = if algorithm == "HS256" {
        &["authorization-code"]
    } else {
        &["authorization-code", "implicit", "openid-hybrid"]
    };
    let out = run(tollgate(&dir.0)
        .args(["createuser", "alice", "--password", PASSWORD])
        .args(["--email", "alice@example.com", "--email-verified"])
        .args(["--given-name", "Alice", "--family-name", "Liddell"])
        .envs(env.iter().copied()));
    assert!(out.status.success(), "{}", stderr(&out));
    let out = run(tollgate(&dir.0)
        .args(["createapplication", "confidential"])
        .args(grants)
        .args(["--client-id", "rp", "--name", "Relying party"])
        .args([
            "--redirect-uris",
            REDIRECT,
            "--post-logout-redirect-uris",
            LOGOUT,
        ])
        .args(["--algorithm", algorithm, "--skip-authorization"])
        .envs(env.iter().copied()));
    generated_secret(&out)
}

/// A browser with a cookie jar.
struct Browser {
    base: String,
    http: reqwest::Client,
}

impl Browser {
    fn new(base: &str) -> Self {
        let http = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(Policy::none())
            .build()
            .unwrap();
        Browser {
            base: base.to_owned(),
            http,
        }
    }

    /// Follows an authorization request to the client's redirect URI, signing
    /// in on the way if asked to.
    async fn authorize(&self, url: &str) -> String {
        let response = self.http.get(url).send().await.unwrap();
        assert_eq!(response.status(), 302, "{}", response.text().await.unwrap());
        let location = response.headers()["location"].to_str().unwrap().to_owned();
        if !location.starts_with("/o/login/") {
            return location;
        }
        let login = self
            .http
            .get(format!("{}{location}", self.base))
            .send()
            .await
            .unwrap();
        let page = login.text().await.unwrap();
        let form = [
            ("username", "alice".to_owned()),
            ("password", PASSWORD.to_owned()),
            ("csrf_token", hidden(&page, "csrf_token").unwrap()),
            ("next", hidden(&page, "next").unwrap()),
        ];
        let signed_in = self
            .http
            .post(format!("{}/o/login/", self.base))
            .header("origin", &self.base)
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(signed_in.status(), 303);
        let next = signed_in.headers()["location"].to_str().unwrap().to_owned();
        let back = self
            .http
            .get(format!("{}{next}", self.base))
            .send()
            .await
            .unwrap();
        assert_eq!(back.status(), 302);
        back.headers()["location"].to_str().unwrap().to_owned()
    }
}

fn algorithm_of(name: &str) -> CoreJwsSigningAlgorithm {
    match name {
        "RS256" => CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
        "ES256" => CoreJwsSigningAlgorithm::EcdsaP256Sha256,
        "EdDSA" => CoreJwsSigningAlgorithm::EdDsa,
        "HS256" => CoreJwsSigningAlgorithm::HmacSha256,
        other => panic!("{other}"),
    }
}

struct Rp {
    client: CoreClient<
        openidconnect::EndpointSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointMaybeSet,
        openidconnect::EndpointMaybeSet,
    >,
    algorithm: CoreJwsSigningAlgorithm,
    secret: String,
}

impl Rp {
    /// Verifies an ID token strictly: only the client's algorithm, the nonce given.
    fn claims(&self, token: &CoreIdToken, nonce: Option<&Nonce>) -> CoreIdTokenClaims {
        let verifier = self
            .client
            .id_token_verifier()
            .set_allowed_algs([self.algorithm.clone()]);
        let claims = match nonce {
            Some(nonce) => token.claims(&verifier, nonce),
            None => token.claims(&verifier, |n: Option<&Nonce>| match n {
                None => Ok(()),
                Some(_) => Err("no nonce expected".to_owned()),
            }),
        }
        .expect("the ID token verifies")
        .clone();
        let alg = token.signing_alg().unwrap();
        assert_eq!(*alg, self.algorithm, "signed with the client's algorithm");
        claims
    }

    /// The key that signed `token`: from the JWKS, or the client secret for HS256
    /// (which the library's key lookup does not cover).
    fn key_of(&self, token: &CoreIdToken) -> CoreJsonWebKey {
        if self.algorithm == CoreJwsSigningAlgorithm::HmacSha256 {
            return CoreJsonWebKey::new_symmetric(self.secret.as_bytes().to_vec());
        }
        let verifier = self.client.id_token_verifier();
        token.signing_key(&verifier).unwrap().clone()
    }

    fn at_hash(&self, token: &CoreIdToken, access: &AccessToken) -> AccessTokenHash {
        AccessTokenHash::from_token(access, token.signing_alg().unwrap(), &self.key_of(token))
            .unwrap()
    }

    fn c_hash(&self, token: &CoreIdToken, code: &str) -> AuthorizationCodeHash {
        AuthorizationCodeHash::from_code(
            &AuthorizationCode::new(code.to_owned()),
            token.signing_alg().unwrap(),
            &self.key_of(token),
        )
        .unwrap()
    }
}

/// Options of one sign-in round.
#[derive(Default)]
struct Ask<'a> {
    prompt: Option<CoreAuthPrompt>,
    hint: Option<&'a CoreIdToken>,
    max_age: Option<Duration>,
}

impl Rp {
    fn front_channel(&self) -> bool {
        self.algorithm != CoreJwsSigningAlgorithm::HmacSha256
    }

    /// A verified ID token for the browser's user: from the authorization
    /// endpoint when the client may take one there, else by the code exchange.
    async fn id_token(&self, browser: &Browser, ask: Ask<'_>) -> (CoreIdToken, CoreIdTokenClaims) {
        let flow = if self.front_channel() {
            AuthenticationFlow::<CoreResponseType>::Implicit(false)
        } else {
            AuthenticationFlow::AuthorizationCode
        };
        let mut request = self
            .client
            .authorize_url(flow, CsrfToken::new_random, Nonce::new_random);
        if let Some(prompt) = ask.prompt {
            request = request.add_prompt(prompt);
        }
        if let Some(hint) = ask.hint {
            request = request.set_id_token_hint(hint);
        }
        if let Some(max_age) = ask.max_age {
            request = request.set_max_age(max_age);
        }
        let (url, _, nonce) = request.url();
        let fields = location_params(&browser.authorize(url.as_str()).await);
        let token: CoreIdToken = match fields.get("code") {
            Some(code) => self
                .client
                .exchange_code(AuthorizationCode::new(code.clone()))
                .unwrap()
                .request_async(&send)
                .await
                .expect("code exchange")
                .id_token()
                .expect("an ID token")
                .clone(),
            None => fields["id_token"].parse().expect("a JWT"),
        };
        let claims = self.claims(&token, Some(&nonce));
        (token, claims)
    }
}

async fn discover(base: &str, secret: &str, algorithm: &str) -> Rp {
    let metadata =
        CoreProviderMetadata::discover_async(IssuerUrl::new(base.to_owned()).unwrap(), &send)
            .await
            .expect("discovery with the JWKS");
    let client = CoreClient::from_provider_metadata(
        metadata,
        ClientId::new("rp".into()),
        Some(ClientSecret::new(secret.to_owned())),
    )
    .set_redirect_uri(RedirectUrl::new(REDIRECT.into()).unwrap());
    Rp {
        client,
        algorithm: algorithm_of(algorithm),
        secret: secret.to_owned(),
    }
}

/// Every flow, with the issuer the server derives from its address, or
/// (`issuer_path`) one with a path, as DOT's `…/o`.
async fn every_flow(database_url: &str, algorithm: &str, issuer_path: Option<&str>) {
    let dir = TempDir::new();
    let mut env = vec![
        ("TOLLGATE_DATABASE_URL", database_url.to_owned()),
        ("TOLLGATE_SECRET_KEY", SECRET_KEY.to_owned()),
    ];
    if let Some(path) = issuer_path {
        let bind = format!("127.0.0.1:{}", free_port());
        env.push(("TOLLGATE_ISSUER", format!("http://{bind}{path}")));
        env.push(("TOLLGATE_BIND", bind));
    }
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let secret = setup(&dir, &env, algorithm);
    let server = Server::start(&dir.0, &env);
    let base = server.base.clone();
    let issuer = format!("{base}{}", issuer_path.unwrap_or_default());
    let rp = discover(&issuer, &secret, algorithm).await;
    let browser = Browser::new(&base);
    let http = |request| send(request);

    // The code flow, with PKCE, through the sign-in page.
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, state, nonce) = rp
        .client
        .authorize_url(
            AuthenticationFlow::<CoreResponseType>::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("profile".into()))
        .add_scope(Scope::new("email".into()))
        .set_pkce_challenge(challenge)
        .url();
    let callback = location_params(&browser.authorize(url.as_str()).await);
    assert_eq!(&callback["state"], state.secret());
    let tokens = rp
        .client
        .exchange_code(AuthorizationCode::new(callback["code"].clone()))
        .unwrap()
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .expect("code exchange");
    let id_token = tokens.id_token().expect("an ID token").clone();
    let claims = rp.claims(&id_token, Some(&nonce));
    assert_eq!(
        claims.access_token_hash(),
        Some(&rp.at_hash(&id_token, tokens.access_token()))
    );
    let auth_time = claims.auth_time().expect("auth_time");
    let sub = claims.subject().clone();

    // UserInfo, GET by the library and POST by hand.
    let info: openidconnect::core::CoreUserInfoClaims = rp
        .client
        .user_info(tokens.access_token().clone(), Some(sub.clone()))
        .unwrap()
        .request_async(&http)
        .await
        .expect("userinfo");
    assert_eq!(info.email().map(|e| e.as_str()), Some("alice@example.com"));
    assert_eq!(info.email_verified(), Some(true));
    let posted: serde_json::Value = reqwest::Client::new()
        .post(format!("{base}/o/userinfo/"))
        .form(&[("access_token", tokens.access_token().secret())])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(posted["sub"], sub.as_str());

    // Refresh: a new ID token, same sub and auth_time, no nonce.
    let refreshed = rp
        .client
        .exchange_refresh_token(tokens.refresh_token().unwrap())
        .unwrap()
        .request_async(&http)
        .await
        .expect("refresh");
    let renewed = refreshed.id_token().expect("a new ID token").clone();
    let renewed_claims = rp.claims(&renewed, None);
    assert_eq!(
        (renewed_claims.subject(), renewed_claims.auth_time()),
        (&sub, Some(auth_time))
    );
    assert_eq!(
        renewed_claims.access_token_hash(),
        Some(&rp.at_hash(&renewed, refreshed.access_token()))
    );

    // Implicit and hybrid: each response type, from the live session.
    let front_channel = if rp.front_channel() {
        vec![
            AuthenticationFlow::Implicit(false),
            AuthenticationFlow::Implicit(true),
            AuthenticationFlow::Hybrid(vec![CoreResponseType::Code, CoreResponseType::IdToken]),
            AuthenticationFlow::Hybrid(vec![CoreResponseType::Code, CoreResponseType::Token]),
            AuthenticationFlow::Hybrid(vec![
                CoreResponseType::Code,
                CoreResponseType::IdToken,
                CoreResponseType::Token,
            ]),
        ]
    } else {
        vec![]
    };
    for flow in front_channel {
        let label = format!("{flow:?}");
        let (url, state, nonce) = rp
            .client
            .authorize_url(flow, CsrfToken::new_random, Nonce::new_random)
            .url();
        let location = browser.authorize(url.as_str()).await;
        assert!(
            location.starts_with(&format!("{REDIRECT}#")),
            "{label}: {location}"
        );
        let fields = location_params(&location);
        assert_eq!(&fields["state"], state.secret(), "{label}");
        assert_eq!(fields["iss"], issuer, "{label}");
        let access = fields
            .get("access_token")
            .map(|t| AccessToken::new(t.clone()));
        let code = fields.get("code");
        if let Some(text) = fields.get("id_token") {
            let token: CoreIdToken = text.parse().expect("a JWT");
            let claims = rp.claims(&token, Some(&nonce));
            if let Some(access) = &access {
                assert_eq!(
                    claims.access_token_hash(),
                    Some(&rp.at_hash(&token, access)),
                    "{label}"
                );
            }
            if let Some(code) = code {
                assert_eq!(
                    claims.code_hash(),
                    Some(&rp.c_hash(&token, code)),
                    "{label}"
                );
            }
            assert_eq!(claims.subject(), &sub, "{label}");
        }
        if let Some(code) = code {
            let back = rp
                .client
                .exchange_code(AuthorizationCode::new(code.clone()))
                .unwrap()
                .request_async(&http)
                .await
                .unwrap_or_else(|e| panic!("{label}: {e:?}"));
            let back_token = back
                .id_token()
                .expect("an ID token from the token endpoint");
            let back_claims = rp.claims(back_token, Some(&nonce));
            assert_eq!(
                back_claims.subject(),
                &sub,
                "front and back channel agree: {label}"
            );
        }
    }

    // prompt=none with the live session, then with an id_token_hint.
    let none = || Ask {
        prompt: Some(CoreAuthPrompt::None),
        ..Ask::default()
    };
    let (_, silent) = rp.id_token(&browser, none()).await;
    assert_eq!(
        (silent.subject(), silent.auth_time()),
        (&sub, Some(auth_time))
    );
    let hinted = Ask {
        hint: Some(&id_token),
        ..none()
    };
    assert_eq!(rp.id_token(&browser, hinted).await.1.subject(), &sub);

    // prompt=login signs in again: a later auth_time.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let login = Ask {
        prompt: Some(CoreAuthPrompt::Login),
        ..Ask::default()
    };
    let login_time = rp.id_token(&browser, login).await.1.auth_time().unwrap();
    assert!(
        login_time > auth_time,
        "prompt=login gives a later auth_time"
    );

    // max_age=1 after two seconds: a new sign-in.
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let stale = Ask {
        max_age: Some(Duration::from_secs(1)),
        ..Ask::default()
    };
    let (fresh, fresh_claims) = rp.id_token(&browser, stale).await;
    assert!(
        fresh_claims.auth_time().unwrap() > login_time,
        "max_age forced a new sign-in"
    );

    // RP-initiated logout: confirmed, back to the client with state; the session is over.
    let page = browser
        .http
        .get(format!("{base}/o/logout/"))
        .query(&[
            ("id_token_hint", fresh.to_string().as_str()),
            ("post_logout_redirect_uri", LOGOUT),
            ("state", "bye"),
        ])
        .send()
        .await
        .unwrap();
    assert!(
        page.headers().get("location").is_none(),
        "DOT's default: confirm first"
    );
    let mut fields = hidden_fields(&page.text().await.unwrap());
    fields.push(("allow".into(), "Sign out".into()));
    let out = browser
        .http
        .post(format!("{base}/o/logout/"))
        .header("origin", &base)
        .form(&fields)
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), 302);
    assert_eq!(
        out.headers()["location"],
        format!("{LOGOUT}?state=bye").as_str()
    );
    let (url, _, _) = rp
        .client
        .authorize_url(
            AuthenticationFlow::<CoreResponseType>::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_prompt(CoreAuthPrompt::None)
        .url();
    let after = browser.http.get(url.as_str()).send().await.unwrap();
    assert_eq!(
        location_params(after.headers()["location"].to_str().unwrap())["error"],
        "login_required"
    );
}

macro_rules! per_algorithm {
    ($($sqlite:ident, $postgres:ident, $alg:literal;)*) => {$(
        #[tokio::test]
        async fn $sqlite() {
            let dir = TempDir::new();
            let url = format!("sqlite://{}", dir.0.join("oidc.db").display());
            every_flow(&url, $alg, None).await;
        }

        #[tokio::test]
        async fn $postgres() {
            let Some(db) = tollgate_testkit::postgres(stringify!($postgres)).await else {
                return;
            };
            every_flow(&db.url, $alg, None).await;
        }
    )*};
}

per_algorithm! {
    rs256_on_sqlite, rs256_on_postgres, "RS256";
    es256_on_sqlite, es256_on_postgres, "ES256";
    eddsa_on_sqlite, eddsa_on_postgres, "EdDSA";
    hs256_on_sqlite, hs256_on_postgres, "HS256";
}

/// The whole suite once with DOT's issuer shape: discovery at `…/o/.well-known/openid-configuration`.
#[tokio::test]
async fn rs256_with_a_dot_issuer() {
    let dir = TempDir::new();
    let url = format!("sqlite://{}", dir.0.join("dot-issuer.db").display());
    every_flow(&url, "RS256", Some("/o")).await;
}

fn kid_of(token: &CoreIdToken) -> String {
    let header = token.to_string();
    let header = header.split('.').next().unwrap();
    let header: serde_json::Value = serde_json::from_slice(
        &base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, header).unwrap(),
    )
    .unwrap();
    header["kid"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn key_rotation_publishes_first_and_old_tokens_still_verify() {
    let dir = TempDir::new();
    let url = format!("sqlite://{}", dir.0.join("rotate.db").display());
    // Relying parties cache the JWKS for a second: a new key signs 1 + 10 s after it is published.
    let env = [
        ("TOLLGATE_DATABASE_URL", url.as_str()),
        ("TOLLGATE_OIDC_JWKS_MAX_AGE_SECONDS", "1"),
    ];
    let secret = setup(&dir, &env, "RS256");
    let server = Server::start(&dir.0, &env);
    let browser = Browser::new(&server.base);
    let before = discover(&server.base, &secret, "RS256")
        .await
        .id_token(&browser, Ask::default())
        .await
        .0;
    let rs256_keys = || async {
        let jwks: serde_json::Value =
            reqwest::get(format!("{}/o/.well-known/jwks.json", server.base))
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
        jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|k| k["alg"] == "RS256")
            .map(|k| k["kid"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };

    // A scheduled rotation, made by another process: published first, signing later.
    let out = run(tollgate(&dir.0)
        .args(["keys", "rotate", "--alg", "RS256"])
        .envs(env));
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("signs from in 11 s"),
        "{}",
        stdout(&out)
    );
    let listed = stdout(&run(tollgate(&dir.0).args(["keys", "list"]).envs(env)));
    assert!(listed.contains("published, signs from"), "{listed}");
    tokio::time::sleep(Duration::from_secs(12)).await; // reloaded, and the new key's time has come
    assert_eq!(
        rs256_keys().await.len(),
        2,
        "old and new are both published"
    );
    let rp = discover(&server.base, &secret, "RS256").await;
    let after = rp.id_token(&browser, Ask::default()).await.0;
    assert_ne!(kid_of(&after), kid_of(&before), "the new key signs");
    // The token signed before the rotation verifies against today's JWKS.
    let verifier = rp
        .client
        .id_token_verifier()
        .set_allowed_algs([CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256]);
    before
        .claims(&verifier, |_: Option<&Nonce>| Ok::<(), String>(()))
        .expect("a token from before the rotation still verifies");

    // An emergency rotation: the newest key signs at once and the others leave the JWKS.
    let out = run(tollgate(&dir.0)
        .args(["keys", "rotate", "--alg", "RS256", "--now"])
        .envs(env));
    assert!(out.status.success(), "{}", stderr(&out));
    tokio::time::sleep(Duration::from_secs(11)).await;
    let remaining = rs256_keys().await;
    assert_eq!(remaining.len(), 1, "{remaining:?}");
    assert!(!remaining.contains(&kid_of(&before)) && !remaining.contains(&kid_of(&after)));
    let rp = discover(&server.base, &secret, "RS256").await;
    let latest = rp.id_token(&browser, Ask::default()).await.0;
    assert_eq!(kid_of(&latest), remaining[0]);
}
