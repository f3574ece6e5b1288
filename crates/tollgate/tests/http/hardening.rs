//! What attack and fault tests found: guessing throttled per client address
//! (through trusted proxies only), failures aging one by one and counted by
//! every node, targeted users keeping their own places, client secrets.

use crate::support::*;
use tollgate::core::model::NewUser;

/// The password grant of the `pw` client, from `from` as a trusted proxy would say.
async fn password_grant(
    app: &App,
    username: &str,
    password: &str,
    from: Option<&str>,
) -> reqwest::Response {
    let mut request = app
        .http
        .post(app.url("/o/token/"))
        .basic_auth("pw", Some(SECRET))
        .form(&[
            ("grant_type", "password"),
            ("username", username),
            ("password", password),
        ]);
    if let Some(address) = from {
        request = request.header("x-forwarded-for", address);
    }
    request.send().await.unwrap()
}

/// `200`, or `refused` / `throttled` from the grant's error description.
async fn outcome(response: reqwest::Response) -> &'static str {
    match response.status().as_u16() {
        200 => "ok",
        400 => {
            let body = json(response).await;
            let description = body["error_description"].as_str().unwrap_or_default();
            if description.contains("too many") {
                "throttled"
            } else {
                "refused"
            }
        }
        other => panic!("unexpected status {other}"),
    }
}

fn behind_a_proxy(settings: &mut tollgate::Settings) {
    settings.trusted_proxies = vec!["127.0.0.0/8".into()];
}

/// More users with alice's password hash (no new argon2 hashing).
async fn more_users(app: &App, names: impl Iterator<Item = String>) {
    let hash = app
        .store
        .user_by_username("alice")
        .await
        .unwrap()
        .unwrap()
        .password_hash;
    for username in names {
        let user = NewUser {
            username,
            password_hash: hash.clone(),
            ..NewUser::default()
        };
        app.store.create_user(&user, 0).await.unwrap();
    }
}

async fn a_trusted_proxy_names_the_client(db: Db) {
    let Some(app) = TestApp::new()
        .settings(behind_a_proxy)
        .on(db, "a_trusted_proxy_names_the_client")
        .start()
        .await
    else {
        return;
    };
    let attacker = Some("6.6.6.6, 203.0.113.66");
    for _ in 0..5 {
        assert_eq!(
            outcome(password_grant(&app, "alice", "guess", attacker).await).await,
            "refused"
        );
    }
    assert_eq!(
        outcome(password_grant(&app, "alice", PASSWORD, attacker).await).await,
        "throttled",
        "the attacker's address is locked for alice"
    );
    assert_eq!(
        outcome(password_grant(&app, "alice", PASSWORD, Some("198.51.100.7")).await).await,
        "ok",
        "alice, from her own address behind the same proxy, is not"
    );
}

async fn an_untrusted_peer_cannot_pick_its_address(db: Db) {
    let Some(app) = TestApp::new()
        .on(db, "an_untrusted_peer_cannot_pick_its_address")
        .start()
        .await
    else {
        return;
    };
    for i in 0..5 {
        let claimed = format!("192.0.2.{i}");
        assert_eq!(
            outcome(password_grant(&app, "bob", "guess", Some(&claimed)).await).await,
            "refused"
        );
    }
    assert_eq!(
        outcome(password_grant(&app, "bob", PASSWORD, Some("192.0.2.99")).await).await,
        "throttled",
        "X-Forwarded-For from a peer that is no trusted proxy is ignored"
    );
}

async fn many_users_mistaking_lock_out_nobody(db: Db) {
    let Some(app) = TestApp::new()
        .on(db, "many_users_mistaking_lock_out_nobody")
        .start()
        .await
    else {
        return;
    };
    // Everyone behind one address, as at an office or through an untrusted proxy.
    more_users(&app, (0..25).map(|i| format!("user{i}"))).await;
    for i in 0..25 {
        let username = format!("user{i}");
        assert_eq!(
            outcome(password_grant(&app, &username, "typo", None).await).await,
            "refused"
        );
        assert_eq!(
            outcome(password_grant(&app, &username, PASSWORD, None).await).await,
            "ok",
            "{username} after one typo"
        );
    }
    for i in 0..25 {
        let made_up = format!("nobody{i}");
        assert_eq!(
            outcome(password_grant(&app, &made_up, "guess", None).await).await,
            "refused"
        );
    }
    assert_eq!(
        outcome(password_grant(&app, "alice", PASSWORD, None).await).await,
        "ok",
        "25 users' typos and 25 made-up names lock nobody else out"
    );
}

