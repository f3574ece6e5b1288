//! The records Tollgate keeps. Secrets appear here only as [`SecretHash`]es:
//! a copy of the database hands out no usable token.

use crate::client::{ClientType, GrantType, SigningAlgorithm};
use crate::env::UnixTime;
use crate::resource_indicator::Resources;
use crate::secret::SecretHash;

/// A person who signs in and whom grants are for; the source of the OIDC user claims.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// The row id, or a user directory's id for its users; as decimal text, the OIDC `sub`.
    pub id: i64,
    /// The name signed in with; unique, and the `preferred_username` claim.
    pub username: String,
    /// PHC string (argon2id); `None` for a user who cannot sign in with a password.
    pub password_hash: Option<String>,
    /// OIDC `email`; empty when unknown.
    pub email: String,
    /// OIDC `email_verified`: whether the address is known to be the user's.
    pub email_verified: bool,
    /// OIDC `given_name`, and the first part of `name`; empty when unknown.
    pub given_name: String,
    /// OIDC `family_name`, and the last part of `name`; empty when unknown.
    pub family_name: String,
    /// OIDC `phone_number` (E.164 recommended); empty when unknown.
    pub phone_number: String,
    /// OIDC `phone_number_verified`: whether the number is known to be the user's.
    pub phone_number_verified: bool,
    /// OIDC `address`, as its `formatted` member; empty when unknown.
    pub address: String,
    /// `false`: the user cannot sign in, and their tokens stop working.
    pub active: bool,
    /// May use the staff pages under `/o/admin/` (all clients, users, tokens and keys).
    pub staff: bool,
    /// When the record was created (Unix seconds).
    pub created_at: UnixTime,
    /// When the record last changed (Unix seconds); the OIDC `updated_at` claim.
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

/// A user to create: active, with the id and timestamps the store assigns.
#[derive(Debug, Clone, Default)]
pub struct NewUser {
    /// The name signed in with; must be unique.
    pub username: String,
    /// PHC string (argon2id); `None` for a user who cannot sign in with a password.
    pub password_hash: Option<String>,
    /// OIDC `email`; empty when unknown.
    pub email: String,
    /// Whether the email address is known to be the user's.
    pub email_verified: bool,
    /// OIDC `given_name`; empty when unknown.
    pub given_name: String,
    /// OIDC `family_name`; empty when unknown.
    pub family_name: String,
    /// OIDC `phone_number` (E.164 recommended); empty when unknown.
    pub phone_number: String,
    /// Whether the phone number is known to be the user's.
    pub phone_number_verified: bool,
    /// OIDC `address`, as its `formatted` member; empty when unknown.
    pub address: String,
    /// May use the staff pages under `/o/admin/`.
    pub staff: bool,
}

/// A registered client (DOT's `Application`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Application {
    /// The row id; codes, tokens and consents refer to it as `application_id`.
    pub id: i64,
    /// The public identifier the client sends as `client_id` (RFC 6749 §2.2); unique.
    pub client_id: String,
    /// `sha256:<hex>` for generated secrets, an argon2id PHC string for chosen ones,
    /// `None` for public clients.
    pub client_secret_hash: Option<String>,
    /// HS256 clients only: the secret itself, sealed under the server's `secret_key`,
    /// because their ID tokens are signed with it.
    pub client_secret_sealed: Option<String>,
    /// Whether it authenticates with a secret (RFC 6749 §2.1).
    pub client_type: ClientType,
    /// The grants it may use; refresh tokens come with those that issue them.
    pub grant_types: Vec<GrantType>,
    /// Registered redirect URIs; see [`redirect_uri::matches`](crate::redirect_uri::matches).
    pub redirect_uris: Vec<String>,
    /// Where RP-initiated logout may send the browser back to; matched byte for byte.
    pub post_logout_redirect_uris: Vec<String>,
    /// Browser origins allowed to call the token, revocation and device endpoints (CORS).
    pub allowed_origins: Vec<String>,
    /// How its ID tokens, and its signed UserInfo answers, are signed.
    pub algorithm: SigningAlgorithm,
    /// UserInfo answers as a JWT signed with `algorithm` (`application/jwt`).
    pub userinfo_signed: bool,
    /// A trusted client: the user is never asked for consent.
    pub skip_authorization: bool,
    /// Shown to users on the consent and account pages; may be empty.
    pub name: String,
    /// The user who may manage it from the account pages; `None` when no user does.
    pub owner_id: Option<i64>,
    /// How it must make its requests, beyond DOT's model.
    pub security: ClientSecurity,
    /// When it was registered (Unix seconds).
    pub created_at: UnixTime,
    /// When its registration last changed (Unix seconds).
    pub updated_at: UnixTime,
}

