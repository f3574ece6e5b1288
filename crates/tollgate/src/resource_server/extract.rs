//! The extractors: [`AccessToken`] for a bearer token, [`SignedInUser`] for the
//! provider's own sign-in session.

use axum::extract::{FromRequestParts, OptionalFromRequestParts};
use axum::http::request::Parts;
use tollgate_core::model::User;

use super::AccessToken;
use super::Refusal;
use super::ResourceServer;
use super::refusal::Kind;

fn server(parts: &Parts) -> Result<ResourceServer, Refusal> {
    parts
        .extensions
        .get::<ResourceServer>()
        .cloned()
        .ok_or_else(Refusal::misconfigured)
}

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
/// use axum::{Router, body::Body, http::Request, routing::get};
/// use tollgate::resource::SignedInUser;
/// use tollgate::{Provider, Settings, Store};
/// use tower::ServiceExt;
///
/// async fn dashboard(SignedInUser(user): SignedInUser) -> String {
///     format!("Hello, {}", user.username)
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let store = Store::connect("sqlite::memory:").await?;
/// store.migrate().await?;
/// let provider = Provider::builder(Settings::default(), store).build()?;
/// let app = Router::new()
///     .route("/dashboard", get(dashboard))
///     .layer(provider.resource_server());
/// // No session cookie: 401.
/// let response = app.oneshot(Request::get("/dashboard").body(Body::empty())?).await?;
/// assert_eq!(response.status(), 401);
/// # Ok(())
/// # }
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
