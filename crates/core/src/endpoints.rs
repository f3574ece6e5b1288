//! Where an issuer's URLs are: as relying parties and browsers see them, and as
//! the router sees them once a reverse proxy (or an application's
//! `Router::nest`) has stripped `public_path` from the front.
//!
//! DOT's rule: the issuer is where the provider's URLs are included, so an
//! issuer with a path has its endpoints right below it (`https://host/o` →
//! `https://host/o/authorize/`), and a bare origin keeps them below `/o/`
//! (`https://host` → `https://host/o/authorize/`). OIDC Discovery is at the
//! issuer plus `/.well-known/openid-configuration`; RFC 8414 metadata at
//! `/.well-known/oauth-authorization-server` plus the issuer's path (§3), and,
//! as DOT serves it, below the issuer too.

/// Where endpoints live below an issuer without a path (DOT's conventional `o/`).
pub const DEFAULT_MOUNT: &str = "/o";
/// OIDC Discovery 1.0 §4, after the issuer.
pub const OPENID_CONFIGURATION: &str = "/.well-known/openid-configuration";
/// RFC 8414 §3, before the issuer's path.
pub const AUTHORIZATION_SERVER_METADATA: &str = "/.well-known/oauth-authorization-server";

/// An issuer's URLs, checked once: every URL built here is one the router serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoints {
    /// `https://host[:port]`.
    origin: String,
    /// The issuer's path: `""`, `/o`, `/auth`, `/auth/o`.
    issuer_path: String,
    /// The front of `issuer_path` removed before requests reach the router.
    public_path: String,
    /// The endpoints' base as the router sees it.
    mount: String,
    /// `public_path` + `mount`: the endpoints' base as a browser sees it.
    public_base: String,
}

impl Endpoints {
    /// The URLs of `issuer` (an absolute URL in canonical form, no trailing
    /// `/`), behind a proxy or nest that strips `public_path` (`""` for none;
    /// else `/segment…`, the start of the issuer's path).
    pub fn new(issuer: &str, public_path: &str) -> Result<Self, String> {
        let url = url::Url::parse(issuer).map_err(|e| format!("`{issuer}` is not a URL ({e})"))?;
        let origin = url.origin().ascii_serialization();
        let issuer_path = url.path().trim_end_matches('/').to_owned();
        if format!("{origin}{issuer_path}") != issuer {
            return Err(format!(
                "`{issuer}` is not in canonical form; write it `{origin}{issuer_path}`, as relying parties will compare it byte for byte"
            ));
        }
        check_path(&issuer_path).map_err(|p| format!("the path of `{issuer}` {p}"))?;
        check_path(public_path).map_err(|p| format!("public_path `{public_path}` {p}"))?;
        let Some(local) = strip_segments(&issuer_path, public_path) else {
            return Err(format!(
                "public_path `{public_path}` must be the start of the issuer's path (`{issuer_path}`): it is the part a proxy strips from the issuer's URLs"
            ));
        };
        if local.split('/').any(|segment| segment == ".well-known") {
            return Err(format!(
                "the issuer's path `{issuer_path}` would put the endpoints among the /.well-known documents"
            ));
        }
        let mount = if local.is_empty() {
            DEFAULT_MOUNT
        } else {
            local
        };
        Ok(Endpoints {
            origin,
            mount: mount.to_owned(),
            public_base: format!("{public_path}{mount}"),
            issuer_path,
            public_path: public_path.to_owned(),
        })
    }

