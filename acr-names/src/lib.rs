//! Certificate name matching, once for the host and the policies: whether a subjectAltName a
//! certificate presents covers the host a client connects to.
//!
//! `kubectl acr cert verify`, the custom-domain and registry checks of `acr-core`, and every
//! policy module (through `wasm-guest`) call these functions, so a certificate cannot pass a
//! policy and fail `cert verify`. `tests/cases.json` is the table both sides run.
//!
//! The rules are the ones rustls-webpki applies (the verifier behind every TLS connection these
//! tools make), which follow RFC 9525 (formerly RFC 6125) section 6 and, where that leaves room,
//! NSS and Chromium:
//!
//! - A host that is an IP address is matched only against IP SANs, a host name only against DNS
//!   SANs (RFC 9525 6.2, 6.3); the common name is never consulted (6.4.4 of RFC 6125).
//! - IP addresses are equal when they are the same family with the same octets, so `fd00::1`
//!   equals `fd00:0::1`, but the IPv4-mapped `::ffff:192.168.1.5` is not `192.168.1.5` (RFC 5280
//!   4.2.1.6 stores 4 or 16 octets; rustls-webpki and OpenSSL compare them as stored).
//! - DNS names compare ASCII case-insensitively. The host may end with one dot (an absolute name);
//!   a SAN ending with a dot is malformed and matches nothing.
//! - A wildcard is the whole left-most label (`*.example.com`), stands for exactly one non-empty
//!   label, and needs at least two labels after it (`*.com`, `*.local` match nothing). Partial
//!   wildcards (`f*.example.com`, `xn--*.example`) and wildcards elsewhere match nothing.
//! - Names are in their ASCII form: an internationalised name is matched as its A-label
//!   (`xn--bcher-kva.example`); a host given in Unicode is not converted and matches nothing.
//! - A name must be a valid DNS name to match: labels of letters, digits, hyphens and underscores,
//!   at most 63 characters, not starting or ending with a hyphen, at most 253 characters in all,
//!   and a last label that is not all digits (so `*.0.0.1` never covers `10.0.0.1`).

use std::net::IpAddr;

/// Why a text is not a DNS name a certificate can present or a client can connect to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("it is empty")]
    Empty,
    #[error("it is an IP address; give it as an IP")]
    IpAddress,
    #[error("it is longer than 253 characters")]
    TooLong,
    #[error("it has an empty label")]
    EmptyLabel,
    #[error("a label is longer than 63 characters")]
    LabelTooLong,
    #[error("a label starts or ends with a hyphen")]
    Hyphen,
    #[error(
        "only letters, digits, hyphens, underscores and a leading *. wildcard are allowed (an \
         international name is written in its xn-- form)"
    )]
    Character,
    #[error("its last label is all digits, which clients read as part of an IP address")]
    NumericLastLabel,
    #[error("it ends with a dot; a certificate names hosts without the trailing dot")]
    TrailingDot,
    #[error("a host name has no wildcard; a wildcard belongs in the certificate")]
    WildcardHost,
    #[error("a wildcard is allowed only as the whole left-most label, as in *.example.com")]
    MisplacedWildcard,
    #[error("a wildcard needs at least two labels after it (*.example.com, not *.com)")]
    WildcardTooBroad,
}

/// Which side of the comparison a name is on: they differ in wildcards and trailing dots.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    /// A DNS subjectAltName: may start with a `*.` wildcard label, never ends with a dot.
    Presented,
    /// The host a client connects to: no wildcard, may end with one dot.
    Reference,
}

/// Checks a DNS subjectAltName: whether a client could ever match it.
pub fn check_presented_dns_name(name: &str) -> Result<(), NameError> {
    check(name, Role::Presented)
}

/// Checks the name of a host a client connects to.
pub fn check_reference_dns_name(name: &str) -> Result<(), NameError> {
    check(name, Role::Reference)
}

fn check(name: &str, role: Role) -> Result<(), NameError> {
    if name.is_empty() {
        return Err(NameError::Empty);
    }
    if name.parse::<IpAddr>().is_ok() {
        return Err(NameError::IpAddress);
    }
    if name.len() > 253 {
        return Err(NameError::TooLong);
    }
    let (wildcard, rest) = match name.strip_prefix("*.") {
        Some(rest) if role == Role::Presented => (true, rest),
        _ => (false, name),
    };
    let rest = match (rest.strip_suffix('.'), role) {
        (Some(relative), Role::Reference) => relative,
        (Some(_), Role::Presented) => return Err(NameError::TrailingDot),
        (None, _) => rest,
    };
    let mut labels = 0;
    let mut last_is_numeric = false;
    for label in rest.split('.') {
        if label.contains('*') {
            return Err(match role {
                Role::Presented => NameError::MisplacedWildcard,
                Role::Reference => NameError::WildcardHost,
            });
        }
        if label.is_empty() {
            return Err(NameError::EmptyLabel);
        }
        if label.len() > 63 {
            return Err(NameError::LabelTooLong);
        }
        if !label
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_')
        {
            return Err(NameError::Character);
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err(NameError::Hyphen);
        }
        labels += 1;
        last_is_numeric = label.bytes().all(|byte| byte.is_ascii_digit());
    }
    if last_is_numeric {
        return Err(NameError::NumericLastLabel);
    }
    if wildcard && labels < 2 {
        return Err(NameError::WildcardTooBroad);
    }
    Ok(())
}