#[tokio::test]
async fn failures_age_out_one_by_one() {
    let clock = ManualClock::new();
    let app = TestApp::new().clock(clock.clone()).start().await;
    for _ in 0..4 {
        assert_eq!(
            outcome(password_grant(&app, "bob", "guess", None).await).await,
            "refused"
        );
    }
    clock.advance(14 * 60);
    assert_eq!(
        outcome(password_grant(&app, "bob", "guess", None).await).await,
        "refused"
    );
    assert_eq!(
        outcome(password_grant(&app, "bob", PASSWORD, None).await).await,
        "throttled",
        "five failures within the window"
    );
    // The first four are now older than the window; one more failure is the second that counts.
    clock.advance(6 * 60);
    assert_eq!(
        outcome(password_grant(&app, "bob", "guess", None).await).await,
        "refused"
    );
    assert_eq!(
        outcome(password_grant(&app, "bob", PASSWORD, None).await).await,
        "ok",
        "later attempts did not keep the old failures alive"
    );
}

async fn a_targeted_user_keeps_her_own_places(db: Db) {
    // Time stands still: the delays are seconds long.
    let Some(app) = TestApp::new()
        .settings(behind_a_proxy)
        .clock(ManualClock::new())
        .on(db, "a_targeted_user_keeps_her_own_places")
        .start()
        .await
    else {
        return;
    };
    let home = Some("198.51.100.7");
    assert_eq!(
        outcome(password_grant(&app, "alice", PASSWORD, home).await).await,
        "ok"
    );
    for attacker in ["203.0.113.1", "203.0.113.2", "203.0.113.3"] {
        for _ in 0..6 {
            password_grant(&app, "alice", "guess", Some(attacker)).await;
        }
    }
    assert_eq!(
        outcome(password_grant(&app, "alice", PASSWORD, home).await).await,
        "ok",
        "fifteen failures from elsewhere do not lock alice out at home"
    );
    assert_eq!(
        outcome(password_grant(&app, "alice", PASSWORD, Some("192.0.2.1")).await).await,
        "throttled",
        "a place alice never signed in from waits a little"
    );
}

async fn the_nodes_of_a_cluster_count_together(db: Db) {
    let Some(first) = TestApp::new()
        .on(db, "the_nodes_of_a_cluster_count_together")
        .start()
        .await
    else {
        return;
    };
    let second = first.another_node().await;
    for node in [&first, &second, &first, &second, &first] {
        assert_eq!(
            outcome(password_grant(node, "bob", "guess", None).await).await,
            "refused"
        );
    }
    assert_eq!(
        outcome(password_grant(&second, "bob", PASSWORD, None).await).await,
        "throttled",
        "five failures across two nodes are five"
    );
}

async fn client_secrets_cannot_be_guessed(db: Db) {
    let Some(app) = TestApp::new()
        .settings(behind_a_proxy)
        .on(db, "client_secrets_cannot_be_guessed")
        .start()
        .await
    else {
        return;
    };
    let attempt = |client: &'static str, secret: &'static str, from: &'static str| {
        app.http
            .post(app.url("/o/token/"))
            .basic_auth(client, Some(secret))
            .header("x-forwarded-for", from)
            .form(&[("grant_type", "client_credentials")])
            .send()
    };
    let unknown = json(attempt("nobody", "guess", "203.0.113.9").await.unwrap()).await;
    let wrong = json(attempt("svc", "guess", "203.0.113.9").await.unwrap()).await;
    assert_eq!(
        unknown, wrong,
        "an unknown client and a wrong secret read the same"
    );
    for _ in 0..9 {
        assert_eq!(
            attempt("svc", "guess", "203.0.113.9")
                .await
                .unwrap()
                .status(),
            401
        );
    }
    let locked = attempt("svc", SECRET, "203.0.113.9").await.unwrap();
    assert_eq!(
        locked.status(),
        429,
        "even the right secret waits out the lock"
    );
    assert!(locked.headers().contains_key("retry-after"));
    assert_eq!(json(locked).await["error"], "invalid_client");
    assert_eq!(
        attempt("svc", SECRET, "198.51.100.20")
            .await
            .unwrap()
            .status(),
        200,
        "the client itself, elsewhere, is not locked out"
    );
}

