//! Whether a certificate's subjectAltNames cover a host: RFC 6125 name matching, IP matching.

use std::net::IpAddr;

use super::describe::SubjectAltNames;

/// RFC 6125 host matching: exact (ASCII case-insensitive, one trailing dot ignored), or a
/// wildcard that is the whole left-most label and stands for exactly one label. A wildcard needs
/// at least two labels after it, so `*.com` never matches; IP literals never match a wildcard.
pub fn dns_name_matches(pattern: &str, name: &str) -> bool {
    let pattern = normalise(pattern);
    let name = normalise(name);
    if pattern.is_empty() || name.is_empty() || name.contains('*') {
        return false;
    }
    let Some(suffix) = pattern.strip_prefix("*.") else {
        return !pattern.contains('*') && pattern == name;
    };
    if suffix.contains('*') || suffix.split('.').count() < 2 || suffix.split('.').any(str::is_empty)
    {
        return false;
    }
    if name.parse::<IpAddr>().is_ok() {
        return false;
    }
    match name.split_once('.') {
        Some((first_label, rest)) => !first_label.is_empty() && rest == suffix,
        None => false,
    }
}

fn normalise(name: &str) -> String {
    name.strip_suffix('.').unwrap_or(name).to_ascii_lowercase()
}

/// Whether the SANs cover `ip`. Only IP SANs count: a DNS SAN spelling an IP address does not,
/// as no TLS client matches it. An IPv4-mapped IPv6 address equals its IPv4 address.
pub fn san_covers_ip(sans: &SubjectAltNames, ip: IpAddr) -> bool {
    let wanted = ip.to_canonical();
    sans.ip.iter().any(|san| san.to_canonical() == wanted)
}

/// Whether any DNS SAN matches `name` (see [`dns_name_matches`]).
pub fn san_covers_dns(sans: &SubjectAltNames, name: &str) -> bool {
    matching_dns_san(sans, name).is_some()
}

/// The first DNS SAN that matches `name`.
pub(crate) fn matching_dns_san<'a>(sans: &'a SubjectAltNames, name: &str) -> Option<&'a str> {
    sans.dns
        .iter()
        .map(String::as_str)
        .find(|pattern| dns_name_matches(pattern, name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc6125_table() {
        let cases: &[(&str, &str, bool)] = &[
            ("example.com", "example.com", true),
            ("Example.COM", "example.com", true),
            ("example.com.", "example.com", true),
            ("example.com", "EXAMPLE.com.", true),
            ("example.com", "www.example.com", false),
            ("www.example.com", "example.com", false),
            ("*.example.com", "a.example.com", true),
            ("*.example.com", "A.Example.Com", true),
            ("*.example.com", "a.example.com.", true),
            ("*.example.com", "example.com", false),
            ("*.example.com", "a.b.example.com", false),
            ("*.example.com", ".example.com", false),
            ("*.example.com", "a.example.org", false),
            ("*.com", "example.com", false),
            ("*.local", "registry.local", false),
            ("*", "example", false),
            ("a*.example.com", "ab.example.com", false),
            ("*a.example.com", "ba.example.com", false),
            ("www.*.example.com", "www.a.example.com", false),
            ("*.*.example.com", "a.b.example.com", false),
            ("*.example.com", "*.example.com", false),
            ("*.0.0.1", "10.0.0.1", false),
            ("10.0.0.1", "10.0.0.1", true),
            ("", "", false),
            ("*.example..com", "a.example..com", false),
        ];
        for (pattern, name, expected) in cases {
            assert_eq!(
                dns_name_matches(pattern, name),
                *expected,
                "pattern {pattern:?} against {name:?}"
            );
        }
    }

    fn sans(dns: &[&str], ip: &[&str]) -> SubjectAltNames {
        SubjectAltNames {
            dns: dns.iter().map(|name| (*name).to_owned()).collect(),
            ip: ip.iter().map(|ip| ip.parse().expect("ip")).collect(),
            ..SubjectAltNames::default()
        }
    }

    #[test]
    fn only_ip_sans_cover_an_ip() {
        let names = sans(&["10.0.0.1", "registry.local"], &["192.168.1.5", "fd00::1"]);
        assert!(!san_covers_ip(&names, "10.0.0.1".parse().expect("ip")));
        assert!(san_covers_ip(&names, "192.168.1.5".parse().expect("ip")));
        assert!(san_covers_ip(
            &names,
            "::ffff:192.168.1.5".parse().expect("ip")
        ));
        assert!(san_covers_ip(&names, "fd00:0::1".parse().expect("ip")));
        assert!(!san_covers_ip(&names, "fd00::2".parse().expect("ip")));
    }

    #[test]
    fn dns_coverage_uses_wildcards() {
        let names = sans(&["*.registry.example.com", "registry.example.com"], &[]);
        assert!(san_covers_dns(&names, "registry.example.com"));
        assert!(san_covers_dns(&names, "eastus.registry.example.com"));
        assert!(!san_covers_dns(&names, "a.b.registry.example.com"));
        assert_eq!(
            matching_dns_san(&names, "x.registry.example.com"),
            Some("*.registry.example.com")
        );
    }
}
