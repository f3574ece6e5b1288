//! The management pages over HTTP: a user's own applications, what they
//! authorized, and the staff pages; CSRF, ownership and staff checks.

use crate::support::*;
use tollgate::core::model::{NewApplication, NewUser};
use tollgate::core::{ClientType, GrantType, SigningAlgorithm};
use tollgate::core::{Clock, SecretHash};
use tollgate::credentials::hash_password;
use tollgate::system::SystemClock;

/// The value of the read-only field `id` (a secret shown once).
fn shown(html: &str, id: &str) -> String {
    let tag = format!("id=\"{id}\" readonly value=\"");
    let start = html
        .find(&tag)
        .unwrap_or_else(|| panic!("no {id} on the page:\n{html}"))
        + tag.len();
    html[start..start + html[start..].find('"').unwrap()].to_owned()
}

impl App {
    /// Gets a page as the signed-in browser, asserting the status.
    pub(crate) async fn page(&self, path: &str, status: u16) -> String {
        let response = self.browser.get(self.url(path)).send().await.unwrap();
        assert_eq!(response.status(), status, "GET {path}");
        response.text().await.unwrap()
    }

    /// Submits a form the way a browser does from one of our pages: with the
    /// page's CSRF token and same-origin headers.
    pub(crate) async fn submit(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        let login = self.page("/o/login/", 200).await;
        let csrf = hidden(&login, "csrf_token").unwrap();
        let mut form: Vec<(&str, &str)> = vec![("csrf_token", &csrf)];
        form.extend_from_slice(fields);
        self.browser
            .post(self.url(path))
            .header("origin", &self.base)
            .header("sec-fetch-site", "same-origin")
            .form(&form)
            .send()
            .await
            .unwrap()
    }

    pub(crate) async fn make_staff(&self, username: &str) {
        let user = NewUser {
            username: username.into(),
            password_hash: Some(hash_password(PASSWORD).unwrap()),
            staff: true,
            ..NewUser::default()
        };
        self.store
            .create_user(&user, SystemClock.now())
            .await
            .unwrap();
    }
}

const REGISTRATION: [(&str, &str); 5] = [
    ("name", "Reporting"),
    ("client_type", "confidential"),
    ("grant:client-credentials", "on"),
    ("redirect_uris", ""),
    ("algorithm", "ES256"),
];

/// Registers a client-credentials client as the signed-in user; returns its
/// page id, client id and the secret shown once.
async fn register(app: &App) -> (i64, String, String) {
    let response = app.submit("/o/applications/register/", &REGISTRATION).await;
    assert_eq!(response.status(), 201);
    let html = response.text().await.unwrap();
    let secret = shown(&html, "client-secret");
    let client_id = html
        .split("<code id=\"client-id\">")
        .nth(1)
        .and_then(|rest| rest.split('<').next())
        .unwrap()
        .to_owned();
    let id = app
        .store
        .application_by_client_id(&client_id)
        .await
        .unwrap()
        .unwrap()
        .id;
    (id, client_id, secret)
}

async fn client_credentials(app: &App, client_id: &str, secret: &str) -> u16 {
    let response = app
        .token(
            &[("grant_type", "client_credentials")],
            Some((client_id, secret)),
        )
        .await;
    response.status().as_u16()
}

#[tokio::test]
async fn pages_send_visitors_who_are_not_signed_in_to_the_sign_in_page() {
    let app = TestApp::new().start().await;
    for path in [
        "/o/applications/",
        "/o/authorized_tokens/",
        "/o/admin/keys/",
    ] {
        let response = app.browser.get(app.url(path)).send().await.unwrap();
        assert_eq!(response.status(), 302, "{path}");
        let next = url::form_urlencoded::byte_serialize(path.as_bytes()).collect::<String>();
        assert_eq!(location(&response), format!("/o/login/?next={next}"));
    }
    // A change without a session is refused, not redirected.
    let response = app.submit("/o/applications/register/", &REGISTRATION).await;
    assert_eq!(response.status(), 403);
}

