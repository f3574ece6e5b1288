//! The provider's settings: DOT's names in snake case, with DOT's defaults
//! except where noted. The library takes them typed; reading files and the
//! environment is the server binary's business.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use tollgate_core::Endpoints;
use tollgate_core::authorize::ApprovalPrompt;
use tollgate_core::client_address::{self, IpNet};
use tollgate_core::deploy_check::FAPI2_CODE_SECONDS;
use tollgate_core::scope::is_scope_token;

/// The scope a bearer token needs to call introspection (as in DOT).
pub const INTROSPECTION_SCOPE: &str = "introspection";

/// `default_scopes` entry that stands for every configured scope (DOT's `__all__`).
pub const ALL_SCOPES: &str = "__all__";

/// The OpenID Connect scopes, known whenever OIDC is on, with their consent-page text
/// unless `scopes` gives another.
pub const OIDC_SCOPES: [(&str, &str); 5] = [
    ("openid", "Sign you in with your account"),
    ("profile", "Your name and username"),
    ("email", "Your email address"),
    ("address", "Your postal address"),
    ("phone", "Your phone number"),
];

/// A configured secret: read from configuration, never shown by `Debug` or serialised.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct SecretText(pub String);

impl std::fmt::Debug for SecretText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretText(..)")
    }
}

/// Who may register a client at `/o/register/` (RFC 7591 §3 leaves it to the server).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RegistrationAccess {
    /// A signed-in user: their session (same origin), or a bearer token of theirs.
    Authenticated,
    /// A bearer token with `dcr_registration_scope`, a user's or a client's.
    Token,
    /// Anyone.
    Open,
}

/// How access tokens are written. Either way only their hash is kept, so
/// both are revoked and introspected alike.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AccessTokenFormat {
    /// 256 random bits (`tga_…`): meaningful only to this server.
    Opaque,
    /// An RFC 9068 JWT (`typ: at+jwt`) a resource server can check by the JWKS.
    Jwt,
}

