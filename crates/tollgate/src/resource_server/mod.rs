//! Protecting the application's own routes with access tokens (RFC 6750): the
//! [`ResourceServer`] that validates them, the [`RequireScopes`] layer, and the
//! [`AccessToken`] and [`SignedInUser`] extractors. DOT's `@protected_resource`,
//! `OAuth2TokenMiddleware` and DRF permissions, in axum's terms.
//!
//! ```
//! use axum::{Json, Router, routing::get};
//! use tollgate::resource::{AccessToken, RequireScopes};
//! use tollgate::{Provider, Settings, Store};
//!
//! async fn me(token: AccessToken) -> Json<serde_json::Value> {
//!     Json(serde_json::json!({ "sub": token.subject(), "client": token.client_id() }))
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let store = Store::connect("sqlite::memory:").await?;
//! store.migrate().await?;
//! let provider = Provider::builder(Settings::default(), store).build()?;
//! let api = Router::new()
//!     .route("/api/me", get(me))
//!     .route_layer(RequireScopes::all(["read"]))
//!     .layer(provider.resource_server());
//! let app = Router::new().merge(provider.router()).merge(api);
//! # let _ = app;
//! # Ok(())
//! # }
//! ```

mod cache;
mod extract;
mod metadata;
mod refusal;
mod remote;
mod require;

use std::sync::Arc;
use std::time::Duration;

use tollgate_core::SecretHash;
use tollgate_core::model::User;
use tollgate_core::resource_indicator::Resources;
use tollgate_core::scope::Scopes;
use tower::Layer;

pub use extract::SignedInUser;
pub use metadata::ProtectedResource;
pub use refusal::Refusal;
pub use remote::{IntrospectionAuth, RemoteIntrospection};
pub use require::{RequireScopes, RequireScopesService};

use crate::provider::Shared;
use cache::TokenCache;

/// A validated access token: who it speaks for, which client holds it, and
/// what it may do.
///
/// As an extractor it is the token [`RequireScopes`] already validated, or else
/// the `Authorization: Bearer` header's, validated now (a [`ResourceServer`]
/// layer must be around the route). No token → 401 with a bare challenge; a bad
/// one → 401 `invalid_token`. As `Option<AccessToken>`, no token gives `None`.
///
/// ```
/// use axum::{Router, body::Body, http::Request, routing::get};
/// use tollgate::resource::AccessToken;
/// use tollgate::{Provider, Settings, Store};
/// use tower::ServiceExt;
///
/// async fn whoami(token: AccessToken) -> String {
///     format!("{} via {}", token.subject().unwrap_or("a client"), token.client_id())
/// }
///
/// async fn greeting(token: Option<AccessToken>) -> &'static str {
///     if token.is_some() { "hello again" } else { "hello, stranger" }
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let store = Store::connect("sqlite::memory:").await?;
/// store.migrate().await?;
/// let provider = Provider::builder(Settings::default(), store).build()?;
/// let app = Router::new()
///     .route("/whoami", get(whoami))
///     .route("/greeting", get(greeting))
///     .layer(provider.resource_server());
///
/// let anonymous = |path| Request::get(path).body(Body::empty()).unwrap();
/// let refused = app.clone().oneshot(anonymous("/whoami")).await?;
/// assert_eq!(refused.status(), 401);
/// assert!(refused.headers()["www-authenticate"].to_str()?.starts_with("Bearer realm="));
/// assert_eq!(app.oneshot(anonymous("/greeting")).await?.status(), 200);
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct AccessToken {
    details: Arc<TokenDetails>,
    token: Arc<str>,
}

/// What validation learned about a token; shared by every request that presents it.
#[derive(Debug)]
struct TokenDetails {
    client_id: String,
    subject: Option<String>,
    username: Option<String>,
    user: Option<User>,
    scopes: Scopes,
    /// RFC 8707: the resources the token is restricted to; empty: none.
    audience: Resources,
    expires_at: i64,
    /// RFC 9449: the thumbprint of the key it is bound to; `None`: a bearer token.
    dpop_jkt: Option<String>,
}