/// A client to register, with the id and timestamps the store assigns.
#[derive(Debug, Clone)]
pub struct NewApplication {
    /// The public identifier clients send as `client_id`; must be unique.
    pub client_id: String,
    /// `sha256:<hex>` or an argon2id PHC string; `None` for public clients.
    pub client_secret_hash: Option<String>,
    /// HS256 clients only: the secret, sealed under the server's `secret_key`, to sign with.
    pub client_secret_sealed: Option<String>,
    /// Whether it authenticates with a secret (RFC 6749 §2.1).
    pub client_type: ClientType,
    /// The grants it may use.
    pub grant_types: Vec<GrantType>,
    /// Redirect URIs to register, matched exactly when used.
    pub redirect_uris: Vec<String>,
    /// Where RP-initiated logout may send the browser back to.
    pub post_logout_redirect_uris: Vec<String>,
    /// Browser origins allowed by CORS, each `https://host[:port]`.
    pub allowed_origins: Vec<String>,
    /// How its ID tokens are signed.
    pub algorithm: SigningAlgorithm,
    /// UserInfo answers as a JWT signed with `algorithm` (`application/jwt`).
    pub userinfo_signed: bool,
    /// A trusted client: the user is never asked for consent.
    pub skip_authorization: bool,
    /// Shown to users on the consent page; may be empty.
    pub name: String,
    /// The user who may manage it from the account pages; `None` when no user does.
    pub owner_id: Option<i64>,
    /// How it must make its requests, beyond DOT's model.
    pub security: ClientSecurity,
}

/// What a client registered about how it makes its requests, beyond DOT's
/// model; each field is named as in RFC 7591 metadata.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientSecurity {
    /// RFC 9126 §6: its authorization requests must be pushed first.
    pub require_pushed_authorization_requests: bool,
    /// RFC 7591 `jwks`: its public keys, a JWK Set checked by
    /// [`public_jwks`](crate::jwks::public_jwks), which verify its request
    /// objects and, for `private_key_jwt`, its client assertions.
    pub jwks: Option<String>,
    /// RFC 7591 `jwks_uri`: where its public keys are fetched instead (never
    /// both), checked by [`remote_url`](crate::outbound::remote_url).
    pub jwks_uri: Option<String>,
    /// RFC 7591 `token_endpoint_auth_method`; `None`: as DOT, by its client type
    /// ([`TokenEndpointAuthMethod::default_for`](crate::client_auth::TokenEndpointAuthMethod::default_for)).
    pub token_endpoint_auth_method: Option<crate::client_auth::TokenEndpointAuthMethod>,
    /// RFC 9449 §5.2: its token requests must carry a DPoP proof, so every token it gets is bound.
    pub dpop_bound_access_tokens: bool,
    /// Back-Channel Logout 1.0 §2.2: where it is sent a logout token when a
    /// session it signed in to ends.
    pub backchannel_logout_uri: Option<String>,
    /// Back-Channel Logout 1.0 §2.2: it needs the session's `sid` in logout tokens.
    pub backchannel_logout_session_required: bool,
}

/// An authorization request pushed to `/o/par/` (RFC 9126), kept until it is
/// answered or expires.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushedRequest {
    /// Its authorization request parameters, without client authentication.
    pub parameters: Vec<(String, String)>,
    /// When the authorization endpoint first received it.
    pub opened_at: UnixTime,
}

