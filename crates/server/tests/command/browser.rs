//! A real browser (Debian's headless Chromium, through chromedriver) against a
//! real `tollgate serve`: the sign-in, consent and sign-out pages as users see
//! them, with the cookies, redirects and Content-Security-Policy a browser enforces.
//! Screenshots of every page: `target/tmp/screenshots/<test>/`.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::support::*;
use base64::Engine as _;
use oauth2::PkceCodeChallenge;
use serde_json::Value;
use tollgate_testkit::location_params;
use tollgate_testkit::webdriver::{Browser, Screenshots};

const PASSWORD: &str = "browser test password";
const WAIT: Duration = Duration::from_secs(10);

/// A stand-in for the client's web server: answers every request `200 OK`
/// with a page saying "callback", and records the request lines it saw.
struct Responder {
    base: String,
    requests: Arc<Mutex<Vec<String>>>,
}

impl Responder {
    fn start() -> Responder {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let requests = Arc::new(Mutex::new(Vec::new()));
        let seen = requests.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().map_while(Result::ok) {
                let seen = seen.clone();
                // A thread each: Chromium opens speculative connections that send nothing.
                std::thread::spawn(move || answer(stream, &seen));
            }
        });
        Responder { base, requests }
    }

    fn saw(&self, path_prefix: &str) -> bool {
        let prefix = format!("GET {path_prefix}");
        let requests = self.requests.lock().unwrap();
        requests.iter().any(|line| line.starts_with(&prefix))
    }
}

fn answer(mut stream: std::net::TcpStream, seen: &Mutex<Vec<String>>) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => return,
        }
    }
    let head = String::from_utf8_lossy(&head);
    seen.lock()
        .unwrap()
        .push(head.lines().next().unwrap_or_default().to_owned());
    let body = "<!doctype html><title>callback</title><p>callback</p>";
    let _ = write!(
        stream,
        "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
}

/// A SQLite-backed server with user `alice`, and a client `web` made with `flags`;
/// returns the server and the client's secret.
fn server_with_client(dir: &TempDir, flags: &[&str]) -> (Server, String) {
    let url = format!("sqlite://{}", dir.0.join("browser.db").display());
    let env = [("TOLLGATE_DATABASE_URL", url.as_str())];
    let out = run(tollgate(&dir.0)
        .args(["createuser", "alice", "--password", PASSWORD])
        .envs(env));
    assert!(out.status.success(), "{}", stderr(&out));
    let out = run(tollgate(&dir.0)
        .args(["createapplication", "confidential", "authorization-code"])
        .args(["--client-id", "web", "--name", "Web app"])
        .args(flags)
        .envs(env));
    let secret = generated_secret(&out);
    (Server::start(&dir.0, &env), secret)
}

/// A fresh browser, and the screenshot folder of test `name`; `None` (after
/// saying so) when Chromium is not installed, outside CI.
async fn browser(name: &str) -> Option<(Browser, Screenshots)> {
    let browser = Browser::start().await?;
    Some((browser, Screenshots::new(env!("CARGO_TARGET_TMPDIR"), name)))
}

/// Fills in and submits the sign-in page the browser is on, as alice.
async fn sign_in(browser: &Browser, shots: &mut Screenshots) {
    sign_in_as(browser, shots, "alice").await;
}

async fn sign_in_as(browser: &Browser, shots: &mut Screenshots, username: &str) {
    browser
        .wait_for_url(|url| url.contains("/o/login/"), WAIT)
        .await;
    assert_eq!(browser.title().await, "Sign in");
    browser.find("#username").await.fill(username).await;
    browser.find("#password").await.fill(PASSWORD).await;
    shots.take(browser, "sign-in").await;
    browser.find("button[type=submit]").await.click().await;
}

/// The code exchange, as the client's back end does it: the token response.
async fn exchange(
    base: &str,
    secret: &str,
    code: &str,
    redirect_uri: &str,
    verifier: &str,
) -> Value {
    let response = reqwest::Client::new()
        .post(format!("{base}/o/token/"))
        .basic_auth("web", Some(secret))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect_uri),
            ("code_verifier", verifier),
        ])
        .send()
        .await
        .unwrap();
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    assert_eq!(status, 200, "{body}");
    body
}

