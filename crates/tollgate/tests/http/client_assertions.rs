//! RFC 7523 client authentication over HTTP: `private_key_jwt` (assertions
//! signed by `jsonwebtoken` with keys made outside Tollgate) and
//! `client_secret_jwt`, at every endpoint that authenticates clients, and
//! their refusals.

use crate::support::*;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use tollgate::core::client_auth::TokenEndpointAuthMethod;
use tollgate::core::model::{ClientSecurity, NewApplication};
use tollgate::core::{ClientType, GrantType};
use tollgate::sealing::{Purpose, Sealer};
use tollgate_testkit::client_keys::{self, JWKS, Key};

const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
const KEYED_REDIRECT: &str = "https://keyed.example/cb";

/// Registers `keyed` (private_key_jwt, the fixture keys, no secret) and `hs`
/// (client_secret_jwt, its secret sealed).
async fn assertion_clients(app: &App) {
    let sealer = Sealer::new(SECRET_KEY);
    for (client_id, method) in [
        ("keyed", TokenEndpointAuthMethod::PrivateKeyJwt),
        ("hs", TokenEndpointAuthMethod::ClientSecretJwt),
    ] {
        let hs = method == TokenEndpointAuthMethod::ClientSecretJwt;
        let client = NewApplication {
            client_secret_hash: hs
                .then(|| tollgate::credentials::hash_client_secret(SECRET, true).unwrap()),
            client_secret_sealed: hs.then(|| sealer.seal(SECRET, Purpose::ClientSecret(client_id))),
            skip_authorization: true,
            security: ClientSecurity {
                jwks: (!hs).then(|| JWKS.to_owned()),
                token_endpoint_auth_method: Some(method),
                ..Default::default()
            },
            ..new_client(
                client_id,
                ClientType::Confidential,
                vec![
                    GrantType::ClientCredentials,
                    GrantType::AuthorizationCode,
                    GrantType::DeviceCode,
                ],
                &[KEYED_REDIRECT],
            )
        };
        app.store.create_application(&client, 0).await.unwrap();
    }
}

/// Good assertion claims of `client_id` for the audience `aud`, with `extra` merged in.
fn claims(app: &App, client_id: &str, aud: &str, jti: &str, extra: Value) -> Value {
    let now = app.clock.now();
    let mut claims = json!({
        "iss": client_id, "sub": client_id, "aud": aud,
        "exp": now + 60, "iat": now, "jti": jti,
    });
    for (name, value) in extra.as_object().unwrap() {
        claims[name] = value.clone();
    }
    claims
}

fn rsa(claims: &Value) -> String {
    client_keys::sign(Key::Rsa, Algorithm::RS256, Some("rsa-1"), claims)
}

