//! The extractors: [`AccessToken`] for a bearer token, [`SignedInUser`] for the
//! provider's own sign-in session.

use axum::extract::{FromRequestParts, OptionalFromRequestParts};
use axum::http::request::Parts;
use tollgate_core::model::User;

use super::refusal::Kind;
use super::{AccessToken, Refusal, ResourceServer};

fn server(parts: &Parts) -> Result<ResourceServer, Refusal> {
    parts
        .extensions
        .get::<ResourceServer>()
        .cloned()
        .ok_or_else(Refusal::misconfigured)
}

/// A handler's access token: the one [`RequireScopes`](super::RequireScopes)
/// already validated, or else the `Authorization: Bearer` header's, validated
/// now. No token → 401 with a bare challenge; a bad one → 401 `invalid_token`.
/// As `Option<AccessToken>`, a request without a token gets `None`.
///
/// ```
/// use axum::{Router, routing::get};
/// use tollgate::resource::AccessToken;
///
/// async fn whoami(token: AccessToken) -> String {
///     format!("{} via {}", token.subject().unwrap_or("a client"), token.client_id())
/// }
///
/// async fn greeting(token: Option<AccessToken>) -> &'static str {
///     if token.is_some() { "hello again" } else { "hello, stranger" }
/// }
///
/// // Both need a `ResourceServer` layer around them (see `Provider::resource_server`).
/// let routes: Router = Router::new()
///     .route("/whoami", get(whoami))
///     .route("/greeting", get(greeting));
/// ```
impl<S: Send + Sync> FromRequestParts<S> for AccessToken {
    type Rejection = Refusal;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Refusal> {
        if let Some(token) = parts.extensions.get::<AccessToken>() {
            return Ok(token.clone());
        }
        let server = server(parts)?;
        match server.authenticate(parts, None).await? {
            Some(token) => Ok(token),
            None => Err(server.refusal(Kind::Missing)),
        }
    }
}

impl<S: Send + Sync> OptionalFromRequestParts<S> for AccessToken {
    type Rejection = Refusal;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Option<Self>, Refusal> {
        if let Some(token) = parts.extensions.get::<AccessToken>() {
            return Ok(Some(token.clone()));
        }
        server(parts)?.authenticate(parts, None).await
    }
}

/// The user signed in to the provider in this browser (its session cookie),
/// for routes that also serve the application's own pages: DRF's
/// `IsAuthenticatedOrTokenHasScope` with [`RequireScopes::or_session`](super::RequireScopes::or_session).
/// Only with an in-process [`ResourceServer`]; a state-changing request must
/// come from the issuer's own origin (a cross-site POST carries no weight).
/// As `Option<SignedInUser>`, no session gives `None`.
///
/// ```
/// use tollgate::resource::SignedInUser;
///
/// async fn dashboard(SignedInUser(user): SignedInUser) -> String {
///     format!("Hello, {}", user.username)
/// }
/// # let _ = axum::routing::get(dashboard);
/// ```
#[derive(Debug, Clone)]
pub struct SignedInUser(pub User);

impl<S: Send + Sync> FromRequestParts<S> for SignedInUser {
    type Rejection = Refusal;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Refusal> {
        if let Some(user) = parts.extensions.get::<SignedInUser>() {
            return Ok(user.clone());
        }
        let server = server(parts)?;
        match server.session_user(parts).await? {
            Some(user) => Ok(SignedInUser(user)),
            None => Err(server.refusal(Kind::Missing)),
        }
    }
}

impl<S: Send + Sync> OptionalFromRequestParts<S> for SignedInUser {
    type Rejection = Refusal;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Option<Self>, Refusal> {
        if let Some(user) = parts.extensions.get::<SignedInUser>() {
            return Ok(Some(user.clone()));
        }
        Ok(server(parts)?.session_user(parts).await?.map(SignedInUser))
    }
}
