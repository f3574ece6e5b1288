//! The token endpoint over HTTP: client authentication, every grant, rotation,
//! replay, CORS, and answers that are never cached.

use crate::support::*;

async fn exchange(app: &App, code: &str, verifier: &str) -> reqwest::Response {
    app.token(
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", WEB_REDIRECT),
            ("code_verifier", verifier),
        ],
        Some(("web", SECRET)),
    )
    .await
}

async fn introspect(app: &App, token: &str) -> serde_json::Value {
    json(
        app.post_form("/o/introspect/", &[("token", token)], Some(("svc", SECRET)))
            .await,
    )
    .await
}

#[tokio::test]
async fn code_exchange_with_pkce_gives_tokens_not_cached() {
    let app = TestApp::new().start().await;
    let code = app.code_for_web().await;
    let response = exchange(&app, &code, VERIFIER).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
    assert_eq!(response.headers()["pragma"], "no-cache");
    let body = json(response).await;
    assert!(body["access_token"].as_str().unwrap().starts_with("tga_"));
    assert!(body["refresh_token"].as_str().unwrap().starts_with("tgr_"));
    assert_eq!(
        (
            body["token_type"].as_str(),
            body["expires_in"].as_u64(),
            body["scope"].as_str()
        ),
        (Some("Bearer"), Some(36000), Some("read write"))
    );
    let info = introspect(&app, body["access_token"].as_str().unwrap()).await;
    assert_eq!(
        (
            info["active"].as_bool(),
            info["username"].as_str(),
            info["client_id"].as_str()
        ),
        (Some(true), Some("alice"), Some("web"))
    );
}

#[tokio::test]
async fn code_replay_is_refused_and_revokes_the_first_tokens() {
    let app = TestApp::new().start().await;
    let code = app.code_for_web().await;
    let first = json(exchange(&app, &code, VERIFIER).await).await;
    let replay = exchange(&app, &code, VERIFIER).await;
    assert_eq!(replay.status(), 400);
    assert_eq!(json(replay).await["error"], "invalid_grant");
    assert_eq!(
        introspect(&app, first["access_token"].as_str().unwrap()).await["active"],
        false
    );
    let refresh = app
        .token(
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", first["refresh_token"].as_str().unwrap()),
            ],
            Some(("web", SECRET)),
        )
        .await;
    assert_eq!(json(refresh).await["error"], "invalid_grant");
}

#[tokio::test]
async fn code_checks_verifier_redirect_uri_client_and_single_use() {
    let app = TestApp::new().start().await;
    type Case<'a> = (
        &'a [(&'a str, &'a str)],
        Option<(&'a str, &'a str)>,
        u16,
        &'a str,
    );
    const WRONG_VERIFIER: &str = "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx";
    let cases: [Case; 4] = [
        (
            &[
                ("redirect_uri", WEB_REDIRECT),
                ("code_verifier", WRONG_VERIFIER),
            ],
            Some(("web", SECRET)),
            400,
            "invalid_grant",
        ),
        (
            &[("redirect_uri", WEB_REDIRECT)],
            Some(("web", SECRET)),
            400,
            "invalid_request",
        ),
        (
            &[
                ("redirect_uri", "https://app.example/other?x=1"),
                ("code_verifier", VERIFIER),
            ],
            Some(("web", SECRET)),
            400,
            "invalid_grant",
        ),
        (
            &[("code_verifier", VERIFIER)],
            Some(("web", SECRET)),
            400,
            "invalid_grant",
        ),
    ];
    for (extra, auth, status, error) in cases {
        let code = app.code_for_web().await;
        let mut form = vec![
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
        ];
        form.extend_from_slice(extra);
        let response = app.token(&form, auth).await;
        assert_eq!(response.status(), status, "{extra:?}");
        assert_eq!(json(response).await["error"], error, "{extra:?}");
        // Each failure burned the code.
        assert_eq!(
            json(exchange(&app, &code, VERIFIER).await).await["error"],
            "invalid_grant"
        );
    }
    // Another client presenting the code finds nothing and does not burn it.
    let code = app.code_for_web().await;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", WEB_REDIRECT),
        ("code_verifier", VERIFIER),
    ];
    let stolen = app.token(&form, Some(("trusted", SECRET))).await;
    assert_eq!(json(stolen).await["error"], "invalid_grant");
    assert_eq!(exchange(&app, &code, VERIFIER).await.status(), 200);
    let unknown = exchange(&app, "tgc_nonsense", VERIFIER).await;
    assert_eq!(json(unknown).await["error"], "invalid_grant");
}