#[tokio::test]
async fn a_registered_client_gets_a_secret_shown_once_that_works() {
    let app = TestApp::new().start().await;
    app.sign_in("alice").await;
    let (id, client_id, secret) = register(&app).await;
    assert!(secret.starts_with("tgs_"), "{secret}");
    assert_eq!(client_credentials(&app, &client_id, &secret).await, 200);
    // Only its hash is kept, and the page never shows it again.
    let stored = app.store.application_by_id(id).await.unwrap().unwrap();
    assert_eq!(
        stored.owner_id,
        app.store
            .user_by_username("alice")
            .await
            .unwrap()
            .map(|u| u.id)
    );
    assert_eq!(
        stored.client_secret_hash,
        Some(format!("sha256:{}", SecretHash::of(&secret).to_hex()))
    );
    let detail = app.page(&format!("/o/applications/{id}/"), 200).await;
    assert!(detail.contains(&client_id) && !detail.contains(&secret));
    let list = app.page("/o/applications/", 200).await;
    assert!(list.contains("Reporting") && list.contains(&client_id));
    assert!(
        !list.contains("The web app"),
        "only the user's own clients are listed"
    );
}

#[tokio::test]
async fn registration_errors_are_shown_next_to_their_field_and_nothing_is_stored() {
    let app = TestApp::new().start().await;
    app.sign_in("alice").await;
    let before = app.store.applications(None).await.unwrap().len();
    let with = |extra: &[(&'static str, &'static str)]| {
        let mut fields = vec![("client_type", "confidential"), ("algorithm", "RS256")];
        fields.extend_from_slice(extra);
        fields
    };
    let cases = [
        (
            "redirect_uris",
            "fragment",
            with(&[
                ("name", "A"),
                ("grant:authorization-code", "on"),
                ("redirect_uris", "https://app.example/cb#fragment"),
            ]),
        ),
        ("grant_types", "grant type", with(&[("name", "A")])),
        (
            "allowed_origins",
            "origin",
            with(&[
                ("name", "A"),
                ("grant:client-credentials", "on"),
                ("allowed_origins", "https://app.example/path"),
            ]),
        ),
        (
            "name",
            "name",
            with(&[("name", ""), ("grant:client-credentials", "on")]),
        ),
    ];
    for (field, says, fields) in cases {
        let response = app.submit("/o/applications/register/", &fields).await;
        assert_eq!(response.status(), 422, "{field}");
        let html = response.text().await.unwrap();
        let error = html
            .split(&format!("id=\"{field}-error\">"))
            .nth(1)
            .unwrap_or_else(|| panic!("no error next to {field}:\n{html}"));
        let message = &error[..error.find("</p>").unwrap()];
        assert!(message.to_lowercase().contains(says), "{field}: {message}");
        assert!(
            html.contains(&format!("aria-describedby=\"{field}-error\"")),
            "{field}"
        );
    }
    assert_eq!(app.store.applications(None).await.unwrap().len(), before);
}

#[tokio::test]
async fn another_users_application_does_not_exist_for_them() {
    let app = TestApp::new().start().await;
    app.sign_in("alice").await;
    let (id, client_id, secret) = register(&app).await;
    app.sign_in("bob").await;
    for path in ["", "update/", "delete/"] {
        app.page(&format!("/o/applications/{id}/{path}"), 404).await;
    }
    for path in ["update/", "delete/", "secret/"] {
        let response = app
            .submit(&format!("/o/applications/{id}/{path}"), &REGISTRATION)
            .await;
        assert_eq!(response.status(), 404, "{path}");
    }
    assert_eq!(client_credentials(&app, &client_id, &secret).await, 200);
    app.page("/o/applications/999999/", 404).await;
}

#[tokio::test]
async fn an_owner_updates_regenerates_the_secret_and_deletes() {
    let app = TestApp::new().start().await;
    app.sign_in("alice").await;
    let (id, client_id, old_secret) = register(&app).await;
    let form = app
        .page(&format!("/o/applications/{id}/update/"), 200)
        .await;
    assert!(form.contains("value=\"Reporting\""));
    let response = app
        .submit(
            &format!("/o/applications/{id}/update/"),
            &[
                ("name", "Reporting v2"),
                ("grant:client-credentials", "on"),
                ("grant:authorization-code", "on"),
                (
                    "redirect_uris",
                    "https://reports.example/cb\nhttps://reports.example/cb2",
                ),
                ("allowed_origins", "https://reports.example"),
            ],
        )
        .await;
    assert_eq!(response.status(), 303);
    assert_eq!(location(&response), format!("/o/applications/{id}/"));
    let updated = app.store.application_by_id(id).await.unwrap().unwrap();
    assert_eq!(updated.name, "Reporting v2");
    assert_eq!(
        updated.redirect_uris,
        ["https://reports.example/cb", "https://reports.example/cb2"]
    );
    assert_eq!(updated.algorithm.as_str(), "ES256", "the algorithm stays");

    let response = app
        .submit(&format!("/o/applications/{id}/secret/"), &[])
        .await;
    assert_eq!(response.status(), 200);
    let new_secret = shown(&response.text().await.unwrap(), "client-secret");
    assert_ne!(new_secret, old_secret);
    assert_eq!(client_credentials(&app, &client_id, &old_secret).await, 401);
    assert_eq!(client_credentials(&app, &client_id, &new_secret).await, 200);

    let confirm = app
        .page(&format!("/o/applications/{id}/delete/"), 200)
        .await;
    assert!(confirm.contains("cannot be undone"));
    let response = app
        .submit(&format!("/o/applications/{id}/delete/"), &[])
        .await;
    assert_eq!(response.status(), 303);
    assert_eq!(location(&response), "/o/applications/");
    assert!(app.store.application_by_id(id).await.unwrap().is_none());
    assert_eq!(client_credentials(&app, &client_id, &new_secret).await, 401);
}

