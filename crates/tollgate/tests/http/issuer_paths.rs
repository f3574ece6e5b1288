//! Every URL the provider advertises answers, for each shape of issuer: a bare
//! origin (endpoints below `/o/`), DOT's `…/o`, and a sub-path a reverse proxy
//! strips (`public_path`). A relying party here knows only the issuer: it
//! discovers the rest and follows the redirects and forms it is given.

use std::net::SocketAddr;

use crate::support::{
    self, App, CHALLENGE, PASSWORD, SECRET, TestApp, VERIFIER, WEB_REDIRECT, json, location_params,
};
use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use reqwest::{Method, StatusCode};
use serde_json::Value;

#[derive(Debug, Clone, Copy)]
enum Shape {
    /// `http://host:port`, the default.
    Origin,
    /// `http://host:port/o`, as a DOT site's issuer.
    Dot,
    /// `http://proxy/auth`, the proxy stripping `/auth`.
    Proxied,
}

/// A provider of `shape`, and its issuer as relying parties know it.
async fn provider(shape: Shape) -> (App, String) {
    let proxy = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let proxy_address = proxy.local_addr().unwrap();
    let app = TestApp::new()
        .settings(|s| {
            match shape {
                Shape::Origin => {}
                Shape::Dot => s.issuer = format!("{}/o", s.issuer),
                Shape::Proxied => {
                    s.issuer = format!("http://{proxy_address}/auth");
                    s.public_path = "/auth".into();
                }
            }
            s.dcr_enabled = true;
            s.dcr_registration_access = tollgate::RegistrationAccess::Open;
            s.oidc_rp_initiated_logout_always_prompt = true;
        })
        .start()
        .await;
    support::tv_client(&app).await;
    let issuer = match shape {
        Shape::Origin => app.base.clone(),
        Shape::Dot => format!("{}/o", app.base),
        Shape::Proxied => {
            tokio::spawn(strip_prefix_proxy(proxy, app.base.clone()));
            format!("http://{proxy_address}/auth")
        }
    };
    (app, issuer)
}

/// A reverse proxy as an operator sets one up: `/auth/…` to the backend with
/// `/auth` removed, and RFC 8414's host-root URL for the issuer as it is.
async fn strip_prefix_proxy(listener: tokio::net::TcpListener, backend: String) {
    let router = axum::Router::new().fallback(forward).with_state(backend);
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .await
    .unwrap();
}

async fn forward(State(backend): State<String>, request: Request) -> Response {
    let path_and_query = request.uri().path_and_query().unwrap().as_str().to_owned();
    let forwarded = match path_and_query.strip_prefix("/auth") {
        Some(rest) if rest.starts_with('/') => rest.to_owned(),
        _ if path_and_query.starts_with("/.well-known/oauth-authorization-server/auth") => {
            path_and_query
        }
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, 1 << 20).await.unwrap();
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let mut outbound = client.request(parts.method, format!("{backend}{forwarded}"));
    for (name, value) in &parts.headers {
        if name != "host" {
            outbound = outbound.header(name, value);
        }
    }
    let answer = outbound.body(body).send().await.unwrap();
    let mut response = Response::builder().status(answer.status());
    for (name, value) in answer.headers() {
        if name != "transfer-encoding" && name != "content-length" {
            response = response.header(name, value);
        }
    }
    response
        .body(Body::from(answer.bytes().await.unwrap()))
        .unwrap()
}

/// How each advertised URL is called; a document naming one not listed fails.
fn method_of(field: &str) -> Method {
    match field {
        "authorization_endpoint" | "userinfo_endpoint" | "jwks_uri" | "end_session_endpoint" => {
            Method::GET
        }
        "token_endpoint"
        | "device_authorization_endpoint"
        | "revocation_endpoint"
        | "introspection_endpoint"
        | "pushed_authorization_request_endpoint"
        | "registration_endpoint" => Method::POST,
        other => panic!("an advertised URL this test does not know how to call: {other}"),
    }
}

