//! Minting an access token (and a refresh token, and for OpenID Connect an ID
//! token) for a grant that succeeded.

use serde::Serialize;
use tollgate_core::access_token::{AccessTokenClaims, TYP};
use tollgate_core::claims::ClaimsRequest;
use tollgate_core::env::UnixTime;
use tollgate_core::model::{Application, NewAccessToken, NewRefreshToken, Spend, User};
use tollgate_core::resource_indicator::Resources;
use tollgate_core::scope::Scopes;
use tollgate_core::secret::random_id;
use tollgate_core::{ClientType, NewSecret, SecretHash, SecretKind, SigningAlgorithm};
use tollgate_store::StoreError;

use crate::events::Event;
use crate::http::json::JsonResult;
use crate::keys::signing;
use crate::keys::signing::SigningError;
use crate::oidc::id_token;
use crate::oidc::id_token::Mint;
use crate::provider::Inner;
use crate::settings::AccessTokenFormat;

/// RFC 6749 §5.1.
#[derive(Serialize)]
pub(crate) struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    pub scope: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
}

/// A refresh token to issue beside the access token.
pub(crate) struct Refresh {
    /// `None`: the first of a new family.
    pub family: Option<String>,
    /// The scope of the original grant, which later refreshes may narrow.
    pub scope: String,
    /// The resources of the original grant, which later refreshes may narrow.
    pub resource: Resources,
}

pub(crate) struct Grant<'a> {
    /// As the request named it, for the audit events.
    pub grant_type: &'static str,
    pub client: &'a Application,
    pub user: Option<&'a User>,
    pub scope: &'a Scopes,
    /// The access token's audience (RFC 8707).
    pub resource: Resources,
    pub refresh: Option<Refresh>,
    pub authorization_code_id: Option<i64>,
    /// When the user signed in for this grant; refresh tokens keep it for their ID tokens.
    pub auth_time: Option<UnixTime>,
    /// The OIDC `claims` request, as JSON text, carried with the tokens.
    pub claims: Option<String>,
    /// The OIDC `nonce` of the authorization request (code grant only).
    pub nonce: Option<&'a str>,
    /// Spent by the transaction writing the tokens: a code, a refresh token rotated.
    pub spends: Option<Spend>,
    /// RFC 9449: the key of the request's DPoP proof, which the tokens are bound to.
    pub dpop_jkt: Option<&'a str>,
    /// The `sid` of the session the grant came through, for ID tokens now and at refresh.
    pub sid: Option<&'a str>,
}

/// What an access token is about, to write it.
struct AccessTokenFor<'a> {
    pub client: &'a Application,
    pub user: Option<&'a User>,
    pub scope: &'a str,
    pub resource: &'a Resources,
    pub auth_time: Option<UnixTime>,
    pub expires_at: UnixTime,
    pub dpop_jkt: Option<&'a str>,
}

/// A new access token and its hash: 256 random bits, or an RFC 9068 JWT
/// signed with the RS256 key, as `access_token_format` says.
async fn new_access_token(
    inner: &Inner,
    about: AccessTokenFor<'_>,
) -> Result<NewSecret, SigningError> {
    if inner.settings.access_token_format == AccessTokenFormat::Opaque {
        return Ok(NewSecret::generate(
            SecretKind::AccessToken,
            inner.entropy.as_ref(),
        ));
    }
    let now = inner.clock.now();
    let subject = match about.user {
        Some(user) => crate::oidc::claims::subject(user),
        None => about.client.client_id.clone(),
    };
    let jti = random_id(16, inner.entropy.as_ref());
    let claims = AccessTokenClaims {
        issuer: &inner.settings.issuer,
        subject: &subject,
        client_id: &about.client.client_id,
        resource: about.resource,
        scope: about.scope,
        issued_at: now,
        expires_at: about.expires_at,
        jti: &jti,
        auth_time: about.user.and(about.auth_time),
        dpop_jkt: about.dpop_jkt,
    }
    .to_json();
    let ring = inner.keys.ring(&inner.store, now).await?;
    let jwt = signing::sign(&ring, SigningAlgorithm::RS256, None, &claims, now, TYP)?;
    Ok(NewSecret {
        hash: SecretHash::of(&jwt),
        plaintext: jwt,
    })
}

/// The token endpoint's answer to a grant that succeeded: its tokens, written
/// together with what the grant spends, and for OpenID Connect an ID token;
/// `None` when another request spent what the grant spends first ([`Grant::spends`]).
pub(crate) async fn issue(inner: &Inner, grant: Grant<'_>) -> JsonResult<Option<TokenResponse>> {
    let now = inner.clock.now();
    let tokens = Tokens::make(inner, &grant, now).await?;
    // Signed before the tokens are stored: a signing failure leaves no tokens behind.
    let id_token = id_token_for(inner, &grant, &tokens.access_token).await?;
    Ok(tokens.write(inner, &grant, id_token, now).await?)
}

