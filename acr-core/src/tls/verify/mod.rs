//! Checking a serving certificate the way TLS clients will, reporting every problem found rather
//! than stopping at the first: key match, chain order and signatures, CA flags, validity,
//! names, usages. The chain checks are in `path`, the serving certificate's in `leaf`.

mod leaf;
mod node;
mod path;
mod report;
#[cfg(test)]
mod tests;

use std::net::IpAddr;

use time::OffsetDateTime;

pub use report::{Check, Outcome, VerifyReport};

use super::describe::SubjectAltNames;
use super::load::{LoadedCertificate, PrivateKey};
use node::parse_nodes;
use report::Reporter;

/// What to verify: a chain as a server would send it, optionally its key, the CA(s) clients
/// trust, and the names clients will connect to.
#[derive(Debug)]
pub struct VerifyRequest {
    /// The serving certificate first, then intermediates (and possibly the root).
    pub chain: Vec<LoadedCertificate>,
    pub private_key: Option<PrivateKey>,
    /// The CA certificates clients trust (`--ca`). Empty: a self-signed certificate at the end
    /// of the chain is taken as the root.
    pub trust_anchors: Vec<LoadedCertificate>,
    pub ips: Vec<IpAddr>,
    pub dns_names: Vec<String>,
    pub now: OffsetDateTime,
}

impl VerifyRequest {
    /// A request for `chain` at `now`, with no key, no CA and no names to check yet.
    pub fn new(chain: Vec<LoadedCertificate>, now: OffsetDateTime) -> Self {
        VerifyRequest {
            chain,
            private_key: None,
            trust_anchors: Vec::new(),
            ips: Vec::new(),
            dns_names: Vec::new(),
            now,
        }
    }
}

/// Runs every check on the request and reports them all.
pub fn verify(request: &VerifyRequest) -> VerifyReport {
    let mut reporter = Reporter { checks: Vec::new() };
    let chain = parse_nodes(&request.chain, false, &mut reporter);
    let anchors = parse_nodes(&request.trust_anchors, true, &mut reporter);
    let Some(leaf) = chain.first().filter(|node| node.index == 0) else {
        if request.chain.is_empty() {
            reporter.add(
                "parse",
                "chain",
                Outcome::Fail,
                "no certificate to verify".to_owned(),
            );
        }
        return VerifyReport {
            checks: reporter.checks,
        };
    };

    if let Some(private_key) = &request.private_key {
        leaf::check_key(leaf, private_key, &mut reporter);
    }
    path::check_chain_order(&chain, &mut reporter);
    let used_anchors = path::check_path(&chain, &anchors, &mut reporter);
    leaf::check_leaf_not_ca(leaf, &mut reporter);
    for node in chain.iter().chain(used_anchors) {
        leaf::check_validity(node, request.now, &mut reporter);
    }
    let sans = SubjectAltNames::from_certificate(&leaf.certificate);
    leaf::check_not_cn_only(leaf, sans.as_ref(), &mut reporter);
    let sans = sans.unwrap_or_default();
    for ip in &request.ips {
        leaf::check_ip_covered(leaf, &sans, *ip, &mut reporter);
    }
    for name in &request.dns_names {
        leaf::check_dns_covered(leaf, &sans, name, &mut reporter);
    }
    leaf::check_server_auth(leaf, &mut reporter);
    leaf::check_key_usage(leaf, &mut reporter);
    VerifyReport {
        checks: reporter.checks,
    }
}