/// The provider's configuration, DOT's settings by name (see docs/CONFIGURATION.md);
/// `Default` gives DOT's defaults with Tollgate's documented departures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// The issuer identifier, fixed: never derived from a request's Host header.
    /// A path in it is where the endpoints are (`https://host/o` →
    /// `https://host/o/authorize/`, as DOT); without one they are below `/o/`.
    pub issuer: String,
    /// The start of the issuer's path that a reverse proxy (or the application's
    /// `Router::nest`) strips before requests reach Tollgate: `/auth` for an
    /// issuer `https://host/auth` served from `/` behind the proxy. Empty: none.
    pub public_path: String,
    /// Lifetime of an access token.
    pub access_token_expire_seconds: u64,
    /// `opaque` (256 random bits) or `jwt` (RFC 9068, signed with the RS256 key).
    pub access_token_format: AccessTokenFormat,
    /// Lifetime of an authorization code.
    pub authorization_code_expire_seconds: u64,
    /// Lifetime of an ID token.
    pub id_token_expire_seconds: u64,
    /// Lifetime of a refresh token after it is issued; `None`: no expiry (DOT's default).
    pub refresh_token_expire_seconds: Option<u64>,
    /// Issue a new refresh token at each refresh, retiring the old one.
    pub rotate_refresh_token: bool,
    /// How long a rotated refresh token may still be used (for racing clients).
    pub refresh_token_grace_period_seconds: u64,
    /// Tollgate departs from DOT (false) here: RFC 9700 §4.14.2 wants a replayed
    /// rotated refresh token to revoke its family.
    pub refresh_token_reuse_protection: bool,
    /// Every authorization-code request needs PKCE.
    pub pkce_required: bool,
    /// Accept `code_challenge_method=plain` (RFC 9700 §2.1.1 says S256); DOT accepts it by default.
    pub pkce_plain_allowed: bool,
    /// Accept the resource owner password grant from clients registered for it.
    pub password_grant_enabled: bool,
    /// `auto`: skip the consent page when the user already consented to these scopes;
    /// `force`: always ask. DOT's default is `force`; remembered consent needs `auto`.
    pub request_approval_prompt: ApprovalPrompt,
    /// Lifetime of a browser login session.
    pub session_expire_seconds: u64,
    /// How long a process keeps a client registration in memory (0: never), so
    /// hot clients cost no lookup; changes to a client take up to this long.
    pub client_cache_seconds: u64,
    /// How long a process keeps a found token in memory for introspection,
    /// UserInfo and bearer checks (0: never). Revocations through any Tollgate
    /// process are seen at once on this one, and on PostgreSQL on all of them;
    /// this bounds only a change another process makes to a SQLite file.
    pub token_cache_seconds: u64,
    /// Scope name → description shown on the consent page.
    pub scopes: BTreeMap<String, String>,
    /// Granted when a request names no scope; `__all__` means every configured scope.
    pub default_scopes: Vec<String>,
    /// RFC 8707 resource indicators clients may ask tokens for: each of these
    /// URIs, or a path below one. Empty: any absolute URI with a host (as DOT).
    pub allowed_resources: Vec<String>,
    /// Schemes a registered redirect URI may use.
    pub allowed_redirect_uri_schemes: Vec<String>,
    /// Proxies (addresses or CIDR networks) whose `Forwarded` or
    /// `X-Forwarded-For` names the client: the throttles, logs and audit
    /// events then see the client's address instead of the proxy's.
    pub trusted_proxies: Vec<String>,
    /// Private or loopback networks (CIDRs, or single addresses) Tollgate's
    /// own outbound calls may reach, besides public addresses: relying parties
    /// on an internal network. Plain `http` is allowed inside them only.
    pub outbound_allowed_networks: Vec<String>,
    /// Seals what the server must read back: HS256 client secrets and signing
    /// keys. At least 32 characters; without it HS256 clients cannot be registered.
    #[serde(skip_serializing)]
    pub secret_key: Option<SecretText>,
    /// Tollgate departs from DOT (false): a standalone identity server speaks OIDC out of the box.
    pub oidc_enabled: bool,
    /// Tollgate departs from DOT (false): safe to offer, as it only redirects to
    /// exactly registered URIs.
    pub oidc_rp_initiated_logout_enabled: bool,
    /// Ask the user to confirm every logout (DOT's default); otherwise only when
    /// no `id_token_hint` shows the request comes from the signed-in user's client.
    pub oidc_rp_initiated_logout_always_prompt: bool,
    /// Public clients may not be sent back to http post-logout URIs.
    pub oidc_rp_initiated_logout_strict_redirect_uris: bool,
    /// Accept an expired `id_token_hint` (its signature and issuer are still checked).
    pub oidc_rp_initiated_logout_accept_expired_tokens: bool,
    /// Revoke the user's tokens on logout.
    pub oidc_rp_initiated_logout_delete_tokens: bool,
    /// `Cache-Control: max-age` of the JWKS, and how long a rotated-in key is published before it signs.
    pub oidc_jwks_max_age_seconds: u64,
    /// Rows deleted per statement by `cleartokens`.
    pub clear_expired_tokens_batch_size: u32,
    /// A directory of page templates replacing the built-in ones of the same
    /// file name (`login.html`, `consent.html`, …), read at start-up.
    pub templates_dir: Option<std::path::PathBuf>,
    /// RFC 9700 §2.1.2: no response type that puts an access token in the
    /// redirect (`token`, `id_token token`, `code token`, `code id_token token`).
    pub compliant_bcp_rfc9700_implicit_grant: bool,
    /// RFC 9700 §2.4: no resource owner password grant, whatever `password_grant_enabled` says.
    pub compliant_bcp_rfc9700_password_grant: bool,
    /// RFC 9700 §2.1.1: no PKCE `plain`, whatever `pkce_plain_allowed` says.
    pub compliant_bcp_rfc9700_pkce_method: bool,
    /// `check --deploy`: refresh reuse protection off is an error, not a warning.
    pub compliant_bcp_rfc9700_refresh_token: bool,
    /// `check --deploy`: `http` redirect URIs (allowed, or registered for confidential clients) are errors.
    pub compliant_bcp_rfc9700_redirect_uri_scheme: bool,
    /// `check --deploy`: wildcard redirect URIs are errors.
    pub compliant_bcp_rfc9700_redirect_uri_matching: bool,
    /// `check --deploy`: PKCE not required is an error.
    pub compliant_bcp_rfc9700_pkce_required: bool,
    /// `check --deploy`: a signing key older than this many days should be rotated.
    pub signing_key_max_age_days: u64,
    /// RFC 8628: how long a device code and its user code may be used.
    pub device_code_expire_seconds: u64,
    /// RFC 8628: the seconds a device waits between polls, to begin with.
    pub device_code_interval_seconds: u64,
    /// RFC 9126 §5: every client's authorization requests must be pushed to
    /// `/o/par/` first (a client may require it of itself alone).
    pub require_pushed_authorization_requests: bool,
    /// RFC 9126 §2.2: how long a pushed request's `request_uri` may be first used.
    pub pushed_authorization_request_expire_seconds: u64,
    /// RFC 9101: accept unsigned request objects (`alg` `none`), which prove
    /// nothing about who wrote them; off, only signed ones are read.
    pub allow_unsigned_request_objects: bool,
    /// The FAPI 2.0 Security Profile's MUSTs become the rules (docs/FAPI.md):
    /// PAR, PKCE S256, `private_key_jwt`, DPoP-bound tokens, `code` only, no
    /// password grant, codes of at most 60 seconds.
    pub fapi2_security_profile: bool,
    /// RFC 9449 §8: DPoP proofs must carry a server nonce (`use_dpop_nonce`
    /// hands it out); needs `secret_key`, from which every node derives the same nonces.
    pub dpop_nonce_required: bool,
    /// Back-Channel Logout 1.0: how many times a logout token is POSTed to a
    /// client that does not take it (no answer, or a 5xx), at most.
    pub backchannel_logout_attempts: u32,
    /// The wait before the second attempt, doubled before each one after.
    pub backchannel_logout_retry_seconds: u64,
    /// Serve RFC 7591 / 7592 dynamic client registration at `/o/register/`.
    pub dcr_enabled: bool,
    /// Who may register: `authenticated` (a signed-in user: session or a user's
    /// bearer token), `token` (a bearer token with `dcr_registration_scope`) or `open`.
    pub dcr_registration_access: RegistrationAccess,
    /// The scope a bearer token needs to register under `dcr_registration_access = "token"`.
    pub dcr_registration_scope: String,
    /// A new registration access token at every update (RFC 7592 §2.2 allows it).
    pub dcr_rotate_registration_token_on_update: bool,
    /// Accept `https://` client ids that name a client ID metadata document,
    /// fetched and kept as a public client.
    pub cimd_enabled: bool,
    /// Hosts whose documents are accepted (`.example.com`: that domain and
    /// those under it). Empty: any public host.
    pub cimd_allowed_hosts: Vec<String>,
    /// How long a document fetch may take, in all.
    pub cimd_fetch_timeout_seconds: u64,
    /// The largest document accepted, in bytes.
    pub cimd_max_document_size: u64,
    /// A fetched copy is fresh for its `Cache-Control` max-age, at least this long…
    pub cimd_metadata_min_age_seconds: u64,
    /// …and at most this long.
    pub cimd_metadata_max_age_seconds: u64,
    /// After a failed fetch, the document is not asked for again for this long.
    pub cimd_failure_backoff_seconds: u64,
    /// Fetches a process makes at once; past it, an unknown client stays unknown.
    pub cimd_max_concurrent_fetches: u32,
    /// How long `/health` waits for the database before it answers 503: well
    /// under a load balancer's check timeout.
    pub health_check_timeout_milliseconds: u64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            issuer: "http://127.0.0.1:8000".to_owned(),
            public_path: String::new(),
            access_token_expire_seconds: 36_000,
            access_token_format: AccessTokenFormat::Opaque,
            authorization_code_expire_seconds: 60,
            id_token_expire_seconds: 36_000,
            refresh_token_expire_seconds: None,
            rotate_refresh_token: true,
            refresh_token_grace_period_seconds: 0,
            refresh_token_reuse_protection: true,
            pkce_required: true,
            pkce_plain_allowed: false,
            password_grant_enabled: true,
            request_approval_prompt: ApprovalPrompt::Auto,
            session_expire_seconds: 1_209_600,
            client_cache_seconds: 5,
            token_cache_seconds: 5,
            scopes: BTreeMap::from([
                ("read".to_owned(), "Reading scope".to_owned()),
                ("write".to_owned(), "Writing scope".to_owned()),
            ]),
            default_scopes: vec![ALL_SCOPES.to_owned()],
            allowed_resources: Vec::new(),
            allowed_redirect_uri_schemes: vec!["http".to_owned(), "https".to_owned()],
            trusted_proxies: Vec::new(),
            outbound_allowed_networks: Vec::new(),
            secret_key: None,
            oidc_enabled: true,
            oidc_rp_initiated_logout_enabled: true,
            oidc_rp_initiated_logout_always_prompt: true,
            oidc_rp_initiated_logout_strict_redirect_uris: false,
            oidc_rp_initiated_logout_accept_expired_tokens: true,
            oidc_rp_initiated_logout_delete_tokens: true,
            oidc_jwks_max_age_seconds: 3600,
            clear_expired_tokens_batch_size: 10_000,
            templates_dir: None,
            compliant_bcp_rfc9700_implicit_grant: false,
            compliant_bcp_rfc9700_password_grant: false,
            compliant_bcp_rfc9700_pkce_method: false,
            compliant_bcp_rfc9700_refresh_token: false,
            compliant_bcp_rfc9700_redirect_uri_scheme: false,
            compliant_bcp_rfc9700_redirect_uri_matching: false,
            compliant_bcp_rfc9700_pkce_required: false,
            signing_key_max_age_days: 180,
            device_code_expire_seconds: 600,
            device_code_interval_seconds: 5,
            require_pushed_authorization_requests: false,
            pushed_authorization_request_expire_seconds: 60,
            allow_unsigned_request_objects: false,
            fapi2_security_profile: false,
            dpop_nonce_required: false,
            backchannel_logout_attempts: 3,
            backchannel_logout_retry_seconds: 5,
            dcr_enabled: false,
            dcr_registration_access: RegistrationAccess::Authenticated,
            dcr_registration_scope: "oauth2_provider:registration".to_owned(),
            dcr_rotate_registration_token_on_update: true,
            cimd_enabled: false,
            cimd_allowed_hosts: Vec::new(),
            cimd_fetch_timeout_seconds: 5,
            cimd_max_document_size: 16 * 1024,
            cimd_metadata_min_age_seconds: 300,
            cimd_metadata_max_age_seconds: 86_400,
            cimd_failure_backoff_seconds: 60,
            cimd_max_concurrent_fetches: 10,
            health_check_timeout_milliseconds: 500,
        }
    }
}

