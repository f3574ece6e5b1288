//! `response_type` (OAuth 2.0 Multiple Response Types): what the authorization
//! endpoint returns, where by default, and the grant it needs.

use crate::client::GrantType;
use crate::response::ResponseMode;

/// What the authorization endpoint returns: any non-empty set of `code`,
/// `id_token` and `token`, written in any order (OAuth 2.0 Multiple Response Types).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResponseType {
    /// An authorization code, redeemed at the token endpoint.
    pub code: bool,
    /// An ID token (OpenID Connect).
    pub id_token: bool,
    /// An access token, in the redirect itself.
    pub token: bool,
}

impl ResponseType {
    /// `code` alone: the authorization code flow.
    pub const CODE: ResponseType = ResponseType {
        code: true,
        id_token: false,
        token: false,
    };

    /// Reads a space-separated set; an unknown or repeated member is `None`.
    pub fn parse(text: &str) -> Option<Self> {
        let mut rt = ResponseType {
            code: false,
            id_token: false,
            token: false,
        };
        for part in text.split(' ') {
            let flag = match part {
                "code" => &mut rt.code,
                "id_token" => &mut rt.id_token,
                "token" => &mut rt.token,
                _ => return None,
            };
            if std::mem::replace(flag, true) {
                return None;
            }
        }
        Some(rt)
    }

    /// The canonical spelling, as discovery lists it.
    pub fn as_str(self) -> &'static str {
        match (self.code, self.id_token, self.token) {
            (true, false, false) => "code",
            (false, false, true) => "token",
            (false, true, false) => "id_token",
            (false, true, true) => "id_token token",
            (true, true, false) => "code id_token",
            (true, false, true) => "code token",
            _ => "code id_token token",
        }
    }

    /// Every response type Tollgate serves, canonically spelt.
    pub const SUPPORTED: [&str; 7] = [
        "code",
        "token",
        "id_token",
        "id_token token",
        "code id_token",
        "code token",
        "code id_token token",
    ];

    /// Where a response goes unless `response_mode` says otherwise: only a lone
    /// code may travel in the query (Multiple Response Types §5).
    pub fn default_mode(self) -> ResponseMode {
        if self.id_token || self.token {
            ResponseMode::Fragment
        } else {
            ResponseMode::Query
        }
    }

    /// The grant a client must hold to use it (DOT's names).
    pub fn grant(self) -> GrantType {
        match (self.code, self.id_token || self.token) {
            (true, false) => GrantType::AuthorizationCode,
            (true, true) => GrantType::OpenIdHybrid,
            (false, _) => GrantType::Implicit,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn response_types_parse_in_any_order_and_pick_mode_and_grant() {
        for (text, canonical, mode, grant) in [
            (
                "code",
                "code",
                ResponseMode::Query,
                GrantType::AuthorizationCode,
            ),
            (
                "token",
                "token",
                ResponseMode::Fragment,
                GrantType::Implicit,
            ),
            (
                "id_token",
                "id_token",
                ResponseMode::Fragment,
                GrantType::Implicit,
            ),
            (
                "token id_token",
                "id_token token",
                ResponseMode::Fragment,
                GrantType::Implicit,
            ),
            (
                "id_token code",
                "code id_token",
                ResponseMode::Fragment,
                GrantType::OpenIdHybrid,
            ),
            (
                "code token",
                "code token",
                ResponseMode::Fragment,
                GrantType::OpenIdHybrid,
            ),
            (
                "token code id_token",
                "code id_token token",
                ResponseMode::Fragment,
                GrantType::OpenIdHybrid,
            ),
        ] {
            let rt = ResponseType::parse(text).unwrap();
            assert_eq!(
                (rt.as_str(), rt.default_mode(), rt.grant()),
                (canonical, mode, grant),
                "{text}"
            );
            assert!(ResponseType::SUPPORTED.contains(&rt.as_str()));
        }
        for bad in ["", "code code", "code  token", "none", "Code", "code,token"] {
            assert_eq!(ResponseType::parse(bad), None, "{bad:?}");
        }
    }
}