fn authorize_url(base: &str, redirect_uri: &str, extra: &[(&str, &str)]) -> String {
    let mut url = url::Url::parse(&format!("{base}/o/authorize/")).unwrap();
    url.query_pairs_mut()
        .extend_pairs([
            ("response_type", "code"),
            ("client_id", "web"),
            ("redirect_uri", redirect_uri),
        ])
        .extend_pairs(extra);
    url.into()
}

#[tokio::test]
async fn sign_in_and_consent_land_on_the_redirect_uri_with_a_code() {
    let Some((browser, mut shots)) =
        browser("sign_in_and_consent_land_on_the_redirect_uri_with_a_code").await
    else {
        return;
    };
    let responder = Responder::start();
    let callback = format!("{}/callback", responder.base);
    let dir = TempDir::new();
    let (server, secret) = server_with_client(&dir, &["--redirect-uris", &callback]);
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();

    browser
        .goto(&authorize_url(
            &server.base,
            &callback,
            &[
                ("scope", "read"),
                ("state", "xyz"),
                ("code_challenge", challenge.as_str()),
                ("code_challenge_method", "S256"),
            ],
        ))
        .await;
    sign_in(&browser, &mut shots).await;

    // The consent page names the client and the scope, for the user signed in.
    let consent = browser
        .wait_for_url(
            |url| url.starts_with(&server.base) && !url.contains("/o/login/"),
            WAIT,
        )
        .await;
    assert!(consent.contains("/o/authorize/"), "{consent}");
    let allow = browser.find("button[name=allow]").await;
    assert_eq!(browser.title().await, "Authorize Web app");
    let text = browser.page_text().await;
    assert!(text.contains("Signed in as alice"), "{text}");
    assert!(text.contains("read"), "{text}");
    shots.take(&browser, "consent").await;
    allow.click().await;

    let landed = browser
        .wait_for_url(|url| url.starts_with(&callback), WAIT)
        .await;
    shots.take(&browser, "callback").await;
    assert_eq!(browser.page_text().await, "callback");
    assert!(
        responder.saw("/callback?"),
        "the client's server got the redirect"
    );
    let params = location_params(&landed);
    assert_eq!(params["state"], "xyz", "{landed}");
    assert_eq!(params["iss"], server.base, "{landed}");
    let code = params
        .get("code")
        .unwrap_or_else(|| panic!("no code in {landed}"));

    // A real code: the client's back end redeems it, once, with the PKCE verifier.
    let tokens = exchange(&server.base, &secret, code, &callback, verifier.secret()).await;
    assert!(
        tokens["access_token"]
            .as_str()
            .is_some_and(|t| !t.is_empty()),
        "{tokens}"
    );
    assert_eq!(tokens["scope"], "read", "{tokens}");
}

/// The claims of a JWT, unverified (the OIDC interop tests verify signatures).
fn claims(jwt: &str) -> Value {
    let payload = jwt.split('.').nth(1).expect("a JWT");
    let json = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    serde_json::from_slice(&json).unwrap()
}