/// Whether the DNS subjectAltName `presented` covers the host name `reference` (the rules are
/// in the crate documentation). Either name being invalid means no match.
pub fn dns_name_matches(presented: &str, reference: &str) -> bool {
    if check_presented_dns_name(presented).is_err() || check_reference_dns_name(reference).is_err()
    {
        return false;
    }
    let reference = reference.strip_suffix('.').unwrap_or(reference);
    match presented.strip_prefix("*.") {
        Some(parent) => reference
            .split_once('.')
            .is_some_and(|(_, rest)| rest.eq_ignore_ascii_case(parent)),
        None => presented.eq_ignore_ascii_case(reference),
    }
}

/// Whether the IP subjectAltName `presented` is the address `reference`: the same family and
/// the same octets (an IPv4-mapped IPv6 address is not its IPv4 address).
pub fn ip_matches(presented: IpAddr, reference: IpAddr) -> bool {
    presented == reference
}

/// The first of the DNS subjectAltNames `presented` that covers the host name `reference`.
pub fn matching_dns_name<'a>(
    presented: impl IntoIterator<Item = &'a str>,
    reference: &str,
) -> Option<&'a str> {
    presented
        .into_iter()
        .find(|pattern| dns_name_matches(pattern, reference))
}

/// Whether one of the IP subjectAltNames `presented` is the address `reference`.
pub fn covers_ip(presented: impl IntoIterator<Item = IpAddr>, reference: IpAddr) -> bool {
    presented.into_iter().any(|ip| ip_matches(ip, reference))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    /// One row of `tests/cases.json`.
    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Case {
        /// `DNS:<name>` or `IP:<address>`, as `openssl x509 -text` writes a subjectAltName.
        san: String,
        host: String,
        covered: bool,
        why: String,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Table {
        #[serde(rename = "_about")]
        _about: String,
        cases: Vec<Case>,
    }

    fn covered(san: &str, host: &str) -> bool {
        match (san.split_once(':'), host.parse::<IpAddr>()) {
            (Some(("IP", ip)), Ok(host_ip)) => {
                covers_ip([ip.parse().expect("the table's IP SANs parse")], host_ip)
            }
            (Some(("DNS", name)), Err(_)) => matching_dns_name([name], host).is_some(),
            (Some(("IP" | "DNS", _)), _) => false,
            _ => panic!("SAN {san:?} is neither DNS: nor IP:"),
        }
    }

    #[test]
    fn the_shared_table_holds() {
        let table: Table = serde_json::from_str(include_str!("../tests/cases.json"))
            .expect("tests/cases.json parses");
        assert!(table.cases.len() > 40);
        let wrong: Vec<String> = table
            .cases
            .iter()
            .filter(|case| covered(&case.san, &case.host) != case.covered)
            .map(|case| {
                format!(
                    "{} for {}: want {} ({})",
                    case.san, case.host, case.covered, case.why
                )
            })
            .collect();
        assert!(wrong.is_empty(), "{wrong:#?}");
    }

    #[test]
    fn names_are_refused_with_reasons() {
        fn presented(name: &str) -> Option<NameError> {
            check_presented_dns_name(name).err()
        }
        fn reference(name: &str) -> Option<NameError> {
            check_reference_dns_name(name).err()
        }
        assert_eq!(presented("*.example.com"), None);
        assert_eq!(presented("_acme.Example.com"), None);
        assert_eq!(presented(""), Some(NameError::Empty));
        assert_eq!(presented("10.0.0.1"), Some(NameError::IpAddress));
        assert_eq!(presented("fd00::1"), Some(NameError::IpAddress));
        assert_eq!(presented("example.com."), Some(NameError::TrailingDot));
        assert_eq!(presented("a..example.com"), Some(NameError::EmptyLabel));
        assert_eq!(presented("-a.example.com"), Some(NameError::Hyphen));
        assert_eq!(presented("a-.example.com"), Some(NameError::Hyphen));
        assert_eq!(presented("bücher.example"), Some(NameError::Character));
        assert_eq!(presented("a b.example"), Some(NameError::Character));
        assert_eq!(presented("*.0.0.1"), Some(NameError::NumericLastLabel));
        assert_eq!(
            presented("f*.example.com"),
            Some(NameError::MisplacedWildcard)
        );
        assert_eq!(
            presented("a.*.example.com"),
            Some(NameError::MisplacedWildcard)
        );
        assert_eq!(presented("*.com"), Some(NameError::WildcardTooBroad));
        assert_eq!(presented(&"a".repeat(64)), Some(NameError::LabelTooLong));
        let long = ["a"; 128].join(".");
        assert_eq!(presented(&long), Some(NameError::TooLong));
        assert_eq!(reference("example.com."), None);
        assert_eq!(reference("localhost"), None);
        assert_eq!(reference("example.com.."), Some(NameError::EmptyLabel));
        assert_eq!(reference("*.example.com"), Some(NameError::WildcardHost));
        assert_eq!(reference("010.0.0.1"), Some(NameError::NumericLastLabel));
    }

    #[test]
    fn lists_answer_the_first_match() {
        let sans = ["registry.example.com", "*.registry.example.com"];
        assert_eq!(
            matching_dns_name(sans, "eastus.registry.example.com"),
            Some("*.registry.example.com")
        );
        assert_eq!(matching_dns_name(sans, "a.b.registry.example.com"), None);
        let ips: [IpAddr; 2] = [
            "10.0.0.1".parse().expect("ip"),
            "fd00::1".parse().expect("ip"),
        ];
        assert!(covers_ip(ips, "fd00:0::1".parse().expect("ip")));
        assert!(!covers_ip(ips, "::ffff:10.0.0.1".parse().expect("ip")));
    }
}