/// A request to push, with the hash of its `request_uri`.
#[derive(Debug, Clone)]
pub struct NewPushedRequest {
    /// SHA-256 of the random part of its `request_uri`.
    pub request_uri_hash: SecretHash,
    /// The client that pushed it.
    pub application_id: i64,
    /// Its authorization request parameters, without client authentication.
    pub parameters: Vec<(String, String)>,
    /// Until when the authorization endpoint may first receive it.
    pub expires_at: UnixTime,
}

/// An authorization code (DOT's `Grant`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizationCode {
    /// The row id; tokens issued from the code record it as `authorization_code_id`.
    pub id: i64,
    /// The client it was issued to ([`Application::id`]).
    pub application_id: i64,
    /// The user who authorized it.
    pub user_id: i64,
    /// Where the code was sent (RFC 6749 §4.1.2).
    pub redirect_uri: String,
    /// Whether the authorization request named `redirect_uri` (the token request must then repeat it).
    pub redirect_uri_given: bool,
    /// The granted scopes, space-separated.
    pub scope: String,
    /// RFC 8707: the resources it is for; empty: unrestricted.
    pub resource: Resources,
    /// RFC 7636: the PKCE challenge; `None` when the request sent none.
    pub code_challenge: Option<String>,
    /// `S256` or `plain`, beside `code_challenge`; `None` without one.
    pub code_challenge_method: Option<String>,
    /// OIDC: the request's `nonce`, for the ID token to repeat; `None` when not sent.
    pub nonce: Option<String>,
    /// The OIDC `claims` request parameter, as JSON text.
    pub claims: Option<String>,
    /// When the user signed in (Unix seconds), for the ID token's `auth_time`.
    pub auth_time: UnixTime,
    /// When the code stops being redeemable (Unix seconds).
    pub expires_at: UnixTime,
    /// When the code was issued (Unix seconds).
    pub created_at: UnixTime,
    /// RFC 9449 §10: the thumbprint of the key its token request must prove (`dpop_jkt`).
    pub dpop_jkt: Option<String>,
    /// The `sid` of the session it was issued in, for the ID token.
    pub sid: Option<String>,
}

/// A code to store: the client gets the code, the row only its hash.
#[derive(Debug, Clone)]
pub struct NewAuthorizationCode {
    /// SHA-256 of the code handed to the client; the code is looked up by it.
    pub code_hash: SecretHash,
    /// The client it is issued to.
    pub application_id: i64,
    /// The user who authorized it.
    pub user_id: i64,
    /// Where the code is sent.
    pub redirect_uri: String,
    /// Whether the request named `redirect_uri`, which the token request must then repeat.
    pub redirect_uri_given: bool,
    /// The granted scopes, space-separated.
    pub scope: String,
    /// RFC 8707: the resources it is for; empty: unrestricted.
    pub resource: Resources,
    /// RFC 7636: the PKCE challenge, if the request sent one.
    pub code_challenge: Option<String>,
    /// `S256` or `plain`, beside `code_challenge`.
    pub code_challenge_method: Option<String>,
    /// OIDC: the request's `nonce`, if it sent one.
    pub nonce: Option<String>,
    /// The OIDC `claims` request parameter, as JSON text.
    pub claims: Option<String>,
    /// When the user signed in (Unix seconds).
    pub auth_time: UnixTime,
    /// When the code stops being redeemable (Unix seconds).
    pub expires_at: UnixTime,
    /// RFC 9449 §10: the thumbprint of the key its token request must prove (`dpop_jkt`).
    pub dpop_jkt: Option<String>,
    /// The `sid` of the session it was issued in, for the ID token.
    pub sid: Option<String>,
}

/// What a client presenting a code finds: the code until it is redeemed, then
/// only the fact of a replay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodeRedemption {
    /// Not redeemed yet: the transaction writing its tokens redeems it ([`Spend::Code`]).
    Redeemable(Box<AuthorizationCode>),
    /// Already redeemed: RFC 6749 §4.1.2 says to revoke what it produced.
    Replayed {
        /// The code's row id: the tokens issued from it are to be revoked.
        code_id: i64,
    },
    /// No such code for this client: never issued, issued to another, or cleared after expiry.
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
    /// A refresh token that is not rotated (`rotate_refresh_token = false`), still
    /// live: it carries the new access token, and the one it carried goes.
    Carry(i64),
}

