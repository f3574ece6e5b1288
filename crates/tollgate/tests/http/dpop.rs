//! RFC 9449 DPoP over HTTP: proofs (signed by `jsonwebtoken` with keys made
//! outside Tollgate) bind tokens at the token endpoint, introspection shows
//! the binding, UserInfo takes a bound token only with a proof of its key, and
//! every way a proof can be wrong is refused.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::Algorithm;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tollgate::core::model::{ClientSecurity, NewApplication};
use tollgate::core::{ClientType, GrantType};
use tollgate_testkit::client_keys::{Key, dpop_proof, thumbprint};

use crate::support::*;

/// A proof by `key` for `method` `url`, with `extra` claims merged in.
fn proof(app: &App, key: Key, method: &str, url: &str, jti: &str, extra: Value) -> String {
    let mut claims = json!({"jti": jti, "htm": method, "htu": url, "iat": app.clock.now()});
    for (name, value) in extra.as_object().unwrap() {
        claims[name] = value.clone();
    }
    let alg = match key {
        Key::Ec => Algorithm::ES256,
        Key::Ed25519 => Algorithm::EdDSA,
        _ => Algorithm::RS256,
    };
    dpop_proof(key, key, alg, &claims)
}

fn ath(token: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(token.as_bytes()))
}

/// A client-credentials request of `svc` with `dpop` as its proof.
async fn svc_token(app: &App, dpop: Option<&str>) -> reqwest::Response {
    let mut request = app
        .http
        .post(app.url("/o/token/"))
        .basic_auth("svc", Some(SECRET))
        .form(&[("grant_type", "client_credentials")]);
    if let Some(proof) = dpop {
        request = request.header("DPoP", proof);
    }
    request.send().await.unwrap()
}

#[tokio::test]
async fn a_proof_binds_the_token_and_introspection_shows_the_key() {
    let app = TestApp::new().start().await;
    let token_url = app.url("/o/token/");
    let response = svc_token(
        &app,
        Some(&proof(&app, Key::Ec, "POST", &token_url, "p1", json!({}))),
    )
    .await;
    assert_eq!(response.status(), 200);
    let body = json(response).await;
    assert_eq!(body["token_type"], "DPoP");
    let token = body["access_token"].as_str().unwrap();
    let introspected = json(
        app.post_form("/o/introspect/", &[("token", token)], Some(("svc", SECRET)))
            .await,
    )
    .await;
    assert_eq!(introspected["active"], true);
    assert_eq!(introspected["token_type"], "DPoP");
    assert_eq!(
        introspected["cnf"]["jkt"],
        thumbprint(Key::Ec),
        "the RFC 7638 thumbprint"
    );

    // Without a proof, the same client gets a bearer token.
    let bearer = json(svc_token(&app, None).await).await;
    assert_eq!(bearer["token_type"], "Bearer");
    let token = bearer["access_token"].as_str().unwrap();
    let introspected = json(
        app.post_form("/o/introspect/", &[("token", token)], Some(("svc", SECRET)))
            .await,
    )
    .await;
    assert!(introspected.get("cnf").is_none(), "{introspected}");
    assert_eq!(
        app.discovery().await["dpop_signing_alg_values_supported"],
        json!(["RS256", "PS256", "ES256", "EdDSA"])
    );
}

#[tokio::test]
async fn proofs_that_do_not_fit_the_request_are_refused() {
    let app = TestApp::new().start().await;
    let node = app.another_node().await;
    let token_url = app.url("/o/token/");
    let now = app.clock.now();
    let by_another_key = {
        let claims = json!({"jti": "k", "htm": "POST", "htu": token_url, "iat": now});
        dpop_proof(Key::Stranger, Key::Rsa, Algorithm::RS256, &claims)
    };
    let cases = [
        (
            "wrong htm",
            proof(&app, Key::Ec, "GET", &token_url, "a", json!({})),
        ),
        (
            "wrong htu",
            proof(
                &app,
                Key::Ec,
                "POST",
                &app.url("/o/revoke_token/"),
                "b",
                json!({}),
            ),
        ),
        (
            "old",
            proof(
                &app,
                Key::Ec,
                "POST",
                &token_url,
                "c",
                json!({"iat": now - 600}),
            ),
        ),
        ("signed by another key than it names", by_another_key),
        ("not a JWT", "not-a-proof".to_owned()),
    ];
    for (what, bad) in cases {
        let response = svc_token(&app, Some(&bad)).await;
        assert_eq!(response.status(), 400, "{what}");
        assert_eq!(
            json(response).await["error"],
            "invalid_dpop_proof",
            "{what}"
        );
    }
    // Used once, on whichever node sees it again.
    let once = proof(&app, Key::Ed25519, "POST", &token_url, "once", json!({}));
    assert_eq!(svc_token(&app, Some(&once)).await.status(), 200);
    let replayed = svc_token(&node, Some(&once)).await;
    assert_eq!(replayed.status(), 400);
    assert!(
        json(replayed).await["error_description"]
            .as_str()
            .unwrap()
            .contains("used before")
    );
    // Two DPoP headers are one too many.
    let two = app
        .http
        .post(app.url("/o/token/"))
        .basic_auth("svc", Some(SECRET))
        .header(
            "DPoP",
            proof(&app, Key::Ec, "POST", &token_url, "d", json!({})),
        )
        .header(
            "DPoP",
            proof(&app, Key::Ec, "POST", &token_url, "e", json!({})),
        )
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(json(two).await["error"], "invalid_dpop_proof");
}

