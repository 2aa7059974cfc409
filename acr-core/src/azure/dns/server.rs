//! Which DNS server to ask: `IP[:PORT]` as given (`[IPv6]:PORT` with a port), or the first
//! `nameserver` of /etc/resolv.conf, port 53.

use std::net::{IpAddr, SocketAddr};
use std::path::Path;

use super::DnsError;

/// The port DNS servers listen on.
const DNS_PORT: u16 = 53;

/// Reads `IP`, `IP:PORT`, `[IPv6]` or `[IPv6]:PORT`; the port defaults to 53.
pub fn parse_server(text: &str) -> Result<SocketAddr, DnsError> {
    let invalid = |reason: &str| DnsError::InvalidServer {
        text: text.to_owned(),
        reason: reason.to_owned(),
    };
    let trimmed = text.trim();
    if let Ok(ip) = trimmed.parse::<IpAddr>() {
        return Ok(SocketAddr::new(ip, DNS_PORT));
    }
    if let Ok(address) = trimmed.parse::<SocketAddr>() {
        return Ok(address);
    }
    if let Some(inner) = trimmed
        .strip_prefix('[')
        .and_then(|rest| rest.strip_suffix(']'))
    {
        return inner
            .parse::<IpAddr>()
            .map(|ip| SocketAddr::new(ip, DNS_PORT))
            .map_err(|_| invalid("not an IPv6 address between the brackets"));
    }
    Err(invalid(
        "expected an IP address with an optional port: 10.0.0.4, 10.0.0.4:53, [fd00::4]:53",
    ))
}

/// The first `nameserver` of a resolv.conf file, port 53 (a `%zone` suffix is dropped).
pub fn resolv_conf_server(path: &Path) -> Result<SocketAddr, DnsError> {
    let text = acr_io::read_to_string(path, acr_io::InputKind::SystemConfig).map_err(|source| {
        DnsError::ResolvConf {
            path: path.to_owned(),
            source,
        }
    })?;
    text.lines()
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            (words.next() == Some("nameserver"))
                .then(|| words.next())
                .flatten()
        })
        .find_map(|address| {
            let address = address.split_once('%').map_or(address, |(ip, _)| ip);
            address.parse::<IpAddr>().ok()
        })
        .map(|ip| SocketAddr::new(ip, DNS_PORT))
        .ok_or_else(|| DnsError::NoNameserver {
            path: path.to_owned(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn servers_are_read_with_and_without_ports() {
        let parsed = |text| parse_server(text).expect(text).to_string();
        assert_eq!(parsed("10.0.0.4"), "10.0.0.4:53");
        assert_eq!(parsed("10.0.0.4:5353"), "10.0.0.4:5353");
        assert_eq!(parsed("fd00::4"), "[fd00::4]:53");
        assert_eq!(parsed("[fd00::4]"), "[fd00::4]:53");
        assert_eq!(parsed("[fd00::4]:5353"), "[fd00::4]:5353");
        for bad in ["dns.example", "10.0.0.4:", "10.0.0.4:99999", "[dns]:53", ""] {
            assert!(
                matches!(parse_server(bad), Err(DnsError::InvalidServer { .. })),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn the_first_usable_nameserver_is_taken() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("resolv.conf");
        std::fs::write(
            &path,
            "# generated\nsearch example\nnameserver bogus\nnameserver fe80::1%eth0\nnameserver 10.0.0.2\n",
        )
        .expect("write");
        assert_eq!(
            resolv_conf_server(&path).expect("server").to_string(),
            "[fe80::1]:53"
        );
        std::fs::write(&path, "search example\n").expect("write");
        let err = resolv_conf_server(&path).expect_err("none");
        assert!(err.to_string().contains("names no nameserver"), "{err}");
    }
}
