//! RFC 6749 §4.3: the resource owner's password, for clients registered for it.
//! Throttled like the sign-in page, and switchable off (`password_grant_enabled`).

use axum::http::Extensions;
use tollgate_core::OAuthError;
use tollgate_core::model::Application;
use tollgate_core::token::new_grant_scope;

use super::issue::{Grant, Refresh, TokenResponse, issue};
use super::{Failure, invalid_grant};
use crate::login::{client_address, password_matches};
use crate::provider::Inner;

pub(crate) async fn grant(
    inner: &Inner,
    client: &Application,
    extensions: &Extensions,
    username: String,
    password: String,
    scope: Option<&str>,
) -> Result<TokenResponse, Failure> {
    let settings = &inner.settings;
    if !settings.password_grant_enabled {
        return Err(OAuthError::unauthorized_client(
            "the password grant is disabled on this server",
        )
        .into());
    }
    let scope = new_grant_scope(
        scope,
        &settings.scope_names(),
        &settings.default_scope_names(),
    )?;
    let address = client_address(extensions);
    let now = inner.clock.now();
    if inner.throttle.check(&username, &address, now).is_err() {
        return Err(invalid_grant("too many failed attempts; try again later"));
    }
    let user = inner.store.user_by_username(&username).await?;
    let stored = user.as_ref().and_then(|u| u.password_hash.clone());
    let Some(user) = user.filter(|u| u.active) else {
        let _ = password_matches(None, password).await;
        inner.throttle.failed(&username, &address, now);
        return Err(invalid_grant("invalid resource owner credentials"));
    };
    if !password_matches(stored, password).await {
        inner.throttle.failed(&username, &address, now);
        return Err(invalid_grant("invalid resource owner credentials"));
    }
    inner.throttle.succeeded(&username);
    let refresh = Some(Refresh {
        family: None,
        scope: scope.to_string(),
    });
    let grant = Grant {
        client,
        user_id: Some(user.id),
        scope: &scope,
        refresh,
        authorization_code_id: None,
    };
    Ok(issue(inner, grant).await?.0)
}