#[tokio::test]
async fn userinfo_takes_a_bound_token_only_with_a_proof_of_its_key() {
    let app = TestApp::new().start().await;
    app.sign_in("alice").await;
    let query = [
        ("client_id", "rp"),
        ("response_type", "code"),
        ("redirect_uri", RP_REDIRECT),
        ("scope", "openid profile"),
        ("state", "st"),
        ("nonce", "n"),
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
    ];
    let code = location_params(&location(&app.authorize(&query).await))["code"].clone();
    let token_url = app.url("/o/token/");
    let exchanged = app
        .http
        .post(&token_url)
        .basic_auth("rp", Some(SECRET))
        .header(
            "DPoP",
            proof(&app, Key::Rsa, "POST", &token_url, "t", json!({})),
        )
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", RP_REDIRECT),
            ("code_verifier", VERIFIER),
        ])
        .send()
        .await
        .unwrap();
    let tokens = json(exchanged).await;
    assert_eq!(tokens["token_type"], "DPoP");
    let token = tokens["access_token"].as_str().unwrap().to_owned();
    let userinfo = app.url("/o/userinfo/");
    let call = |scheme: &str, dpop: Option<String>| {
        let mut request = app
            .http
            .get(&userinfo)
            .header("Authorization", format!("{scheme} {token}"));
        if let Some(proof) = dpop {
            request = request.header("DPoP", proof);
        }
        request.send()
    };

    let as_bearer = call("Bearer", None).await.unwrap();
    assert_eq!(as_bearer.status(), 401);
    let challenge = as_bearer.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        challenge.starts_with("DPoP ") && challenge.contains("invalid_token"),
        "{challenge}"
    );

    let good = proof(
        &app,
        Key::Rsa,
        "GET",
        &userinfo,
        "u1",
        json!({"ath": ath(&token)}),
    );
    let answered = call("DPoP", Some(good.clone())).await.unwrap();
    assert_eq!(answered.status(), 200);
    assert!(json(answered).await["sub"].as_str().is_some());

    for (what, dpop) in [
        ("replayed", Some(good)),
        ("no proof", None),
        (
            "another token's ath",
            Some(proof(
                &app,
                Key::Rsa,
                "GET",
                &userinfo,
                "u2",
                json!({"ath": ath("tga_other")}),
            )),
        ),
        (
            "no ath",
            Some(proof(&app, Key::Rsa, "GET", &userinfo, "u3", json!({}))),
        ),
        (
            "wrong htm",
            Some(proof(
                &app,
                Key::Rsa,
                "POST",
                &userinfo,
                "u4",
                json!({"ath": ath(&token)}),
            )),
        ),
        (
            "another key",
            Some(proof(
                &app,
                Key::Ec,
                "GET",
                &userinfo,
                "u5",
                json!({"ath": ath(&token)}),
            )),
        ),
    ] {
        let refused = call("DPoP", dpop).await.unwrap();
        assert_eq!(refused.status(), 401, "{what}");
        let challenge = refused.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(
            challenge.contains("invalid_dpop_proof"),
            "{what}: {challenge}"
        );
    }

    // A bearer token presented as DPoP is refused too.
    let bearer = json(svc_token(&app, None).await).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let refused = app
        .http
        .get(&userinfo)
        .header("Authorization", format!("DPoP {bearer}"))
        .header(
            "DPoP",
            proof(
                &app,
                Key::Rsa,
                "GET",
                &userinfo,
                "u6",
                json!({"ath": ath(&bearer)}),
            ),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);
}

