//! The device authorization grant (RFC 8628) over HTTP: the codes, every
//! answer to a poll, the pages where the user enters the code and decides,
//! and the throttling of wrong codes.

use crate::support::*;
use serde_json::Value;

async fn start(app: &App) -> Value {
    let response = app
        .post_form(
            "/o/device-authorization/",
            &[("client_id", "tv"), ("scope", "read")],
            None,
        )
        .await;
    assert_eq!(response.status(), 200);
    json(response).await
}

async fn poll(app: &App, device_code: &str) -> (u16, Value) {
    let response = app
        .token(
            &[
                ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
                ("device_code", device_code),
                ("client_id", "tv"),
            ],
            None,
        )
        .await;
    (response.status().as_u16(), json(response).await)
}

impl App {
    /// Submits `path`'s form with the CSRF token of the device page.
    async fn device_form(&self, path: &str, fields: &[(&str, &str)]) -> (u16, String) {
        let page = self
            .browser
            .get(self.url("/o/device/"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let csrf = hidden(&page, "csrf_token").expect("the device page has a form");
        let mut form = vec![("csrf_token", csrf.as_str())];
        form.extend_from_slice(fields);
        let response = self
            .browser
            .post(self.url(path))
            .header("origin", &self.base)
            .form(&form)
            .send()
            .await
            .unwrap();
        (response.status().as_u16(), response.text().await.unwrap())
    }
}

async fn a_device_gets_tokens_once_after_the_user_approves(db: Db) {
    let Some(app) = TestApp::new().on(db, "device").start().await else {
        return;
    };
    tv_client(&app).await;
    let codes = start(&app).await;
    let user_code = codes["user_code"].as_str().unwrap();
    let device_code = codes["device_code"].as_str().unwrap();
    assert_eq!(user_code.len(), 9);
    assert_eq!(&user_code[4..5], "-");
    assert!(
        user_code
            .chars()
            .filter(|c| *c != '-')
            .all(|c| "BCDFGHJKLMNPQRSTVWXZ".contains(c)),
        "{user_code}"
    );
    assert_eq!(codes["verification_uri"], app.url("/o/device/"));
    assert_eq!(
        codes["verification_uri_complete"],
        app.url(&format!("/o/device/?user_code={user_code}"))
    );
    assert_eq!(
        (codes["expires_in"].as_u64(), codes["interval"].as_u64()),
        (Some(600), Some(5))
    );

    // Before the user decides: wait, and slow down when polled faster than the interval.
    let (status, body) = poll(&app, device_code).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("authorization_pending"))
    );
    let (status, body) = poll(&app, device_code).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("slow_down")));
    let (_, body) = poll(&app, "tgd_not-a-real-code").await;
    assert_eq!(body["error"], "invalid_grant", "an unknown code");

    // The user types the code as they like (lower case, no dash) and approves.
    app.sign_in("alice").await;
    let prefilled = app
        .browser
        .get(app.url("/o/device/"))
        .query(&[("user_code", user_code)])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        prefilled.contains(&format!("value=\"{user_code}\"")),
        "{prefilled}"
    );
    let typed = user_code.replace('-', "").to_lowercase();
    let (status, confirm) = app
        .device_form("/o/device/", &[("user_code", &typed)])
        .await;
    assert_eq!(status, 200, "{confirm}");
    assert!(
        confirm.contains("Connect Living-room TV?") && confirm.contains("<code>read</code>"),
        "{confirm}"
    );
    let shown = hidden(&confirm, "user_code").unwrap();
    assert_eq!(shown, user_code);
    let (status, done) = app
        .device_form(
            "/o/device/confirm/",
            &[("user_code", &shown), ("allow", "Connect")],
        )
        .await;
    assert_eq!(status, 200);
    assert!(done.contains("Device connected"), "{done}");

    let (status, tokens) = poll(&app, device_code).await;
    assert_eq!(status, 200, "{tokens}");
    assert_eq!(tokens["scope"], "read");
    assert!(tokens["access_token"].as_str().unwrap().starts_with("tga_"));
    assert!(tokens["refresh_token"].is_string());
    let introspected = json(
        app.post_form(
            "/o/introspect/",
            &[("token", tokens["access_token"].as_str().unwrap())],
            Some(("svc", SECRET)),
        )
        .await,
    )
    .await;
    assert_eq!(
        (
            introspected["active"].as_bool(),
            introspected["username"].as_str()
        ),
        (Some(true), Some("alice"))
    );
    // A device code yields tokens once; its user code is spent too.
    let (_, again) = poll(&app, device_code).await;
    assert_eq!(again["error"], "invalid_grant");
    let (status, page) = app
        .device_form("/o/device/", &[("user_code", user_code)])
        .await;
    assert_eq!(status, 409);
    assert!(page.contains("already been used"), "{page}");
}

