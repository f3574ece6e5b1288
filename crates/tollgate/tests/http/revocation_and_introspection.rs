//! RFC 7009 revocation and RFC 7662 introspection over HTTP.

use crate::support::*;

async fn password_tokens(app: &App) -> (String, String) {
    let body = json(
        app.token(
            &[
                ("grant_type", "password"),
                ("username", "alice"),
                ("password", PASSWORD),
            ],
            Some(("pw", SECRET)),
        )
        .await,
    )
    .await;
    (
        body["access_token"].as_str().unwrap().to_owned(),
        body["refresh_token"].as_str().unwrap().to_owned(),
    )
}

async fn active(app: &App, token: &str) -> bool {
    let body = json(
        app.post_form("/o/introspect/", &[("token", token)], Some(("svc", SECRET)))
            .await,
    )
    .await;
    body["active"].as_bool().unwrap()
}

async fn refreshes(app: &App, rt: &str) -> bool {
    app.token(
        &[("grant_type", "refresh_token"), ("refresh_token", rt)],
        Some(("pw", SECRET)),
    )
    .await
    .status()
        == 200
}

#[tokio::test]
async fn revoking_an_access_token_revokes_its_refresh_token() {
    let app = TestApp::new().start().await;
    let (at, rt) = password_tokens(&app).await;
    let response = app
        .post_form(
            "/o/revoke_token/",
            &[("token", &at), ("token_type_hint", "access_token")],
            Some(("pw", SECRET)),
        )
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
    assert!(response.text().await.unwrap().is_empty());
    assert!(!active(&app, &at).await);
    assert!(!refreshes(&app, &rt).await);
}

#[tokio::test]
async fn revoking_a_refresh_token_revokes_its_access_token_hint_or_not() {
    let app = TestApp::new().start().await;
    for hint in ["refresh_token", "access_token", "bad_hint"] {
        let (at, rt) = password_tokens(&app).await;
        let response = app
            .post_form(
                "/o/revoke_token/",
                &[("token", &rt), ("token_type_hint", hint)],
                Some(("pw", SECRET)),
            )
            .await;
        assert_eq!(response.status(), 200, "{hint}");
        assert!(!refreshes(&app, &rt).await, "{hint}");
        assert!(!active(&app, &at).await, "{hint}");
    }
}

#[tokio::test]
async fn another_clients_token_or_an_unknown_one_changes_nothing() {
    let app = TestApp::new().start().await;
    let (at, rt) = password_tokens(&app).await;
    for token in [&at, &rt] {
        let response = app
            .post_form(
                "/o/revoke_token/",
                &[("token", token)],
                Some(("svc", SECRET)),
            )
            .await;
        assert_eq!(response.status(), 200);
    }
    assert!(active(&app, &at).await);
    assert!(refreshes(&app, &rt).await);
    let unknown = app
        .post_form(
            "/o/revoke_token/",
            &[("token", "tga_unknown")],
            Some(("pw", SECRET)),
        )
        .await;
    assert_eq!(unknown.status(), 200);
}

#[tokio::test]
async fn revocation_needs_client_authentication_and_a_token() {
    let app = TestApp::new().start().await;
    let (at, _) = password_tokens(&app).await;
    let anonymous = app
        .post_form("/o/revoke_token/", &[("token", &at)], None)
        .await;
    assert_eq!(anonymous.status(), 401);
    assert_eq!(json(anonymous).await["error"], "invalid_client");
    let wrong = app
        .post_form(
            "/o/revoke_token/",
            &[("token", &at)],
            Some(("pw", "tgs_wrong")),
        )
        .await;
    assert_eq!(wrong.status(), 401);
    assert!(active(&app, &at).await);
    let missing = app
        .post_form("/o/revoke_token/", &[], Some(("pw", SECRET)))
        .await;
    assert_eq!(json(missing).await["error"], "invalid_request");
}

#[tokio::test]
async fn introspection_describes_active_tokens() {
    let app = TestApp::new().start().await;
    let (at, rt) = password_tokens(&app).await;
    let user = app.store.user_by_username("alice").await.unwrap().unwrap();
    let body = json(
        app.post_form("/o/introspect/", &[("token", &at)], Some(("svc", SECRET)))
            .await,
    )
    .await;
    assert_eq!(body["active"], true);
    assert_eq!(body["scope"], "read");
    assert_eq!(body["client_id"], "pw");
    assert_eq!(body["username"], "alice");
    assert_eq!(body["sub"], user.id.to_string());
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["iss"], app.base);
    let (exp, iat) = (body["exp"].as_i64().unwrap(), body["iat"].as_i64().unwrap());
    assert_eq!(exp - iat, 36000);
    let body = json(
        app.post_form(
            "/o/introspect/",
            &[("token", &rt), ("token_type_hint", "refresh_token")],
            Some(("svc", SECRET)),
        )
        .await,
    )
    .await;
    assert_eq!(
        (body["active"].as_bool(), body["token_type"].as_str()),
        (Some(true), Some("refresh_token"))
    );
    // A deactivated user's tokens are no longer active.
    let user = app.store.user_by_username("alice").await.unwrap().unwrap();
    app.store.set_user_active(user.id, false, 0).await.unwrap();
    let body = json(
        app.post_form("/o/introspect/", &[("token", &at)], Some(("svc", SECRET)))
            .await,
    )
    .await;
    assert_eq!(body, serde_json::json!({ "active": false }));
    app.store.set_user_active(user.id, true, 0).await.unwrap();
    for token in ["tga_unknown", "garbage"] {
        let body = json(
            app.post_form("/o/introspect/", &[("token", token)], Some(("svc", SECRET)))
                .await,
        )
        .await;
        assert_eq!(body, serde_json::json!({ "active": false }));
    }
}

