//! RFC 6749 §4.4: a confidential client acting for itself; no refresh token.

use tollgate_core::model::Application;

use super::Asked;
use super::issue::Grant;

use super::issue::TokenResponse;

use super::issue::issue;
use super::spent;
use crate::http::json::JsonResult;
use crate::provider::Inner;

pub(crate) async fn grant(
    inner: &Inner,
    client: &Application,
    scope: Option<&str>,
    asked: Asked<'_>,
) -> JsonResult<TokenResponse> {
    let scope = inner.new_grant_scope(client, scope)?;
    let grant = Grant {
        grant_type: "client_credentials",
        client,
        user: None,
        scope: &scope,
        resource: asked.resource,
        refresh: None,
        authorization_code_id: None,
        auth_time: None,
        claims: None,
        nonce: None,
        spends: None,
        dpop_jkt: asked.dpop_jkt,
        sid: None,
    };
    issue(inner, grant).await?.ok_or_else(spent)
}
