//! RFC 6749 §6 with rotation (RFC 9700 §4.14.2), DOT 3.4.1's grace period and
//! reuse protection. Of two concurrent refreshes of one token only one rotates
//! it; the other is treated as a reuse, inside or outside the grace period.

use tollgate_core::SecretHash;
use tollgate_core::env::UnixTime;
use tollgate_core::model::{Application, Spend, User};
use tollgate_core::token::{RefreshUse, check_refresh, refreshed_scope};

use super::Asked;
use super::invalid_grant;
use super::issue::Grant;
use super::issue::Refresh;
use super::issue::TokenResponse;
use super::issue::issue;
use super::issue::seconds;
use crate::http::json::JsonError;
use crate::http::json::JsonResult;
use crate::provider::Inner;
use tollgate_core::dpop;

pub(crate) async fn grant(
    inner: &Inner,
    client: &Application,
    presented: &str,
    scope: Option<&str>,
    asked: Asked<'_>,
) -> JsonResult<TokenResponse> {
    let dpop_jkt = asked.dpop_jkt;
    let settings = &inner.settings;
    let now = inner.clock.now();
    let Some(token) = inner
        .store
        .refresh_token_by_hash(&SecretHash::of(presented))
        .await?
    else {
        return Err(invalid_grant("unknown refresh token"));
    };
    // RFC 9449 §5: a bound refresh token is used only with a proof of its key.
    if token.dpop_jkt.is_some() && token.dpop_jkt.as_deref() != dpop_jkt {
        return Err(dpop::invalid("the refresh token is bound to another DPoP key").into());
    }
    let grace = seconds(settings.refresh_token_grace_period_seconds);
    let mut used = check_refresh(&token, client, now, grace)?;
    let scope = refreshed_scope(scope, &token.scope)?;
    // RFC 8707 §2.2: this access token may be for fewer resources; the grant keeps them all.
    let resource = token.resource.narrow(asked.resource)?;
    let user = active_user(inner, token.user_id).await?;
    let rotate = settings.rotate_refresh_token;
    let grant = |spends| Grant {
        grant_type: "refresh_token",
        client,
        user: user.as_ref(),
        scope: &scope,
        resource: resource.clone(),
        refresh: rotate.then(|| Refresh {
            family: Some(token.family.clone()),
            scope: token.scope.clone(),
            resource: token.resource.clone(),
        }),
        authorization_code_id: token.authorization_code_id,
        // The ID token repeats the original sign-in; no nonce (OIDC Core §12.2).
        auth_time: token.auth_time,
        claims: token.claims.clone(),
        nonce: None,
        spends,
        dpop_jkt,
        sid: token.sid.as_deref(),
    };
    if used == RefreshUse::Live && rotate {
        match issue(inner, grant(Some(Spend::RefreshToken(token.id)))).await? {
            Some(tokens) => return Ok(tokens),
            // Rotated or revoked by another request a moment ago: judge it again as it is now.
            None => {
                let Some(current) = inner
                    .store
                    .refresh_token_by_hash(&SecretHash::of(presented))
                    .await?
                else {
                    return Err(invalid_grant("unknown refresh token"));
                };
                used = check_refresh(&current, client, now, grace)?;
            }
        }
    }
    if used == RefreshUse::Replayed {
        return Err(replayed(inner, client, &token.family, now).await);
    }
    let spends = if used == RefreshUse::InGrace {
        // The write holds only while the rotated token is not revoked with its family.
        Some(Spend::Grace(token.id))
    } else {
        // Without rotation the same token carries the new access token, if still live.
        (!rotate).then_some(Spend::Carry(token.id))
    };
    let Some(mut response) = issue(inner, grant(spends)).await? else {
        return Err(invalid_grant("the refresh token has been revoked"));
    };
    if !rotate {
        response.refresh_token = Some(presented.to_owned());
    }
    Ok(response)
}

/// The user a refresh token was issued to, who must still be active; `None` for a client's own token.
async fn active_user(inner: &Inner, user_id: Option<i64>) -> JsonResult<Option<User>> {
    let Some(user_id) = user_id else {
        return Ok(None);
    };
    match inner.store.user_by_id(user_id).await?.filter(|u| u.active) {
        Some(user) => Ok(Some(user)),
        None => Err(invalid_grant("the user is no longer active")),
    }
}

/// A rotated refresh token used again: its family is revoked (RFC 9700 §4.14.2,
/// with `refresh_token_reuse_protection`) and the request refused.
async fn replayed(inner: &Inner, client: &Application, family: &str, now: UnixTime) -> JsonError {
    crate::telemetry::refresh_token_reused();
    if inner.settings.refresh_token_reuse_protection {
        match inner.store.revoke_refresh_token_family(family, now).await {
            Ok(revoked) => {
                tracing::warn!(client_id = %client.client_id, revoked, "rotated refresh token replayed; its family is revoked");
            }
            Err(e) => return e.into(),
        }
    }
    invalid_grant("the refresh token has already been used")
}
