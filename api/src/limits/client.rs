//! Who the client is, for per-address limits: the socket's peer, unless that peer is one of
//! the configured trusted proxies; then the right-most `X-Forwarded-For` entry that is not a
//! trusted proxy (entries left of it could be forged by the client). A malformed header from
//! a trusted proxy is refused (400), never guessed around.

use std::net::IpAddr;
use std::str::FromStr;

use axum::http::HeaderMap;

/// A network in CIDR notation (`10.0.0.0/8`, `2001:db8::/32`, or one address).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Network {
    base: IpAddr,
    prefix: u8,
}

impl Network {
    /// Whether `ip` is inside.
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.base, canonical(ip)) {
            (IpAddr::V4(base), IpAddr::V4(ip)) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(self.prefix)).unwrap_or(0);
                u32::from(base) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(base), IpAddr::V6(ip)) => {
                let mask = u128::MAX.checked_shl(128 - u32::from(self.prefix)).unwrap_or(0);
                u128::from(base) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

impl FromStr for Network {
    type Err = String;

    fn from_str(text: &str) -> Result<Network, String> {
        let bad = |why: &str| format!("trusted proxy {text:?}: {why}");
        let (address, prefix) = match text.trim().split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (text.trim(), None),
        };
        let base = canonical(IpAddr::from_str(address).map_err(|_| bad("not an IP address"))?);
        let max = if base.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p.parse::<u8>().map_err(|_| bad("not a prefix length"))?,
            None => max,
        };
        if prefix > max {
            return Err(bad("prefix too long"));
        }
        Ok(Network { base, prefix })
    }
}

/// IPv4-mapped IPv6 addresses (`::ffff:10.0.0.1`) compare as IPv4.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// The proxies whose `X-Forwarded-For` is believed.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(Vec<Network>);

impl TrustedProxies {
    /// From networks.
    pub fn new(networks: Vec<Network>) -> Self {
        TrustedProxies(networks)
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|n| n.contains(ip))
    }

    /// The client's address; `Err` names what is malformed.
    ///
    /// # Errors
    /// A trusted proxy's `X-Forwarded-For` that is not a list of IP addresses.
    pub fn client(&self, peer: Option<IpAddr>, headers: &HeaderMap) -> Result<Option<IpAddr>, String> {
        let Some(peer) = peer.map(canonical) else {
            return Ok(None);
        };
        if !self.trusts(peer) {
            return Ok(Some(peer));
        }
        let mut chain = Vec::new();
        for value in headers.get_all("x-forwarded-for") {
            let text = value.to_str().map_err(|_| "X-Forwarded-For is not ASCII".to_owned())?;
            for entry in text.split(',') {
                let entry = entry.trim();
                let ip = IpAddr::from_str(entry)
                    .map_err(|_| format!("X-Forwarded-For entry {:?} is not an IP address", truncate(entry)))?;
                chain.push(canonical(ip));
            }
        }
        // Right to left: the first address no trusted proxy vouches for is the client; if
        // every hop is trusted, the left-most one is as far as anyone can tell.
        Ok(Some(
            chain
                .iter()
                .rev()
                .find(|ip| !self.trusts(**ip))
                .or(chain.first())
                .copied()
                .unwrap_or(peer),
        ))
    }
}

/// The client's address, resolved once per request by the edge middleware (`server::edge`;
/// `None` when the server was not given peer addresses).
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub Option<IpAddr>);

fn truncate(text: &str) -> String {
    text.chars().take(45).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proxies(list: &[&str]) -> TrustedProxies {
        TrustedProxies::new(list.iter().map(|n| n.parse().unwrap()).collect())
    }

    fn xff(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-for", value.parse().unwrap());
        headers
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_forwards() {
        let p = proxies(&["10.0.0.0/8"]);
        let got = p.client(Some(ip("203.0.113.9")), &xff("1.2.3.4"));
        assert_eq!(got, Ok(Some(ip("203.0.113.9"))));
    }

    #[test]
    fn behind_trusted_proxies_the_right_most_untrusted_entry_is_the_client() {
        let p = proxies(&["10.0.0.0/8", "2001:db8::/32"]);
        // The client forged "6.6.6.6" in front; the proxy appended the real address.
        let got = p.client(Some(ip("10.1.2.3")), &xff("6.6.6.6, 198.51.100.7, 10.9.9.9"));
        assert_eq!(got, Ok(Some(ip("198.51.100.7"))));
        let mapped = p.client(Some(ip("::ffff:10.1.2.3")), &xff("198.51.100.8"));
        assert_eq!(mapped, Ok(Some(ip("198.51.100.8"))));
        assert_eq!(
            p.client(Some(ip("10.1.2.3")), &HeaderMap::new()),
            Ok(Some(ip("10.1.2.3")))
        );
    }

    #[test]
    fn a_malformed_header_from_a_trusted_proxy_is_refused() {
        let p = proxies(&["127.0.0.1"]);
        for bad in ["not-an-ip", "1.2.3.4, <script>", "1.2.3.4,,5.6.7.8", "300.1.1.1"] {
            assert!(p.client(Some(ip("127.0.0.1")), &xff(bad)).is_err(), "{bad:?}");
        }
        assert!("10.0.0.0/33".parse::<Network>().is_err());
        assert!("host.example".parse::<Network>().is_err());
    }
}
