//! Client authentication at the token, revocation and introspection endpoints
//! (RFC 6749 §2.3.1, RFC 7523 §2.2): HTTP Basic, body parameters or a client
//! assertion, never two; and which of them a client's registration allows.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::client::ClientType;
use crate::client_assertion;
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
    /// A JWT the client signed (RFC 7523 §2.2): `client_secret_jwt` or `private_key_jwt`.
    Jwt,
}

/// RFC 7591 §2 `token_endpoint_auth_method`: how a client registered to
/// authenticate, at every endpoint that authenticates clients.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenEndpointAuthMethod {
    /// The secret in HTTP Basic.
    ClientSecretBasic,
    /// The secret in the body.
    ClientSecretPost,
    /// A JWT signed with the secret, HS256 (OIDC Core §9).
    ClientSecretJwt,
    /// A JWT signed with one of its registered keys (OIDC Core §9, RFC 7523).
    PrivateKeyJwt,
    /// A public client: no authentication.
    None,
}

impl TokenEndpointAuthMethod {
    /// Every method, in the order discovery lists them.
    pub const ALL: [TokenEndpointAuthMethod; 5] = [
        TokenEndpointAuthMethod::ClientSecretBasic,
        TokenEndpointAuthMethod::ClientSecretPost,
        TokenEndpointAuthMethod::ClientSecretJwt,
        TokenEndpointAuthMethod::PrivateKeyJwt,
        TokenEndpointAuthMethod::None,
    ];

    /// The RFC 7591 name.
    pub fn as_str(self) -> &'static str {
        match self {
            TokenEndpointAuthMethod::ClientSecretBasic => "client_secret_basic",
            TokenEndpointAuthMethod::ClientSecretPost => "client_secret_post",
            TokenEndpointAuthMethod::ClientSecretJwt => "client_secret_jwt",
            TokenEndpointAuthMethod::PrivateKeyJwt => "private_key_jwt",
            TokenEndpointAuthMethod::None => "none",
        }
    }

    /// The method a client of `client_type` uses when it registered none: a
    /// secret for a confidential client (as DOT), nothing for a public one.
    pub fn default_for(client_type: ClientType) -> Self {
        match client_type {
            ClientType::Confidential => TokenEndpointAuthMethod::ClientSecretBasic,
            ClientType::Public => TokenEndpointAuthMethod::None,
        }
    }

    /// The client type a client registering this method is.
    pub fn client_type(self) -> ClientType {
        match self {
            TokenEndpointAuthMethod::None => ClientType::Public,
            _ => ClientType::Confidential,
        }
    }

    /// Whether a client registered with this method may authenticate as
    /// `presented`. Basic and post prove the same secret, so a client of either
    /// may use both, as DOT's may; a JWT method allows only assertions.
    pub fn allows(self, presented: AuthMethod) -> bool {
        match self {
            TokenEndpointAuthMethod::ClientSecretBasic
            | TokenEndpointAuthMethod::ClientSecretPost => {
                matches!(presented, AuthMethod::Basic | AuthMethod::Post)
            }
            TokenEndpointAuthMethod::ClientSecretJwt | TokenEndpointAuthMethod::PrivateKeyJwt => {
                presented == AuthMethod::Jwt
            }
            TokenEndpointAuthMethod::None => presented == AuthMethod::None,
        }
    }

    /// Whether the server must read the client's secret back (to check an
    /// HS256 assertion), so it is kept sealed.
    pub fn reads_secret(self) -> bool {
        self == TokenEndpointAuthMethod::ClientSecretJwt
    }
}

