//! The records Tollgate keeps. Secrets appear here only as [`SecretHash`]es:
//! a copy of the database hands out no usable token.

use crate::client::{ClientType, GrantType, SigningAlgorithm};
use crate::env::UnixTime;
use crate::resource_indicator::Resources;
use crate::secret::SecretHash;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: i64,
    pub username: String,
    /// PHC string (argon2id); `None` for a user who cannot sign in with a password.
    pub password_hash: Option<String>,
    pub email: String,
    pub email_verified: bool,
    pub given_name: String,
    pub family_name: String,
    /// OIDC `phone_number` (E.164 recommended); empty when unknown.
    pub phone_number: String,
    pub phone_number_verified: bool,
    /// OIDC `address`, as its `formatted` member; empty when unknown.
    pub address: String,
    pub active: bool,
    pub staff: bool,
    pub created_at: UnixTime,
    pub updated_at: UnixTime,
}

impl User {
    /// An active user with `id` and `username` and nothing else known: what an
    /// application's user directory fills in (`User { email, ..User::new(id, name) }`).
    pub fn new(id: i64, username: impl Into<String>) -> Self {
        User {
            id,
            username: username.into(),
            password_hash: None,
            email: String::new(),
            email_verified: false,
            given_name: String::new(),
            family_name: String::new(),
            phone_number: String::new(),
            phone_number_verified: false,
            address: String::new(),
            active: true,
            staff: false,
            created_at: 0,
            updated_at: 0,
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct NewUser {
    pub username: String,
    pub password_hash: Option<String>,
    pub email: String,
    pub email_verified: bool,
    pub given_name: String,
    pub family_name: String,
    pub phone_number: String,
    pub phone_number_verified: bool,
    pub address: String,
    pub staff: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Application {
    pub id: i64,
    pub client_id: String,
    /// `sha256:<hex>` for generated secrets, an argon2id PHC string for chosen ones,
    /// `None` for public clients.
    pub client_secret_hash: Option<String>,
    /// HS256 clients only: the secret itself, sealed under the server's `secret_key`,
    /// because their ID tokens are signed with it.
    pub client_secret_sealed: Option<String>,
    pub client_type: ClientType,
    pub grant_types: Vec<GrantType>,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub allowed_origins: Vec<String>,
    pub algorithm: SigningAlgorithm,
    /// UserInfo answers as a JWT signed with `algorithm` (`application/jwt`).
    pub userinfo_signed: bool,
    pub skip_authorization: bool,
    pub name: String,
    pub owner_id: Option<i64>,
    pub created_at: UnixTime,
    pub updated_at: UnixTime,
}

#[derive(Debug, Clone)]
pub struct NewApplication {
    pub client_id: String,
    pub client_secret_hash: Option<String>,
    pub client_secret_sealed: Option<String>,
    pub client_type: ClientType,
    pub grant_types: Vec<GrantType>,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub allowed_origins: Vec<String>,
    pub algorithm: SigningAlgorithm,
    pub userinfo_signed: bool,
    pub skip_authorization: bool,
    pub name: String,
    pub owner_id: Option<i64>,
}

/// An authorization code (DOT's `Grant`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizationCode {
    pub id: i64,
    pub application_id: i64,
    pub user_id: i64,
    pub redirect_uri: String,
    /// Whether the authorization request named `redirect_uri` (the token request must then repeat it).
    pub redirect_uri_given: bool,
    pub scope: String,
    /// RFC 8707: the resources it is for; empty: unrestricted.
    pub resource: Resources,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
    pub nonce: Option<String>,
    /// The OIDC `claims` request parameter, as JSON text.
    pub claims: Option<String>,
    pub auth_time: UnixTime,
    pub expires_at: UnixTime,
    pub created_at: UnixTime,
}

#[derive(Debug, Clone)]
pub struct NewAuthorizationCode {
    pub code_hash: SecretHash,
    pub application_id: i64,
    pub user_id: i64,
    pub redirect_uri: String,
    pub redirect_uri_given: bool,
    pub scope: String,
    /// RFC 8707: the resources it is for; empty: unrestricted.
    pub resource: Resources,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
    pub nonce: Option<String>,
    pub claims: Option<String>,
    pub auth_time: UnixTime,
    pub expires_at: UnixTime,
}

/// What a client presenting a code finds: the code until it is redeemed, then
/// only the fact of a replay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodeRedemption {
    /// Not redeemed yet: the transaction writing its tokens redeems it ([`Spend::Code`]).
    Redeemable(Box<AuthorizationCode>),
    /// Already redeemed: RFC 6749 §4.1.2 says to revoke what it produced.
    Replayed {
        code_id: i64,
    },
    Unknown,
}

/// What a token request uses up. It is spent in the transaction that writes
/// the tokens, so of concurrent requests one writes its tokens and the others
/// write nothing, and a request finding it spent finds those tokens written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Spend {
    /// An authorization code, redeemed (RFC 6749 §4.1.2).
    Code(i64),
    /// A refresh token, retired by rotation with the access token it carried (RFC 9700 §4.14.2).
    RefreshToken(i64),
    /// A refresh token rotated moments ago, used again within the grace period:
    /// nothing is used up, but its family must still have a live token, so a
    /// revocation of the family (a replay, RFC 7009) is never outlived.
    Grace(i64),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessToken {
    pub id: i64,
    pub application_id: i64,
    pub user_id: Option<i64>,
    pub scope: String,
    /// RFC 8707: its audience; empty: unrestricted.
    pub resource: Resources,
    pub expires_at: UnixTime,
    pub created_at: UnixTime,
    pub authorization_code_id: Option<i64>,
    /// The OIDC `claims` request the grant carried, as JSON text, for UserInfo.
    pub claims: Option<String>,
}

#[derive(Debug, Clone)]
pub struct NewAccessToken {
    pub token_hash: SecretHash,
    pub application_id: i64,
    pub user_id: Option<i64>,
    pub scope: String,
    pub resource: Resources,
    pub expires_at: UnixTime,
    pub authorization_code_id: Option<i64>,
    pub claims: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshToken {
    pub id: i64,
    pub application_id: i64,
    pub user_id: Option<i64>,
    pub access_token_id: Option<i64>,
    /// Every token rotated from one original shares its family; reuse revokes all.
    pub family: String,
    pub scope: String,
    /// RFC 8707: the grant's resources, which each refresh may narrow for its access token.
    pub resource: Resources,
    /// `None`: never expires (`refresh_token_expire_seconds` unset).
    pub expires_at: Option<UnixTime>,
    pub created_at: UnixTime,
    pub revoked_at: Option<UnixTime>,
    /// Retired by rotation rather than revoked: the grace period applies to it.
    pub rotated: bool,
    pub authorization_code_id: Option<i64>,
    /// When the user signed in for the original grant: ID tokens minted at refresh repeat it.
    pub auth_time: Option<UnixTime>,
    /// The OIDC `claims` request of the original grant, as JSON text.
    pub claims: Option<String>,
}

#[derive(Debug, Clone)]
pub struct NewRefreshToken {
    pub token_hash: SecretHash,
    pub application_id: i64,
    pub user_id: Option<i64>,
    pub access_token_id: Option<i64>,
    pub family: String,
    pub scope: String,
    pub resource: Resources,
    pub expires_at: Option<UnixTime>,
    pub authorization_code_id: Option<i64>,
    pub auth_time: Option<UnixTime>,
    pub claims: Option<String>,
}

/// An access token with what a bearer request needs beside it, from one joined query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BearerToken {
    pub token: AccessToken,
    pub client_id: String,
    /// `None` for a token with no user (client credentials).
    pub user: Option<User>,
}

/// Which kind of token a lookup found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    Access,
    Refresh,
}

/// A token with the names introspection and revocation need, from one joined query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenDetails {
    pub kind: TokenKind,
    pub id: i64,
    pub application_id: i64,
    pub client_id: String,
    pub user_id: Option<i64>,
    pub username: Option<String>,
    /// `None` for a token with no user (client credentials).
    pub user_active: Option<bool>,
    pub scope: String,
    /// RFC 8707: the token's audience.
    pub resource: Resources,
    pub expires_at: Option<UnixTime>,
    pub created_at: UnixTime,
    pub revoked_at: Option<UnixTime>,
    /// Refresh tokens only: the rotation family.
    pub family: Option<String>,
}