fn hs256(claims: &Value, secret: &str) -> String {
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

/// POSTs `form` to `path` with `assertion` as the client's authentication.
async fn post_with(
    app: &App,
    path: &str,
    form: &[(&str, &str)],
    assertion: &str,
) -> reqwest::Response {
    let mut form = form.to_vec();
    form.extend([
        ("client_assertion_type", ASSERTION_TYPE),
        ("client_assertion", assertion),
    ]);
    app.post_form(path, &form, None).await
}

const CLIENT_CREDENTIALS: [(&str, &str); 1] = [("grant_type", "client_credentials")];

#[tokio::test]
async fn private_key_jwt_authenticates_at_every_endpoint() {
    let app = TestApp::new().start().await;
    assertion_clients(&app).await;
    let issuer = app.settings.issuer.clone();
    for (n, (key, alg, kid, aud)) in [
        (Key::Rsa, Algorithm::RS256, "rsa-1", issuer.clone()),
        (Key::Rsa, Algorithm::PS256, "rsa-1", app.url("/o/token/")),
        (Key::Ec, Algorithm::ES256, "ec-1", app.url("/o/par/")),
        (Key::Ed25519, Algorithm::EdDSA, "ed-1", issuer.clone()),
    ]
    .into_iter()
    .enumerate()
    {
        let jwt = client_keys::sign(
            key,
            alg,
            Some(kid),
            &claims(&app, "keyed", &aud, &format!("t{n}"), json!({})),
        );
        let response = post_with(&app, "/o/token/", &CLIENT_CREDENTIALS, &jwt).await;
        assert_eq!(response.status(), 200, "{alg:?} for {aud}");
        assert!(json(response).await["access_token"].is_string());
    }

    let fresh = |jti: &str| rsa(&claims(&app, "keyed", &issuer, jti, json!({})));
    let token = json(post_with(&app, "/o/token/", &CLIENT_CREDENTIALS, &fresh("a")).await).await
        ["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let introspected = post_with(&app, "/o/introspect/", &[("token", &token)], &fresh("b")).await;
    assert_eq!(json(introspected).await["active"], true);
    let revoked = post_with(&app, "/o/revoke_token/", &[("token", &token)], &fresh("c")).await;
    assert_eq!(revoked.status(), 200);
    let device = post_with(&app, "/o/device-authorization/", &[], &fresh("d")).await;
    assert_eq!(device.status(), 200);
    let pushed = post_with(
        &app,
        "/o/par/",
        &[
            ("response_type", "code"),
            ("redirect_uri", KEYED_REDIRECT),
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
        ],
        &fresh("e"),
    )
    .await;
    assert_eq!(pushed.status(), 201);
}

#[tokio::test]
async fn client_secret_jwt_is_hs256_under_the_clients_secret() {
    let app = TestApp::new().start().await;
    assertion_clients(&app).await;
    let issuer = app.settings.issuer.clone();
    let good = hs256(&claims(&app, "hs", &issuer, "h1", json!({})), SECRET);
    let response = post_with(&app, "/o/token/", &CLIENT_CREDENTIALS, &good).await;
    assert_eq!(response.status(), 200);
    let wrong = hs256(
        &claims(&app, "hs", &issuer, "h2", json!({})),
        "tgs_another-secret-of-32-bytes-or-more",
    );
    let refused = post_with(&app, "/o/token/", &CLIENT_CREDENTIALS, &wrong).await;
    assert_eq!(refused.status(), 401);
    // A JWT method allows assertions only: the secret itself is refused.
    let basic = app.token(&CLIENT_CREDENTIALS, Some(("hs", SECRET))).await;
    assert_eq!(basic.status(), 401);
    let signed_by_key = rsa(&claims(&app, "hs", &issuer, "h3", json!({})));
    assert_eq!(
        post_with(&app, "/o/token/", &CLIENT_CREDENTIALS, &signed_by_key)
            .await
            .status(),
        401
    );
}

#[tokio::test]
async fn assertions_that_do_not_hold_are_refused() {
    let app = TestApp::new().start().await;
    assertion_clients(&app).await;
    let node = app.another_node().await;
    let issuer = app.settings.issuer.clone();
    let now = app.clock.now();
    let good = |jti: &str, extra: Value| claims(&app, "keyed", &issuer, jti, extra);
    let mut no_jti = good("x", json!({}));
    no_jti.as_object_mut().unwrap().remove("jti");
    let mut no_exp = good("y", json!({}));
    no_exp.as_object_mut().unwrap().remove("exp");
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "a stranger's key",
            client_keys::sign(
                Key::Stranger,
                Algorithm::RS256,
                Some("rsa-1"),
                &good("1", json!({})),
            ),
            "client authentication failed",
        ),
        (
            "an unknown kid",
            client_keys::sign(
                Key::Rsa,
                Algorithm::RS256,
                Some("rsa-2"),
                &good("2", json!({})),
            ),
            "client authentication failed",
        ),
        (
            "HS256 for a key client",
            hs256(&good("3", json!({})), SECRET),
            "client authentication failed",
        ),
        (
            "unsigned",
            client_keys::unsigned(&good("4", json!({}))),
            "client authentication failed",
        ),
        (
            "expired",
            rsa(&good("5", json!({"exp": now - 1}))),
            "has expired",
        ),
        ("no exp", rsa(&no_exp), "`exp`"),
        (
            "valid for a day",
            rsa(&good("6", json!({"exp": now + 86_400}))),
            "more than an hour",
        ),
        (
            "another audience",
            rsa(&good("7", json!({"aud": "https://other.example/token"}))),
            "aud",
        ),
        ("no jti", rsa(&no_jti), "jti"),
        (
            "iss not the client",
            rsa(&good("8", json!({"iss": "web"}))),
            "iss",
        ),
        (
            "a request object the client signed",
            client_keys::sign_typed(
                Key::Rsa,
                Algorithm::RS256,
                Some("rsa-1"),
                "oauth-authz-req+jwt",
                &good("9", json!({})),
            ),
            "not a client assertion",
        ),
    ];
    for (what, jwt, says) in cases {
        let response = post_with(&app, "/o/token/", &CLIENT_CREDENTIALS, &jwt).await;
        assert_eq!(response.status(), 401, "{what}");
        let body = json(response).await;
        assert_eq!(body["error"], "invalid_client", "{what}");
        let description = body["error_description"].as_str().unwrap();
        assert!(description.contains(says), "{what}: {description}");
    }

    // Used once, on whichever node sees it again.
    let once = rsa(&good("once", json!({})));
    assert_eq!(
        post_with(&app, "/o/token/", &CLIENT_CREDENTIALS, &once)
            .await
            .status(),
        200
    );
    for replay_at in [&app, &node] {
        let again = post_with(replay_at, "/o/token/", &CLIENT_CREDENTIALS, &once).await;
        assert_eq!(again.status(), 401);
        assert!(
            json(again).await["error_description"]
                .as_str()
                .unwrap()
                .contains("used before")
        );
    }

    // A client of secrets may not use an assertion, nor one of keys a secret.
    let for_web = rsa(&claims(&app, "web", &issuer, "w", json!({})));
    assert_eq!(
        post_with(&app, "/o/token/", &CLIENT_CREDENTIALS, &for_web)
            .await
            .status(),
        401
    );
    let keyed_secret = app
        .token(&CLIENT_CREDENTIALS, Some(("keyed", SECRET)))
        .await;
    assert_eq!(keyed_secret.status(), 401);
    // An assertion beside another method is a muddle.
    let mut both = CLIENT_CREDENTIALS.to_vec();
    both.push(("client_secret", SECRET));
    let muddled = post_with(&app, "/o/token/", &both, &rsa(&good("m", json!({})))).await;
    assert_eq!(json(muddled).await["error"], "invalid_request");
}

