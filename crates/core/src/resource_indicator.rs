//! Resource indicators (RFC 8707): the protected resources a grant and its
//! access tokens are for, which become the tokens' audience (`aud`).

use std::fmt;

use url::Url;

use crate::error::OAuthError;

/// How many resources one request may name.
const MOST: usize = 16;

/// The resources a grant or token is for, each once, in a stable order.
/// Empty: unrestricted (no `aud`), as when a client names none.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Resources(Vec<String>);

impl Resources {
    /// The `resource` values of a request (RFC 8707 §2): each an absolute URI
    /// with a host, without a fragment or user information. With `served` not
    /// empty, each must also be one of them, or lie under one.
    pub fn requested(values: &[String], served: &[String]) -> Result<Self, OAuthError> {
        if values.len() > MOST {
            return Err(OAuthError::invalid_target(format!(
                "at most {MOST} resources may be requested"
            )));
        }
        for value in values {
            let uri = parse(value).ok_or_else(|| {
                OAuthError::invalid_target(format!(
                    "resource `{value}` is not an absolute URI without a fragment"
                ))
            })?;
            if !served.is_empty()
                && !served
                    .iter()
                    .any(|s| parse(s).is_some_and(|s| covers(&s, &uri)))
            {
                return Err(OAuthError::invalid_target(format!(
                    "resource `{value}` is not served here"
                )));
            }
        }
        let mut list = values.to_vec();
        list.sort();
        list.dedup();
        Ok(Resources(list))
    }

    /// A list as stored (space-separated, as [`Display`](fmt::Display) writes it).
    pub fn stored(text: &str) -> Self {
        Resources(text.split_whitespace().map(str::to_owned).collect())
    }

    /// True for an unrestricted grant or token: one without `aud`.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Each resource URI, in sorted order.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }

    /// The audience of a token issued from a grant for `self` (RFC 8707 §2.2):
    /// the resources requested, which must be the grant's (any, for an
    /// unrestricted grant), or when none are, all of the grant's.
    pub fn narrow(&self, requested: Resources) -> Result<Resources, OAuthError> {
        if requested.is_empty() {
            return Ok(self.clone());
        }
        if let Some(other) = requested
            .iter()
            .find(|r| !self.is_empty() && !self.0.iter().any(|g| g == r))
        {
            return Err(OAuthError::invalid_target(format!(
                "resource `{other}` was not part of the grant"
            )));
        }
        Ok(requested)
    }

    /// Whether a consent remembered for these resources covers a request for
    /// `requested`: a consent for none in particular covers any; otherwise the
    /// request must name only consented ones (naming none asks for all).
    pub fn covers(&self, requested: &Resources) -> bool {
        self.is_empty()
            || (!requested.is_empty() && requested.iter().all(|r| self.0.iter().any(|c| c == r)))
    }

    /// Whether a token with this audience may be used at `resource` (the URI a
    /// resource server answers to): an unrestricted token anywhere, a restricted
    /// one where one of its resources is that URI or a path above it (DOT's
    /// `validate_resource_as_url_prefix`).
    pub fn admit(&self, resource: &str) -> bool {
        if self.is_empty() {
            return true;
        }
        let Some(resource) = parse(resource) else {
            return false;
        };
        self.iter()
            .filter_map(parse)
            .any(|audience| covers(&audience, &resource))
    }
}

impl fmt::Display for Resources {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.join(" "))
    }
}

impl FromIterator<String> for Resources {
    fn from_iter<I: IntoIterator<Item = String>>(iter: I) -> Self {
        let mut list: Vec<String> = iter.into_iter().collect();
        list.sort();
        list.dedup();
        Resources(list)
    }
}

/// Whether a URI path has a `.` or `..` segment, written plainly or
/// percent-encoded: a URL parser would resolve it, a router might not.
pub fn has_dot_segment(path: &str) -> bool {
    path.split('/').any(|segment| {
        let plain = segment.to_ascii_lowercase().replace("%2e", ".");
        plain == "." || plain == ".."
    })
}

/// An acceptable resource indicator, parsed.
fn parse(value: &str) -> Option<Url> {
    // The list is stored space-separated, and a URI has no spaces anyway.
    if value.contains('#') || value.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return None;
    }
    let uri = Url::parse(value).ok()?;
    let acceptable = !uri.cannot_be_a_base()
        && uri.host().is_some()
        && uri.username().is_empty()
        && uri.password().is_none();
    acceptable.then_some(uri)
}

