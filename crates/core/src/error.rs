//! OAuth 2.0 error codes (RFC 6749 §4.1.2.1, §5.2; OIDC Core §3.1.2.6; RFC 7009; RFC 8707).

use std::fmt;

/// An OAuth 2.0 or OpenID Connect error code: the value of the `error` parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    /// RFC 6749 §4.1.2.1, §5.2: a parameter is missing, repeated or malformed.
    InvalidRequest,
    /// RFC 6749 §5.2: client authentication failed (401).
    InvalidClient,
    /// RFC 6749 §5.2: the grant presented is invalid, expired, revoked or another client's.
    InvalidGrant,
    /// RFC 6749 §4.1.2.1, §5.2: the client is not registered for this grant or response type.
    UnauthorizedClient,
    /// RFC 6749 §5.2: the `grant_type` is not served here.
    UnsupportedGrantType,
    /// RFC 6749 §4.1.2.1: the `response_type` is not served here.
    UnsupportedResponseType,
    /// RFC 6749 §4.1.2.1, §5.2: a scope is unknown, malformed or beyond the grant.
    InvalidScope,
    /// RFC 6749 §4.1.2.1: the user said no; RFC 8628 §3.5: likewise, to a polling device.
    AccessDenied,
    /// RFC 6749 §4.1.2.1: an unexpected failure here (500 where a status can be sent).
    ServerError,
    /// RFC 6749 §4.1.2.1: overloaded or down for maintenance (503).
    TemporarilyUnavailable,
    /// OIDC Core §3.1.2.6: `prompt=none`, but the user must sign in.
    LoginRequired,
    /// OIDC Core §3.1.2.6: `prompt=none`, but the user must consent.
    ConsentRequired,
    /// OIDC Core §3.1.2.6: `prompt=none`, but some other page must be shown.
    InteractionRequired,
    /// OIDC Core §3.1.2.6: request objects (`request`) are not supported.
    RequestNotSupported,
    /// OIDC Core §3.1.2.6: `request_uri` is not supported.
    RequestUriNotSupported,
    /// RFC 9101 §7, RFC 9126 §4: the `request_uri` is unknown, used, expired or another client's.
    InvalidRequestUri,
    /// OIDC Core §3.1.2.6, RFC 9101 §6.3: the request object is unreadable,
    /// wrongly signed, or its claims about itself do not hold.
    InvalidRequestObject,
    /// RFC 9449 §5.2, §7.1: the DPoP proof is missing, malformed or not for this request.
    InvalidDpopProof,
    /// RFC 9449 §8: the proof must carry the server's nonce, sent in `DPoP-Nonce`.
    UseDpopNonce,
    /// RFC 6750 §3.1, for bearer tokens.
    InvalidToken,
    /// RFC 6750 §3.1: the token lacks a scope the request needs (403).
    InsufficientScope,
    /// RFC 8628 §3.5, to a polling device.
    AuthorizationPending,
    /// RFC 8628 §3.5: polled too soon; the interval grows by 5 seconds.
    SlowDown,
    /// RFC 8628 §3.5: the device code expired; the device must start over.
    ExpiredToken,
    /// RFC 7591 §3.2.2, from the registration endpoint.
    InvalidClientMetadata,
    /// RFC 7591 §3.2.2: a redirect URI is unacceptable.
    InvalidRedirectUri,
    /// RFC 8707 §2: a resource indicator that is malformed or not served.
    InvalidTarget,
}