impl Settings {
    /// Whether the password grant is served: enabled, and not turned off by
    /// RFC 9700 or FAPI 2.0 (§5.3.2.1).
    pub fn password_grant_allowed(&self) -> bool {
        self.password_grant_enabled
            && !self.compliant_bcp_rfc9700_password_grant
            && !self.fapi2_security_profile
    }

    /// Whether every authorization request must be pushed first (RFC 9126 §5; FAPI 2.0 §5.3.2.2).
    pub fn pushed_authorization_required(&self) -> bool {
        self.require_pushed_authorization_requests || self.fapi2_security_profile
    }

    /// Whether unsigned request objects are read: never under the FAPI 2.0 profile.
    pub fn unsigned_request_objects_allowed(&self) -> bool {
        self.allow_unsigned_request_objects && !self.fapi2_security_profile
    }

    /// Whether every code request needs PKCE (FAPI 2.0 §5.3.2.2 asks it of all).
    pub fn pkce_always_required(&self) -> bool {
        self.pkce_required || self.fapi2_security_profile
    }

    /// How long an authorization code lives: FAPI 2.0 §5.3.2.1 caps it at 60 seconds.
    pub fn authorization_code_lifetime(&self) -> u64 {
        match self.fapi2_security_profile {
            true => self
                .authorization_code_expire_seconds
                .min(FAPI2_CODE_SECONDS),
            false => self.authorization_code_expire_seconds,
        }
    }

