//! RFC 7591 client metadata: what a dynamically registered client sends, read
//! into the registration rules every client meets, and what it is told back.

use serde::{Deserialize, Serialize};

use crate::client::{ApplicationSpec, DEVICE_CODE_URN, GrantType, SigningAlgorithm, SpecError};
use crate::client_auth::TokenEndpointAuthMethod;
use crate::error::{ErrorCode, OAuthError};
use crate::model::{Application, ClientSecurity};

/// The metadata Tollgate reads (RFC 7591 §2, OIDC Registration §2); the rest
/// of a request is ignored, as §2 allows.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, Eq)]
pub struct ClientMetadata {
    /// `redirect_uris`; required by the grants that redirect.
    #[serde(default)]
    pub redirect_uris: Vec<String>,
    /// `grant_types`; `None`: `authorization_code` (RFC 7591 §2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grant_types: Option<Vec<String>>,
    /// `response_types`; one pairing `code` with another type adds the hybrid flow.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_types: Option<Vec<String>>,
    /// `none` (public), `client_secret_basic` (the default), `client_secret_post`,
    /// `client_secret_jwt` or `private_key_jwt` (with `jwks`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_endpoint_auth_method: Option<String>,
    /// `client_name`, at most 255 characters; `None`: no name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_name: Option<String>,
    /// `post_logout_redirect_uris` (RP-Initiated Logout 1.0 §3.1).
    #[serde(default)]
    pub post_logout_redirect_uris: Vec<String>,
    /// `id_token_signed_response_alg` (OIDC Registration §2); `None`: RS256.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_token_signed_response_alg: Option<String>,
    /// RFC 9126 §6: its authorization requests must be pushed; `None`: `false`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub require_pushed_authorization_requests: Option<bool>,
    /// RFC 7591 §2: its public keys, a JWK Set by value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks: Option<serde_json::Value>,
    /// RFC 9449 §5.2: every token request must carry a DPoP proof; `None`: `false`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dpop_bound_access_tokens: Option<bool>,
    /// RFC 7591 §2: where its public keys are fetched; never with `jwks`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks_uri: Option<String>,
    /// Back-Channel Logout 1.0 §2.2: where it is sent logout tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backchannel_logout_uri: Option<String>,
    /// Back-Channel Logout 1.0 §2.2: logout tokens must carry `sid`; `None`: `false`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backchannel_logout_session_required: Option<bool>,
}

fn invalid(field: &str, problem: impl std::fmt::Display) -> OAuthError {
    OAuthError::new(
        ErrorCode::InvalidClientMetadata,
        format!("{field}: {problem}"),
    )
}

