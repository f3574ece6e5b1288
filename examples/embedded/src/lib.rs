//! A notes service that is also its own OpenID Connect provider. It keeps its
//! people in its own `users` table, in the same SQLite database as Tollgate's
//! tables; Tollgate signs them in through a [`UserDirectory`], adds their
//! department to ID tokens and UserInfo through a [`ClaimsSource`], and guards
//! the JSON API: `GET /api/notes` needs `read`, `POST /api/notes` needs `write`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Map, Value, json};
use sqlx::SqlitePool;
use sqlx::sqlite::SqliteConnectOptions;
use tollgate::claims::{ClaimsContext, ClaimsFuture, ClaimsSource};
use tollgate::core::model::NewApplication;
use tollgate::core::{ClientType, GrantType, SigningAlgorithm};
use tollgate::credentials::{hash_password, verify_password};
use tollgate::resource::{AccessToken, RequireScopes};
use tollgate::store::StoreError;
use tollgate::users::{DirectoryError, DirectoryFuture, User, UserDirectory};
use tollgate::{Provider, Settings, Store};

/// The application's own table, created beside Tollgate's `tollgate_*` tables.
const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS users (
    id INTEGER PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    full_name TEXT NOT NULL,
    department TEXT NOT NULL,
    password_hash TEXT NOT NULL
)";

/// The application: its router and what it shares.
pub struct NotesApp {
    /// The whole site: the provider under `/o/` and the well-known paths, the API.
    pub router: Router,
    /// The embedded provider, for registering clients and the like.
    pub provider: Provider,
    /// The application's own database pool.
    pub pool: SqlitePool,
}

/// Opens (or creates) the SQLite database at `path` and builds the site.
pub async fn build(
    path: &std::path::Path,
    issuer: &str,
) -> Result<NotesApp, Box<dyn std::error::Error>> {
    let options = SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .foreign_keys(true)
        .busy_timeout(std::time::Duration::from_secs(5));
    let pool = SqlitePool::connect_with(options).await?;
    sqlx::query(SCHEMA).execute(&pool).await?;
    let store = Store::from(pool.clone());
    store.migrate().await?;

    let provider = Provider::builder(settings(issuer), store)
        .users(People(pool.clone()))
        .claims(Department(pool.clone()))
        .build()?;
    provider.prepare_keys().await?;
    let notes = Notes::default();
    let api = Router::new()
        .route("/api/notes", get(list).post(add))
        .route_layer(RequireScopes::read_write("read", "write"))
        .with_state(notes)
        .layer(provider.resource_server());
    let router = provider.router().merge(api);
    Ok(NotesApp {
        router,
        provider,
        pool,
    })
}

fn settings(issuer: &str) -> Settings {
    Settings {
        issuer: issuer.to_owned(),
        ..Settings::default()
    }
}

/// Adds a person to the application's own table.
pub async fn add_person(
    pool: &SqlitePool,
    email: &str,
    full_name: &str,
    department: &str,
    password: &str,
) -> Result<i64, Box<dyn std::error::Error>> {
    let hash = hash_password(password)?;
    let id = sqlx::query_scalar(
        "INSERT INTO users (email, full_name, department, password_hash) VALUES (?, ?, ?, ?) RETURNING id",
    )
    .bind(email)
    .bind(full_name)
    .bind(department)
    .bind(hash)
    .fetch_one(pool)
    .await?;
    Ok(id)
}

/// The notes command line: a public client (PKCE) with a loopback redirect URI.
pub const CLI_CLIENT_ID: &str = "notes-cli";
/// Where the command line listens for the code.
pub const CLI_REDIRECT_URI: &str = "http://127.0.0.1/callback";