    /// `trusted_proxies`, parsed.
    pub(crate) fn proxies(&self) -> Result<Vec<IpNet>, SettingsError> {
        client_address::parse_networks(&self.trusted_proxies)
            .map_err(|p| invalid("trusted_proxies", p))
    }

    /// `outbound_allowed_networks`, parsed.
    pub(crate) fn outbound_networks(&self) -> Result<Vec<IpNet>, SettingsError> {
        client_address::parse_networks(&self.outbound_allowed_networks)
            .map_err(|p| invalid("outbound_allowed_networks", p))
    }

    /// Scopes that give powers over the server rather than access to data:
    /// introspection and client registration.
    pub fn is_privileged_scope(&self, scope: &str) -> bool {
        scope == INTROSPECTION_SCOPE || scope == self.dcr_registration_scope
    }

    /// Whether PKCE `plain` is accepted: allowed, and not turned off by RFC 9700.
    pub fn pkce_plain_accepted(&self) -> bool {
        self.pkce_plain_allowed
            && !self.compliant_bcp_rfc9700_pkce_method
            && !self.fapi2_security_profile
    }

    /// Whether a response type may return an access token from the authorization endpoint.
    pub fn front_channel_access_tokens(&self) -> bool {
        !self.compliant_bcp_rfc9700_implicit_grant && !self.fapi2_security_profile
    }
}

