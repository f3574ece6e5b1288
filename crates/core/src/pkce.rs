//! Proof Key for Code Exchange (RFC 7636).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::error::OAuthError;

/// A `code_challenge_method` (RFC 7636 §4.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// The challenge is BASE64URL(SHA256(verifier)) (RFC 7636 §4.2).
    S256,
    /// The challenge is the verifier itself; refused unless `plain` is allowed.
    Plain,
}

impl Method {
    /// The parameter value: `S256` or `plain`.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::S256 => "S256",
            Method::Plain => "plain",
        }
    }

    /// Reads a parameter value, case-sensitively; anything else is `None`.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "S256" => Some(Method::S256),
            "plain" => Some(Method::Plain),
            _ => None,
        }
    }
}

/// RFC 7636 §4.1: 43–128 characters of `[A-Z] / [a-z] / [0-9] / "-" / "." / "_" / "~"`.
/// A challenge has the same shape (§4.2).
pub fn is_well_formed(value: &str) -> bool {
    (43..=128).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

/// Checks the challenge part of an authorization request; `method` absent means
/// `plain` (RFC 7636 §4.3), which is refused unless `plain_allowed`.
pub fn validate_challenge(
    challenge: &str,
    method: Option<&str>,
    plain_allowed: bool,
) -> Result<Method, OAuthError> {
    let method = match method {
        None => Method::Plain,
        Some(m) => Method::parse(m).ok_or_else(|| {
            OAuthError::invalid_request(format!("unsupported code_challenge_method `{m}`"))
        })?,
    };
    if method == Method::Plain && !plain_allowed {
        return Err(OAuthError::invalid_request(
            "code_challenge_method must be S256 (plain is not allowed)",
        ));
    }
    if !is_well_formed(challenge) {
        return Err(OAuthError::invalid_request("malformed code_challenge"));
    }
    Ok(method)
}

/// Does the verifier answer the challenge? Compared in constant time.
pub fn verify(verifier: &str, challenge: &str, method: Method) -> bool {
    if !is_well_formed(verifier) {
        return false;
    }
    let derived = match method {
        Method::S256 => URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())),
        Method::Plain => verifier.to_owned(),
    };
    derived.as_bytes().ct_eq(challenge.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    // RFC 7636 Appendix B.
    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    #[test]
    fn rfc_example_verifies() {
        assert!(verify(VERIFIER, CHALLENGE, Method::S256));
        assert!(!verify(VERIFIER, CHALLENGE, Method::Plain));
        assert!(!verify(
            &VERIFIER.replace('d', "e"),
            CHALLENGE,
            Method::S256
        ));
        assert!(verify(VERIFIER, VERIFIER, Method::Plain));
    }

    #[test]
    fn methods() {
        assert_eq!(
            validate_challenge(CHALLENGE, Some("S256"), false),
            Ok(Method::S256)
        );
        assert!(
            validate_challenge(CHALLENGE, None, false).is_err(),
            "absent means plain"
        );
        assert_eq!(validate_challenge(CHALLENGE, None, true), Ok(Method::Plain));
        assert!(validate_challenge(CHALLENGE, Some("S512"), true).is_err());
        assert!(validate_challenge("short", Some("S256"), true).is_err());
    }

    proptest! {
        #[test]
        fn any_well_formed_verifier_verifies_its_own_s256_challenge(v in "[A-Za-z0-9._~-]{43,128}") {
            let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(v.as_bytes()));
            prop_assert!(verify(&v, &challenge, Method::S256));
        }

        #[test]
        fn verify_never_panics(v in "\\PC*", c in "\\PC*") {
            let _ = verify(&v, &c, Method::S256);
        }
    }
}
