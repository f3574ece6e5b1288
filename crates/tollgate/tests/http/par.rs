//! RFC 9126 pushed authorization requests over HTTP: the push, the
//! authorization endpoint's use of its `request_uri`, and their refusals.

use crate::support::*;
use tollgate::core::model::NewApplication;
use tollgate::core::{ClientType, GrantType, SigningAlgorithm};

const PREFIX: &str = "urn:ietf:params:oauth:request_uri:";

/// Pushes `form` as `web` (Basic authentication); the response as it came.
async fn push_as_web(app: &App, form: &[(&str, &str)]) -> reqwest::Response {
    app.post_form("/o/par/", form, Some(("web", SECRET))).await
}

/// `web_request()` without its `client_id`, which Basic authentication names.
fn pushed_web_request() -> Vec<(&'static str, &'static str)> {
    let mut form = web_request();
    form.retain(|(name, _)| *name != "client_id");
    form
}

/// Pushes `form` as `web` and returns the `request_uri`.
async fn request_uri(app: &App, form: &[(&str, &str)]) -> String {
    let response = push_as_web(app, form).await;
    assert_eq!(response.status(), 201);
    json(response).await["request_uri"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// An error page: 400, no redirect, the error code named.
async fn assert_error_page(response: reqwest::Response, code: &str) {
    assert_eq!(response.status(), 400);
    assert!(response.headers().get("location").is_none());
    let body = response.text().await.unwrap();
    assert!(body.contains(code), "{body}");
}

#[tokio::test]
async fn a_pushed_request_is_answered_once_and_only_as_pushed() {
    let app = TestApp::new().start().await;
    // Pushed to one node, opened on another: the request is in the shared database.
    let node = app.another_node().await;
    let response = push_as_web(&node, &pushed_web_request()).await;
    assert_eq!(response.status(), 201);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body = json(response).await;
    assert_eq!(body["expires_in"], 60);
    let request_uri = body["request_uri"].as_str().unwrap().to_owned();
    let random = request_uri.strip_prefix(PREFIX).expect("the RFC 9126 URN");
    // 256 bits: 43 base64url characters after the `tgp_` prefix.
    assert!(
        random.starts_with("tgp_") && random.len() == 4 + 43,
        "{random}"
    );

    app.sign_in("alice").await;
    // What travels beside `request_uri` is ignored (RFC 9126 §4).
    let outer = [
        ("client_id", "web"),
        ("request_uri", request_uri.as_str()),
        ("redirect_uri", "https://app.example/other?x=1"),
        ("scope", "read"),
        ("state", "outer"),
    ];
    let page = app.authorize(&outer).await;
    assert_eq!(page.status(), 200, "the consent page");
    let html = page.text().await.unwrap();
    let mut carried: Vec<(String, String)> = hidden_fields(&html)
        .into_iter()
        .filter(|(name, _)| name != "csrf_token")
        .collect();
    carried.sort();
    assert_eq!(
        carried,
        [
            ("client_id".to_owned(), "web".to_owned()),
            ("request_uri".to_owned(), request_uri.clone()),
        ],
        "the consent form carries the reference, not the request"
    );
    let approved = app.consent(&outer, true).await;
    let location = location(&approved);
    assert!(location.starts_with(WEB_REDIRECT), "{location}");
    let params = location_params(&location);
    assert_eq!(
        params["state"], "s-123",
        "the pushed state, not the outer one"
    );
    let code = params["code"].clone();
    let tokens = json(
        app.token(&web_code_exchange(&code), Some(("web", SECRET)))
            .await,
    )
    .await;
    assert_eq!(tokens["scope"], "read write", "the pushed scope");

    // Answered: the same request_uri is refused.
    let again = app
        .authorize(&[("client_id", "web"), ("request_uri", &request_uri)])
        .await;
    assert_error_page(again, "invalid_request_uri").await;
}

#[tokio::test]
async fn a_push_keeps_no_client_secret() {
    let app = TestApp::new().start().await;
    let mut form = web_request();
    form.push(("client_secret", SECRET));
    let response = app.post_form("/o/par/", &form, None).await;
    assert_eq!(response.status(), 201, "client_secret_post authenticates");
    let tollgate::store::Db::Sqlite(sqlite) = app.store.db() else {
        unreachable!("TestApp::new is on SQLite")
    };
    let kept: Vec<String> = sqlx::query_scalar("SELECT parameters FROM tollgate_pushed_requests")
        .fetch_all(&sqlite.read)
        .await
        .unwrap();
    assert_eq!(kept.len(), 1);
    assert!(kept[0].contains("code_challenge="), "{}", kept[0]);
    assert!(!kept[0].contains("client_secret"), "{}", kept[0]);
    assert!(!kept[0].contains("tgs_"), "{}", kept[0]);
}

#[tokio::test]
async fn a_request_uri_is_its_clients_and_lives_briefly() {
    let clock = ManualClock::new();
    let app = TestApp::new().clock(clock.clone()).start().await;
    app.sign_in("alice").await;

    let uri = request_uri(&app, &pushed_web_request()).await;
    let theirs = app
        .authorize(&[("client_id", "trusted"), ("request_uri", &uri)])
        .await;
    assert_error_page(theirs, "invalid_request_uri").await;
    let unnamed = app.authorize(&[("request_uri", &uri)]).await;
    assert_error_page(unnamed, "invalid_request").await;
    for (forged, code) in [
        (
            format!("{PREFIX}tgp_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
            "invalid_request_uri",
        ),
        (
            format!(
                "{PREFIX}{}",
                uri.trim_start_matches(PREFIX).replace("tgp_", "tga_")
            ),
            "invalid_request_uri",
        ),
        // Not the PAR endpoint's: a URL to fetch is not supported (OIDC Core §6.2).
        (
            "https://client.example/request.jwt".to_owned(),
            "request_uri_not_supported",
        ),
        (
            uri.trim_start_matches(PREFIX).to_owned(),
            "request_uri_not_supported",
        ),
    ] {
        let response = app
            .authorize(&[("client_id", "web"), ("request_uri", &forged)])
            .await;
        assert_error_page(response, code).await;
    }

    // Never opened within its 60 seconds: gone.
    clock.advance(61);
    let late = app
        .authorize(&[("client_id", "web"), ("request_uri", &uri)])
        .await;
    assert_error_page(late, "invalid_request_uri").await;

    // Opened in time, it waits while the user takes minutes over the page.
    let uri = request_uri(&app, &pushed_web_request()).await;
    let reference = [("client_id", "web"), ("request_uri", uri.as_str())];
    assert_eq!(app.authorize(&reference).await.status(), 200);
    clock.advance(600);
    let approved = app.consent(&reference, true).await;
    assert!(location_params(&location(&approved)).contains_key("code"));
}

#[tokio::test]
async fn a_push_is_answered_in_json_never_by_a_redirect() {
    let app = TestApp::new().start().await;
    let with = |name: &'static str, value: &'static str| {
        let mut form = pushed_web_request();
        form.retain(|(n, _)| *n != name);
        form.push((name, value));
        form
    };
    for (form, code) in [
        (
            with("redirect_uri", "https://evil.example/cb"),
            "invalid_request",
        ),
        (with("scope", "admin"), "invalid_scope"),
        (with("response_type", "token"), "unauthorized_client"),
        (with("code_challenge_method", "plain"), "invalid_request"),
        (with("request_uri", "urn:x"), "invalid_request"),
    ] {
        let response = push_as_web(&app, &form).await;
        assert_eq!(response.status(), 400, "{form:?}");
        assert!(response.headers().get("location").is_none());
        assert_eq!(json(response).await["error"], code, "{form:?}");
    }
    let anonymous = app.post_form("/o/par/", &web_request(), None).await;
    assert_eq!(anonymous.status(), 401);
    assert!(
        anonymous.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Basic")
    );
    assert_eq!(json(anonymous).await["error"], "invalid_client");
    let wrong = app
        .post_form("/o/par/", &pushed_web_request(), Some(("web", "tgs_wrong")))
        .await;
    assert_eq!(wrong.status(), 401);
    let get = app.http.get(app.url("/o/par/")).send().await.unwrap();
    assert_eq!(get.status(), 405);
    let not_a_form = app
        .http
        .post(app.url("/o/par/"))
        .basic_auth("web", Some(SECRET))
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(not_a_form.status(), 400);
    assert_eq!(json(not_a_form).await["error"], "invalid_request");
}

#[tokio::test]
async fn a_client_that_must_push_is_refused_a_direct_request() {
    let app = TestApp::new().start().await;
    let must_push = NewApplication {
        client_id: "bank".into(),
        client_secret_hash: Some(tollgate::credentials::hash_client_secret(SECRET, true).unwrap()),
        client_secret_sealed: None,
        client_type: ClientType::Confidential,
        grant_types: vec![GrantType::AuthorizationCode],
        redirect_uris: vec!["https://bank.example/cb".into()],
        post_logout_redirect_uris: vec![],
        allowed_origins: vec![],
        algorithm: SigningAlgorithm::RS256,
        userinfo_signed: false,
        skip_authorization: true,
        name: "Bank".into(),
        owner_id: None,
        security: tollgate::core::model::ClientSecurity {
            require_pushed_authorization_requests: true,
            ..Default::default()
        },
    };
    app.store.create_application(&must_push, 0).await.unwrap();
    app.sign_in("alice").await;
    let request = [
        ("response_type", "code"),
        ("redirect_uri", "https://bank.example/cb"),
        ("scope", "read"),
        ("state", "b"),
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
    ];
    let mut direct = request.to_vec();
    direct.push(("client_id", "bank"));
    let refused = location_params(&location(&app.authorize(&direct).await));
    assert_eq!(refused["error"], "invalid_request");
    assert_eq!(refused["state"], "b");
    assert!(!refused.contains_key("code"));

    let pushed = app
        .post_form("/o/par/", &request, Some(("bank", SECRET)))
        .await;
    let uri = json(pushed).await["request_uri"]
        .as_str()
        .unwrap()
        .to_owned();
    let answered = app
        .authorize(&[("client_id", "bank"), ("request_uri", &uri)])
        .await;
    assert!(location_params(&location(&answered)).contains_key("code"));

    // Other clients may still send their requests directly.
    assert_eq!(app.authorize(&web_request()).await.status(), 200);
}

#[tokio::test]
async fn the_server_can_require_every_request_to_be_pushed() {
    let app = TestApp::new()
        .settings(|s| s.require_pushed_authorization_requests = true)
        .start()
        .await;
    let document = app.discovery().await;
    assert_eq!(document["require_pushed_authorization_requests"], true);
    assert_eq!(
        document["pushed_authorization_request_endpoint"],
        app.url("/o/par/")
    );
    app.sign_in("alice").await;
    let refused = location_params(&location(&app.authorize(&web_request()).await));
    assert_eq!(refused["error"], "invalid_request");
    let uri = request_uri(&app, &pushed_web_request()).await;
    let page = app
        .authorize(&[("client_id", "web"), ("request_uri", &uri)])
        .await;
    assert_eq!(page.status(), 200, "the consent page");
}

/// `prompt=login` inside a pushed request sends the user to sign in once: the
/// sign-in during the request answers it, with no loop back to the login page.
#[tokio::test]
async fn a_sign_in_during_a_pushed_request_answers_its_prompt() {
    let clock = ManualClock::new();
    let app = TestApp::new().clock(clock.clone()).start().await;
    app.sign_in("alice").await;
    clock.advance(30);
    let mut form = pushed_web_request();
    form.push(("prompt", "login"));
    let uri = request_uri(&app, &form).await;
    let reference = [("client_id", "web"), ("request_uri", uri.as_str())];
    let to_login = app.authorize(&reference).await;
    assert_eq!(to_login.status(), 302);
    let login = location(&to_login);
    assert!(login.contains("request_uri"), "{login}");
    assert!(!login.contains("prompt"), "{login}");
    clock.advance(5);
    app.sign_in("alice").await;
    let page = app.authorize(&reference).await;
    assert_eq!(
        page.status(),
        200,
        "the consent page, not the sign-in again"
    );
}

/// Two approvals of one pushed request at once, 20 rounds: exactly one code.
#[tokio::test]
async fn a_pushed_request_racing_itself_is_answered_once() {
    let app = TestApp::new().start().await;
    app.sign_in("alice").await;
    for round in 0..20 {
        let mut form = pushed_web_request();
        form.push(("prompt", "consent"));
        let uri = request_uri(&app, &form).await;
        let reference = [("client_id", "web"), ("request_uri", uri.as_str())];
        let page = app.authorize(&reference).await.text().await.unwrap();
        let mut fields = hidden_fields(&page);
        fields.push(("allow".into(), "Authorize".into()));
        let approve = || {
            app.browser
                .post(app.url("/o/authorize/"))
                .header("origin", &app.base)
                .header("sec-fetch-site", "same-origin")
                .form(&fields)
                .send()
        };
        let (a, b) = tokio::join!(approve(), approve());
        let mut codes = 0;
        for response in [a.unwrap(), b.unwrap()] {
            // The loser finds the request answered, whether it opened it before or after.
            if response.status() == 400 {
                let page = response.text().await.unwrap();
                assert!(
                    page.contains("invalid_request_uri"),
                    "round {round}: {page}"
                );
                continue;
            }
            let answer = location_params(&location(&response));
            match answer.get("error") {
                Some(error) => assert_eq!(error, "invalid_request_uri", "round {round}"),
                None => codes += usize::from(answer.contains_key("code")),
            }
        }
        assert_eq!(codes, 1, "round {round}");
    }
}