#[tokio::test]
async fn rp_initiated_logout_asks_for_confirmation_then_returns_to_the_client() {
    let Some((browser, mut shots)) =
        browser("rp_initiated_logout_asks_for_confirmation_then_returns_to_the_client").await
    else {
        return;
    };
    let responder = Responder::start();
    let callback = format!("{}/callback", responder.base);
    let bye = format!("{}/bye", responder.base);
    let dir = TempDir::new();
    let (server, secret) = server_with_client(
        &dir,
        &[
            "--redirect-uris",
            &callback,
            "--post-logout-redirect-uris",
            &bye,
            "--skip-authorization",
        ],
    );

    // Signed in for an ID token: no consent page for this client.
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    browser
        .goto(&authorize_url(
            &server.base,
            &callback,
            &[
                ("scope", "openid"),
                ("state", "s0"),
                ("nonce", "n-0S6_WzA2Mj"),
                ("code_challenge", challenge.as_str()),
                ("code_challenge_method", "S256"),
            ],
        ))
        .await;
    sign_in(&browser, &mut shots).await;
    let landed = browser
        .wait_for_url(|url| url.starts_with(&callback), WAIT)
        .await;
    shots.take(&browser, "callback").await;
    let params = location_params(&landed);
    assert_eq!(params["state"], "s0", "{landed}");
    let tokens = exchange(
        &server.base,
        &secret,
        &params["code"],
        &callback,
        verifier.secret(),
    )
    .await;
    let id_token = tokens["id_token"].as_str().expect("an ID token").to_owned();
    let id_claims = claims(&id_token);
    assert_eq!(id_claims["nonce"], "n-0S6_WzA2Mj", "{id_claims}");
    assert_eq!(id_claims["aud"], "web", "{id_claims}");

    // The client asks to sign the user out: Tollgate asks the user first.
    let mut logout = url::Url::parse(&format!("{}/o/logout/", server.base)).unwrap();
    logout.query_pairs_mut().extend_pairs([
        ("id_token_hint", id_token.as_str()),
        ("post_logout_redirect_uri", bye.as_str()),
        ("state", "s1"),
    ]);
    browser.goto(logout.as_str()).await;
    let confirm = browser.find("button[name=allow]").await;
    assert!(
        browser
            .url()
            .await
            .starts_with(&format!("{}/o/logout/", server.base))
    );
    assert_eq!(browser.title().await, "Sign out");
    let text = browser.page_text().await;
    assert!(text.contains("Web app asks to sign you out"), "{text}");
    assert!(text.contains("alice"), "{text}");
    shots.take(&browser, "sign-out-confirmation").await;
    assert!(
        !responder.saw("/bye"),
        "not back at the client before confirming"
    );
    confirm.click().await;

    let back = browser
        .wait_for_url(|url| url.starts_with(&bye), WAIT)
        .await;
    shots.take(&browser, "signed-out").await;
    assert_eq!(location_params(&back)["state"], "s1", "{back}");
    assert!(
        responder.saw("/bye?"),
        "the client's server got the redirect"
    );

    // The session is over: a silent authorization request cannot sign in.
    let (challenge, _) = PkceCodeChallenge::new_random_sha256();
    browser
        .goto(&authorize_url(
            &server.base,
            &callback,
            &[
                ("scope", "openid"),
                ("state", "s2"),
                ("prompt", "none"),
                ("code_challenge", challenge.as_str()),
                ("code_challenge_method", "S256"),
            ],
        ))
        .await;
    let refused = browser
        .wait_for_url(|url| url.starts_with(&callback), WAIT)
        .await;
    shots.take(&browser, "prompt-none-refused").await;
    let params = location_params(&refused);
    assert_eq!(params["error"], "login_required", "{refused}");
    assert_eq!(params["state"], "s2", "{refused}");
    assert!(!params.contains_key("code"), "{refused}");
}