/// An issued access token; its value is stored only as a hash, which this record leaves out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessToken {
    /// The row id; the refresh token issued beside it records it as `access_token_id`.
    pub id: i64,
    /// The client it was issued to.
    pub application_id: i64,
    /// The user it acts for; `None` for client credentials.
    pub user_id: Option<i64>,
    /// The granted scopes, space-separated.
    pub scope: String,
    /// RFC 8707: its audience; empty: unrestricted.
    pub resource: Resources,
    /// When it stops working (Unix seconds).
    pub expires_at: UnixTime,
    /// When it was issued (Unix seconds).
    pub created_at: UnixTime,
    /// The code it came from, whose replay revokes it; `None` for other grants or once cleared.
    pub authorization_code_id: Option<i64>,
    /// The OIDC `claims` request the grant carried, as JSON text, for UserInfo.
    pub claims: Option<String>,
    /// RFC 9449: the thumbprint of the key it is bound to (`cnf.jkt`); `None`: a bearer token.
    pub dpop_jkt: Option<String>,
}

/// An access token to store under the hash of the value handed out.
#[derive(Debug, Clone)]
pub struct NewAccessToken {
    /// SHA-256 of the token handed to the client (a JWT's whole text, for JWT access tokens).
    pub token_hash: SecretHash,
    /// The client it is issued to.
    pub application_id: i64,
    /// The user it acts for; `None` for client credentials.
    pub user_id: Option<i64>,
    /// The granted scopes, space-separated.
    pub scope: String,
    /// RFC 8707: its audience; empty: unrestricted.
    pub resource: Resources,
    /// When it stops working (Unix seconds).
    pub expires_at: UnixTime,
    /// The code it is issued from, if any.
    pub authorization_code_id: Option<i64>,
    /// The OIDC `claims` request the grant carried, as JSON text, for UserInfo.
    pub claims: Option<String>,
    /// RFC 9449: the thumbprint of the key it is bound to; `None`: a bearer token.
    pub dpop_jkt: Option<String>,
}

/// An issued refresh token; rotation retires it for a new one of the same family.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshToken {
    /// The row id, which [`Spend::RefreshToken`] and [`Spend::Grace`] name.
    pub id: i64,
    /// The client it was issued to.
    pub application_id: i64,
    /// The user it acts for, if any.
    pub user_id: Option<i64>,
    /// The access token issued with it, which rotation deletes; `None` once that token is gone.
    pub access_token_id: Option<i64>,
    /// Every token rotated from one original shares its family; reuse revokes all.
    pub family: String,
    /// The granted scopes, space-separated; a refresh may narrow them (RFC 6749 §6).
    pub scope: String,
    /// RFC 8707: the grant's resources, which each refresh may narrow for its access token.
    pub resource: Resources,
    /// `None`: never expires (`refresh_token_expire_seconds` unset).
    pub expires_at: Option<UnixTime>,
    /// When it was issued (Unix seconds).
    pub created_at: UnixTime,
    /// When it was revoked or rotated (Unix seconds); `None` while live.
    pub revoked_at: Option<UnixTime>,
    /// Retired by rotation rather than revoked: the grace period applies to it.
    pub rotated: bool,
    /// The grant's code, whose replay revokes it; `None` for other grants or once cleared.
    pub authorization_code_id: Option<i64>,
    /// When the user signed in for the original grant: ID tokens minted at refresh repeat it.
    pub auth_time: Option<UnixTime>,
    /// The OIDC `claims` request of the original grant, as JSON text.
    pub claims: Option<String>,
    /// RFC 9449 §5: the key a public client's refresh token is bound to; `None`: unbound.
    pub dpop_jkt: Option<String>,
    /// The `sid` of the session of the original grant, repeated by ID tokens minted at refresh.
    pub sid: Option<String>,
}