/// An ID token's metadata; the signed JWT itself is never stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdToken {
    pub id: i64,
    pub jti: String,
    pub application_id: i64,
    pub user_id: Option<i64>,
    pub scope: String,
    pub expires_at: UnixTime,
    pub created_at: UnixTime,
}

#[derive(Debug, Clone)]
pub struct NewIdToken {
    pub jti: String,
    pub application_id: i64,
    pub user_id: Option<i64>,
    pub scope: String,
    pub expires_at: UnixTime,
}

#[derive(Clone, PartialEq, Eq)]
pub struct SigningKey {
    pub id: i64,
    /// RFC 7638 thumbprint of the public key.
    pub kid: String,
    pub algorithm: SigningAlgorithm,
    /// PKCS#8 PEM.
    pub private_key_pem: String,
    /// The public JWK as JSON text, ready for the JWKS.
    pub public_jwk: String,
    pub created_at: UnixTime,
    /// From when it signs; published before, so relying parties have it first.
    /// The newest key of an algorithm whose time has come is the one that signs.
    pub activates_at: UnixTime,
    /// When a superseded key leaves the JWKS; `None` while current.
    pub retire_at: Option<UnixTime>,
}

#[derive(Clone)]
pub struct NewSigningKey {
    pub kid: String,
    pub algorithm: SigningAlgorithm,
    pub private_key_pem: String,
    pub public_jwk: String,
    pub activates_at: UnixTime,
}

