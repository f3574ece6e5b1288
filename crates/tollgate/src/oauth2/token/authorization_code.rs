//! RFC 6749 §4.1.3 with PKCE (RFC 7636 §4.6): a code is redeemed once, by the
//! transaction writing its tokens; a replay revokes everything the code
//! produced (§4.1.2), which is then all written.

use tollgate_core::SecretHash;
use tollgate_core::env::UnixTime;
use tollgate_core::model::{Application, AuthorizationCode, CodeRedemption, Spend};
use tollgate_core::scope::Scopes;
use tollgate_core::token::check_code;

use super::Asked;
use super::invalid_grant;
use super::issue::Grant;
use super::issue::Refresh;
use super::issue::TokenResponse;
use super::issue::issue;
use crate::http::json::JsonError;
use crate::http::json::JsonResult;
use crate::provider::Inner;
use tollgate_core::dpop;

pub(crate) async fn grant(
    inner: &Inner,
    client: &Application,
    code: &str,
    redirect_uri: Option<&str>,
    code_verifier: Option<&str>,
    asked: Asked<'_>,
) -> JsonResult<TokenResponse> {
    let now = inner.clock.now();
    let code = match inner
        .store
        .authorization_code(&SecretHash::of(code), client.id)
        .await?
    {
        CodeRedemption::Redeemable(code) => code,
        CodeRedemption::Replayed { code_id } => {
            return Err(replayed(inner, client, code_id, now).await);
        }
        CodeRedemption::Unknown => return Err(invalid_grant("unknown authorization code")),
    };
    match redeem(
        inner,
        client,
        &code,
        redirect_uri,
        code_verifier,
        asked,
        now,
    )
    .await
    {
        Ok(Some(tokens)) => Ok(tokens),
        Ok(None) => Err(replayed(inner, client, code.id, now).await),
        // A request failing a check uses the code up all the same.
        Err(JsonError::OAuth(e, challenge)) => {
            match inner.store.spend(Spend::Code(code.id), now).await? {
                true => Err(JsonError::OAuth(e, challenge)),
                false => Err(replayed(inner, client, code.id, now).await),
            }
        }
        Err(e) => Err(e),
    }
}

/// The code's checks, then its tokens, written as it is redeemed; `None` when
/// another request redeemed it first.
async fn redeem(
    inner: &Inner,
    client: &Application,
    code: &AuthorizationCode,
    redirect_uri: Option<&str>,
    code_verifier: Option<&str>,
    asked: Asked<'_>,
    now: UnixTime,
) -> JsonResult<Option<TokenResponse>> {
    check_code(code, client, now, redirect_uri, code_verifier)?;
    // RFC 9449 §10: a code bound by dpop_jkt is redeemed only with a proof of that key.
    if code.dpop_jkt.is_some() && code.dpop_jkt.as_deref() != asked.dpop_jkt {
        return Err(dpop::invalid("the code is bound to another DPoP key (dpop_jkt)").into());
    }
    let resource = code.resource.narrow(asked.resource)?;
    let Some(user) = inner
        .store
        .user_by_id(code.user_id)
        .await?
        .filter(|u| u.active)
    else {
        return Err(invalid_grant("the user is no longer active"));
    };
    let scope = Scopes::parse(&code.scope).unwrap_or_default();
    let refresh = Some(Refresh {
        family: None,
        scope: code.scope.clone(),
        resource: code.resource.clone(),
    });
    let grant = Grant {
        grant_type: "authorization_code",
        client,
        user: Some(&user),
        scope: &scope,
        resource,
        refresh,
        authorization_code_id: Some(code.id),
        auth_time: Some(code.auth_time),
        claims: code.claims.clone(),
        nonce: code.nonce.as_deref(),
        spends: Some(Spend::Code(code.id)),
        dpop_jkt: asked.dpop_jkt,
        sid: code.sid.as_deref(),
    };
    issue(inner, grant).await
}

/// A second use of a code: what it produced is revoked, and the request refused.
async fn replayed(inner: &Inner, client: &Application, code_id: i64, now: UnixTime) -> JsonError {
    match inner.store.revoke_tokens_of_code(code_id, now).await {
        Ok(revoked) => {
            tracing::warn!(client_id = %client.client_id, revoked, "authorization code replayed; its tokens are revoked");
            invalid_grant("the authorization code has already been used")
        }
        Err(e) => e.into(),
    }
}
