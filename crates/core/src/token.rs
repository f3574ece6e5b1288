//! Token endpoint rules (RFC 6749 §4–6, RFC 7636 §4.6, RFC 9700 §2.1.1, §4.14).

use crate::client::{ClientType, DEVICE_CODE_URN, GrantType};
use crate::env::UnixTime;
use crate::error::{ErrorCode, OAuthError};
use crate::model::{Application, AuthorizationCode, RefreshToken};
use crate::params::Params;
use crate::pkce::{self, Method};
use crate::scope::Scopes;

/// A token request, parsed.
#[derive(Clone, PartialEq, Eq)]
pub enum GrantRequest {
    /// RFC 6749 §4.1.3: a code redeemed.
    AuthorizationCode {
        /// The code as issued.
        code: String,
        /// Must equal the authorization request's, if that named one.
        redirect_uri: Option<String>,
        /// RFC 7636 §4.5: the PKCE verifier, if the code had a challenge.
        code_verifier: Option<String>,
    },
    /// RFC 6749 §4.4.2: the client asking for itself.
    ClientCredentials {
        /// The scopes asked for; `None`: the default ones.
        scope: Option<String>,
    },
    /// RFC 6749 §4.3.2: the user's username and password.
    Password {
        /// The name the user signs in with.
        username: String,
        /// The user's password in clear; Debug output leaves it out.
        password: String,
        /// The scopes asked for; `None`: the default ones.
        scope: Option<String>,
    },
    /// RFC 6749 §6: a refresh token exchanged for new tokens.
    RefreshToken {
        /// The refresh token as issued.
        refresh_token: String,
        /// A narrower scope; `None`: the original grant's.
        scope: Option<String>,
    },
    /// RFC 8628 §3.4.
    DeviceCode {
        /// The `device_code` the device was given (RFC 8628 §3.2).
        device_code: String,
    },
}

impl std::fmt::Debug for GrantRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "GrantRequest({})", self.grant_type())
    }
}

impl GrantRequest {
    /// Reads a token request; an unknown `grant_type` is `unsupported_grant_type`.
    pub fn parse(params: &Params) -> Result<Self, OAuthError> {
        let owned = |name: &str| params.require(name).map(str::to_owned);
        let optional = |name: &str| params.get(name).map(str::to_owned);
        match params.require("grant_type")? {
            "authorization_code" => Ok(GrantRequest::AuthorizationCode {
                code: owned("code")?,
                redirect_uri: optional("redirect_uri"),
                code_verifier: optional("code_verifier"),
            }),
            "client_credentials" => Ok(GrantRequest::ClientCredentials {
                scope: optional("scope"),
            }),
            "password" => Ok(GrantRequest::Password {
                username: owned("username")?,
                password: owned("password")?,
                scope: optional("scope"),
            }),
            "refresh_token" => Ok(GrantRequest::RefreshToken {
                refresh_token: owned("refresh_token")?,
                scope: optional("scope"),
            }),
            DEVICE_CODE_URN => Ok(GrantRequest::DeviceCode {
                device_code: owned("device_code")?,
            }),
            other => Err(OAuthError::new(
                ErrorCode::UnsupportedGrantType,
                format!("grant_type `{other}` is not supported"),
            )),
        }
    }

    /// The `grant_type` value the request was sent with.
    pub fn grant_type(&self) -> &'static str {
        match self {
            GrantRequest::AuthorizationCode { .. } => "authorization_code",
            GrantRequest::ClientCredentials { .. } => "client_credentials",
            GrantRequest::Password { .. } => "password",
            GrantRequest::RefreshToken { .. } => "refresh_token",
            GrantRequest::DeviceCode { .. } => DEVICE_CODE_URN,
        }
    }
}

