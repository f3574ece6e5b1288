//! RFC 6749 §4.4: a confidential client acting for itself; no refresh token.

use tollgate_core::model::Application;
use tollgate_core::token::new_grant_scope;

use super::Failure;
use super::issue::{Grant, TokenResponse, issue};
use crate::provider::Inner;

pub(crate) async fn grant(
    inner: &Inner,
    client: &Application,
    scope: Option<&str>,
) -> Result<TokenResponse, Failure> {
    let settings = &inner.settings;
    let scope = new_grant_scope(
        scope,
        &settings.scope_names(),
        &settings.default_scope_names(),
    )?;
    let grant = Grant {
        client,
        user: None,
        scope: &scope,
        refresh: None,
        authorization_code_id: None,
        auth_time: None,
        claims: None,
        nonce: None,
    };
    Ok(issue(inner, grant).await?.0)
}
