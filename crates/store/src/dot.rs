//! Reading a django-oauth-toolkit 3.x database (SQLite file or PostgreSQL), for
//! `tollgate import-dot`: its users (Django's `auth_user`), applications,
//! tokens, codes and ID tokens, as they are, in one read-only snapshot. Nothing
//! in it is written.
//!
//! Django's column types differ between the two databases (booleans, `uuid`,
//! `jsonb`, timestamps), so each query casts them to what both read alike:
//! integers, text, and Unix seconds.

use std::str::FromStr;

use sqlx::postgres::PgConnectOptions;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{Connection, PgConnection, Row, SqliteConnection};
use tollgate_core::env::UnixTime;

/// DOT's migrations, in order, up to 3.4; a database with another is of a DOT
/// this reader does not know.
pub const KNOWN_MIGRATIONS: [&str; 22] = [
    "0001_initial",
    "0002_auto_20190406_1805",
    "0003_auto_20201211_1314",
    "0004_auto_20200902_2022",
    "0005_auto_20211222_2352",
    "0006_alter_application_client_secret",
    "0007_application_post_logout_redirect_uris",
    "0008_alter_accesstoken_token",
    "0009_add_hash_client_secret",
    "0010_application_allowed_origins",
    "0011_refreshtoken_token_family",
    "0012_add_token_checksum",
    "0013_alter_application_authorization_grant_type_device",
    "0014_alter_help_text",
    "0015_refreshtoken_token_checksum",
    "0016_alter_devicegrant_scope",
    "0017_application_dcr_created",
    "0018_resource_indicators",
    "0019_application_registration_source",
    "0020_cimd_application_fields",
    "0021_translatable_field_labels",
    "0022_refreshtoken_token_family_index",
];

/// DOT 3.0's, the first this reader takes: token families and checksums.
const OLDEST: &str = "0012_add_token_checksum";
const REFRESH_CHECKSUMS: &str = "0015_refreshtoken_token_checksum";
const RESOURCES: &str = "0018_resource_indicators";

/// The tables read; each must exist, but `auth_user` (a custom user model has another).
const TABLES: [&str; 6] = [
    "django_migrations",
    "oauth2_provider_application",
    "oauth2_provider_accesstoken",
    "oauth2_provider_refreshtoken",
    "oauth2_provider_grant",
    "oauth2_provider_idtoken",
];

/// Why a DOT database could not be read.
#[derive(Debug, thiserror::Error)]
pub enum DotError {
    /// The URL names neither a SQLite file nor a PostgreSQL database.
    #[error("`{0}` is not a database URL: expected sqlite:PATH (or a file path) or postgres://…")]
    Url(String),
    /// The database could not be opened.
    #[error("cannot open the DOT database: {0}")]
    Open(sqlx::Error),
    /// A table DOT always has is missing.
    #[error(
        "table `{0}` is missing: this is not a django-oauth-toolkit database (or not its default schema)"
    )]
    NotDot(&'static str),
    /// The database has a DOT migration this reader does not know.
    #[error(
        "DOT migration `{0}` is newer than the DOT 3.4 this import knows: import with a Tollgate that knows it"
    )]
    Newer(String),
    /// The database is of a DOT before 3.0.
    #[error(
        "DOT migration `{OLDEST}` has not run: this is a DOT before 3.0; upgrade DOT and migrate first"
    )]
    Older,
    /// A table could not be read.
    #[error("reading `{table}`: {error}")]
    Read {
        /// The table being read.
        table: &'static str,
        /// What the database said.
        error: sqlx::Error,
    },
}

/// A Django user (`auth_user`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DotUser {
    /// `auth_user.id`: becomes the Tollgate user's id, and so the OIDC `sub`.
    pub id: i64,
    /// `username`.
    pub username: String,
    /// Django's encoded hash, or `!…` for an unusable password.
    pub password: String,
    /// `email`; empty when unknown.
    pub email: String,
    /// `first_name`: the OIDC `given_name`.
    pub first_name: String,
    /// `last_name`: the OIDC `family_name`.
    pub last_name: String,
    /// `is_staff`: may use the staff pages.
    pub is_staff: bool,
    /// `is_active`: `false` for a user who may not sign in.
    pub is_active: bool,
    /// `date_joined` (Unix seconds).
    pub date_joined: UnixTime,
    /// `last_login` (Unix seconds); `None` for a user who never signed in.
    pub last_login: Option<UnixTime>,
}

