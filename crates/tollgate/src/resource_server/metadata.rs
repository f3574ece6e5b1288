//! RFC 9728 protected-resource metadata: where a client learns which
//! authorization server issues tokens for an API, and which scopes it knows.

use axum::Router;
use axum::http::header::{ACCESS_CONTROL_ALLOW_ORIGIN, CACHE_CONTROL};
use axum::response::IntoResponse;
use axum::routing::get;
use serde::Serialize;

const WELL_KNOWN: &str = "/.well-known/oauth-protected-resource";

/// The metadata of the application's API (RFC 9728 §2), served by
/// [`router`](Self::router) at the well-known URL its identifier implies (§3.1).
///
/// ```
/// use tollgate::resource::ProtectedResource;
///
/// let api = ProtectedResource::new("https://app.example/api")
///     .authorization_server("https://app.example")
///     .scopes(["notes:read", "notes:write"])
///     .name("Notes API");
/// assert_eq!(
///     api.metadata_url(),
///     "https://app.example/.well-known/oauth-protected-resource/api"
/// );
/// let routes: axum::Router = api.router();
/// # let _ = routes;
/// ```
#[derive(Debug, Clone, Serialize)]
pub struct ProtectedResource {
    resource: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    authorization_servers: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    scopes_supported: Vec<String>,
    bearer_methods_supported: Vec<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    resource_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    resource_documentation: Option<String>,
}

impl ProtectedResource {
    /// The API identified by `resource`: an https URL (http for loopback
    /// development) without a query or fragment.
    pub fn new(resource: impl Into<String>) -> Self {
        ProtectedResource {
            resource: resource.into(),
            authorization_servers: Vec::new(),
            scopes_supported: Vec::new(),
            bearer_methods_supported: vec!["header"],
            resource_name: None,
            resource_documentation: None,
        }
    }

    /// Adds an authorization server (its issuer) that issues tokens for the API.
    pub fn authorization_server(mut self, issuer: impl Into<String>) -> Self {
        let issuer = issuer.into();
        if !self.authorization_servers.contains(&issuer) {
            self.authorization_servers.push(issuer);
        }
        self
    }

    pub(crate) fn with_authorization_server(self, issuer: &str) -> Self {
        self.authorization_server(issuer)
    }

    /// The scopes the API uses.
    pub fn scopes<S: Into<String>>(mut self, scopes: impl IntoIterator<Item = S>) -> Self {
        self.scopes_supported = scopes.into_iter().map(Into::into).collect();
        self
    }

    /// A name to show people.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.resource_name = Some(name.into());
        self
    }

    /// A page documenting the API for developers.
    pub fn documentation(mut self, url: impl Into<String>) -> Self {
        self.resource_documentation = Some(url.into());
        self
    }

    /// Lists the form body among the ways to send a token (with
    /// [`ResourceServer::accept_form_body`](super::ResourceServer::accept_form_body)).
    pub fn form_body_accepted(mut self) -> Self {
        if !self.bearer_methods_supported.contains(&"body") {
            self.bearer_methods_supported.push("body");
        }
        self
    }

    /// The identifier's origin and path, split (RFC 9728 §3.1).
    fn split(&self) -> (&str, &str) {
        let after_scheme = self.resource.find("://").map_or(0, |i| i + 3);
        match self.resource[after_scheme..].find('/') {
            Some(i) => self.resource.split_at(after_scheme + i),
            None => (self.resource.as_str(), ""),
        }
    }

    /// The API's identifier, which tokens restricted to it name (RFC 8707).
    pub fn identifier(&self) -> &str {
        &self.resource
    }

    /// Where the metadata is: the well-known path inserted between the
    /// identifier's host and its path.
    pub fn metadata_url(&self) -> String {
        let (origin, path) = self.split();
        format!("{origin}{}", self.path(path))
    }

    fn path(&self, resource_path: &str) -> String {
        format!("{WELL_KNOWN}{}", resource_path.trim_end_matches('/'))
    }

    /// A router serving the metadata at its well-known path, to merge at the root.
    pub fn router<S: Clone + Send + Sync + 'static>(&self) -> Router<S> {
        let path = self.path(self.split().1);
        let body = bytes::Bytes::from(serde_json::to_vec(self).unwrap_or_default());
        Router::new().route(
            &path,
            get(move || {
                let body = body.clone();
                async move {
                    (
                        [
                            (axum::http::header::CONTENT_TYPE, "application/json"),
                            (CACHE_CONTROL, "public, max-age=3600"),
                            (ACCESS_CONTROL_ALLOW_ORIGIN, "*"),
                        ],
                        body,
                    )
                        .into_response()
                }
            }),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::ProtectedResource;

    #[test]
    fn the_well_known_path_goes_between_host_and_path() {
        let at = |r: &str| ProtectedResource::new(r).metadata_url();
        assert_eq!(
            at("https://api.example"),
            "https://api.example/.well-known/oauth-protected-resource"
        );
        assert_eq!(
            at("https://api.example/"),
            "https://api.example/.well-known/oauth-protected-resource"
        );
        assert_eq!(
            at("http://127.0.0.1:8080/v1/notes"),
            "http://127.0.0.1:8080/.well-known/oauth-protected-resource/v1/notes"
        );
    }
}