/// A refresh token to store under the hash of the value handed out.
#[derive(Debug, Clone)]
pub struct NewRefreshToken {
    /// SHA-256 of the token handed to the client.
    pub token_hash: SecretHash,
    /// The client it is issued to.
    pub application_id: i64,
    /// The user it acts for, if any.
    pub user_id: Option<i64>,
    /// The access token issued with it; a write of both together links them itself.
    pub access_token_id: Option<i64>,
    /// The rotation family: a new random id for a new grant, the presented token's at rotation.
    pub family: String,
    /// The granted scopes, space-separated.
    pub scope: String,
    /// RFC 8707: the grant's resources; empty: unrestricted.
    pub resource: Resources,
    /// When it stops working (Unix seconds); `None`: never.
    pub expires_at: Option<UnixTime>,
    /// The code its grant came from, if any.
    pub authorization_code_id: Option<i64>,
    /// When the user signed in for the original grant (Unix seconds).
    pub auth_time: Option<UnixTime>,
    /// The OIDC `claims` request of the original grant, as JSON text.
    pub claims: Option<String>,
    /// RFC 9449 §5: the key a public client's refresh token is bound to; `None`: unbound.
    pub dpop_jkt: Option<String>,
    /// The `sid` of the session of the original grant, repeated by ID tokens minted at refresh.
    pub sid: Option<String>,
}

/// An access token with what a bearer request needs beside it, from one joined query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BearerToken {
    /// The access token presented.
    pub token: AccessToken,
    /// The `client_id` of the client it was issued to.
    pub client_id: String,
    /// `None` for a token with no user (client credentials).
    pub user: Option<User>,
}

/// Which kind of token a lookup found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// An access token: deleted when revoked.
    Access,
    /// A refresh token: marked when revoked or rotated, kept until cleared.
    Refresh,
}

/// A token with the names introspection and revocation need, from one joined query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenDetails {
    /// Which table it was found in.
    pub kind: TokenKind,
    /// Its row id among tokens of its kind.
    pub id: i64,
    /// The client it was issued to.
    pub application_id: i64,
    /// That client's `client_id`, for introspection's `client_id`.
    pub client_id: String,
    /// The user it acts for; `None` for client credentials.
    pub user_id: Option<i64>,
    /// That user's username, for introspection's `username`; `None` without a user.
    pub username: Option<String>,
    /// `None` for a token with no user (client credentials).
    pub user_active: Option<bool>,
    /// The granted scopes, space-separated.
    pub scope: String,
    /// RFC 8707: the token's audience.
    pub resource: Resources,
    /// When it stops working (Unix seconds); `None`: a refresh token that never expires.
    pub expires_at: Option<UnixTime>,
    /// When it was issued (Unix seconds).
    pub created_at: UnixTime,
    /// Refresh tokens only: when revoked or rotated (Unix seconds); `None` while live.
    pub revoked_at: Option<UnixTime>,
    /// Refresh tokens only: the rotation family.
    pub family: Option<String>,
    /// RFC 9449: the key it is bound to, if any.
    pub dpop_jkt: Option<String>,
}

/// An ID token's metadata; the signed JWT itself is never stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdToken {
    /// The row id; the token itself is named by its `jti`.
    pub id: i64,
    /// The token's `jti` claim; unique.
    pub jti: String,
    /// The client it was issued to (its `aud`).
    pub application_id: i64,
    /// The user it is about (its `sub`), if any.
    pub user_id: Option<i64>,
    /// The scopes granted with it, space-separated.
    pub scope: String,
    /// Its `exp` (Unix seconds).
    pub expires_at: UnixTime,
    /// When it was issued (Unix seconds).
    pub created_at: UnixTime,
}

/// An ID token's metadata to store.
#[derive(Debug, Clone)]
pub struct NewIdToken {
    /// The token's `jti` claim; must be unique.
    pub jti: String,
    /// The client it was issued to (its `aud`).
    pub application_id: i64,
    /// The user it is about (its `sub`), if any.
    pub user_id: Option<i64>,
    /// The scopes granted with it, space-separated.
    pub scope: String,
    /// Its `exp` (Unix seconds).
    pub expires_at: UnixTime,
}

