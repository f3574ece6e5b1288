//! `fapi2_security_profile` over HTTP: the FAPI 2.0 Security Profile's MUSTs
//! as the rules — advertised, enforced, and a whole flow that meets them
//! (PAR, private_key_jwt, PKCE S256, DPoP), with assertions and proofs signed
//! by `jsonwebtoken`.

use jsonwebtoken::Algorithm;
use serde_json::json;
use tollgate::core::client_auth::TokenEndpointAuthMethod;
use tollgate::core::model::{ClientSecurity, NewApplication};
use tollgate::core::{ClientType, GrantType};
use tollgate_testkit::client_keys::{self, JWKS, Key, dpop_proof};

use crate::support::*;

const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
const BANK_REDIRECT: &str = "https://bank.example/cb";

async fn fapi_app(clock: ManualClock) -> App {
    let app = TestApp::new()
        .clock(clock)
        .settings(|s| {
            s.fapi2_security_profile = true;
            // Capped at 60 by the profile.
            s.authorization_code_expire_seconds = 600;
        })
        .start()
        .await;
    let bank = NewApplication {
        client_secret_hash: None,
        skip_authorization: true,
        security: ClientSecurity {
            jwks: Some(JWKS.to_owned()),
            token_endpoint_auth_method: Some(TokenEndpointAuthMethod::PrivateKeyJwt),
            ..Default::default()
        },
        ..new_client(
            "bank",
            ClientType::Confidential,
            vec![GrantType::AuthorizationCode],
            &[BANK_REDIRECT],
        )
    };
    app.store.create_application(&bank, 0).await.unwrap();
    app
}

fn assertion(app: &App, jti: &str) -> String {
    let claims = json!({
        "iss": "bank", "sub": "bank", "aud": app.settings.issuer,
        "exp": app.clock.now() + 60, "jti": jti,
    });
    client_keys::sign(Key::Rsa, Algorithm::PS256, Some("rsa-1"), &claims)
}

fn proof(app: &App, url: &str, jti: &str) -> String {
    let claims = json!({"jti": jti, "htm": "POST", "htu": url, "iat": app.clock.now()});
    dpop_proof(Key::Ec, Key::Ec, Algorithm::ES256, &claims)
}

/// POSTs `form` to `path` as `bank`, with an assertion and, given, a DPoP proof.
async fn as_bank(
    app: &App,
    path: &str,
    form: &[(&str, &str)],
    jti: &str,
    dpop: bool,
) -> reqwest::Response {
    let url = app.url(path);
    let assertion = assertion(app, jti);
    let mut form = form.to_vec();
    form.extend([
        ("client_assertion_type", ASSERTION_TYPE),
        ("client_assertion", assertion.as_str()),
    ]);
    let mut request = app.http.post(&url).form(&form);
    if dpop {
        request = request.header("DPoP", proof(app, &url, &format!("proof-{jti}")));
    }
    request.send().await.unwrap()
}

fn bank_request() -> Vec<(&'static str, &'static str)> {
    vec![
        ("response_type", "code"),
        ("redirect_uri", BANK_REDIRECT),
        ("scope", "read"),
        ("state", "s"),
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
    ]
}

/// A code for `bank`, pushed with a DPoP proof and approved.
async fn bank_code(app: &App, jti: &str) -> String {
    let pushed = as_bank(app, "/o/par/", &bank_request(), jti, true).await;
    assert_eq!(pushed.status(), 201);
    let uri = json(pushed).await["request_uri"]
        .as_str()
        .unwrap()
        .to_owned();
    let response = app
        .authorize(&[("client_id", "bank"), ("request_uri", &uri)])
        .await;
    location_params(&location(&response))["code"].clone()
}

fn exchange(code: &str) -> Vec<(&str, &str)> {
    vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", BANK_REDIRECT),
        ("code_verifier", VERIFIER),
    ]
}

#[tokio::test]
async fn the_profile_is_advertised() {
    let app = fapi_app(ManualClock::new()).await;
    let doc = app.discovery().await;
    assert_eq!(
        doc["token_endpoint_auth_methods_supported"],
        json!(["private_key_jwt"])
    );
    assert_eq!(doc["response_types_supported"], json!(["code"]));
    assert_eq!(doc["code_challenge_methods_supported"], json!(["S256"]));
    assert_eq!(doc["require_pushed_authorization_requests"], true);
    let grants = doc["grant_types_supported"].as_array().unwrap();
    assert!(
        !grants.contains(&json!("password")) && !grants.contains(&json!("implicit")),
        "{grants:?}"
    );
    // §5.4.1: PS256, ES256, EdDSA; no RS256, no HS256, no unsigned objects.
    for field in [
        "token_endpoint_auth_signing_alg_values_supported",
        "request_object_signing_alg_values_supported",
    ] {
        assert_eq!(doc[field], json!(["PS256", "ES256", "EdDSA"]), "{field}");
    }
}

