//! The authorization endpoint over HTTP: sign-in, consent, errors, response modes.

use crate::support::*;

fn with(
    base: &[(&'static str, &'static str)],
    changes: &[(&'static str, &'static str)],
) -> Vec<(&'static str, &'static str)> {
    let mut out: Vec<_> = base
        .iter()
        .filter(|(k, _)| !changes.iter().any(|(c, _)| c == k))
        .copied()
        .collect();
    out.extend(changes.iter().filter(|(_, v)| !v.is_empty()).copied());
    out
}

#[tokio::test]
async fn untrusted_client_or_redirect_gets_an_error_page_never_a_redirect() {
    let app = TestApp::new().start().await;
    app.sign_in("alice").await;
    let cases = [
        with(&web_request(), &[("client_id", "nobody")]),
        with(&web_request(), &[("client_id", "")]),
        with(
            &web_request(),
            &[("redirect_uri", "https://evil.example/cb")],
        ),
        with(
            &web_request(),
            &[("redirect_uri", "https://app.example/cb#frag")],
        ),
        with(
            &web_request(),
            &[("redirect_uri", "https://user@app.example/cb")],
        ),
        with(
            &web_request(),
            &[("redirect_uri", "https://app.example/cb?next=evil")],
        ),
        with(&web_request(), &[("redirect_uri", "not a uri")]),
        // Two registered and none named: no safe default.
        with(&web_request(), &[("redirect_uri", "")]),
    ];
    for query in cases {
        let response = app.authorize(&query).await;
        assert_eq!(response.status(), 400, "{query:?}");
        assert!(response.headers().get("location").is_none(), "{query:?}");
        assert_eq!(response.headers()["x-frame-options"], "DENY");
        let body = response.text().await.unwrap();
        assert!(body.contains("invalid_request"), "{body}");
        assert!(
            !body.contains("app.example/other"),
            "registered URIs must not be echoed: {body}"
        );
    }
    // Signed out, the same: no redirect to an unvalidated URI (DOT's #1719).
    let fresh = app
        .http
        .get(app.url("/o/authorize/"))
        .query(&with(
            &web_request(),
            &[
                ("redirect_uri", "https://evil.example/"),
                ("prompt", "none"),
            ],
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(fresh.status(), 400);
    assert!(fresh.headers().get("location").is_none());
}

#[tokio::test]
async fn other_errors_redirect_with_state_and_iss() {
    let app = TestApp::new().start().await;
    let cases = [
        (
            with(&web_request(), &[("response_type", "WRONG")]),
            "unsupported_response_type",
            '?',
        ),
        // A token response's error goes in the fragment, where the token would have.
        (
            with(&web_request(), &[("response_type", "token")]),
            "unauthorized_client",
            '#',
        ),
        (
            with(&web_request(), &[("scope", "read admin")]),
            "invalid_scope",
            '?',
        ),
        (
            with(&web_request(), &[("code_challenge", "")]),
            "invalid_request",
            '?',
        ),
        (
            with(&web_request(), &[("code_challenge_method", "plain")]),
            "invalid_request",
            '?',
        ),
        (
            with(&web_request(), &[("code_challenge_method", "S512")]),
            "invalid_request",
            '?',
        ),
        (
            with(&web_request(), &[("response_mode", "telepathy")]),
            "invalid_request",
            '?',
        ),
    ];
    for (query, error, separator) in cases {
        let response = app.authorize(&query).await;
        assert_eq!(response.status(), 302, "{query:?}");
        let location = location(&response);
        assert!(
            location.starts_with(&format!("https://app.example/cb{separator}")),
            "{location}"
        );
        let params = location_params(&location);
        assert_eq!(params["error"], error, "{query:?}");
        assert!(params.contains_key("error_description"));
        assert_eq!(params["state"], "s-123");
        assert_eq!(params["iss"], app.base);
    }
    // Token-bearing responses carry errors in the fragment.
    let response = app
        .authorize(&[
            ("client_id", "spa"),
            ("response_type", "token"),
            ("scope", "admin"),
            ("state", "z"),
        ])
        .await;
    let location = location(&response);
    assert!(location.starts_with("http://127.0.0.1/cb#"), "{location}");
    assert_eq!(location_params(&location)["error"], "invalid_scope");
}

#[tokio::test]
async fn a_repeated_parameter_is_an_error() {
    let app = TestApp::new().start().await;
    let mut query = web_request();
    query.push(("scope", "read"));
    let response = app.authorize(&query).await;
    assert_eq!(
        location_params(&location(&response))["error"],
        "invalid_request"
    );
    let mut query = web_request();
    query.push(("client_id", "web"));
    assert_eq!(
        app.authorize(&query).await.status(),
        400,
        "repeated client_id: error page"
    );
}

#[tokio::test]
async fn signed_out_users_are_sent_to_sign_in_and_back() {
    let app = TestApp::new().start().await;
    let response = app.authorize(&web_request()).await;
    assert_eq!(response.status(), 302);
    let login = location(&response);
    assert!(login.starts_with("/o/login/?next="), "{login}");
    let page = app.browser.get(app.url(&login)).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(
        page.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("frame-ancestors 'none'")
    );
    let html = page.text().await.unwrap();
    assert!(html.contains("name=\"username\"") && html.contains("name=\"password\""));
    let (csrf, next) = (
        hidden(&html, "csrf_token").unwrap(),
        hidden(&html, "next").unwrap(),
    );
    assert!(next.starts_with("/o/authorize/?"), "{next}");

    let wrong = app
        .browser
        .post(app.url("/o/login/"))
        .form(&[
            ("username", "alice"),
            ("password", "nope"),
            ("csrf_token", &csrf),
            ("next", &next),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 200);
    assert!(wrong.text().await.unwrap().contains("not correct"));
    let inactive = app
        .browser
        .post(app.url("/o/login/"))
        .form(&[
            ("username", "mallory"),
            ("password", PASSWORD),
            ("csrf_token", &csrf),
            ("next", &next),
        ])
        .send()
        .await
        .unwrap();
    assert!(
        inactive.text().await.unwrap().contains("not correct"),
        "inactive users cannot sign in"
    );

    let ok = app
        .browser
        .post(app.url("/o/login/"))
        .form(&[
            ("username", "alice"),
            ("password", PASSWORD),
            ("csrf_token", &csrf),
            ("next", &next),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 303);
    assert_eq!(location(&ok), next);
    let cookie = ok.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    let consent = app.browser.get(app.url(&next)).send().await.unwrap();
    assert_eq!(consent.status(), 200);
    let html = consent.text().await.unwrap();
    assert!(
        html.contains("The web app")
            && html.contains("Reading scope")
            && html.contains("name=\"allow\""),
        "{html}"
    );
}

#[tokio::test]
async fn sign_in_without_csrf_or_with_an_external_next_is_refused() {
    let app = TestApp::new().start().await;
    let page = app
        .browser
        .get(app.url("/o/login/?next=https://evil.example/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(
        hidden(&page, "next").as_deref(),
        Some(""),
        "an external next is dropped"
    );
    let no_csrf = app
        .browser
        .post(app.url("/o/login/"))
        .form(&[("username", "alice"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(no_csrf.status(), 403);
    let csrf = hidden(&page, "csrf_token").unwrap();
    let cross_site = app
        .browser
        .post(app.url("/o/login/"))
        .header("origin", "https://evil.example")
        .form(&[
            ("username", "alice"),
            ("password", PASSWORD),
            ("csrf_token", csrf.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(cross_site.status(), 403);
}

#[tokio::test]
async fn repeated_failures_lock_the_username() {
    let app = TestApp::new().start().await;
    let page = app
        .browser
        .get(app.url("/o/login/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = hidden(&page, "csrf_token").unwrap();
    let attempt = |password: &'static str| {
        let csrf = csrf.clone();
        let app = &app;
        async move {
            app.browser
                .post(app.url("/o/login/"))
                .form(&[
                    ("username", "bob"),
                    ("password", password),
                    ("csrf_token", &csrf),
                    ("next", "/o/login/"),
                ])
                .send()
                .await
                .unwrap()
        }
    };
    for _ in 0..5 {
        assert_eq!(attempt("wrong").await.status(), 200);
    }
    let locked = attempt(PASSWORD).await;
    assert_eq!(
        locked.status(),
        429,
        "even the right password waits out the lock"
    );
    assert!(locked.headers().contains_key("retry-after"));
}

#[tokio::test]
async fn consent_allow_gives_a_code_and_deny_gives_access_denied() {
    let app = TestApp::new().start().await;
    app.sign_in("alice").await;
    let denied = app.consent(&web_request(), false).await;
    let params = location_params(&location(&denied));
    assert_eq!(
        (params["error"].as_str(), params["state"].as_str()),
        ("access_denied", "s-123")
    );

    let allowed = app.consent(&web_request(), true).await;
    assert_eq!(allowed.status(), 302);
    let location = location(&allowed);
    assert!(
        location.starts_with("https://app.example/cb?code=tgc_"),
        "{location}"
    );
    let params = location_params(&location);
    assert_eq!(
        (params["state"].as_str(), params["iss"].as_str()),
        ("s-123", app.base.as_str())
    );
}

#[tokio::test]
async fn consent_post_without_csrf_or_with_tampered_fields_is_refused() {
    let app = TestApp::new().start().await;
    app.sign_in("alice").await;
    let html = app.authorize(&web_request()).await.text().await.unwrap();
    let fields = hidden_fields(&html);

    // The consent form with one field replaced, approved.
    let submit = |name: &'static str, value: &'static str| {
        let mut form: Vec<(String, String)> =
            fields.iter().filter(|(n, _)| n != name).cloned().collect();
        form.push((name.into(), value.into()));
        form.push(("allow".into(), "Authorize".into()));
        app.browser
            .post(app.url("/o/authorize/"))
            .form(&form)
            .send()
    };

    let response = submit("csrf_token", "forged").await.unwrap();
    assert_eq!(response.status(), 403);
    assert!(response.headers().get("location").is_none());

    // A tampered redirect URI is validated again: an error page, no redirect.
    let response = submit("redirect_uri", "https://evil.example/cb")
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    assert!(response.headers().get("location").is_none());

    // A tampered scope is checked again too.
    let response = submit("scope", "read write admin").await.unwrap();
    assert_eq!(
        location_params(&location(&response))["error"],
        "invalid_scope"
    );
}

#[tokio::test]
async fn consent_is_remembered_per_scope_set_and_prompts_override_it() {
    let app = TestApp::new().start().await;
    app.sign_in("alice").await;
    app.consent(&with(&web_request(), &[("scope", "read")]), true)
        .await;

    // Same or fewer scopes: no page.
    let again = app
        .authorize(&with(&web_request(), &[("scope", "read")]))
        .await;
    assert_eq!(again.status(), 302);
    assert!(location_params(&location(&again)).contains_key("code"));
    // More scopes: asked again.
    assert_eq!(app.authorize(&web_request()).await.status(), 200);
    // prompt=consent and approval_prompt=force always ask.
    assert_eq!(
        app.authorize(&with(
            &web_request(),
            &[("scope", "read"), ("prompt", "consent")]
        ))
        .await
        .status(),
        200
    );
    assert_eq!(
        app.authorize(&with(
            &web_request(),
            &[("scope", "read"), ("approval_prompt", "force")]
        ))
        .await
        .status(),
        200
    );
    // prompt=none: success when remembered, consent_required when not.
    let silent = app
        .authorize(&with(
            &web_request(),
            &[("scope", "read"), ("prompt", "none")],
        ))
        .await;
    assert!(location_params(&location(&silent)).contains_key("code"));
    let silent = app
        .authorize(&with(&web_request(), &[("prompt", "none")]))
        .await;
    assert_eq!(
        location_params(&location(&silent))["error"],
        "consent_required"
    );
    // Another user has consented to nothing.
    let bob = TestApp::new().start().await;
    bob.sign_in("bob").await;
    assert_eq!(
        bob.authorize(&with(&web_request(), &[("scope", "read")]))
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn force_setting_always_asks() {
    let app = TestApp::new()
        .settings(|s| s.request_approval_prompt = tollgate::core::authorize::ApprovalPrompt::Force)
        .start()
        .await;
    app.sign_in("alice").await;
    app.consent(&web_request(), true).await;
    assert_eq!(app.authorize(&web_request()).await.status(), 200);
    let auto = app
        .authorize(&with(&web_request(), &[("approval_prompt", "auto")]))
        .await;
    assert_eq!(
        auto.status(),
        302,
        "approval_prompt=auto on the request is honoured"
    );
}

#[tokio::test]
async fn prompt_none_and_login() {
    let app = TestApp::new().start().await;
    let silent = app
        .authorize(&with(&web_request(), &[("prompt", "none")]))
        .await;
    let params = location_params(&location(&silent));
    assert_eq!(
        (params["error"].as_str(), params["state"].as_str()),
        ("login_required", "s-123")
    );

    app.sign_in("alice").await;
    let forced = app
        .authorize(&with(&web_request(), &[("prompt", "login consent")]))
        .await;
    let login = location(&forced);
    assert!(
        login.starts_with("/o/login/?next="),
        "prompt=login forces sign-in: {login}"
    );
    let next: std::collections::HashMap<String, String> =
        url::form_urlencoded::parse(login.split_once('?').unwrap().1.as_bytes())
            .into_owned()
            .collect();
    assert!(
        next["next"].contains("prompt=consent") && !next["next"].contains("login"),
        "{}",
        next["next"]
    );
}

/// `prompt=select_account` asks for a sign-in (a browser holds one account), and
/// the request comes back without it: one trip to the sign-in page, not a loop.
#[tokio::test]
async fn select_account_signs_in_once_then_goes_on() {
    let app = TestApp::new().start().await;
    app.sign_in("alice").await;
    let forced = app
        .authorize(&with(&web_request(), &[("prompt", "select_account")]))
        .await;
    let login = location(&forced);
    assert!(login.starts_with("/o/login/?next="), "{login}");
    let next: std::collections::HashMap<String, String> =
        url::form_urlencoded::parse(login.split_once('?').unwrap().1.as_bytes())
            .into_owned()
            .collect();
    let next = &next["next"];
    assert!(!next.contains("select_account"), "{next}");
    app.sign_in("alice").await;
    let back = app
        .browser
        .get(format!("{}{next}", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(
        back.status(),
        200,
        "the consent page, not the sign-in again"
    );
}

#[tokio::test]
async fn trusted_clients_skip_consent() {
    let app = TestApp::new().start().await;
    app.sign_in("alice").await;
    let response = app
        .authorize(&[
            ("client_id", "trusted"),
            ("response_type", "code"),
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
        ])
        .await;
    assert_eq!(response.status(), 302);
    let location = location(&response);
    assert!(
        location.starts_with("https://trusted.example/cb?code="),
        "the only registered URI is used: {location}"
    );
}

#[tokio::test]
async fn implicit_token_in_the_fragment_and_loopback_on_any_port() {
    let app = TestApp::new().start().await;
    app.sign_in("alice").await;
    let query = [
        ("client_id", "spa"),
        ("response_type", "token"),
        ("redirect_uri", "http://127.0.0.1:54321/cb"),
        ("state", "q"),
    ];
    let response = app.consent(&query, true).await;
    let redirect = location(&response);
    assert!(
        redirect.starts_with("http://127.0.0.1:54321/cb#access_token=tga_"),
        "{redirect}"
    );
    let params = location_params(&redirect);
    assert_eq!(
        (
            params["token_type"].as_str(),
            params["state"].as_str(),
            params["scope"].as_str()
        ),
        ("Bearer", "q", "read")
    );
    assert_eq!(params["iss"], app.base);
    let query_mode = app
        .authorize(&[
            ("client_id", "spa"),
            ("response_type", "token"),
            ("response_mode", "query"),
        ])
        .await;
    assert_eq!(
        location_params(&location(&query_mode))["error"],
        "invalid_request",
        "tokens never go in a query"
    );
}

#[tokio::test]
async fn form_post_answers_with_a_self_submitting_form() {
    let app = TestApp::new().start().await;
    app.sign_in("alice").await;
    let response = app
        .consent(
            &with(&web_request(), &[("response_mode", "form_post")]),
            true,
        )
        .await;
    assert_eq!(response.status(), 200);
    let csp = response.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        csp.contains("form-action https://app.example") && csp.contains("script-src 'sha256-"),
        "{csp}"
    );
    let html = response.text().await.unwrap();
    assert!(
        html.contains("action=\"https:&#x2f;&#x2f;app.example&#x2f;cb\"")
            || html.contains("action=\"https://app.example/cb\""),
        "{html}"
    );
    assert!(hidden(&html, "code").unwrap().starts_with("tgc_"));
    assert_eq!(hidden(&html, "state").as_deref(), Some("s-123"));
    assert_eq!(hidden(&html, "iss").as_deref(), Some(app.base.as_str()));
}

#[tokio::test]
async fn pages_send_security_headers_and_the_stylesheet_is_local() {
    let app = TestApp::new().start().await;
    let page = app.browser.get(app.url("/o/login/")).send().await.unwrap();
    for (name, value) in [
        ("x-frame-options", "DENY"),
        ("x-content-type-options", "nosniff"),
        ("cache-control", "no-store"),
    ] {
        assert_eq!(page.headers()[name], value);
    }
    // Under `no-referrer` browsers send `Origin: null` with our own forms.
    assert_eq!(page.headers()["referrer-policy"], "same-origin");
    let csp = page.headers()["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("default-src 'none'") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    // Chromium applies form-action to the redirect that follows a submission,
    // which for the consent form is the client's redirect URI.
    assert!(!csp.contains("form-action"), "{csp}");
    let css = app
        .browser
        .get(app.url("/o/static/tollgate.css"))
        .send()
        .await
        .unwrap();
    assert_eq!(css.status(), 200);
    assert!(
        css.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/css")
    );
}