fn urls_in(document: &Value) -> Vec<(String, String)> {
    document
        .as_object()
        .unwrap()
        .iter()
        .filter(|(field, _)| field.ends_with("_endpoint") || field.ends_with("_uri"))
        .map(|(field, url)| (field.clone(), url.as_str().unwrap().to_owned()))
        .collect()
}

/// `reference` with `relative` resolved against it, as a browser does.
fn resolve(reference: &str, relative: &str) -> String {
    url::Url::parse(reference)
        .unwrap()
        .join(relative)
        .unwrap()
        .to_string()
}

/// The first `name` attribute of a page: its form's `action`, its stylesheet's `href`.
fn attribute(html: &str, name: &str) -> String {
    tollgate_testkit::attribute(html, name).expect(name)
}

/// The OIDC Discovery document, where OIDC Discovery 1.0 §4 says it is.
async fn discovery_of(http: &reqwest::Client, issuer: &str) -> Value {
    json(
        http.get(format!("{issuer}/.well-known/openid-configuration"))
            .send()
            .await
            .unwrap(),
    )
    .await
}

/// Calls every URL of `discovery`, each as its endpoint is called: none is a 404 or 405.
async fn each_answers(http: &reqwest::Client, issuer: &str, discovery: &Value) {
    let advertised = urls_in(discovery);
    assert!(advertised.len() >= 8, "{issuer}: {advertised:?}");
    for (field, url) in advertised {
        assert!(url.starts_with(&format!("{issuer}/")), "{field}: {url}");
        let response = http.request(method_of(&field), &url).send().await.unwrap();
        assert!(
            ![StatusCode::NOT_FOUND, StatusCode::METHOD_NOT_ALLOWED].contains(&response.status())
                && !response.status().is_server_error(),
            "{issuer}: {field} {url} answered {}",
            response.status()
        );
    }
}