/// An `oauth2_provider_application` row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DotApplication {
    /// DOT's row id, which its tokens and codes name.
    pub id: i64,
    /// `client_id`, kept as it is.
    pub client_id: String,
    /// `name`; may be empty.
    pub name: String,
    /// `confidential` or `public`.
    pub client_type: String,
    /// DOT's one grant: `authorization-code`, `implicit`, `password`, `client-credentials`, `openid-hybrid` or the device URN.
    pub authorization_grant_type: String,
    /// Django's hash when `hash_client_secret`, else the secret itself.
    pub client_secret: String,
    /// Whether `client_secret` holds Django's hash rather than the secret.
    pub hash_client_secret: bool,
    /// Redirect URIs, space-separated.
    pub redirect_uris: String,
    /// Post-logout redirect URIs, space-separated.
    pub post_logout_redirect_uris: String,
    /// Origins allowed for CORS, space-separated.
    pub allowed_origins: String,
    /// The ID token algorithm: `RS256`, `HS256`, or empty for none.
    pub algorithm: String,
    /// `skip_authorization`: a trusted client, never asked consent for.
    pub skip_authorization: bool,
    /// The owning user's id; `None` for a client nobody owns.
    pub user_id: Option<i64>,
    /// `created` (Unix seconds).
    pub created: UnixTime,
}

/// An `oauth2_provider_accesstoken` row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DotAccessToken {
    /// DOT's row id, which refresh tokens name.
    pub id: i64,
    /// The token; empty where DOT kept only its checksum.
    pub token: String,
    /// Hex SHA-256 of the token.
    pub token_checksum: String,
    /// The client's DOT id; `None` where DOT has none (the column allows it).
    pub application_id: Option<i64>,
    /// The user's id; `None` for a client's own token.
    pub user_id: Option<i64>,
    /// Space-separated scopes.
    pub scope: String,
    /// `expires` (Unix seconds).
    pub expires: UnixTime,
    /// `created` (Unix seconds).
    pub created: UnixTime,
    /// The refresh token this one was issued by rotating.
    pub source_refresh_token_id: Option<i64>,
    /// RFC 8707 resources, a JSON array.
    pub resource: String,
}

/// An `oauth2_provider_refreshtoken` row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DotRefreshToken {
    /// DOT's row id.
    pub id: i64,
    /// The token itself (DOT keeps refresh tokens in clear).
    pub token: String,
    /// Hex SHA-256 of the token; empty before DOT kept it.
    pub token_checksum: String,
    /// The access token it carries, by DOT id; `None` once DOT deleted it.
    pub access_token_id: Option<i64>,
    /// The client's DOT id.
    pub application_id: i64,
    /// The user's id.
    pub user_id: i64,
    /// `created` (Unix seconds).
    pub created: UnixTime,
    /// Set by rotation and by revocation alike.
    pub revoked: Option<UnixTime>,
    /// Lowercase hex, without dashes.
    pub token_family: Option<String>,
    /// RFC 8707 resources, a JSON array.
    pub resource: String,
}

/// An `oauth2_provider_grant` row: an authorization code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DotGrant {
    /// DOT's row id.
    pub id: i64,
    /// The code itself (DOT keeps codes in clear).
    pub code: String,
    /// The client's DOT id.
    pub application_id: i64,
    /// The user's id.
    pub user_id: i64,
    /// `expires` (Unix seconds).
    pub expires: UnixTime,
    /// The redirect URI the code was issued for.
    pub redirect_uri: String,
    /// Space-separated scopes.
    pub scope: String,
    /// The PKCE challenge; empty without PKCE.
    pub code_challenge: String,
    /// `S256`, `plain`, or empty without PKCE.
    pub code_challenge_method: String,
    /// The OIDC `nonce`; empty when none was sent.
    pub nonce: String,
    /// The OIDC `claims` request, JSON text (`{}` for none).
    pub claims: String,
    /// `created` (Unix seconds).
    pub created: UnixTime,
    /// RFC 8707 resources, a JSON array.
    pub resource: String,
}