    /// The absolute URL of an endpoint below the mount: `url("/token/")`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{}{path}", self.origin, self.public_base)
    }

    /// The base of the endpoints' paths as a browser sees them, for links,
    /// forms and redirects: `/o`, `/auth/o`.
    pub fn public_base(&self) -> &str {
        &self.public_base
    }

    /// The path of an endpoint as a browser sees it: `path("/login/")`.
    pub fn path(&self, path: &str) -> String {
        format!("{}{path}", self.public_base)
    }

    /// The base of the endpoints' paths as the router sees them.
    pub fn mount(&self) -> &str {
        &self.mount
    }

    /// The issuer's path below `public_path`, as the router sees it.
    fn local_issuer_path(&self) -> &str {
        &self.issuer_path[self.public_path.len()..]
    }

    /// RFC 8414's path for the issuer at the host's root, when it lies outside
    /// what the router sees (a `public_path` is stripped): the application or
    /// proxy in front must route it.
    pub fn host_metadata_path(&self) -> Option<String> {
        (!self.public_path.is_empty())
            .then(|| format!("{AUTHORIZATION_SERVER_METADATA}{}", self.issuer_path))
    }

    /// The router's paths of the OIDC Discovery document: after the issuer
    /// (the one OIDC defines), and below the mount (DOT's place for it).
    pub fn discovery_paths(&self) -> Vec<String> {
        dedup([
            format!("{}{OPENID_CONFIGURATION}", self.local_issuer_path()),
            format!("{}{OPENID_CONFIGURATION}", self.mount),
        ])
    }

    /// The router's paths of the RFC 8414 document: the well-known prefix
    /// before the issuer's path (§3; the whole path too, for a proxy that
    /// forwards that host-root URL as it is), and after the issuer and the
    /// mount, as DOT serves it.
    pub fn metadata_paths(&self) -> Vec<String> {
        dedup([
            format!(
                "{AUTHORIZATION_SERVER_METADATA}{}",
                self.local_issuer_path()
            ),
            format!("{AUTHORIZATION_SERVER_METADATA}{}", self.issuer_path),
            format!(
                "{}{AUTHORIZATION_SERVER_METADATA}",
                self.local_issuer_path()
            ),
            format!("{}{AUTHORIZATION_SERVER_METADATA}", self.mount),
        ])
    }
}

/// `path` less `prefix`, when `prefix` is made of whole leading segments of it.
fn strip_segments<'a>(path: &'a str, prefix: &str) -> Option<&'a str> {
    let rest = path.strip_prefix(prefix)?;
    (rest.is_empty() || rest.starts_with('/')).then_some(rest)
}

/// `""` or `/a/b`: segments of unreserved characters (RFC 3986 §2.3), so a
/// path is the same encoded or not and means nothing to the router's syntax.
fn check_path(path: &str) -> Result<(), String> {
    if path.is_empty() {
        return Ok(());
    }
    let Some(rest) = path.strip_prefix('/') else {
        return Err("must start with `/`".to_owned());
    };
    for segment in rest.split('/') {
        if segment.is_empty() || segment == "." || segment == ".." {
            return Err("must not have empty, `.` or `..` segments, nor end with `/`".to_owned());
        }
        if !segment
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | '~'))
        {
            return Err(
                "may hold only letters, digits, `-`, `.`, `_` and `~` between its `/`".to_owned(),
            );
        }
    }
    Ok(())
}

