//! Row types as the databases return them, and their conversion to the core's
//! records. Text columns holding enums are parsed here, once.

use sqlx::FromRow;
use tollgate_core::GrantType;
use tollgate_core::model::*;
use tollgate_core::redirect_uri::split_list;
use tollgate_core::resource_indicator::Resources;

use crate::StoreError;

fn corrupt(column: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{column}: {e}"))
}

#[derive(FromRow)]
pub(crate) struct UserRow {
    id: i64,
    username: String,
    password_hash: Option<String>,
    email: String,
    email_verified: bool,
    given_name: String,
    family_name: String,
    phone_number: String,
    phone_number_verified: bool,
    address: String,
    active: bool,
    staff: bool,
    created_at: i64,
    updated_at: i64,
}

impl From<UserRow> for User {
    fn from(r: UserRow) -> Self {
        User {
            id: r.id,
            username: r.username,
            password_hash: r.password_hash,
            email: r.email,
            email_verified: r.email_verified,
            given_name: r.given_name,
            family_name: r.family_name,
            phone_number: r.phone_number,
            phone_number_verified: r.phone_number_verified,
            address: r.address,
            active: r.active,
            staff: r.staff,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

#[derive(FromRow)]
pub(crate) struct ApplicationRow {
    id: i64,
    client_id: String,
    client_secret_hash: Option<String>,
    client_secret_sealed: Option<String>,
    client_type: String,
    grant_types: String,
    redirect_uris: String,
    post_logout_redirect_uris: String,
    allowed_origins: String,
    algorithm: String,
    userinfo_signed: bool,
    skip_authorization: bool,
    name: String,
    owner_id: Option<i64>,
    created_at: i64,
    updated_at: i64,
    require_pushed_authorization_requests: bool,
    jwks: Option<String>,
    token_endpoint_auth_method: Option<String>,
    jwks_uri: Option<String>,
    dpop_bound_access_tokens: bool,
    backchannel_logout_uri: Option<String>,
    backchannel_logout_session_required: bool,
}

impl ApplicationRow {
    pub(crate) fn id(&self) -> i64 {
        self.id
    }
}

impl TryFrom<ApplicationRow> for Application {
    type Error = StoreError;
    fn try_from(r: ApplicationRow) -> Result<Self, StoreError> {
        Ok(Application {
            id: r.id,
            client_id: r.client_id,
            client_secret_hash: r.client_secret_hash,
            client_secret_sealed: r.client_secret_sealed,
            client_type: r
                .client_type
                .parse()
                .map_err(|e| corrupt("client_type", e))?,
            grant_types: GrantType::parse_list(&r.grant_types)
                .map_err(|e| corrupt("grant_types", e))?,
            redirect_uris: split_list(&r.redirect_uris),
            post_logout_redirect_uris: split_list(&r.post_logout_redirect_uris),
            allowed_origins: split_list(&r.allowed_origins),
            algorithm: r.algorithm.parse().map_err(|e| corrupt("algorithm", e))?,
            userinfo_signed: r.userinfo_signed,
            skip_authorization: r.skip_authorization,
            name: r.name,
            owner_id: r.owner_id,
            security: ClientSecurity {
                require_pushed_authorization_requests: r.require_pushed_authorization_requests,
                jwks: r.jwks,
                jwks_uri: r.jwks_uri,
                dpop_bound_access_tokens: r.dpop_bound_access_tokens,
                backchannel_logout_uri: r.backchannel_logout_uri,
                backchannel_logout_session_required: r.backchannel_logout_session_required,
                token_endpoint_auth_method: r
                    .token_endpoint_auth_method
                    .as_deref()
                    .map(str::parse)
                    .transpose()
                    .map_err(|e| corrupt("token_endpoint_auth_method", e))?,
            },
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

#[derive(FromRow)]
pub(crate) struct CodeRow {
    id: i64,
    application_id: i64,
    user_id: i64,
    redirect_uri: String,
    redirect_uri_given: bool,
    scope: String,
    resource: String,
    code_challenge: Option<String>,
    code_challenge_method: Option<String>,
    nonce: Option<String>,
    claims: Option<String>,
    auth_time: i64,
    expires_at: i64,
    created_at: i64,
    redeemed_at: Option<i64>,
    dpop_jkt: Option<String>,
    sid: Option<String>,
}

impl From<CodeRow> for CodeRedemption {
    fn from(r: CodeRow) -> Self {
        if r.redeemed_at.is_some() {
            return CodeRedemption::Replayed { code_id: r.id };
        }
        CodeRedemption::Redeemable(Box::new(AuthorizationCode {
            id: r.id,
            application_id: r.application_id,
            user_id: r.user_id,
            redirect_uri: r.redirect_uri,
            redirect_uri_given: r.redirect_uri_given,
            scope: r.scope,
            resource: Resources::stored(&r.resource),
            code_challenge: r.code_challenge,
            code_challenge_method: r.code_challenge_method,
            nonce: r.nonce,
            claims: r.claims,
            auth_time: r.auth_time,
            expires_at: r.expires_at,
            created_at: r.created_at,
            dpop_jkt: r.dpop_jkt,
            sid: r.sid,
        }))
    }
}

#[derive(FromRow)]
pub(crate) struct AccessTokenRow {
    id: i64,
    application_id: i64,
    user_id: Option<i64>,
    scope: String,
    resource: String,
    expires_at: i64,
    created_at: i64,
    authorization_code_id: Option<i64>,
    claims: Option<String>,
    dpop_jkt: Option<String>,
}

impl From<AccessTokenRow> for AccessToken {
    fn from(r: AccessTokenRow) -> Self {
        AccessToken {
            id: r.id,
            application_id: r.application_id,
            user_id: r.user_id,
            scope: r.scope,
            resource: Resources::stored(&r.resource),
            expires_at: r.expires_at,
            created_at: r.created_at,
            authorization_code_id: r.authorization_code_id,
            claims: r.claims,
            dpop_jkt: r.dpop_jkt,
        }
    }
}

/// An access token joined with its client's id and its user's columns (all
/// `NULL` when it has no user).
#[derive(FromRow)]
pub(crate) struct BearerRow {
    #[sqlx(flatten)]
    token: AccessTokenRow,
    client_id: String,
    username: Option<String>,
    password_hash: Option<String>,
    email: Option<String>,
    email_verified: Option<bool>,
    given_name: Option<String>,
    family_name: Option<String>,
    phone_number: Option<String>,
    phone_number_verified: Option<bool>,
    address: Option<String>,
    active: Option<bool>,
    staff: Option<bool>,
    user_created_at: Option<i64>,
    user_updated_at: Option<i64>,
}

impl From<BearerRow> for BearerToken {
    fn from(r: BearerRow) -> Self {
        let token = AccessToken::from(r.token);
        let user = match (token.user_id, r.username) {
            (Some(id), Some(username)) => Some(User {
                id,
                username,
                password_hash: r.password_hash,
                email: r.email.unwrap_or_default(),
                email_verified: r.email_verified.unwrap_or_default(),
                given_name: r.given_name.unwrap_or_default(),
                family_name: r.family_name.unwrap_or_default(),
                phone_number: r.phone_number.unwrap_or_default(),
                phone_number_verified: r.phone_number_verified.unwrap_or_default(),
                address: r.address.unwrap_or_default(),
                active: r.active.unwrap_or_default(),
                staff: r.staff.unwrap_or_default(),
                created_at: r.user_created_at.unwrap_or_default(),
                updated_at: r.user_updated_at.unwrap_or_default(),
            }),
            _ => None,
        };
        BearerToken {
            token,
            client_id: r.client_id,
            user,
        }
    }
}

#[derive(FromRow)]
pub(crate) struct RefreshTokenRow {
    id: i64,
    application_id: i64,
    user_id: Option<i64>,
    access_token_id: Option<i64>,
    family: String,
    scope: String,
    resource: String,
    expires_at: Option<i64>,
    created_at: i64,
    revoked_at: Option<i64>,
    rotated: bool,
    authorization_code_id: Option<i64>,
    auth_time: Option<i64>,
    claims: Option<String>,
    dpop_jkt: Option<String>,
    sid: Option<String>,
}

impl From<RefreshTokenRow> for RefreshToken {
    fn from(r: RefreshTokenRow) -> Self {
        RefreshToken {
            id: r.id,
            application_id: r.application_id,
            user_id: r.user_id,
            access_token_id: r.access_token_id,
            family: r.family,
            scope: r.scope,
            resource: Resources::stored(&r.resource),
            expires_at: r.expires_at,
            created_at: r.created_at,
            revoked_at: r.revoked_at,
            rotated: r.rotated,
            authorization_code_id: r.authorization_code_id,
            auth_time: r.auth_time,
            claims: r.claims,
            dpop_jkt: r.dpop_jkt,
            sid: r.sid,
        }
    }
}

#[derive(FromRow)]
pub(crate) struct SigningKeyRow {
    id: i64,
    kid: String,
    algorithm: String,
    private_key_pem: String,
    public_jwk: String,
    created_at: i64,
    activates_at: i64,
    retire_at: Option<i64>,
}

impl TryFrom<SigningKeyRow> for SigningKey {
    type Error = StoreError;
    fn try_from(r: SigningKeyRow) -> Result<Self, StoreError> {
        Ok(SigningKey {
            id: r.id,
            kid: r.kid,
            algorithm: r.algorithm.parse().map_err(|e| corrupt("algorithm", e))?,
            private_key_pem: r.private_key_pem,
            public_jwk: r.public_jwk,
            created_at: r.created_at,
            activates_at: r.activates_at,
            retire_at: r.retire_at,
        })
    }
}

#[derive(FromRow)]
pub(crate) struct TokenDetailsRow {
    id: i64,
    application_id: i64,
    client_id: String,
    user_id: Option<i64>,
    username: Option<String>,
    user_active: Option<bool>,
    scope: String,
    resource: String,
    expires_at: Option<i64>,
    created_at: i64,
    revoked_at: Option<i64>,
    family: Option<String>,
    dpop_jkt: Option<String>,
}

impl TokenDetailsRow {
    /// The query of a token of `kind` with its client and user, up to `WHERE`.
    pub(crate) fn select(kind: TokenKind) -> &'static str {
        match kind {
            TokenKind::Access => {
                "SELECT t.id, t.application_id, a.client_id, t.user_id, u.username, \
                 u.active AS user_active, t.scope, t.resource, t.expires_at, t.created_at, \
                 CAST(NULL AS BIGINT) AS revoked_at, CAST(NULL AS TEXT) AS family, t.dpop_jkt \
                 FROM tollgate_access_tokens t JOIN tollgate_applications a ON a.id = t.application_id \
                 LEFT JOIN tollgate_users u ON u.id = t.user_id"
            }
            TokenKind::Refresh => {
                "SELECT t.id, t.application_id, a.client_id, t.user_id, u.username, \
                 u.active AS user_active, t.scope, t.resource, t.expires_at, t.created_at, \
                 t.revoked_at, t.family, t.dpop_jkt \
                 FROM tollgate_refresh_tokens t JOIN tollgate_applications a ON a.id = t.application_id \
                 LEFT JOIN tollgate_users u ON u.id = t.user_id"
            }
        }
    }

    pub(crate) fn into_details(self, kind: TokenKind) -> TokenDetails {
        TokenDetails {
            kind,
            id: self.id,
            application_id: self.application_id,
            client_id: self.client_id,
            user_id: self.user_id,
            username: self.username,
            user_active: self.user_active,
            scope: self.scope,
            resource: Resources::stored(&self.resource),
            expires_at: self.expires_at,
            created_at: self.created_at,
            revoked_at: self.revoked_at,
            family: self.family,
            dpop_jkt: self.dpop_jkt,
        }
    }
}