impl AccessToken {
    /// The client the token was issued to.
    pub fn client_id(&self) -> &str {
        &self.details.client_id
    }

    /// The end-user's subject identifier (`sub`); `None` for a client's own
    /// token (client credentials).
    pub fn subject(&self) -> Option<&str> {
        self.details.subject.as_deref()
    }

    /// The end-user's username, when known.
    pub fn username(&self) -> Option<&str> {
        self.details.username.as_deref()
    }

    /// The end-user's record; only when validated in process (remote
    /// introspection tells [`subject`](Self::subject) and [`username`](Self::username) alone).
    pub fn user(&self) -> Option<&User> {
        self.details.user.as_ref()
    }

    /// The scopes granted.
    pub fn scopes(&self) -> &Scopes {
        &self.details.scopes
    }

    /// Whether the token was granted `scope`.
    pub fn has_scope(&self, scope: &str) -> bool {
        self.details.scopes.contains(scope)
    }

    /// The resources the token is restricted to (RFC 8707 `aud`); empty for an
    /// unrestricted token.
    pub fn audience(&self) -> &Resources {
        &self.details.audience
    }

    /// When the token expires (Unix seconds).
    pub fn expires_at(&self) -> i64 {
        self.details.expires_at
    }

    /// The bearer token as presented, to forward to another API of the same realm.
    pub fn token(&self) -> &str {
        &self.token
    }
}

impl std::fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The token itself is a credential: never in logs.
        f.debug_struct("AccessToken")
            .field("details", &self.details)
            .finish_non_exhaustive()
    }
}

/// Validates access tokens for the application's routes: in process against
/// the provider's store ([`Provider::resource_server`](crate::Provider::resource_server)),
/// or remotely against an RFC 7662 introspection endpoint ([`ResourceServer::remote`]).
/// Answers are cached: a hot token costs no round trip.
///
/// It is a tower layer: add it around the routes that use [`RequireScopes`] or
/// the extractors, which find it in the request's extensions.
#[derive(Clone)]
pub struct ResourceServer {
    inner: Arc<Config>,
}

struct Config {
    validator: Validator,
    realm: String,
    resource_metadata: Option<String>,
    /// The URI this API answers to, which restricted tokens must name.
    audience: Option<String>,
    accept_form_body: bool,
    cache: TokenCache,
    /// DPoP proofs seen, when no store is at hand to remember them (remote validation).
    proofs: cache::SeenProofs,
}

enum Validator {
    Local(Shared),
    Remote(remote::Introspector),
}

/// The store or the introspection endpoint did not answer: the request gets a
/// 503, never a "your token is invalid".
#[derive(Debug, thiserror::Error)]
#[error("the access token could not be checked: {0}")]
pub struct Unavailable(String);

/// How long the in-process validator trusts what it read: revoking a token
/// reaches a hot cache entry within this time.
const LOCAL_CACHE: Duration = Duration::from_secs(5);

impl ResourceServer {
    pub(crate) fn local(shared: Shared) -> Self {
        let realm = shared.settings.issuer.clone();
        Self::with(Validator::Local(shared), realm, LOCAL_CACHE)
    }

    /// Validates tokens by asking an RFC 7662 introspection endpoint (DOT's
    /// `RESOURCE_SERVER_INTROSPECTION_URL`), for a resource server that is not
    /// the provider. Active answers are cached until the token expires, and at
    /// most [`RemoteIntrospection::token_caching_seconds`].
    pub fn remote(config: RemoteIntrospection) -> Result<Self, Unavailable> {
        let realm = config.realm();
        let ttl = Duration::from_secs(config.token_caching_seconds);
        let introspector = remote::Introspector::new(config)?;
        Ok(Self::with(Validator::Remote(introspector), realm, ttl))
    }

    fn with(validator: Validator, realm: String, ttl: Duration) -> Self {
        ResourceServer {
            inner: Arc::new(Config {
                validator,
                realm,
                resource_metadata: None,
                audience: None,
                accept_form_body: false,
                cache: TokenCache::new(ttl),
                proofs: cache::SeenProofs::default(),
            }),
        }
    }