async fn every_advertised_url_answers(shape: Shape) {
    let (app, issuer) = provider(shape).await;
    let origin = url::Url::parse(&issuer)
        .unwrap()
        .origin()
        .ascii_serialization();
    let issuer_path = issuer.strip_prefix(&origin).unwrap();
    let discovery = discovery_of(&app.http, &issuer).await;
    assert_eq!(discovery["issuer"], issuer, "{shape:?}");
    // RFC 8414 §3: the well-known prefix before the issuer's path; and DOT's place, below the issuer.
    for url in [
        format!("{origin}/.well-known/oauth-authorization-server{issuer_path}"),
        format!("{issuer}/.well-known/oauth-authorization-server"),
    ] {
        let response = app.http.get(&url).send().await.unwrap();
        assert_eq!(response.status(), 200, "{shape:?}: {url}");
        assert_eq!(json(response).await, discovery, "{shape:?}: {url}");
    }
    each_answers(&app.http, &issuer, &discovery).await;

    // The URLs endpoints hand out: the device's verification pages, a registration's own URI.
    let device = json(
        app.http
            .post(discovery["device_authorization_endpoint"].as_str().unwrap())
            .form(&[("client_id", "tv")])
            .send()
            .await
            .unwrap(),
    )
    .await;
    for field in ["verification_uri", "verification_uri_complete"] {
        let url = device[field].as_str().unwrap();
        assert!(url.starts_with(&format!("{issuer}/")), "{field}: {url}");
        let response = app.http.get(url).send().await.unwrap();
        assert!(
            response.status().is_redirection(),
            "{shape:?}: {field} {url}"
        );
        let login = resolve(url, response.headers()["location"].to_str().unwrap());
        assert!(login.starts_with(&format!("{issuer}/")), "{login}");
        assert_eq!(app.http.get(&login).send().await.unwrap().status(), 200);
    }
    let registered = json(
        app.http
            .post(discovery["registration_endpoint"].as_str().unwrap())
            .json(&serde_json::json!({
                "redirect_uris": ["https://registered.example/cb"],
                "token_endpoint_auth_method": "client_secret_basic",
            }))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let client_uri = registered["registration_client_uri"].as_str().unwrap();
    assert!(
        client_uri.starts_with(&format!("{issuer}/")),
        "{client_uri}"
    );
    let read = app
        .http
        .get(client_uri)
        .bearer_auth(registered["registration_access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(read.status(), 200, "{shape:?}: {client_uri}");
}

/// A user signs in and consents by following only what the server sends, and
/// the relying party redeems the code, calls UserInfo and signs the user out.
async fn a_relying_party_that_knows_only_the_issuer_completes_a_flow(shape: Shape) {
    let (app, issuer) = provider(shape).await;
    let origin = url::Url::parse(&issuer)
        .unwrap()
        .origin()
        .ascii_serialization();
    let discovery = discovery_of(&app.http, &issuer).await;
    let endpoint = |field: &str| discovery[field].as_str().unwrap().to_owned();
    let browser = &app.browser;
    let same_origin = |request: reqwest::RequestBuilder| {
        request
            .header("origin", &origin)
            .header("sec-fetch-site", "same-origin")
    };
    let mut authorize = url::Url::parse(&endpoint("authorization_endpoint")).unwrap();
    authorize.query_pairs_mut().extend_pairs([
        ("client_id", "web"),
        ("response_type", "code"),
        ("redirect_uri", WEB_REDIRECT),
        ("scope", "openid read"),
        ("state", "s-1"),
        ("nonce", "n-1"),
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
    ]);
    let to_login = browser.get(authorize.as_str()).send().await.unwrap();
    assert_eq!(to_login.status(), 302, "{shape:?}");
    let login_url = resolve(
        authorize.as_str(),
        to_login.headers()["location"].to_str().unwrap(),
    );
    assert!(login_url.starts_with(&format!("{issuer}/")), "{login_url}");
    let page = browser
        .get(&login_url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let stylesheet = resolve(&login_url, &attribute(&page, "href"));
    assert!(
        stylesheet.starts_with(&format!("{issuer}/")),
        "{stylesheet}"
    );
    assert_eq!(
        browser.get(&stylesheet).send().await.unwrap().status(),
        200,
        "{stylesheet}"
    );
    let action = resolve(&login_url, &attribute(&page, "action"));
    let next = support::hidden(&page, "next").unwrap();
    let signed_in = same_origin(browser.post(&action))
        .form(&[
            ("username", "alice"),
            ("password", PASSWORD),
            ("csrf_token", &support::hidden(&page, "csrf_token").unwrap()),
            ("next", &next),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.status(), 303, "{shape:?}: sign-in at {action}");
    let consent_url = resolve(&action, signed_in.headers()["location"].to_str().unwrap());
    assert!(
        consent_url.starts_with(&format!("{issuer}/")),
        "{consent_url}"
    );
    let consent = browser.get(&consent_url).send().await.unwrap();
    assert_eq!(consent.status(), 200, "{shape:?}: {consent_url}");
    let html = consent.text().await.unwrap();
    let mut fields = support::hidden_fields(&html);
    fields.push(("allow".into(), "Authorize".into()));
    let approved = same_origin(browser.post(resolve(&consent_url, &attribute(&html, "action"))))
        .form(&fields)
        .send()
        .await
        .unwrap();
    let back = location_params(approved.headers()["location"].to_str().unwrap());
    assert_eq!(back["iss"], issuer, "RFC 9207");
    let tokens = json(
        app.http
            .post(endpoint("token_endpoint"))
            .basic_auth("web", Some(SECRET))
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", &back["code"]),
                ("redirect_uri", WEB_REDIRECT),
                ("code_verifier", VERIFIER),
            ])
            .send()
            .await
            .unwrap(),
    )
    .await;
    let id_token = tokens["id_token"].as_str().expect("an ID token");
    let claims: Value = serde_json::from_slice(
        &base64::Engine::decode(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            id_token.split('.').nth(1).unwrap(),
        )
        .unwrap(),
    )
    .unwrap();
    assert_eq!(claims["iss"], issuer);
    let userinfo = app
        .http
        .get(endpoint("userinfo_endpoint"))
        .bearer_auth(tokens["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(userinfo.status(), 200, "{shape:?}");
    assert_eq!(json(userinfo).await["sub"], claims["sub"]);
    let mut logout = url::Url::parse(&endpoint("end_session_endpoint")).unwrap();
    logout
        .query_pairs_mut()
        .append_pair("id_token_hint", id_token);
    let confirm = browser.get(logout.as_str()).send().await.unwrap();
    assert_eq!(confirm.status(), 200, "{shape:?}: the confirmation page");
    let html = confirm.text().await.unwrap();
    let action = resolve(logout.as_str(), &attribute(&html, "action"));
    assert!(action.starts_with(&format!("{issuer}/")), "{action}");
    let mut fields = support::hidden_fields(&html);
    fields.push(("allow".into(), "Sign out".into()));
    let signed_out = same_origin(browser.post(&action))
        .form(&fields)
        .send()
        .await
        .unwrap();
    assert_eq!(
        signed_out.status(),
        200,
        "{shape:?}: signed out at {action}"
    );
}

/// For each shape of issuer: every advertised URL answers, and a whole flow completes.
macro_rules! for_each_shape {
    ($($module:ident: $shape:ident),*) => {$(
        mod $module {
            use super::*;

            #[tokio::test]
            async fn every_advertised_url_answers() {
                super::every_advertised_url_answers(Shape::$shape).await
            }

            #[tokio::test]
            async fn a_relying_party_completes_a_flow() {
                a_relying_party_that_knows_only_the_issuer_completes_a_flow(Shape::$shape).await
            }
        }
    )*};
}

for_each_shape!(origin: Origin, dot: Dot, proxied: Proxied);

#[tokio::test]
async fn a_dot_issuer_has_dots_own_urls() {
    let (app, issuer) = provider(Shape::Dot).await;
    let discovery = discovery_of(&app.http, &issuer).await;
    for (field, path) in [
        ("authorization_endpoint", "/o/authorize/"),
        ("token_endpoint", "/o/token/"),
        ("userinfo_endpoint", "/o/userinfo/"),
        ("jwks_uri", "/o/.well-known/jwks.json"),
        ("end_session_endpoint", "/o/logout/"),
        ("revocation_endpoint", "/o/revoke_token/"),
        ("introspection_endpoint", "/o/introspect/"),
    ] {
        assert_eq!(discovery[field], format!("{}{path}", app.base), "{field}");
    }
    // Nothing is served at the root a DOT site did not serve there.
    let root = app
        .http
        .get(app.url("/.well-known/openid-configuration"))
        .send()
        .await
        .unwrap();
    assert_eq!(root.status(), 404);
}

/// The library's router nested under a path of an application that has its own `/health`.
#[tokio::test]
async fn nested_in_an_application_that_has_its_own_health() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let issuer = format!("{base}/auth");
    let store = tollgate::Store::connect("sqlite::memory:").await.unwrap();
    store.migrate().await.unwrap();
    let settings = tollgate::Settings {
        issuer: issuer.clone(),
        public_path: "/auth".into(),
        ..tollgate::Settings::default()
    };
    let provider = tollgate::Provider::builder(settings, store)
        .build()
        .unwrap();
    provider.prepare_keys().await.unwrap();
    let app = axum::Router::new()
        .route(
            "/health",
            axum::routing::get(|| async { "the application's own" }),
        )
        .nest("/auth", provider.router())
        .merge(provider.well_known_router());
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .unwrap()
    });
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let health = http.get(format!("{base}/health")).send().await.unwrap();
    assert_eq!(health.text().await.unwrap(), "the application's own");
    let discovery = discovery_of(&http, &issuer).await;
    assert_eq!(discovery["issuer"], issuer);
    assert_eq!(discovery["token_endpoint"], format!("{issuer}/o/token/"));
    // RFC 8414 §3: at the host's root, outside the nest.
    let metadata = http
        .get(format!(
            "{base}/.well-known/oauth-authorization-server/auth"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(json(metadata).await, discovery);
    each_answers(&http, &issuer, &discovery).await;
}
