//! The address a request came from, seen through the proxies the operator
//! trusts: RFC 7239 `Forwarded` (or `X-Forwarded-For` without it) is read only
//! when the peer is a trusted proxy, from the right, and the first address that
//! is not a trusted proxy is the client's. Anything else in those headers could
//! have been written by the client itself.

use std::net::IpAddr;

pub use ipnet::IpNet;

/// `peer`'s client: `peer` itself unless it is in `trusted`; then the right-most
/// address of the forwarding chain that is not. Where the chain holds something
/// that is not an address (`unknown`, an obfuscated name, garbage), the hop that
/// wrote it is the client as far as anyone can tell.
pub fn resolve(
    peer: IpAddr,
    forwarded: &[&str],
    x_forwarded_for: &[&str],
    trusted: &[IpNet],
) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(&canonical(*ip)));
    if !is_trusted(&peer) {
        return peer;
    }
    let chain: Vec<Option<IpAddr>> = if forwarded.is_empty() {
        x_forwarded_for
            .iter()
            .flat_map(|v| v.split(','))
            .map(|hop| hop.trim().parse().ok())
            .collect()
    } else {
        forwarded
            .iter()
            .flat_map(|v| v.split(','))
            .map(forwarded_for)
            .collect()
    };
    let mut client = peer;
    for hop in chain.into_iter().rev() {
        match hop {
            Some(ip) if is_trusted(&ip) => client = ip,
            Some(ip) => return canonical(ip),
            None => return client,
        }
    }
    client
}

/// An IPv4 client seen through an IPv6 socket is an IPv4 client.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// The `for=` of one `Forwarded` element: `for=192.0.2.1`, `for="[2001:db8::1]:4711"`.
fn forwarded_for(element: &str) -> Option<IpAddr> {
    let value = element.split(';').find_map(|pair| {
        let (name, value) = pair.split_once('=')?;
        name.trim()
            .eq_ignore_ascii_case("for")
            .then_some(value.trim())
    })?;
    let value = value
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .unwrap_or(value);
    if let Some(rest) = value.strip_prefix('[') {
        return rest.split_once(']')?.0.parse().ok();
    }
    // IPv4 with an optional port; a bare IPv6 address is not valid here unquoted.
    value
        .split(':')
        .next()?
        .parse::<std::net::Ipv4Addr>()
        .ok()
        .map(IpAddr::V4)
}

/// Parses `trusted_proxies`: CIDRs, or single addresses meaning themselves.
pub fn parse_networks(items: &[String]) -> Result<Vec<IpNet>, String> {
    items
        .iter()
        .map(|item| {
            item.parse::<IpNet>()
                .or_else(|_| item.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| format!("`{item}` is neither an address nor a CIDR network"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn nets(items: &[&str]) -> Vec<IpNet> {
        parse_networks(&items.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap()
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_claims() {
        let trusted = nets(&["10.0.0.0/8"]);
        assert_eq!(
            resolve(ip("203.0.113.9"), &["for=1.2.3.4"], &["1.2.3.4"], &trusted),
            ip("203.0.113.9")
        );
        assert_eq!(
            resolve(ip("10.0.0.1"), &[], &["1.2.3.4"], &[]),
            ip("10.0.0.1"),
            "nothing trusted by default"
        );
    }

    #[test]
    fn the_right_most_untrusted_hop_is_the_client() {
        let trusted = nets(&["10.0.0.0/8", "127.0.0.1"]);
        // The client sent a made-up X-Forwarded-For; the proxy appended the real peer.
        assert_eq!(
            resolve(
                ip("127.0.0.1"),
                &[],
                &["6.6.6.6, 198.51.100.7", "10.1.2.3"],
                &trusted
            ),
            ip("198.51.100.7")
        );
        assert_eq!(
            resolve(
                ip("10.0.0.1"),
                &["for=6.6.6.6, for=\"[2001:db8::1]:4711\";proto=https"],
                &["9.9.9.9"],
                &trusted
            ),
            ip("2001:db8::1"),
            "Forwarded wins over X-Forwarded-For"
        );
        assert_eq!(
            resolve(
                ip("10.0.0.1"),
                &["For=192.0.2.60:8080;by=10.0.0.1"],
                &[],
                &trusted
            ),
            ip("192.0.2.60")
        );
    }

    #[test]
    fn without_a_header_or_past_garbage_the_last_trusted_hop_is_the_client() {
        let trusted = nets(&["10.0.0.0/8"]);
        assert_eq!(resolve(ip("10.0.0.1"), &[], &[], &trusted), ip("10.0.0.1"));
        assert_eq!(
            resolve(
                ip("10.0.0.1"),
                &[],
                &["1.2.3.4, nonsense, 10.0.0.2"],
                &trusted
            ),
            ip("10.0.0.2")
        );
        assert_eq!(
            resolve(ip("10.0.0.1"), &["for=unknown"], &[], &trusted),
            ip("10.0.0.1")
        );
        assert_eq!(
            resolve(
                ip("10.0.0.1"),
                &["for=10.0.0.3, for=10.0.0.2"],
                &[],
                &trusted
            ),
            ip("10.0.0.3"),
            "all trusted: the furthest proxy"
        );
    }

    #[test]
    fn mapped_ipv4_is_ipv4() {
        let trusted = nets(&["127.0.0.0/8"]);
        assert_eq!(
            resolve(
                ip("::ffff:127.0.0.1"),
                &[],
                &["::ffff:198.51.100.7"],
                &trusted
            ),
            ip("198.51.100.7")
        );
    }

    #[test]
    fn networks_parse_or_say_why_not() {
        assert_eq!(nets(&["10.0.0.0/8", "::1"]).len(), 2);
        assert!(parse_networks(&["10.0.0.0/33".into()]).is_err());
        assert!(parse_networks(&["proxy.internal".into()]).is_err());
    }

    proptest! {
        #[test]
        fn any_header_resolves_to_the_peer_or_an_address_in_the_headers(
            forwarded in "\\PC{0,80}",
            xff in "\\PC{0,80}",
        ) {
            let trusted = nets(&["0.0.0.0/0", "::/0"]);
            let peer = ip("10.0.0.1");
            let got = resolve(peer, &[&forwarded], &[&xff], &trusted);
            prop_assert!(got == peer || forwarded.contains(&got.to_string()) || xff.contains(&got.to_string()));
        }
    }
}
