//! Resource indicators (RFC 8707) over HTTP, on SQLite and PostgreSQL: the
//! `resource` parameter at the authorization, token and device endpoints, the
//! audience it gives tokens, narrowing at refresh, `invalid_target`, `aud` in
//! introspection, and the audience check of the resource-server extractors.

use crate::support::*;
use axum::Router;
use axum::routing::get;
use serde_json::{Value, json};
use tollgate::Provider;
use tollgate::resource::{
    AccessToken, IntrospectionAuth, RemoteIntrospection, RequireScopes, ResourceServer,
};

const API: &str = "https://api.example/v1";
const FILES: &str = "https://files.example/";

async fn introspect(app: &App, token: &str) -> Value {
    json(
        app.post_form("/o/introspect/", &[("token", token)], Some(("svc", SECRET)))
            .await,
    )
    .await
}

/// A code for `web`, asked for with `extra` parameters beside the usual ones.
async fn code_with(app: &App, extra: &[(&'static str, &'static str)]) -> String {
    let mut query = web_request();
    query.extend_from_slice(extra);
    let page = app.authorize(&query).await;
    assert_eq!(page.status(), 200, "expected the consent page");
    let response = app.consent(&query, true).await;
    location_params(&location(&response))["code"].clone()
}

async fn redeem(app: &App, code: &str, resources: &[&str]) -> reqwest::Response {
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", WEB_REDIRECT),
        ("code_verifier", VERIFIER),
    ];
    form.extend(resources.iter().map(|r| ("resource", *r)));
    app.token(&form, Some(("web", SECRET))).await
}

async fn refresh(app: &App, rt: &str, resources: &[&str]) -> reqwest::Response {
    let mut form = vec![("grant_type", "refresh_token"), ("refresh_token", rt)];
    form.extend(resources.iter().map(|r| ("resource", *r)));
    app.token(&form, Some(("web", SECRET))).await
}

async fn error_of(response: reqwest::Response) -> (u16, String) {
    let status = response.status().as_u16();
    (
        status,
        json(response).await["error"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
    )
}

async fn a_code_grant_is_for_its_resources_and_refreshes_narrow_them(db: Db) {
    let Some(app) = TestApp::new()
        .settings(|s| s.request_approval_prompt = tollgate::core::authorize::ApprovalPrompt::Force)
        .on(db, "rfc8707_code")
        .start()
        .await
    else {
        return;
    };
    app.sign_in("alice").await;

    // Both resources are shown on the consent page and kept with the grant.
    let mut query = web_request();
    query.extend([("resource", API), ("resource", FILES)]);
    let page = app.authorize(&query).await.text().await.unwrap();
    // (minijinja writes `/` as `&#x2f;`.)
    assert!(
        page.contains("api.example&#x2f;v1") && page.contains("files.example"),
        "{page}"
    );
    let code = code_with(&app, &[("resource", API), ("resource", FILES)]).await;

    // The token request narrows the access token to one of them; the refresh token keeps both.
    let tokens = json(redeem(&app, &code, &[API]).await).await;
    let (at, rt) = (
        tokens["access_token"].as_str().unwrap(),
        tokens["refresh_token"].as_str().unwrap(),
    );
    assert_eq!(introspect(&app, at).await["aud"], json!([API]));
    assert_eq!(introspect(&app, rt).await["aud"], json!([API, FILES]));

    // A refresh may narrow to the other one; a resource outside the grant is refused,
    // and the refused refresh token still works.
    let narrowed = json(refresh(&app, rt, &[FILES]).await).await;
    assert_eq!(
        introspect(&app, narrowed["access_token"].as_str().unwrap()).await["aud"],
        json!([FILES])
    );
    let rt = narrowed["refresh_token"].as_str().unwrap();
    assert_eq!(
        error_of(refresh(&app, rt, &["https://other.example/"]).await).await,
        (400, "invalid_target".to_owned())
    );
    let whole = json(refresh(&app, rt, &[]).await).await;
    assert_eq!(
        introspect(&app, whole["access_token"].as_str().unwrap()).await["aud"],
        json!([API, FILES])
    );

    // A code's token may not be for a resource the authorization did not name.
    let code = code_with(&app, &[("resource", API)]).await;
    assert_eq!(
        error_of(redeem(&app, &code, &[FILES]).await).await,
        (400, "invalid_target".to_owned())
    );

    // Without resources, tokens are unrestricted: no `aud`.
    let code = code_with(&app, &[]).await;
    let plain = json(redeem(&app, &code, &[]).await).await;
    let described = introspect(&app, plain["access_token"].as_str().unwrap()).await;
    assert_eq!(described["active"], true);
    assert!(described.get("aud").is_none(), "{described}");
}

async fn malformed_or_unserved_resources_are_invalid_target(db: Db) {
    let Some(app) = TestApp::new()
        .settings(|s| s.allowed_resources = vec![API.into()])
        .on(db, "rfc8707_invalid")
        .start()
        .await
    else {
        return;
    };
    app.sign_in("alice").await;
    // At the authorization endpoint the error goes back to the client, with its state.
    for bad in [
        "/relative",
        "https://api.example/v1#frag",
        "https://other.example/",
    ] {
        let mut query = web_request();
        query.push(("resource", bad));
        let response = app.authorize(&query).await;
        assert_eq!(response.status(), 302, "{bad}");
        let params = location_params(&location(&response));
        assert_eq!(params["error"], "invalid_target", "{bad}");
        assert_eq!(params["state"], "s-123");
    }
    // At the token endpoint: RFC 6749 §5.2 JSON.
    for bad in ["urn:no:host", "https://other.example/"] {
        let response = app
            .token(
                &[("grant_type", "client_credentials"), ("resource", bad)],
                Some(("svc", SECRET)),
            )
            .await;
        assert_eq!(
            error_of(response).await,
            (400, "invalid_target".to_owned()),
            "{bad}"
        );
    }
    // A path below a served resource is served.
    let response = app
        .token(
            &[
                ("grant_type", "client_credentials"),
                ("resource", "https://api.example/v1/notes"),
            ],
            Some(("svc", SECRET)),
        )
        .await;
    assert_eq!(response.status(), 200);
    let token = json(response).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        introspect(&app, &token).await["aud"],
        json!(["https://api.example/v1/notes"])
    );
    // The device authorization endpoint checks them too.
    tv_client(&app).await;
    for (resource, status) in [("https://other.example/", 400), (API, 200)] {
        let response = app
            .post_form(
                "/o/device-authorization/",
                &[("client_id", "tv"), ("resource", resource)],
                None,
            )
            .await;
        assert_eq!(response.status(), status, "{resource}");
        if status == 400 {
            assert_eq!(json(response).await["error"], "invalid_target");
        }
    }
}