/// A setting that cannot work, named by its key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("configuration key `{key}`: {problem}")]
pub struct SettingsError {
    /// The configuration key at fault.
    pub key: &'static str,
    /// What is wrong with its value.
    pub problem: String,
}

fn invalid(key: &'static str, problem: impl Into<String>) -> SettingsError {
    SettingsError {
        key,
        problem: problem.into(),
    }
}

impl Settings {
    /// Every rule the settings must meet; the first broken one is reported.
    pub fn validate(&self) -> Result<(), SettingsError> {
        self.check_urls()?;
        self.check_lifetimes()?;
        self.check_features()?;
        self.check_scopes_and_resources()?;
        self.check_redirect_schemes()
    }

    /// The issuer, the public path and the trusted proxies.
    fn check_urls(&self) -> Result<(), SettingsError> {
        validate_issuer(&self.issuer).map_err(|p| invalid("issuer", p))?;
        Endpoints::new(&self.issuer, "").map_err(|p| invalid("issuer", p))?;
        self.try_endpoints()
            .map_err(|p| invalid("public_path", p))?;
        self.proxies()?;
        self.outbound_networks()?;
        Ok(())
    }

    /// Lifetimes, sizes and counts that must not be zero or out of range.
    fn check_lifetimes(&self) -> Result<(), SettingsError> {
        for (key, value) in [
            (
                "access_token_expire_seconds",
                self.access_token_expire_seconds,
            ),
            ("id_token_expire_seconds", self.id_token_expire_seconds),
            ("oidc_jwks_max_age_seconds", self.oidc_jwks_max_age_seconds),
            ("session_expire_seconds", self.session_expire_seconds),
            (
                "cimd_fetch_timeout_seconds",
                self.cimd_fetch_timeout_seconds,
            ),
            ("cimd_max_document_size", self.cimd_max_document_size),
            (
                "cimd_max_concurrent_fetches",
                self.cimd_max_concurrent_fetches.into(),
            ),
            (
                "health_check_timeout_milliseconds",
                self.health_check_timeout_milliseconds,
            ),
        ] {
            if value == 0 {
                return Err(invalid(key, "must be at least 1"));
            }
        }
        if !(1..=600).contains(&self.authorization_code_expire_seconds) {
            return Err(invalid(
                "authorization_code_expire_seconds",
                "must be between 1 and 600 (RFC 6749 §4.1.2 recommends at most 10 minutes)",
            ));
        }
        if self.refresh_token_expire_seconds == Some(0) {
            return Err(invalid(
                "refresh_token_expire_seconds",
                "must be at least 1; leave it out for refresh tokens that never expire",
            ));
        }
        Ok(())
    }

