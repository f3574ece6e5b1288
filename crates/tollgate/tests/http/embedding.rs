//! The extension points an embedding application uses, over real HTTP: its own
//! user directory, its own sign-in page, a scope policy, audit events and
//! replaced templates.

use std::sync::{Arc, Mutex};

use crate::support::*;
use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect};
use axum::routing::get;
use tollgate::core::model::Application;
use tollgate::events::{Event, Events};
use tollgate::scope_policy::ScopePolicy;
use tollgate::users::{DirectoryError, DirectoryFuture, User, UserDirectory};
use tollgate::{BuildError, Provider, Settings, Store};

fn person(id: i64, username: &str) -> User {
    User {
        email: format!("{username}@directory.example"),
        email_verified: true,
        given_name: "Grace".into(),
        family_name: "Hopper".into(),
        ..User::new(id, username)
    }
}

/// grace/cobol is user 1906; "broken" makes the directory fail.
struct Directory;

impl UserDirectory for Directory {
    fn authenticate<'a>(&'a self, username: &'a str, password: &'a str) -> DirectoryFuture<'a> {
        Box::pin(async move {
            match (username, password) {
                ("broken", _) => Err(DirectoryError("the directory is down".into())),
                ("grace", "cobol") => Ok(Some(person(1906, "grace"))),
                _ => Ok(None),
            }
        })
    }
}

async fn password_grant(app: &App, username: &str, password: &str) -> reqwest::Response {
    app.token(
        &[
            ("grant_type", "password"),
            ("username", username),
            ("password", password),
            ("scope", "openid read"),
        ],
        Some(("pw", SECRET)),
    )
    .await
}

