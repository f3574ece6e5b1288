//! OpenID Connect Back-Channel Logout 1.0: a `sid` in ID tokens, and a signed
//! logout token POSTed to each client a session signed in to when it ends (the
//! logout endpoint, a revoked authorization, a staff action), off the user's
//! request, retried when the client does not take it. The relying party here
//! is a server on loopback, reachable as an operator allows an internal
//! network (`outbound_allowed_networks`).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use serde_json::{Map, Value};
use tokio::sync::{mpsc, oneshot};
use tollgate::core::model::{ClientSecurity, NewApplication};
use tollgate::core::{ClientType, GrantType};

use crate::support::*;

const REDIRECT: &str = "https://bcl.example/cb";
const EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";

/// What the relying party was POSTed: its content type and `logout_token`.
struct Posted {
    content_type: String,
    token: String,
}

#[derive(Clone)]
struct Endpoint {
    posted: mpsc::UnboundedSender<Posted>,
    /// The statuses to answer, in turn; then 200.
    answers: Arc<Mutex<VecDeque<StatusCode>>>,
    /// Held until the test lets go, before answering the next POST.
    hold: Arc<Mutex<Option<oneshot::Receiver<()>>>>,
}

async fn take(State(rp): State<Endpoint>, headers: HeaderMap, body: String) -> StatusCode {
    let token = url::form_urlencoded::parse(body.as_bytes())
        .find(|(name, _)| name == "logout_token")
        .map(|(_, value)| value.into_owned())
        .unwrap_or_default();
    let content_type = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    rp.posted
        .send(Posted {
            content_type,
            token,
        })
        .unwrap();
    let held = rp.hold.lock().unwrap().take();
    if let Some(held) = held {
        let _ = held.await;
    }
    rp.answers
        .lock()
        .unwrap()
        .pop_front()
        .unwrap_or(StatusCode::OK)
}

/// The relying party's side: the logout tokens it receives.
struct RelyingParty {
    uri: String,
    received: mpsc::UnboundedReceiver<Posted>,
    answers: Arc<Mutex<VecDeque<StatusCode>>>,
    hold: Arc<Mutex<Option<oneshot::Receiver<()>>>>,
}

impl RelyingParty {
    async fn start() -> Self {
        let (posted, received) = mpsc::unbounded_channel();
        let endpoint = Endpoint {
            posted,
            answers: Arc::default(),
            hold: Arc::default(),
        };
        let (answers, hold) = (endpoint.answers.clone(), endpoint.hold.clone());
        let router = Router::new()
            .route("/backchannel-logout", axum::routing::post(take))
            .with_state(endpoint);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        RelyingParty {
            uri: format!("http://127.0.0.1:{port}/backchannel-logout"),
            received,
            answers,
            hold,
        }
    }

    /// The next POST (a bound for a broken test, not a wait the test relies on).
    async fn next(&mut self) -> Posted {
        tokio::time::timeout(Duration::from_secs(20), self.received.recv())
            .await
            .expect("a logout token within 20 s")
            .expect("the endpoint runs")
    }

    fn answer(&self, statuses: &[u16]) {
        let mut answers = self.answers.lock().unwrap();
        answers.extend(statuses.iter().map(|s| StatusCode::from_u16(*s).unwrap()));
    }

    /// Holds the next POST unanswered until the sender is used or dropped.
    fn hold_next(&self) -> oneshot::Sender<()> {
        let (release, held) = oneshot::channel();
        *self.hold.lock().unwrap() = Some(held);
        release
    }
}

async fn app_for(db: Db, test: &str) -> Option<App> {
    TestApp::new()
        .on(db, test)
        .clock(ManualClock::new())
        .settings(|s| {
            s.outbound_allowed_networks = vec!["127.0.0.1".into()];
            s.backchannel_logout_retry_seconds = 0;
            s.oidc_rp_initiated_logout_always_prompt = false;
        })
        .start()
        .await
}

async fn fresh_app() -> App {
    app_for(Db::Sqlite, "").await.unwrap()
}