#[tokio::test]
async fn client_authentication_rules() {
    let app = TestApp::new().start().await;
    let cc = [("grant_type", "client_credentials")];
    let ok = app.token(&cc, Some(("svc", SECRET))).await;
    assert_eq!(ok.status(), 200);
    let ok = app
        .token(
            &[
                ("grant_type", "client_credentials"),
                ("client_id", "svc"),
                ("client_secret", SECRET),
            ],
            None,
        )
        .await;
    assert_eq!(ok.status(), 200, "client_secret_post");

    let wrong = app.token(&cc, Some(("svc", "tgs_wrong"))).await;
    assert_eq!(wrong.status(), 401);
    assert!(
        wrong.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Basic")
    );
    assert_eq!(json(wrong).await["error"], "invalid_client");
    for form in [
        vec![("grant_type", "client_credentials")],
        vec![("grant_type", "client_credentials"), ("client_id", "svc")],
        vec![
            ("grant_type", "client_credentials"),
            ("client_id", "nobody"),
            ("client_secret", SECRET),
        ],
        vec![
            ("grant_type", "client_credentials"),
            ("client_id", "spa"),
            ("client_secret", "x"),
        ],
    ] {
        let response = app.token(&form, None).await;
        assert_eq!(response.status(), 401, "{form:?}");
        assert_eq!(json(response).await["error"], "invalid_client");
    }
    let two_methods = app
        .token(
            &[
                ("grant_type", "client_credentials"),
                ("client_secret", SECRET),
            ],
            Some(("svc", SECRET)),
        )
        .await;
    assert_eq!(json(two_methods).await["error"], "invalid_request");
    // Basic credentials are form-urlencoded (RFC 6749 §2.3.1): an encoded id is decoded.
    let encoded = app.token(&cc, Some(("sv%63", SECRET))).await;
    assert_eq!(encoded.status(), 200);
}

#[tokio::test]
async fn client_credentials_has_no_refresh_token_and_checks_scope() {
    let app = TestApp::new().start().await;
    let body = json(
        app.token(
            &[("grant_type", "client_credentials"), ("scope", "write")],
            Some(("svc", SECRET)),
        )
        .await,
    )
    .await;
    assert_eq!(body["scope"], "write");
    assert!(body.get("refresh_token").is_none());
    let info = introspect(&app, body["access_token"].as_str().unwrap()).await;
    assert!(info.get("username").is_none() && info["client_id"] == "svc");
    let bad = app
        .token(
            &[("grant_type", "client_credentials"), ("scope", "admin")],
            Some(("svc", SECRET)),
        )
        .await;
    assert_eq!(json(bad).await["error"], "invalid_scope");
}

#[tokio::test]
async fn grants_must_be_registered_and_known() {
    let app = TestApp::new().start().await;
    let response = app
        .token(
            &[
                ("grant_type", "password"),
                ("username", "alice"),
                ("password", PASSWORD),
            ],
            Some(("svc", SECRET)),
        )
        .await;
    assert_eq!(json(response).await["error"], "unauthorized_client");
    let response = app
        .token(
            &[("grant_type", "client_credentials")],
            Some(("web", SECRET)),
        )
        .await;
    assert_eq!(json(response).await["error"], "unauthorized_client");
    let response = app
        .token(&[("grant_type", "foo")], Some(("svc", SECRET)))
        .await;
    assert_eq!(response.status(), 400);
    assert_eq!(json(response).await["error"], "unsupported_grant_type");
}

