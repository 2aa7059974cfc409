//! The private-endpoint DNS check: the registry's login endpoint and each regional data
//! endpoint must resolve through their `privatelink` names to private addresses, as they do
//! when the private DNS zone `privatelink.azurecr.io` is linked to the clients' network. Each
//! problem found comes with its fix.

use std::fmt::Write as _;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use serde::Serialize;

use super::dns::{self, DnsError, Resolution};

/// The public DNS zone of registries.
pub const REGISTRY_ZONE: &str = "azurecr.io";
/// The private DNS zone private endpoints of registries use.
pub const PRIVATE_LINK_ZONE: &str = "privatelink.azurecr.io";

/// A registry or region name that cannot be checked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PrivateEndpointError {
    #[error(
        "`{name}` is not a registry name: {reason} (a registry name is 5 to 50 letters and \
         digits, e.g. contoso for contoso.azurecr.io)"
    )]
    InvalidRegistryName { name: String, reason: &'static str },
    #[error("`{name}` is not a region name: use the short name, e.g. eastus or westeurope")]
    InvalidRegion { name: String },
}

/// What to check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrivateEndpointRequest {
    /// The registry name; with or without `.azurecr.io`, any case.
    pub registry: String,
    /// The regions whose data endpoints (`<registry>.<region>.data.azurecr.io`) to check.
    pub regions: Vec<String>,
    /// The DNS server to ask (the clients' server).
    pub dns_server: SocketAddr,
    /// How long each DNS question may take.
    pub timeout: Duration,
}

/// Which kind of problem an endpoint has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ProblemKind {
    /// The DNS server gave no usable answer.
    DnsError,
    /// The name does not exist at all.
    NotFound,
    /// The chain does not pass through the privatelink name: public DNS is answering.
    NoPrivatelinkCname,
    /// The privatelink name has no address record.
    MissingRecord,
    /// The chain ends at an address that is not private.
    PublicAddress,
}

/// One problem with an endpoint, and how to fix it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    pub kind: ProblemKind,
    pub message: String,
    pub fix: String,
}

/// One endpoint as the DNS server resolves it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EndpointReport {
    /// `contoso.azurecr.io` or `contoso.eastus.data.azurecr.io`.
    pub name: String,
    /// The name the chain must pass through, in the private zone.
    pub privatelink_name: String,
    /// The record's name inside `privatelink.azurecr.io`: `contoso`, `contoso.eastus.data`.
    pub record: String,
    /// The name, then each CNAME target.
    pub chain: Vec<String>,
    pub addresses: Vec<IpAddr>,
    pub passed: bool,
    pub problems: Vec<Problem>,
}

/// Every endpoint checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PrivateEndpointReport {
    pub registry: String,
    pub dns_server: String,
    pub passed: bool,
    pub endpoints: Vec<EndpointReport>,
}

/// The registry name lowercased, without `.azurecr.io`, once it is 5 to 50 letters and digits.
pub fn registry_name(name: &str) -> Result<String, PrivateEndpointError> {
    let lower = name.trim().to_ascii_lowercase();
    let bare = lower
        .strip_suffix(&format!(".{REGISTRY_ZONE}"))
        .unwrap_or(&lower);
    let invalid = |reason| PrivateEndpointError::InvalidRegistryName {
        name: name.to_owned(),
        reason,
    };
    if !bare.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(invalid("only letters and digits are allowed"));
    }
    if !(5..=50).contains(&bare.len()) {
        return Err(invalid("it must be 5 to 50 characters long"));
    }
    Ok(bare.to_owned())
}

fn region_name(name: &str) -> Result<String, PrivateEndpointError> {
    let lower = name.trim().to_ascii_lowercase();
    if lower.is_empty() || lower.len() > 40 || !lower.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(PrivateEndpointError::InvalidRegion {
            name: name.to_owned(),
        });
    }
    Ok(lower)
}