#[tokio::test]
async fn a_dpop_bound_client_must_send_proofs_and_a_public_clients_refresh_token_is_bound() {
    let app = TestApp::new().start().await;
    let bound = NewApplication {
        security: ClientSecurity {
            dpop_bound_access_tokens: true,
            ..Default::default()
        },
        ..new_client(
            "bound",
            ClientType::Confidential,
            vec![GrantType::ClientCredentials],
            &[],
        )
    };
    app.store.create_application(&bound, 0).await.unwrap();
    let refused = app
        .token(
            &[("grant_type", "client_credentials")],
            Some(("bound", SECRET)),
        )
        .await;
    assert_eq!(refused.status(), 400);
    assert_eq!(json(refused).await["error"], "invalid_dpop_proof");

    // spa, a public client: its refresh token is bound to the key too.
    app.sign_in("alice").await;
    let query = [
        ("client_id", "spa"),
        ("response_type", "code"),
        ("redirect_uri", "http://127.0.0.1/cb"),
        ("scope", "read"),
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
    ];
    let code = location_params(&location(&app.consent(&query, true).await))["code"].clone();
    let token_url = app.url("/o/token/");
    let post = |form: Vec<(&'static str, String)>, dpop: Option<String>| {
        let mut request = app.http.post(&token_url).form(&form);
        if let Some(proof) = dpop {
            request = request.header("DPoP", proof);
        }
        request.send()
    };
    let tokens = json(
        post(
            vec![
                ("grant_type", "authorization_code".into()),
                ("client_id", "spa".into()),
                ("code", code),
                ("redirect_uri", "http://127.0.0.1/cb".into()),
                ("code_verifier", VERIFIER.into()),
            ],
            Some(proof(
                &app,
                Key::Ed25519,
                "POST",
                &token_url,
                "s1",
                json!({}),
            )),
        )
        .await
        .unwrap(),
    )
    .await;
    let refresh_token = tokens["refresh_token"]
        .as_str()
        .expect("a refresh token")
        .to_owned();
    let refresh = || {
        vec![
            ("grant_type", "refresh_token"),
            ("client_id", "spa"),
            ("refresh_token", refresh_token.as_str()),
        ]
        .into_iter()
        .map(|(n, v)| (n, v.to_owned()))
        .collect::<Vec<_>>()
    };
    for (what, dpop) in [
        ("no proof", None),
        (
            "another key",
            Some(proof(&app, Key::Ec, "POST", &token_url, "s2", json!({}))),
        ),
    ] {
        let response = post(refresh(), dpop).await.unwrap();
        assert_eq!(response.status(), 400, "{what}");
        assert_eq!(
            json(response).await["error"],
            "invalid_dpop_proof",
            "{what}"
        );
    }
    let refreshed = post(
        refresh(),
        Some(proof(
            &app,
            Key::Ed25519,
            "POST",
            &token_url,
            "s3",
            json!({}),
        )),
    )
    .await
    .unwrap();
    assert_eq!(refreshed.status(), 200);
    assert_eq!(json(refreshed).await["token_type"], "DPoP");
}

/// `web`'s code for `query` (after sign-in and consent), and its redemption
/// with `dpop` as the proof.
async fn redeem_web_code(app: &App, code: &str, dpop: Option<String>) -> reqwest::Response {
    let mut request = app
        .http
        .post(app.url("/o/token/"))
        .basic_auth("web", Some(SECRET))
        .form(&web_code_exchange(code));
    if let Some(proof) = dpop {
        request = request.header("DPoP", proof);
    }
    request.send().await.unwrap()
}