/// Whether `client` is registered for the grant it asks for.
pub fn client_may_use(client: &Application, grant: &GrantRequest) -> Result<(), OAuthError> {
    let has = |g: GrantType| client.grant_types.contains(&g);
    let allowed = match grant {
        GrantRequest::AuthorizationCode { .. } => {
            has(GrantType::AuthorizationCode) || has(GrantType::OpenIdHybrid)
        }
        // RFC 6749 §4.4: confidential clients only.
        GrantRequest::ClientCredentials { .. } => {
            has(GrantType::ClientCredentials) && client.client_type == ClientType::Confidential
        }
        GrantRequest::Password { .. } => has(GrantType::Password),
        GrantRequest::DeviceCode { .. } => has(GrantType::DeviceCode),
        GrantRequest::RefreshToken { .. } => [
            GrantType::AuthorizationCode,
            GrantType::OpenIdHybrid,
            GrantType::Password,
            GrantType::DeviceCode,
        ]
        .into_iter()
        .any(has),
    };
    if allowed {
        Ok(())
    } else {
        Err(OAuthError::unauthorized_client(format!(
            "this client may not use the {} grant",
            grant.grant_type()
        )))
    }
}

/// The scope of a new grant: what was asked, each known, or the defaults.
pub fn new_grant_scope(
    requested: Option<&str>,
    known: &[&str],
    default: &[&str],
) -> Result<Scopes, OAuthError> {
    let scope = match requested {
        Some(text) => Scopes::parse(text).map_err(|e| OAuthError::invalid_scope(e.to_string()))?,
        None => default.iter().copied().collect(),
    };
    if let Some(unknown) = scope.iter().find(|s| !known.contains(s)) {
        return Err(OAuthError::invalid_scope(format!(
            "unknown scope `{unknown}`"
        )));
    }
    Ok(scope)
}

/// RFC 6749 §6: a refresh may narrow the original scope, never widen it.
pub fn refreshed_scope(requested: Option<&str>, original: &str) -> Result<Scopes, OAuthError> {
    let original = Scopes::parse(original).unwrap_or_default();
    let Some(text) = requested else {
        return Ok(original);
    };
    let scope = Scopes::parse(text).map_err(|e| OAuthError::invalid_scope(e.to_string()))?;
    if !scope.is_subset(&original) {
        return Err(OAuthError::invalid_scope(
            "the requested scope exceeds the original grant",
        ));
    }
    Ok(scope)
}

/// Checks a redeemed code against the token request that presents it.
pub fn check_code(
    code: &AuthorizationCode,
    client: &Application,
    now: UnixTime,
    redirect_uri: Option<&str>,
    code_verifier: Option<&str>,
) -> Result<(), OAuthError> {
    if code.application_id != client.id {
        return Err(OAuthError::invalid_grant(
            "the code was issued to another client",
        ));
    }
    if now >= code.expires_at {
        return Err(OAuthError::invalid_grant("the code has expired"));
    }
    // RFC 6749 §4.1.3: identical to the authorization request's, when that had one.
    match (redirect_uri, code.redirect_uri_given) {
        (Some(given), _) if given != code.redirect_uri => {
            return Err(OAuthError::invalid_grant(
                "redirect_uri differs from the authorization request",
            ));
        }
        (None, true) => {
            return Err(OAuthError::invalid_grant(
                "redirect_uri is required: the authorization request had one",
            ));
        }
        _ => {}
    }
    let method = code
        .code_challenge_method
        .as_deref()
        .and_then(Method::parse);
    match (&code.code_challenge, method, code_verifier) {
        (Some(challenge), Some(method), Some(verifier)) => {
            if !pkce::verify(verifier, challenge, method) {
                return Err(OAuthError::invalid_grant(
                    "the code_verifier does not match the challenge",
                ));
            }
        }
        (Some(_), _, None) => return Err(OAuthError::invalid_request("code_verifier is required")),
        // RFC 9700 §2.1.1: a verifier without a challenge is an injected code.
        (None, _, Some(_)) => {
            return Err(OAuthError::invalid_grant(
                "no code_challenge was sent for this code",
            ));
        }
        (Some(_), None, Some(_)) => {
            return Err(OAuthError::invalid_grant(
                "the code's challenge is unreadable",
            ));
        }
        (None, _, None) => {}
    }
    Ok(())
}

/// What presenting a refresh token amounts to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefreshUse {
    /// A live token: rotate it (or keep it) and issue.
    Live,
    /// Rotated moments ago, within `refresh_token_grace_period_seconds`: issue again.
    InGrace,
    /// Rotated or revoked before the grace period: a replay (RFC 9700 §4.14.2).
    Replayed,
}

