//! Minting an access token (and a refresh token) for a grant that succeeded.

use serde::Serialize;
use tollgate_core::model::{Application, NewAccessToken, NewRefreshToken};
use tollgate_core::scope::Scopes;
use tollgate_core::secret::random_id;
use tollgate_core::{NewSecret, SecretKind};

use super::Failure;
use crate::provider::Inner;

/// RFC 6749 §5.1.
#[derive(Serialize)]
pub(crate) struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    pub scope: String,
}

/// A refresh token to issue beside the access token.
pub(crate) struct Refresh {
    /// `None`: the first of a new family.
    pub family: Option<String>,
    /// The scope of the original grant, which later refreshes may narrow.
    pub scope: String,
}

pub(crate) struct Grant<'a> {
    pub client: &'a Application,
    pub user_id: Option<i64>,
    pub scope: &'a Scopes,
    pub refresh: Option<Refresh>,
    pub authorization_code_id: Option<i64>,
}

pub(crate) async fn issue(
    inner: &Inner,
    grant: Grant<'_>,
) -> Result<(TokenResponse, i64), Failure> {
    let now = inner.clock.now();
    let settings = &inner.settings;
    let access = NewSecret::generate(SecretKind::AccessToken, inner.entropy.as_ref());
    let lifetime = settings.access_token_expire_seconds;
    let new_access = NewAccessToken {
        token_hash: access.hash,
        application_id: grant.client.id,
        user_id: grant.user_id,
        scope: grant.scope.to_string(),
        expires_at: now.saturating_add(seconds(lifetime)),
        authorization_code_id: grant.authorization_code_id,
    };
    let refresh = grant.refresh.map(|plan| {
        let secret = NewSecret::generate(SecretKind::RefreshToken, inner.entropy.as_ref());
        let row = NewRefreshToken {
            token_hash: secret.hash,
            application_id: grant.client.id,
            user_id: grant.user_id,
            access_token_id: None,
            family: plan
                .family
                .unwrap_or_else(|| random_id(16, inner.entropy.as_ref())),
            scope: plan.scope,
            expires_at: settings
                .refresh_token_expire_seconds
                .map(|s| now.saturating_add(seconds(s))),
            authorization_code_id: grant.authorization_code_id,
        };
        (secret.plaintext, row)
    });
    let access_id = inner
        .store
        .issue_tokens(&new_access, refresh.as_ref().map(|(_, row)| row), now)
        .await?;
    Ok((
        TokenResponse {
            access_token: access.plaintext,
            token_type: "Bearer",
            expires_in: lifetime,
            refresh_token: refresh.map(|(plaintext, _)| plaintext),
            scope: grant.scope.to_string(),
        },
        access_id,
    ))
}

pub(crate) fn seconds(s: u64) -> i64 {
    i64::try_from(s).unwrap_or(i64::MAX)
}
