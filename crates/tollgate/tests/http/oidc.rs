//! OpenID Connect over HTTP: discovery, JWKS, ID tokens from every endpoint,
//! UserInfo, the OIDC authorization parameters and RP-initiated logout.

use crate::support::*;
use jsonwebtoken::{DecodingKey, Validation};
use serde_json::{Map, Value};
use tollgate::claims::{ClaimsContext, ClaimsFuture, ClaimsSource};

const NONCE: &str = "n-0S6_WzA2Mj";

/// An authorization request of the `rp` client (trusted: no consent page);
/// `extra` adds parameters or replaces them.
fn rp_request<'a>(response_type: &'a str, extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut query = vec![
        ("client_id", "rp"),
        ("response_type", response_type),
        ("redirect_uri", RP_REDIRECT),
        ("scope", "openid profile email"),
        ("state", "st"),
        ("nonce", NONCE),
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
    ];
    for (name, value) in extra {
        match query.iter_mut().find(|(n, _)| n == name) {
            Some(field) => field.1 = value,
            None => query.push((name, value)),
        }
    }
    query
}

/// Where the browser was sent, as a map of the fragment's or query's fields.
fn fields_of(response: &reqwest::Response) -> std::collections::HashMap<String, String> {
    assert_eq!(response.status(), 302, "expected a redirect to the client");
    location_params(&location(response))
}

/// Verifies an ID token against the published JWKS, as a relying party must.
async fn verified(app: &App, token: &str, client_id: &str) -> Map<String, Value> {
    verified_jwt(app, token, client_id, true).await.1
}

