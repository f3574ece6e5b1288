//! The command line, shaped after DOT's management commands.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use tollgate::core::client_auth::TokenEndpointAuthMethod;
use tollgate::core::{ClientType, GrantType, SigningAlgorithm};

#[derive(Debug, Parser)]
#[command(
    name = "tollgate",
    version,
    about = "An OAuth 2.0 and OpenID Connect provider"
)]
pub struct Cli {
    /// Configuration file (TOML). Without it, ./tollgate.toml is read if present.
    #[arg(long, global = true, env = "TOLLGATE_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Log format: human-readable text, or one JSON object per line.
    #[arg(
        long,
        global = true,
        env = "TOLLGATE_LOG_FORMAT",
        default_value = "text"
    )]
    pub log_format: LogFormat,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Migrate the database if needed, create a signing key on first start, and serve.
    Serve,
    /// Apply pending database migrations.
    Migrate,
    /// Register a client application (prints a generated secret once).
    #[command(name = "createapplication")]
    CreateApplication(CreateApplication),
    /// Create a user.
    #[command(name = "createuser")]
    CreateUser(CreateUser),
    /// Delete expired and revoked tokens, codes and sessions, in batches.
    #[command(name = "cleartokens")]
    ClearTokens,
    /// Manage the keys ID tokens are signed with.
    #[command(subcommand)]
    Keys(Keys),
    /// Bring over a django-oauth-toolkit 3.x database: users (same ids, Django
    /// passwords), clients, live tokens and codes, and the OIDC signing key.
    #[command(name = "import-dot")]
    ImportDot(ImportDot),
    /// Check the configuration and the database; with --deploy, report every
    /// security weakness of the deployment (exit status 1 on any error).
    Check {
        /// The security checks for a production deployment.
        #[arg(long)]
        deploy: bool,
        #[command(flatten)]
        output: Output,
    },
    /// List, show or delete registered applications.
    #[command(subcommand)]
    Applications(Applications),
    /// List, show or delete users.
    #[command(subcommand)]
    Users(Users),
    /// Set a user's password, read from standard input, and end their sessions.
    #[command(name = "changepassword")]
    ChangePassword {
        username: String,
        /// Read the password from the first line of standard input (required:
        /// a password in the arguments shows in the process list).
        #[arg(long, required = true)]
        password_stdin: bool,
    },
    /// Print a completion script for a shell, e.g.
    /// `tollgate completions bash > /etc/bash_completion.d/tollgate`.
    Completions {
        #[arg(value_name = "SHELL")]
        shell: clap_complete::Shell,
    },
}