    fn config(mut self, change: impl FnOnce(&mut Config)) -> Self {
        match Arc::get_mut(&mut self.inner) {
            Some(config) => change(config),
            None => {
                // Shared already: a configured copy with a cache of its own.
                let old = &self.inner;
                let mut config = Config {
                    validator: old.validator.clone(),
                    realm: old.realm.clone(),
                    resource_metadata: old.resource_metadata.clone(),
                    audience: old.audience.clone(),
                    accept_form_body: old.accept_form_body,
                    cache: TokenCache::new(old.cache.ttl()),
                    proofs: cache::SeenProofs::default(),
                };
                change(&mut config);
                self.inner = Arc::new(config);
            }
        }
        self
    }

    /// The `realm` of the `WWW-Authenticate` challenges (default: the issuer).
    pub fn realm(self, realm: impl Into<String>) -> Self {
        let realm = realm.into();
        self.config(|c| c.realm = realm)
    }

    /// The RFC 9728 `resource_metadata` URL named in the challenges.
    pub fn resource_metadata(self, url: impl Into<String>) -> Self {
        let url = url.into();
        self.config(|c| c.resource_metadata = Some(url))
    }

    /// The resource indicator (RFC 8707) this API answers to. A token restricted
    /// to resources is accepted only if one of them is this URI or a path above
    /// it; unrestricted tokens are accepted as before. Without it, the provider's
    /// own resource server compares the issuer's origin plus the request path
    /// (DOT's rule), and a remote one refuses every restricted token.
    /// [`Provider::resource_server`](crate::Provider::resource_server) sets it to
    /// the [`ProtectedResource`] identifier, when there is one.
    pub fn audience(self, uri: impl Into<String>) -> Self {
        let uri = uri.into();
        self.config(|c| c.audience = Some(uri))
    }

    /// Also accept the token as an `access_token` field of a form-encoded POST
    /// body (RFC 6750 §2.2), read by [`RequireScopes`]. Off by default; the query
    /// string is never accepted (RFC 9700 §4.3.2).
    pub fn accept_form_body(self) -> Self {
        self.config(|c| c.accept_form_body = true)
    }

    /// How long a validated token is trusted without asking again (it never
    /// outlives its expiry). `Duration::ZERO`: ask every time.
    pub fn cache_for(self, ttl: Duration) -> Self {
        self.config(|c| c.cache = TokenCache::new(ttl))
    }

    /// The details of a bearer token when it is active; `Ok(None)` when it is
    /// unknown, expired, revoked, or its user deactivated — or bound to a DPoP
    /// key, which is good only with a proof of that key for the request
    /// (RFC 9449 §7.2): the extractors and [`RequireScopes`] check those.
    pub async fn validate(&self, token: &str) -> Result<Option<AccessToken>, Unavailable> {
        Ok(self
            .find(token)
            .await?
            .filter(|t| t.details.dpop_jkt.is_none()))
    }

    /// The token's details when it is active, bound or not.
    async fn find(&self, token: &str) -> Result<Option<AccessToken>, Unavailable> {
        let key = SecretHash::of(token);
        let config = &self.inner;
        let now = self.now();
        let details = match config.cache.get(&key, now) {
            Some(details) => details,
            None => {
                let found = match &config.validator {
                    Validator::Local(shared) => local_details(shared, token).await?,
                    Validator::Remote(introspector) => introspector.introspect(token, now).await?,
                };
                let Some(details) = found.filter(|d| d.expires_at > now) else {
                    return Ok(None);
                };
                let details = Arc::new(details);
                config.cache.put(key, details.clone(), now);
                details
            }
        };
        Ok(Some(AccessToken {
            details,
            token: token.into(),
        }))
    }

    fn refusal(&self, kind: refusal::Kind) -> Refusal {
        Refusal::new(
            kind,
            self.inner.realm.clone(),
            self.inner.resource_metadata.clone(),
        )
    }
}

impl Clone for Validator {
    fn clone(&self) -> Self {
        match self {
            Validator::Local(shared) => Validator::Local(shared.clone()),
            Validator::Remote(r) => Validator::Remote(r.clone()),
        }
    }
}