#[tokio::test]
async fn forms_without_our_token_or_from_another_site_are_refused() {
    let app = TestApp::new().start().await;
    app.sign_in("alice").await;
    let before = app.store.applications(None).await.unwrap().len();
    let no_token = app
        .browser
        .post(app.url("/o/applications/register/"))
        .form(&REGISTRATION)
        .send()
        .await
        .unwrap();
    assert_eq!(no_token.status(), 403);
    let login = app.page("/o/login/", 200).await;
    let csrf = hidden(&login, "csrf_token").unwrap();
    let mut fields = REGISTRATION.to_vec();
    fields.push(("csrf_token", &csrf));
    let cross_site = app
        .browser
        .post(app.url("/o/applications/register/"))
        .header("origin", "https://evil.example")
        .form(&fields)
        .send()
        .await
        .unwrap();
    assert_eq!(cross_site.status(), 403);
    assert_eq!(app.store.applications(None).await.unwrap().len(), before);
}

#[tokio::test]
async fn management_pages_are_kept_out_of_frames_and_caches() {
    let app = TestApp::new().start().await;
    app.sign_in("alice").await;
    let response = app
        .browser
        .get(app.url("/o/applications/"))
        .send()
        .await
        .unwrap();
    let h = response.headers();
    assert_eq!(h["x-frame-options"], "DENY");
    assert_eq!(h["cache-control"], "no-store");
    let csp = h["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("frame-ancestors 'none'") && csp.contains("script-src 'self'"),
        "{csp}"
    );
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    let html = response.text().await.unwrap();
    assert!(html.contains("tollgate.js\" defer></script>") && !html.contains("<script>"));
    // Pages that run no script allow none.
    let login = app.browser.get(app.url("/o/login/")).send().await.unwrap();
    let login_csp = login.headers()["content-security-policy"].to_str().unwrap();
    assert!(!login_csp.contains("script-src"), "{login_csp}");
    let script = app
        .browser
        .get(app.url("/o/static/tollgate.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        script.headers()["content-type"],
        "text/javascript; charset=utf-8"
    );
}

#[tokio::test]
async fn revoking_an_authorization_ends_its_tokens_and_consent() {
    let app = TestApp::new().start().await;
    let code = app.code_for_web().await;
    let tokens = json(
        app.token(
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", WEB_REDIRECT),
                ("code_verifier", VERIFIER),
            ],
            Some(("web", SECRET)),
        )
        .await,
    )
    .await;
    let refresh = tokens["refresh_token"].as_str().unwrap();
    let list = app.page("/o/authorized_tokens/", 200).await;
    assert!(
        list.contains("The web app") && list.contains("<code>write</code>"),
        "{list}"
    );
    let web = app
        .store
        .application_by_client_id("web")
        .await
        .unwrap()
        .unwrap();
    let response = app
        .submit(&format!("/o/authorized_tokens/{}/delete/", web.id), &[])
        .await;
    assert_eq!(response.status(), 303);
    let list = app.page("/o/authorized_tokens/", 200).await;
    assert!(!list.contains("The web app"), "{list}");
    let again = app
        .token(
            &[("grant_type", "refresh_token"), ("refresh_token", refresh)],
            Some(("web", SECRET)),
        )
        .await;
    assert_eq!(again.status(), 400);
    assert_eq!(json(again).await["error"], "invalid_grant");
    let access = tokens["access_token"].as_str().unwrap();
    let introspected = app
        .post_form(
            "/o/introspect/",
            &[("token", access)],
            Some(("web", SECRET)),
        )
        .await;
    assert_eq!(
        json(introspected).await["active"],
        false,
        "the access token ends too"
    );
    // The consent is forgotten: the next request asks again.
    assert_eq!(app.authorize(&web_request()).await.status(), 200);
}

