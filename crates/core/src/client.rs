//! Clients (DOT's "applications"): their types, grant types and the rules a
//! registration must satisfy before it is stored.

use std::fmt;
use std::str::FromStr;

use crate::client_auth::TokenEndpointAuthMethod;
use crate::redirect_uri::{self, RedirectUriError};

/// RFC 6749 §2.1 client types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientType {
    /// Can keep a secret, and authenticates with it at the token endpoint.
    Confidential,
    /// Cannot keep a secret (native and browser apps): named by `client_id` alone; PKCE required.
    Public,
}

impl ClientType {
    /// `confidential` or `public`, as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            ClientType::Confidential => "confidential",
            ClientType::Public => "public",
        }
    }
}

impl FromStr for ClientType {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "confidential" => Ok(ClientType::Confidential),
            "public" => Ok(ClientType::Public),
            other => Err(format!(
                "unknown client type `{other}` (expected `confidential` or `public`)"
            )),
        }
    }
}

impl fmt::Display for ClientType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The grants a client may use. Unlike DOT, a client may hold several; a refresh
/// token grant is implied by any grant that issues refresh tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum GrantType {
    /// RFC 6749 §4.1: `response_type=code`, redeemed at the token endpoint.
    AuthorizationCode,
    /// RFC 6749 §4.2, with OIDC's `id_token` and `id_token token` response types.
    Implicit,
    /// RFC 6749 §4.3: the user's username and password, sent by the client.
    Password,
    /// RFC 6749 §4.4: a confidential client acting for itself.
    ClientCredentials,
    /// OIDC Core §3.3: a code beside an ID token or access token from the authorization endpoint.
    OpenIdHybrid,
    /// RFC 8628: a device without a browser, approved by the user on another screen.
    DeviceCode,
}

/// The device grant's `grant_type` (RFC 8628 §3.4), which is also how it is stored.
pub const DEVICE_CODE_URN: &str = "urn:ietf:params:oauth:grant-type:device_code";

impl GrantType {
    /// Every grant type, in declaration order.
    pub const ALL: [GrantType; 6] = [
        GrantType::AuthorizationCode,
        GrantType::Implicit,
        GrantType::Password,
        GrantType::ClientCredentials,
        GrantType::OpenIdHybrid,
        GrantType::DeviceCode,
    ];

    /// DOT's spelling, which is also how Tollgate stores it.
    pub fn as_str(self) -> &'static str {
        match self {
            GrantType::AuthorizationCode => "authorization-code",
            GrantType::Implicit => "implicit",
            GrantType::Password => "password",
            GrantType::ClientCredentials => "client-credentials",
            GrantType::OpenIdHybrid => "openid-hybrid",
            GrantType::DeviceCode => DEVICE_CODE_URN,
        }
    }

    /// Grants whose requests carry a redirect URI, which must then be registered.
    pub fn uses_redirect(self) -> bool {
        matches!(
            self,
            GrantType::AuthorizationCode | GrantType::Implicit | GrantType::OpenIdHybrid
        )
    }

    /// Parses a space-separated list as stored in the database.
    pub fn parse_list(text: &str) -> Result<Vec<GrantType>, String> {
        text.split_whitespace().map(str::parse).collect()
    }

    /// The space-separated text stored; [`parse_list`](Self::parse_list) reads it back.
    pub fn format_list(grants: &[GrantType]) -> String {
        grants
            .iter()
            .map(|g| g.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    }
}

impl FromStr for GrantType {
    type Err = String;
    /// Accepts DOT's names and the RFC 6749 `grant_type` spellings of the same grants.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "authorization-code" | "authorization_code" => Ok(GrantType::AuthorizationCode),
            "implicit" => Ok(GrantType::Implicit),
            "password" => Ok(GrantType::Password),
            "client-credentials" | "client_credentials" => Ok(GrantType::ClientCredentials),
            "openid-hybrid" => Ok(GrantType::OpenIdHybrid),
            DEVICE_CODE_URN => Ok(GrantType::DeviceCode),
            other => Err(format!(
                "unknown grant type `{other}` (expected one of: {})",
                GrantType::ALL.map(GrantType::as_str).join(", ")
            )),
        }
    }
}

impl fmt::Display for GrantType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// JWS algorithm a client's ID tokens are signed with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SigningAlgorithm {
    /// RSASSA-PKCS1-v1_5 with SHA-256 (RFC 7518 §3.3), with the server's RSA key.
    RS256,
    /// ECDSA with P-256 and SHA-256 (RFC 7518 §3.4), with the server's EC key.
    ES256,
    /// Ed25519 (RFC 8037), with the server's OKP key.
    EdDSA,
    /// HMAC with SHA-256 (RFC 7518 §3.2), keyed with the client's own secret.
    HS256,
}

