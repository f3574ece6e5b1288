//! Validating tokens by asking an RFC 7662 introspection endpoint.

use std::time::Duration;

use serde::Deserialize;
use tollgate_core::resource_indicator::Resources;
use tollgate_core::scope::Scopes;

use super::TokenDetails;

use super::Unavailable;

/// How a resource server authenticates to the introspection endpoint.
#[derive(Clone)]
pub enum IntrospectionAuth {
    /// As a confidential client (HTTP Basic, RFC 6749 §2.3.1): DOT's
    /// `RESOURCE_SERVER_INTROSPECTION_CREDENTIALS`.
    ClientCredentials {
        /// The resource server's client id.
        client_id: String,
        /// Its client secret.
        client_secret: String,
    },
    /// With a bearer token carrying the `introspection` scope: DOT's
    /// `RESOURCE_SERVER_AUTH_TOKEN`.
    BearerToken(String),
}

impl std::fmt::Debug for IntrospectionAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            IntrospectionAuth::ClientCredentials { client_id, .. } => f
                .debug_struct("ClientCredentials")
                .field("client_id", client_id)
                .finish_non_exhaustive(),
            IntrospectionAuth::BearerToken(_) => f.write_str("BearerToken(..)"),
        }
    }
}

/// Where and how to introspect tokens (DOT's `RESOURCE_SERVER_*` settings).
#[derive(Debug, Clone)]
pub struct RemoteIntrospection {
    /// The introspection endpoint, such as `https://idp.example/o/introspect/`.
    pub url: String,
    /// The resource server's credentials there.
    pub auth: IntrospectionAuth,
    /// The longest an active answer is trusted (never past the token's
    /// expiry). DOT's `RESOURCE_SERVER_TOKEN_CACHING_SECONDS`; its default
    /// (36,000) would let a revoked token work for ten hours, so Tollgate's is 60.
    pub token_caching_seconds: u64,
    /// How long to wait for the endpoint.
    pub timeout: Duration,
}

impl RemoteIntrospection {
    /// `url` with `auth`, caching for 60 seconds and waiting 5 seconds at most.
    pub fn new(url: impl Into<String>, auth: IntrospectionAuth) -> Self {
        RemoteIntrospection {
            url: url.into(),
            auth,
            token_caching_seconds: 60,
            timeout: Duration::from_secs(5),
        }
    }

    /// The challenges' default realm: the endpoint's origin.
    pub(super) fn realm(&self) -> String {
        url::Url::parse(&self.url)
            .map_or_else(|_| self.url.clone(), |u| u.origin().ascii_serialization())
    }
}

#[derive(Clone)]
pub(super) struct Introspector {
    http: reqwest::Client,
    config: RemoteIntrospection,
}

/// The members of an RFC 7662 §2.2 answer that matter here.
#[derive(Deserialize)]
struct Answer {
    active: bool,
    scope: Option<String>,
    client_id: Option<String>,
    username: Option<String>,
    sub: Option<String>,
    exp: Option<i64>,
    /// RFC 7662 §2.2: a string or an array of strings.
    aud: Option<serde_json::Value>,
    /// RFC 9449 §6.2: the key a DPoP-bound token is bound to.
    cnf: Option<Confirmation>,
}

#[derive(serde::Deserialize)]
struct Confirmation {
    jkt: Option<String>,
}

/// The audience an answer names; `None` when `aud` is neither a string nor
/// strings, which fails closed.
fn audience(aud: Option<serde_json::Value>) -> Option<Resources> {
    use serde_json::Value;
    match aud {
        None => Some(Resources::default()),
        Some(Value::String(one)) => Some(std::iter::once(one).collect()),
        // An empty list names no resource the token is for: not "any".
        Some(Value::Array(many)) if many.is_empty() => None,
        Some(Value::Array(many)) => many
            .into_iter()
            .map(|v| match v {
                Value::String(s) => Some(s),
                _ => None,
            })
            .collect::<Option<Vec<String>>>()
            .map(|list| list.into_iter().collect()),
        Some(_) => None,
    }
}

impl Introspector {
    pub(super) fn new(config: RemoteIntrospection) -> Result<Self, Unavailable> {
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            // An introspection endpoint answers; it does not send us elsewhere.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| Unavailable(e.to_string()))?;
        Ok(Introspector { http, config })
    }

    /// The token's details if the endpoint says it is active.
    pub(super) async fn introspect(
        &self,
        token: &str,
        now: i64,
    ) -> Result<Option<TokenDetails>, Unavailable> {
        let request = self
            .http
            .post(&self.config.url)
            .header("accept", "application/json")
            .form(&[("token", token), ("token_type_hint", "access_token")]);
        let request = match &self.config.auth {
            IntrospectionAuth::ClientCredentials {
                client_id,
                client_secret,
            } => request.basic_auth(form_encode(client_id), Some(form_encode(client_secret))),
            IntrospectionAuth::BearerToken(t) => request.bearer_auth(t),
        };
        let failed = |e: reqwest::Error| Unavailable(format!("introspection: {e}"));
        let response = request.send().await.map_err(failed)?;
        if !response.status().is_success() {
            return Err(Unavailable(format!(
                "introspection answered {}",
                response.status()
            )));
        }
        let answer: Answer = response.json().await.map_err(failed)?;
        if !answer.active {
            return Ok(None);
        }
        let Some(audience) = audience(answer.aud) else {
            tracing::warn!("introspection answered a malformed `aud`; the token is refused");
            return Ok(None);
        };
        // A token without `exp` is trusted for the cache lifetime only.
        let expires_at = answer.exp.unwrap_or_else(|| {
            now.saturating_add(i64::try_from(self.config.token_caching_seconds).unwrap_or(0))
        });
        Ok(Some(TokenDetails {
            client_id: answer.client_id.unwrap_or_default(),
            subject: answer.sub,
            username: answer.username,
            user: None,
            scopes: Scopes::parse(answer.scope.as_deref().unwrap_or_default()).unwrap_or_default(),
            audience,
            expires_at,
            dpop_jkt: answer.cnf.and_then(|c| c.jkt),
        }))
    }
}

/// RFC 6749 §2.3.1: client credentials are form-encoded before Basic encoding.
fn form_encode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

#[cfg(test)]
mod tests {
    use super::audience;
    use serde_json::json;

    #[test]
    fn aud_is_a_string_or_strings_or_fails_closed() {
        assert!(audience(None).unwrap().is_empty());
        assert_eq!(
            audience(Some(json!("https://a.example/")))
                .unwrap()
                .to_string(),
            "https://a.example/"
        );
        assert_eq!(
            audience(Some(json!(["https://b.example/", "https://a.example/"])))
                .unwrap()
                .to_string(),
            "https://a.example/ https://b.example/"
        );
        assert!(audience(Some(json!(3))).is_none());
        assert!(audience(Some(json!([]))).is_none());
        assert!(audience(Some(json!(["https://a.example/", 3]))).is_none());
        assert!(audience(Some(json!({"a": 1}))).is_none());
    }
}