/// Judges a presented refresh token; `invalid_grant` if another client's, expired or revoked.
pub fn check_refresh(
    token: &RefreshToken,
    client: &Application,
    now: UnixTime,
    grace_seconds: i64,
) -> Result<RefreshUse, OAuthError> {
    if token.application_id != client.id {
        return Err(OAuthError::invalid_grant(
            "the refresh token was issued to another client",
        ));
    }
    if token.expires_at.is_some_and(|exp| now >= exp) {
        return Err(OAuthError::invalid_grant("the refresh token has expired"));
    }
    Ok(match token.revoked_at {
        None => RefreshUse::Live,
        // No grace is none even for a request whose clock read came before the rotation's.
        Some(revoked)
            if token.rotated
                && grace_seconds > 0
                && now < revoked.saturating_add(grace_seconds) =>
        {
            RefreshUse::InGrace
        }
        Some(_) if token.rotated => RefreshUse::Replayed,
        Some(_) => {
            return Err(OAuthError::invalid_grant(
                "the refresh token has been revoked",
            ));
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::SigningAlgorithm;

    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    fn client(grants: Vec<GrantType>, client_type: ClientType) -> Application {
        Application {
            id: 7,
            client_id: "c".into(),
            client_secret_hash: None,
            client_secret_sealed: None,
            client_type,
            grant_types: grants,
            redirect_uris: vec!["https://a.example/cb".into()],
            post_logout_redirect_uris: vec![],
            allowed_origins: vec![],
            algorithm: SigningAlgorithm::RS256,
            userinfo_signed: false,
            skip_authorization: false,
            name: String::new(),
            owner_id: None,
            created_at: 0,
            updated_at: 0,
            security: Default::default(),
        }
    }

    fn code() -> AuthorizationCode {
        AuthorizationCode {
            dpop_jkt: None,
            sid: None,
            id: 1,
            application_id: 7,
            user_id: 3,
            redirect_uri: "https://a.example/cb".into(),
            redirect_uri_given: true,
            scope: "read".into(),
            resource: Default::default(),
            code_challenge: Some(CHALLENGE.into()),
            code_challenge_method: Some("S256".into()),
            nonce: None,
            claims: None,
            auth_time: 100,
            expires_at: 160,
            created_at: 100,
        }
    }

    fn parse(body: &str) -> Result<GrantRequest, OAuthError> {
        GrantRequest::parse(&Params::parse(body).unwrap())
    }

    #[test]
    fn grant_parsing() {
        assert!(matches!(
            parse("grant_type=client_credentials"),
            Ok(GrantRequest::ClientCredentials { scope: None })
        ));
        assert_eq!(
            parse("grant_type=magic").unwrap_err().code,
            ErrorCode::UnsupportedGrantType
        );
        assert_eq!(parse("").unwrap_err().code, ErrorCode::InvalidRequest);
        assert_eq!(
            parse("grant_type=authorization_code").unwrap_err().code,
            ErrorCode::InvalidRequest
        );
        assert_eq!(
            parse("grant_type=password&username=u").unwrap_err().code,
            ErrorCode::InvalidRequest
        );
    }

    #[test]
    fn grants_follow_the_registration() {
        let cc = parse("grant_type=client_credentials").unwrap();
        assert!(
            client_may_use(
                &client(vec![GrantType::ClientCredentials], ClientType::Confidential),
                &cc
            )
            .is_ok()
        );
        let err = client_may_use(
            &client(vec![GrantType::ClientCredentials], ClientType::Public),
            &cc,
        )
        .unwrap_err();
        assert_eq!(err.code, ErrorCode::UnauthorizedClient);
        let code = parse("grant_type=authorization_code&code=x").unwrap();
        assert!(
            client_may_use(
                &client(vec![GrantType::ClientCredentials], ClientType::Confidential),
                &code
            )
            .is_err()
        );
        let refresh = parse("grant_type=refresh_token&refresh_token=x").unwrap();
        assert!(
            client_may_use(
                &client(vec![GrantType::ClientCredentials], ClientType::Confidential),
                &refresh
            )
            .is_err()
        );
        assert!(
            client_may_use(
                &client(vec![GrantType::Password], ClientType::Public),
                &refresh
            )
            .is_ok()
        );
    }

    #[test]
    fn scopes_for_new_grants_and_refreshes() {
        let known = ["read", "write"];
        assert_eq!(
            new_grant_scope(None, &known, &["read"])
                .unwrap()
                .to_string(),
            "read"
        );
        assert_eq!(
            new_grant_scope(Some("admin"), &known, &[])
                .unwrap_err()
                .code,
            ErrorCode::InvalidScope
        );
        assert_eq!(
            refreshed_scope(Some("read"), "read write")
                .unwrap()
                .to_string(),
            "read"
        );
        assert_eq!(
            refreshed_scope(None, "read write").unwrap().to_string(),
            "read write"
        );
        assert_eq!(
            refreshed_scope(Some("read admin"), "read")
                .unwrap_err()
                .code,
            ErrorCode::InvalidScope
        );
    }

    #[test]
    fn code_checks() {
        let c = client(vec![GrantType::AuthorizationCode], ClientType::Public);
        let uri = Some("https://a.example/cb");
        assert_eq!(check_code(&code(), &c, 120, uri, Some(VERIFIER)), Ok(()));
        let err = |now, uri, verifier| {
            check_code(&code(), &c, now, uri, verifier)
                .unwrap_err()
                .code
        };
        assert_eq!(
            err(160, uri, Some(VERIFIER)),
            ErrorCode::InvalidGrant,
            "expired at expires_at"
        );
        assert_eq!(
            err(120, Some("https://a.example/other"), Some(VERIFIER)),
            ErrorCode::InvalidGrant
        );
        assert_eq!(err(120, None, Some(VERIFIER)), ErrorCode::InvalidGrant);
        let wrong = VERIFIER.replace('d', "D");
        assert_eq!(err(120, uri, Some(&wrong)), ErrorCode::InvalidGrant);
        assert_eq!(err(120, uri, None), ErrorCode::InvalidRequest);
        let other = Application { id: 8, ..c.clone() };
        assert_eq!(
            check_code(&code(), &other, 120, uri, Some(VERIFIER))
                .unwrap_err()
                .code,
            ErrorCode::InvalidGrant
        );
        let no_pkce = AuthorizationCode {
            code_challenge: None,
            code_challenge_method: None,
            redirect_uri_given: false,
            ..code()
        };
        assert_eq!(check_code(&no_pkce, &c, 120, None, None), Ok(()));
        assert_eq!(
            check_code(&no_pkce, &c, 120, None, Some(VERIFIER))
                .unwrap_err()
                .code,
            ErrorCode::InvalidGrant
        );
    }

    #[test]
    fn refresh_checks() {
        let c = client(vec![GrantType::AuthorizationCode], ClientType::Public);
        let rt = RefreshToken {
            dpop_jkt: None,
            sid: None,
            id: 1,
            application_id: 7,
            user_id: Some(3),
            access_token_id: None,
            family: "f".into(),
            scope: "read".into(),
            resource: Default::default(),
            expires_at: Some(1000),
            created_at: 0,
            revoked_at: None,
            rotated: false,
            authorization_code_id: None,
            auth_time: None,
            claims: None,
        };
        assert_eq!(check_refresh(&rt, &c, 10, 0), Ok(RefreshUse::Live));
        assert_eq!(
            check_refresh(&rt, &c, 1000, 0).unwrap_err().code,
            ErrorCode::InvalidGrant
        );
        let revoked = RefreshToken {
            revoked_at: Some(100),
            ..rt.clone()
        };
        assert_eq!(
            check_refresh(&revoked, &c, 110, 120).unwrap_err().code,
            ErrorCode::InvalidGrant,
            "revoked is final"
        );
        let rotated = RefreshToken {
            revoked_at: Some(100),
            rotated: true,
            ..rt.clone()
        };
        assert_eq!(
            check_refresh(&rotated, &c, 110, 120),
            Ok(RefreshUse::InGrace)
        );
        assert_eq!(
            check_refresh(&rotated, &c, 220, 120),
            Ok(RefreshUse::Replayed)
        );
        assert_eq!(
            check_refresh(&rotated, &c, 100, 0),
            Ok(RefreshUse::Replayed)
        );
        // Rotated by a concurrent request that read the clock a second later.
        assert_eq!(check_refresh(&rotated, &c, 99, 0), Ok(RefreshUse::Replayed));
        let other = Application { id: 9, ..c };
        assert_eq!(
            check_refresh(&rt, &other, 10, 0).unwrap_err().code,
            ErrorCode::InvalidGrant
        );
    }
}
