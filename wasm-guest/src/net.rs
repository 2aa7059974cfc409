//! Address helpers policies need: CIDR membership, and certificate name matching over the
//! certificate facts (the matching itself is `acr-names`, the host's own).

use crate::review::CertificateFacts;
use std::net::IpAddr;
use std::str::FromStr;

/// An IP network in CIDR notation, for example `10.0.0.0/8` or `fd00::/64`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    network: IpAddr,
    prefix_len: u8,
}

/// Why a CIDR text does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CidrError {
    #[error("`{0}` is not in CIDR notation (address/prefix length)")]
    MissingPrefix(String),
    #[error("`{0}` does not start with an IP address")]
    Address(String),
    #[error("`{text}` has prefix length {prefix}, more than the {max} bits of its address")]
    PrefixTooLong {
        text: String,
        prefix: String,
        max: u8,
    },
}

impl Cidr {
    /// The first address of the network, as written.
    pub fn network(&self) -> IpAddr {
        self.network
    }

    pub fn prefix_len(&self) -> u8 {
        self.prefix_len
    }

    /// Whether `ip` lies in this network. Addresses of the other family never do.
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.network, ip) {
            (IpAddr::V4(network), IpAddr::V4(ip)) => {
                let mask = prefix_mask_u32(self.prefix_len);
                u32::from(network) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(network), IpAddr::V6(ip)) => {
                let mask = prefix_mask_u128(self.prefix_len);
                u128::from(network) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

fn prefix_mask_u32(prefix_len: u8) -> u32 {
    u32::MAX
        .checked_shl(32 - u32::from(prefix_len))
        .unwrap_or(0)
}

fn prefix_mask_u128(prefix_len: u8) -> u128 {
    u128::MAX
        .checked_shl(128 - u32::from(prefix_len))
        .unwrap_or(0)
}

impl FromStr for Cidr {
    type Err = CidrError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let (address, prefix) = text
            .split_once('/')
            .ok_or_else(|| CidrError::MissingPrefix(text.to_owned()))?;
        let network: IpAddr = address
            .parse()
            .map_err(|_| CidrError::Address(text.to_owned()))?;
        let max = if network.is_ipv4() { 32 } else { 128 };
        let prefix_too_long = || CidrError::PrefixTooLong {
            text: text.to_owned(),
            prefix: prefix.to_owned(),
            max,
        };
        let prefix_len: u8 = prefix.parse().map_err(|_| prefix_too_long())?;
        if prefix_len > max {
            return Err(prefix_too_long());
        }
        Ok(Self {
            network,
            prefix_len,
        })
    }
}

/// Whether `ip` lies in the network `cidr` (for example `10.0.0.0/8`).
pub fn ip_in_cidr(ip: IpAddr, cidr: &str) -> Result<bool, CidrError> {
    Ok(cidr.parse::<Cidr>()?.contains(ip))
}

/// Whether one of the certificate's DNS subject alternative names covers the host name `name`
/// ([`acr_names::dns_name_matches`]). The common name is not consulted.
pub fn san_covers_dns(certificate: &CertificateFacts, name: &str) -> bool {
    acr_names::matching_dns_name(
        certificate.subject_alt_names.dns.iter().map(String::as_str),
        name,
    )
    .is_some()
}

/// Whether one of the certificate's IP subject alternative names is `ip`
/// ([`acr_names::ip_matches`]: `fd00::1` equals `fd00:0::1`; `::ffff:10.0.0.1` is not `10.0.0.1`).
pub fn san_covers_ip(certificate: &CertificateFacts, ip: IpAddr) -> bool {
    let sans = certificate
        .subject_alt_names
        .ip
        .iter()
        .filter_map(|text| text.parse::<IpAddr>().ok());
    acr_names::covers_ip(sans, ip)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::review::{CertificateRole, SubjectAltNames};

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("test address parses")
    }

    fn certificate_with_sans(dns: &[&str], ips: &[&str]) -> CertificateFacts {
        serde_json::from_value(serde_json::json!({ "role": "serving" }))
            .map(|cert: CertificateFacts| CertificateFacts {
                subject_alt_names: SubjectAltNames {
                    dns: dns.iter().map(|s| (*s).to_owned()).collect(),
                    ip: ips.iter().map(|s| (*s).to_owned()).collect(),
                    ..SubjectAltNames::default()
                },
                ..cert
            })
            .expect("minimal certificate facts parse")
    }

    #[test]
    fn cidr_membership_for_both_families() {
        assert_eq!(ip_in_cidr(ip("10.1.2.3"), "10.0.0.0/8"), Ok(true));
        assert_eq!(ip_in_cidr(ip("11.1.2.3"), "10.0.0.0/8"), Ok(false));
        assert_eq!(ip_in_cidr(ip("192.168.1.7"), "192.168.1.7/32"), Ok(true));
        assert_eq!(ip_in_cidr(ip("192.168.1.8"), "192.168.1.7/32"), Ok(false));
        assert_eq!(ip_in_cidr(ip("8.8.8.8"), "0.0.0.0/0"), Ok(true));
        assert_eq!(ip_in_cidr(ip("fd00::1"), "fd00::/64"), Ok(true));
        assert_eq!(ip_in_cidr(ip("fd01::1"), "fd00::/64"), Ok(false));
        assert_eq!(ip_in_cidr(ip("::1"), "::/0"), Ok(true));
        assert_eq!(ip_in_cidr(ip("10.0.0.1"), "::/0"), Ok(false));
    }

    #[test]
    fn cidr_errors_name_the_text() {
        let missing = ip_in_cidr(ip("10.0.0.1"), "10.0.0.0").expect_err("no prefix");
        assert_eq!(
            missing.to_string(),
            "`10.0.0.0` is not in CIDR notation (address/prefix length)"
        );
        let too_long = ip_in_cidr(ip("10.0.0.1"), "10.0.0.0/33").expect_err("prefix too long");
        assert_eq!(
            too_long.to_string(),
            "`10.0.0.0/33` has prefix length 33, more than the 32 bits of its address"
        );
        let address = ip_in_cidr(ip("10.0.0.1"), "ten/8").expect_err("bad address");
        assert_eq!(
            address.to_string(),
            "`ten/8` does not start with an IP address"
        );
    }

    #[test]
    fn sans_cover_names_and_addresses() {
        let cert = certificate_with_sans(
            &["*.corp.example", "registry.local"],
            &["fd00:0::1", "10.0.0.5"],
        );
        assert_eq!(cert.role, CertificateRole::Serving);
        assert!(san_covers_dns(&cert, "acr.corp.example"));
        assert!(san_covers_dns(&cert, "registry.local"));
        assert!(!san_covers_dns(&cert, "corp.example"));
        assert!(san_covers_ip(&cert, ip("fd00::1")));
        assert!(san_covers_ip(&cert, ip("10.0.0.5")));
        assert!(!san_covers_ip(&cert, ip("10.0.0.6")));
        assert!(!san_covers_ip(&cert, ip("::ffff:10.0.0.5")));
    }
}
