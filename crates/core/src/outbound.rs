//! Where Tollgate's own outbound calls (client ID metadata documents, remote
//! client JWKS, back-channel logout) may connect: a public address, or one inside a network the
//! operator named in `outbound_allowed_networks`, because relying parties on an
//! internal network are common. Nothing else, however the name resolves (SSRF).

use std::net::IpAddr;

use crate::cimd::is_public;
use crate::client_address::IpNet;

/// Whether a call may connect to `ip`.
pub fn may_connect(ip: IpAddr, allowed: &[IpNet]) -> bool {
    is_public(ip) || allowed.iter().any(|net| net.contains(&ip))
}

/// Whether a call to these addresses may be made over plain `http`: only
/// when all of them are inside networks the operator allowed; the public
/// internet is reached over `https` only.
pub fn plain_http_allowed(addresses: &[IpAddr], allowed: &[IpNet]) -> bool {
    !addresses.is_empty()
        && addresses
            .iter()
            .all(|ip| allowed.iter().any(|net| net.contains(ip)))
}

/// A URL Tollgate calls (`jwks_uri`, `backchannel_logout_uri`) as kept: an absolute `https` (or, for an internal network the
/// operator allows, `http`) URL without a fragment or credentials.
pub fn remote_url(text: &str) -> Result<String, String> {
    let url = url::Url::parse(text).map_err(|e| format!("`{text}` is not a URL: {e}"))?;
    if !matches!(url.scheme(), "https" | "http") || url.host_str().is_none() {
        return Err(format!("`{text}` is not an https URL"));
    }
    if url.fragment().is_some() || !url.username().is_empty() || url.password().is_some() {
        return Err(format!("`{text}` may not have a fragment or credentials"));
    }
    Ok(url.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_remote_url_is_an_absolute_web_url() {
        assert_eq!(
            remote_url("https://rp.example/jwks.json").as_deref(),
            Ok("https://rp.example/jwks.json")
        );
        assert!(remote_url("http://10.0.0.5:8080/keys").is_ok());
        for bad in [
            "/jwks.json",
            "ftp://rp.example/k",
            "https://rp.example/k#x",
            "https://u:p@rp.example/k",
            "file:///etc/passwd",
        ] {
            assert!(remote_url(bad).is_err(), "{bad}");
        }
    }
    use crate::client_address::parse_networks;

    fn nets(items: &[&str]) -> Vec<IpNet> {
        parse_networks(&items.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap()
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn only_public_addresses_unless_a_network_is_allowed() {
        assert!(may_connect(ip("93.184.216.34"), &[]));
        for internal in [
            "127.0.0.1",
            "10.1.2.3",
            "169.254.169.254",
            "::1",
            "::ffff:10.0.0.1",
            "fd00::1",
        ] {
            assert!(!may_connect(ip(internal), &[]), "{internal}");
        }
        let allowed = nets(&["10.0.0.0/8", "127.0.0.1"]);
        assert!(may_connect(ip("10.1.2.3"), &allowed));
        assert!(may_connect(ip("127.0.0.1"), &allowed));
        assert!(!may_connect(ip("127.0.0.2"), &allowed));
        assert!(!may_connect(ip("169.254.169.254"), &allowed));
    }

    #[test]
    fn plain_http_only_inside_allowed_networks() {
        let allowed = nets(&["10.0.0.0/8"]);
        assert!(plain_http_allowed(&[ip("10.0.0.5")], &allowed));
        assert!(!plain_http_allowed(
            &[ip("10.0.0.5"), ip("93.184.216.34")],
            &allowed
        ));
        assert!(!plain_http_allowed(&[ip("93.184.216.34")], &allowed));
        assert!(!plain_http_allowed(&[], &allowed));
    }
}