#[tokio::test]
async fn password_grant_and_its_switch() {
    let app = TestApp::new().start().await;
    let good = app
        .token(
            &[
                ("grant_type", "password"),
                ("username", "alice"),
                ("password", PASSWORD),
                ("scope", "read"),
            ],
            Some(("pw", SECRET)),
        )
        .await;
    assert_eq!(good.status(), 200);
    assert!(json(good).await["refresh_token"].is_string());
    for (user, password) in [
        ("alice", "wrong"),
        ("nobody", PASSWORD),
        ("mallory", PASSWORD),
    ] {
        let bad = app
            .token(
                &[
                    ("grant_type", "password"),
                    ("username", user),
                    ("password", password),
                ],
                Some(("pw", SECRET)),
            )
            .await;
        assert_eq!(bad.status(), 400);
        assert_eq!(json(bad).await["error"], "invalid_grant", "{user}");
    }
    let off = TestApp::new()
        .settings(|s| s.password_grant_enabled = false)
        .start()
        .await;
    let refused = off
        .token(
            &[
                ("grant_type", "password"),
                ("username", "alice"),
                ("password", PASSWORD),
            ],
            Some(("pw", SECRET)),
        )
        .await;
    assert_eq!(json(refused).await["error"], "unauthorized_client");
}

async fn password_tokens(app: &App) -> serde_json::Value {
    json(
        app.token(
            &[
                ("grant_type", "password"),
                ("username", "alice"),
                ("password", PASSWORD),
                ("scope", "read write"),
            ],
            Some(("pw", SECRET)),
        )
        .await,
    )
    .await
}

async fn refresh(app: &App, token: &str, scope: Option<&str>) -> reqwest::Response {
    let mut form = vec![("grant_type", "refresh_token"), ("refresh_token", token)];
    if let Some(scope) = scope {
        form.push(("scope", scope));
    }
    app.token(&form, Some(("pw", SECRET))).await
}

#[tokio::test]
async fn refresh_rotates_narrows_and_never_widens() {
    let app = TestApp::new().start().await;
    let first = password_tokens(&app).await;
    let old_rt = first["refresh_token"].as_str().unwrap();
    let second = json(refresh(&app, old_rt, Some("read")).await).await;
    assert_eq!(second["scope"], "read");
    let new_rt = second["refresh_token"].as_str().unwrap();
    assert_ne!(new_rt, old_rt, "rotated");
    assert_eq!(
        introspect(&app, first["access_token"].as_str().unwrap()).await["active"],
        false,
        "the old access token goes"
    );
    // The original scope stays available to later refreshes; a wider one never is.
    let third = json(refresh(&app, new_rt, None).await).await;
    assert_eq!(third["scope"], "read write");
    let wider = refresh(
        &app,
        third["refresh_token"].as_str().unwrap(),
        Some("read write introspection"),
    )
    .await;
    assert_eq!(json(wider).await["error"], "invalid_scope");
    // A refresh token belongs to its client.
    let stolen = app
        .token(
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", third["refresh_token"].as_str().unwrap()),
            ],
            Some(("web", SECRET)),
        )
        .await;
    assert_eq!(json(stolen).await["error"], "invalid_grant");
}

#[tokio::test]
async fn reuse_after_rotation_revokes_the_family() {
    let app = TestApp::new().start().await;
    let first = password_tokens(&app).await;
    let old_rt = first["refresh_token"].as_str().unwrap();
    let second = json(refresh(&app, old_rt, None).await).await;
    let replay = refresh(&app, old_rt, None).await;
    assert_eq!(json(replay).await["error"], "invalid_grant");
    // The attacker's replay cost the legitimate holder the whole family.
    let after = refresh(&app, second["refresh_token"].as_str().unwrap(), None).await;
    assert_eq!(json(after).await["error"], "invalid_grant");
    assert_eq!(
        introspect(&app, second["access_token"].as_str().unwrap()).await["active"],
        false
    );
}

