//! The browser's login session: a `tgx_` secret in a cookie, its hash in the store.

use axum::http::{HeaderMap, HeaderValue};
use tollgate_core::model::{NewSession, Session, User};
use tollgate_core::secret::random_id;
use tollgate_core::{NewSecret, SecretHash, SecretKind};
use tollgate_store::StoreError;

use crate::pages::cookies;
use crate::provider::Inner;

/// The `Set-Cookie` of a new login session, from [`Provider::sign_in`](crate::Provider::sign_in):
/// return it as part of the response (it implements `IntoResponseParts`).
#[derive(Debug, Clone)]
pub struct SessionCookie(pub(crate) HeaderValue);

impl axum::response::IntoResponseParts for SessionCookie {
    type Error = std::convert::Infallible;

    fn into_response_parts(
        self,
        mut res: axum::response::ResponseParts,
    ) -> Result<axum::response::ResponseParts, Self::Error> {
        res.headers_mut()
            .append(axum::http::header::SET_COOKIE, self.0);
        Ok(res)
    }
}

pub(crate) struct SignedIn {
    pub session: Session,
    pub user: User,
}

/// The signed-in user, if the cookie names a live session of an active user.
pub(crate) async fn current(
    inner: &Inner,
    headers: &HeaderMap,
) -> Result<Option<SignedIn>, StoreError> {
    let Some(secret) = cookies::get(headers, inner.cookies.session) else {
        return Ok(None);
    };
    let now = inner.clock.now();
    let Some(session) = inner
        .store
        .session_by_hash(&SecretHash::of(secret), now)
        .await?
    else {
        return Ok(None);
    };
    let user = inner.store.user_by_id(session.user_id).await?;
    Ok(user
        .filter(|u| u.active)
        .map(|user| SignedIn { session, user }))
}

/// Starts a new session (a new id on every sign-in: no session fixation) and
/// returns the cookie that carries it.
pub(crate) async fn sign_in(inner: &Inner, user: &User) -> Result<HeaderValue, StoreError> {
    let now = inner.clock.now();
    let lifetime = inner.settings.session_expire_seconds;
    let secret = NewSecret::generate(SecretKind::Session, inner.entropy.as_ref());
    let new = NewSession {
        session_hash: secret.hash,
        user_id: user.id,
        auth_time: now,
        expires_at: now.saturating_add(i64::try_from(lifetime).unwrap_or(i64::MAX)),
        sid: random_id(16, inner.entropy.as_ref()),
    };
    inner.store.create_session(&new, now).await?;
    Ok(inner
        .cookies
        .set(inner.cookies.session, &secret.plaintext, Some(lifetime)))
}
