//! RFC 9101 request objects over HTTP: signed by the client's registered keys
//! (signed here by `jsonwebtoken` with keys made outside Tollgate), by value at
//! the authorization endpoint and inside a pushed request, and their refusals.

use crate::support::*;
use jsonwebtoken::Algorithm;
use serde_json::{Value, json};
use tollgate::core::model::{ClientSecurity, NewApplication};
use tollgate::core::{ClientType, GrantType};
use tollgate_testkit::client_keys::{self, JWKS, Key};

const SIGNER_REDIRECT: &str = "https://signer.example/cb";

/// Registers `signer`, a confidential client with the fixture keys that needs
/// no consent, and `plain`, one without keys.
async fn signers(app: &App) {
    for (client_id, jwks) in [("signer", Some(JWKS.to_owned())), ("plain", None)] {
        let client = NewApplication {
            skip_authorization: true,
            security: ClientSecurity {
                jwks,
                ..Default::default()
            },
            ..new_client(
                client_id,
                ClientType::Confidential,
                vec![GrantType::AuthorizationCode],
                &[SIGNER_REDIRECT, "https://signer.example/other"],
            )
        };
        app.store.create_application(&client, 0).await.unwrap();
    }
}

/// The claims of a good request object for `client_id`, with `extra` merged in.
fn object(app: &App, client_id: &str, jti: &str, extra: Value) -> Value {
    let mut claims = json!({
        "iss": client_id,
        "aud": app.settings.issuer,
        "client_id": client_id,
        "exp": app.clock.now() + 300,
        "nbf": app.clock.now() - 1,
        "jti": jti,
        "response_type": "code",
        "redirect_uri": SIGNER_REDIRECT,
        "scope": "read write",
        "state": "inner-state",
        "code_challenge": CHALLENGE,
        "code_challenge_method": "S256",
    });
    for (name, value) in extra.as_object().unwrap() {
        claims[name] = value.clone();
    }
    claims
}

fn rsa(claims: &Value) -> String {
    client_keys::sign(Key::Rsa, Algorithm::RS256, Some("rsa-1"), claims)
}

/// The authorization endpoint's answer to `request` sent by value, beside
/// parameters that must be ignored.
async fn send(app: &App, client_id: &str, request: &str) -> reqwest::Response {
    app.authorize(&[
        ("client_id", client_id),
        ("request", request),
        ("response_type", "code"),
        ("redirect_uri", "https://signer.example/other"),
        ("scope", "read"),
        ("state", "outer-state"),
    ])
    .await
}

async fn assert_error_page(response: reqwest::Response, code: &str) -> String {
    assert_eq!(response.status(), 400);
    assert!(response.headers().get("location").is_none());
    let body = response.text().await.unwrap();
    assert!(body.contains(code), "{body}");
    body
}

/// Exchanges `code` for `signer`; the token response.
async fn redeem(app: &App, code: &str) -> Value {
    let exchange = [
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", SIGNER_REDIRECT),
        ("code_verifier", VERIFIER),
    ];
    json(app.token(&exchange, Some(("signer", SECRET))).await).await
}

#[tokio::test]
async fn a_signed_request_object_is_the_request_whatever_is_sent_beside_it() {
    let app = TestApp::new().start().await;
    signers(&app).await;
    app.sign_in("alice").await;
    for (round, (key, alg, kid)) in [
        (Key::Rsa, Algorithm::RS256, Some("rsa-1")),
        (Key::Rsa, Algorithm::PS256, Some("rsa-1")),
        (Key::Ec, Algorithm::ES256, Some("ec-1")),
        (Key::Ed25519, Algorithm::EdDSA, Some("ed-1")),
        // No kid: the key is found by its type.
        (Key::Ec, Algorithm::ES256, None),
    ]
    .into_iter()
    .enumerate()
    {
        let claims = object(&app, "signer", &format!("j-{round}"), json!({}));
        let response = send(&app, "signer", &client_keys::sign(key, alg, kid, &claims)).await;
        let location = location(&response);
        assert!(location.starts_with(SIGNER_REDIRECT), "{alg:?}: {location}");
        let params = location_params(&location);
        assert_eq!(
            params["state"], "inner-state",
            "{alg:?}: the object's state"
        );
        let tokens = redeem(&app, &params["code"]).await;
        assert_eq!(tokens["scope"], "read write", "{alg:?}: the object's scope");
    }
}