impl ClientMetadata {
    /// The registration it asks for, checked like every other, and the client's
    /// name; the error names the field.
    pub fn to_spec(
        &self,
        allowed_redirect_schemes: &[String],
    ) -> Result<(ApplicationSpec, String), OAuthError> {
        if self.jwks.is_some() && self.jwks_uri.is_some() {
            // RFC 7591 §2: the two MUST NOT both be present.
            return Err(invalid("jwks_uri", "give jwks or jwks_uri, not both"));
        }
        let auth_method = self.auth_method()?;
        let client_type = auth_method
            .unwrap_or(TokenEndpointAuthMethod::ClientSecretBasic)
            .client_type();
        let grant_types = self.grant_types()?;
        let algorithm = match self.id_token_signed_response_alg.as_deref() {
            None => SigningAlgorithm::RS256,
            Some(alg) => alg
                .parse()
                .map_err(|e| invalid("id_token_signed_response_alg", e))?,
        };
        let spec = ApplicationSpec {
            client_type,
            grant_types,
            redirect_uris: self.redirect_uris.clone(),
            post_logout_redirect_uris: self.post_logout_redirect_uris.clone(),
            allowed_origins: vec![],
            algorithm,
            security: ClientSecurity {
                dpop_bound_access_tokens: self.dpop_bound_access_tokens.unwrap_or(false),
                require_pushed_authorization_requests: self
                    .require_pushed_authorization_requests
                    .unwrap_or(false),
                jwks: self
                    .jwks
                    .as_ref()
                    .map(crate::jwks::public_jwks)
                    .transpose()
                    .map_err(|e| invalid("jwks", e))?,
                jwks_uri: self
                    .jwks_uri
                    .as_deref()
                    .map(crate::outbound::remote_url)
                    .transpose()
                    .map_err(|e| invalid("jwks_uri", e))?,
                token_endpoint_auth_method: auth_method,
                backchannel_logout_uri: self
                    .backchannel_logout_uri
                    .as_deref()
                    .map(crate::outbound::remote_url)
                    .transpose()
                    .map_err(|e| invalid("backchannel_logout_uri", e))?,
                backchannel_logout_session_required: self
                    .backchannel_logout_session_required
                    .unwrap_or(false),
            },
        };
        spec.validate(allowed_redirect_schemes)
            .map_err(|e| match e {
                SpecError::RedirectUri(_) | SpecError::RedirectUriRequired(_) => {
                    OAuthError::new(ErrorCode::InvalidRedirectUri, format!("redirect_uris: {e}"))
                }
                SpecError::PostLogoutRedirectUri(_) => invalid("post_logout_redirect_uris", &e),
                SpecError::AuthMethod(_) => invalid("token_endpoint_auth_method", &e),
                SpecError::PublicHs256 | SpecError::Hs256FrontChannel => {
                    invalid("id_token_signed_response_alg", &e)
                }
                other => invalid("grant_types", &other),
            })?;
        let name = self.client_name.clone().unwrap_or_default();
        if name.chars().count() > 255 {
            return Err(invalid("client_name", "at most 255 characters"));
        }
        Ok((spec, name))
    }

    /// RFC 7591 §2: `token_endpoint_auth_method` as sent; absent, `client_secret_basic`.
    fn auth_method(&self) -> Result<Option<TokenEndpointAuthMethod>, OAuthError> {
        self.token_endpoint_auth_method
            .as_deref()
            .map(|name| {
                name.parse().map_err(|_| {
                    invalid(
                        "token_endpoint_auth_method",
                        format!("`{name}` is not supported"),
                    )
                })
            })
            .transpose()
    }

    /// RFC 7591 §2: `grant_types` (`authorization_code` unless given), and the
    /// hybrid flow when a `response_types` entry pairs `code` with another.
    fn grant_types(&self) -> Result<Vec<GrantType>, OAuthError> {
        let names = self
            .grant_types
            .clone()
            .unwrap_or_else(|| vec!["authorization_code".to_owned()]);
        let mut grant_types = Vec::new();
        for name in &names {
            let grant = match name.as_str() {
                // Implied by the grants that issue refresh tokens.
                "refresh_token" => continue,
                "authorization_code" => GrantType::AuthorizationCode,
                "implicit" => GrantType::Implicit,
                "password" => GrantType::Password,
                "client_credentials" => GrantType::ClientCredentials,
                DEVICE_CODE_URN => GrantType::DeviceCode,
                other => {
                    return Err(invalid(
                        "grant_types",
                        format!("`{other}` is not supported"),
                    ));
                }
            };
            if !grant_types.contains(&grant) {
                grant_types.push(grant);
            }
        }
        // OIDC: a code type with a token or ID token beside it is the hybrid flow.
        let hybrid = self.response_types.iter().flatten().any(|rt| {
            let parts: Vec<&str> = rt.split(' ').collect();
            parts.contains(&"code") && parts.len() > 1
        });
        if hybrid {
            grant_types.push(GrantType::OpenIdHybrid);
        }
        Ok(grant_types)
    }