async fn whoami(token: AccessToken) -> String {
    token.audience().to_string()
}

fn api(provider: &Provider) -> Router {
    // No identifier: the issuer's origin plus the request path.
    let own = Router::new()
        .route("/api/notes", get(whoami))
        .route_layer(RequireScopes::all::<&str>([]))
        .layer(provider.resource_server());
    let named = Router::new().route("/v2/items", get(whoami)).layer(
        provider
            .resource_server()
            .audience("https://api.example/v2"),
    );
    let files = Router::new()
        .route("/files/{*rest}", get(whoami))
        .layer(provider.resource_server());
    own.merge(named).merge(files)
}

async fn client_token(app: &App, resources: &[&str]) -> String {
    let mut form = vec![("grant_type", "client_credentials")];
    form.extend(resources.iter().map(|r| ("resource", *r)));
    let response = app.token(&form, Some(("svc", SECRET))).await;
    assert_eq!(response.status(), 200);
    json(response).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn resource_servers_refuse_tokens_for_other_resources(db: Db) {
    let Some(app) = TestApp::new()
        .api(api)
        .on(db, "rfc8707_audience")
        .start()
        .await
    else {
        return;
    };
    let call = |path: &'static str, token: String| {
        let request = app.http.get(app.url(path)).bearer_auth(token);
        async move { request.send().await.unwrap() }
    };
    let unrestricted = client_token(&app, &[]).await;
    let own_api = format!("{}/api", app.base);
    let for_own = client_token(&app, &[&own_api]).await;
    let for_v2 = client_token(&app, &["https://api.example/v2"]).await;

    for (path, token, admitted) in [
        ("/api/notes", &unrestricted, true),
        ("/v2/items", &unrestricted, true),
        ("/api/notes", &for_own, true),
        ("/v2/items", &for_own, false),
        ("/v2/items", &for_v2, true),
        ("/api/notes", &for_v2, false),
    ] {
        let response = call(path, token.clone()).await;
        if admitted {
            assert_eq!(response.status(), 200, "{path}");
        } else {
            assert_eq!(response.status(), 401, "{path}");
            let challenge = response.headers()["www-authenticate"]
                .to_str()
                .unwrap()
                .to_owned();
            assert!(challenge.contains("error=\"invalid_token\""), "{challenge}");
            assert!(challenge.contains("another resource"), "{challenge}");
        }
    }
    // The extractor tells the handler the audience.
    let body = call("/v2/items", for_v2.clone())
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(body, "https://api.example/v2");
}