impl SigningAlgorithm {
    /// The JWS `alg` name, as stored and as the JOSE header carries it.
    pub fn as_str(self) -> &'static str {
        match self {
            SigningAlgorithm::RS256 => "RS256",
            SigningAlgorithm::ES256 => "ES256",
            SigningAlgorithm::EdDSA => "EdDSA",
            SigningAlgorithm::HS256 => "HS256",
        }
    }
}

impl FromStr for SigningAlgorithm {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "RS256" => Ok(SigningAlgorithm::RS256),
            "ES256" => Ok(SigningAlgorithm::ES256),
            "EdDSA" => Ok(SigningAlgorithm::EdDSA),
            "HS256" => Ok(SigningAlgorithm::HS256),
            other => Err(format!(
                "unknown algorithm `{other}` (expected RS256, ES256, EdDSA or HS256)"
            )),
        }
    }
}

impl fmt::Display for SigningAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a registration asks for, before it is checked and stored.
#[derive(Debug, Clone)]
pub struct ApplicationSpec {
    /// Whether the client will authenticate with a secret (RFC 6749 §2.1).
    pub client_type: ClientType,
    /// The grants asked for; at least one.
    pub grant_types: Vec<GrantType>,
    /// Redirect URIs; needed by grants that redirect ([`GrantType::uses_redirect`]).
    pub redirect_uris: Vec<String>,
    /// Where RP-initiated logout may send the browser back to.
    pub post_logout_redirect_uris: Vec<String>,
    /// Browser origins for CORS, each `https://host[:port]` with nothing after.
    pub allowed_origins: Vec<String>,
    /// How ID tokens are signed; HS256 needs a confidential client and no front-channel grant.
    pub algorithm: SigningAlgorithm,
    /// How it must make its requests, beyond DOT's model.
    pub security: crate::model::ClientSecurity,
}

impl ApplicationSpec {
    /// The client this registration makes under `client_id` and `name`: no
    /// secret, no owner, consent asked; callers set what differs.
    pub fn into_application(self, client_id: String, name: String) -> crate::model::NewApplication {
        crate::model::NewApplication {
            client_id,
            client_secret_hash: None,
            client_secret_sealed: None,
            client_type: self.client_type,
            grant_types: self.grant_types,
            redirect_uris: self.redirect_uris,
            post_logout_redirect_uris: self.post_logout_redirect_uris,
            allowed_origins: self.allowed_origins,
            algorithm: self.algorithm,
            userinfo_signed: false,
            skip_authorization: false,
            name,
            owner_id: None,
            security: self.security,
        }
    }
}

/// Whether the server must read a client's secret back, so keeps it sealed:
/// HS256 signs its ID tokens with it, and `client_secret_jwt` assertions are
/// checked with it.
pub fn secret_read_back(
    algorithm: SigningAlgorithm,
    security: &crate::model::ClientSecurity,
) -> bool {
    algorithm == SigningAlgorithm::HS256
        || security
            .token_endpoint_auth_method
            .is_some_and(TokenEndpointAuthMethod::reads_secret)
}

/// Why a registration breaks a rule; [`field`](SpecError::field) names the field concerned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpecError {
    /// No grant type was asked for.
    #[error("at least one grant type is required")]
    NoGrantType,
    /// A grant that redirects, with no redirect URI to send to.
    #[error("grant type `{0}` needs at least one redirect URI")]
    RedirectUriRequired(GrantType),
    /// A public client asked for client credentials (RFC 6749 §4.4).
    #[error("the client_credentials grant is for confidential clients only (RFC 6749 §4.4)")]
    PublicClientCredentials,
    /// A public client asked for HS256, which signs with a secret it does not have.
    #[error("HS256 signs with the client secret, so it needs a confidential client")]
    PublicHs256,
    /// HS256 with the implicit or hybrid grant, whose ID tokens travel through the browser.
    #[error("HS256 is not allowed with the implicit or hybrid grants")]
    Hs256FrontChannel,
    /// A redirect URI breaks a registration rule.
    #[error("redirect URI {0}")]
    RedirectUri(RedirectUriError),
    /// A post-logout redirect URI breaks a registration rule.
    #[error("post-logout redirect URI {0}")]
    PostLogoutRedirectUri(RedirectUriError),
    /// An allowed origin that is not a bare https origin.
    #[error(
        "allowed origin `{0}` must be an https origin without a path, like https://app.example"
    )]
    Origin(String),
    /// A token endpoint authentication method that does not fit the client.
    #[error("{0}")]
    AuthMethod(String),
}

