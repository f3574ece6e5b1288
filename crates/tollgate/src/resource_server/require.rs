//! [`RequireScopes`]: a route layer that lets a request through only with a
//! valid token carrying the scopes its method needs.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::body::Body;
use axum::http::header::CONTENT_TYPE;
use axum::http::request::Parts;
use axum::http::{Method, Request};
use axum::response::{IntoResponse, Response};
use tower::{Layer, Service};

use super::Refusal;
use super::ResourceServer;
use super::SignedInUser;
use super::refusal::Kind;

/// Form bodies read for an `access_token` field at most this large.
const BODY_LIMIT: usize = 64 * 1024;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Methods {
    Any,
    /// GET, HEAD, OPTIONS (DOT's `SAFE_HTTP_METHODS`).
    Safe,
    Unsafe,
    Only(Method),
}

impl Methods {
    fn matches(&self, method: &Method) -> bool {
        let safe = matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS);
        match self {
            Methods::Any => true,
            Methods::Safe => safe,
            Methods::Unsafe => !safe,
            Methods::Only(m) => m == method,
        }
    }
}

/// For the methods it covers: any one of the scope sets, each needed in full.
#[derive(Debug, Clone)]
struct Requirement {
    methods: Methods,
    alternatives: Vec<Vec<String>>,
}

/// A route layer requiring a valid access token with the scopes the request's
/// method needs; a [`ResourceServer`] layer must be around it. The validated
/// token is left for the [`AccessToken`](super::AccessToken) extractor, so it is
/// not looked up twice. Refusals per RFC 6750: 401 `invalid_token` (or a bare
/// challenge when no token was sent), 403 `insufficient_scope` naming the scopes.
///
/// | DOT / DRF | Tollgate |
/// | --- | --- |
/// | `@protected_resource(scopes=[…])`, `TokenHasScope` | [`RequireScopes::all`] |
/// | `@rw_protected_resource`, `TokenHasReadWriteScope` | [`RequireScopes::read_write`] |
/// | `TokenHasResourceScope` | [`RequireScopes::resource`] |
/// | `TokenMatchesOASRequirements` | [`RequireScopes::by_method`] + [`on`](RequireScopes::on) |
/// | `IsAuthenticatedOrTokenHasScope` | [`or_session`](RequireScopes::or_session) (the provider's sign-in) or [`or_signed_in_by`](RequireScopes::or_signed_in_by) (the application's) on any of them |
///
/// ```
/// use axum::http::Method;
/// use axum::{Router, body::Body, http::Request, routing::get};
/// use tollgate::resource::RequireScopes;
/// use tollgate::{Provider, Settings, Store};
/// use tower::ServiceExt;
///
/// async fn notes() -> &'static str { "[]" }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let routes: Router = Router::new()
///     // GET needs `notes:read`; POST, PUT, DELETE… need `notes:write`.
///     .route("/notes", get(notes).post(notes))
///     .route_layer(RequireScopes::resource("notes"));
/// let admin: Router = Router::new()
///     .route("/admin", get(notes).delete(notes))
///     // GET: `admin` or `audit`; DELETE: both `admin` and `delete`; nothing else.
///     .route_layer(
///         RequireScopes::by_method()
///             .on(Method::GET, [&["admin"][..], &["audit"]])
///             .on(Method::DELETE, [&["admin", "delete"][..]]),
///     );
///
/// let store = Store::connect("sqlite::memory:").await?;
/// store.migrate().await?;
/// let provider = Provider::builder(Settings::default(), store).build()?;
/// let app = routes.merge(admin).layer(provider.resource_server());
/// let forged = Request::get("/notes")
///     .header("authorization", "Bearer tga_forged")
///     .body(Body::empty())?;
/// let response = app.oneshot(forged).await?;
/// assert_eq!(response.status(), 401);
/// let challenge = response.headers()["www-authenticate"].to_str()?;
/// assert!(challenge.contains(r#"error="invalid_token""#));
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct RequireScopes {
    rules: Arc<Vec<Requirement>>,
    without_token: WithoutToken,
}

/// Who may come in without a token.
#[derive(Clone)]
enum WithoutToken {
    Nobody,
    /// A browser signed in to the provider.
    ProviderSession,
    /// Whoever the application's own authentication let through.
    Application(Arc<dyn Fn(&Parts) -> bool + Send + Sync>),
}

impl std::fmt::Debug for WithoutToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            WithoutToken::Nobody => "Nobody",
            WithoutToken::ProviderSession => "ProviderSession",
            WithoutToken::Application(_) => "Application(..)",
        })
    }
}

