//! Client ID metadata documents (draft-ietf-oauth-client-id-metadata-document,
//! as in DOT 3.4): a client whose `client_id` is an https URL, described by
//! the JSON document at that URL. The rules for the URL, the document, how
//! long a copy is fresh, and which addresses may be fetched.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use serde_json::Value;
use url::Url;

use crate::client::{ApplicationSpec, ClientType, GrantType};
use crate::registration::ClientMetadata;
use crate::resource_indicator::has_dot_segment;

/// Whether `client_id` names a metadata document rather than a registration.
pub fn is_document_url(client_id: &str) -> bool {
    client_id.starts_with("https://")
}

/// A `client_id` that may name a metadata document (§3): https, a host, a
/// path, no user information, fragment or dot segments, written canonically
/// so one client has one identifier.
pub fn document_url(client_id: &str) -> Result<Url, &'static str> {
    let url = Url::parse(client_id).map_err(|_| "not a URL")?;
    if url.scheme() != "https" {
        return Err("not https");
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("no host");
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("user information");
    }
    if client_id.contains('#') {
        return Err("a fragment");
    }
    let raw_path = client_id["https://".len()..]
        .split_once('/')
        .map_or("", |(_, rest)| {
            rest.split(['?', '#']).next().unwrap_or_default()
        });
    if raw_path.is_empty() {
        return Err("no path");
    }
    if has_dot_segment(raw_path) {
        return Err("a dot segment");
    }
    if url.as_str() != client_id {
        return Err("not in canonical form");
    }
    Ok(url)
}

/// Reads the document fetched for `client_id` into the registration it
/// describes and the client's name (its host when it gives none). Public
/// clients of the browser grants only: a document is public, so it can hold
/// no secret.
pub fn read_document(
    client_id: &str,
    body: &[u8],
    allowed_redirect_schemes: &[String],
) -> Result<(ApplicationSpec, String), String> {
    let value: Value = serde_json::from_slice(body).map_err(|e| format!("not JSON: {e}"))?;
    let Value::Object(fields) = &value else {
        return Err("not a JSON object".into());
    };
    if fields.get("client_id").and_then(Value::as_str) != Some(client_id) {
        return Err("its client_id is not the URL it was fetched from".into());
    }
    if let Some(name) = ["client_secret", "client_secret_expires_at"]
        .into_iter()
        .find(|name| fields.contains_key(*name))
    {
        return Err(format!(
            "it holds `{name}`, which a public document must not"
        ));
    }
    if fields
        .get("token_endpoint_auth_method")
        .and_then(Value::as_str)
        != Some("none")
    {
        return Err("token_endpoint_auth_method must be `none`".into());
    }
    if fields
        .get("redirect_uris")
        .and_then(Value::as_array)
        .is_none_or(Vec::is_empty)
    {
        return Err("redirect_uris must list at least one URI".into());
    }
    let metadata: ClientMetadata =
        serde_json::from_value(value).map_err(|e| format!("malformed metadata: {e}"))?;
    let (spec, name) = metadata
        .to_spec(allowed_redirect_schemes)
        .map_err(|e| e.description)?;
    let browser_grant = |g: &GrantType| {
        matches!(
            g,
            GrantType::AuthorizationCode | GrantType::Implicit | GrantType::OpenIdHybrid
        )
    };
    if spec.client_type != ClientType::Public || !spec.grant_types.iter().all(browser_grant) {
        return Err("only the authorization code and implicit grants are allowed".into());
    }
    let name = if name.trim().is_empty() {
        Url::parse(client_id)
            .ok()
            .and_then(|u| u.host_str().map(str::to_owned))
            .unwrap_or_default()
    } else {
        name
    };
    Ok((spec, name))
}

/// How long a fetched document stays fresh: its `Cache-Control` max-age,
/// within `[floor, ceiling]`; the floor when it says nothing or not to keep it.
pub fn freshness(cache_control: Option<&str>, floor: u64, ceiling: u64) -> u64 {
    let max_age = cache_control.and_then(|header| {
        header.split(',').find_map(|directive| {
            let (name, value) = directive.trim().split_once('=')?;
            name.trim()
                .eq_ignore_ascii_case("max-age")
                .then(|| value.trim().trim_matches('"').parse::<u64>().ok())
                .flatten()
        })
    });
    max_age.unwrap_or(floor).clamp(floor, ceiling.max(floor))
}