/// Registers `client_id` with its back-channel logout URI.
async fn register(app: &App, client_id: &str, uri: &str, session_required: bool) {
    let client = NewApplication {
        skip_authorization: true,
        security: ClientSecurity {
            backchannel_logout_uri: Some(uri.into()),
            backchannel_logout_session_required: session_required,
            ..ClientSecurity::default()
        },
        ..new_client(
            client_id,
            ClientType::Confidential,
            vec![GrantType::AuthorizationCode],
            &[REDIRECT],
        )
    };
    app.store
        .create_application(&client, app.clock.now())
        .await
        .unwrap();
}

/// The signed-in browser's code flow for `client_id`: its token response.
async fn tokens_for(app: &App, client_id: &str, scope: &str) -> Value {
    tokens_through(app, client_id, REDIRECT, scope).await
}

/// The signed-in browser's code flow for `client_id` at `redirect`: its token response.
async fn tokens_through(app: &App, client_id: &str, redirect: &str, scope: &str) -> Value {
    let response = app
        .authorize(&[
            ("client_id", client_id),
            ("response_type", "code"),
            ("redirect_uri", redirect),
            ("scope", scope),
            ("state", "st"),
            ("nonce", "n-1"),
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
        ])
        .await;
    let code = location_params(&location(&response))["code"].clone();
    let tokens = app
        .token(
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", redirect),
                ("code_verifier", VERIFIER),
            ],
            Some((client_id, SECRET)),
        )
        .await;
    assert_eq!(tokens.status(), 200);
    json(tokens).await
}

async fn id_token_claims(app: &App, tokens: &Value, client_id: &str) -> Map<String, Value> {
    verified_jwt(app, tokens["id_token"].as_str().unwrap(), client_id, true)
        .await
        .1
}

/// A logout token as the relying party must check it (§2.6): signed by the
/// provider's published key, typed, for it, from this issuer, with the event
/// and no nonce. Its claims.
async fn checked_logout_token(app: &App, posted: &Posted, client_id: &str) -> Map<String, Value> {
    assert_eq!(posted.content_type, "application/x-www-form-urlencoded");
    let (header, claims) = verified_jwt(app, &posted.token, client_id, true).await;
    assert_eq!(header.typ.as_deref(), Some("logout+jwt"));
    assert_eq!(claims["events"], serde_json::json!({ EVENT: {} }));
    assert!(!claims.contains_key("nonce"), "a logout token has no nonce");
    let (iat, exp) = (
        claims["iat"].as_i64().unwrap(),
        claims["exp"].as_i64().unwrap(),
    );
    assert_eq!(iat, app.clock.now());
    assert!(exp > iat && exp - iat <= 120, "short-lived: {iat}..{exp}");
    assert!(claims["jti"].as_str().is_some_and(|j| j.len() >= 16));
    claims
}

async fn logout(app: &App, hint: &str) -> reqwest::Response {
    app.browser
        .get(app.url("/o/logout/"))
        .query(&[("id_token_hint", hint)])
        .send()
        .await
        .unwrap()
}

async fn a_sign_out_tells_each_client_of_the_session_with_its_sid(db: Db) {
    let Some(app) = app_for(db, "bcl_sign_out").await else {
        return;
    };
    let mut rp = RelyingParty::start().await;
    register(&app, "bcl", &rp.uri, true).await;
    app.sign_in("alice").await;
    let tokens = tokens_for(&app, "bcl", "openid").await;
    let id = id_token_claims(&app, &tokens, "bcl").await;
    let sid = id["sid"].as_str().expect("an ID token names its session");
    // A refresh repeats the session (OIDC Core §12.2: the same sign-in).
    let refreshed = app
        .token(
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", tokens["refresh_token"].as_str().unwrap()),
            ],
            Some(("bcl", SECRET)),
        )
        .await;
    let refreshed = json(refreshed).await;
    assert_eq!(id_token_claims(&app, &refreshed, "bcl").await["sid"], sid);
    // `rp`, signed in through the same session, has no back-channel URI: not told.
    let rp_tokens = tokens_through(&app, "rp", RP_REDIRECT, "openid").await;
    assert_eq!(id_token_claims(&app, &rp_tokens, "rp").await["sid"], sid);

    let page = logout(&app, tokens["id_token"].as_str().unwrap()).await;
    assert_eq!(page.status(), 200);
    let claims = checked_logout_token(&app, &rp.next().await, "bcl").await;
    assert_eq!(claims["sub"], id["sub"]);
    assert_eq!(claims["sid"], sid);

    // Another sign-in is another session, with another sid, told in its turn,
    // though it ends on another node (the browser's cookie goes to either).
    app.sign_in("alice").await;
    let again = tokens_for(&app, "bcl", "openid").await;
    let second = id_token_claims(&app, &again, "bcl").await;
    assert_ne!(second["sid"], sid);
    let node = app.another_node().await;
    let page = app
        .browser
        .get(node.url("/o/logout/"))
        .query(&[("id_token_hint", again["id_token"].as_str().unwrap())])
        .send()
        .await
        .unwrap();
    assert!(page.text().await.unwrap().contains("You are signed out"));
    let claims = checked_logout_token(&app, &rp.next().await, "bcl").await;
    assert_eq!(
        claims["sid"], second["sid"],
        "only this session's client, once"
    );
}