#[tokio::test]
async fn introspection_is_for_clients_and_introspection_bearers_only() {
    let app = TestApp::new().start().await;
    let (at, _) = password_tokens(&app).await;
    let anonymous = app
        .post_form("/o/introspect/", &[("token", &at)], None)
        .await;
    assert_eq!(anonymous.status(), 401);
    let public = app
        .post_form(
            "/o/introspect/",
            &[("token", &at), ("client_id", "spa")],
            None,
        )
        .await;
    assert_eq!(public.status(), 401, "a public client cannot authenticate");

    let bearer = |token: String| {
        let app = &app;
        let at = at.clone();
        async move {
            app.http
                .post(app.url("/o/introspect/"))
                .bearer_auth(token)
                .form(&[("token", at.as_str())])
                .send()
                .await
                .unwrap()
        }
    };
    let plain = json(
        app.token(
            &[("grant_type", "client_credentials"), ("scope", "read")],
            Some(("svc", SECRET)),
        )
        .await,
    )
    .await;
    // RFC 6750 §3.1: a token without the scope is 403 insufficient_scope, an
    // unknown one 401 invalid_token, each named in the challenge.
    let refused = bearer(plain["access_token"].as_str().unwrap().to_owned()).await;
    assert_eq!(refused.status(), 403);
    let challenge = refused.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        challenge.starts_with("Bearer") && challenge.contains(r#"error="insufficient_scope""#),
        "{challenge}"
    );
    assert_eq!(json(refused).await["error"], "insufficient_scope");
    let unknown = bearer("tga_unknown".to_owned()).await;
    assert_eq!(unknown.status(), 401);
    assert!(
        unknown.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .contains(r#"error="invalid_token""#)
    );
    let scoped = json(
        app.token(
            &[
                ("grant_type", "client_credentials"),
                ("scope", "introspection"),
            ],
            Some(("svc", SECRET)),
        )
        .await,
    )
    .await;
    let allowed = bearer(scoped["access_token"].as_str().unwrap().to_owned()).await;
    assert_eq!(allowed.status(), 200);
    assert_eq!(json(allowed).await["active"], true);
    let missing = app
        .post_form("/o/introspect/", &[], Some(("svc", SECRET)))
        .await;
    assert_eq!(json(missing).await["error"], "invalid_request");
}

#[tokio::test]
async fn authorization_server_metadata_at_both_paths() {
    let app = TestApp::new().start().await;
    for path in [
        "/.well-known/oauth-authorization-server",
        "/o/.well-known/oauth-authorization-server",
    ] {
        let response = app.http.get(app.url(path)).send().await.unwrap();
        assert_eq!(response.status(), 200, "{path}");
        assert_eq!(response.headers()["access-control-allow-origin"], "*");
        let doc = json(response).await;
        assert_eq!(doc["issuer"], app.base, "byte for byte");
        for (field, path) in [
            ("authorization_endpoint", "/o/authorize/"),
            ("token_endpoint", "/o/token/"),
            ("revocation_endpoint", "/o/revoke_token/"),
            ("introspection_endpoint", "/o/introspect/"),
        ] {
            assert_eq!(doc[field], format!("{}{path}", app.base));
            // Every advertised endpoint answers.
            let probe = app.http.post(app.url(path)).send().await.unwrap();
            assert_ne!(probe.status(), 404, "{field}");
        }
        assert_eq!(
            doc["code_challenge_methods_supported"],
            serde_json::json!(["S256"])
        );
        assert_eq!(doc["authorization_response_iss_parameter_supported"], true);
        assert!(
            doc["grant_types_supported"]
                .as_array()
                .unwrap()
                .contains(&"password".into())
        );
        assert_eq!(
            doc["response_modes_supported"],
            serde_json::json!(["query", "fragment", "form_post"])
        );
    }
    let strict = TestApp::new()
        .settings(|s| {
            s.password_grant_enabled = false;
            s.pkce_plain_allowed = true;
        })
        .start()
        .await;
    let doc = json(
        strict
            .http
            .get(strict.url("/.well-known/oauth-authorization-server"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(
        !doc["grant_types_supported"]
            .as_array()
            .unwrap()
            .contains(&"password".into())
    );
    assert_eq!(
        doc["code_challenge_methods_supported"],
        serde_json::json!(["S256", "plain"])
    );
}