/// An access token the authorization endpoint returns (implicit, hybrid): made
/// and written as [`issue`] does, without the ID token, which that endpoint
/// mints itself (with `c_hash`, and only when `response_type` asks for one).
pub(crate) async fn issue_access_token(
    inner: &Inner,
    grant: Grant<'_>,
) -> Result<TokenResponse, Box<dyn std::error::Error + Send + Sync>> {
    let now = inner.clock.now();
    let tokens = Tokens::make(inner, &grant, now).await?;
    let response = tokens
        .write(inner, &grant, None, now)
        .await?
        .ok_or("the grant was spent by another request")?;
    Ok(response)
}

/// A grant's access token, and its refresh token if it has one, made but not written.
struct Tokens {
    /// The access token itself, for the response and the ID token's `at_hash`.
    access_token: String,
    access: NewAccessToken,
    /// The refresh token itself, and its row.
    refresh: Option<(String, NewRefreshToken)>,
}

impl Tokens {
    async fn make(inner: &Inner, grant: &Grant<'_>, now: UnixTime) -> Result<Self, SigningError> {
        let settings = &inner.settings;
        let expires_at = now.saturating_add(seconds(settings.access_token_expire_seconds));
        let scope = grant.scope.to_string();
        let access = new_access_token(
            inner,
            AccessTokenFor {
                client: grant.client,
                user: grant.user,
                scope: &scope,
                resource: &grant.resource,
                auth_time: grant.auth_time,
                expires_at,
                dpop_jkt: grant.dpop_jkt,
            },
        )
        .await?;
        let user_id = grant.user.map(|u| u.id);
        let refresh = grant.refresh.as_ref().map(|plan| {
            let secret = NewSecret::generate(SecretKind::RefreshToken, inner.entropy.as_ref());
            let row = NewRefreshToken {
                token_hash: secret.hash,
                application_id: grant.client.id,
                user_id,
                access_token_id: None,
                family: plan
                    .family
                    .clone()
                    .unwrap_or_else(|| random_id(16, inner.entropy.as_ref())),
                scope: plan.scope.clone(),
                resource: plan.resource.clone(),
                expires_at: settings
                    .refresh_token_expire_seconds
                    .map(|s| now.saturating_add(seconds(s))),
                authorization_code_id: grant.authorization_code_id,
                auth_time: grant.auth_time,
                claims: grant.claims.clone(),
                // RFC 9449 §5: bound for public clients; a confidential one authenticates instead.
                dpop_jkt: grant
                    .dpop_jkt
                    .filter(|_| grant.client.client_type == ClientType::Public)
                    .map(str::to_owned),
                sid: grant.sid.map(str::to_owned),
            };
            (secret.plaintext, row)
        });
        Ok(Tokens {
            access_token: access.plaintext,
            access: NewAccessToken {
                token_hash: access.hash,
                application_id: grant.client.id,
                user_id,
                scope,
                resource: grant.resource.clone(),
                expires_at,
                authorization_code_id: grant.authorization_code_id,
                claims: grant.claims.clone(),
                dpop_jkt: grant.dpop_jkt.map(str::to_owned),
            },
            refresh,
        })
    }

    /// Writes the tokens, spending what the grant spends, and answers with them;
    /// `None`: another request spent it first.
    async fn write(
        self,
        inner: &Inner,
        grant: &Grant<'_>,
        id_token: Option<String>,
        now: UnixTime,
    ) -> Result<Option<TokenResponse>, StoreError> {
        let refresh = self.refresh.as_ref().map(|(_, row)| row);
        let written = inner
            .store
            .issue_tokens(&self.access, refresh, grant.spends, now)
            .await?;
        if written.is_none() {
            return Ok(None);
        }
        crate::telemetry::token_issued(grant.grant_type, inner.settings.access_token_format);
        inner.events.emit(&Event::TokenIssued {
            client_id: &grant.client.client_id,
            user_id: self.access.user_id,
            grant_type: grant.grant_type,
            scope: &self.access.scope,
        });
        let response = TokenResponse {
            access_token: self.access_token,
            // RFC 9449 §5.1.
            token_type: match self.access.dpop_jkt {
                Some(_) => "DPoP",
                None => "Bearer",
            },
            expires_in: inner.settings.access_token_expire_seconds,
            refresh_token: self.refresh.map(|(plaintext, _)| plaintext),
            scope: grant.scope.to_string(),
            id_token,
        };
        Ok(Some(response))
    }
}

/// The ID token of an OpenID Connect grant for a user, beside its access token.
async fn id_token_for(
    inner: &Inner,
    grant: &Grant<'_>,
    access_token: &str,
) -> Result<Option<String>, SigningError> {
    match (grant.user, grant.auth_time) {
        (Some(user), Some(auth_time))
            if inner.settings.oidc_enabled && grant.scope.contains("openid") =>
        {
            let request = grant
                .claims
                .as_deref()
                .and_then(|c| ClaimsRequest::parse(c).ok());
            let mint = Mint {
                client: grant.client,
                user,
                scope: grant.scope,
                auth_time,
                nonce: grant.nonce,
                access_token: Some(access_token),
                code: None,
                sid: grant.sid,
                request: request.as_ref(),
                // The access token fetches the scope claims from UserInfo (OIDC Core §5.4).
                claims_by_scope: false,
            };
            Ok(Some(id_token::mint(inner, mint).await?))
        }
        _ => Ok(None),
    }
}

pub(crate) fn seconds(s: u64) -> i64 {
    i64::try_from(s).unwrap_or(i64::MAX)
}