/// Whether `base` is `uri` or a path above it on the same origin.
fn covers(base: &Url, uri: &Url) -> bool {
    if base.scheme() != uri.scheme()
        || base.host() != uri.host()
        || base.port_or_known_default() != uri.port_or_known_default()
        || base.query().is_some_and(|q| Some(q) != uri.query())
    {
        return false;
    }
    let (above, below) = (base.path(), uri.path());
    match below.strip_prefix(above) {
        Some(rest) => rest.is_empty() || above.ends_with('/') || rest.starts_with('/'),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;
    use proptest::prelude::*;

    fn list(values: &[&str]) -> Vec<String> {
        values.iter().map(|v| (*v).to_owned()).collect()
    }

    #[test]
    fn absolute_uris_without_fragment_or_user() {
        for good in ["https://api.example/", "https://api.example/v1?tenant=a"] {
            assert!(Resources::requested(&list(&[good]), &[]).is_ok(), "{good}");
        }
        for bad in [
            "/relative",
            "api.example",
            "https://api.example/#",
            "https://api.example/#x",
            "https://user@api.example/",
            "mailto:someone@example.com",
            "https://api.example/a b",
            // DOT's rule too: a resource has a host to send the token to.
            "urn:x:y",
        ] {
            let err = Resources::requested(&list(&[bad]), &[]).unwrap_err();
            assert_eq!(err.code, ErrorCode::InvalidTarget, "{bad}");
        }
    }

    #[test]
    fn served_resources_limit_what_may_be_asked() {
        let served = list(&["https://api.example/v1", "https://files.example/"]);
        for ok in [
            "https://api.example/v1",
            "https://api.example/v1/notes",
            "https://files.example/x",
        ] {
            assert!(Resources::requested(&list(&[ok]), &served).is_ok(), "{ok}");
        }
        for refused in [
            "https://api.example/v10",
            "https://api.example/",
            "http://files.example/x",
        ] {
            let err = Resources::requested(&list(&[refused]), &served).unwrap_err();
            assert_eq!(err.code, ErrorCode::InvalidTarget, "{refused}");
        }
    }

    #[test]
    fn dot_segments_are_found_however_written() {
        for dotted in ["/a/../b", "/a/./b", "/a/%2e%2E/b", "/a/.%2e", "..", "/%2E"] {
            assert!(has_dot_segment(dotted), "{dotted}");
        }
        for plain in ["/a/b", "/a/.b/c", "/a/b..c", "/"] {
            assert!(!has_dot_segment(plain), "{plain}");
        }
    }

    #[test]
    fn too_many_is_refused() {
        let many: Vec<String> = (0..17).map(|i| format!("https://r{i}.example/")).collect();
        assert!(Resources::requested(&many, &[]).is_err());
        assert!(Resources::requested(&many[..16], &[]).is_ok());
    }

    #[test]
    fn stored_round_trip_sorted_once() {
        let r = Resources::requested(
            &list(&[
                "https://b.example/",
                "https://a.example/",
                "https://b.example/",
            ]),
            &[],
        )
        .unwrap();
        assert_eq!(r.to_string(), "https://a.example/ https://b.example/");
        assert_eq!(Resources::stored(&r.to_string()), r);
        assert!(Resources::stored("").is_empty());
    }

    #[test]
    fn narrowing_keeps_to_the_grant() {
        let grant = Resources::stored("https://a.example/ https://b.example/");
        assert_eq!(grant.narrow(Resources::default()).unwrap(), grant);
        let one = Resources::stored("https://a.example/");
        assert_eq!(grant.narrow(one.clone()).unwrap(), one);
        let other = Resources::stored("https://c.example/");
        assert_eq!(
            grant.narrow(other.clone()).unwrap_err().code,
            ErrorCode::InvalidTarget
        );
        // An unrestricted grant may be narrowed to anything acceptable.
        assert_eq!(Resources::default().narrow(other.clone()).unwrap(), other);
    }

    #[test]
    fn consent_covers_the_resources_it_was_given_for() {
        let all = Resources::default();
        let a = Resources::stored("https://a.example/");
        let ab = Resources::stored("https://a.example/ https://b.example/");
        assert!(all.covers(&all) && all.covers(&a));
        assert!(ab.covers(&a) && a.covers(&a));
        assert!(!a.covers(&ab), "more than consented");
        assert!(!a.covers(&all), "unrestricted is more than any resource");
    }

    #[test]
    fn audience_admits_its_resource_and_paths_below() {
        let aud = Resources::stored("https://api.example/v1");
        assert!(aud.admit("https://api.example/v1"));
        assert!(aud.admit("https://api.example/v1/notes"));
        assert!(aud.admit("https://API.example:443/v1/notes"));
        assert!(!aud.admit("https://api.example/v10"));
        assert!(!aud.admit("https://api.example/"));
        assert!(!aud.admit("http://api.example/v1"));
        assert!(!aud.admit("https://api.example:8443/v1"));
        assert!(!aud.admit("https://evil.example/v1"));
        assert!(!aud.admit("not a uri"));
        assert!(Resources::stored("https://api.example/").admit("https://api.example/anything"));
        assert!(Resources::default().admit("https://anywhere.example/"));
    }

    proptest! {
        #[test]
        fn requested_never_panics(values in proptest::collection::vec("\\PC*", 0..4)) {
            let _ = Resources::requested(&values, &[]);
        }

        #[test]
        fn admit_never_panics(aud in "\\PC*", uri in "\\PC*") {
            let _ = Resources::stored(&aud).admit(&uri);
        }
    }
}