fn owned<S: AsRef<str>>(scopes: impl IntoIterator<Item = S>) -> Vec<String> {
    scopes.into_iter().map(|s| s.as_ref().to_owned()).collect()
}

impl RequireScopes {
    fn new(rules: Vec<Requirement>) -> Self {
        RequireScopes {
            rules: Arc::new(rules),
            without_token: WithoutToken::Nobody,
        }
    }

    /// Every one of `scopes`, whatever the method (none: any valid token).
    pub fn all<S: AsRef<str>>(scopes: impl IntoIterator<Item = S>) -> Self {
        Self::new(vec![Requirement {
            methods: Methods::Any,
            alternatives: vec![owned(scopes)],
        }])
    }

    /// `read` for GET, HEAD and OPTIONS; `write` for every other method.
    pub fn read_write(read: &str, write: &str) -> Self {
        Self::new(vec![
            Requirement {
                methods: Methods::Safe,
                alternatives: vec![vec![read.to_owned()]],
            },
            Requirement {
                methods: Methods::Unsafe,
                alternatives: vec![vec![write.to_owned()]],
            },
        ])
    }

    /// `<resource>:read` for GET, HEAD and OPTIONS; `<resource>:write` otherwise.
    pub fn resource(resource: &str) -> Self {
        Self::read_write(&format!("{resource}:read"), &format!("{resource}:write"))
    }

    /// No method allowed yet: add each with [`on`](Self::on). A method not
    /// named is refused with 403.
    pub fn by_method() -> Self {
        Self::new(Vec::new())
    }

    /// For `method`: any one of `alternatives`, each a set of scopes needed in full.
    pub fn on<S: AsRef<str>, A: IntoIterator<Item = S>>(
        mut self,
        method: Method,
        alternatives: impl IntoIterator<Item = A>,
    ) -> Self {
        Arc::make_mut(&mut self.rules).push(Requirement {
            methods: Methods::Only(method),
            alternatives: alternatives.into_iter().map(owned).collect(),
        });
        self
    }

    /// Also lets in a request from a browser signed in to the provider, whatever
    /// the scopes; the handler reads the user with [`SignedInUser`].
    pub fn or_session(mut self) -> Self {
        self.without_token = WithoutToken::ProviderSession;
        self
    }

    /// Also lets in, without a token, a request the application's own
    /// authentication accepted: `signed_in` reads what the application's session
    /// middleware (layered outside this one) left in the request, such as an
    /// extension. That middleware answers for CSRF on state-changing methods.
    ///
    /// ```
    /// use axum::http::request::Parts;
    /// use tollgate::resource::RequireScopes;
    ///
    /// #[derive(Clone)]
    /// struct CurrentUser(String); // set by the application's session middleware
    ///
    /// let rule = RequireScopes::all(["read"])
    ///     .or_signed_in_by(|parts: &Parts| parts.extensions.get::<CurrentUser>().is_some());
    /// # let _ = rule;
    /// ```
    pub fn or_signed_in_by(
        mut self,
        signed_in: impl Fn(&Parts) -> bool + Send + Sync + 'static,
    ) -> Self {
        self.without_token = WithoutToken::Application(Arc::new(signed_in));
        self
    }

    /// `Ok` when `granted` satisfies the rule for `method`; else the scopes to ask for.
    fn check(&self, method: &Method, has: impl Fn(&str) -> bool) -> Result<(), String> {
        let Some(rule) = self.rules.iter().find(|r| r.methods.matches(method)) else {
            return Err(String::new());
        };
        if rule
            .alternatives
            .iter()
            .any(|set| set.iter().all(|s| has(s)))
        {
            return Ok(());
        }
        Err(rule
            .alternatives
            .first()
            .map(|s| s.join(" "))
            .unwrap_or_default())
    }
}

impl<S> Layer<S> for RequireScopes {
    type Service = RequireScopesService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RequireScopesService {
            inner,
            rule: self.clone(),
        }
    }
}

/// The service [`RequireScopes`] wraps a route in.
#[derive(Debug, Clone)]
pub struct RequireScopesService<S> {
    inner: S,
    rule: RequireScopes,
}

impl<S> Service<Request<Body>> for RequireScopesService<S>
where
    S: Service<Request<Body>, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<Body>) -> Self::Future {
        // The clone that was made ready serves this request (tower's usual dance).
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let rule = self.rule.clone();
        Box::pin(async move {
            match admit(&rule, request).await {
                Ok(request) => inner.call(request).await,
                Err(refusal) => Ok(refusal.into_response()),
            }
        })
    }
}