#[tokio::test]
async fn assertions_are_signed_as_the_profile_says_and_name_the_issuer_alone() {
    let app = fapi_app(ManualClock::new()).await;
    let par_url = app.url("/o/par/");
    let push = |assertion: String, jti: &'static str| {
        let mut form = bank_request();
        form.extend([("client_assertion_type", ASSERTION_TYPE)]);
        let form: Vec<(String, String)> = form
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .chain([("client_assertion".to_owned(), assertion)])
            .collect();
        app.http
            .post(&par_url)
            .header("DPoP", proof(&app, &par_url, jti))
            .form(&form)
            .send()
    };
    let now = app.clock.now();
    let claims = |aud: serde_json::Value, jti: &str| json!({"iss": "bank", "sub": "bank", "aud": aud, "exp": now + 60, "jti": jti});
    let issuer = json!(app.settings.issuer);
    // RS256 is outside §5.4.1 even with the client's registered RSA key.
    let rs256 = client_keys::sign(
        Key::Rsa,
        Algorithm::RS256,
        Some("rsa-1"),
        &claims(issuer.clone(), "a1"),
    );
    assert_eq!(push(rs256, "p1").await.unwrap().status(), 401);
    // §5.3.2.1: the issuer as a string; not in a list, not an endpoint.
    for (aud, jti) in [
        (json!([app.settings.issuer]), "a2"),
        (json!(par_url), "a3"),
        (json!(app.url("/o/token/")), "a4"),
    ] {
        let jwt = client_keys::sign(
            Key::Ec,
            Algorithm::ES256,
            Some("ec-1"),
            &claims(aud.clone(), jti),
        );
        let refused = push(jwt, jti).await.unwrap();
        assert_eq!(refused.status(), 401, "{aud}");
    }
    let good = client_keys::sign(
        Key::Ec,
        Algorithm::ES256,
        Some("ec-1"),
        &claims(issuer, "a5"),
    );
    assert_eq!(push(good, "p5").await.unwrap().status(), 201);
}

#[tokio::test]
async fn a_flow_within_the_profile_succeeds_and_each_step_outside_it_is_refused() {
    let clock = ManualClock::new();
    let app = fapi_app(clock.clone()).await;
    app.sign_in("alice").await;

    let code = bank_code(&app, "a1").await;
    let tokens = as_bank(&app, "/o/token/", &exchange(&code), "a2", true).await;
    assert_eq!(tokens.status(), 200);
    assert_eq!(json(tokens).await["token_type"], "DPoP");

    // Sent straight to the authorization endpoint: refused, PAR is required.
    let mut direct = bank_request();
    direct.push(("client_id", "bank"));
    let refused = location_params(&location(&app.authorize(&direct).await));
    assert_eq!(refused["error"], "invalid_request");
    // No DPoP proof at the token endpoint: refused.
    let code = bank_code(&app, "b1").await;
    let unbound = as_bank(&app, "/o/token/", &exchange(&code), "b2", false).await;
    assert_eq!(json(unbound).await["error"], "invalid_dpop_proof");
    // A client secret, even a right one: refused, and answered as for a
    // client that does not exist, so the answer tells no one which do.
    let secret = app
        .token(
            &[("grant_type", "client_credentials")],
            Some(("svc", SECRET)),
        )
        .await;
    let unknown = app
        .token(
            &[("grant_type", "client_credentials")],
            Some(("no-such-client", SECRET)),
        )
        .await;
    assert_eq!(
        (secret.status().as_u16(), unknown.status().as_u16()),
        (401, 401)
    );
    assert_eq!(json(secret).await, json(unknown).await);
    // PKCE plain and no PKCE: refused at the push.
    let mut plain = bank_request();
    plain.retain(|(n, _)| !n.starts_with("code_challenge"));
    plain.extend([
        ("code_challenge", VERIFIER),
        ("code_challenge_method", "plain"),
    ]);
    assert_eq!(
        json(as_bank(&app, "/o/par/", &plain, "c1", false).await).await["error"],
        "invalid_request"
    );
    // A code lives 60 seconds, whatever authorization_code_expire_seconds says.
    let code = bank_code(&app, "d1").await;
    clock.advance(61);
    let late = as_bank(&app, "/o/token/", &exchange(&code), "d2", true).await;
    assert_eq!(json(late).await["error"], "invalid_grant");
}