#[tokio::test]
async fn a_request_object_that_does_not_hold_is_refused_on_a_page() {
    let app = TestApp::new().start().await;
    signers(&app).await;
    app.sign_in("alice").await;
    let good = |jti: &str, extra: Value| object(&app, "signer", jti, extra);
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "another key under the client's kid",
            client_keys::sign(
                Key::Stranger,
                Algorithm::RS256,
                Some("rsa-1"),
                &good("a", json!({})),
            ),
            "signature does not verify",
        ),
        (
            "a kid the client never registered",
            client_keys::sign(
                Key::Rsa,
                Algorithm::RS256,
                Some("rsa-9"),
                &good("b", json!({})),
            ),
            "registered keys matches",
        ),
        (
            "a key used under another key type's algorithm",
            client_keys::sign(
                Key::Rsa,
                Algorithm::RS256,
                Some("ec-1"),
                &good("c", json!({})),
            ),
            "registered keys matches",
        ),
        (
            "unsigned",
            client_keys::unsigned(&good("d", json!({}))),
            "alg none",
        ),
        (
            "HS256, which a public key cannot check",
            jsonwebtoken::encode(
                &jsonwebtoken::Header::new(Algorithm::HS256),
                &good("e", json!({})),
                &jsonwebtoken::EncodingKey::from_secret(SECRET.as_bytes()),
            )
            .unwrap(),
            "HS256",
        ),
        ("not a JWT", "not.a.jwt".to_owned(), "not a compact JWS"),
        (
            "expired",
            rsa(&good("f", json!({"exp": app.clock.now() - 1}))),
            "expired",
        ),
        (
            "not yet valid",
            rsa(&good("g", json!({"nbf": app.clock.now() + 600}))),
            "nbf",
        ),
        (
            "for another server",
            rsa(&good("h", json!({"aud": "https://other.example"}))),
            "aud",
        ),
        (
            "from another client",
            rsa(&good("i", json!({"iss": "plain"}))),
            "iss",
        ),
        (
            "signed, and good for ever",
            rsa(&{
                let mut forever = good("l", json!({}));
                forever.as_object_mut().unwrap().remove("exp");
                forever
            }),
            "`exp`",
        ),
        (
            "a client assertion the client signed",
            client_keys::sign_typed(
                Key::Rsa,
                Algorithm::RS256,
                Some("rsa-1"),
                "client-authentication+jwt",
                &good("k", json!({})),
            ),
            "not a request object",
        ),
        (
            "naming another client",
            rsa(&good("j", json!({"client_id": "plain"}))),
            "client_id",
        ),
        (
            "nesting a request_uri",
            rsa(&good(
                "k",
                json!({"request_uri": "https://signer.example/r"}),
            )),
            "request_uri",
        ),
    ];
    for (what, jwt, says) in cases {
        let response = send(&app, "signer", &jwt).await;
        let page = assert_error_page(response, "invalid_request_object").await;
        assert!(page.contains(says), "{what}: {page}");
    }
    let keyless = rsa(&object(&app, "plain", "l", json!({})));
    let page = assert_error_page(
        send(&app, "plain", &keyless).await,
        "invalid_request_object",
    )
    .await;
    assert!(page.contains("no keys"), "{page}");
}

#[tokio::test]
async fn a_request_objects_jti_is_used_once_on_every_node() {
    let app = TestApp::new().start().await;
    signers(&app).await;
    let node = app.another_node().await;
    app.sign_in("alice").await;
    let jwt = rsa(&object(&app, "signer", "once", json!({})));
    let first = send(&app, "signer", &jwt).await;
    assert!(location_params(&location(&first)).contains_key("code"));
    for replay_at in [&app, &node] {
        let again = send(replay_at, "signer", &jwt).await;
        let page = assert_error_page(again, "invalid_request_object").await;
        assert!(page.contains("used before"), "{page}");
    }
    let fresh = rsa(&object(&app, "signer", "twice", json!({})));
    assert!(location_params(&location(&send(&app, "signer", &fresh).await)).contains_key("code"));
}

#[tokio::test]
async fn errors_inside_a_good_object_go_to_its_redirect_uri() {
    let app = TestApp::new().start().await;
    signers(&app).await;
    app.sign_in("alice").await;
    let bad_scope = object(&app, "signer", "s", json!({"scope": "unknown-scope"}));
    let response = send(&app, "signer", &rsa(&bad_scope)).await;
    let location = location(&response);
    assert!(location.starts_with(SIGNER_REDIRECT), "{location}");
    let params = location_params(&location);
    assert_eq!(params["error"], "invalid_scope");
    assert_eq!(params["state"], "inner-state");
}