on_both_databases!(a_sign_out_tells_each_client_of_the_session_with_its_sid);

#[tokio::test]
async fn the_user_never_waits_for_the_client_which_is_asked_again_after_a_5xx() {
    let app = fresh_app().await;
    let mut rp = RelyingParty::start().await;
    register(&app, "bcl", &rp.uri, false).await;
    app.sign_in("alice").await;
    let tokens = tokens_for(&app, "bcl", "openid").await;
    rp.answer(&[503]);
    let release = rp.hold_next();
    // The client holds the first POST unanswered: the sign-out is answered all the same.
    let page = logout(&app, tokens["id_token"].as_str().unwrap()).await;
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("You are signed out"));
    let first = rp.next().await;
    release.send(()).unwrap();
    // Its 503 is answered by the same token again.
    let second = rp.next().await;
    assert_eq!(second.token, first.token);
    checked_logout_token(&app, &second, "bcl").await;
}

#[tokio::test]
async fn a_clients_4xx_is_its_last_word() {
    let app = fresh_app().await;
    let mut rp = RelyingParty::start().await;
    register(&app, "bcl", &rp.uri, false).await;
    rp.answer(&[400]);
    for _ in 0..2 {
        app.sign_in("alice").await;
        let tokens = tokens_for(&app, "bcl", "openid").await;
        logout(&app, tokens["id_token"].as_str().unwrap()).await;
    }
    let first = checked_logout_token(&app, &rp.next().await, "bcl").await;
    // Refused with 400, the first is not sent again: the next POST is the second session's.
    let second = checked_logout_token(&app, &rp.next().await, "bcl").await;
    assert_ne!(first["sid"], second["sid"]);
}

#[tokio::test]
async fn a_sign_in_without_openid_is_not_told() {
    let app = fresh_app().await;
    let mut rp = RelyingParty::start().await;
    register(&app, "bcl", &rp.uri, false).await;
    register(&app, "bcl-oidc", &rp.uri, false).await;
    app.sign_in("alice").await;
    // bcl signs in for an API scope only: it has no ID token, nothing to end.
    tokens_for(&app, "bcl", "read").await;
    let tokens = tokens_for(&app, "bcl-oidc", "openid").await;
    logout(&app, tokens["id_token"].as_str().unwrap()).await;
    checked_logout_token(&app, &rp.next().await, "bcl-oidc").await;
    // Had bcl been told, its token would have come too; the next sign-out's comes instead.
    app.sign_in("alice").await;
    let tokens = tokens_for(&app, "bcl-oidc", "openid").await;
    let sid = id_token_claims(&app, &tokens, "bcl-oidc").await["sid"].clone();
    logout(&app, tokens["id_token"].as_str().unwrap()).await;
    let claims = checked_logout_token(&app, &rp.next().await, "bcl-oidc").await;
    assert_eq!(claims["sid"], sid);
}

