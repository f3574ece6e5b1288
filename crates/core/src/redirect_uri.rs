//! Registration-time rules for redirect URIs (RFC 6749 §3.1.2, RFC 9700 §2.1).
//! The same rules check post-logout redirect URIs.

use url::Url;

/// Why a URI cannot be registered as a redirect or post-logout redirect URI.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RedirectUriError {
    /// Not an absolute URI (RFC 6749 §3.1.2).
    #[error("`{0}` is not an absolute URI")]
    NotAbsolute(String),
    /// Has a fragment, even an empty one (RFC 6749 §3.1.2).
    #[error("`{0}` has a fragment; redirect URIs must not (RFC 6749 §3.1.2)")]
    Fragment(String),
    /// Carries a user name or password before the host.
    #[error("`{0}` carries user information, which is never allowed")]
    UserInfo(String),
    /// Uses a scheme not in `allowed_redirect_uri_schemes`.
    #[error("`{uri}` uses the scheme `{scheme}`, which is not in allowed_redirect_uri_schemes")]
    Scheme {
        /// The URI refused.
        uri: String,
        /// Its scheme, which the setting does not list.
        scheme: String,
    },
    /// An http or https URI without a literal host.
    #[error("`{0}` has no host")]
    NoHost(String),
    /// Has spaces, control or non-ASCII characters, which must be percent-encoded.
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

/// The parts of a URI reference as RFC 3986 Appendix B splits it, without any
/// normalisation: matching compares what the client registered, byte for byte.
#[derive(Debug, PartialEq, Eq)]
struct Parts<'a> {
    scheme: &'a str,
    userinfo: Option<&'a str>,
    host: Option<&'a str>,
    port: Option<&'a str>,
    path: &'a str,
    query: Option<&'a str>,
}

fn split(uri: &str) -> Option<Parts<'_>> {
    if uri.contains('#') {
        return None;
    }
    let (scheme, rest) = uri.split_once(':')?;
    if scheme.is_empty() || scheme.contains(['/', '?']) {
        return None;
    }
    let (rest, query) = match rest.split_once('?') {
        Some((r, q)) => (r, Some(q)),
        None => (rest, None),
    };
    let (authority, path) = match rest.strip_prefix("//") {
        Some(after) => match after.find('/') {
            Some(i) => (Some(&after[..i]), &after[i..]),
            None => (Some(after), ""),
        },
        None => (None, rest),
    };
    let (userinfo, hostport) = match authority {
        Some(a) => match a.rsplit_once('@') {
            Some((u, h)) => (Some(u), Some(h)),
            None => (None, Some(a)),
        },
        None => (None, None),
    };
    let (host, port) = match hostport {
        // An IPv6 literal keeps its colons inside the brackets.
        Some(h) if h.starts_with('[') => match h.find(']') {
            Some(end) => match &h[end + 1..] {
                "" => (Some(&h[..=end]), None),
                p => (Some(&h[..=end]), Some(p.strip_prefix(':')?)),
            },
            None => return None,
        },
        Some(h) => match h.rsplit_once(':') {
            Some((host, port)) => (Some(host), Some(port)),
            None => (Some(h), None),
        },
        None => (None, None),
    };
    Some(Parts {
        scheme,
        userinfo,
        host,
        port,
        path,
        query,
    })
}

/// Registrations on these hosts accept any port (RFC 8252 §7.3): a native app
/// listens on whatever port the OS gives it.
fn is_loopback_registration(parts: &Parts<'_>) -> bool {
    parts.scheme == "http" && matches!(parts.host, Some("127.0.0.1" | "[::1]"))
}

/// DOT 3.4.1's exact matcher (RFC 9700 §2.1): same scheme, host (case-insensitive),
/// port, path and query; no fragment or userinfo in the request; any port for an
/// `http://127.0.0.1` or `http://[::1]` registration.
pub fn matches(registered: &str, requested: &str) -> bool {
    let (Some(reg), Some(req)) = (split(registered), split(requested)) else {
        return false;
    };
    if req.userinfo.is_some() || reg.userinfo.is_some() {
        return false;
    }
    let host_equal = match (reg.host, req.host) {
        (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
        (None, None) => true,
        _ => false,
    };
    // RFC 8252 §7.3 lets only the port number vary: one a client can listen on.
    let any_port = is_loopback_registration(&reg)
        && reg.port.is_none()
        && req.port.is_none_or(|p| {
            p.bytes().all(|b| b.is_ascii_digit()) && p.parse::<u16>().is_ok_and(|n| n != 0)
        });
    let port_equal = reg.port == req.port || any_port;
    reg.scheme.eq_ignore_ascii_case(req.scheme)
        && host_equal
        && port_equal
        && reg.path == req.path
        && reg.query == req.query
}

/// Why no redirect URI could be chosen for an authorization request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RedirectResolution {
    /// No `redirect_uri` was sent, and the client has not exactly one registered.
    #[error("the redirect_uri parameter is missing and the client has several registered")]
    Missing,
    /// The `redirect_uri` sent matches none registered ([`matches()`]).
    #[error("the redirect_uri does not match any registered for this client")]
    Unregistered,
}