/// Checks the login endpoint and each region's data endpoint. Names are validated first; a
/// DNS failure is reported as that endpoint's problem, so every endpoint is checked.
pub fn private_endpoint_check(
    request: &PrivateEndpointRequest,
) -> Result<PrivateEndpointReport, PrivateEndpointError> {
    let registry = registry_name(&request.registry)?;
    let mut records = vec![registry.clone()];
    for region in &request.regions {
        records.push(format!("{registry}.{}.data", region_name(region)?));
    }
    let endpoints: Vec<EndpointReport> = records
        .into_iter()
        .map(|record| {
            let name = format!("{record}.{REGISTRY_ZONE}");
            let resolved = dns::resolve(request.dns_server, &name, request.timeout);
            check_endpoint(name, record, resolved)
        })
        .collect();
    Ok(PrivateEndpointReport {
        registry,
        dns_server: request.dns_server.to_string(),
        passed: endpoints.iter().all(|endpoint| endpoint.passed),
        endpoints,
    })
}

fn check_endpoint(
    name: String,
    record: String,
    resolved: Result<Resolution, DnsError>,
) -> EndpointReport {
    let privatelink_name = format!("{record}.{PRIVATE_LINK_ZONE}");
    let mut report = EndpointReport {
        chain: vec![name.clone()],
        name,
        privatelink_name,
        record,
        addresses: Vec::new(),
        passed: false,
        problems: Vec::new(),
    };
    match resolved {
        Ok(resolution) => {
            report.problems = problems(&report, &resolution);
            report.chain = resolution.chain;
            report.addresses = resolution.addresses;
        }
        Err(error) => report.problems.push(Problem {
            kind: ProblemKind::DnsError,
            message: format!("{}: {}", report.name, error_chain(&error)),
            fix: "check that the DNS server is the one the clients use and that it is reachable \
                  (--dns-server IP[:PORT])"
                .to_owned(),
        }),
    }
    report.passed = report.problems.is_empty();
    report
}

fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let _ = write!(text, ": {cause}");
        source = cause.source();
    }
    text
}

fn problems(endpoint: &EndpointReport, resolution: &Resolution) -> Vec<Problem> {
    let mut problems = Vec::new();
    let name = &endpoint.name;
    let privatelink = &endpoint.privatelink_name;
    let record = &endpoint.record;
    let chain = resolution.chain.join(" -> ");
    let rcode = resolution.rcode;
    let answered = rcode == dns::Rcode::NO_ERROR || rcode == dns::Rcode::NXDOMAIN;
    if !answered {
        problems.push(Problem {
            kind: ProblemKind::DnsError,
            message: format!(
                "the DNS server answered {} for {}",
                rcode.name(),
                resolution.end()
            ),
            fix: "check the DNS server's forwarders: it must reach Azure DNS (168.63.129.16) \
                  from inside the virtual network"
                .to_owned(),
        });
        return problems;
    }
    let through_privatelink = resolution.chain.iter().any(|hop| hop == privatelink);
    let link_zone_fix = format!(
        "link the private DNS zone {PRIVATE_LINK_ZONE} to the clients' virtual network; with \
         your own DNS servers, add a conditional forwarder for {REGISTRY_ZONE} to Azure DNS \
         (168.63.129.16) from inside that network"
    );
    if !through_privatelink {
        if resolution.chain.len() == 1 && resolution.addresses.is_empty() {
            problems.push(Problem {
                kind: ProblemKind::NotFound,
                message: format!("{name} does not resolve ({})", rcode.name()),
                fix: "check the registry name, and for a data endpoint the region: it must be a \
                      region the registry is replicated to, with dedicated data endpoints \
                      enabled"
                    .to_owned(),
            });
            return problems;
        }
        problems.push(Problem {
            kind: ProblemKind::NoPrivatelinkCname,
            message: format!(
                "{name} does not resolve through {privatelink} ({chain}): public DNS is answering"
            ),
            fix: link_zone_fix.clone(),
        });
    } else if resolution.addresses.is_empty() {
        problems.push(Problem {
            kind: ProblemKind::MissingRecord,
            message: format!(
                "{} has no address record ({}; chain {chain})",
                resolution.end(),
                rcode.name()
            ),
            fix: format!(
                "create an A record `{record}` in the zone {PRIVATE_LINK_ZONE} pointing at the \
                 private endpoint's network interface address for this endpoint"
            ),
        });
    }
    let public: Vec<String> = resolution
        .addresses
        .iter()
        .filter(|address| !is_private(**address))
        .map(IpAddr::to_string)
        .collect();
    if !public.is_empty() {
        let fix = if through_privatelink {
            format!(
                "the record `{record}` in the zone {PRIVATE_LINK_ZONE} must hold the private \
                 endpoint's network interface address; if the chain goes on past \
                 {privatelink}, the private zone is not the one answering: {link_zone_fix}"
            )
        } else {
            link_zone_fix
        };
        problems.push(Problem {
            kind: ProblemKind::PublicAddress,
            message: format!(
                "{name} resolves to {}, not a private address ({chain})",
                public.join(", ")
            ),
            fix,
        });
    }
    problems
}