    /// Settings that need another, and the choices and secrets that must be well formed.
    fn check_features(&self) -> Result<(), SettingsError> {
        if self.access_token_format == AccessTokenFormat::Jwt && !self.oidc_enabled {
            return Err(invalid(
                "access_token_format",
                "`jwt` needs oidc_enabled: the JWKS that verifies the tokens is published with OpenID Connect",
            ));
        }
        if self.cimd_metadata_max_age_seconds < self.cimd_metadata_min_age_seconds {
            return Err(invalid(
                "cimd_metadata_max_age_seconds",
                "must not be less than cimd_metadata_min_age_seconds",
            ));
        }
        if self
            .secret_key
            .as_ref()
            .is_some_and(|k| k.0.chars().count() < 32)
        {
            return Err(invalid(
                "secret_key",
                "must be at least 32 characters (for example 32 random bytes, base64-encoded)",
            ));
        }
        if self.dpop_nonce_required && self.secret_key.is_none() {
            return Err(invalid(
                "dpop_nonce_required",
                "needs secret_key, from which every node derives the same nonces",
            ));
        }
        if !(1..=10).contains(&self.backchannel_logout_attempts) {
            return Err(invalid(
                "backchannel_logout_attempts",
                "must be from 1 to 10",
            ));
        }
        if self.clear_expired_tokens_batch_size == 0 {
            return Err(invalid(
                "clear_expired_tokens_batch_size",
                "must be at least 1",
            ));
        }
        Ok(())
    }

    /// Scope names, the default scopes and the served resources.
    fn check_scopes_and_resources(&self) -> Result<(), SettingsError> {
        if let Some(bad) = self
            .scopes
            .keys()
            .find(|s| !is_scope_token(s) || *s == ALL_SCOPES)
        {
            return Err(invalid(
                "scopes",
                format!("`{bad}` is not a valid scope name"),
            ));
        }
        if let Some(bad) = self
            .default_scopes
            .iter()
            .find(|s| *s != ALL_SCOPES && !self.scopes.contains_key(*s))
        {
            return Err(invalid(
                "default_scopes",
                format!("`{bad}` is not one of the configured `scopes`"),
            ));
        }
        if let Some(bad) = self.allowed_resources.iter().find(|r| {
            tollgate_core::resource_indicator::Resources::requested(std::slice::from_ref(*r), &[])
                .is_err()
        }) {
            return Err(invalid(
                "allowed_resources",
                format!("`{bad}` is not an absolute URI with a host and no fragment"),
            ));
        }
        Ok(())
    }

    /// The schemes a redirect URI may use (RFC 3986 §3.1).
    fn check_redirect_schemes(&self) -> Result<(), SettingsError> {
        if self.allowed_redirect_uri_schemes.is_empty() {
            return Err(invalid(
                "allowed_redirect_uri_schemes",
                "must name at least one scheme",
            ));
        }
        if let Some(bad) = self
            .allowed_redirect_uri_schemes
            .iter()
            .find(|s| !is_scheme(s))
        {
            return Err(invalid(
                "allowed_redirect_uri_schemes",
                format!("`{bad}` is not a URI scheme (RFC 3986 §3.1)"),
            ));
        }
        Ok(())
    }