/// A server key pair, published in the JWKS, that signs ID tokens and JWT access tokens.
#[derive(Clone, PartialEq, Eq)]
pub struct SigningKey {
    /// The row id; relying parties know the key by `kid`.
    pub id: i64,
    /// RFC 7638 thumbprint of the public key.
    pub kid: String,
    /// The JWS algorithm it signs with: RS256, ES256 or EdDSA (HS256 signs with client secrets).
    pub algorithm: SigningAlgorithm,
    /// PKCS#8 PEM.
    pub private_key_pem: String,
    /// The public JWK as JSON text, ready for the JWKS.
    pub public_jwk: String,
    /// When it was generated or imported (Unix seconds); its age is measured from this.
    pub created_at: UnixTime,
    /// From when it signs; published before, so relying parties have it first.
    /// The newest key of an algorithm whose time has come is the one that signs.
    pub activates_at: UnixTime,
    /// When a superseded key leaves the JWKS; `None` while current.
    pub retire_at: Option<UnixTime>,
}

/// A key pair to store; like [`SigningKey`], its private key stays out of Debug output.
#[derive(Clone)]
pub struct NewSigningKey {
    /// RFC 7638 thumbprint of the public key.
    pub kid: String,
    /// The JWS algorithm it signs with.
    pub algorithm: SigningAlgorithm,
    /// PKCS#8 PEM, sealed (`sealed-v1:`) under `secret_key` when one is configured.
    pub private_key_pem: String,
    /// The public JWK as JSON text, ready for the JWKS.
    pub public_jwk: String,
    /// From when it signs (Unix seconds); the JWKS lists it as soon as it is stored.
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
    /// The user who agreed.
    pub user_id: i64,
    /// The client they agreed to give the scopes to.
    pub application_id: i64,
    /// The scopes agreed to, space-separated.
    pub scope: String,
    /// RFC 8707: the resources it was given for; empty: any.
    pub resource: Resources,
    /// When the user first agreed (Unix seconds).
    pub created_at: UnixTime,
    /// When the consent last changed (Unix seconds).
    pub updated_at: UnixTime,
}

/// A browser's login session; the cookie holds the secret, the row its hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// The row id; the cookie carries the secret, never this.
    pub id: i64,
    /// The user signed in.
    pub user_id: i64,
    /// When the user signed in (Unix seconds): the ID token's `auth_time`, the base of `max_age`.
    pub auth_time: UnixTime,
    /// When the session ends (Unix seconds), whatever the cookie says.
    pub expires_at: UnixTime,
    /// When the row was written (Unix seconds).
    pub created_at: UnixTime,
    /// Its public id, the `sid` of its ID tokens and logout tokens; `None` for
    /// a session from before `sid` was kept.
    pub sid: Option<String>,
}

/// A session to store: the cookie gets the secret, the row its hash.
#[derive(Debug, Clone)]
pub struct NewSession {
    /// SHA-256 of the secret in the cookie.
    pub session_hash: SecretHash,
    /// The user signing in.
    pub user_id: i64,
    /// When the user signed in (Unix seconds).
    pub auth_time: UnixTime,
    /// When the session ends (Unix seconds).
    pub expires_at: UnixTime,
    /// Its public id (Back-Channel Logout 1.0 §2.1 `sid`): random, not derived from the secret.
    pub sid: String,
}

/// A client to send a logout token to because a session of its user ended
/// (Back-Channel Logout 1.0): it signed in through that session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionClient {
    /// The client, which has a `backchannel_logout_uri`.
    pub application_id: i64,
    /// The user the session was of.
    pub user_id: i64,
    /// The session's `sid`, if it has one.
    pub sid: Option<String>,
}