#[tokio::test]
async fn revoking_an_authorization_signs_the_user_out_of_that_client() {
    let app = fresh_app().await;
    let mut rp = RelyingParty::start().await;
    register(&app, "bcl", &rp.uri, false).await;
    register(&app, "bcl-sid", &rp.uri, true).await;
    app.sign_in("alice").await;
    let tokens = tokens_for(&app, "bcl", "openid").await;
    let sub = id_token_claims(&app, &tokens, "bcl").await["sub"].clone();
    let sid_tokens = tokens_for(&app, "bcl-sid", "openid").await;
    let sid = id_token_claims(&app, &sid_tokens, "bcl-sid").await["sid"].clone();
    for (client_id, with_sid) in [("bcl", false), ("bcl-sid", true)] {
        let client = app
            .store
            .application_by_client_id(client_id)
            .await
            .unwrap()
            .unwrap();
        let done = app
            .submit(&format!("/o/authorized_tokens/{}/delete/", client.id), &[])
            .await;
        assert_eq!(done.status(), 303);
        let claims = checked_logout_token(&app, &rp.next().await, client_id).await;
        assert_eq!(claims["sub"], sub);
        // Every session of the user at the client, unless it needs them one by one.
        match with_sid {
            false => assert!(!claims.contains_key("sid")),
            true => assert_eq!(claims["sid"], sid),
        }
    }
}

#[tokio::test]
async fn a_staff_password_reset_or_deactivation_ends_the_users_sessions_at_their_clients() {
    let app = fresh_app().await;
    let mut rp = RelyingParty::start().await;
    register(&app, "bcl", &rp.uri, true).await;
    app.make_staff("root").await;
    let alice = app.store.user_by_username("alice").await.unwrap().unwrap();
    // Deactivated (then active again), then a new password: she cannot sign in after that.
    for action in ["active", "password"] {
        // Alice signs in; the staff member, in the same browser, acts on her.
        app.sign_in("alice").await;
        let tokens = tokens_for(&app, "bcl", "openid").await;
        let sid = id_token_claims(&app, &tokens, "bcl").await["sid"].clone();
        app.sign_in("root").await;
        let path = format!("/o/admin/users/{}/{action}/", alice.id);
        let done = app.submit(&path, &[("active", "false")]).await;
        assert!(
            done.status().is_success() || done.status() == 303,
            "{action}"
        );
        let claims = checked_logout_token(&app, &rp.next().await, "bcl").await;
        assert_eq!(claims["sid"], sid, "{action}");
        app.submit(
            &format!("/o/admin/users/{}/active/", alice.id),
            &[("active", "true")],
        )
        .await;
    }
}

#[tokio::test]
async fn discovery_and_registration_speak_back_channel_logout() {
    let app = TestApp::new()
        .settings(|s| s.dcr_enabled = true)
        .settings(|s| s.dcr_registration_access = tollgate::settings::RegistrationAccess::Open)
        .start()
        .await;
    let discovery = app.discovery().await;
    assert_eq!(discovery["backchannel_logout_supported"], true);
    assert_eq!(discovery["backchannel_logout_session_supported"], true);
    assert!(
        discovery["claims_supported"]
            .as_array()
            .unwrap()
            .contains(&"sid".into())
    );
    let register = |metadata: Value| {
        app.http
            .post(app.url("/o/register/"))
            .json(&metadata)
            .send()
    };
    let made = register(serde_json::json!({
        "redirect_uris": [REDIRECT],
        "backchannel_logout_uri": "https://bcl.example/logout",
        "backchannel_logout_session_required": true,
    }))
    .await
    .unwrap();
    assert_eq!(made.status(), 201);
    let made = json(made).await;
    assert_eq!(made["backchannel_logout_uri"], "https://bcl.example/logout");
    assert_eq!(made["backchannel_logout_session_required"], true);
    let client = app
        .store
        .application_by_client_id(made["client_id"].as_str().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert!(client.security.backchannel_logout_session_required);
    let refused = register(serde_json::json!({
        "redirect_uris": [REDIRECT],
        "backchannel_logout_uri": "https://bcl.example/logout#fragment",
    }))
    .await
    .unwrap();
    assert_eq!(refused.status(), 400);
    let refused = json(refused).await;
    assert_eq!(refused["error"], "invalid_client_metadata");
}