/// Registers the command-line client, as `tollgate createapplication` would.
pub async fn register_cli_client(provider: &Provider) -> Result<(), StoreError> {
    let client = NewApplication {
        client_id: CLI_CLIENT_ID.into(),
        client_secret_hash: None,
        client_secret_sealed: None,
        client_type: ClientType::Public,
        grant_types: vec![GrantType::AuthorizationCode],
        redirect_uris: vec![CLI_REDIRECT_URI.into()],
        post_logout_redirect_uris: vec![],
        allowed_origins: vec![],
        algorithm: SigningAlgorithm::RS256,
        userinfo_signed: false,
        skip_authorization: false,
        name: "Notes command line".into(),
        owner_id: None,
        security: Default::default(),
    };
    provider
        .store()
        .create_application(&client, 0)
        .await
        .map(drop)
}

/// The application's people, as Tollgate's user directory: signing in with the email.
struct People(SqlitePool);

impl UserDirectory for People {
    fn authenticate<'a>(&'a self, username: &'a str, password: &'a str) -> DirectoryFuture<'a> {
        Box::pin(async move {
            let row: Option<(i64, String, String, String)> = sqlx::query_as(
                "SELECT id, email, full_name, password_hash FROM users WHERE email = ?",
            )
            .bind(username)
            .fetch_optional(&self.0)
            .await
            .map_err(|e| DirectoryError(e.to_string()))?;
            let Some((id, email, full_name, hash)) = row else {
                return Ok(None);
            };
            let (password, hash_owned) = (password.to_owned(), hash);
            // argon2 is slow on purpose: off the async executor.
            let matches =
                tokio::task::spawn_blocking(move || verify_password(&password, &hash_owned))
                    .await
                    .unwrap_or(false);
            let (given_name, family_name) = full_name.split_once(' ').unwrap_or((&full_name, ""));
            Ok(matches.then(|| User {
                email_verified: true,
                given_name: given_name.to_owned(),
                family_name: family_name.to_owned(),
                email: email.clone(),
                ..User::new(id, email)
            }))
        })
    }
}

/// Adds the person's `department` to ID tokens and UserInfo when `profile` was granted.
struct Department(SqlitePool);

impl Department {
    fn add<'a>(
        &'a self,
        context: ClaimsContext<'a>,
        mut claims: Map<String, Value>,
    ) -> ClaimsFuture<'a> {
        Box::pin(async move {
            if context.scope.contains("profile") {
                let department: Option<String> =
                    sqlx::query_scalar("SELECT department FROM users WHERE id = ?")
                        .bind(context.user.id)
                        .fetch_optional(&self.0)
                        .await
                        .ok()
                        .flatten();
                if let Some(department) = department {
                    claims.insert("department".into(), department.into());
                }
            }
            claims
        })
    }
}

impl ClaimsSource for Department {
    fn id_token_claims<'a>(
        &'a self,
        context: ClaimsContext<'a>,
        claims: Map<String, Value>,
    ) -> ClaimsFuture<'a> {
        self.add(context, claims)
    }

    fn userinfo_claims<'a>(
        &'a self,
        context: ClaimsContext<'a>,
        claims: Map<String, Value>,
    ) -> ClaimsFuture<'a> {
        self.add(context, claims)
    }
}

/// Notes by subject, in memory: the example is about the protection, not the storage.
#[derive(Clone, Default)]
struct Notes(Arc<Mutex<HashMap<String, Vec<String>>>>);

async fn list(State(notes): State<Notes>, token: AccessToken) -> Json<Value> {
    let owner = token.subject().unwrap_or_default().to_owned();
    let mine = notes
        .0
        .lock()
        .map(|n| n.get(&owner).cloned().unwrap_or_default())
        .unwrap_or_default();
    Json(json!({ "owner": owner, "notes": mine }))
}

async fn add(
    State(notes): State<Notes>,
    token: AccessToken,
    Json(body): Json<Value>,
) -> Json<Value> {
    let owner = token.subject().unwrap_or_default().to_owned();
    let text = body["text"].as_str().unwrap_or_default().to_owned();
    if let Ok(mut all) = notes.0.lock() {
        all.entry(owner.clone()).or_default().push(text);
    }
    Json(json!({ "owner": owner, "added": true }))
}