async fn a_denial_and_an_expiry_reach_the_device(db: Db) {
    let Some(app) = TestApp::new().on(db, "device").start().await else {
        return;
    };
    tv_client(&app).await;
    app.sign_in("alice").await;
    let codes = start(&app).await;
    let (user_code, device_code) = (
        codes["user_code"].as_str().unwrap(),
        codes["device_code"].as_str().unwrap(),
    );
    let (_, confirm) = app
        .device_form("/o/device/", &[("user_code", user_code)])
        .await;
    assert!(confirm.contains("Connect Living-room TV?"));
    let (_, done) = app
        .device_form("/o/device/confirm/", &[("user_code", user_code)])
        .await;
    assert!(done.contains("Device not connected"), "{done}");
    let (_, body) = poll(&app, device_code).await;
    assert_eq!(body["error"], "access_denied");

    let Some(expiring) = TestApp::new()
        .settings(|s| s.device_code_expire_seconds = 0)
        .on(db, "device")
        .start()
        .await
    else {
        return;
    };
    tv_client(&expiring).await;
    expiring.sign_in("alice").await;
    let codes = start(&expiring).await;
    let (_, body) = poll(&expiring, codes["device_code"].as_str().unwrap()).await;
    assert_eq!(body["error"], "expired_token");
    let (status, page) = expiring
        .device_form(
            "/o/device/",
            &[("user_code", codes["user_code"].as_str().unwrap())],
        )
        .await;
    assert_eq!(status, 410);
    assert!(page.contains("has expired"), "{page}");
}

async fn wrong_codes_are_told_apart_and_throttled(db: Db) {
    let Some(app) = TestApp::new().on(db, "device").start().await else {
        return;
    };
    tv_client(&app).await;
    // Only clients registered for the grant get codes.
    let refused = app
        .post_form("/o/device-authorization/", &[("client_id", "spa")], None)
        .await;
    assert_eq!(refused.status(), 400);
    assert_eq!(json(refused).await["error"], "unauthorized_client");
    let doc = json(
        app.http
            .get(app.url("/.well-known/oauth-authorization-server"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        doc["device_authorization_endpoint"],
        app.url("/o/device-authorization/")
    );
    assert!(
        doc["grant_types_supported"]
            .to_string()
            .contains("device_code")
    );

    app.sign_in("alice").await;
    for attempt in 1..=5 {
        let (status, page) = app
            .device_form("/o/device/", &[("user_code", "BBBB-BBBB")])
            .await;
        assert_eq!(status, 422, "attempt {attempt}");
        assert!(page.contains("That code is not right"), "{page}");
    }
    let codes = start(&app).await;
    let (status, page) = app
        .device_form(
            "/o/device/",
            &[("user_code", codes["user_code"].as_str().unwrap())],
        )
        .await;
    assert_eq!(
        status, 429,
        "even the right code waits once the guesses are used up"
    );
    assert!(page.contains("Too many wrong codes"), "{page}");
    // The device pages need a signed-in user.
    let anonymous = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let response = anonymous
        .get(app.url("/o/device/?user_code=BCDF-GHJK"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 302);
    assert!(
        location(&response).starts_with("/o/login/?next=%2Fo%2Fdevice%2F%3Fuser_code%3DBCDF-GHJK")
    );
}

on_both_databases!(
    a_device_gets_tokens_once_after_the_user_approves,
    a_denial_and_an_expiry_reach_the_device,
    wrong_codes_are_told_apart_and_throttled,
);