#[tokio::test]
async fn a_user_registers_an_application_and_reads_its_secret_once() {
    let Some((browser, mut shots)) =
        browser("a_user_registers_an_application_and_reads_its_secret_once").await
    else {
        return;
    };
    let dir = TempDir::new();
    let (server, _) = server_with_client(&dir, &["--redirect-uris", "https://web.example/cb"]);

    // Not signed in: the sign-in page, then back to the list.
    browser
        .goto(&format!("{}/o/applications/", server.base))
        .await;
    sign_in(&browser, &mut shots).await;
    browser
        .wait_for_url(|url| url.ends_with("/o/applications/"), WAIT)
        .await;
    assert!(
        browser
            .page_text()
            .await
            .contains("You have not registered an application yet")
    );
    shots.take(&browser, "applications-empty").await;
    browser
        .find("a.button[href$='/applications/register/']")
        .await
        .click()
        .await;
    browser
        .wait_for_url(|url| url.ends_with("/o/applications/register/"), WAIT)
        .await;

    // The authorization-code grant (ticked by default) without a redirect URI:
    // the error is shown next to the redirect URI field.
    browser.find("#name").await.fill("Nightly report").await;
    shots.take(&browser, "register-form").await;
    browser.find("form button[type=submit]").await.click().await;
    let error = browser.find("#redirect_uris-error").await.text().await;
    assert!(error.contains("redirect URI"), "{error}");
    assert_eq!(
        browser
            .find("#redirect_uris")
            .await
            .attribute("aria-describedby")
            .await
            .as_deref(),
        Some("redirect_uris-error")
    );
    shots.take(&browser, "register-error").await;

    // A client-credentials client instead.
    browser
        .find("#grant-authorization-code")
        .await
        .click()
        .await;
    browser
        .find("#grant-client-credentials")
        .await
        .click()
        .await;
    browser.find("form button[type=submit]").await.click().await;
    let secret = browser
        .find("#client-secret")
        .await
        .attribute("value")
        .await
        .expect("the secret, shown once");
    let client_id = browser.find("#client-id").await.text().await;
    assert!(browser.page_text().await.contains("shown only now"));
    shots.take(&browser, "application-secret").await;
    let copy = browser.find("button[data-copy='client-secret']").await;
    copy.click().await;
    browser.wait_for_text("Copied", WAIT).await;

    // The secret works at the token endpoint.
    let response = reqwest::Client::new()
        .post(format!("{}/o/token/", server.base))
        .basic_auth(&client_id, Some(&secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());

    // And it is never shown again.
    let id = browser
        .find("a[href$='/update/']")
        .await
        .attribute("href")
        .await
        .unwrap();
    browser
        .goto(&format!(
            "{}{}",
            server.base,
            id.trim_end_matches("update/")
        ))
        .await;
    let text = browser.page_text().await;
    assert!(
        text.contains(&client_id) && !text.contains(&secret),
        "{text}"
    );
    shots.take(&browser, "application-detail").await;
    browser
        .goto(&format!("{}/o/applications/", server.base))
        .await;
    assert!(browser.page_text().await.contains("Nightly report"));
    shots.take(&browser, "applications").await;
}

#[tokio::test]
async fn revoking_an_authorized_application_stops_its_refresh_token() {
    let Some((browser, mut shots)) =
        browser("revoking_an_authorized_application_stops_its_refresh_token").await
    else {
        return;
    };
    let responder = Responder::start();
    let callback = format!("{}/callback", responder.base);
    let dir = TempDir::new();
    let (server, secret) = server_with_client(&dir, &["--redirect-uris", &callback]);
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    browser
        .goto(&authorize_url(
            &server.base,
            &callback,
            &[
                ("scope", "read write"),
                ("code_challenge", challenge.as_str()),
                ("code_challenge_method", "S256"),
            ],
        ))
        .await;
    sign_in(&browser, &mut shots).await;
    browser.find("button[name=allow]").await.click().await;
    let landed = browser
        .wait_for_url(|url| url.starts_with(&callback), WAIT)
        .await;
    let code = location_params(&landed)["code"].clone();
    let tokens = exchange(&server.base, &secret, &code, &callback, verifier.secret()).await;
    let refresh = tokens["refresh_token"]
        .as_str()
        .expect("a refresh token")
        .to_owned();

    browser
        .goto(&format!("{}/o/authorized_tokens/", server.base))
        .await;
    let text = browser.page_text().await;
    assert!(
        text.contains("Web app") && text.contains("read") && text.contains("write"),
        "{text}"
    );
    shots.take(&browser, "authorized-applications").await;
    browser
        .find("button[aria-label='Revoke access of Web app']")
        .await
        .click()
        .await;
    browser.find("main > p").await;
    let text = browser.page_text().await;
    assert!(
        text.contains("No application has access to your account"),
        "{text}"
    );
    shots
        .take(&browser, "authorized-applications-revoked")
        .await;

    let response = reqwest::Client::new()
        .post(format!("{}/o/token/", server.base))
        .basic_auth("web", Some(&secret))
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], "invalid_grant", "{body}");
}