#[tokio::test]
async fn without_reuse_protection_a_replay_fails_alone() {
    let app = TestApp::new()
        .settings(|s| s.refresh_token_reuse_protection = false)
        .start()
        .await;
    let first = password_tokens(&app).await;
    let second = json(refresh(&app, first["refresh_token"].as_str().unwrap(), None).await).await;
    assert_eq!(
        json(refresh(&app, first["refresh_token"].as_str().unwrap(), None).await).await["error"],
        "invalid_grant"
    );
    assert_eq!(
        refresh(&app, second["refresh_token"].as_str().unwrap(), None)
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn within_the_grace_period_a_rotated_token_still_refreshes() {
    let app = TestApp::new()
        .settings(|s| s.refresh_token_grace_period_seconds = 120)
        .start()
        .await;
    let first = password_tokens(&app).await;
    let rt = first["refresh_token"].as_str().unwrap();
    assert_eq!(refresh(&app, rt, None).await.status(), 200);
    let again = refresh(&app, rt, None).await;
    assert_eq!(
        again.status(),
        200,
        "a retry inside the grace period succeeds"
    );
    // A revoked token, though, has no grace.
    let other = password_tokens(&app).await;
    let rt = other["refresh_token"].as_str().unwrap();
    assert_eq!(
        app.post_form("/o/revoke_token/", &[("token", rt)], Some(("pw", SECRET)))
            .await
            .status(),
        200
    );
    assert_eq!(
        json(refresh(&app, rt, None).await).await["error"],
        "invalid_grant"
    );
}

#[tokio::test]
async fn concurrent_refreshes_of_one_token_mint_one_successor() {
    let app = TestApp::new().start().await;
    let first = password_tokens(&app).await;
    let rt = first["refresh_token"].as_str().unwrap().to_owned();
    let (a, b) = tokio::join!(refresh(&app, &rt, None), refresh(&app, &rt, None));
    let statuses = [a.status().as_u16(), b.status().as_u16()];
    assert!(
        statuses.contains(&400),
        "no grace period: at most one succeeds, got {statuses:?}"
    );
}

#[tokio::test]
async fn without_rotation_the_refresh_token_is_kept() {
    let app = TestApp::new()
        .settings(|s| s.rotate_refresh_token = false)
        .start()
        .await;
    let first = password_tokens(&app).await;
    let rt = first["refresh_token"].as_str().unwrap();
    let second = json(refresh(&app, rt, None).await).await;
    assert_eq!(second["refresh_token"], rt);
    assert_eq!(
        introspect(&app, first["access_token"].as_str().unwrap()).await["active"],
        false
    );
    assert_eq!(refresh(&app, rt, None).await.status(), 200);
}

#[tokio::test]
async fn cors_only_for_a_clients_registered_origins() {
    let app = TestApp::new().start().await;
    app.sign_in("alice").await;
    let response = app
        .consent(
            &[
                ("client_id", "spa"),
                ("response_type", "code"),
                ("code_challenge", CHALLENGE),
                ("code_challenge_method", "S256"),
            ],
            true,
        )
        .await;
    let code = location_params(&location(&response))["code"].clone();
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("client_id", "spa"),
        ("code_verifier", VERIFIER),
    ];
    let allowed = app
        .http
        .post(app.url("/o/token/"))
        .header("origin", "https://spa.example")
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(allowed.status(), 200);
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "https://spa.example"
    );
    let other = app
        .http
        .post(app.url("/o/token/"))
        .header("origin", "https://evil.example")
        .form(&[("grant_type", "client_credentials")])
        .basic_auth("svc", Some(SECRET))
        .send()
        .await
        .unwrap();
    assert!(other.headers().get("access-control-allow-origin").is_none());

    let preflight = |origin: &'static str| {
        app.http
            .request(reqwest::Method::OPTIONS, app.url("/o/token/"))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .send()
    };
    let ok = preflight("https://spa.example").await.unwrap();
    assert_eq!(ok.status(), 204);
    assert_eq!(
        ok.headers()["access-control-allow-origin"],
        "https://spa.example"
    );
    assert!(
        ok.headers()["access-control-allow-methods"]
            .to_str()
            .unwrap()
            .contains("POST")
    );
    let refused = preflight("https://evil.example").await.unwrap();
    assert!(
        refused
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
}