fn dedup<const N: usize>(paths: [String; N]) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(N);
    for path in paths {
        if !out.contains(&path) {
            out.push(path);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(issuer: &str, public_path: &str) -> Endpoints {
        Endpoints::new(issuer, public_path).unwrap()
    }

    #[test]
    fn a_bare_origin_keeps_the_endpoints_below_o() {
        let e = at("http://127.0.0.1:8000", "");
        assert_eq!(e.url("/token/"), "http://127.0.0.1:8000/o/token/");
        assert_eq!(e.mount(), "/o");
        assert_eq!(e.public_base(), "/o");
        assert_eq!(
            e.discovery_paths(),
            [
                "/.well-known/openid-configuration",
                "/o/.well-known/openid-configuration"
            ]
        );
        assert_eq!(
            e.metadata_paths(),
            [
                "/.well-known/oauth-authorization-server",
                "/o/.well-known/oauth-authorization-server"
            ]
        );
    }

    #[test]
    fn a_dot_issuer_has_dots_urls() {
        let e = at("https://id.example/o", "");
        assert_eq!(e.url("/authorize/"), "https://id.example/o/authorize/");
        assert_eq!(
            e.url("/.well-known/jwks.json"),
            "https://id.example/o/.well-known/jwks.json"
        );
        assert_eq!(e.mount(), "/o");
        assert_eq!(e.discovery_paths(), ["/o/.well-known/openid-configuration"]);
        assert_eq!(
            e.metadata_paths(),
            [
                "/.well-known/oauth-authorization-server/o",
                "/o/.well-known/oauth-authorization-server"
            ]
        );
    }

    #[test]
    fn an_issuer_path_is_where_the_endpoints_are() {
        let e = at("https://example.com/id/v1", "");
        assert_eq!(e.url("/token/"), "https://example.com/id/v1/token/");
        assert_eq!(e.mount(), "/id/v1");
    }

    #[test]
    fn a_stripped_public_path_is_in_every_url_and_in_no_route() {
        let e = at("https://example.com/auth", "/auth");
        assert_eq!(
            e.url("/authorize/"),
            "https://example.com/auth/o/authorize/"
        );
        assert_eq!(e.public_base(), "/auth/o");
        assert_eq!(e.mount(), "/o");
        assert_eq!(
            e.discovery_paths(),
            [
                "/.well-known/openid-configuration",
                "/o/.well-known/openid-configuration"
            ]
        );
        assert_eq!(
            e.metadata_paths(),
            [
                "/.well-known/oauth-authorization-server",
                "/.well-known/oauth-authorization-server/auth",
                "/o/.well-known/oauth-authorization-server"
            ]
        );
        assert_eq!(
            e.host_metadata_path().as_deref(),
            Some("/.well-known/oauth-authorization-server/auth")
        );
        assert_eq!(at("https://id.example/o", "").host_metadata_path(), None);
        let dot = at("https://example.com/auth/o", "/auth");
        assert_eq!(dot.url("/token/"), "https://example.com/auth/o/token/");
        assert_eq!(dot.mount(), "/o");
        assert_eq!(
            dot.discovery_paths(),
            ["/o/.well-known/openid-configuration"]
        );
    }

    #[test]
    fn combinations_that_would_publish_unreachable_urls_are_refused() {
        for (issuer, public_path) in [
            ("https://example.com", "/auth"),
            ("https://example.com/authz", "/auth"),
            ("https://example.com/auth", "auth"),
            ("https://example.com/auth", "/auth/"),
            ("https://example.com/a//b", ""),
            ("https://example.com/a/%7Bx%7D", ""),
            ("https://example.com/a/{x}", ""),
            ("https://example.com/.well-known", ""),
            ("https://example.com/auth/.well-known/x", "/auth"),
            ("https://example.com/o/.well-known", ""),
            ("https://EXAMPLE.com/o", ""),
            ("https://example.com:443/o", ""),
            ("https://example.com/a/../o", ""),
            ("https://example.com/o/", ""),
            ("not a url", ""),
        ] {
            assert!(
                Endpoints::new(issuer, public_path).is_err(),
                "{issuer} with public_path {public_path:?}"
            );
        }
    }

    proptest::proptest! {
        /// Every advertised URL is the router's path behind the stripped prefix.
        #[test]
        fn advertised_urls_are_routed_paths_behind_the_public_path(
            segments in proptest::collection::vec("[a-z0-9_~-]{1,8}", 0..4),
            stripped in 0usize..4,
        ) {
            let path: String = segments.iter().map(|s| format!("/{s}")).collect();
            let public: String = segments.iter().take(stripped).map(|s| format!("/{s}")).collect();
            let issuer = format!("https://example.com{path}");
            let e = Endpoints::new(&issuer, &public).unwrap();
            let url = e.url("/token/");
            proptest::prop_assert!(url.starts_with(&issuer));
            let routed = url.strip_prefix(&format!("https://example.com{public}")).unwrap();
            proptest::prop_assert_eq!(routed, format!("{}/token/", e.mount()));
            let discovery = format!("{issuer}{OPENID_CONFIGURATION}");
            let routed = discovery.strip_prefix(&format!("https://example.com{public}")).unwrap();
            proptest::prop_assert!(e.discovery_paths().iter().any(|p| p == routed));
        }
    }
}