/// Adds the resource server to each request's extensions, where
/// [`RequireScopes`] and the extractors find it.
impl<S> Layer<S> for ResourceServer {
    type Service = tower_http::add_extension::AddExtension<S, ResourceServer>;

    fn layer(&self, inner: S) -> Self::Service {
        tower_http::add_extension::AddExtension::new(inner, self.clone())
    }
}

async fn local_details(shared: &Shared, token: &str) -> Result<Option<TokenDetails>, Unavailable> {
    let found = crate::oauth2::bearer::live_bearer(shared, token)
        .await
        .map_err(|e| Unavailable(e.to_string()))?;
    Ok(found
        // A deactivated user's tokens stop working with the user.
        .filter(|b| b.user.as_ref().is_none_or(|u| u.active))
        .map(|b| TokenDetails {
            client_id: b.client_id,
            subject: b.user.as_ref().map(crate::oidc::claims::subject),
            username: b.user.as_ref().map(|u| u.username.clone()),
            scopes: Scopes::parse(&b.token.scope).unwrap_or_default(),
            audience: b.token.resource.clone(),
            expires_at: b.token.expires_at,
            dpop_jkt: b.token.dpop_jkt.clone(),
            user: b.user,
        }))
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

impl ResourceServer {
    /// The request's bearer token, validated: from the `Authorization` header,
    /// or `body_token` (the form field, when accepted). `Ok(None)`: none sent.
    pub(super) async fn authenticate(
        &self,
        parts: &axum::http::request::Parts,
        body_token: Option<&str>,
    ) -> Result<Option<AccessToken>, Refusal> {
        let in_query = parts.uri.query().is_some_and(|q| {
            url::form_urlencoded::parse(q.as_bytes()).any(|(name, _)| name == "access_token")
        });
        if in_query {
            return Err(self.refusal(refusal::Kind::BadRequest(
                "access tokens are not accepted in the query string",
            )));
        }
        let (token, as_dpop) = match (
            crate::oauth2::bearer::from_header(&parts.headers),
            crate::oauth2::bearer::dpop_from_header(&parts.headers),
            body_token,
        ) {
            (None, None, None) => return Ok(None),
            (Some(token), None, None) | (None, None, Some(token)) => (token, false),
            (None, Some(token), None) => (token, true),
            _ => {
                return Err(self.refusal(refusal::Kind::BadRequest(
                    "the access token was sent in more than one way",
                )));
            }
        };
        match self.find(token).await {
            Ok(Some(token)) if !self.admits(&token, parts) => {
                Err(self.refusal(refusal::Kind::OtherAudience))
            }
            Ok(Some(token)) => {
                self.possessed(&token, as_dpop, parts).await?;
                Ok(Some(token))
            }
            Ok(None) => Err(self.refusal(refusal::Kind::Invalid)),
            Err(e) => {
                tracing::error!(error = %e, "protected route");
                Err(self.refusal(refusal::Kind::Unavailable))
            }
        }
    }

    /// RFC 9449 §7: a bound token only as `Authorization: DPoP` with a proof
    /// of its key for this request, a bearer token only as a bearer token.
    async fn possessed(
        &self,
        token: &AccessToken,
        as_dpop: bool,
        parts: &axum::http::request::Parts,
    ) -> Result<(), Refusal> {
        let jkt = match (token.details.dpop_jkt.as_deref(), as_dpop) {
            (None, false) => return Ok(()),
            (None, true) => return Err(self.refusal(refusal::Kind::Invalid)),
            (Some(_), false) => return Err(self.refusal(refusal::Kind::DpopRequired)),
            (Some(jkt), true) => jkt,
        };
        let refuse = |why: &str| Err(self.refusal(refusal::Kind::DpopProof(why.to_owned())));
        let Some(url) = self.request_url(parts) else {
            return refuse("this resource cannot check DPoP proofs: it knows no URL of its own");
        };
        let request = crate::oauth2::dpop::Request {
            method: parts.method.as_str(),
            url: &url,
            access_token: Some(token.token()),
        };
        let now = self.now();
        let proven = match crate::oauth2::dpop::read(&parts.headers, &request, now) {
            Ok(Some(proven)) => proven,
            Ok(None) => return refuse("a DPoP proof is required"),
            Err(e) => return refuse(&e.description),
        };
        if proven.jkt != jkt {
            return refuse("the DPoP proof is not signed by the key the token is bound to");
        }
        // The provider's own nonces; a remote resource server has no key to make them with.
        if let Validator::Local(shared) = &self.inner.validator
            && let Some(nonces) = &shared.dpop_nonces
            && !nonces.accepts(proven.nonce.as_deref(), now)
        {
            return Err(self.refusal(refusal::Kind::DpopNonce(nonces.current(now))));
        }
        let first_use = match &self.inner.validator {
            Validator::Local(shared) => shared
                .store
                .use_jwt_id(&proven.replay, proven.replay_until, now)
                .await
                .map_err(|e| {
                    tracing::error!(error = %e, "protected route: DPoP replay check");
                    self.refusal(refusal::Kind::Unavailable)
                })?,
            Validator::Remote(_) => {
                self.inner
                    .proofs
                    .first_use(proven.replay, proven.replay_until, now)
            }
        };
        if !first_use {
            return refuse(&crate::oauth2::dpop::used_before().description);
        }
        Ok(())
    }

    /// The URL this request was made to, as clients reach it: the configured
    /// audience's origin, or the issuer's for the provider's own resource
    /// server, with the path the router saw (query left out, as `htu` has none).
    fn request_url(&self, parts: &axum::http::request::Parts) -> Option<String> {
        let origin = match (&self.inner.audience, &self.inner.validator) {
            (Some(uri), _) => url::Url::parse(uri).ok()?,
            (None, Validator::Local(shared)) => url::Url::parse(&shared.settings.issuer).ok()?,
            (None, Validator::Remote(_)) => return None,
        };
        let path = parts
            .extensions
            .get::<axum::extract::OriginalUri>()
            .map_or(parts.uri.path(), |o| o.0.path());
        Some(format!("{}{path}", origin.origin().ascii_serialization()))
    }

    fn now(&self) -> i64 {
        match &self.inner.validator {
            Validator::Local(shared) => shared.clock.now(),
            Validator::Remote(_) => unix_now(),
        }
    }

    /// Whether the token's audience lets it be used on this request (RFC 8707).
    fn admits(&self, token: &AccessToken, parts: &axum::http::request::Parts) -> bool {
        let audience = token.audience();
        if audience.is_empty() {
            return true;
        }
        match (&self.inner.audience, &self.inner.validator) {
            (Some(uri), _) => audience.admit(uri),
            // The issuer is configuration; a Host header could claim any origin.
            (None, Validator::Local(shared)) => {
                let path = parts
                    .extensions
                    .get::<axum::extract::OriginalUri>()
                    .map_or(parts.uri.path(), |o| o.0.path());
                // The URL parser would resolve `..` the router did not: such a path proves nothing.
                if tollgate_core::resource_indicator::has_dot_segment(path) {
                    return false;
                }
                url::Url::parse(&shared.settings.issuer).is_ok_and(|issuer| {
                    audience.admit(&format!("{}{path}", issuer.origin().ascii_serialization()))
                })
            }
            (None, Validator::Remote(_)) => false,
        }
    }

    /// The provider's signed-in user, when this is an in-process resource server
    /// and the request may act on the session (safe method, or same origin).
    pub(super) async fn session_user(
        &self,
        parts: &axum::http::request::Parts,
    ) -> Result<Option<User>, Refusal> {
        let Validator::Local(shared) = &self.inner.validator else {
            return Ok(None);
        };
        if !parts.method.is_safe() && !crate::pages::csrf::same_origin(shared, &parts.headers) {
            return Ok(None);
        }
        match crate::pages::session::current(shared, &parts.headers).await {
            Ok(signed_in) => Ok(signed_in.map(|s| s.user)),
            Err(e) => {
                tracing::error!(error = %e, "protected route: session lookup");
                Err(self.refusal(refusal::Kind::Unavailable))
            }
        }
    }
}
