//! The application's own routes protected by the provider's tokens, over real
//! HTTP: RFC 6750 challenges, scope rules per method, the form body, the query
//! string refused, the session variant, the token cache, remote introspection
//! and RFC 9728 metadata.

use std::time::Duration;

use crate::support::*;
use axum::http::Method;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};
use tollgate::Provider;
use tollgate::resource::{
    AccessToken, IntrospectionAuth, ProtectedResource, RemoteIntrospection, RequireScopes,
    ResourceServer, SignedInUser,
};

async fn validate_by_hand(
    axum::Extension(server): axum::Extension<ResourceServer>,
    token: String,
) -> &'static str {
    match server.validate(&token).await {
        Ok(Some(_)) => "valid",
        Ok(None) => "invalid",
        Err(_) => "unavailable",
    }
}

async fn whoami(token: AccessToken) -> Json<Value> {
    Json(json!({
        "sub": token.subject(),
        "username": token.username(),
        "client_id": token.client_id(),
        "scope": token.scopes().to_string(),
        "email": token.user().map(|u| u.email.clone()),
    }))
}

async fn who(user: Option<SignedInUser>, token: Option<AccessToken>) -> Json<Value> {
    Json(json!({
        "session": user.map(|u| u.0.username),
        "token": token.map(|t| t.client_id().to_owned()),
    }))
}

#[derive(Clone)]
struct AppUser;

/// Stands for the application's session middleware: `x-app-user: yes` is signed in.
async fn app_login(
    mut request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    if request
        .headers()
        .get("x-app-user")
        .is_some_and(|v| v == "yes")
    {
        request.extensions_mut().insert(AppUser);
    }
    next.run(request).await
}

fn api(provider: &Provider) -> Router {
    let rw = Router::new()
        .route("/api/rw", get(whoami).post(whoami))
        .route_layer(RequireScopes::read_write("read", "write"));
    let notes = Router::new()
        .route("/api/notes", get(whoami).put(whoami))
        .route_layer(RequireScopes::resource("notes"));
    let admin = Router::new()
        .route("/api/admin", get(whoami).delete(whoami).post(whoami))
        .route_layer(
            RequireScopes::by_method()
                .on(Method::GET, [&["admin"][..], &["audit"]])
                .on(Method::DELETE, [&["admin", "write"][..]]),
        );
    let any = Router::new()
        .route("/api/any", get(whoami))
        .route_layer(RequireScopes::all::<&str>([]));
    let session = Router::new()
        .route("/api/session", get(who).post(who))
        .route_layer(RequireScopes::all(["read"]).or_session());
    // The application's own login: its middleware marks the request.
    let app_session = Router::new()
        .route("/api/app-session", get(who))
        .route_layer(
            RequireScopes::all(["read"])
                .or_signed_in_by(|parts| parts.extensions.get::<AppUser>().is_some()),
        )
        .layer(axum::middleware::from_fn(app_login));
    let plain = Router::new().route("/api/plain", get(whoami));
    let optional = Router::new().route("/api/optional", get(who));
    // An application validating a token itself, as for a WebSocket's first message.
    let by_hand = Router::new().route("/api/validate", axum::routing::post(validate_by_hand));
    let cached = Router::new()
        .merge(rw)
        .merge(notes)
        .merge(admin)
        .merge(any)
        .merge(session)
        .merge(app_session)
        .merge(plain)
        .merge(optional)
        .merge(by_hand)
        .layer(provider.resource_server().accept_form_body());
    let uncached = Router::new()
        .route("/fresh/any", get(whoami))
        .route_layer(RequireScopes::all::<&str>([]))
        .layer(provider.resource_server().cache_for(Duration::ZERO));
    cached.merge(uncached)
}

fn settings(s: &mut tollgate::Settings) {
    for scope in ["notes:read", "notes:write", "admin", "audit"] {
        s.scopes.insert(scope.into(), format!("The {scope} scope"));
    }
}

async fn app() -> App {
    TestApp::new()
        .settings(settings)
        .provider(|b| {
            b.protected_resource(
                ProtectedResource::new("https://api.example/v1").scopes(["notes:read"]),
            )
        })
        .api(api)
        .start()
        .await
}

