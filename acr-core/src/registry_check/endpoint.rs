//! The registry endpoint to check: `HOST[:PORT]` with HOST a DNS name, an IPv4 address or a
//! bracketed IPv6 address; the port defaults to 443.

use std::fmt;
use std::net::IpAddr;

use super::RegistryCheckError;

const HTTPS_PORT: u16 = 443;

/// A host and port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// The DNS name (lowercase, no trailing dot) or IP address, without brackets.
    pub host: String,
    pub port: u16,
}

impl Endpoint {
    /// Reads `HOST[:PORT]`; an `https://` prefix and a trailing `/` are tolerated.
    pub fn parse(text: &str) -> Result<Self, RegistryCheckError> {
        let invalid = |reason: &str| RegistryCheckError::InvalidServer {
            server: text.to_owned(),
            reason: reason.to_owned(),
        };
        let trimmed = text.trim();
        let trimmed = trimmed.strip_prefix("https://").unwrap_or(trimmed);
        let trimmed = trimmed.strip_suffix('/').unwrap_or(trimmed);
        if trimmed.contains('/') || trimmed.contains("://") {
            return Err(invalid("give HOST[:PORT] only, without a scheme or path"));
        }
        let (host, port) = if let Some(rest) = trimmed.strip_prefix('[') {
            let (inner, after) = rest
                .split_once(']')
                .ok_or_else(|| invalid("no closing `]`"))?;
            if inner.parse::<std::net::Ipv6Addr>().is_err() {
                return Err(invalid("not an IPv6 address between the brackets"));
            }
            let port = match after {
                "" => None,
                _ => Some(
                    after
                        .strip_prefix(':')
                        .ok_or_else(|| invalid("expected `:PORT` after `]`"))?,
                ),
            };
            (inner.to_owned(), port)
        } else if trimmed.parse::<std::net::Ipv6Addr>().is_ok() {
            (trimmed.to_owned(), None)
        } else {
            match trimmed.rsplit_once(':') {
                Some((host, port)) => (host.to_owned(), Some(port)),
                None => (trimmed.to_owned(), None),
            }
        };
        let port = match port {
            Some(port) => port
                .parse::<u16>()
                .ok()
                .filter(|port| *port != 0)
                .ok_or_else(|| invalid("the port is not a number from 1 to 65535"))?,
            None => HTTPS_PORT,
        };
        let host = host.strip_suffix('.').unwrap_or(&host).to_ascii_lowercase();
        let valid_name = |name: &str| {
            !name.is_empty()
                && name.split('.').all(|label| {
                    !label.is_empty()
                        && label.len() <= 63
                        && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                })
        };
        if host.parse::<IpAddr>().is_err() && !valid_name(&host) {
            return Err(invalid("the host is neither a DNS name nor an IP address"));
        }
        Ok(Self { host, port })
    }

    /// The host as an IP address, when it is one.
    pub fn ip(&self) -> Option<IpAddr> {
        self.host.parse().ok()
    }

    /// `https://HOST:PORT/PATH`, with IPv6 addresses in brackets.
    pub fn url(&self, path: &str) -> String {
        format!("https://{self}{path}")
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.ip() {
            Some(IpAddr::V6(ip)) => write!(f, "[{ip}]:{}", self.port),
            _ => write!(f, "{}:{}", self.host, self.port),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_and_ports_are_read() {
        let parsed = |text: &str| Endpoint::parse(text).expect(text);
        assert_eq!(parsed("10.0.0.1").to_string(), "10.0.0.1:443");
        assert_eq!(parsed("10.0.0.1:5000").port, 5000);
        assert_eq!(parsed("Registry.Example.COM.").host, "registry.example.com");
        assert_eq!(
            parsed("https://contoso.azurecr.io/").to_string(),
            "contoso.azurecr.io:443"
        );
        assert_eq!(parsed("fd00::1").to_string(), "[fd00::1]:443");
        assert_eq!(
            parsed("[fd00::1]:8443").url("/v2/"),
            "https://[fd00::1]:8443/v2/"
        );
        assert_eq!(
            parsed("[fd00::1]").ip(),
            Some("fd00::1".parse().expect("ip"))
        );
        for bad in [
            "",
            "host:0",
            "host:http",
            "[fd00::1",
            "[nope]:1",
            "a b",
            "http://x/v2/",
            "a..b",
        ] {
            assert!(Endpoint::parse(bad).is_err(), "{bad:?}");
        }
    }
}