#[tokio::test]
async fn staff_pages_do_not_exist_for_other_users() {
    let app = TestApp::new().start().await;
    app.sign_in("alice").await;
    for path in [
        "/o/admin/",
        "/o/admin/users/",
        "/o/admin/tokens/",
        "/o/admin/keys/",
        "/o/admin/applications/",
    ] {
        app.page(path, 404).await;
    }
    let response = app
        .submit("/o/admin/keys/rotate/", &[("algorithm", "RS256")])
        .await;
    assert_eq!(response.status(), 404);
    let response = app.submit("/o/admin/users/", &[("username", "eve")]).await;
    assert_eq!(response.status(), 404);
    assert!(app.store.user_by_username("eve").await.unwrap().is_none());
}

#[tokio::test]
async fn staff_create_deactivate_and_reset_users() {
    let app = TestApp::new().start().await;
    app.make_staff("root").await;
    app.sign_in("root").await;
    let response = app
        .submit(
            "/o/admin/users/",
            &[("username", "carol"), ("email", "carol@example.com")],
        )
        .await;
    assert_eq!(response.status(), 201);
    let password = shown(&response.text().await.unwrap(), "new-password");
    let carol = app.store.user_by_username("carol").await.unwrap().unwrap();
    assert!(!carol.staff && carol.active);
    assert!(tollgate::credentials::verify_password(
        &password,
        carol.password_hash.as_deref().unwrap()
    ));
    let duplicate = app
        .submit("/o/admin/users/", &[("username", "carol")])
        .await;
    assert_eq!(duplicate.status(), 409);

    let response = app
        .submit(
            &format!("/o/admin/users/{}/active/", carol.id),
            &[("active", "false")],
        )
        .await;
    assert_eq!(response.status(), 303);
    assert!(
        !app.store
            .user_by_id(carol.id)
            .await
            .unwrap()
            .unwrap()
            .active
    );
    let root = app.store.user_by_username("root").await.unwrap().unwrap();
    let response = app
        .submit(
            &format!("/o/admin/users/{}/active/", root.id),
            &[("active", "false")],
        )
        .await;
    assert_eq!(response.status(), 409, "staff cannot lock themselves out");

    let response = app
        .submit(&format!("/o/admin/users/{}/password/", carol.id), &[])
        .await;
    assert_eq!(response.status(), 200);
    let reset = shown(&response.text().await.unwrap(), "new-password");
    let after = app.store.user_by_id(carol.id).await.unwrap().unwrap();
    assert_ne!(reset, password);
    assert!(tollgate::credentials::verify_password(
        &reset,
        after.password_hash.as_deref().unwrap()
    ));
    let users = app.page("/o/admin/users/", 200).await;
    assert!(users.contains("carol") && users.contains("deactivated") && !users.contains(&reset));
}

#[tokio::test]
async fn staff_find_and_revoke_tokens_without_seeing_them() {
    let app = TestApp::new().start().await;
    let issued = json(
        app.token(
            &[("grant_type", "client_credentials")],
            Some(("svc", SECRET)),
        )
        .await,
    )
    .await;
    let token = issued["access_token"].as_str().unwrap().to_owned();
    app.make_staff("root").await;
    app.sign_in("root").await;
    let empty = app.page("/o/admin/tokens/", 200).await;
    assert!(empty.contains("Search by client"));
    let found = app.page("/o/admin/tokens/?client_id=svc", 200).await;
    assert!(found.contains("<code>svc</code>") && found.contains("active"));
    assert!(!found.contains(&token), "token values are never shown");
    let found_id = hidden(&found, "id").unwrap();
    let response = app
        .submit(
            "/o/admin/tokens/revoke/",
            &[
                ("kind", "access"),
                ("id", &found_id),
                ("client_id", "svc"),
                ("username", ""),
            ],
        )
        .await;
    assert_eq!(response.status(), 303);
    assert_eq!(
        location(&response),
        "/o/admin/tokens/?client_id=svc&username="
    );
    let introspected = json(
        app.post_form(
            "/o/introspect/",
            &[("token", &token)],
            Some(("svc", SECRET)),
        )
        .await,
    )
    .await;
    assert_eq!(introspected["active"], false);
}