#[tokio::test]
async fn dpop_jkt_and_a_pushed_proof_bind_the_code_to_a_key() {
    let app = TestApp::new().start().await;
    app.sign_in("alice").await;
    let token_url = app.url("/o/token/");
    let jkt = thumbprint(Key::Ec);
    let mut query = web_request();
    query.push(("dpop_jkt", &jkt));
    for (n, (what, dpop)) in [
        ("no proof", None),
        ("another key", Some(Key::Ed25519)),
        ("its key", Some(Key::Ec)),
    ]
    .into_iter()
    .enumerate()
    {
        let mut response = app.authorize(&query).await;
        if response.status() == 200 {
            response = app.consent(&query, true).await;
        }
        let code = location_params(&location(&response))["code"].clone();
        let proof =
            dpop.map(|key| proof(&app, key, "POST", &token_url, &format!("c{n}"), json!({})));
        let redeemed = redeem_web_code(&app, &code, proof).await;
        if what == "its key" {
            assert_eq!(redeemed.status(), 200, "{what}");
            assert_eq!(json(redeemed).await["token_type"], "DPoP");
        } else {
            assert_eq!(redeemed.status(), 400, "{what}");
            assert_eq!(
                json(redeemed).await["error"],
                "invalid_dpop_proof",
                "{what}"
            );
        }
    }
    let mut malformed = web_request();
    malformed.push(("dpop_jkt", "short"));
    let refused = location_params(&location(&app.authorize(&malformed).await));
    assert_eq!(refused["error"], "invalid_request");

    // RFC 9449 §10.1: a proof at the PAR endpoint binds the code as dpop_jkt does.
    let par_url = app.url("/o/par/");
    let mut form = web_request();
    form.retain(|(name, _)| *name != "client_id");
    // Pushed with an RSA key's proof, beside `extra`; the code once approved, or the push's answer.
    let push = |jti: &'static str, extra: Vec<(&'static str, String)>| {
        let mut fields: Vec<(&str, String)> =
            form.iter().map(|(n, v)| (*n, (*v).to_owned())).collect();
        fields.extend(extra);
        app.http
            .post(&par_url)
            .basic_auth("web", Some(SECRET))
            .header(
                "DPoP",
                proof(&app, Key::Rsa, "POST", &par_url, jti, json!({})),
            )
            .form(&fields)
            .send()
    };
    let code_of = |pushed: reqwest::Response| async {
        assert_eq!(pushed.status(), 201);
        let uri = json(pushed).await["request_uri"]
            .as_str()
            .unwrap()
            .to_owned();
        let reference = [("client_id", "web"), ("request_uri", uri.as_str())];
        location_params(&location(&app.authorize(&reference).await))["code"].clone()
    };
    let code = code_of(push("p1", vec![]).await.unwrap()).await;
    let wrong = proof(&app, Key::Ec, "POST", &token_url, "p2", json!({}));
    assert_eq!(
        redeem_web_code(&app, &code, Some(wrong)).await.status(),
        400
    );
    let code = code_of(push("p3", vec![]).await.unwrap()).await;
    let right = proof(&app, Key::Rsa, "POST", &token_url, "p4", json!({}));
    assert_eq!(
        redeem_web_code(&app, &code, Some(right)).await.status(),
        200
    );
    let mismatched = push("p5", vec![("dpop_jkt", jkt.clone())]).await.unwrap();
    assert_eq!(json(mismatched).await["error"], "invalid_dpop_proof");
}

#[tokio::test]
async fn a_server_nonce_is_handed_out_and_then_required_on_every_node() {
    let clock = ManualClock::new();
    let app = TestApp::new()
        .clock(clock.clone())
        .settings(|s| s.dpop_nonce_required = true)
        .start()
        .await;
    let node = app.another_node().await;
    let token_url = app.url("/o/token/");
    let first = svc_token(
        &app,
        Some(&proof(&app, Key::Ec, "POST", &token_url, "n1", json!({}))),
    )
    .await;
    assert_eq!(first.status(), 400);
    let nonce = first.headers()["dpop-nonce"].to_str().unwrap().to_owned();
    assert_eq!(json(first).await["error"], "use_dpop_nonce");

    // Any node takes the nonce another handed out: they derive it from the same secret_key.
    let with_nonce = proof(
        &app,
        Key::Ec,
        "POST",
        &token_url,
        "n2",
        json!({"nonce": nonce}),
    );
    let answered = svc_token(&node, Some(&with_nonce)).await;
    assert_eq!(answered.status(), 200);
    let token = json(answered).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let forged = proof(
        &app,
        Key::Ec,
        "POST",
        &token_url,
        "n3",
        json!({"nonce": "made-up"}),
    );
    assert_eq!(
        json(svc_token(&app, Some(&forged)).await).await["error"],
        "use_dpop_nonce"
    );

    // Still good in the next window; two windows on, a new one is handed out.
    clock.advance(300);
    let next = proof(
        &app,
        Key::Ec,
        "POST",
        &token_url,
        "n4",
        json!({"nonce": nonce}),
    );
    assert_eq!(svc_token(&app, Some(&next)).await.status(), 200);
    clock.advance(300);
    let stale = proof(
        &app,
        Key::Ec,
        "POST",
        &token_url,
        "n5",
        json!({"nonce": nonce}),
    );
    let refused = svc_token(&app, Some(&stale)).await;
    let fresh = refused.headers()["dpop-nonce"].to_str().unwrap().to_owned();
    assert_ne!(fresh, nonce);
    assert_eq!(json(refused).await["error"], "use_dpop_nonce");

    // At UserInfo the same, as a 401 with a DPoP challenge.
    let userinfo = app.url("/o/userinfo/");
    let at_resource = proof(
        &app,
        Key::Ec,
        "GET",
        &userinfo,
        "n6",
        json!({"ath": ath(&token)}),
    );
    let response = app
        .http
        .get(&userinfo)
        .header("Authorization", format!("DPoP {token}"))
        .header("DPoP", at_resource)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    assert!(response.headers().contains_key("dpop-nonce"));
    let challenge = response.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(challenge.contains("use_dpop_nonce"), "{challenge}");
}