/// A resource server of its own, validating through the provider's RFC 7662
/// endpoint; `audience` names the resource it answers to.
async fn remote_api(app: &App, audience: Option<&str>) -> String {
    let auth = IntrospectionAuth::ClientCredentials {
        client_id: "svc".into(),
        client_secret: SECRET.into(),
    };
    let mut server =
        ResourceServer::remote(RemoteIntrospection::new(app.url("/o/introspect/"), auth)).unwrap();
    if let Some(audience) = audience {
        server = server.audience(audience);
    }
    let router = Router::new().route("/items", get(whoami)).layer(server);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    base
}

async fn remote_resource_servers_read_the_audience_from_introspection(db: Db) {
    let Some(app) = TestApp::new().on(db, "rfc8707_remote").start().await else {
        return;
    };
    let named = remote_api(&app, Some("https://api.example/v2")).await;
    let unnamed = remote_api(&app, None).await;
    let unrestricted = client_token(&app, &[]).await;
    let for_v2 = client_token(&app, &["https://api.example/v2"]).await;
    let for_other = client_token(&app, &["https://other.example/"]).await;
    for (base, token, status) in [
        (&named, &unrestricted, 200),
        (&named, &for_v2, 200),
        (&named, &for_other, 401),
        (&unnamed, &unrestricted, 200),
        // Not knowing its own name, it cannot tell a token meant for it.
        (&unnamed, &for_v2, 401),
    ] {
        let response = app
            .http
            .get(format!("{base}/items"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), status, "{base} {token}");
    }
}

async fn remembered_consent_covers_only_its_resources(db: Db) {
    let Some(app) = TestApp::new().on(db, "rfc8707_consent").start().await else {
        return;
    };
    app.sign_in("alice").await;
    let ask = |resources: &[&'static str]| {
        let mut query = web_request();
        query.extend(resources.iter().map(|r| ("resource", *r)));
        query
    };
    app.consent(&ask(&[API]), true).await;
    // The same resource again: remembered, straight back to the client.
    assert_eq!(app.authorize(&ask(&[API])).await.status(), 302);
    // Another resource, or none (which is all of them): asked again.
    assert_eq!(app.authorize(&ask(&[FILES])).await.status(), 200);
    assert_eq!(app.authorize(&ask(&[])).await.status(), 200);
    // Consent for no resource in particular covers any.
    app.consent(&ask(&[]), true).await;
    assert_eq!(app.authorize(&ask(&[FILES])).await.status(), 302);
}

async fn userinfo_refuses_tokens_for_other_resources(db: Db) {
    let Some(app) = TestApp::new().on(db, "rfc8707_userinfo").start().await else {
        return;
    };
    let token = |resources: &'static [&'static str]| {
        let mut form = vec![
            ("grant_type", "password"),
            ("username", "alice"),
            ("password", PASSWORD),
            ("scope", "openid read"),
        ];
        form.extend(resources.iter().map(|r| ("resource", *r)));
        let request = app
            .http
            .post(app.url("/o/token/"))
            .basic_auth("pw", Some(SECRET));
        async move {
            let body = json(request.form(&form).send().await.unwrap()).await;
            body["access_token"].as_str().unwrap().to_owned()
        }
    };
    let userinfo = |token: String| {
        let request = app.http.get(app.url("/o/userinfo/")).bearer_auth(token);
        async move { request.send().await.unwrap().status().as_u16() }
    };
    assert_eq!(userinfo(token(&[]).await).await, 200);
    assert_eq!(userinfo(token(&[API]).await).await, 401);
}

/// A request written as it arrives, not as an HTTP client would tidy it.
async fn raw_get(app: &App, path: &str, token: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let address = app.base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.unwrap();
    answer
}

async fn dot_segments_prove_no_audience(db: Db) {
    let Some(app) = TestApp::new().api(api).on(db, "rfc8707_dots").start().await else {
        return;
    };
    let for_own = client_token(&app, &[&format!("{}/api", app.base)]).await;
    assert!(
        raw_get(&app, "/files/a", &for_own)
            .await
            .starts_with("HTTP/1.1 401")
    );
    // A parser would read /api here; the router serves /files: refused.
    for path in ["/files/../api", "/files/%2e%2e/api"] {
        let answer = raw_get(&app, path, &for_own).await;
        assert!(answer.starts_with("HTTP/1.1 401"), "{path}: {answer}");
    }
    let unrestricted = client_token(&app, &[]).await;
    assert!(
        raw_get(&app, "/files/%2e%2e/api", &unrestricted)
            .await
            .starts_with("HTTP/1.1 200")
    );
}

on_both_databases!(
    remembered_consent_covers_only_its_resources,
    userinfo_refuses_tokens_for_other_resources,
    dot_segments_prove_no_audience,
    remote_resource_servers_read_the_audience_from_introspection,
    a_code_grant_is_for_its_resources_and_refreshes_narrow_them,
    malformed_or_unserved_resources_are_invalid_target,
    resource_servers_refuse_tokens_for_other_resources,
);