/// GET UserInfo with a bearer token.
async fn userinfo(app: &App, token: &str) -> reqwest::Response {
    app.http
        .get(app.url("/o/userinfo/"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

fn half_hash(value: &str) -> String {
    tollgate::core::id_token::half_hash(tollgate::core::SigningAlgorithm::RS256, value)
}

async fn code_exchange(app: &App, code: &str) -> Value {
    let response = app
        .token(
            &[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", RP_REDIRECT),
                ("code_verifier", VERIFIER),
            ],
            Some(("rp", SECRET)),
        )
        .await;
    assert_eq!(response.status(), 200);
    json(response).await
}

#[tokio::test]
async fn discovery_advertises_what_the_server_does_at_both_paths() {
    let app = TestApp::new().start().await;
    for path in [
        "/.well-known/openid-configuration",
        "/o/.well-known/openid-configuration",
    ] {
        let response = app.http.get(app.url(path)).send().await.unwrap();
        assert_eq!(response.status(), 200, "{path}");
        assert_eq!(response.headers()["access-control-allow-origin"], "*");
        let doc = json(response).await;
        assert_eq!(doc["issuer"], app.base.as_str(), "byte for byte");
        assert_eq!(doc["jwks_uri"], app.url("/o/.well-known/jwks.json"));
        assert_eq!(doc["userinfo_endpoint"], app.url("/o/userinfo/"));
        assert_eq!(doc["end_session_endpoint"], app.url("/o/logout/"));
        assert_eq!(doc["request_parameter_supported"], true);
        assert_eq!(doc["request_uri_parameter_supported"], false);
        assert_eq!(doc["claims_parameter_supported"], true);
        assert_eq!(
            doc["subject_types_supported"],
            serde_json::json!(["public"])
        );
        assert_eq!(doc["authorization_response_iss_parameter_supported"], true);
        assert_eq!(
            doc["id_token_signing_alg_values_supported"],
            serde_json::json!(["RS256", "ES256", "EdDSA", "HS256"])
        );
        for rt in ["code", "id_token", "code id_token token"] {
            assert!(
                doc["response_types_supported"]
                    .as_array()
                    .unwrap()
                    .contains(&rt.into()),
                "{rt}"
            );
        }
        for claim in [
            "sub",
            "email",
            "given_name",
            "phone_number",
            "address",
            "auth_time",
        ] {
            assert!(
                doc["claims_supported"]
                    .as_array()
                    .unwrap()
                    .contains(&claim.into()),
                "{claim}"
            );
        }
        assert!(
            doc["scopes_supported"]
                .as_array()
                .unwrap()
                .contains(&"openid".into())
        );
        for field in [
            "grant_types_supported",
            "response_modes_supported",
            "revocation_endpoint",
            "introspection_endpoint",
            "code_challenge_methods_supported",
        ] {
            assert!(doc.get(field).is_some(), "{field}");
        }
    }
    // Without a secret key there is no HS256; without logout no end_session_endpoint.
    let plain = TestApp::new()
        .settings(|s| {
            s.secret_key = None;
            s.oidc_rp_initiated_logout_enabled = false;
        })
        .start()
        .await;
    let doc = json(
        plain
            .http
            .get(plain.url("/.well-known/openid-configuration"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(doc.get("end_session_endpoint").is_none());
    assert!(
        !doc["id_token_signing_alg_values_supported"]
            .as_array()
            .unwrap()
            .contains(&"HS256".into())
    );
    assert_eq!(
        plain
            .http
            .get(plain.url("/o/logout/"))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    // OIDC off: no discovery, JWKS or UserInfo.
    let oauth = TestApp::new()
        .settings(|s| s.oidc_enabled = false)
        .start()
        .await;
    for path in [
        "/.well-known/openid-configuration",
        "/o/.well-known/jwks.json",
        "/o/userinfo/",
    ] {
        assert_eq!(
            oauth
                .http
                .get(oauth.url(path))
                .send()
                .await
                .unwrap()
                .status(),
            404,
            "{path}"
        );
    }
}

#[tokio::test]
async fn jwks_publishes_public_keys_with_a_cache_lifetime() {
    let app = TestApp::new()
        .settings(|s| s.oidc_jwks_max_age_seconds = 120)
        .start()
        .await;
    let response = app
        .http
        .get(app.url("/o/.well-known/jwks.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["cache-control"], "public, max-age=120");
    let jwks = json(response).await;
    let keys = jwks["keys"].as_array().unwrap();
    let mut kinds: Vec<&str> = keys.iter().map(|k| k["alg"].as_str().unwrap()).collect();
    kinds.sort_unstable();
    assert_eq!(kinds, ["ES256", "EdDSA", "RS256"]);
    for key in keys {
        assert!(key["kid"].as_str().is_some_and(|k| k.len() == 43));
        for private in ["d", "p", "q", "dp", "dq", "qi", "k"] {
            assert!(key.get(private).is_none(), "{private} published");
        }
    }
}

#[tokio::test]
async fn code_flow_issues_a_verifiable_id_token_and_refresh_keeps_sub_and_auth_time() {
    let app = TestApp::new().start().await;
    app.sign_in("alice").await;
    let fields = fields_of(&app.authorize(&rp_request("code", &[])).await);
    let tokens = code_exchange(&app, &fields["code"]).await;
    let id_token = tokens["id_token"]
        .as_str()
        .expect("an id_token for the openid scope");
    let claims = verified(&app, id_token, "rp").await;
    assert_eq!(claims["nonce"], NONCE);
    assert_eq!(claims["azp"], "rp");
    assert_eq!(
        claims["at_hash"],
        half_hash(tokens["access_token"].as_str().unwrap())
    );
    assert!(claims["auth_time"].as_i64().is_some() && claims["jti"].as_str().is_some());
    assert!(
        claims.get("email").is_none(),
        "scope claims come from UserInfo when an access token is issued"
    );
    assert!(claims.get("acr").is_none(), "acr only when asked for");

    let refreshed = app
        .token(
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", tokens["refresh_token"].as_str().unwrap()),
            ],
            Some(("rp", SECRET)),
        )
        .await;
    assert_eq!(refreshed.status(), 200);
    let refreshed = json(refreshed).await;
    let again = verified(&app, refreshed["id_token"].as_str().unwrap(), "rp").await;
    assert_eq!(
        (&again["sub"], &again["auth_time"]),
        (&claims["sub"], &claims["auth_time"])
    );
    assert!(again.get("nonce").is_none(), "no nonce at refresh");
    assert_eq!(
        again["at_hash"],
        half_hash(refreshed["access_token"].as_str().unwrap())
    );

    // A plain OAuth request gets no ID token.
    let plain = app.code_for_web().await;
    let response = app
        .token(
            &[
                ("grant_type", "authorization_code"),
                ("code", &plain),
                ("redirect_uri", WEB_REDIRECT),
                ("code_verifier", VERIFIER),
            ],
            Some(("web", SECRET)),
        )
        .await;
    assert!(json(response).await.get("id_token").is_none());
}

#[tokio::test]
async fn implicit_and_hybrid_responses_carry_hashes_in_the_fragment() {
    let app = TestApp::new().start().await;
    app.sign_in("alice").await;

    let response = app.authorize(&rp_request("id_token", &[])).await;
    assert!(
        location(&response).starts_with(&format!("{RP_REDIRECT}#")),
        "fragment by default"
    );
    let f = fields_of(&response);
    assert_eq!(
        (f["state"].as_str(), f["iss"].as_str()),
        ("st", app.base.as_str())
    );
    assert!(!f.contains_key("access_token") && !f.contains_key("code"));
    let claims = verified(&app, &f["id_token"], "rp").await;
    assert_eq!(
        claims["email"], "alice@example.com",
        "no access token: scope claims in the ID token"
    );
    assert_eq!(claims["name"], "alice-given alice-family");

    let f = fields_of(&app.authorize(&rp_request("id_token token", &[])).await);
    let claims = verified(&app, &f["id_token"], "rp").await;
    assert_eq!(claims["at_hash"], half_hash(&f["access_token"]));
    assert!(claims.get("email").is_none());

    let f = fields_of(&app.authorize(&rp_request("code id_token", &[])).await);
    let claims = verified(&app, &f["id_token"], "rp").await;
    assert_eq!(claims["c_hash"], half_hash(&f["code"]));
    let back = code_exchange(&app, &f["code"]).await;
    let back_claims = verified(&app, back["id_token"].as_str().unwrap(), "rp").await;
    assert_eq!(
        back_claims["sub"], claims["sub"],
        "the same sub front and back"
    );

    let f = fields_of(&app.authorize(&rp_request("code id_token token", &[])).await);
    let claims = verified(&app, &f["id_token"], "rp").await;
    assert_eq!(
        (
            claims["c_hash"].as_str().unwrap(),
            claims["at_hash"].as_str().unwrap()
        ),
        (
            half_hash(&f["code"]).as_str(),
            half_hash(&f["access_token"]).as_str()
        )
    );

    let f = fields_of(&app.authorize(&rp_request("code token", &[])).await);
    assert!(
        f.contains_key("code") && f.contains_key("access_token") && !f.contains_key("id_token")
    );
    // A replayed code takes the access token that travelled with it down too.
    code_exchange(&app, &f["code"]).await;
    let replay = app
        .token(
            &[
                ("grant_type", "authorization_code"),
                ("code", &f["code"]),
                ("redirect_uri", RP_REDIRECT),
                ("code_verifier", VERIFIER),
            ],
            Some(("rp", SECRET)),
        )
        .await;
    assert_eq!(json(replay).await["error"], "invalid_grant");
    let front = userinfo(&app, &f["access_token"]).await;
    assert_eq!(front.status(), 401);

    // form_post on request.
    let page = app
        .authorize(&rp_request("id_token", &[("response_mode", "form_post")]))
        .await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains(r#"name="id_token""#), "{html}");

    // Without a nonce: an error, in the fragment, with state and iss.
    let mut no_nonce = rp_request("id_token", &[]);
    no_nonce.retain(|(k, _)| *k != "nonce");
    let f = fields_of(&app.authorize(&no_nonce).await);
    assert_eq!(
        (f["error"].as_str(), f["state"].as_str(), f["iss"].as_str()),
        ("invalid_request", "st", app.base.as_str())
    );
}

/// A code flow of a trusted confidential client with a nonce and no PKCE (its
/// nonce stands in, RFC 9700 §2.1.1); returns the token response.
async fn nonce_code_flow(app: &App, client_id: &str, redirect_uri: &str, scope: &str) -> Value {
    let query = [
        ("client_id", client_id),
        ("response_type", "code"),
        ("redirect_uri", redirect_uri),
        ("scope", scope),
        ("nonce", NONCE),
    ];
    let code = fields_of(&app.authorize(&query).await)["code"].clone();
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", redirect_uri),
    ];
    json(app.token(&form, Some((client_id, SECRET))).await).await
}

#[tokio::test]
async fn hs256_clients_get_tokens_signed_with_their_secret() {
    let app = TestApp::new().start().await;
    app.sign_in("alice").await;
    let tokens = nonce_code_flow(&app, "rp-hs", "https://rp2.example/cb", "openid").await;
    let id_token = tokens["id_token"].as_str().unwrap();
    let header = jsonwebtoken::decode_header(id_token).unwrap();
    assert_eq!(
        (header.alg, header.kid),
        (jsonwebtoken::Algorithm::HS256, None)
    );
    let mut validation = Validation::new(jsonwebtoken::Algorithm::HS256);
    validation.set_audience(&["rp-hs"]);
    let key = DecodingKey::from_secret(SECRET.as_bytes());
    let claims = jsonwebtoken::decode::<Map<String, Value>>(id_token, &key, &validation).unwrap();
    assert_eq!(claims.claims["nonce"], NONCE);
}

#[tokio::test]
async fn userinfo_answers_bearers_and_refuses_per_rfc_6750() {
    let app = TestApp::new().start().await;
    app.sign_in("alice").await;
    let f = fields_of(
        &app.authorize(&rp_request("code", &[("scope", "openid email")]))
            .await,
    );
    let tokens = code_exchange(&app, &f["code"]).await;
    let access = tokens["access_token"].as_str().unwrap();

    let got = userinfo(&app, access).await;
    assert_eq!(got.status(), 200);
    assert_eq!(got.headers()["access-control-allow-origin"], "*");
    let claims = json(got).await;
    assert_eq!(claims["email"], "alice@example.com");
    assert_eq!(claims["email_verified"], true);
    assert!(
        claims.get("given_name").is_none(),
        "profile was not granted"
    );
    let sub = claims["sub"].clone();

    let posted = app
        .http
        .post(app.url("/o/userinfo/"))
        .bearer_auth(access)
        .send()
        .await
        .unwrap();
    assert_eq!(json(posted).await["sub"], sub);
    let in_body = app
        .post_form("/o/userinfo/", &[("access_token", access)], None)
        .await;
    assert_eq!(json(in_body).await["sub"], sub);
    let both = app
        .http
        .post(app.url("/o/userinfo/"))
        .bearer_auth(access)
        .form(&[("access_token", access)])
        .send()
        .await
        .unwrap();
    assert_eq!(both.status(), 400);

    let challenge =
        |r: &reqwest::Response| r.headers()["www-authenticate"].to_str().unwrap().to_owned();
    let missing = app.http.get(app.url("/o/userinfo/")).send().await.unwrap();
    assert_eq!(missing.status(), 401);
    assert!(challenge(&missing).contains(r#"error="invalid_token""#));
    let bad = userinfo(&app, "tga_nope").await;
    assert_eq!(bad.status(), 401);
    assert!(challenge(&bad).starts_with("Bearer "));

    // No openid scope, or no user behind the token: 403 insufficient_scope.
    let plain = app.code_for_web().await;
    let web = json(
        app.token(
            &[
                ("grant_type", "authorization_code"),
                ("code", &plain),
                ("redirect_uri", WEB_REDIRECT),
                ("code_verifier", VERIFIER),
            ],
            Some(("web", SECRET)),
        )
        .await,
    )
    .await;
    let no_openid = userinfo(&app, web["access_token"].as_str().unwrap()).await;
    assert_eq!(no_openid.status(), 403);
    assert!(challenge(&no_openid).contains(r#"error="insufficient_scope""#));
    let svc = json(
        app.token(
            &[("grant_type", "client_credentials"), ("scope", "openid")],
            Some(("svc", SECRET)),
        )
        .await,
    )
    .await;
    let machine = userinfo(&app, svc["access_token"].as_str().unwrap()).await;
    assert_eq!(machine.status(), 403);

    // A revoked user is no longer described.
    let alice = app.store.user_by_username("alice").await.unwrap().unwrap();
    app.store.set_user_active(alice.id, false, 0).await.unwrap();
    let gone = userinfo(&app, access).await;
    assert_eq!(gone.status(), 401);
}

#[tokio::test]
async fn userinfo_is_a_signed_jwt_for_clients_registered_for_it() {
    let app = TestApp::new().start().await;
    app.sign_in("alice").await;
    let tokens = nonce_code_flow(&app, "rp-jwt", "https://rp3.example/cb", "openid email").await;
    let response = userinfo(&app, tokens["access_token"].as_str().unwrap()).await;
    assert_eq!(response.headers()["content-type"], "application/jwt");
    let jwt = response.text().await.unwrap();
    assert_eq!(
        jsonwebtoken::decode_header(&jwt).unwrap().alg,
        jsonwebtoken::Algorithm::ES256,
        "signed like the client's ID tokens"
    );
    let claims = verified_jwt(&app, &jwt, "rp-jwt", false).await.1;
    let as_hint = logout(&app, &[("id_token_hint", &jwt)]).await;
    assert_eq!(
        as_hint.status(),
        400,
        "a signed UserInfo answer is no ID token hint"
    );
    assert_eq!(claims["email"], "alice@example.com");
    let id = verified(&app, tokens["id_token"].as_str().unwrap(), "rp-jwt").await;
    assert_eq!(claims["sub"], id["sub"]);
}

#[tokio::test]
async fn claims_parameter_and_acr_values_shape_id_token_and_userinfo() {
    let app = TestApp::new().start().await;
    app.sign_in("alice").await;
    let claims = r#"{"userinfo":{"given_name":null},"id_token":{"email":{"essential":true}}}"#;
    let f = fields_of(
        &app.authorize(&rp_request(
            "code",
            &[
                ("scope", "openid"),
                ("claims", claims),
                ("acr_values", "urn:x"),
            ],
        ))
        .await,
    );
    let tokens = code_exchange(&app, &f["code"]).await;
    let id = verified(&app, tokens["id_token"].as_str().unwrap(), "rp").await;
    assert_eq!(id["email"], "alice@example.com");
    assert_eq!(id["acr"], tollgate::core::id_token::ACR_PASSWORD);
    assert!(id.get("given_name").is_none());
    let info = json(userinfo(&app, tokens["access_token"].as_str().unwrap()).await).await;
    assert_eq!(info["given_name"], "alice-given");
    assert!(
        info.get("email").is_none(),
        "email was asked for the ID token only"
    );
    let f = fields_of(
        &app.authorize(&rp_request("code", &[("claims", "{not json")]))
            .await,
    );
    assert_eq!(f["error"], "invalid_request");
    // An essential acr Tollgate cannot meet is a failed authentication (§5.5.1.1).
    let essential = r#"{"id_token":{"acr":{"essential":true,"values":["urn:mfa"]}}}"#;
    let f = fields_of(
        &app.authorize(&rp_request("code", &[("claims", essential)]))
            .await,
    );
    assert_eq!(f["error"], "access_denied");
    // A sub value names the only acceptable user (§5.5.1).
    let sub = id["sub"].as_str().unwrap().to_owned();
    let same = format!(r#"{{"id_token":{{"sub":{{"value":"{sub}"}}}}}}"#);
    let other = r#"{"id_token":{"sub":{"value":"someone-else"}}}"#;
    let f = fields_of(
        &app.authorize(&rp_request(
            "code",
            &[("claims", &same), ("prompt", "none")],
        ))
        .await,
    );
    assert!(f.contains_key("code"));
    let f = fields_of(
        &app.authorize(&rp_request(
            "code",
            &[("claims", other), ("prompt", "none")],
        ))
        .await,
    );
    assert_eq!(f["error"], "login_required");
}

#[tokio::test]
async fn prompt_none_max_age_and_id_token_hint() {
    let clock = ManualClock::new();
    let app = TestApp::new().clock(clock.clone()).start().await;
    let f = fields_of(
        &app.authorize(&rp_request("code", &[("prompt", "none")]))
            .await,
    );
    assert_eq!(f["error"], "login_required");

    app.sign_in("alice").await;
    let f = fields_of(&app.authorize(&rp_request("id_token", &[])).await);
    let hint = f["id_token"].clone();
    let first = verified(&app, &hint, "rp").await;
    let silent = fields_of(
        &app.authorize(&rp_request(
            "id_token",
            &[("prompt", "none"), ("id_token_hint", &hint)],
        ))
        .await,
    );
    let again = verified(&app, &silent["id_token"], "rp").await;
    assert_eq!(
        (&again["sub"], &again["auth_time"]),
        (&first["sub"], &first["auth_time"])
    );
    // max_age: a recent enough sign-in passes, an older one is asked again.
    assert!(
        fields_of(
            &app.authorize(&rp_request("code", &[("max_age", "10000")]))
                .await
        )
        .contains_key("code")
    );
    clock.advance(1);
    let stale = app
        .authorize(&rp_request("code", &[("max_age", "0")]))
        .await;
    let to_login = location(&stale);
    assert!(to_login.starts_with("/o/login/?next="), "{to_login}");
    assert!(
        !to_login.contains("max_age"),
        "the new sign-in satisfies it: {to_login}"
    );
    let f = fields_of(
        &app.authorize(&rp_request("code", &[("max_age", "0"), ("prompt", "none")]))
            .await,
    );
    assert_eq!(f["error"], "login_required");
    // prompt=login sends to the sign-in page; login_hint fills it in.
    let login = location(
        &app.authorize(&rp_request(
            "code",
            &[("prompt", "login"), ("login_hint", "bob")],
        ))
        .await,
    );
    assert!(login.contains("login_hint=bob"), "{login}");
    let page = app
        .browser
        .get(app.url(&login))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains(r#"value="bob""#),
        "the username is pre-filled"
    );

    // A hint naming someone else: not silently.
    app.sign_in("bob").await;
    let f = fields_of(
        &app.authorize(&rp_request(
            "id_token",
            &[("prompt", "none"), ("id_token_hint", &hint)],
        ))
        .await,
    );
    assert_eq!(f["error"], "login_required");
    let f = fields_of(
        &app.authorize(&rp_request(
            "id_token",
            &[("prompt", "none"), ("id_token_hint", "a.b.c")],
        ))
        .await,
    );
    assert_eq!(f["error"], "invalid_request", "a hint not issued here");
    // Interactively, a hint naming someone else sends to the sign-in page, once.
    let login = location(
        &app.authorize(&rp_request("code", &[("id_token_hint", &hint)]))
            .await,
    );
    assert!(
        login.starts_with("/o/login/") && !login.contains("id_token_hint"),
        "{login}"
    );
    // Unknown parameters and display/ui_locales/claims_locales are accepted.
    let f = fields_of(
        &app.authorize(&rp_request(
            "code",
            &[
                ("display", "popup"),
                ("ui_locales", "fr"),
                ("claims_locales", "se"),
                ("extra", "foobar"),
            ],
        ))
        .await,
    );
    assert!(f.contains_key("code"));
}

#[tokio::test]
async fn form_posted_requests_go_on_as_get_so_the_session_cookie_comes_along() {
    let app = TestApp::new().start().await;
    app.sign_in("alice").await;
    // A browser posting from the client's site sends no SameSite=Lax cookie: the
    // server answers with a 303 to the same request by GET, a top-level
    // navigation that carries it.
    let response = app
        .browser
        .post(app.url("/o/authorize/"))
        .form(&rp_request("code", &[]))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    let again = location(&response);
    assert!(again.starts_with("/o/authorize/?"), "{again}");
    let followed = app.browser.get(app.url(&again)).send().await.unwrap();
    assert!(fields_of(&followed).contains_key("code"));

    let hint = fields_of(&app.authorize(&rp_request("id_token", &[])).await)["id_token"].clone();
    let response = app
        .browser
        .post(app.url("/o/logout/"))
        .form(&[
            ("id_token_hint", hint.as_str()),
            ("post_logout_redirect_uri", RP_LOGOUT),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    assert!(location(&response).starts_with("/o/logout/?"));
}

#[tokio::test]
async fn an_hs256_client_without_a_sealed_secret_is_refused_before_anything_is_issued() {
    let app = TestApp::new().start().await;
    let unsealed = tollgate::core::model::NewApplication {
        client_id: "old-hs".into(),
        client_secret_hash: None,
        client_secret_sealed: None,
        client_type: tollgate::core::ClientType::Confidential,
        grant_types: vec![tollgate::core::GrantType::AuthorizationCode],
        redirect_uris: vec!["https://old.example/cb".into()],
        post_logout_redirect_uris: vec![],
        allowed_origins: vec![],
        algorithm: tollgate::core::SigningAlgorithm::HS256,
        userinfo_signed: false,
        skip_authorization: true,
        name: String::new(),
        owner_id: None,
        security: Default::default(),
    };
    app.store.create_application(&unsealed, 0).await.unwrap();
    app.sign_in("alice").await;
    let query = [
        ("client_id", "old-hs"),
        ("response_type", "code"),
        ("redirect_uri", "https://old.example/cb"),
        ("scope", "openid"),
        ("nonce", NONCE),
    ];
    let f = fields_of(&app.authorize(&query).await);
    assert_eq!(f["error"], "unauthorized_client");
    assert!(!f.contains_key("code"));
}

struct Department;

impl ClaimsSource for Department {
    fn id_token_claims<'a>(
        &'a self,
        context: ClaimsContext<'a>,
        mut claims: Map<String, Value>,
    ) -> ClaimsFuture<'a> {
        Box::pin(async move {
            claims.insert(
                "department".into(),
                format!("dept-of-{}", context.user.username).into(),
            );
            claims.insert("sub".into(), "forged".into());
            claims
        })
    }

    fn userinfo_claims<'a>(
        &'a self,
        context: ClaimsContext<'a>,
        mut claims: Map<String, Value>,
    ) -> ClaimsFuture<'a> {
        Box::pin(async move {
            claims.insert(
                "roles".into(),
                serde_json::json!([context.client.client_id]),
            );
            claims.remove("email");
            claims
        })
    }
}

#[tokio::test]
async fn an_application_adds_and_changes_claims_separately() {
    let app = TestApp::new()
        .provider(|p| p.claims(Department))
        .start()
        .await;
    app.sign_in("alice").await;
    let f = fields_of(&app.authorize(&rp_request("code", &[])).await);
    let tokens = code_exchange(&app, &f["code"]).await;
    let id = verified(&app, tokens["id_token"].as_str().unwrap(), "rp").await;
    assert_eq!(id["department"], "dept-of-alice");
    assert_ne!(id["sub"], "forged", "protocol claims are not overridable");
    let info = json(userinfo(&app, tokens["access_token"].as_str().unwrap()).await).await;
    assert_eq!(info["roles"], serde_json::json!(["rp"]));
    assert!(info.get("email").is_none() && info.get("department").is_none());
    assert_eq!(info["sub"], id["sub"]);
}

/// Signs alice in and returns an ID token of `rp` for her.
async fn signed_in_with_hint(app: &App) -> String {
    app.sign_in("alice").await;
    fields_of(&app.authorize(&rp_request("id_token", &[])).await)["id_token"].clone()
}

async fn logout(app: &App, query: &[(&str, &str)]) -> reqwest::Response {
    app.browser
        .get(app.url("/o/logout/"))
        .query(query)
        .send()
        .await
        .unwrap()
}

async fn still_signed_in(app: &App) -> bool {
    let f = fields_of(
        &app.authorize(&rp_request("code", &[("prompt", "none")]))
            .await,
    );
    f.contains_key("code")
}

#[tokio::test]
async fn logout_redirects_only_to_exactly_registered_uris_with_a_valid_hint() {
    let app = TestApp::new()
        .settings(|s| s.oidc_rp_initiated_logout_always_prompt = false)
        .start()
        .await;
    let hint = signed_in_with_hint(&app).await;
    let refused = |r: &reqwest::Response| {
        assert!(
            r.headers().get("location").is_none(),
            "no redirect on {}",
            r.status()
        );
        r.status()
    };
    // Each bad request: an error page, no Location, and still signed in.
    let tampered = {
        let mut parts: Vec<String> = hint.split('.').map(str::to_owned).collect();
        parts[2] = parts[2].chars().rev().collect();
        parts.join(".")
    };
    let unsigned = {
        let parts: Vec<&str> = hint.split('.').collect();
        format!("eyJhbGciOiJub25lIn0.{}.", parts[1])
    };
    let foreign = {
        let key = jsonwebtoken::EncodingKey::from_secret(b"someone else");
        let claims =
            serde_json::json!({"iss": app.base, "aud": "rp", "sub": "1", "exp": 4_000_000_000_i64});
        jsonwebtoken::encode(&jsonwebtoken::Header::default(), &claims, &key).unwrap()
    };
    for query in [
        vec![
            ("id_token_hint", hint.as_str()),
            ("post_logout_redirect_uri", "https://evil.example/bye"),
        ],
        vec![
            ("id_token_hint", hint.as_str()),
            ("post_logout_redirect_uri", "https://rp.example/bye?foo=bar"),
        ],
        vec![
            ("id_token_hint", tampered.as_str()),
            ("post_logout_redirect_uri", RP_LOGOUT),
        ],
        vec![
            ("id_token_hint", unsigned.as_str()),
            ("post_logout_redirect_uri", RP_LOGOUT),
        ],
        vec![
            ("id_token_hint", foreign.as_str()),
            ("post_logout_redirect_uri", RP_LOGOUT),
        ],
        vec![
            ("id_token_hint", hint.as_str()),
            ("client_id", "web"),
            ("post_logout_redirect_uri", RP_LOGOUT),
        ],
        vec![("post_logout_redirect_uri", RP_LOGOUT)],
    ] {
        let response = logout(&app, &query).await;
        let status = refused(&response);
        assert!(status == 400 || status == 200, "{query:?}: {status}");
        assert!(still_signed_in(&app).await, "{query:?} must not sign out");
    }
    // A redirect URI with client_id but no hint asks the user first.
    let page = logout(
        &app,
        &[("client_id", "rp"), ("post_logout_redirect_uri", RP_LOGOUT)],
    )
    .await;
    refused(&page);
    assert!(page.text().await.unwrap().contains(r#"name="allow""#));

    // The good request: back to the client with state, and the session is over.
    let response = logout(
        &app,
        &[
            ("id_token_hint", &hint),
            ("post_logout_redirect_uri", RP_LOGOUT),
            ("state", "bye state"),
        ],
    )
    .await;
    assert_eq!(location(&response), format!("{RP_LOGOUT}?state=bye+state"));
    assert!(!still_signed_in(&app).await);
    let f = fields_of(
        &app.authorize(&rp_request("code", &[("prompt", "none")]))
            .await,
    );
    assert_eq!(f["error"], "login_required");
}

#[tokio::test]
async fn logout_without_a_hint_is_confirmed_then_signs_out_and_revokes_tokens() {
    let app = TestApp::new()
        .settings(|s| s.oidc_rp_initiated_logout_always_prompt = false)
        .start()
        .await;
    app.sign_in("alice").await;
    let f = fields_of(&app.authorize(&rp_request("code", &[])).await);
    let tokens = code_exchange(&app, &f["code"]).await;
    // RP-Initiated Logout §2: without a hint the user is asked, even with always_prompt off.
    let page = logout(&app, &[]).await;
    assert_eq!(page.status(), 200);
    assert!(page.headers().get("location").is_none());
    let mut fields = hidden_fields(&page.text().await.unwrap());
    assert!(
        still_signed_in(&app).await,
        "nothing happens before the answer"
    );
    fields.push(("allow".into(), "Sign out".into()));
    let done = app
        .browser
        .post(app.url("/o/logout/"))
        .header("origin", &app.base)
        .form(&fields)
        .send()
        .await
        .unwrap();
    assert!(done.headers().get("location").is_none());
    assert!(done.text().await.unwrap().contains("You are signed out"));
    assert!(!still_signed_in(&app).await);
    let refresh = app
        .token(
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", tokens["refresh_token"].as_str().unwrap()),
            ],
            Some(("rp", SECRET)),
        )
        .await;
    assert_eq!(
        json(refresh).await["error"],
        "invalid_grant",
        "oidc_rp_initiated_logout_delete_tokens"
    );
    // The signed-in user's own hint, no redirect: signed out at once, a page says so.
    let hint = signed_in_with_hint(&app).await;
    let page = logout(&app, &[("id_token_hint", &hint)]).await;
    assert!(page.text().await.unwrap().contains("You are signed out"));
    assert!(!still_signed_in(&app).await);
}

#[tokio::test]
async fn logout_confirmation_is_csrf_protected() {
    let app = TestApp::new().start().await; // always_prompt, as DOT
    let hint = signed_in_with_hint(&app).await;
    let query = [
        ("id_token_hint", hint.as_str()),
        ("post_logout_redirect_uri", RP_LOGOUT),
        ("state", "s"),
    ];
    let page = logout(&app, &query).await;
    assert!(
        page.headers().get("location").is_none(),
        "always_prompt asks first"
    );
    let html = page.text().await.unwrap();
    let mut fields = hidden_fields(&html);
    // Without a valid CSRF token the confirmation is refused.
    let forged: Vec<(String, String)> = fields
        .iter()
        .filter(|(k, _)| k != "csrf_token")
        .cloned()
        .chain([
            ("csrf_token".into(), "forged".into()),
            ("allow".into(), "Sign out".into()),
        ])
        .collect();
    let refused = app
        .browser
        .post(app.url("/o/logout/"))
        .header("origin", &app.base)
        .form(&forged)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);
    assert!(still_signed_in(&app).await);
    // "Stay signed in": nothing happens.
    let stay = app
        .browser
        .post(app.url("/o/logout/"))
        .header("origin", &app.base)
        .header("sec-fetch-site", "same-origin")
        .form(&fields)
        .send()
        .await
        .unwrap();
    assert!(stay.headers().get("location").is_none());
    assert!(still_signed_in(&app).await);
    fields.push(("allow".into(), "Sign out".into()));
    let confirmed = app
        .browser
        .post(app.url("/o/logout/"))
        .header("origin", &app.base)
        .header("sec-fetch-site", "same-origin")
        .form(&fields)
        .send()
        .await
        .unwrap();
    assert_eq!(location(&confirmed), format!("{RP_LOGOUT}?state=s"));
    assert!(!still_signed_in(&app).await);
}