/// Whether `host` may describe clients: any host when `allowed` is empty,
/// else one listed, or under a listed `.domain`.
pub fn host_allowed(host: &str, allowed: &[String]) -> bool {
    let host = host.to_ascii_lowercase();
    allowed.is_empty()
        || allowed.iter().any(|a| {
            let a = a.to_ascii_lowercase();
            match a.strip_prefix('.') {
                Some(domain) => host == domain || host.ends_with(&a),
                None => host == a,
            }
        })
}

/// Whether a fetch may connect to `ip`: a public unicast address, not one
/// inside this network or this machine (SSRF), however it is written.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        || a >= 240
        // Shared address space (carrier-grade NAT), RFC 6598.
        || (a == 100 && (64..128).contains(&b))
        // IETF protocol assignments, RFC 6890.
        || (a == 192 && b == 0 && c == 0)
        // Benchmarking, RFC 2544.
        || (a == 198 && (18..20).contains(&b)))
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = embedded_v4(ip) {
        return is_public_v4(v4);
    }
    let s = ip.segments();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_multicast()
        // Unique local fc00::/7, link-local fe80::/10, site-local fec0::/10.
        || (s[0] & 0xfe00) == 0xfc00
        || (s[0] & 0xffc0) == 0xfe80
        || (s[0] & 0xffc0) == 0xfec0
        // Documentation 2001:db8::/32, Teredo 2001::/32, discard 100::/64.
        || (s[0] == 0x2001 && (s[1] == 0x0db8 || s[1] == 0))
        || (s[0] == 0x0100 && s[1] == 0 && s[2] == 0 && s[3] == 0)
        // NAT64 local-use 64:ff9b:1::/48.
        || (s[0] == 0x64 && s[1] == 0xff9b && s[2] == 1))
}