/// Sixteen requests with one assertion at once, 10 rounds: exactly one token.
#[tokio::test]
async fn an_assertion_racing_itself_authenticates_once() {
    let app = TestApp::new().start().await;
    assertion_clients(&app).await;
    let issuer = app.settings.issuer.clone();
    for round in 0..10 {
        let jwt = rsa(&claims(
            &app,
            "keyed",
            &issuer,
            &format!("race-{round}"),
            json!({}),
        ));
        let tasks: Vec<_> = (0..16)
            .map(|_| {
                let (http, url, jwt) = (app.http.clone(), app.url("/o/token/"), jwt.clone());
                tokio::spawn(async move {
                    let form = [
                        ("grant_type", "client_credentials"),
                        ("client_assertion_type", ASSERTION_TYPE),
                        ("client_assertion", jwt.as_str()),
                    ];
                    http.post(url)
                        .form(&form)
                        .send()
                        .await
                        .unwrap()
                        .status()
                        .as_u16()
                })
            })
            .collect();
        let mut statuses = Vec::new();
        for task in tasks {
            statuses.push(task.await.unwrap());
        }
        assert_eq!(
            statuses.iter().filter(|s| **s == 200).count(),
            1,
            "round {round}: {statuses:?}"
        );
        assert!(
            statuses.iter().all(|s| *s == 200 || *s == 401),
            "{statuses:?}"
        );
    }
}

#[tokio::test]
async fn discovery_lists_the_jwt_methods() {
    let app = TestApp::new().start().await;
    let doc = app.discovery().await;
    for field in [
        "token_endpoint_auth_methods_supported",
        "revocation_endpoint_auth_methods_supported",
    ] {
        assert_eq!(
            doc[field],
            json!([
                "client_secret_basic",
                "client_secret_post",
                "client_secret_jwt",
                "private_key_jwt",
                "none"
            ]),
            "{field}"
        );
    }
    assert_eq!(
        doc["introspection_endpoint_auth_methods_supported"],
        json!([
            "client_secret_basic",
            "client_secret_post",
            "client_secret_jwt",
            "private_key_jwt"
        ])
    );
    assert_eq!(
        doc["token_endpoint_auth_signing_alg_values_supported"],
        json!(["RS256", "PS256", "ES256", "EdDSA", "HS256"])
    );
}

#[tokio::test]
async fn a_dynamically_registered_key_client_authenticates_with_its_keys() {
    let app = TestApp::new()
        .settings(|s| {
            s.dcr_enabled = true;
            s.dcr_registration_access = tollgate::RegistrationAccess::Open;
        })
        .start()
        .await;
    let jwks: Value = serde_json::from_str(JWKS).unwrap();
    let registered = app
        .http
        .post(app.url("/o/register/"))
        .json(&json!({
            "grant_types": ["client_credentials"],
            "token_endpoint_auth_method": "private_key_jwt",
            "jwks": jwks,
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(registered.status(), 201);
    let body = json(registered).await;
    assert!(
        body.get("client_secret").is_none(),
        "keys, no secret: {body}"
    );
    assert!(body.get("client_secret_expires_at").is_none(), "{body}");
    assert_eq!(body["token_endpoint_auth_method"], "private_key_jwt");
    let client_id = body["client_id"].as_str().unwrap();
    let jwt = client_keys::sign(
        Key::Ed25519,
        Algorithm::EdDSA,
        Some("ed-1"),
        &claims(&app, client_id, &app.url("/o/token/"), "dcr", json!({})),
    );
    let response = post_with(&app, "/o/token/", &CLIENT_CREDENTIALS, &jwt).await;
    assert_eq!(response.status(), 200);

    let keyless = app
        .http
        .post(app.url("/o/register/"))
        .json(&json!({"grant_types": ["client_credentials"], "token_endpoint_auth_method": "private_key_jwt"}))
        .send()
        .await
        .unwrap();
    assert_eq!(json(keyless).await["error"], "invalid_client_metadata");
}

/// Assertions that do not verify are guesses, throttled as wrong secrets are.
#[tokio::test]
async fn forged_assertions_are_throttled() {
    let app = TestApp::new().start().await;
    assertion_clients(&app).await;
    let issuer = app.settings.issuer.clone();
    let mut statuses = Vec::new();
    for n in 0..12 {
        let forged = client_keys::sign(
            Key::Stranger,
            Algorithm::RS256,
            Some("rsa-1"),
            &claims(&app, "keyed", &issuer, &format!("f{n}"), json!({})),
        );
        statuses.push(
            post_with(&app, "/o/token/", &CLIENT_CREDENTIALS, &forged)
                .await
                .status()
                .as_u16(),
        );
    }
    assert_eq!(statuses[..10], [401; 10]);
    assert_eq!(statuses[11], 429, "{statuses:?}");
}
