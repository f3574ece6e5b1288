//! Client authentication at the token, revocation and introspection endpoints
//! (RFC 6749 §2.3.1): HTTP Basic or body parameters, never both.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::error::OAuthError;
use crate::params::Params;

/// How a client authenticated, by its RFC 7591 `token_endpoint_auth_method` name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMethod {
    /// `client_secret_basic`
    Basic,
    /// `client_secret_post`
    Post,
    /// A public client naming itself with `client_id` alone.
    None,
}

/// The credentials a request presents, not yet checked; the secret stays out of Debug output.
#[derive(Clone, PartialEq, Eq)]
pub struct ClientCredentials {
    /// The `client_id` presented.
    pub client_id: String,
    /// The secret presented; `None` when the client named itself by `client_id` alone.
    pub secret: Option<String>,
    /// Where the credentials came from.
    pub method: AuthMethod,
}

impl std::fmt::Debug for ClientCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientCredentials")
            .field("client_id", &self.client_id)
            .field("method", &self.method)
            .finish_non_exhaustive()
    }
}

/// A failed attempt; `basic` says whether the answer needs `WWW-Authenticate: Basic`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientAuthError {
    /// The error to answer with: `invalid_client`, or `invalid_request` for a muddled request.
    pub error: OAuthError,
    /// Whether the request used HTTP Basic (RFC 6749 §5.2 then asks for a 401).
    pub basic: bool,
}

/// Reads the client's credentials from the `Authorization` header and the body.
/// `Ok(None)`: the request names no client at all.
pub fn credentials(
    authorization: Option<&str>,
    params: &Params,
) -> Result<Option<ClientCredentials>, ClientAuthError> {
    let basic = authorization.and_then(|h| {
        let (scheme, value) = h.split_once(' ')?;
        scheme.eq_ignore_ascii_case("basic").then_some(value.trim())
    });
    let Some(encoded) = basic else {
        return Ok(params.get("client_id").map(|id| ClientCredentials {
            client_id: id.to_owned(),
            secret: params.get("client_secret").map(str::to_owned),
            method: if params.get("client_secret").is_some() {
                AuthMethod::Post
            } else {
                AuthMethod::None
            },
        }));
    };
    let fail = |d: &str| ClientAuthError {
        error: OAuthError::invalid_client(d),
        basic: true,
    };
    let decoded = STANDARD
        .decode(encoded)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(|| fail("malformed HTTP Basic credentials"))?;
    let (id, secret) = decoded
        .split_once(':')
        .ok_or_else(|| fail("malformed HTTP Basic credentials"))?;
    let (id, secret) = (form_decode(id), form_decode(secret));
    if id.is_empty() {
        return Err(fail("malformed HTTP Basic credentials"));
    }
    if params.get("client_secret").is_some() {
        return Err(ClientAuthError {
            error: OAuthError::invalid_request("use one client authentication method, not two"),
            basic: true,
        });
    }
    if params.get("client_id").is_some_and(|body_id| body_id != id) {
        return Err(ClientAuthError {
            error: OAuthError::invalid_request("client_id differs from the authenticated client"),
            basic: true,
        });
    }
    Ok(Some(ClientCredentials {
        client_id: id,
        secret: Some(secret),
        method: AuthMethod::Basic,
    }))
}

/// RFC 6749 §2.3.1: the id and secret are form-urlencoded before Basic encoding.
fn form_decode(text: &str) -> String {
    url::form_urlencoded::parse(format!("v={text}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn basic(id: &str, secret: &str) -> String {
        format!("Basic {}", STANDARD.encode(format!("{id}:{secret}")))
    }

    #[test]
    fn basic_credentials_are_form_decoded() {
        let p = Params::default();
        let c = credentials(Some(&basic("my%20client", "s%3Ac+r")), &p)
            .unwrap()
            .unwrap();
        assert_eq!(c.client_id, "my client");
        assert_eq!(c.secret.as_deref(), Some("s:c r"));
        assert_eq!(c.method, AuthMethod::Basic);
    }

    #[test]
    fn body_credentials_and_public_clients() {
        let p = Params::parse("client_id=a&client_secret=b").unwrap();
        let c = credentials(None, &p).unwrap().unwrap();
        assert_eq!(
            (c.client_id.as_str(), c.secret.as_deref(), c.method),
            ("a", Some("b"), AuthMethod::Post)
        );
        let p = Params::parse("client_id=a").unwrap();
        assert_eq!(
            credentials(None, &p).unwrap().unwrap().method,
            AuthMethod::None
        );
        assert_eq!(
            credentials(Some("Bearer x"), &Params::default()).unwrap(),
            None
        );
    }

    #[test]
    fn two_methods_or_bad_basic_fail() {
        let p = Params::parse("client_secret=b").unwrap();
        assert!(credentials(Some(&basic("a", "b")), &p).unwrap_err().basic);
        let p = Params::parse("client_id=other").unwrap();
        assert!(credentials(Some(&basic("a", "b")), &p).is_err());
        for bad in ["Basic !!!", "Basic bm9jb2xvbg==", "basic Og=="] {
            let err = credentials(Some(bad), &Params::default()).unwrap_err();
            assert_eq!(
                err.error.code,
                crate::error::ErrorCode::InvalidClient,
                "{bad}"
            );
        }
    }

    proptest! {
        #[test]
        fn never_panics(header in "\\PC*") {
            let _ = credentials(Some(&header), &Params::default());
        }
    }
}