#[tokio::test]
async fn a_sign_in_answers_prompt_login_inside_an_object() {
    let clock = ManualClock::new();
    let app = TestApp::new().clock(clock.clone()).start().await;
    signers(&app).await;
    app.sign_in("alice").await;
    clock.advance(30);
    let claims = object(&app, "signer", "p", json!({"prompt": "login"}));
    let to_login = send(&app, "signer", &rsa(&claims)).await;
    assert_eq!(to_login.status(), 302);
    let login = location(&to_login);
    assert!(
        login.contains("request_uri"),
        "the sign-in carries a reference: {login}"
    );
    assert!(
        !login.contains("request%3D") && !login.contains("eyJ"),
        "{login}"
    );
    let next = url::Url::parse(&app.url("/"))
        .unwrap()
        .join(&login)
        .unwrap()
        .query_pairs()
        .find(|(name, _)| name == "next")
        .map(|(_, value)| value.into_owned())
        .expect("the login page's next");
    clock.advance(5);
    app.sign_in("alice").await;
    assert!(next.starts_with("/o/authorize/?"), "{next}");
    let back = app.browser.get(app.url(&next)).send().await.unwrap();
    let location = location(&back);
    assert!(
        location.starts_with(SIGNER_REDIRECT),
        "no second sign-in: {location}"
    );
    assert!(location_params(&location).contains_key("code"));
}

#[tokio::test]
async fn a_pushed_request_may_be_a_request_object() {
    let app = TestApp::new().start().await;
    signers(&app).await;
    app.sign_in("alice").await;
    let claims = object(&app, "signer", "par-1", json!({"state": "pushed-object"}));
    let pushed = app
        .post_form(
            "/o/par/",
            &[("request", &rsa(&claims)), ("scope", "read")],
            Some(("signer", SECRET)),
        )
        .await;
    assert_eq!(pushed.status(), 201);
    let uri = json(pushed).await["request_uri"]
        .as_str()
        .unwrap()
        .to_owned();
    let response = app
        .authorize(&[("client_id", "signer"), ("request_uri", &uri)])
        .await;
    let params = location_params(&location(&response));
    assert_eq!(params["state"], "pushed-object");
    assert_eq!(redeem(&app, &params["code"]).await["scope"], "read write");

    let bad = client_keys::sign(Key::Stranger, Algorithm::RS256, Some("rsa-1"), &claims);
    let refused = app
        .post_form("/o/par/", &[("request", &bad)], Some(("signer", SECRET)))
        .await;
    assert_eq!(refused.status(), 400);
    assert_eq!(json(refused).await["error"], "invalid_request_object");
}

#[tokio::test]
async fn unsigned_objects_are_read_only_where_the_setting_allows_them() {
    let strict = TestApp::new().start().await;
    let algs = strict.discovery().await["request_object_signing_alg_values_supported"].clone();
    assert_eq!(algs, json!(["RS256", "PS256", "ES256", "EdDSA"]));
    assert_eq!(
        strict.discovery().await["request_parameter_supported"],
        true
    );

    let app = TestApp::new()
        .settings(|s| s.allow_unsigned_request_objects = true)
        .start()
        .await;
    signers(&app).await;
    let algs = app.discovery().await["request_object_signing_alg_values_supported"].clone();
    assert!(algs.as_array().unwrap().contains(&json!("none")), "{algs}");
    app.sign_in("alice").await;
    let unsigned = client_keys::unsigned(&object(&app, "plain", "u", json!({})));
    let response = send(&app, "plain", &unsigned).await;
    let params = location_params(&location(&response));
    assert_eq!(params["state"], "inner-state");
    // A signature is still checked when there is one.
    let forged = client_keys::sign(
        Key::Stranger,
        Algorithm::RS256,
        Some("rsa-1"),
        &object(&app, "signer", "v", json!({})),
    );
    assert_error_page(
        send(&app, "signer", &forged).await,
        "invalid_request_object",
    )
    .await;
}

#[tokio::test]
async fn a_request_uri_to_fetch_is_not_supported() {
    let app = TestApp::new().start().await;
    app.sign_in("alice").await;
    let response = app
        .authorize(&[
            ("client_id", "web"),
            ("request_uri", "https://app.example/request.jwt"),
        ])
        .await;
    assert_error_page(response, "request_uri_not_supported").await;
}