/// `--json`: one JSON document on standard output instead of text, for scripts.
#[derive(Debug, Clone, Copy, Args)]
pub struct Output {
    /// Print one JSON document on standard output (messages go to standard error).
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum Applications {
    /// Every registered application, by name.
    List {
        #[command(flatten)]
        output: Output,
    },
    /// One application's registration (never its secret).
    Show {
        client_id: String,
        #[command(flatten)]
        output: Output,
    },
    /// Delete an application with its codes, tokens and consents.
    Delete { client_id: String },
}

#[derive(Debug, Subcommand)]
pub enum Users {
    /// Every user, by username.
    List {
        #[command(flatten)]
        output: Output,
    },
    /// One user (never the password hash).
    Show {
        username: String,
        #[command(flatten)]
        output: Output,
    },
    /// Delete a user with their tokens, codes, consents, sessions and the
    /// applications they own.
    Delete { username: String },
}

#[derive(Debug, Subcommand)]
pub enum Keys {
    /// Add a key for an algorithm: published now, signing once relying parties
    /// have fetched it (at once if the algorithm has no key yet, or with --now).
    Generate {
        #[arg(long = "alg", default_value = "RS256", value_name = "ALG")]
        algorithm: SigningAlgorithm,
        /// Sign with it at once (to replace a compromised key).
        #[arg(long)]
        now: bool,
    },
    /// List the keys: which signs, which are scheduled, which are leaving.
    List {
        #[command(flatten)]
        output: Output,
    },
    /// Replace the key of every algorithm (or of --alg): the new key is
    /// published first; the old one leaves the JWKS once its tokens have expired.
    Rotate {
        #[arg(long = "alg", value_name = "ALG")]
        algorithm: Option<SigningAlgorithm>,
        /// Sign with the new keys at once (to replace compromised keys).
        #[arg(long)]
        now: bool,
    },
}

#[derive(Debug, Args)]
pub struct CreateApplication {
    /// `confidential` or `public`.
    pub client_type: ClientType,
    /// One or more of: authorization-code, client-credentials, password, implicit,
    /// openid-hybrid, urn:ietf:params:oauth:grant-type:device_code.
    #[arg(required = true, value_name = "GRANT_TYPE")]
    pub grant_types: Vec<GrantType>,
    /// Client id to use instead of a generated one.
    #[arg(long)]
    pub client_id: Option<String>,
    /// Secret to use instead of a generated one (hashed with argon2id).
    #[arg(long)]
    pub client_secret: Option<String>,
    /// Space-separated redirect URIs, matched exactly.
    #[arg(long, default_value = "")]
    pub redirect_uris: String,
    /// Space-separated post-logout redirect URIs.
    #[arg(long, default_value = "")]
    pub post_logout_redirect_uris: String,
    /// Space-separated https origins allowed to call the token endpoint from a browser.
    #[arg(long, default_value = "")]
    pub allowed_origins: String,
    /// Human-readable name shown on the consent page.
    #[arg(long, default_value = "")]
    pub name: String,
    /// Username of the owner.
    #[arg(long, value_name = "USERNAME")]
    pub user: Option<String>,
    /// Never ask users for consent.
    #[arg(long)]
    pub skip_authorization: bool,
    /// ID token signing algorithm.
    #[arg(long, default_value = "RS256")]
    pub algorithm: SigningAlgorithm,
    /// Answer UserInfo with a JWT signed like the ID tokens (`application/jwt`).
    #[arg(long)]
    pub userinfo_signed: bool,
    /// Its authorization requests must be pushed to /o/par/ first (RFC 9126).
    #[arg(long)]
    pub require_pushed_authorization_requests: bool,
    /// A JWK Set of its public keys (RFC 7517 JSON), which verify its request
    /// objects (RFC 9101).
    #[arg(long, value_name = "FILE", conflicts_with = "jwks_uri")]
    pub jwks_file: Option<std::path::PathBuf>,
    /// Where its public keys are fetched instead (RFC 7591 `jwks_uri`): https,
    /// or http inside `outbound_allowed_networks`.
    #[arg(long, value_name = "URL")]
    pub jwks_uri: Option<String>,
    /// Its token requests must carry a DPoP proof, so its tokens are all bound
    /// to its key (RFC 9449).
    #[arg(long)]
    pub dpop_bound_access_tokens: bool,
    /// Where it is sent a logout token when a user's session it signed in
    /// through ends (OpenID Connect Back-Channel Logout): https, or http
    /// inside `outbound_allowed_networks`.
    #[arg(long, value_name = "URL")]
    pub backchannel_logout_uri: Option<String>,
    /// Its logout tokens must name the session (`sid`).
    #[arg(long, requires = "backchannel_logout_uri")]
    pub backchannel_logout_session_required: bool,
    /// How it authenticates (RFC 7591): client_secret_basic or client_secret_post
    /// (either is then accepted, as DOT does; the default of a confidential client),
    /// client_secret_jwt (needs secret_key), private_key_jwt (needs --jwks-file),
    /// or none (a public client).
    #[arg(long, value_name = "METHOD")]
    pub token_endpoint_auth_method: Option<TokenEndpointAuthMethod>,
    #[command(flatten)]
    pub output: Output,
}

#[derive(Debug, Args)]
pub struct ImportDot {
    /// The DOT database, read and never written: sqlite:PATH (or a file path)
    /// or postgres://USER@HOST/NAME.
    #[arg(value_name = "SOURCE_DATABASE_URL")]
    pub source: String,
    /// DOT's OIDC_RSA_PRIVATE_KEY, as a PEM file: it signs RS256 ID tokens from
    /// now on, under the kid DOT published.
    #[arg(long, value_name = "PEM_FILE")]
    pub oidc_rsa_private_key: Option<PathBuf>,
    /// Read and check everything, and say what would be written, writing nothing.
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Args)]
pub struct CreateUser {
    pub username: String,
    /// The password (visible in the process list and shell history: prefer --password-stdin).
    #[arg(long, conflicts_with = "password_stdin")]
    pub password: Option<String>,
    /// Read the password from the first line of standard input.
    #[arg(long)]
    pub password_stdin: bool,
    #[arg(long, default_value = "")]
    pub email: String,
    /// Mark the email address as verified.
    #[arg(long)]
    pub email_verified: bool,
    #[arg(long, default_value = "")]
    pub given_name: String,
    #[arg(long, default_value = "")]
    pub family_name: String,
    /// Phone number (E.164 recommended), for the `phone` scope.
    #[arg(long, default_value = "")]
    pub phone_number: String,
    /// Mark the phone number as verified.
    #[arg(long)]
    pub phone_number_verified: bool,
    /// Postal address on one line, for the `address` scope.
    #[arg(long, default_value = "")]
    pub address: String,
    /// May use the staff admin pages.
    #[arg(long)]
    pub staff: bool,
    #[command(flatten)]
    pub output: Output,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
