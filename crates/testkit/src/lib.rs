//! Gives each test its own empty database: a fresh SQLite file, or a fresh
//! PostgreSQL database dropped afterwards, so runs never see each other's rows.
//!
//! PostgreSQL is `TEST_POSTGRES_URL` (default `postgres://postgres@127.0.0.1:5432/postgres`).
//! When it is unreachable the PostgreSQL half of a test is skipped, loudly, except
//! under `CI=true`, where it fails.

pub mod browser;
pub mod client_keys;
pub mod webdriver;

use std::io::Write;
use std::path::PathBuf;

use sqlx::{Connection, Executor, PgConnection};

/// A database URL that is only for this test, and cleaned up after it.
pub struct TestDatabase {
    pub url: String,
    cleanup: Cleanup,
}

enum Cleanup {
    SqliteFile(PathBuf),
    PostgresDatabase { admin_url: String, name: String },
}

/// 16 hex digits from the OS, for names no other test or run will pick.
pub fn unique_suffix() -> String {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).expect("OS randomness");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A path for a SQLite file that does not exist yet.
pub fn sqlite() -> TestDatabase {
    let path = std::env::temp_dir().join(format!("tollgate-test-{}.db", unique_suffix()));
    TestDatabase {
        url: format!("sqlite://{}", path.display()),
        cleanup: Cleanup::SqliteFile(path),
    }
}

fn admin_url() -> String {
    std::env::var("TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// A new, empty PostgreSQL database; `None` (after saying so) when PostgreSQL is
/// unreachable outside CI.
pub async fn postgres(test: &str) -> Option<TestDatabase> {
    let admin_url = admin_url();
    let mut admin = match PgConnection::connect(&admin_url).await {
        Ok(c) => c,
        Err(e) if std::env::var("CI").as_deref() != Ok("true") => {
            // Straight to stderr: the test harness captures only the print macros.
            let _ = writeln!(
                std::io::stderr(),
                "\n!!! SKIPPED the PostgreSQL half of {test}: {admin_url} is unreachable ({e}) !!!"
            );
            return None;
        }
        Err(e) => panic!("CI=true and PostgreSQL at {admin_url} is unreachable: {e}"),
    };
    let name = format!("tollgate_test_{}", unique_suffix());
    admin
        .execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .await
        .expect("create the test database");
    let base = admin_url
        .rsplit_once('/')
        .expect("the URL names a database")
        .0;
    Some(TestDatabase {
        url: format!("{base}/{name}"),
        cleanup: Cleanup::PostgresDatabase { admin_url, name },
    })
}

impl TestDatabase {
    /// Deletes the database now, while a server may still be using it (for outage tests).
    pub fn destroy(&self) {
        match &self.cleanup {
            Cleanup::SqliteFile(path) => {
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
                }
            }
            Cleanup::PostgresDatabase { admin_url, name } => {
                let (admin_url, name) = (admin_url.clone(), name.clone());
                // Callers may be inside a runtime: drop from a thread with its own.
                let _ = std::thread::spawn(move || {
                    let rt = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build();
                    rt.expect("runtime").block_on(async {
                        if let Ok(mut admin) = PgConnection::connect(&admin_url).await {
                            let sql = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
                            let _ = admin.execute(sqlx::AssertSqlSafe(sql)).await;
                        }
                    });
                })
                .join();
            }
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        self.destroy();
    }
}

/// A directory that is removed with everything in it.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new() -> Self {
        let path = std::env::temp_dir().join(format!("tollgate-dir-{}", unique_suffix()));
        std::fs::create_dir_all(&path).expect("create a temporary directory");
        TempDir(path)
    }
}

impl Default for TempDir {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Every `<input type="hidden" name=… value=…>` of a page, unescaped: how the
/// tests read the forms a browser would submit.
pub fn hidden_fields(html: &str) -> Vec<(String, String)> {
    html.split("<input")
        .skip(1)
        .filter(|tag| tag.contains("type=\"hidden\""))
        .filter_map(|tag| Some((attribute(tag, "name")?, attribute(tag, "value")?)))
        .collect()
}

pub fn hidden(html: &str, name: &str) -> Option<String> {
    hidden_fields(html)
        .into_iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v)
}

/// The first `name="…"` attribute in `html`, unescaped (a form's `action`, a link's `href`).
pub fn attribute(html: &str, name: &str) -> Option<String> {
    let start = html.find(&format!("{name}=\""))? + name.len() + 2;
    let end = start + html[start..].find('"')?;
    Some(unescape(&html[start..end]))
}

fn unescape(text: &str) -> String {
    text.replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&#x2f;", "/")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// The parameters of a redirect, from its fragment or else its query.
pub fn location_params(location: &str) -> std::collections::HashMap<String, String> {
    let encoded = location
        .split_once('#')
        .map(|(_, f)| f)
        .or_else(|| location.split_once('?').map(|(_, q)| q))
        .unwrap_or("");
    url::form_urlencoded::parse(encoded.as_bytes())
        .into_owned()
        .collect()
}