/// RFC 1918, RFC 6598 (100.64.0.0/10) and IPv6 unique local (fc00::/7) addresses; an
/// IPv4-mapped IPv6 address counts as its IPv4 address.
pub fn is_private(address: IpAddr) -> bool {
    match address.to_canonical() {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            v4.is_private() || (a == 100 && (64..128).contains(&b))
        }
        IpAddr::V6(v6) => v6.segments()[0] & 0xFE00 == 0xFC00,
    }
}

impl PrivateEndpointReport {
    /// One line per endpoint with its chain and addresses, then its problems and fixes.
    pub fn to_text(&self) -> String {
        let mut text = format!(
            "Private endpoint DNS of {} (DNS server {}):\n",
            self.registry, self.dns_server
        );
        for endpoint in &self.endpoints {
            let addresses = if endpoint.addresses.is_empty() {
                "no address".to_owned()
            } else {
                endpoint
                    .addresses
                    .iter()
                    .map(IpAddr::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let _ = writeln!(
                text,
                "{}  {} -> {}",
                if endpoint.passed { "PASS" } else { "FAIL" },
                endpoint.chain.join(" -> "),
                addresses
            );
            for problem in &endpoint.problems {
                let _ = writeln!(text, "      problem: {}", problem.message);
                let _ = writeln!(text, "      fix:     {}", problem.fix);
            }
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_names_are_validated_and_lowercased() {
        assert_eq!(registry_name("Contoso").expect("valid"), "contoso");
        assert_eq!(
            registry_name("contoso.AzureCR.io").expect("valid"),
            "contoso"
        );
        for (bad, reason) in [
            ("abcd", "5 to 50"),
            (&"a".repeat(51), "5 to 50"),
            ("con-toso", "letters and digits"),
            ("contoso.example.com", "letters and digits"),
        ] {
            let err = registry_name(bad).expect_err(bad).to_string();
            assert!(err.contains(reason), "{err}");
            assert!(err.contains("contoso.azurecr.io"), "{err}");
        }
        assert!(region_name("EastUS").is_ok());
        assert!(region_name("east us").is_err());
    }

    #[test]
    fn private_ranges_are_recognised() {
        for private in [
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.0.1",
            "100.64.0.1",
            "100.127.255.255",
            "fd00::1",
            "fc00::1",
            "::ffff:10.0.0.1",
        ] {
            assert!(is_private(private.parse().expect("ip")), "{private}");
        }
        for public in [
            "20.1.2.3",
            "172.32.0.1",
            "100.128.0.1",
            "100.63.255.255",
            "2001:db8::1",
            "fe80::1",
            "::ffff:20.0.0.1",
        ] {
            assert!(!is_private(public.parse().expect("ip")), "{public}");
        }
    }
}