/// An `oauth2_provider_idtoken` row (the token itself is not kept).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DotIdToken {
    /// Lowercase hex, without dashes.
    pub jti: String,
    /// The client's DOT id; `None` where DOT has none (the column allows it).
    pub application_id: Option<i64>,
    /// The user's id; `None` where DOT has none (the column allows it).
    pub user_id: Option<i64>,
    /// Space-separated scopes.
    pub scope: String,
    /// `expires` (Unix seconds).
    pub expires: UnixTime,
    /// `created` (Unix seconds).
    pub created: UnixTime,
}

/// Everything read from a DOT database.
#[derive(Debug, Clone, Default)]
pub struct DotExport {
    /// The applied `oauth2_provider` migrations, oldest first.
    pub migrations: Vec<String>,
    /// `None`: no `auth_user` table (a custom user model, whose users are not read).
    pub users: Option<Vec<DotUser>>,
    /// `oauth2_provider_application`.
    pub applications: Vec<DotApplication>,
    /// `oauth2_provider_accesstoken`.
    pub access_tokens: Vec<DotAccessToken>,
    /// `oauth2_provider_refreshtoken`.
    pub refresh_tokens: Vec<DotRefreshToken>,
    /// `oauth2_provider_grant`: authorization codes.
    pub grants: Vec<DotGrant>,
    /// `oauth2_provider_idtoken`.
    pub id_tokens: Vec<DotIdToken>,
}

/// An open DOT database, read-only.
pub enum DotSource {
    /// A DOT on SQLite.
    Sqlite(SqliteConnection),
    /// A DOT on PostgreSQL.
    Postgres(PgConnection),
}

/// How each database spells the casts every query needs.
#[derive(Clone, Copy)]
struct Dialect {
    postgres: bool,
}

impl Dialect {
    /// A timestamp as whole Unix seconds (Django stores UTC).
    fn epoch(self, column: &str) -> String {
        if self.postgres {
            format!("CAST(FLOOR(EXTRACT(EPOCH FROM {column})) AS BIGINT) AS {column}")
        } else {
            format!("CAST(strftime('%s', {column}) AS BIGINT) AS {column}")
        }
    }

    fn boolean(self, column: &str) -> String {
        format!("CAST(CASE WHEN {column} THEN 1 ELSE 0 END AS BIGINT) AS {column}")
    }

    fn text(self, column: &str) -> String {
        format!("CAST({column} AS TEXT) AS {column}")
    }

    fn integer(self, column: &str) -> String {
        format!("CAST({column} AS BIGINT) AS {column}")
    }
}

/// Runs `$sql` on whichever connection the source holds and maps each row with
/// `$map` (compiled once per database); errors name `$table`.
macro_rules! read_rows {
    ($source:expr, $table:expr, $sql:expr, |$row:ident| $map:expr) => {{
        let sql = sqlx::AssertSqlSafe($sql);
        let rows: Result<Vec<_>, sqlx::Error> = match $source {
            DotSource::Sqlite(c) => match sqlx::query(sql).fetch_all(&mut *c).await {
                Ok(rows) => rows.iter().map(|$row| $map).collect(),
                Err(e) => Err(e),
            },
            DotSource::Postgres(c) => match sqlx::query(sql).fetch_all(&mut *c).await {
                Ok(rows) => rows.iter().map(|$row| $map).collect(),
                Err(e) => Err(e),
            },
        };
        rows.map_err(|error| DotError::Read {
            table: $table,
            error,
        })?
    }};
}

