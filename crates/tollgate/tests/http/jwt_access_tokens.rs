//! RFC 9068 JWT access tokens over HTTP, on SQLite and PostgreSQL: signed with
//! the published RS256 key, `typ: at+jwt`, the audience from the resources
//! (or this server), and still revocable and introspectable like opaque ones.

use crate::support::*;
use tollgate::AccessTokenFormat;

async fn jwt_access_tokens_carry_their_audience_and_stay_revocable(db: Db) {
    let Some(app) = TestApp::new()
        .settings(|s| s.access_token_format = AccessTokenFormat::Jwt)
        .on(db, "rfc9068")
        .start()
        .await
    else {
        return;
    };
    // A client's own token, for one resource: its audience; the client is the subject.
    let response = app
        .token(
            &[
                ("grant_type", "client_credentials"),
                ("scope", "read"),
                ("resource", "https://api.example/v1"),
            ],
            Some(("svc", SECRET)),
        )
        .await;
    assert_eq!(response.status(), 200);
    let token = json(response).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let (header, claims) = verified_jwt(&app, &token, "https://api.example/v1", true).await;
    assert_eq!(header.typ.as_deref(), Some("at+jwt"));
    assert_eq!(header.alg, jsonwebtoken::Algorithm::RS256);
    assert_eq!(claims["sub"], "svc");
    assert_eq!(claims["client_id"], "svc");
    assert_eq!(claims["scope"], "read");
    assert!(claims["jti"].as_str().is_some_and(|j| !j.is_empty()));
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        36_000
    );
    assert!(claims.get("auth_time").is_none());

    // A user's token without resources: for this server; the user is the subject.
    let response = app
        .token(
            &[
                ("grant_type", "password"),
                ("username", "alice"),
                ("password", PASSWORD),
            ],
            Some(("pw", SECRET)),
        )
        .await;
    let tokens = json(response).await;
    let user_token = tokens["access_token"].as_str().unwrap();
    let (_, claims) = verified_jwt(&app, user_token, &app.base, true).await;
    assert_eq!(claims["client_id"], "pw");
    let alice = app.store.user_by_username("alice").await.unwrap().unwrap();
    assert_eq!(claims["sub"], alice.id.to_string());
    assert!(claims["auth_time"].is_i64());

    // Only the hash is kept, yet introspection knows it and revocation ends it.
    let introspect = |token: String| {
        let request = app
            .http
            .post(app.url("/o/introspect/"))
            .basic_auth("svc", Some(SECRET));
        async move { json(request.form(&[("token", token)]).send().await.unwrap()).await }
    };
    assert_eq!(introspect(user_token.to_owned()).await["active"], true);
    let revoked = app
        .post_form(
            "/o/revoke_token/",
            &[("token", user_token)],
            Some(("pw", SECRET)),
        )
        .await;
    assert_eq!(revoked.status(), 200);
    assert_eq!(introspect(user_token.to_owned()).await["active"], false);
}

on_both_databases!(jwt_access_tokens_carry_their_audience_and_stay_revocable);