impl SpecError {
    /// The registration field the error is about, so a form can show it there.
    pub fn field(&self) -> &'static str {
        match self {
            SpecError::NoGrantType | SpecError::PublicClientCredentials => "grant_types",
            SpecError::RedirectUriRequired(_) | SpecError::RedirectUri(_) => "redirect_uris",
            SpecError::PublicHs256 | SpecError::Hs256FrontChannel => "algorithm",
            SpecError::PostLogoutRedirectUri(_) => "post_logout_redirect_uris",
            SpecError::Origin(_) => "allowed_origins",
            SpecError::AuthMethod(_) => "token_endpoint_auth_method",
        }
    }
}

impl ApplicationSpec {
    /// Every rule a client registration must meet; the first broken one is reported.
    pub fn validate(&self, allowed_redirect_schemes: &[String]) -> Result<(), SpecError> {
        if self.grant_types.is_empty() {
            return Err(SpecError::NoGrantType);
        }
        if let Some(g) = self.grant_types.iter().find(|g| g.uses_redirect())
            && self.redirect_uris.is_empty()
        {
            return Err(SpecError::RedirectUriRequired(*g));
        }
        if self.client_type == ClientType::Public {
            if self.grant_types.contains(&GrantType::ClientCredentials) {
                return Err(SpecError::PublicClientCredentials);
            }
            if self.algorithm == SigningAlgorithm::HS256 {
                return Err(SpecError::PublicHs256);
            }
        }
        if self.algorithm == SigningAlgorithm::HS256
            && self
                .grant_types
                .iter()
                .any(|g| matches!(g, GrantType::Implicit | GrantType::OpenIdHybrid))
        {
            return Err(SpecError::Hs256FrontChannel);
        }
        for uri in &self.redirect_uris {
            redirect_uri::validate_registered(uri, allowed_redirect_schemes)
                .map_err(SpecError::RedirectUri)?;
        }
        for uri in &self.post_logout_redirect_uris {
            redirect_uri::validate_registered(uri, allowed_redirect_schemes)
                .map_err(SpecError::PostLogoutRedirectUri)?;
        }
        for origin in &self.allowed_origins {
            if !is_https_origin(origin) {
                return Err(SpecError::Origin(origin.clone()));
            }
        }
        self.auth_method_fits()
    }

    /// A registered authentication method is the client type's, and
    /// `private_key_jwt` has keys to check with.
    fn auth_method_fits(&self) -> Result<(), SpecError> {
        let Some(method) = self.security.token_endpoint_auth_method else {
            return Ok(());
        };
        if method.client_type() != self.client_type {
            return Err(SpecError::AuthMethod(format!(
                "`{}` is not a method of {} clients",
                method.as_str(),
                self.client_type.as_str()
            )));
        }
        if method == TokenEndpointAuthMethod::PrivateKeyJwt {
            if self.security.jwks.is_none() && self.security.jwks_uri.is_none() {
                return Err(SpecError::AuthMethod(
                    "private_key_jwt needs the client's public keys (jwks or jwks_uri)".into(),
                ));
            }
            if self.algorithm == SigningAlgorithm::HS256 {
                return Err(SpecError::AuthMethod(
                    "a private_key_jwt client has no secret to sign HS256 ID tokens with".into(),
                ));
            }
        }
        Ok(())
    }

    /// Whether the client gets a secret: a confidential one, unless it
    /// authenticates with its keys alone (`private_key_jwt`).
    pub fn has_secret(&self) -> bool {
        self.client_type == ClientType::Confidential
            && self.security.token_endpoint_auth_method
                != Some(TokenEndpointAuthMethod::PrivateKeyJwt)
    }
}

