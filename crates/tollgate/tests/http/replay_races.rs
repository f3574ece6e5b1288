//! Replays racing the first use, over HTTP on both databases: whatever the
//! interleaving, a code or refresh token used more than once leaves no token of
//! its grant working (RFC 6749 §4.1.2 and §10.4, RFC 9700 §4.14.2), and no
//! request fails with a 500.

use std::sync::Arc;

use crate::support::*;

/// Races are tested many times: one round rarely hits the bad interleaving.
const ROUNDS: usize = 50;

/// Sends `form` to the token endpoint `n` times at once as `client`; the answers.
async fn at_once(
    app: &App,
    n: usize,
    form: &[(&str, &str)],
    client: &str,
) -> Vec<(u16, serde_json::Value)> {
    let start = Arc::new(tokio::sync::Barrier::new(n));
    let mut requests = tokio::task::JoinSet::new();
    for _ in 0..n {
        let request = app
            .http
            .post(app.url("/o/token/"))
            .form(form)
            .basic_auth(client, Some(SECRET));
        let start = start.clone();
        requests.spawn(async move {
            start.wait().await;
            let response = request.send().await.unwrap();
            (response.status().as_u16(), response.json().await.unwrap())
        });
    }
    requests.join_all().await
}

/// A new code for `web`, from a user already signed in who already consented.
async fn code(app: &App) -> String {
    let response = app.authorize(&web_request()).await;
    location_params(&location(&response))["code"].clone()
}

async fn active(app: &App, token: &serde_json::Value) -> bool {
    let token = token.as_str().unwrap();
    let answer = app
        .post_form("/o/introspect/", &[("token", token)], Some(("svc", SECRET)))
        .await;
    json(answer).await["active"] == true
}

/// What the rounds came to; every figure must be zero.
#[derive(Debug, Default, PartialEq)]
struct Outcome {
    /// Rounds in which more than one request got tokens.
    two_winners: usize,
    /// Rounds after which a token some request received still worked.
    live_token: usize,
    /// Answers that were a 500.
    server_errors: usize,
}

impl Outcome {
    async fn count(&mut self, app: &App, answers: &[(u16, serde_json::Value)]) {
        self.server_errors += answers.iter().filter(|(s, _)| *s == 500).count();
        let won: Vec<_> = answers.iter().filter(|(s, _)| *s == 200).collect();
        self.two_winners += usize::from(won.len() > 1);
        let mut live = false;
        for (_, tokens) in won {
            live |= active(app, &tokens["access_token"]).await;
            live |= active(app, &tokens["refresh_token"]).await;
        }
        self.live_token += usize::from(live);
    }
}

async fn a_code_redeemed_by_many_at_once_leaves_no_token_working(db: Db) {
    let Some(app) = TestApp::new().on(db, "code_race").start().await else {
        return;
    };
    app.code_for_web().await;
    let mut outcome = Outcome::default();
    for _ in 0..ROUNDS {
        let code = code(&app).await;
        let form = web_code_exchange(&code);
        let answers = at_once(&app, 8, &form, "web").await;
        outcome.count(&app, &answers).await;
    }
    assert_eq!(outcome, Outcome::default(), "over {ROUNDS} rounds");
}

async fn a_refresh_token_used_by_many_at_once_takes_its_family_down(db: Db) {
    let Some(app) = TestApp::new().on(db, "refresh_race").start().await else {
        return;
    };
    app.code_for_web().await;
    let mut outcome = Outcome::default();
    for _ in 0..ROUNDS {
        let code = code(&app).await;
        let form = web_code_exchange(&code);
        let first = json(app.token(&form, Some(("web", SECRET))).await).await;
        let form = [
            ("grant_type", "refresh_token"),
            ("refresh_token", first["refresh_token"].as_str().unwrap()),
        ];
        let answers = at_once(&app, 16, &form, "web").await;
        outcome.count(&app, &answers).await;
        // The family's first access token went with the rotation or the revocation.
        outcome.live_token += usize::from(active(&app, &first["access_token"]).await);
    }
    assert_eq!(outcome, Outcome::default(), "over {ROUNDS} rounds");
}

/// As `on_both_databases!`, on worker threads enough for the server to run the
/// requests truly at once.
macro_rules! on_both_databases_threaded {
    ($($scenario:ident),* $(,)?) => {
        $(
            mod $scenario {
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn sqlite() {
                    super::$scenario(crate::support::Db::Sqlite).await
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn postgres() {
                    super::$scenario(crate::support::Db::Postgres).await
                }
            }
        )*
    };
}

on_both_databases_threaded!(
    a_code_redeemed_by_many_at_once_leaves_no_token_working,
    a_refresh_token_used_by_many_at_once_takes_its_family_down,
);