// The private key stays out of Debug output, and so out of logs.
impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("id", &self.id)
            .field("kid", &self.kid)
            .field("algorithm", &self.algorithm)
            .field("activates_at", &self.activates_at)
            .field("retire_at", &self.retire_at)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for NewSigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewSigningKey")
            .field("kid", &self.kid)
            .field("algorithm", &self.algorithm)
            .field("activates_at", &self.activates_at)
            .finish_non_exhaustive()
    }
}

/// Scopes a user has agreed to give a client, so the consent page need not ask again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Consent {
    pub user_id: i64,
    pub application_id: i64,
    pub scope: String,
    /// RFC 8707: the resources it was given for; empty: any.
    pub resource: Resources,
    pub created_at: UnixTime,
    pub updated_at: UnixTime,
}

/// A browser's login session; the cookie holds the secret, the row its hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub id: i64,
    pub user_id: i64,
    pub auth_time: UnixTime,
    pub expires_at: UnixTime,
    pub created_at: UnixTime,
}

#[derive(Debug, Clone)]
pub struct NewSession {
    pub session_hash: SecretHash,
    pub user_id: i64,
    pub auth_time: UnixTime,
    pub expires_at: UnixTime,
}

/// DOT's `clear_expired` policy, taken from configuration.
#[derive(Debug, Clone, Copy)]
pub struct ExpiryPolicy {
    pub now: UnixTime,
    pub refresh_token_grace_period_seconds: i64,
    pub refresh_token_reuse_protection: bool,
    pub batch_size: u32,
}

/// How many rows `cleartokens` removed, by kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ClearedCounts {
    pub refresh_tokens: u64,
    pub access_tokens: u64,
    pub id_tokens: u64,
    pub authorization_codes: u64,
    pub sessions: u64,
    /// Clients of stale metadata documents with nothing live left.
    pub document_clients: u64,
}

impl ClearedCounts {
    pub fn total(&self) -> u64 {
        self.refresh_tokens
            + self.access_tokens
            + self.id_tokens
            + self.authorization_codes
            + self.sessions
            + self.document_clients
    }
}

/// What the owner of a client may change after registering it; its type and
/// signing algorithm stay, because the secret was made for them.
#[derive(Debug, Clone)]
pub struct ApplicationChanges {
    pub name: String,
    pub grant_types: Vec<GrantType>,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub allowed_origins: Vec<String>,
}

/// A client a user has authorized: remembered consent and live tokens together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizedApplication {
    pub application_id: i64,
    pub client_id: String,
    pub name: String,
    /// Every scope granted, by consent or in a live token, space-separated.
    pub scope: String,
    /// The first consent or token still on record.
    pub granted_at: UnixTime,
    /// The newest consent or token.
    pub last_used_at: UnixTime,
    /// Access and refresh tokens that still work.
    pub live_tokens: u32,
}

/// An RFC 8628 device authorization; both codes are kept only as hashes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceCode {
    pub id: i64,
    pub application_id: i64,
    pub scope: String,
    /// RFC 8707: the resources the device asked for.
    pub resource: Resources,
    pub status: crate::device::DeviceStatus,
    /// Who approved or denied it.
    pub user_id: Option<i64>,
    pub auth_time: Option<UnixTime>,
    /// Seconds a device must wait between polls; grows by 5 at each `slow_down`.
    pub poll_interval: i64,
    pub last_polled_at: Option<UnixTime>,
    pub expires_at: UnixTime,
    pub created_at: UnixTime,
}

#[derive(Debug, Clone)]
pub struct NewDeviceCode {
    pub device_code_hash: SecretHash,
    pub user_code_hash: SecretHash,
    pub application_id: i64,
    pub scope: String,
    pub resource: Resources,
    pub poll_interval: i64,
    pub expires_at: UnixTime,
}
