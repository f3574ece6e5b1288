//! `/health/live` and `/health/ready`: what each says, and why readiness fails.

use serde_json::Value;
use tollgate::store::Db;

use crate::support::*;

async fn get(app: &App, path: &str) -> (u16, Value) {
    let response = app.http.get(app.url(path)).send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

fn with_health(test: TestApp<'_>) -> TestApp<'_> {
    test.api(|p| p.health_router())
}

#[tokio::test]
async fn a_provider_with_its_database_migrations_and_keys_is_live_and_ready() {
    let app = with_health(TestApp::new()).start().await;
    assert_eq!(
        get(&app, "/health/live").await,
        (200, serde_json::json!({"status": "ok"}))
    );
    assert_eq!(
        get(&app, "/health/ready").await,
        (200, serde_json::json!({"status": "ready"}))
    );
    assert_eq!(
        get(&app, "/health").await,
        (200, serde_json::json!({"status": "ok"}))
    );
}

#[tokio::test]
async fn a_migration_of_this_version_not_applied_is_not_ready() {
    let app = with_health(TestApp::new()).start().await;
    let Db::Sqlite(sqlite) = app.store.db() else {
        unreachable!("TestApp::new is on SQLite")
    };
    // The newest migration's row is hidden, not deleted, so that it can be put back.
    let hide = "UPDATE tollgate_migrations SET version = -version \
                WHERE version = (SELECT MAX(version) FROM tollgate_migrations)";
    sqlx::query(hide).execute(&sqlite.write).await.unwrap();
    let (status, body) = get(&app, "/health/ready").await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["reason"], "database migrations pending");
    // Alive all the same: a restart would not help.
    assert_eq!(get(&app, "/health/live").await.0, 200);
    let restore = "UPDATE tollgate_migrations SET version = -version WHERE version < 0";
    sqlx::query(restore).execute(&sqlite.write).await.unwrap();
    assert_eq!(get(&app, "/health/ready").await.0, 200);
}

#[tokio::test]
async fn without_signing_keys_an_openid_provider_is_not_ready() {
    let app = with_health(TestApp::new()).start().await;
    let Db::Sqlite(sqlite) = app.store.db() else {
        unreachable!("TestApp::new is on SQLite")
    };
    sqlx::query("DELETE FROM tollgate_signing_keys")
        .execute(&sqlite.write)
        .await
        .unwrap();
    let (status, body) = get(&app, "/health/ready").await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["reason"], "signing keys not loaded");
}

#[tokio::test]
async fn an_oauth_only_provider_needs_no_signing_keys() {
    let app = with_health(TestApp::new().settings(|s| s.oidc_enabled = false))
        .start()
        .await;
    let Db::Sqlite(sqlite) = app.store.db() else {
        unreachable!("TestApp::new is on SQLite")
    };
    sqlx::query("DELETE FROM tollgate_signing_keys")
        .execute(&sqlite.write)
        .await
        .unwrap();
    assert_eq!(get(&app, "/health/ready").await.0, 200);
}
