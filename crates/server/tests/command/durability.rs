//! A 200 from the token endpoint means the token is committed: `tollgate serve`
//! killed with SIGKILL under load, with SQLite's `synchronous` at `normal` (the
//! default) and at `full`, loses none of the tokens it answered with.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::support::*;
use tollgate::Store;
use tollgate::core::SecretHash;

/// Tokens answered before the kill; the kill comes while requests are in flight.
const ANSWERED_BEFORE_KILL: usize = 300;
const CLIENTS: usize = 16;

async fn no_answered_token_is_lost_when_killed(synchronous: &str) {
    let dir = TempDir::new();
    let env = [("TOLLGATE_SQLITE_SYNCHRONOUS", synchronous)];
    let secret = generated_secret(&run(tollgate(&dir.0)
        .args(["createapplication", "confidential", "client-credentials"])
        .args(["--client-id", "svc"])
        .envs(env)));
    let server = Server::start(&dir.0, &env);
    let answered = Arc::new(std::sync::Mutex::new(Vec::new()));
    let count = Arc::new(AtomicUsize::new(0));
    let clients: Vec<_> = (0..CLIENTS)
        .map(|_| {
            let (url, secret) = (format!("{}/o/token/", server.base), secret.clone());
            let (answered, count) = (answered.clone(), count.clone());
            tokio::spawn(async move {
                let http = reqwest::Client::new();
                // Until the server is gone: a refused or cut request ends the loop.
                while let Ok(response) = http
                    .post(&url)
                    .basic_auth("svc", Some(&secret))
                    .form(&[("grant_type", "client_credentials")])
                    .send()
                    .await
                {
                    assert_eq!(response.status(), 200);
                    let Ok(body) = response.json::<serde_json::Value>().await else {
                        break;
                    };
                    let token = body["access_token"].as_str().unwrap().to_owned();
                    answered.lock().unwrap().push(token);
                    count.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    while count.load(Ordering::Relaxed) < ANSWERED_BEFORE_KILL {
        tokio::task::yield_now().await;
    }
    server.signal("KILL");
    for client in clients {
        client.await.unwrap();
    }
    drop(server);

    let store = Store::connect(&format!("sqlite://{}", dir.0.join("tollgate.db").display()))
        .await
        .unwrap();
    let answered = answered.lock().unwrap().clone();
    assert!(answered.len() >= ANSWERED_BEFORE_KILL);
    let mut lost = 0;
    for token in &answered {
        if store
            .access_token_by_hash(&SecretHash::of(token))
            .await
            .unwrap()
            .is_none()
        {
            lost += 1;
        }
    }
    assert_eq!(
        lost,
        0,
        "of {} tokens answered 200, {lost} are not in the database",
        answered.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigkill_under_load_loses_no_answered_token_with_synchronous_normal() {
    no_answered_token_is_lost_when_killed("normal").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigkill_under_load_loses_no_answered_token_with_synchronous_full() {
    no_answered_token_is_lost_when_killed("full").await;
}