/// DOT's `clear_expired` policy, taken from configuration.
#[derive(Debug, Clone, Copy)]
pub struct ExpiryPolicy {
    /// The time expiry is judged at (Unix seconds).
    pub now: UnixTime,
    /// How long a rotated refresh token may still be presented, and so is kept.
    pub refresh_token_grace_period_seconds: i64,
    /// Keep revoked refresh tokens until they expire, so a replay of one is still recognised.
    pub refresh_token_reuse_protection: bool,
    /// Rows deleted per statement (at least 1), so no statement holds a long lock.
    pub batch_size: u32,
}

/// How many rows `cleartokens` removed, by kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ClearedCounts {
    /// Refresh tokens expired, or revoked and past use.
    pub refresh_tokens: u64,
    /// Expired access tokens.
    pub access_tokens: u64,
    /// Expired ID token records.
    pub id_tokens: u64,
    /// Expired authorization codes and device codes.
    pub authorization_codes: u64,
    /// Expired sessions.
    pub sessions: u64,
    /// Clients of stale metadata documents with nothing live left.
    pub document_clients: u64,
    /// Used JWT ids whose JWTs have expired, so a replay would be refused anyway.
    pub used_jwt_ids: u64,
}

impl ClearedCounts {
    /// Every row removed, all kinds together.
    pub fn total(&self) -> u64 {
        self.refresh_tokens
            + self.access_tokens
            + self.id_tokens
            + self.authorization_codes
            + self.sessions
            + self.document_clients
            + self.used_jwt_ids
    }
}

/// What the owner of a client may change after registering it; its type and
/// signing algorithm stay, because the secret was made for them.
#[derive(Debug, Clone)]
pub struct ApplicationChanges {
    /// Replaces the name shown on the consent page.
    pub name: String,
    /// Replaces the grants it may use.
    pub grant_types: Vec<GrantType>,
    /// Replaces the registered redirect URIs.
    pub redirect_uris: Vec<String>,
    /// Replaces the post-logout redirect URIs.
    pub post_logout_redirect_uris: Vec<String>,
    /// Replaces the origins allowed by CORS.
    pub allowed_origins: Vec<String>,
    /// Replaces how it must make its requests.
    pub security: ClientSecurity,
}

/// A client a user has authorized: remembered consent and live tokens together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizedApplication {
    /// The client's row id.
    pub application_id: i64,
    /// The client's public `client_id`.
    pub client_id: String,
    /// The client's name, as the consent page shows it; may be empty.
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
    /// The row id; approval and the token request name the authorization by it.
    pub id: i64,
    /// The client the device runs.
    pub application_id: i64,
    /// The scopes asked for, space-separated.
    pub scope: String,
    /// RFC 8707: the resources the device asked for.
    pub resource: Resources,
    /// Pending until the user decides; used once its tokens are issued.
    pub status: crate::device::DeviceStatus,
    /// Who approved or denied it.
    pub user_id: Option<i64>,
    /// When the deciding user signed in (Unix seconds); `None` while pending.
    pub auth_time: Option<UnixTime>,
    /// Seconds a device must wait between polls; grows by 5 at each `slow_down`.
    pub poll_interval: i64,
    /// The device's latest poll (Unix seconds), to tell it to `slow_down`; `None` before the first.
    pub last_polled_at: Option<UnixTime>,
    /// When the device code and the user code stop working (Unix seconds).
    pub expires_at: UnixTime,
    /// When the device asked (Unix seconds).
    pub created_at: UnixTime,
}

/// A device authorization to store, pending (RFC 8628 §3.1–§3.2).
#[derive(Debug, Clone)]
pub struct NewDeviceCode {
    /// SHA-256 of the `device_code` handed to the device.
    pub device_code_hash: SecretHash,
    /// SHA-256 of the `user_code` shown to the user, without its dash.
    pub user_code_hash: SecretHash,
    /// The client the device runs.
    pub application_id: i64,
    /// The scopes asked for, space-separated.
    pub scope: String,
    /// RFC 8707: the resources asked for; empty: unrestricted.
    pub resource: Resources,
    /// The `interval` the device is told (RFC 8628 §3.2): seconds between polls.
    pub poll_interval: i64,
    /// When both codes stop working (Unix seconds).
    pub expires_at: UnixTime,
}