/// An origin is scheme://host[:port] with nothing after it (RFC 6454).
fn is_https_origin(origin: &str) -> bool {
    match url::Url::parse(origin) {
        Ok(u) => {
            u.scheme() == "https"
                && u.host_str().is_some_and(|h| !h.is_empty())
                && u.username().is_empty()
                && u.origin().ascii_serialization() == origin
        }
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> ApplicationSpec {
        ApplicationSpec {
            client_type: ClientType::Confidential,
            grant_types: vec![GrantType::AuthorizationCode],
            redirect_uris: vec!["https://app.example/cb".into()],
            post_logout_redirect_uris: vec![],
            allowed_origins: vec![],
            algorithm: SigningAlgorithm::RS256,
            security: Default::default(),
        }
    }

    fn schemes() -> Vec<String> {
        vec!["http".into(), "https".into()]
    }

    #[test]
    fn each_registration_error_names_its_form_field() {
        let cases: [(ApplicationSpec, &str); 5] = [
            (
                ApplicationSpec {
                    grant_types: vec![],
                    ..spec()
                },
                "grant_types",
            ),
            (
                ApplicationSpec {
                    redirect_uris: vec!["https://a.example/#f".into()],
                    ..spec()
                },
                "redirect_uris",
            ),
            (
                ApplicationSpec {
                    redirect_uris: vec![],
                    ..spec()
                },
                "redirect_uris",
            ),
            (
                ApplicationSpec {
                    post_logout_redirect_uris: vec!["nope".into()],
                    ..spec()
                },
                "post_logout_redirect_uris",
            ),
            (
                ApplicationSpec {
                    allowed_origins: vec!["https://a.example/path".into()],
                    ..spec()
                },
                "allowed_origins",
            ),
        ];
        for (case, field) in cases {
            assert_eq!(
                case.validate(&schemes()).unwrap_err().field(),
                field,
                "{case:?}"
            );
        }
        let public_hs256 = ApplicationSpec {
            client_type: ClientType::Public,
            algorithm: SigningAlgorithm::HS256,
            ..spec()
        };
        assert_eq!(
            public_hs256.validate(&schemes()).unwrap_err().field(),
            "algorithm"
        );
    }

    #[test]
    fn grant_types_parse_in_dot_and_rfc_spelling() {
        assert_eq!(
            "authorization-code".parse(),
            Ok(GrantType::AuthorizationCode)
        );
        assert_eq!(
            "client_credentials".parse(),
            Ok(GrantType::ClientCredentials)
        );
        assert_eq!(DEVICE_CODE_URN.parse(), Ok(GrantType::DeviceCode));
        let err = "magic".parse::<GrantType>().unwrap_err();
        assert!(
            err.contains("`magic`") && err.contains("openid-hybrid"),
            "{err}"
        );
    }

    #[test]
    fn grant_list_round_trips() {
        let list = vec![GrantType::AuthorizationCode, GrantType::DeviceCode];
        assert_eq!(
            GrantType::parse_list(&GrantType::format_list(&list)),
            Ok(list)
        );
    }

    #[test]
    fn valid_spec_passes() {
        assert_eq!(spec().validate(&schemes()), Ok(()));
    }

    #[test]
    fn code_grant_needs_a_redirect_uri() {
        let s = ApplicationSpec {
            redirect_uris: vec![],
            ..spec()
        };
        assert_eq!(
            s.validate(&schemes()),
            Err(SpecError::RedirectUriRequired(GrantType::AuthorizationCode))
        );
    }

    #[test]
    fn public_clients_cannot_use_client_credentials_or_hs256() {
        let s = ApplicationSpec {
            client_type: ClientType::Public,
            grant_types: vec![GrantType::ClientCredentials],
            ..spec()
        };
        assert_eq!(
            s.validate(&schemes()),
            Err(SpecError::PublicClientCredentials)
        );
        let s = ApplicationSpec {
            client_type: ClientType::Public,
            algorithm: SigningAlgorithm::HS256,
            ..spec()
        };
        assert_eq!(s.validate(&schemes()), Err(SpecError::PublicHs256));
    }

    #[test]
    fn hs256_not_with_front_channel_grants() {
        let s = ApplicationSpec {
            grant_types: vec![GrantType::Implicit],
            algorithm: SigningAlgorithm::HS256,
            ..spec()
        };
        assert_eq!(s.validate(&schemes()), Err(SpecError::Hs256FrontChannel));
    }

    #[test]
    fn redirect_uri_scheme_is_checked() {
        let s = ApplicationSpec {
            redirect_uris: vec!["http://app.example/cb".into()],
            ..spec()
        };
        assert!(matches!(
            s.validate(&["https".to_owned()]),
            Err(SpecError::RedirectUri(RedirectUriError::Scheme { .. }))
        ));
    }

    #[test]
    fn origins_must_be_bare_https_origins() {
        for (origin, ok) in [
            ("https://app.example", true),
            ("https://app.example:8443", true),
            ("http://app.example", false),
            ("https://app.example/", false),
            ("https://app.example/path", false),
        ] {
            let s = ApplicationSpec {
                allowed_origins: vec![origin.into()],
                ..spec()
            };
            assert_eq!(s.validate(&schemes()).is_ok(), ok, "{origin}");
        }
    }
}