on_both_databases!(
    a_trusted_proxy_names_the_client,
    an_untrusted_peer_cannot_pick_its_address,
    many_users_mistaking_lock_out_nobody,
    a_targeted_user_keeps_her_own_places,
    the_nodes_of_a_cluster_count_together,
    client_secrets_cannot_be_guessed,
);

const CONTACT_CLAIMS: &str = r#"{"userinfo":{"email":null,"phone_number":null,"address":null}}"#;

/// `web`'s request for `scope`, with `extra` parameters.
fn web_asking<'a>(scope: &'a str, extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut query: Vec<_> = web_request()
        .into_iter()
        .filter(|(name, _)| *name != "scope")
        .collect();
    query.push(("scope", scope));
    query.extend_from_slice(extra);
    query
}

/// UserInfo for the code in `response`'s redirect.
async fn userinfo_after(app: &App, response: &reqwest::Response) -> serde_json::Value {
    let code = location_params(&location(response))["code"].clone();
    let form = web_code_exchange(&code);
    let tokens = json(app.token(&form, Some(("web", SECRET))).await).await;
    let token = tokens["access_token"].as_str().unwrap();
    let info = app
        .http
        .get(app.url("/o/userinfo/"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    json(info).await
}

#[tokio::test]
async fn claims_asked_for_by_name_need_consent() {
    let app = TestApp::new().start().await;
    app.sign_in("alice").await;
    assert_eq!(
        app.consent(&web_asking("openid", &[]), true).await.status(),
        302
    );
    let silent = app
        .authorize(&web_asking(
            "openid",
            &[("claims", CONTACT_CLAIMS), ("prompt", "none")],
        ))
        .await;
    assert_eq!(
        location_params(&location(&silent))["error"],
        "consent_required",
        "remembering openid does not cover email, phone and address"
    );
    let asking = web_asking("openid", &[("claims", CONTACT_CLAIMS)]);
    let page = app.authorize(&asking).await.text().await.unwrap();
    for line in [
        "Your email address",
        "Your phone number",
        "Your postal address",
    ] {
        assert!(page.contains(line), "the consent page says {line:?}");
    }
    let approved = app.consent(&asking, true).await;
    let info = userinfo_after(&app, &approved).await;
    assert_eq!(info["email"], "alice@example.com");
    let again = app
        .authorize(&web_asking(
            "openid",
            &[("claims", CONTACT_CLAIMS), ("prompt", "none")],
        ))
        .await;
    assert!(
        location_params(&location(&again)).contains_key("code"),
        "now remembered"
    );
}

struct NoEmail;

impl tollgate::scope_policy::ScopePolicy for NoEmail {
    fn available(&self, _: &tollgate::core::model::Application, known: Vec<String>) -> Vec<String> {
        known.into_iter().filter(|s| s != "email").collect()
    }
}

#[tokio::test]
async fn a_scope_policy_holds_against_the_claims_parameter() {
    let app = TestApp::new().provider(|p| p.scopes(NoEmail)).start().await;
    app.sign_in("alice").await;
    let asking = web_asking("openid", &[("claims", CONTACT_CLAIMS)]);
    let page = app.authorize(&asking).await.text().await.unwrap();
    assert!(!page.contains("Your email address"));
    let info = userinfo_after(&app, &app.consent(&asking, true).await).await;
    assert!(info.get("email").is_none(), "{info}");
}