impl std::str::FromStr for TokenEndpointAuthMethod {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|m| m.as_str() == s)
            .ok_or_else(|| format!("`{s}` is not a token endpoint authentication method"))
    }
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
    /// The client assertion (RFC 7523), not yet verified, when `method` is [`AuthMethod::Jwt`].
    pub assertion: Option<String>,
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
    let assertion = assertion(params)?;
    let Some(encoded) = basic else {
        if let Some(found) = assertion {
            return Ok(Some(found));
        }
        return Ok(params.get("client_id").map(|id| ClientCredentials {
            client_id: id.to_owned(),
            secret: params.get("client_secret").map(str::to_owned),
            method: if params.get("client_secret").is_some() {
                AuthMethod::Post
            } else {
                AuthMethod::None
            },
            assertion: None,
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
    if params.get("client_secret").is_some() || assertion.is_some() {
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
        assertion: None,
    }))
}

/// RFC 7523 §2.2: a client assertion in the body, with the client it names
/// (its `sub`, read before the signature is checked, to find the key);
/// `Ok(None)` when there is none.
fn assertion(params: &Params) -> Result<Option<ClientCredentials>, ClientAuthError> {
    let (kind, jwt) = (
        params.get("client_assertion_type"),
        params.get("client_assertion"),
    );
    if kind.is_none() && jwt.is_none() {
        return Ok(None);
    }
    let fail = |error| ClientAuthError {
        error,
        basic: false,
    };
    if kind != Some(client_assertion::ASSERTION_TYPE) {
        return Err(fail(OAuthError::invalid_client(format!(
            "client_assertion_type must be {}",
            client_assertion::ASSERTION_TYPE
        ))));
    }
    let jwt = jwt.ok_or_else(|| {
        fail(OAuthError::invalid_request(
            "the parameter `client_assertion` is missing",
        ))
    })?;
    if params.get("client_secret").is_some() {
        return Err(fail(OAuthError::invalid_request(
            "use one client authentication method, not two",
        )));
    }
    let client_id = client_assertion::subject(jwt).ok_or_else(|| {
        fail(OAuthError::invalid_client(
            "the client assertion is not a JWT with a `sub`",
        ))
    })?;
    if params
        .get("client_id")
        .is_some_and(|body_id| body_id != client_id)
    {
        return Err(fail(OAuthError::invalid_request(
            "client_id differs from the client assertion's subject",
        )));
    }
    Ok(Some(ClientCredentials {
        client_id,
        secret: None,
        method: AuthMethod::Jwt,
        assertion: Some(jwt.to_owned()),
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

    fn unsigned_jwt(claims: &str) -> String {
        use base64::engine::general_purpose::URL_SAFE_NO_PAD;
        format!(
            "{}.{}.c2ln",
            URL_SAFE_NO_PAD.encode(r#"{"alg":"RS256"}"#),
            URL_SAFE_NO_PAD.encode(claims)
        )
    }

    fn with_assertion(jwt: &str, extra: &str) -> Params {
        let mut pairs = vec![
            (
                "client_assertion_type".to_owned(),
                client_assertion::ASSERTION_TYPE.to_owned(),
            ),
            ("client_assertion".to_owned(), jwt.to_owned()),
        ];
        pairs.extend(url::form_urlencoded::parse(extra.as_bytes()).into_owned());
        Params::from_pairs(pairs).unwrap()
    }

    #[test]
    fn a_client_assertion_names_its_client_by_sub() {
        let jwt = unsigned_jwt(r#"{"iss":"rp","sub":"rp"}"#);
        let c = credentials(None, &with_assertion(&jwt, "&client_id=rp"))
            .unwrap()
            .unwrap();
        assert_eq!(c.client_id, "rp");
        assert_eq!(c.method, AuthMethod::Jwt);
        assert_eq!(c.assertion.as_deref(), Some(jwt.as_str()));
        assert_eq!(c.secret, None);
        assert!(!format!("{c:?}").contains(&jwt), "no assertion in Debug");

        let code = |r: Result<_, ClientAuthError>| r.unwrap_err().error.code;
        use crate::error::ErrorCode::{InvalidClient, InvalidRequest};
        assert_eq!(
            code(credentials(None, &with_assertion(&jwt, "&client_id=other"))),
            InvalidRequest
        );
        assert_eq!(
            code(credentials(None, &with_assertion(&jwt, "&client_secret=s"))),
            InvalidRequest
        );
        assert_eq!(
            code(credentials(
                Some(&basic("rp", "s")),
                &with_assertion(&jwt, "")
            )),
            InvalidRequest
        );
        assert_eq!(
            code(credentials(None, &with_assertion("garbage", ""))),
            InvalidClient
        );
        let no_sub = unsigned_jwt(r#"{"iss":"rp"}"#);
        assert_eq!(
            code(credentials(None, &with_assertion(&no_sub, ""))),
            InvalidClient
        );
        let wrong_type = Params::parse(&format!(
            "client_assertion_type=saml&client_assertion={jwt}"
        ))
        .unwrap();
        assert_eq!(code(credentials(None, &wrong_type)), InvalidClient);
        let no_jwt = Params::parse(&format!(
            "client_assertion_type={}",
            client_assertion::ASSERTION_TYPE
        ))
        .unwrap();
        assert_eq!(code(credentials(None, &no_jwt)), InvalidRequest);
    }

    #[test]
    fn a_registered_method_allows_its_own_presentations() {
        use TokenEndpointAuthMethod as M;
        for method in M::ALL {
            assert_eq!(method.as_str().parse::<M>(), Ok(method));
        }
        assert!("client_secret".parse::<M>().is_err());
        assert!(M::ClientSecretPost.allows(AuthMethod::Basic), "as DOT does");
        assert!(M::ClientSecretBasic.allows(AuthMethod::Post));
        assert!(!M::ClientSecretBasic.allows(AuthMethod::Jwt));
        assert!(M::PrivateKeyJwt.allows(AuthMethod::Jwt));
        assert!(!M::PrivateKeyJwt.allows(AuthMethod::Basic));
        assert!(!M::ClientSecretJwt.allows(AuthMethod::Post));
        assert!(!M::None.allows(AuthMethod::Basic));
        assert!(M::None.allows(AuthMethod::None));
        assert_eq!(M::default_for(ClientType::Public), M::None);
        assert_eq!(M::PrivateKeyJwt.client_type(), ClientType::Confidential);
    }

    proptest! {
        #[test]
        fn assertions_never_panic(jwt in "\\PC*", sub in "\\PC*") {
            let _ = credentials(None, &with_assertion(&jwt, ""));
            let _ = credentials(None, &with_assertion(&unsigned_jwt(&sub), ""));
        }

        #[test]
        fn never_panics(header in "\\PC*") {
            let _ = credentials(Some(&header), &Params::default());
        }
    }
}