#[tokio::test]
async fn a_staff_member_rotates_the_signing_key() {
    let Some((browser, mut shots)) = browser("a_staff_member_rotates_the_signing_key").await else {
        return;
    };
    let dir = TempDir::new();
    let (server, _) = server_with_client(&dir, &["--redirect-uris", "https://web.example/cb"]);
    let url = format!("sqlite://{}", dir.0.join("browser.db").display());
    let out = run(tollgate(&dir.0)
        .args(["createuser", "root", "--password", PASSWORD, "--staff"])
        .env("TOLLGATE_DATABASE_URL", &url));
    assert!(out.status.success(), "{}", stderr(&out));
    let jwks_kids = || async {
        let jwks: Value = reqwest::get(format!("{}/o/.well-known/jwks.json", server.base))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["kid"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    let before = jwks_kids().await;

    browser.goto(&format!("{}/o/admin/", server.base)).await;
    sign_in_as(&browser, &mut shots, "root").await;
    browser
        .wait_for_url(|url| url.ends_with("/o/admin/"), WAIT)
        .await;
    shots.take(&browser, "admin").await;
    browser.find("a[href$='/admin/keys/']").await.click().await;
    browser
        .wait_for_url(|url| url.ends_with("/o/admin/keys/"), WAIT)
        .await;
    shots.take(&browser, "signing-keys").await;
    browser
        .find("form[action$='/rotate/'] button")
        .await
        .click()
        .await;
    let page = browser.wait_for_text("published, signs from", WAIT).await;
    shots.take(&browser, "signing-keys-rotated").await;

    let after = jwks_kids().await;
    let new: Vec<&String> = after.iter().filter(|k| !before.contains(k)).collect();
    assert_eq!(new.len(), 1, "{before:?} -> {after:?}");
    assert!(
        page.contains(new[0].as_str()),
        "the page lists the new key {}",
        new[0]
    );
}

#[tokio::test]
async fn a_device_is_connected_by_a_user_in_the_browser() {
    let Some((browser, mut shots)) =
        browser("a_device_is_connected_by_a_user_in_the_browser").await
    else {
        return;
    };
    let dir = TempDir::new();
    let (server, _) = server_with_client(&dir, &["--redirect-uris", "https://web.example/cb"]);
    let url = format!("sqlite://{}", dir.0.join("browser.db").display());
    let out = run(tollgate(&dir.0)
        .args([
            "createapplication",
            "public",
            "urn:ietf:params:oauth:grant-type:device_code",
        ])
        .args(["--client-id", "tv", "--name", "Living-room TV"])
        .env("TOLLGATE_DATABASE_URL", &url));
    assert!(out.status.success(), "{}", stderr(&out));

    // The device asks for its codes and shows the user where to go.
    let http = reqwest::Client::new();
    let codes: Value = http
        .post(format!("{}/o/device-authorization/", server.base))
        .form(&[("client_id", "tv"), ("scope", "read")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let poll = || async {
        let response = http
            .post(format!("{}/o/token/", server.base))
            .form(&[
                ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
                ("device_code", codes["device_code"].as_str().unwrap()),
                ("client_id", "tv"),
            ])
            .send()
            .await
            .unwrap();
        (
            response.status().as_u16(),
            response.json::<Value>().await.unwrap(),
        )
    };
    let (status, pending) = poll().await;
    assert_eq!(
        (status, pending["error"].as_str()),
        (400, Some("authorization_pending"))
    );

    // The user opens the link, signs in, checks the code and connects the device.
    browser
        .goto(codes["verification_uri_complete"].as_str().unwrap())
        .await;
    sign_in(&browser, &mut shots).await;
    let field = browser.find("#user_code").await;
    assert_eq!(
        field.attribute("value").await.as_deref(),
        codes["user_code"].as_str()
    );
    shots.take(&browser, "device-code").await;
    browser.find("form button[type=submit]").await.click().await;
    let connect = browser.find("button[name=allow]").await;
    let text = browser.page_text().await;
    assert!(text.contains("Connect Living-room TV?"), "{text}");
    shots.take(&browser, "device-confirm").await;
    connect.click().await;
    browser.wait_for_text("Device connected", WAIT).await;
    shots.take(&browser, "device-connected").await;

    // The polling device receives its tokens.
    let (status, tokens) = poll().await;
    assert_eq!(status, 200, "{tokens}");
    assert_eq!(tokens["scope"], "read");
    assert!(
        tokens["access_token"]
            .as_str()
            .is_some_and(|t| t.starts_with("tga_"))
    );
}