/// A token for alice through the password grant, with `scope`.
async fn user_token(app: &App, scope: &str) -> String {
    let response = app
        .token(
            &[
                ("grant_type", "password"),
                ("username", "alice"),
                ("password", PASSWORD),
                ("scope", scope),
            ],
            Some(("pw", SECRET)),
        )
        .await;
    assert_eq!(response.status(), 200);
    json(response).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn call(app: &App, method: Method, path: &str, token: Option<&str>) -> reqwest::Response {
    let mut request = app.http.request(method, app.url(path));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.unwrap()
}

async fn status(app: &App, method: Method, path: &str, token: Option<&str>) -> u16 {
    call(app, method, path, token).await.status().as_u16()
}

fn challenge(response: &reqwest::Response) -> String {
    response
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default()
}

#[tokio::test]
async fn no_token_gets_a_bare_challenge_naming_the_metadata() {
    let app = app().await;
    let response = call(&app, Method::GET, "/api/rw", None).await;
    assert_eq!(response.status(), 401);
    let c = challenge(&response);
    assert!(
        c.starts_with(&format!("Bearer realm=\"{}\"", app.base)),
        "{c}"
    );
    assert!(!c.contains("error="), "no error code without a token: {c}");
    assert!(
        c.contains(
            "resource_metadata=\"https://api.example/.well-known/oauth-protected-resource/v1\""
        ),
        "{c}"
    );
    // The extractor alone says the same.
    assert_eq!(status(&app, Method::GET, "/api/plain", None).await, 401);
}

#[tokio::test]
async fn a_bad_token_is_invalid_token() {
    let app = app().await;
    for path in ["/api/rw", "/api/plain", "/api/optional"] {
        let response = call(&app, Method::GET, path, Some("tga_made-up")).await;
        assert_eq!(response.status(), 401, "{path}");
        assert!(
            challenge(&response).contains("error=\"invalid_token\""),
            "{path}"
        );
        assert_eq!(json(response).await["error"], "invalid_token");
    }
}

#[tokio::test]
async fn read_and_write_scopes_follow_the_method() {
    let app = app().await;
    let read = user_token(&app, "read").await;
    let response = call(&app, Method::GET, "/api/rw", Some(&read)).await;
    assert_eq!(response.status(), 200);
    let body = json(response).await;
    assert_eq!(body["username"], "alice");
    assert_eq!(body["client_id"], "pw");
    assert_eq!(body["email"], "alice@example.com");
    assert!(body["sub"].as_str().is_some_and(|s| !s.is_empty()));
    let refused = call(&app, Method::POST, "/api/rw", Some(&read)).await;
    assert_eq!(refused.status(), 403);
    let c = challenge(&refused);
    assert!(
        c.contains("error=\"insufficient_scope\"") && c.contains("scope=\"write\""),
        "{c}"
    );
    let write = user_token(&app, "write").await;
    assert_eq!(
        status(&app, Method::POST, "/api/rw", Some(&write)).await,
        200
    );
    assert_eq!(
        status(&app, Method::GET, "/api/rw", Some(&write)).await,
        403
    );
}

#[tokio::test]
async fn resource_scopes_and_alternatives_per_method() {
    let app = app().await;
    let notes_read = user_token(&app, "notes:read").await;
    assert_eq!(
        status(&app, Method::GET, "/api/notes", Some(&notes_read)).await,
        200
    );
    let put = call(&app, Method::PUT, "/api/notes", Some(&notes_read)).await;
    assert_eq!(put.status(), 403);
    assert!(challenge(&put).contains("scope=\"notes:write\""));

    let audit = user_token(&app, "audit").await;
    assert_eq!(
        status(&app, Method::GET, "/api/admin", Some(&audit)).await,
        200
    );
    assert_eq!(
        status(&app, Method::DELETE, "/api/admin", Some(&audit)).await,
        403
    );
    let admin = user_token(&app, "admin").await;
    assert_eq!(
        status(&app, Method::DELETE, "/api/admin", Some(&admin)).await,
        403
    );
    let admin_write = user_token(&app, "admin write").await;
    assert_eq!(
        status(&app, Method::DELETE, "/api/admin", Some(&admin_write)).await,
        200
    );
    // A method no rule names is refused, whatever the token.
    assert_eq!(
        status(&app, Method::POST, "/api/admin", Some(&admin_write)).await,
        403
    );
}

#[tokio::test]
async fn a_clients_own_token_has_no_subject() {
    let app = app().await;
    let response = app
        .token(
            &[("grant_type", "client_credentials"), ("scope", "read")],
            Some(("svc", SECRET)),
        )
        .await;
    let token = json(response).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let body = json(call(&app, Method::GET, "/api/any", Some(&token)).await).await;
    assert_eq!(body["sub"], Value::Null);
    assert_eq!(body["client_id"], "svc");
}

#[tokio::test]
async fn the_query_string_is_refused_and_the_form_body_accepted() {
    let app = app().await;
    let token = user_token(&app, "write").await;
    let query = app
        .http
        .get(app.url("/api/rw"))
        .query(&[("access_token", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(query.status(), 400);
    assert_eq!(json(query).await["error"], "invalid_request");
    let body = app
        .http
        .post(app.url("/api/rw"))
        .form(&[("access_token", token.as_str()), ("note", "hi")])
        .send()
        .await
        .unwrap();
    assert_eq!(body.status(), 200);
    let both = app
        .http
        .post(app.url("/api/rw"))
        .bearer_auth(&token)
        .form(&[("access_token", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(both.status(), 400);
}

#[tokio::test]
async fn a_hot_token_is_served_from_the_cache_and_revocation_reaches_an_uncached_server() {
    let app = app().await;
    let token = user_token(&app, "read").await;
    assert_eq!(
        status(&app, Method::GET, "/api/any", Some(&token)).await,
        200
    );
    assert_eq!(
        status(&app, Method::GET, "/fresh/any", Some(&token)).await,
        200
    );
    let revoked = app
        .post_form(
            "/o/revoke_token/",
            &[("token", token.as_str())],
            Some(("pw", SECRET)),
        )
        .await;
    assert_eq!(revoked.status(), 200);
    // The cached server does not look again within its lifetime: no round trip.
    assert_eq!(
        status(&app, Method::GET, "/api/any", Some(&token)).await,
        200
    );
    assert_eq!(
        status(&app, Method::GET, "/fresh/any", Some(&token)).await,
        401
    );
}

#[tokio::test]
async fn a_deactivated_users_tokens_stop_working() {
    let app = app().await;
    let token = user_token(&app, "read").await;
    assert_eq!(
        status(&app, Method::GET, "/fresh/any", Some(&token)).await,
        200
    );
    let alice = app.store.user_by_username("alice").await.unwrap().unwrap();
    app.store.set_user_active(alice.id, false, 0).await.unwrap();
    assert_eq!(
        status(&app, Method::GET, "/fresh/any", Some(&token)).await,
        401
    );
}

#[tokio::test]
async fn the_session_variant_lets_a_signed_in_browser_in() {
    let app = app().await;
    assert_eq!(
        app.browser
            .get(app.url("/api/session"))
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
    assert_eq!(
        json(
            app.browser
                .get(app.url("/api/optional"))
                .send()
                .await
                .unwrap()
        )
        .await["session"],
        Value::Null
    );
    app.sign_in("alice").await;
    let response = app
        .browser
        .get(app.url("/api/session"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(json(response).await["session"], "alice");
    // Routes without `or_session` still want a token.
    assert_eq!(
        app.browser
            .get(app.url("/api/rw"))
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
    // A state-changing request from another site does not ride on the session.
    let cross = app
        .browser
        .post(app.url("/api/session"))
        .header("origin", "https://evil.example")
        .header("sec-fetch-site", "cross-site")
        .send()
        .await
        .unwrap();
    assert_eq!(cross.status(), 401);
    let same = app
        .browser
        .post(app.url("/api/session"))
        .header("origin", &app.base)
        .header("sec-fetch-site", "same-origin")
        .send()
        .await
        .unwrap();
    assert_eq!(same.status(), 200);
}

#[tokio::test]
async fn protected_resource_metadata_is_served() {
    let app = app().await;
    let response = app
        .http
        .get(app.url("/.well-known/oauth-protected-resource/v1"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body = json(response).await;
    assert_eq!(body["resource"], "https://api.example/v1");
    assert_eq!(body["authorization_servers"], json!([app.base]));
    assert_eq!(body["scopes_supported"], json!(["notes:read"]));
    assert_eq!(body["bearer_methods_supported"], json!(["header"]));
}

/// A resource server of its own, validating through the provider's RFC 7662 endpoint.
async fn remote_api(app: &App, auth: IntrospectionAuth, caching: u64) -> String {
    let mut config = RemoteIntrospection::new(app.url("/o/introspect/"), auth);
    config.token_caching_seconds = caching;
    let server = ResourceServer::remote(config).unwrap();
    let router = Router::new()
        .route("/notes", get(whoami).post(whoami))
        .route_layer(RequireScopes::read_write("read", "write"))
        .layer(server);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    base
}

#[tokio::test]
async fn remote_introspection_with_client_credentials_caches_active_answers() {
    let app = app().await;
    let credentials = || IntrospectionAuth::ClientCredentials {
        client_id: "svc".into(),
        client_secret: SECRET.into(),
    };
    let cached = remote_api(&app, credentials(), 60).await;
    let uncached = remote_api(&app, credentials(), 0).await;
    let token = user_token(&app, "read").await;
    let get = |base: &str| {
        app.http
            .get(format!("{base}/notes"))
            .bearer_auth(&token)
            .send()
    };
    let response = get(&cached).await.unwrap();
    assert_eq!(response.status(), 200);
    let body = json(response).await;
    assert_eq!(
        (body["username"].as_str(), body["client_id"].as_str()),
        (Some("alice"), Some("pw"))
    );
    assert_eq!(get(&uncached).await.unwrap().status(), 200);
    let post = app
        .http
        .post(format!("{cached}/notes"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(post.status(), 403);
    app.post_form(
        "/o/revoke_token/",
        &[("token", token.as_str())],
        Some(("pw", SECRET)),
    )
    .await;
    assert_eq!(
        get(&cached).await.unwrap().status(),
        200,
        "served from the cache"
    );
    assert_eq!(get(&uncached).await.unwrap().status(), 401, "asked again");
    let bad = app
        .http
        .get(format!("{uncached}/notes"))
        .bearer_auth("tga_nope")
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 401);
}

#[tokio::test]
async fn remote_introspection_with_a_bearer_token_and_its_failures() {
    let app = app().await;
    let response = app
        .token(
            &[
                ("grant_type", "client_credentials"),
                ("scope", "introspection"),
            ],
            Some(("svc", SECRET)),
        )
        .await;
    let introspection = json(response).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let api = remote_api(&app, IntrospectionAuth::BearerToken(introspection), 0).await;
    let token = user_token(&app, "read").await;
    let ok = app
        .http
        .get(format!("{api}/notes"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    // Wrong credentials at the introspection endpoint: unavailable, not "your token is bad".
    let wrong = remote_api(&app, IntrospectionAuth::BearerToken("tga_wrong".into()), 0).await;
    let response = app
        .http
        .get(format!("{wrong}/notes"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 503);
}

#[tokio::test]
async fn the_applications_own_login_can_stand_in_for_a_token() {
    let app = app().await;
    let url = app.url("/api/app-session");
    let get = |user: &'static str| app.http.get(&url).header("x-app-user", user).send();
    assert_eq!(get("yes").await.unwrap().status(), 200);
    assert_eq!(get("no").await.unwrap().status(), 401);
    // A token is still judged by its scopes.
    let write = user_token(&app, "write").await;
    let refused = app.http.get(&url).bearer_auth(&write).send().await.unwrap();
    assert_eq!(refused.status(), 403);
}

/// A DPoP proof by `key` for `method` `url` and the access token `token`.
fn dpop_proof_for(
    app: &App,
    key: tollgate_testkit::client_keys::Key,
    method: &str,
    url: &str,
    token: &str,
    jti: &str,
) -> String {
    use base64::Engine;
    use sha2::Digest;
    let ath = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(sha2::Sha256::digest(token.as_bytes()));
    let claims = json!({"jti": jti, "htm": method, "htu": url, "iat": app.clock.now(), "ath": ath});
    tollgate_testkit::client_keys::dpop_proof(key, key, jsonwebtoken::Algorithm::ES256, &claims)
}

/// alice's token with `scope`, bound to the fixture EC key by a proof at the token endpoint.
async fn bound_user_token(app: &App, scope: &str) -> String {
    let token_url = app.url("/o/token/");
    let claims =
        json!({"jti": "token-request", "htm": "POST", "htu": token_url, "iat": app.clock.now()});
    let proof = tollgate_testkit::client_keys::dpop_proof(
        tollgate_testkit::client_keys::Key::Ec,
        tollgate_testkit::client_keys::Key::Ec,
        jsonwebtoken::Algorithm::ES256,
        &claims,
    );
    let response = app
        .http
        .post(&token_url)
        .basic_auth("pw", Some(SECRET))
        .header("DPoP", proof)
        .form(&[
            ("grant_type", "password"),
            ("username", "alice"),
            ("password", PASSWORD),
            ("scope", scope),
        ])
        .send()
        .await
        .unwrap();
    let body = json(response).await;
    assert_eq!(body["token_type"], "DPoP");
    body["access_token"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_dpop_bound_token_is_taken_only_with_a_proof_of_its_key() {
    use tollgate_testkit::client_keys::Key;
    let app = app().await;
    let token = bound_user_token(&app, "read").await;
    // The API's own URL, as the configured resource names it (clients reach it there).
    let htu = "https://api.example/api/any";
    let send = |scheme: &'static str, proof: Option<String>| {
        let mut request = app
            .http
            .get(app.url("/api/any"))
            .header("Authorization", format!("{scheme} {token}"));
        if let Some(proof) = proof {
            request = request.header("DPoP", proof);
        }
        request.send()
    };
    let as_bearer = send("Bearer", None).await.unwrap();
    assert_eq!(as_bearer.status(), 401);
    let c = challenge(&as_bearer);
    assert!(c.starts_with("DPoP ") && c.contains("invalid_token"), "{c}");

    let good = dpop_proof_for(&app, Key::Ec, "GET", htu, &token, "r1");
    let answered = send("DPoP", Some(good.clone())).await.unwrap();
    assert_eq!(answered.status(), 200);
    assert_eq!(json(answered).await["username"], "alice");

    for (what, proof) in [
        ("replayed", Some(good)),
        ("no proof", None),
        (
            "wrong htu",
            Some(dpop_proof_for(
                &app,
                Key::Ec,
                "GET",
                &app.url("/api/any"),
                &token,
                "r2",
            )),
        ),
        (
            "wrong htm",
            Some(dpop_proof_for(&app, Key::Ec, "POST", htu, &token, "r3")),
        ),
        (
            "another token",
            Some(dpop_proof_for(&app, Key::Ec, "GET", htu, "tga_other", "r4")),
        ),
    ] {
        let refused = send("DPoP", proof).await.unwrap();
        assert_eq!(refused.status(), 401, "{what}");
        assert!(
            challenge(&refused).contains("invalid_dpop_proof"),
            "{what}: {}",
            challenge(&refused)
        );
    }
    // Validated by the application itself, with no proof to check: not valid.
    let by_hand = |token: String| app.http.post(app.url("/api/validate")).body(token).send();
    let text = |r: reqwest::Response| r.text();
    assert_eq!(
        text(by_hand(token.clone()).await.unwrap()).await.unwrap(),
        "invalid"
    );
    // A bearer token may not pose as a DPoP one.
    let bearer = user_token(&app, "read").await;
    assert_eq!(
        text(by_hand(bearer.clone()).await.unwrap()).await.unwrap(),
        "valid"
    );
    let posing = app
        .http
        .get(app.url("/api/any"))
        .header("Authorization", format!("DPoP {bearer}"))
        .header(
            "DPoP",
            dpop_proof_for(&app, Key::Ec, "GET", htu, &bearer, "r5"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(posing.status(), 401);
}

#[tokio::test]
async fn a_remote_resource_server_checks_dpop_proofs_from_introspections_cnf() {
    use tollgate_testkit::client_keys::Key;
    let app = app().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let config = RemoteIntrospection::new(
        app.url("/o/introspect/"),
        IntrospectionAuth::ClientCredentials {
            client_id: "svc".into(),
            client_secret: SECRET.into(),
        },
    );
    let server = ResourceServer::remote(config)
        .unwrap()
        .audience(format!("{base}/"));
    let router = Router::new()
        .route("/notes", get(whoami))
        .route_layer(RequireScopes::read_write("read", "write"))
        .layer(server);
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });

    let token = bound_user_token(&app, "read").await;
    let htu = format!("{base}/notes");
    let send = |scheme: &'static str, proof: Option<String>| {
        let mut request = app
            .http
            .get(&htu)
            .header("Authorization", format!("{scheme} {token}"));
        if let Some(proof) = proof {
            request = request.header("DPoP", proof);
        }
        request.send()
    };
    assert_eq!(send("Bearer", None).await.unwrap().status(), 401);
    let good = dpop_proof_for(&app, Key::Ec, "GET", &htu, &token, "m1");
    assert_eq!(
        send("DPoP", Some(good.clone())).await.unwrap().status(),
        200
    );
    let replayed = send("DPoP", Some(good)).await.unwrap();
    assert_eq!(replayed.status(), 401);
    assert!(challenge(&replayed).contains("invalid_dpop_proof"));
}