impl DotSource {
    /// Opens `url` (`sqlite:PATH`, a plain file path, or `postgres://…`) read-only.
    pub async fn open(url: &str) -> Result<Self, DotError> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let options = PgConnectOptions::from_str(url)
                .map_err(DotError::Open)?
                .options([("default_transaction_read_only", "on")]);
            let connection = PgConnection::connect_with(&options)
                .await
                .map_err(DotError::Open)?;
            return Ok(DotSource::Postgres(connection));
        }
        let path = url.strip_prefix("sqlite:").unwrap_or(url);
        let path = path.strip_prefix("//").unwrap_or(path);
        if path.is_empty() || url.contains("://") && !url.starts_with("sqlite:") {
            return Err(DotError::Url(url.to_owned()));
        }
        let options = SqliteConnectOptions::new()
            .filename(path)
            .read_only(true)
            .create_if_missing(false);
        let connection = SqliteConnection::connect_with(&options)
            .await
            .map_err(DotError::Open)?;
        Ok(DotSource::Sqlite(connection))
    }

    fn dialect(&self) -> Dialect {
        Dialect {
            postgres: matches!(self, DotSource::Postgres(_)),
        }
    }

    /// Reads everything, in one read-only transaction: one consistent snapshot.
    pub async fn read(&mut self) -> Result<DotExport, DotError> {
        let begin = match self {
            DotSource::Sqlite(_) => "BEGIN",
            DotSource::Postgres(_) => "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
        };
        self.execute(begin).await?;
        let export = self.read_tables().await;
        self.execute("ROLLBACK").await?;
        export
    }

    async fn execute(&mut self, sql: &'static str) -> Result<(), DotError> {
        let done = match self {
            DotSource::Sqlite(c) => sqlx::raw_sql(sql).execute(&mut *c).await.map(drop),
            DotSource::Postgres(c) => sqlx::raw_sql(sql).execute(&mut *c).await.map(drop),
        };
        done.map_err(DotError::Open)
    }

    async fn read_tables(&mut self) -> Result<DotExport, DotError> {
        let (tables, migrations) = self.schema().await?;
        let applied = |name: &str| migrations.iter().any(|m| m == name);
        let d = self.dialect();
        let resource = if applied(RESOURCES) {
            d.text("resource")
        } else {
            "'[]' AS resource".to_owned()
        };
        let refresh_checksum = if applied(REFRESH_CHECKSUMS) {
            "token_checksum".to_owned()
        } else {
            "'' AS token_checksum".to_owned()
        };
        Ok(DotExport {
            users: self.users(&tables).await?,
            applications: self.applications().await?,
            access_tokens: self.access_tokens(&resource).await?,
            refresh_tokens: self.refresh_tokens(&refresh_checksum, &resource).await?,
            grants: self.grants(&resource).await?,
            id_tokens: self.id_tokens().await?,
            migrations,
        })
    }

    /// The tables, and the applied `oauth2_provider` migrations: a DOT from 3.0
    /// to 3.4, or why not.
    async fn schema(&mut self) -> Result<(Vec<String>, Vec<String>), DotError> {
        let d = self.dialect();
        let tables: Vec<String> = if d.postgres {
            read_rows!(
                self,
                "information_schema.tables",
                "SELECT CAST(table_name AS TEXT) AS name FROM information_schema.tables \
                 WHERE table_schema = current_schema()"
                    .to_owned(),
                |r| r.try_get("name")
            )
        } else {
            read_rows!(
                self,
                "sqlite_master",
                "SELECT name FROM sqlite_master WHERE type = 'table'".to_owned(),
                |r| r.try_get("name")
            )
        };
        if let Some(missing) = TABLES.iter().find(|t| !tables.iter().any(|n| n == *t)) {
            return Err(DotError::NotDot(missing));
        }
        let migrations: Vec<String> = read_rows!(
            self,
            "django_migrations",
            "SELECT name FROM django_migrations WHERE app = 'oauth2_provider' ORDER BY id"
                .to_owned(),
            |r| r.try_get("name")
        );
        if let Some(unknown) = migrations
            .iter()
            .find(|m| !KNOWN_MIGRATIONS.contains(&m.as_str()))
        {
            return Err(DotError::Newer(unknown.clone()));
        }
        let applied = |name: &str| migrations.iter().any(|m| m == name);
        if !applied(OLDEST) {
            return Err(DotError::Older);
        }
        Ok((tables, migrations))
    }

    /// Django's users; `None` without an `auth_user` table (a custom user model).
    async fn users(&mut self, tables: &[String]) -> Result<Option<Vec<DotUser>>, DotError> {
        if !tables.iter().any(|t| t == "auth_user") {
            return Ok(None);
        }
        let d = self.dialect();
        Ok(Some(read_rows!(
            self,
            "auth_user",
            format!(
                "SELECT {}, username, password, email, first_name, last_name, {}, {}, {}, {} \
                 FROM auth_user ORDER BY id",
                d.integer("id"),
                d.boolean("is_staff"),
                d.boolean("is_active"),
                d.epoch("date_joined"),
                d.epoch("last_login")
            ),
            |r| Ok::<_, sqlx::Error>(DotUser {
                id: r.try_get("id")?,
                username: r.try_get("username")?,
                password: r.try_get("password")?,
                email: r.try_get("email")?,
                first_name: r.try_get("first_name")?,
                last_name: r.try_get("last_name")?,
                is_staff: r.try_get::<i64, _>("is_staff")? != 0,
                is_active: r.try_get::<i64, _>("is_active")? != 0,
                date_joined: r.try_get("date_joined")?,
                last_login: r.try_get("last_login")?,
            })
        )))
    }

    /// DOT's applications.
    async fn applications(&mut self) -> Result<Vec<DotApplication>, DotError> {
        let d = self.dialect();
        Ok(read_rows!(
            self,
            "oauth2_provider_application",
            format!(
                "SELECT {}, client_id, name, client_type, authorization_grant_type, client_secret, {}, \
             redirect_uris, post_logout_redirect_uris, allowed_origins, algorithm, {}, {}, {} \
             FROM oauth2_provider_application ORDER BY id",
                d.integer("id"),
                d.boolean("hash_client_secret"),
                d.boolean("skip_authorization"),
                d.integer("user_id"),
                d.epoch("created")
            ),
            |r| Ok::<_, sqlx::Error>(DotApplication {
                id: r.try_get("id")?,
                client_id: r.try_get("client_id")?,
                name: r.try_get("name")?,
                client_type: r.try_get("client_type")?,
                authorization_grant_type: r.try_get("authorization_grant_type")?,
                client_secret: r.try_get("client_secret")?,
                hash_client_secret: r.try_get::<i64, _>("hash_client_secret")? != 0,
                redirect_uris: r.try_get("redirect_uris")?,
                post_logout_redirect_uris: r.try_get("post_logout_redirect_uris")?,
                allowed_origins: r.try_get("allowed_origins")?,
                algorithm: r.try_get("algorithm")?,
                skip_authorization: r.try_get::<i64, _>("skip_authorization")? != 0,
                user_id: r.try_get("user_id")?,
                created: r.try_get("created")?,
            })
        ))
    }

    /// DOT's access tokens; `resource` reads the column, or stands in for it before DOT had one.
    async fn access_tokens(&mut self, resource: &str) -> Result<Vec<DotAccessToken>, DotError> {
        let d = self.dialect();
        Ok(read_rows!(
            self,
            "oauth2_provider_accesstoken",
            format!(
                "SELECT {}, token, token_checksum, {}, {}, scope, {}, {}, {}, {} \
             FROM oauth2_provider_accesstoken ORDER BY id",
                d.integer("id"),
                d.integer("application_id"),
                d.integer("user_id"),
                d.epoch("expires"),
                d.epoch("created"),
                d.integer("source_refresh_token_id"),
                resource
            ),
            |r| Ok::<_, sqlx::Error>(DotAccessToken {
                id: r.try_get("id")?,
                token: r.try_get("token")?,
                token_checksum: r.try_get("token_checksum")?,
                application_id: r.try_get("application_id")?,
                user_id: r.try_get("user_id")?,
                scope: r.try_get("scope")?,
                expires: r.try_get("expires")?,
                created: r.try_get("created")?,
                source_refresh_token_id: r.try_get("source_refresh_token_id")?,
                resource: r.try_get("resource")?,
            })
        ))
    }

    /// DOT's refresh tokens; the checksum and resource columns read, or stood in for, as for access tokens.
    async fn refresh_tokens(
        &mut self,
        refresh_checksum: &str,
        resource: &str,
    ) -> Result<Vec<DotRefreshToken>, DotError> {
        let d = self.dialect();
        Ok(read_rows!(
            self,
            "oauth2_provider_refreshtoken",
            format!(
                "SELECT {}, token, {refresh_checksum}, {}, {}, {}, {}, {}, {}, {} \
             FROM oauth2_provider_refreshtoken ORDER BY id",
                d.integer("id"),
                d.integer("access_token_id"),
                d.integer("application_id"),
                d.integer("user_id"),
                d.epoch("created"),
                d.epoch("revoked"),
                d.text("token_family"),
                resource
            ),
            |r| Ok::<_, sqlx::Error>(DotRefreshToken {
                id: r.try_get("id")?,
                token: r.try_get("token")?,
                token_checksum: r.try_get("token_checksum")?,
                access_token_id: r.try_get("access_token_id")?,
                application_id: r.try_get("application_id")?,
                user_id: r.try_get("user_id")?,
                created: r.try_get("created")?,
                revoked: r.try_get("revoked")?,
                token_family: r
                    .try_get::<Option<String>, _>("token_family")?
                    .map(|f| f.replace('-', "").to_ascii_lowercase()),
                resource: r.try_get("resource")?,
            })
        ))
    }

    /// DOT's authorization codes.
    async fn grants(&mut self, resource: &str) -> Result<Vec<DotGrant>, DotError> {
        let d = self.dialect();
        Ok(read_rows!(
            self,
            "oauth2_provider_grant",
            format!(
                "SELECT {}, code, {}, {}, {}, redirect_uri, scope, code_challenge, \
             code_challenge_method, nonce, claims, {}, {} \
             FROM oauth2_provider_grant ORDER BY id",
                d.integer("id"),
                d.integer("application_id"),
                d.integer("user_id"),
                d.epoch("expires"),
                d.epoch("created"),
                resource
            ),
            |r| Ok::<_, sqlx::Error>(DotGrant {
                id: r.try_get("id")?,
                code: r.try_get("code")?,
                application_id: r.try_get("application_id")?,
                user_id: r.try_get("user_id")?,
                expires: r.try_get("expires")?,
                redirect_uri: r.try_get("redirect_uri")?,
                scope: r.try_get("scope")?,
                code_challenge: r.try_get("code_challenge")?,
                code_challenge_method: r.try_get("code_challenge_method")?,
                nonce: r.try_get("nonce")?,
                claims: r.try_get("claims")?,
                created: r.try_get("created")?,
                resource: r.try_get("resource")?,
            })
        ))
    }

    /// DOT's ID tokens (their jti and what they were for).
    async fn id_tokens(&mut self) -> Result<Vec<DotIdToken>, DotError> {
        let d = self.dialect();
        Ok(read_rows!(
            self,
            "oauth2_provider_idtoken",
            format!(
                "SELECT {}, {}, {}, scope, {}, {} FROM oauth2_provider_idtoken ORDER BY id",
                d.text("jti"),
                d.integer("application_id"),
                d.integer("user_id"),
                d.epoch("expires"),
                d.epoch("created")
            ),
            |r| Ok::<_, sqlx::Error>(DotIdToken {
                jti: r
                    .try_get::<String, _>("jti")?
                    .replace('-', "")
                    .to_ascii_lowercase(),
                application_id: r.try_get("application_id")?,
                user_id: r.try_get("user_id")?,
                scope: r.try_get("scope")?,
                expires: r.try_get("expires")?,
                created: r.try_get("created")?,
            })
        ))
    }
}