/// The URI to send the user back to: the requested one if it matches a
/// registration, the only registration if none was requested.
pub fn resolve(
    registered: &[String],
    requested: Option<&str>,
) -> Result<String, RedirectResolution> {
    match requested {
        Some(uri) if registered.iter().any(|r| matches(r, uri)) => Ok(uri.to_owned()),
        Some(_) => Err(RedirectResolution::Unregistered),
        None => match registered {
            [only] => Ok(only.clone()),
            _ => Err(RedirectResolution::Missing),
        },
    }
}

#[cfg(test)]
mod matching_tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn exact_uri_matches() {
        assert!(matches("https://a.example/cb", "https://a.example/cb"));
        assert!(matches(
            "https://a.example/cb?x=1",
            "https://a.example/cb?x=1"
        ));
        assert!(matches("https://A.example/cb", "https://a.EXAMPLE/cb"));
        assert!(matches("com.example.app:/oauth", "com.example.app:/oauth"));
    }

    #[test]
    fn anything_else_does_not() {
        let reg = "https://a.example/cb?x=1";
        for req in [
            "https://a.example/cb",
            "https://a.example/cb?x=1&next=evil",
            "https://a.example/cb?x=1#",
            "https://a.example/cb?x=1#frag",
            "https://u@a.example/cb?x=1",
            "https://a.example:443/cb?x=1",
            "https://a.example/cb/?x=1",
            "https://a.example/CB?x=1",
            "https://a.example/cb;p?x=1",
            "http://a.example/cb?x=1",
            "https://a.example.evil/cb?x=1",
        ] {
            assert!(!matches(reg, req), "{req}");
        }
    }

    #[test]
    fn loopback_registrations_accept_any_port() {
        assert!(matches("http://127.0.0.1/cb", "http://127.0.0.1:51234/cb"));
        assert!(matches("http://[::1]/cb", "http://[::1]:8080/cb"));
        assert!(!matches(
            "http://127.0.0.1/cb",
            "http://127.0.0.1:51234/other"
        ));
        assert!(!matches("http://localhost/cb", "http://localhost:51234/cb"));
        assert!(!matches(
            "http://127.0.0.1/cb",
            "http://127.0.0.1:1 https:/cb"
        ));
        assert!(!matches("http://127.0.0.1/cb", "http://127.0.0.1:/cb"));
        for port in ["0", "00", "65536", "99999999999999999999", "+80"] {
            assert!(
                !matches(
                    "http://127.0.0.1/cb",
                    &format!("http://127.0.0.1:{port}/cb")
                ),
                "{port}"
            );
        }
        assert!(matches("http://127.0.0.1/cb", "http://127.0.0.1:65535/cb"));
        assert!(!matches(
            "http://127.0.0.1:8000/cb",
            "http://127.0.0.1:9000/cb"
        ));
        assert!(!matches(
            "https://127.0.0.1/cb",
            "https://127.0.0.1:9000/cb"
        ));
    }

    #[test]
    fn resolution() {
        let one = vec!["https://a.example/cb".to_owned()];
        let two = vec![
            "https://a.example/cb".to_owned(),
            "https://a.example/b".to_owned(),
        ];
        assert_eq!(resolve(&one, None), Ok("https://a.example/cb".into()));
        assert_eq!(resolve(&two, None), Err(RedirectResolution::Missing));
        assert_eq!(resolve(&[], None), Err(RedirectResolution::Missing));
        assert_eq!(
            resolve(&two, Some("https://a.example/b")),
            Ok("https://a.example/b".into())
        );
        assert_eq!(
            resolve(&two, Some("https://a.example/c")),
            Err(RedirectResolution::Unregistered)
        );
    }

    proptest! {
        #[test]
        fn matching_never_panics_and_is_reflexive_for_clean_uris(
            uri in "[a-z]{1,5}://[a-z0-9.\\[\\]:@]{0,20}(/[a-z0-9;]{0,8}){0,3}(\\?[a-z=&]{0,10})?"
        ) {
            let _ = matches(&uri, &uri);
            if !uri.contains('@') && split(&uri).is_some() {
                prop_assert!(matches(&uri, &uri));
            }
        }

        #[test]
        fn split_never_panics(text in "\\PC*") {
            let _ = split(&text);
            let _ = matches(&text, &text);
        }
    }
}