    /// Where the issuer's endpoints are. Call after [`validate`](Self::validate).
    pub fn endpoints(&self) -> Endpoints {
        self.try_endpoints()
            .expect("the settings were validated before use")
    }

    fn try_endpoints(&self) -> Result<Endpoints, String> {
        Endpoints::new(&self.issuer, &self.public_path)
    }

    /// Every scope a client may ask for: the configured ones, and the OpenID
    /// Connect scopes when OIDC is on.
    pub fn scope_names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.scopes.keys().map(String::as_str).collect();
        if self.oidc_enabled {
            names.extend(OIDC_SCOPES.iter().map(|(name, _)| *name));
            names.sort_unstable();
            names.dedup();
        }
        names
    }

    /// The text the consent page shows for a scope.
    pub fn scope_description<'a>(&'a self, name: &'a str) -> &'a str {
        self.scopes
            .get(name)
            .map(String::as_str)
            .or_else(|| {
                OIDC_SCOPES
                    .iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, d)| *d)
            })
            .unwrap_or(name)
    }

    /// The sealing key, when one is configured.
    pub fn sealer(&self) -> Option<crate::keys::sealing::Sealer> {
        self.secret_key
            .as_ref()
            .map(|k| crate::keys::sealing::Sealer::new(&k.0))
    }

    /// The scopes granted when a request names none.
    pub fn default_scope_names(&self) -> Vec<&str> {
        if self.default_scopes.iter().any(|s| s == ALL_SCOPES) {
            // Privileges are never granted without being asked for by name.
            self.scopes
                .keys()
                .map(String::as_str)
                .filter(|s| !self.is_privileged_scope(s))
                .collect()
        } else {
            self.default_scopes.iter().map(String::as_str).collect()
        }
    }
}