#[tokio::test]
async fn staff_rotate_a_signing_key_and_it_is_published_at_once() {
    let app = TestApp::new().start().await;
    app.make_staff("root").await;
    app.sign_in("root").await;
    let kids = |jwks: serde_json::Value| -> Vec<String> {
        jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["kid"].as_str().unwrap().to_owned())
            .collect()
    };
    let before = kids(
        json(
            app.http
                .get(app.url("/o/.well-known/jwks.json"))
                .send()
                .await
                .unwrap(),
        )
        .await,
    );
    let response = app
        .submit("/o/admin/keys/rotate/", &[("algorithm", "ES256")])
        .await;
    assert_eq!(response.status(), 303);
    let after = kids(
        json(
            app.http
                .get(app.url("/o/.well-known/jwks.json"))
                .send()
                .await
                .unwrap(),
        )
        .await,
    );
    let new: Vec<&String> = after.iter().filter(|k| !before.contains(k)).collect();
    assert_eq!(new.len(), 1, "{before:?} -> {after:?}");
    let page = app.page("/o/admin/keys/", 200).await;
    assert!(
        page.contains(new[0].as_str()) && page.contains("published, signs from"),
        "{page}"
    );
    let bad = app
        .submit("/o/admin/keys/rotate/", &[("algorithm", "HS256")])
        .await;
    assert_eq!(bad.status(), 400);
}

#[tokio::test]
async fn editing_shows_every_error_next_to_its_field() {
    let app = TestApp::new()
        .settings(|s| s.secret_key = None)
        .start()
        .await;
    app.sign_in("alice").await;
    // An HS256 client may not take a front-channel grant: said next to the
    // algorithm, which the edit form shows but does not let change.
    let alice = app.store.user_by_username("alice").await.unwrap().unwrap();
    let hs = NewApplication {
        client_id: "hs-owned".into(),
        client_secret_hash: Some("sha256:00".into()),
        client_secret_sealed: None,
        client_type: ClientType::Confidential,
        grant_types: vec![GrantType::AuthorizationCode],
        redirect_uris: vec!["https://hs.example/cb".into()],
        post_logout_redirect_uris: vec![],
        allowed_origins: vec![],
        algorithm: SigningAlgorithm::HS256,
        userinfo_signed: false,
        skip_authorization: false,
        name: "HS".into(),
        owner_id: Some(alice.id),
        security: Default::default(),
    };
    let hs = app
        .store
        .create_application(&hs, SystemClock.now())
        .await
        .unwrap();
    let response = app
        .submit(
            &format!("/o/applications/{}/update/", hs.id),
            &[
                ("name", "HS"),
                ("grant:authorization-code", "on"),
                ("grant:implicit", "on"),
                ("redirect_uris", "https://hs.example/cb"),
            ],
        )
        .await;
    assert_eq!(response.status(), 422);
    let html = response.text().await.unwrap();
    let error = html
        .split("id=\"algorithm-error\">")
        .nth(1)
        .expect("the error is shown");
    assert!(error.starts_with("HS256 is not allowed"), "{error}");
    // Every problem is listed at the top, linked to its field.
    let response = app
        .submit(
            &format!("/o/applications/{}/update/", hs.id),
            &[("name", "")],
        )
        .await;
    assert_eq!(response.status(), 422);
    let html = response.text().await.unwrap();
    assert!(html.contains("<a href=\"#name\">"), "{html}");
    assert!(html.contains("id=\"name-error\""), "{html}");
}

#[tokio::test]
async fn staff_confirm_before_deleting_any_application() {
    let app = TestApp::new().start().await;
    app.make_staff("root").await;
    app.sign_in("root").await;
    let web = app
        .store
        .application_by_client_id("web")
        .await
        .unwrap()
        .unwrap();
    let list = app.page("/o/admin/applications/", 200).await;
    assert!(
        list.contains("The web app") && !list.contains("method=\"post\""),
        "{list}"
    );
    let confirm = app
        .page(&format!("/o/admin/applications/{}/delete/", web.id), 200)
        .await;
    assert!(confirm.contains("cannot be undone"));
    assert!(
        app.store.application_by_id(web.id).await.unwrap().is_some(),
        "a GET deletes nothing"
    );
    let response = app
        .submit(&format!("/o/admin/applications/{}/delete/", web.id), &[])
        .await;
    assert_eq!(response.status(), 303);
    assert_eq!(location(&response), "/o/admin/applications/");
    assert!(app.store.application_by_id(web.id).await.unwrap().is_none());
    app.page(&format!("/o/admin/applications/{}/delete/", web.id), 404)
        .await;
}
