//! Registration-time rules for redirect URIs (RFC 6749 §3.1.2, RFC 9700 §2.1).
//! The same rules check post-logout redirect URIs.

use url::Url;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RedirectUriError {
    #[error("`{0}` is not an absolute URI")]
    NotAbsolute(String),
    #[error("`{0}` has a fragment; redirect URIs must not (RFC 6749 §3.1.2)")]
    Fragment(String),
    #[error("`{0}` carries user information, which is never allowed")]
    UserInfo(String),
    #[error("`{uri}` uses the scheme `{scheme}`, which is not in allowed_redirect_uri_schemes")]
    Scheme { uri: String, scheme: String },
    #[error("`{0}` has no host")]
    NoHost(String),
    #[error("`{0}` contains spaces, control or non-ASCII characters; percent-encode them")]
    Characters(String),
}

/// Checks one URI that a client wants to register.
pub fn validate_registered(uri: &str, allowed_schemes: &[String]) -> Result<(), RedirectUriError> {
    let owned = || uri.to_owned();
    // `Url` would silently drop an empty fragment, so look at the raw text first.
    if uri.contains('#') {
        return Err(RedirectUriError::Fragment(owned()));
    }
    // `Url` quietly strips tabs, newlines and edge spaces; the stored text must be exact.
    if uri.bytes().any(|b| b <= b' ' || b >= 0x7f) {
        return Err(RedirectUriError::Characters(owned()));
    }
    let url = Url::parse(uri).map_err(|_| RedirectUriError::NotAbsolute(owned()))?;
    if !allowed_schemes.iter().any(|s| s == url.scheme()) {
        return Err(RedirectUriError::Scheme {
            uri: owned(),
            scheme: url.scheme().to_owned(),
        });
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(RedirectUriError::UserInfo(owned()));
    }
    // `Url` would also turn `https:///cb` into `https://cb/`: demand a literal authority.
    let authority = uri.split_once("://").map(|(_, rest)| rest);
    if matches!(url.scheme(), "http" | "https")
        && authority.is_none_or(|a| a.is_empty() || a.starts_with('/'))
    {
        return Err(RedirectUriError::NoHost(owned()));
    }
    Ok(())
}

/// Splits a space-separated list (DOT's storage format) into its URIs.
pub fn split_list(text: &str) -> Vec<String> {
    text.split_whitespace().map(str::to_owned).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn schemes() -> Vec<String> {
        vec!["http".into(), "https".into(), "com.example.app".into()]
    }

    #[test]
    fn accepts_plain_and_private_use_uris() {
        for ok in [
            "https://app.example/cb",
            "https://app.example/cb?x=1",
            "http://127.0.0.1/cb",
            "com.example.app:/oauth2redirect",
        ] {
            assert_eq!(validate_registered(ok, &schemes()), Ok(()), "{ok}");
        }
    }

    #[test]
    fn rejects_each_bad_shape_with_its_reason() {
        let s = schemes();
        assert!(matches!(
            validate_registered("/cb", &s),
            Err(RedirectUriError::NotAbsolute(_))
        ));
        assert!(matches!(
            validate_registered("https://a.example/cb#", &s),
            Err(RedirectUriError::Fragment(_))
        ));
        assert!(matches!(
            validate_registered("https://u@a.example/cb", &s),
            Err(RedirectUriError::UserInfo(_))
        ));
        assert!(matches!(
            validate_registered("ftp://a.example/cb", &s),
            Err(RedirectUriError::Scheme { .. })
        ));
        assert!(matches!(
            validate_registered("https:///cb", &s),
            Err(RedirectUriError::NoHost(_))
        ));
        assert!(matches!(
            validate_registered("https:/cb", &s),
            Err(RedirectUriError::NoHost(_))
        ));
        assert!(matches!(
            validate_registered("https://a.example/c\nb", &s),
            Err(RedirectUriError::Characters(_))
        ));
        assert!(matches!(
            validate_registered(" https://a.example/cb", &s),
            Err(RedirectUriError::Characters(_))
        ));
    }

    proptest! {
        #[test]
        fn never_panics_and_never_accepts_a_fragment(uri in "\\PC*") {
            if validate_registered(&uri, &schemes()).is_ok() {
                prop_assert!(!uri.contains('#'));
            }
        }
    }
}
