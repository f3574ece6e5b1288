//! RFC 6749 §4.1.3 with PKCE (RFC 7636 §4.6): a code is redeemed once; a replay
//! revokes everything the code produced (§4.1.2).

use tollgate_core::SecretHash;
use tollgate_core::model::{Application, CodeRedemption};
use tollgate_core::resource::Resources;
use tollgate_core::scope::Scopes;
use tollgate_core::token::check_code;

use super::issue::{Grant, Refresh, TokenResponse, issue};
use super::{Failure, invalid_grant};
use crate::provider::Inner;

pub(crate) async fn grant(
    inner: &Inner,
    client: &Application,
    code: &str,
    redirect_uri: Option<&str>,
    code_verifier: Option<&str>,
    requested: Resources,
) -> Result<TokenResponse, Failure> {
    let now = inner.clock.now();
    let redeemed = match inner
        .store
        .redeem_authorization_code(&SecretHash::of(code), client.id, now)
        .await?
    {
        CodeRedemption::Redeemed(code) => code,
        CodeRedemption::Replayed { code_id } => {
            let revoked = inner.store.revoke_tokens_of_code(code_id, now).await?;
            tracing::warn!(client_id = %client.client_id, revoked, "authorization code replayed; its tokens are revoked");
            return Err(invalid_grant(
                "the authorization code has already been used",
            ));
        }
        CodeRedemption::Unknown => return Err(invalid_grant("unknown authorization code")),
    };
    check_code(&redeemed, client, now, redirect_uri, code_verifier)?;
    let resource = redeemed.resource.narrow(requested)?;
    let Some(user) = inner
        .store
        .user_by_id(redeemed.user_id)
        .await?
        .filter(|u| u.active)
    else {
        return Err(invalid_grant("the user is no longer active"));
    };
    let scope = Scopes::parse(&redeemed.scope).unwrap_or_default();
    let refresh = Some(Refresh {
        family: None,
        scope: redeemed.scope.clone(),
        resource: redeemed.resource.clone(),
    });
    let grant = Grant {
        grant_type: "authorization_code",
        client,
        user: Some(&user),
        scope: &scope,
        resource,
        refresh,
        authorization_code_id: Some(redeemed.id),
        auth_time: Some(redeemed.auth_time),
        claims: redeemed.claims.clone(),
        nonce: redeemed.nonce.as_deref(),
    };
    Ok(issue(inner, grant).await?.0)
}