/// The IPv4 address an IPv6 one carries: IPv4-mapped and -compatible, NAT64
/// (64:ff9b::/96) and 6to4 (2002::/16).
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    let from = |hi: u16, lo: u16| {
        let [a, b] = hi.to_be_bytes();
        let [c, d] = lo.to_be_bytes();
        Ipv4Addr::new(a, b, c, d)
    };
    match s {
        [0, 0, 0, 0, 0, 0xffff, hi, lo] | [0, 0, 0, 0, 0xffff, 0, hi, lo] => Some(from(hi, lo)),
        [0, 0, 0, 0, 0, 0, hi, lo] if hi != 0 => Some(from(hi, lo)),
        [0x64, 0xff9b, 0, 0, 0, 0, hi, lo] => Some(from(hi, lo)),
        [0x2002, hi, lo, ..] => Some(from(hi, lo)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const URL: &str = "https://client.example/app.json";

    fn schemes() -> Vec<String> {
        vec!["https".into(), "http".into()]
    }

    #[test]
    fn document_urls() {
        assert!(document_url(URL).is_ok());
        assert!(document_url("https://client.example:8443/c?v=1").is_ok());
        for bad in [
            "http://client.example/app",
            "https://client.example",
            "https://client.example/",
            "https://user@client.example/app",
            "https://client.example/app#x",
            "https://client.example/a/../app",
            "https://client.example/a/%2E%2E/app",
            "https://client.example/./app",
            "https://CLIENT.example/app",
            "https://client.example:443/app",
            "https:client.example/app",
            "client",
        ] {
            assert!(document_url(bad).is_err(), "{bad}");
        }
        assert!(is_document_url(URL) && !is_document_url("web"));
    }

    fn document(extra: serde_json::Value) -> Vec<u8> {
        let mut doc = serde_json::json!({
            "client_id": URL,
            "client_name": "Example",
            "redirect_uris": ["https://client.example/cb"],
            "token_endpoint_auth_method": "none",
        });
        for (k, v) in extra.as_object().unwrap() {
            if v.is_null() {
                doc.as_object_mut().unwrap().remove(k);
            } else {
                doc[k] = v.clone();
            }
        }
        serde_json::to_vec(&doc).unwrap()
    }

    #[test]
    fn a_document_describes_a_public_browser_client() {
        let (spec, name) =
            read_document(URL, &document(serde_json::json!({})), &schemes()).unwrap();
        assert_eq!(spec.client_type, ClientType::Public);
        assert_eq!(spec.grant_types, vec![GrantType::AuthorizationCode]);
        assert_eq!(spec.redirect_uris, vec!["https://client.example/cb"]);
        assert_eq!(name, "Example");
        let unnamed = document(serde_json::json!({"client_name": null}));
        assert_eq!(
            read_document(URL, &unnamed, &schemes()).unwrap().1,
            "client.example"
        );
    }

    #[test]
    fn documents_that_break_a_rule_are_refused() {
        for (extra, why) in [
            (
                serde_json::json!({"client_id": "https://other.example/app"}),
                "client_id",
            ),
            (serde_json::json!({"client_secret": "s"}), "client_secret"),
            (
                serde_json::json!({"client_secret_expires_at": 0}),
                "client_secret_expires_at",
            ),
            (
                serde_json::json!({"token_endpoint_auth_method": null}),
                "auth method absent",
            ),
            (
                serde_json::json!({"token_endpoint_auth_method": "client_secret_basic"}),
                "secret",
            ),
            (serde_json::json!({"redirect_uris": []}), "no redirect URIs"),
            (
                serde_json::json!({"redirect_uris": null}),
                "redirect URIs absent",
            ),
            (
                serde_json::json!({"redirect_uris": ["https://client.example/cb#x"]}),
                "fragment",
            ),
            (
                serde_json::json!({"grant_types": ["client_credentials"]}),
                "grant",
            ),
            (serde_json::json!({"client_name": 3}), "name type"),
        ] {
            assert!(
                read_document(URL, &document(extra), &schemes()).is_err(),
                "{why}"
            );
        }
        assert!(read_document(URL, b"[]", &schemes()).is_err());
        assert!(read_document(URL, b"{", &schemes()).is_err());
    }

    #[test]
    fn freshness_is_clamped() {
        assert_eq!(freshness(None, 300, 86_400), 300);
        assert_eq!(freshness(Some("max-age=3600"), 300, 86_400), 3600);
        assert_eq!(freshness(Some("public, MAX-AGE=\"10\""), 300, 86_400), 300);
        assert_eq!(freshness(Some("max-age=9999999"), 300, 86_400), 86_400);
        assert_eq!(freshness(Some("no-store"), 300, 86_400), 300);
        assert_eq!(freshness(Some("max-age=x"), 300, 86_400), 300);
    }

    #[test]
    fn hosts_may_be_limited() {
        assert!(host_allowed("a.example", &[]));
        let allowed = vec!["client.example".to_owned(), ".apps.example".to_owned()];
        assert!(host_allowed("client.example", &allowed));
        assert!(host_allowed("x.apps.example", &allowed));
        assert!(host_allowed("apps.example", &allowed));
        assert!(!host_allowed("evilapps.example", &allowed));
        assert!(!host_allowed("other.example", &allowed));
    }

    #[test]
    fn only_public_addresses_may_be_fetched() {
        for public in [
            "93.184.216.34",
            "2606:2800:220:1:248:1893:25c8:1946",
            "8.8.8.8",
        ] {
            assert!(is_public(public.parse().unwrap()), "{public}");
        }
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "198.18.0.1",
            "::1",
            "::",
            "fc00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "::ffff:0:10.0.0.1",
            "64:ff9b::7f00:1",
            "64:ff9b::a00:1",
            "64:ff9b:1::1",
            "2002:7f00:1::",
            "2001:db8::1",
            "2001::1",
        ] {
            assert!(!is_public(private.parse().unwrap()), "{private}");
        }
        // NAT64 of a public address is public.
        assert!(is_public("64:ff9b::808:808".parse().unwrap()));
    }

    proptest! {
        #[test]
        fn url_and_document_rules_never_panic(text in "\\PC*", body in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = document_url(&text);
            let _ = read_document(&text, &body, &[]);
            let _ = freshness(Some(&text), 1, 2);
        }
    }
}