/// The request, with its token or session user in its extensions, or the refusal.
async fn admit(rule: &RequireScopes, request: Request<Body>) -> Result<Request<Body>, Refusal> {
    let Some(server) = request.extensions().get::<ResourceServer>().cloned() else {
        return Err(Refusal::misconfigured());
    };
    let (mut parts, body) = request.into_parts();
    let (body, body_token) = if server.inner.accept_form_body && is_form_post(&parts) {
        let bytes = axum::body::to_bytes(body, BODY_LIMIT)
            .await
            .map_err(|_| server.refusal(Kind::BadRequest("the request body is too large")))?;
        let token = url::form_urlencoded::parse(&bytes)
            .find(|(name, _)| name == "access_token")
            .map(|(_, value)| value.into_owned());
        (Body::from(bytes), token)
    } else {
        (body, None)
    };
    match server.authenticate(&parts, body_token.as_deref()).await? {
        Some(token) => {
            rule.check(&parts.method, |s| token.has_scope(s))
                .map_err(|needed| server.refusal(Kind::InsufficientScope(needed)))?;
            parts.extensions.insert(token);
        }
        None => match &rule.without_token {
            WithoutToken::ProviderSession => {
                let user = server.session_user(&parts).await?;
                let user = user.ok_or_else(|| server.refusal(Kind::Missing))?;
                parts.extensions.insert(SignedInUser(user));
            }
            WithoutToken::Application(signed_in) if signed_in(&parts) => {}
            _ => return Err(server.refusal(Kind::Missing)),
        },
    }
    Ok(Request::from_parts(parts, body))
}

fn is_form_post(parts: &Parts) -> bool {
    parts.method == Method::POST
        && parts
            .headers
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|v| {
                v.trim()
                    .eq_ignore_ascii_case("application/x-www-form-urlencoded")
            })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn granted(scopes: &[&str]) -> impl Fn(&str) -> bool {
        let scopes: Vec<String> = scopes.iter().map(|s| (*s).to_owned()).collect();
        move |s| scopes.iter().any(|g| g == s)
    }

    #[test]
    fn all_needs_every_scope() {
        let rule = RequireScopes::all(["read", "profile"]);
        assert!(
            rule.check(&Method::POST, granted(&["read", "profile", "x"]))
                .is_ok()
        );
        assert_eq!(
            rule.check(&Method::GET, granted(&["read"])),
            Err("read profile".into())
        );
        assert!(
            RequireScopes::all::<&str>([])
                .check(&Method::GET, granted(&[]))
                .is_ok()
        );
    }

    #[test]
    fn read_write_and_resource_scopes_follow_the_method() {
        let rw = RequireScopes::read_write("read", "write");
        assert!(rw.check(&Method::GET, granted(&["read"])).is_ok());
        assert!(rw.check(&Method::HEAD, granted(&["read"])).is_ok());
        assert_eq!(
            rw.check(&Method::POST, granted(&["read"])),
            Err("write".into())
        );
        assert!(rw.check(&Method::DELETE, granted(&["write"])).is_ok());
        assert_eq!(
            rw.check(&Method::GET, granted(&["write"])),
            Err("read".into())
        );
        let notes = RequireScopes::resource("notes");
        assert!(notes.check(&Method::GET, granted(&["notes:read"])).is_ok());
        assert_eq!(
            notes.check(&Method::PUT, granted(&["notes:read"])),
            Err("notes:write".into())
        );
    }

    #[test]
    fn by_method_takes_any_alternative_and_refuses_unnamed_methods() {
        let rule = RequireScopes::by_method()
            .on(Method::GET, [&["admin"][..], &["audit"]])
            .on(Method::DELETE, [&["admin", "delete"][..]]);
        assert!(rule.check(&Method::GET, granted(&["audit"])).is_ok());
        assert!(rule.check(&Method::GET, granted(&["admin"])).is_ok());
        assert_eq!(
            rule.check(&Method::GET, granted(&["x"])),
            Err("admin".into())
        );
        assert!(rule.check(&Method::DELETE, granted(&["admin"])).is_err());
        assert!(
            rule.check(&Method::DELETE, granted(&["admin", "delete"]))
                .is_ok()
        );
        assert!(
            rule.check(&Method::POST, granted(&["admin", "delete", "audit"]))
                .is_err()
        );
    }
}