#[tokio::test]
async fn users_come_from_the_applications_directory() {
    let app = TestApp::new()
        .provider(|b| b.users(Directory))
        .start()
        .await;
    let response = password_grant(&app, "grace", "cobol").await;
    assert_eq!(response.status(), 200);
    let token = json(response).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    // The directory's id is the subject, and UserInfo reads the copy Tollgate keeps.
    let info = app
        .http
        .get(app.url("/o/userinfo/"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    let info = json(info).await;
    assert_eq!(info["sub"], "1906");
    let copy = app.store.user_by_id(1906).await.unwrap().unwrap();
    assert_eq!(
        (copy.username.as_str(), copy.password_hash),
        ("grace", None)
    );
    // The built-in users are not consulted, and a wrong password is refused.
    assert_eq!(password_grant(&app, "alice", PASSWORD).await.status(), 400);
    assert_eq!(password_grant(&app, "grace", "fortran").await.status(), 400);
    // A failing directory is a server error, not a wrong password.
    let broken = password_grant(&app, "broken", "x").await;
    assert_eq!(broken.status(), 500);
    assert_eq!(json(broken).await["error"], "server_error");
}

#[tokio::test]
async fn the_sign_in_page_uses_the_directory() {
    let app = TestApp::new()
        .provider(|b| b.users(Directory))
        .start()
        .await;
    let page = app.browser.get(app.url("/o/login/")).send().await.unwrap();
    let csrf = hidden(&page.text().await.unwrap(), "csrf_token").unwrap();
    let submit = |username: &'static str, password: &'static str| {
        app.browser
            .post(app.url("/o/login/"))
            .header("origin", &app.base)
            .form(&[
                ("username", username),
                ("password", password),
                ("csrf_token", csrf.as_str()),
                ("next", "/o/login/"),
            ])
            .send()
    };
    assert_eq!(submit("broken", "x").await.unwrap().status(), 503);
    assert_eq!(submit("grace", "cobol").await.unwrap().status(), 303);
}

/// `svc` may not have `write`; everyone else gets what the server knows.
struct NoWriteForSvc;

impl ScopePolicy for NoWriteForSvc {
    fn available(&self, client: &Application, known: Vec<String>) -> Vec<String> {
        known
            .into_iter()
            .filter(|s| client.client_id != "svc" || s != "write")
            .collect()
    }

    fn default_scopes(&self, _client: &Application, _defaults: Vec<String>) -> Vec<String> {
        vec!["read".into(), "write".into()]
    }
}

#[tokio::test]
async fn a_scope_policy_narrows_what_a_client_may_ask_for() {
    let app = TestApp::new()
        .provider(|b| b.scopes(NoWriteForSvc))
        .start()
        .await;
    let ask = |scope: Option<&'static str>, client: &'static str| {
        let mut form = vec![("grant_type", "client_credentials")];
        if let Some(scope) = scope {
            form.push(("scope", scope));
        }
        let app = &app;
        async move { app.token(&form, Some((client, SECRET))).await }
    };
    let refused = ask(Some("read write"), "svc").await;
    assert_eq!(refused.status(), 400);
    assert_eq!(json(refused).await["error"], "invalid_scope");
    // Defaults outside what the client may have are dropped.
    let defaults = json(ask(None, "svc").await).await;
    assert_eq!(defaults["scope"], "read");
    // The authorization endpoint applies the same policy.
    app.sign_in("alice").await;
    let mut query = web_request();
    query.retain(|(k, _)| *k != "scope");
    query.push(("scope", "write"));
    let allowed = app.authorize(&query).await;
    assert_eq!(
        allowed.status(),
        200,
        "web may ask for write: the consent page"
    );
}

#[derive(Clone, Default)]
struct Recorder(Arc<Mutex<Vec<String>>>);

impl Events for Recorder {
    fn emit(&self, event: &Event<'_>) {
        let line = match event {
            Event::TokenIssued {
                client_id,
                grant_type,
                user_id,
                ..
            } => format!("issued {client_id} {grant_type} {}", user_id.is_some()),
            Event::TokenRevoked { client_id, .. } => format!("revoked {client_id}"),
            Event::ConsentGranted {
                client_id, scope, ..
            } => format!("consent {client_id} {scope}"),
            Event::LoginFailed { username, .. } => format!("failed {username}"),
            Event::SignedOut { .. } => "signed out".into(),
            _ => "other".into(),
        };
        self.0.lock().unwrap().push(line);
    }
}

#[tokio::test]
async fn events_record_tokens_consent_and_failed_sign_ins() {
    let recorder = Recorder::default();
    let sink = recorder.clone();
    let app = TestApp::new()
        .provider(move |b| b.events(sink))
        .start()
        .await;
    app.sign_in("alice").await;
    let code = app.code_for_web().await;
    let response = app
        .token(
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", WEB_REDIRECT),
                ("code_verifier", VERIFIER),
            ],
            Some(("web", SECRET)),
        )
        .await;
    let token = json(response).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    app.post_form(
        "/o/revoke_token/",
        &[("token", token.as_str())],
        Some(("web", SECRET)),
    )
    .await;
    password_grant(&app, "alice", "wrong").await;
    let lines = recorder.0.lock().unwrap().clone();
    assert_eq!(
        lines,
        [
            "consent web read write",
            "issued web authorization_code true",
            "revoked web",
            "failed alice",
        ]
    );
}

/// The application's sign-in page: signs in alice when told `?as=alice`.
async fn own_login(
    State(provider): State<Provider>,
    axum::extract::Query(q): axum::extract::Query<std::collections::HashMap<String, String>>,
) -> impl IntoResponse {
    let user = provider
        .store()
        .user_by_username(&q["as"])
        .await
        .unwrap()
        .unwrap();
    let cookie = provider.sign_in(&user).await.unwrap();
    let next = tollgate::local_path(&q["next"]).unwrap_or("/");
    (cookie, Redirect::to(next))
}

#[tokio::test]
async fn the_application_signs_users_in_on_its_own_page() {
    let app = TestApp::new()
        .provider(|b| b.login_url("/accounts/login"))
        .api(|provider| {
            Router::new()
                .route("/accounts/login", get(own_login))
                .with_state(provider.clone())
        })
        .start()
        .await;
    let to_login = app.authorize(&web_request()).await;
    let location = location(&to_login);
    assert!(
        location.starts_with("/accounts/login?next=%2Fo%2Fauthorize%2F"),
        "{location}"
    );
    let back = app
        .browser
        .get(format!("{}{location}&as=alice", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(back.status(), 303);
    let next = crate::support::location(&back);
    let consent = app.browser.get(app.url(&next)).send().await.unwrap();
    assert_eq!(consent.status(), 200, "signed in: the consent page");
    assert!(consent.text().await.unwrap().contains("The web app"));
}

#[tokio::test]
async fn templates_are_replaced_by_the_application() {
    let dir = std::env::temp_dir().join(format!(
        "tollgate-templates-{}",
        tollgate_testkit::unique_suffix()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("error.html"),
        "<p>Our own error page: {{ message }}</p>",
    )
    .unwrap();
    let dir_for_settings = dir.clone();
    let app = TestApp::new()
        .settings(move |s| s.templates_dir = Some(dir_for_settings))
        .provider(|b| {
            b.template(
                "login.html",
                "<form>Welcome to Example Corp {{ 'signed form' if csrf_token else 'unsigned' }}</form>",
            )
        })
        .start()
        .await;
    let login = app.browser.get(app.url("/o/login/")).send().await.unwrap();
    assert_eq!(
        login.text().await.unwrap(),
        "<form>Welcome to Example Corp signed form</form>"
    );
    let error = app
        .browser
        .get(app.url("/o/authorize/"))
        .send()
        .await
        .unwrap();
    assert_eq!(error.status(), 400);
    assert!(
        error
            .text()
            .await
            .unwrap()
            .starts_with("<p>Our own error page: ")
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn a_broken_template_stops_the_build() {
    let store = Store::connect("sqlite::memory:").await.unwrap();
    let built = Provider::builder(Settings::default(), store)
        .template("consent.html", "{% if %}")
        .build();
    match built {
        Err(BuildError::Template { name, .. }) => assert_eq!(name, "consent.html"),
        other => panic!("expected a template error, got {:?}", other.err()),
    }
}