/// OpenID Connect Discovery §3: an https URL with no query or fragment. Plain
/// http is accepted for loopback hosts only, for local development.
fn validate_issuer(issuer: &str) -> Result<(), String> {
    let url = url::Url::parse(issuer).map_err(|e| format!("`{issuer}` is not a URL ({e})"))?;
    let loopback = matches!(url.host_str(), Some("127.0.0.1" | "[::1]" | "localhost"));
    match url.scheme() {
        "https" => {}
        "http" if loopback => {}
        "http" => {
            return Err(format!(
                "`{issuer}` must use https (http only for loopback hosts)"
            ));
        }
        other => return Err(format!("`{issuer}` must be an https URL, not `{other}:`")),
    }
    if url.query().is_some() || url.fragment().is_some() || issuer.contains(['?', '#']) {
        return Err(format!("`{issuer}` must not have a query or fragment"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(format!("`{issuer}` must not carry user information"));
    }
    if issuer.ends_with('/') {
        return Err(format!("`{issuer}` must not end with `/`"));
    }
    Ok(())
}

fn is_scheme(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_dots_and_valid() {
        let s = Settings::default();
        assert_eq!(s.access_token_expire_seconds, 36_000);
        assert_eq!(s.authorization_code_expire_seconds, 60);
        assert!(s.rotate_refresh_token && s.pkce_required);
        assert_eq!(s.refresh_token_grace_period_seconds, 0);
        assert_eq!(s.clear_expired_tokens_batch_size, 10_000);
        assert_eq!(s.validate(), Ok(()));
        assert_eq!(s.default_scope_names(), vec!["read", "write"]);
    }

    fn key_of(s: Settings) -> &'static str {
        s.validate().unwrap_err().key
    }

    #[test]
    fn issuer_rules() {
        for bad in [
            "not a url",
            "http://idp.example.com",
            "https://idp.example.com/",
            "https://idp.example.com/?x=1",
            "https://idp.example.com#f",
            "https://u:p@idp.example.com",
            "ftp://idp.example.com",
        ] {
            let s = Settings {
                issuer: bad.into(),
                ..Settings::default()
            };
            assert_eq!(key_of(s), "issuer", "{bad}");
        }
        for good in [
            "https://idp.example.com",
            "https://idp.example.com/o",
            "http://localhost:8000",
        ] {
            let s = Settings {
                issuer: good.into(),
                ..Settings::default()
            };
            assert_eq!(s.validate(), Ok(()), "{good}");
        }
    }

    #[test]
    fn lifetimes_must_be_positive_and_codes_short() {
        let s = Settings {
            access_token_expire_seconds: 0,
            ..Settings::default()
        };
        assert_eq!(key_of(s), "access_token_expire_seconds");
        let s = Settings {
            authorization_code_expire_seconds: 601,
            ..Settings::default()
        };
        assert_eq!(key_of(s), "authorization_code_expire_seconds");
        let s = Settings {
            refresh_token_expire_seconds: Some(0),
            ..Settings::default()
        };
        assert_eq!(key_of(s), "refresh_token_expire_seconds");
        let s = Settings {
            clear_expired_tokens_batch_size: 0,
            ..Settings::default()
        };
        assert_eq!(key_of(s), "clear_expired_tokens_batch_size");
    }

    #[test]
    fn dpop_nonces_need_the_secret_key_and_the_fapi2_switch_overrides() {
        let s = Settings {
            dpop_nonce_required: true,
            ..Settings::default()
        };
        assert_eq!(key_of(s), "dpop_nonce_required");
        let fapi = Settings {
            fapi2_security_profile: true,
            password_grant_enabled: true,
            pkce_required: false,
            pkce_plain_allowed: true,
            authorization_code_expire_seconds: 300,
            ..Settings::default()
        };
        assert!(!fapi.password_grant_allowed());
        assert!(fapi.pkce_always_required() && !fapi.pkce_plain_accepted());
        assert!(fapi.pushed_authorization_required() && !fapi.front_channel_access_tokens());
        assert_eq!(fapi.authorization_code_lifetime(), 60);
        let plain = Settings {
            authorization_code_expire_seconds: 300,
            ..Settings::default()
        };
        assert_eq!(plain.authorization_code_lifetime(), 300);
    }

    #[test]
    fn default_scopes_must_be_configured_scopes() {
        let s = Settings {
            default_scopes: vec!["admin".into()],
            ..Settings::default()
        };
        let err = s.validate().unwrap_err();
        assert_eq!(err.key, "default_scopes");
        assert!(err.to_string().contains("`admin`"), "{err}");
        let s = Settings {
            default_scopes: vec!["read".into()],
            ..Settings::default()
        };
        assert_eq!(s.default_scope_names(), vec!["read"]);
    }

    #[test]
    fn allowed_resources_must_be_resource_indicators() {
        for bad in ["api", "https://api.example/#x"] {
            let s = Settings {
                allowed_resources: vec!["https://ok.example/".into(), bad.into()],
                ..Settings::default()
            };
            assert_eq!(s.validate().unwrap_err().key, "allowed_resources", "{bad}");
        }
        let s = Settings {
            allowed_resources: vec!["https://ok.example/".into()],
            ..Settings::default()
        };
        assert!(s.validate().is_ok());
    }

    #[test]
    fn scope_names_and_schemes_are_checked() {
        let mut s = Settings::default();
        s.scopes.insert("bad scope".into(), "x".into());
        assert_eq!(key_of(s), "scopes");
        let s = Settings {
            allowed_redirect_uri_schemes: vec!["1http".into()],
            ..Settings::default()
        };
        assert_eq!(key_of(s), "allowed_redirect_uri_schemes");
        let s = Settings {
            allowed_redirect_uri_schemes: vec![],
            ..Settings::default()
        };
        assert_eq!(key_of(s), "allowed_redirect_uri_schemes");
    }
}