impl ErrorCode {
    /// The code as sent in `error`.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidRequest => "invalid_request",
            ErrorCode::InvalidClient => "invalid_client",
            ErrorCode::InvalidGrant => "invalid_grant",
            ErrorCode::UnauthorizedClient => "unauthorized_client",
            ErrorCode::UnsupportedGrantType => "unsupported_grant_type",
            ErrorCode::UnsupportedResponseType => "unsupported_response_type",
            ErrorCode::InvalidScope => "invalid_scope",
            ErrorCode::AccessDenied => "access_denied",
            ErrorCode::ServerError => "server_error",
            ErrorCode::TemporarilyUnavailable => "temporarily_unavailable",
            ErrorCode::LoginRequired => "login_required",
            ErrorCode::ConsentRequired => "consent_required",
            ErrorCode::InteractionRequired => "interaction_required",
            ErrorCode::RequestNotSupported => "request_not_supported",
            ErrorCode::RequestUriNotSupported => "request_uri_not_supported",
            ErrorCode::InvalidRequestUri => "invalid_request_uri",
            ErrorCode::InvalidRequestObject => "invalid_request_object",
            ErrorCode::InvalidDpopProof => "invalid_dpop_proof",
            ErrorCode::UseDpopNonce => "use_dpop_nonce",
            ErrorCode::InvalidToken => "invalid_token",
            ErrorCode::InsufficientScope => "insufficient_scope",
            ErrorCode::AuthorizationPending => "authorization_pending",
            ErrorCode::SlowDown => "slow_down",
            ErrorCode::ExpiredToken => "expired_token",
            ErrorCode::InvalidClientMetadata => "invalid_client_metadata",
            ErrorCode::InvalidRedirectUri => "invalid_redirect_uri",
            ErrorCode::InvalidTarget => "invalid_target",
        }
    }

    /// The status of a token-endpoint error response (RFC 6749 §5.2).
    pub fn http_status(self) -> u16 {
        match self {
            ErrorCode::InvalidClient | ErrorCode::InvalidToken => 401,
            ErrorCode::InsufficientScope => 403,
            ErrorCode::ServerError => 500,
            ErrorCode::TemporarilyUnavailable => 503,
            _ => 400,
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error the protocol reports to the client, with a human-readable description.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthError {
    /// Sent as `error`.
    pub code: ErrorCode,
    /// Sent as `error_description`; only the characters RFC 6749 §5.2 allows.
    pub description: String,
}

impl OAuthError {
    /// An error whose description has each character RFC 6749 §5.2 forbids replaced by `?`.
    pub fn new(code: ErrorCode, description: impl Into<String>) -> Self {
        // RFC 6749 §5.2: error_description is %x20-21 / %x23-5B / %x5D-7E.
        let description = description
            .into()
            .chars()
            .map(|c| match c {
                ' ' | '!' | '#'..='[' | ']'..='~' => c,
                _ => '?',
            })
            .collect();
        OAuthError { code, description }
    }

    /// `invalid_request` (400): a parameter is missing, repeated or malformed.
    pub fn invalid_request(description: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidRequest, description)
    }

    /// `invalid_grant` (400): a code or refresh token that is wrong, expired or another client's.
    pub fn invalid_grant(description: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidGrant, description)
    }

    /// `invalid_scope` (400): a scope that is unknown, malformed or beyond the grant.
    pub fn invalid_scope(description: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidScope, description)
    }

    /// `invalid_client` (401): client authentication failed.
    pub fn invalid_client(description: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidClient, description)
    }

    /// `unauthorized_client` (400): the client is not registered for what it asks.
    pub fn unauthorized_client(description: impl Into<String>) -> Self {
        Self::new(ErrorCode::UnauthorizedClient, description)
    }

    /// `invalid_target` (400, RFC 8707 §2): a resource malformed, not served or beyond the grant.
    pub fn invalid_target(description: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidTarget, description)
    }
}

impl fmt::Display for OAuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.description)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptions_keep_to_the_allowed_characters() {
        let e = OAuthError::invalid_request("bad \"value\"\n\\ é");
        assert_eq!(e.description, "bad ?value??? ?");
    }

    #[test]
    fn statuses() {
        assert_eq!(ErrorCode::InvalidClient.http_status(), 401);
        assert_eq!(ErrorCode::InvalidGrant.http_status(), 400);
        assert_eq!(ErrorCode::InvalidToken.http_status(), 401);
        assert_eq!(ErrorCode::InsufficientScope.http_status(), 403);
    }
}