/// Introspection takes bearer tokens only: a bound one is refused there, as
/// UserInfo refuses it as Bearer, even with the introspection scope.
#[tokio::test]
async fn a_bound_token_is_not_a_bearer_token_at_introspection() {
    let app = TestApp::new().start().await;
    let token_url = app.url("/o/token/");
    let bound = app
        .http
        .post(&token_url)
        .basic_auth("svc", Some(SECRET))
        .header(
            "DPoP",
            proof(&app, Key::Ec, "POST", &token_url, "i1", json!({})),
        )
        .form(&[
            ("grant_type", "client_credentials"),
            ("scope", "introspection"),
        ])
        .send()
        .await
        .unwrap();
    let bound = json(bound).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let refused = app
        .http
        .post(app.url("/o/introspect/"))
        .bearer_auth(&bound)
        .form(&[("token", bound.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);
    assert_eq!(json(refused).await["error"], "invalid_token");
}

#[tokio::test]
async fn a_nonce_retry_may_send_the_same_client_assertion() {
    let app = TestApp::new()
        .settings(|s| s.dpop_nonce_required = true)
        .start()
        .await;
    let keyed = NewApplication {
        client_secret_hash: None,
        security: ClientSecurity {
            jwks: Some(tollgate_testkit::client_keys::JWKS.to_owned()),
            token_endpoint_auth_method: Some(
                tollgate::core::client_auth::TokenEndpointAuthMethod::PrivateKeyJwt,
            ),
            ..Default::default()
        },
        ..new_client(
            "keyed",
            ClientType::Confidential,
            vec![GrantType::ClientCredentials],
            &[],
        )
    };
    app.store.create_application(&keyed, 0).await.unwrap();
    let now = app.clock.now();
    let assertion = tollgate_testkit::client_keys::sign(
        Key::Ec,
        Algorithm::ES256,
        Some("ec-1"),
        &json!({"iss": "keyed", "sub": "keyed", "aud": app.base, "exp": now + 60, "jti": "a1"}),
    );
    let token_url = app.url("/o/token/");
    let request = |dpop: String| {
        app.http
            .post(&token_url)
            .header("DPoP", dpop)
            .form(&[
                ("grant_type", "client_credentials"),
                (
                    "client_assertion_type",
                    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                ),
                ("client_assertion", assertion.as_str()),
            ])
            .send()
    };
    let first = request(proof(&app, Key::Ec, "POST", &token_url, "p1", json!({})))
        .await
        .unwrap();
    assert_eq!(first.status(), 400);
    let nonce = first.headers()["dpop-nonce"].to_str().unwrap().to_owned();
    // RFC 9449 §8: the client sends the request again with the nonce; its
    // assertion was not spent by the request refused for want of one.
    let with_nonce = proof(
        &app,
        Key::Ec,
        "POST",
        &token_url,
        "p2",
        json!({"nonce": nonce}),
    );
    let retried = request(with_nonce).await.unwrap();
    assert_eq!(retried.status(), 200, "{:?}", retried.text().await);
    // Once it went through, the assertion is spent.
    let again = proof(
        &app,
        Key::Ec,
        "POST",
        &token_url,
        "p3",
        json!({"nonce": nonce}),
    );
    assert_eq!(request(again).await.unwrap().status(), 401);
}