    /// A registered client's metadata, as the registration endpoints answer it.
    pub fn of(app: &Application) -> Self {
        let mut grant_types: Vec<String> = app
            .grant_types
            .iter()
            .filter_map(|g| match g {
                GrantType::AuthorizationCode => Some("authorization_code"),
                GrantType::Implicit => Some("implicit"),
                GrantType::Password => Some("password"),
                GrantType::ClientCredentials => Some("client_credentials"),
                GrantType::DeviceCode => Some(DEVICE_CODE_URN),
                GrantType::OpenIdHybrid => None,
            })
            .map(str::to_owned)
            .collect();
        if app.grant_types.iter().any(|g| {
            matches!(
                g,
                GrantType::AuthorizationCode
                    | GrantType::Password
                    | GrantType::DeviceCode
                    | GrantType::OpenIdHybrid
            )
        }) {
            grant_types.push("refresh_token".to_owned());
        }
        let has = |g| app.grant_types.contains(&g);
        let mut response_types = Vec::new();
        if has(GrantType::AuthorizationCode) {
            response_types.push("code");
        }
        if has(GrantType::Implicit) {
            response_types.extend(["token", "id_token", "id_token token"]);
        }
        if has(GrantType::OpenIdHybrid) {
            response_types.extend(["code id_token", "code token", "code id_token token"]);
        }
        ClientMetadata {
            redirect_uris: app.redirect_uris.clone(),
            grant_types: Some(grant_types),
            response_types: Some(response_types.into_iter().map(str::to_owned).collect()),
            token_endpoint_auth_method: Some(
                app.security
                    .token_endpoint_auth_method
                    .unwrap_or(TokenEndpointAuthMethod::default_for(app.client_type))
                    .as_str()
                    .to_owned(),
            ),
            client_name: Some(app.name.clone()).filter(|n| !n.is_empty()),
            post_logout_redirect_uris: app.post_logout_redirect_uris.clone(),
            id_token_signed_response_alg: Some(app.algorithm.as_str().to_owned()),
            require_pushed_authorization_requests: Some(
                app.security.require_pushed_authorization_requests,
            ),
            jwks: app
                .security
                .jwks
                .as_deref()
                .and_then(|text| serde_json::from_str(text).ok()),
            jwks_uri: app.security.jwks_uri.clone(),
            dpop_bound_access_tokens: Some(app.security.dpop_bound_access_tokens),
            backchannel_logout_uri: app.security.backchannel_logout_uri.clone(),
            backchannel_logout_session_required: Some(
                app.security.backchannel_logout_session_required,
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::ClientType;

    fn schemes() -> Vec<String> {
        vec!["https".into()]
    }

    fn metadata(json: &str) -> ClientMetadata {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn rfc_7591_defaults_and_several_grants() {
        let (spec, name) =
            metadata(r#"{"redirect_uris":["https://a.example/cb"],"client_name":"A","extra":1}"#)
                .to_spec(&schemes())
                .unwrap();
        assert_eq!(
            (spec.client_type, spec.grant_types.as_slice(), name.as_str()),
            (
                ClientType::Confidential,
                &[GrantType::AuthorizationCode][..],
                "A"
            )
        );
        let (spec, _) = metadata(
            r#"{"redirect_uris":["https://a.example/cb"],"token_endpoint_auth_method":"none",
                "grant_types":["authorization_code","refresh_token","implicit",
                "urn:ietf:params:oauth:grant-type:device_code"],"response_types":["code","code id_token"]}"#,
        )
        .to_spec(&schemes())
        .unwrap();
        assert_eq!(spec.client_type, ClientType::Public);
        assert_eq!(
            spec.grant_types,
            [
                GrantType::AuthorizationCode,
                GrantType::Implicit,
                GrantType::DeviceCode,
                GrantType::OpenIdHybrid
            ]
        );
    }

    #[test]
    fn errors_name_the_field() {
        let error = |json: &str| metadata(json).to_spec(&schemes()).unwrap_err();
        let e = error(r#"{"redirect_uris":["http://a.example/cb"]}"#);
        assert_eq!(e.code, ErrorCode::InvalidRedirectUri);
        assert!(
            e.description.starts_with("redirect_uris:"),
            "{}",
            e.description
        );
        let e = error(r#"{}"#);
        assert_eq!(
            e.code,
            ErrorCode::InvalidRedirectUri,
            "authorization_code needs a redirect URI"
        );
        for (json, field) in [
            (r#"{"grant_types":["jwt-bearer"]}"#, "grant_types"),
            (
                r#"{"grant_types":["client_credentials"],"token_endpoint_auth_method":"private_key_jwt"}"#,
                "token_endpoint_auth_method",
            ),
            (
                r#"{"grant_types":["client_credentials"],"token_endpoint_auth_method":"none"}"#,
                "grant_types",
            ),
            (
                r#"{"grant_types":["client_credentials"],"id_token_signed_response_alg":"none"}"#,
                "id_token_signed_response_alg",
            ),
            (
                r#"{"grant_types":["client_credentials"],"post_logout_redirect_uris":["nope"]}"#,
                "post_logout_redirect_uris",
            ),
            (
                r#"{"grant_types":["client_credentials"],"jwks":{"keys":[{"kty":"oct","k":"c2VjcmV0"}]}}"#,
                "jwks",
            ),
            (
                r#"{"grant_types":["client_credentials"],"jwks_uri":"https://a.example/k",
                    "jwks":{"keys":[{"kty":"OKP","crv":"Ed25519","x":"AA"}]}}"#,
                "jwks_uri",
            ),
            (
                r#"{"grant_types":["client_credentials"],"jwks_uri":"https://a.example/k#frag"}"#,
                "jwks_uri",
            ),
            (
                r#"{"grant_types":["authorization_code"],"redirect_uris":["https://a.example/cb"],
                    "backchannel_logout_uri":"/logout"}"#,
                "backchannel_logout_uri",
            ),
        ] {
            let e = error(json);
            assert_eq!(e.code, ErrorCode::InvalidClientMetadata, "{json}");
            assert!(
                e.description.starts_with(&format!("{field}:")),
                "{json}: {}",
                e.description
            );
        }
    }

    #[test]
    fn jwt_authentication_methods_are_registered() {
        let (spec, _) = metadata(
            r#"{"grant_types":["client_credentials"],"token_endpoint_auth_method":"private_key_jwt",
                "jwks":{"keys":[{"kty":"OKP","crv":"Ed25519","x":"AA"}]}}"#,
        )
        .to_spec(&schemes())
        .unwrap();
        assert_eq!(spec.client_type, ClientType::Confidential);
        assert_eq!(
            spec.security.token_endpoint_auth_method,
            Some(TokenEndpointAuthMethod::PrivateKeyJwt)
        );
        let (spec, _) = metadata(
            r#"{"grant_types":["client_credentials"],"token_endpoint_auth_method":"client_secret_jwt"}"#,
        )
        .to_spec(&schemes())
        .unwrap();
        assert_eq!(spec.client_type, ClientType::Confidential);
        let (spec, _) = metadata(r#"{"grant_types":["client_credentials"]}"#)
            .to_spec(&schemes())
            .unwrap();
        assert_eq!(spec.security.token_endpoint_auth_method, None, "as DOT");
    }

    #[test]
    fn a_registered_client_reads_back_as_it_was_sent() {
        let sent = metadata(
            r#"{"redirect_uris":["https://a.example/cb"],"grant_types":["authorization_code","refresh_token"],
                "response_types":["code"],"token_endpoint_auth_method":"client_secret_basic","client_name":"A",
                "post_logout_redirect_uris":[],"id_token_signed_response_alg":"ES256",
                "require_pushed_authorization_requests":true,"dpop_bound_access_tokens":true,
                "backchannel_logout_uri":"https://a.example/logout","backchannel_logout_session_required":true,
                "jwks":{"keys":[{"kty":"OKP","crv":"Ed25519","x":"AA"}]}}"#,
        );
        let (spec, name) = sent.to_spec(&schemes()).unwrap();
        assert!(spec.security.require_pushed_authorization_requests);
        assert!(spec.security.jwks.is_some());
        assert!(spec.security.dpop_bound_access_tokens);
        assert!(spec.security.backchannel_logout_session_required);
        let app = Application {
            id: 1,
            client_id: "c".into(),
            client_secret_hash: None,
            client_secret_sealed: None,
            client_type: spec.client_type,
            grant_types: spec.grant_types,
            redirect_uris: spec.redirect_uris,
            post_logout_redirect_uris: spec.post_logout_redirect_uris,
            allowed_origins: vec![],
            algorithm: spec.algorithm,
            userinfo_signed: false,
            skip_authorization: false,
            name,
            owner_id: None,
            created_at: 0,
            updated_at: 0,
            security: spec.security,
        };
        assert_eq!(ClientMetadata::of(&app), sent);
    }
}
