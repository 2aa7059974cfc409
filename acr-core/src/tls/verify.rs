//! Checking a serving certificate the way TLS clients will, reporting every problem found rather
//! than stopping at the first: key match, chain order and signatures, CA flags, validity,
//! names, usages.

use std::fmt::Write as _;
use std::net::IpAddr;

use serde::Serialize;
use time::OffsetDateTime;
use x509_parser::certificate::X509Certificate;
use x509_parser::error::X509Error;

use super::describe::{
    PublicKeyInfo, SubjectAltNames, extended_key_usage_names, name_text, oid_name, rfc3339,
};
use super::error::TlsError;
use super::generate::why_not_a_ca;
use super::load::{LoadedCertificate, PrivateKey, parse_certificate};

/// Certificates with fewer days left than this get a warning.
const EXPIRY_WARNING_DAYS: i64 = 30;

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

/// The result of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Pass,
    Warn,
    Fail,
}

impl Outcome {
    fn label(self) -> &'static str {
        match self {
            Outcome::Pass => "PASS",
            Outcome::Warn => "WARN",
            Outcome::Fail => "FAIL",
        }
    }
}

/// One check: what was checked, about what, and how it went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    /// A stable kebab-case identifier: "parse", "key-matches", "chain-order", "signature",
    /// "trust-anchor", "chain-unused", "ca-flags", "validity", "san-covers", "not-cn-only",
    /// "server-auth", "key-usage".
    pub name: String,
    /// What it was about: a certificate subject, "chain", or a name such as "IP 10.0.0.1".
    pub subject: String,
    pub outcome: Outcome,
    pub detail: String,
}

/// Every check made, in the order made.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VerifyReport {
    pub checks: Vec<Check>,
}

impl VerifyReport {
    /// True when no check failed (warnings allowed).
    pub fn passed(&self) -> bool {
        self.failures().next().is_none()
    }

    /// The failed checks.
    pub fn failures(&self) -> impl Iterator<Item = &Check> {
        self.with_outcome(Outcome::Fail)
    }

    /// The checks with a warning.
    pub fn warnings(&self) -> impl Iterator<Item = &Check> {
        self.with_outcome(Outcome::Warn)
    }

    fn with_outcome(&self, outcome: Outcome) -> impl Iterator<Item = &Check> {
        self.checks
            .iter()
            .filter(move |check| check.outcome == outcome)
    }

    /// One aligned line per check, then a summary line.
    pub fn to_text(&self) -> String {
        let name_width = self
            .checks
            .iter()
            .map(|check| check.name.len())
            .max()
            .unwrap_or(0);
        let mut text = String::new();
        for check in &self.checks {
            let _ = writeln!(
                text,
                "{}  {:<name_width$}  {}: {}",
                check.outcome.label(),
                check.name,
                check.subject,
                check.detail,
            );
        }
        let count = |outcome| self.with_outcome(outcome).count();
        let _ = writeln!(
            text,
            "{}: {} failed, {} warnings, {} passed",
            if self.passed() { "PASSED" } else { "FAILED" },
            count(Outcome::Fail),
            count(Outcome::Warn),
            count(Outcome::Pass),
        );
        text
    }
}

impl Serialize for VerifyReport {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Report<'a> {
            passed: bool,
            checks: &'a [Check],
        }
        Report {
            passed: self.passed(),
            checks: &self.checks,
        }
        .serialize(serializer)
    }
}

/// A parsed certificate of the request, with where it came from.
struct Node<'a> {
    /// Index in the chain or the trust anchors.
    index: usize,
    der: &'a [u8],
    certificate: X509Certificate<'a>,
    subject: String,
    is_anchor: bool,
}

impl Node<'_> {
    fn issuer_name(&self) -> String {
        name_text(self.certificate.issuer())
    }

    fn is_issued_by(&self, issuer: &Node<'_>) -> bool {
        self.certificate.issuer().as_raw() == issuer.certificate.subject().as_raw()
    }

    fn place(&self) -> String {
        if self.is_anchor {
            "the given CA".to_owned()
        } else {
            format!("chain position {}", self.index + 1)
        }
    }
}

struct Reporter {
    checks: Vec<Check>,
}

impl Reporter {
    fn add(&mut self, name: &str, subject: &str, outcome: Outcome, detail: String) {
        self.checks.push(Check {
            name: name.to_owned(),
            subject: subject.to_owned(),
            outcome,
            detail,
        });
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
        check_key(leaf, private_key, &mut reporter);
    }
    check_chain_order(&chain, &mut reporter);
    let used_anchors = check_path(&chain, &anchors, &mut reporter);
    check_leaf_not_ca(leaf, &mut reporter);
    for node in chain.iter().chain(used_anchors) {
        check_validity(node, request.now, &mut reporter);
    }
    let sans = SubjectAltNames::from_certificate(&leaf.certificate);
    check_not_cn_only(leaf, sans.as_ref(), &mut reporter);
    let sans = sans.unwrap_or_default();
    for ip in &request.ips {
        check_ip_covered(leaf, &sans, *ip, &mut reporter);
    }
    for name in &request.dns_names {
        check_dns_covered(leaf, &sans, name, &mut reporter);
    }
    check_server_auth(leaf, &mut reporter);
    check_key_usage(leaf, &mut reporter);
    VerifyReport {
        checks: reporter.checks,
    }
}

fn parse_nodes<'a>(
    certificates: &'a [LoadedCertificate],
    is_anchor: bool,
    reporter: &mut Reporter,
) -> Vec<Node<'a>> {
    let mut nodes = Vec::with_capacity(certificates.len());
    for (index, loaded) in certificates.iter().enumerate() {
        match parse_certificate(&loaded.der, &loaded.origin) {
            Ok(certificate) => nodes.push(Node {
                index,
                der: &loaded.der,
                subject: name_text(certificate.subject()),
                certificate,
                is_anchor,
            }),
            Err(err) => {
                let detail = match err {
                    TlsError::InvalidCertificate { reason, .. } => {
                        format!("not a valid certificate: {reason}")
                    }
                    other => other.to_string(),
                };
                reporter.add("parse", &loaded.origin, Outcome::Fail, detail);
            }
        }
    }
    nodes
}

fn check_key(leaf: &Node<'_>, private_key: &PrivateKey, reporter: &mut Reporter) {
    let key = private_key.description();
    let certificate_key = PublicKeyInfo::from_spki(leaf.certificate.public_key()).description;
    let (outcome, detail) = if private_key.matches_certificate(&leaf.certificate) {
        (
            Outcome::Pass,
            format!("the private key ({key}) belongs to this certificate"),
        )
    } else {
        (
            Outcome::Fail,
            format!(
                "the private key ({key}) does not belong to this certificate (its key is \
                 {certificate_key}); the server would fail to start or clients would reject it"
            ),
        )
    };
    reporter.add("key-matches", &leaf.subject, outcome, detail);
}

fn check_chain_order(chain: &[Node<'_>], reporter: &mut Reporter) {
    if chain.len() < 2 {
        return;
    }
    let mismatches: Vec<String> = chain
        .windows(2)
        .filter(|pair| !pair[0].is_issued_by(&pair[1]))
        .map(|pair| {
            format!(
                "position {} ({}) was issued by {}, but position {} is {}",
                pair[0].index + 1,
                pair[0].subject,
                pair[0].issuer_name(),
                pair[1].index + 1,
                pair[1].subject,
            )
        })
        .collect();
    if mismatches.is_empty() {
        reporter.add(
            "chain-order",
            "chain",
            Outcome::Pass,
            format!("{} certificates, each issued by the next", chain.len()),
        );
        return;
    }
    let mut detail = mismatches.join("; ");
    if let Some(order) = proposed_order(chain) {
        let listed: Vec<String> = order
            .iter()
            .map(|position| format!("{} ({})", chain[*position].subject, position + 1))
            .collect();
        let _ = write!(
            detail,
            "; the right order is: {} (current positions in brackets)",
            listed.join(", ")
        );
    }
    reporter.add("chain-order", "chain", Outcome::Fail, detail);
}

/// The order that makes every certificate issued by the next one, when there is exactly one.
fn proposed_order(chain: &[Node<'_>]) -> Option<Vec<usize>> {
    let issues_another = |candidate: usize| {
        chain
            .iter()
            .enumerate()
            .any(|(other, node)| other != candidate && node.is_issued_by(&chain[candidate]))
    };
    let mut starts = (0..chain.len()).filter(|candidate| !issues_another(*candidate));
    let start = starts.next()?;
    if starts.next().is_some() {
        return None;
    }
    let mut order = vec![start];
    while order.len() < chain.len() {
        let current = &chain[*order.last()?];
        let next = (0..chain.len()).find(|candidate| {
            !order.contains(candidate) && current.is_issued_by(&chain[*candidate])
        })?;
        order.push(next);
    }
    Some(order)
}

/// Walks from the leaf to a trust anchor (or a self-signed root), checking each signature and
/// each issuer's CA flags. Returns the trust anchors used.
fn check_path<'n, 'a>(
    chain: &'n [Node<'a>],
    anchors: &'n [Node<'a>],
    reporter: &mut Reporter,
) -> Vec<&'n Node<'a>> {
    let mut used_anchors = Vec::new();
    // Indexed by chain position; certificates that did not parse have no node.
    let mut visited = vec![false; chain.last().map_or(0, |node| node.index + 1)];
    visited[0] = true;
    let mut current = &chain[0];
    let mut depth = 0;
    loop {
        let self_issued = current.is_issued_by(current);
        let candidates: Vec<&Node<'a>> = anchors
            .iter()
            .filter(|anchor| current.is_issued_by(anchor))
            .chain(self_issued.then_some(current))
            .chain(
                chain
                    .iter()
                    .filter(|node| !visited[node.index] && current.is_issued_by(node)),
            )
            .collect();
        if candidates.is_empty() {
            report_missing_issuer(current, anchors, reporter);
            break;
        }
        let Some((issuer, verified)) = find_signer(current, &candidates) else {
            let tried: Vec<String> = candidates
                .iter()
                .map(|candidate| format!("{} ({})", candidate.subject, candidate.place()))
                .collect();
            reporter.add(
                "signature",
                &current.subject,
                Outcome::Fail,
                format!(
                    "the signature does not verify with the key of {}: a different key with the \
                     same name signed it (wrong CA?)",
                    tried.join(", ")
                ),
            );
            break;
        };
        if verified {
            let signer = if std::ptr::eq(issuer, current) {
                "its own key (self-signed)".to_owned()
            } else {
                format!("{} ({})", issuer.subject, issuer.place())
            };
            reporter.add(
                "signature",
                &current.subject,
                Outcome::Pass,
                format!("signed by {signer}"),
            );
        } else {
            reporter.add(
                "signature",
                &current.subject,
                Outcome::Warn,
                format!(
                    "the signature algorithm {} cannot be checked here",
                    oid_name(&current.certificate.signature_algorithm.algorithm)
                ),
            );
        }

        if std::ptr::eq(issuer, current) {
            report_self_signed_end(current, anchors, reporter);
            break;
        }
        if issuer.is_anchor && issuer.der == current.der {
            reporter.add(
                "trust-anchor",
                &current.subject,
                Outcome::Pass,
                "the certificate itself is the given CA".to_owned(),
            );
            break;
        }
        depth += 1;
        check_issuer_flags(issuer, current, depth, reporter);
        if issuer.is_anchor {
            // A chain that ends with the given CA itself: that certificate is on the path.
            match chain.iter().find(|node| node.der == issuer.der) {
                Some(same) => visited[same.index] = true,
                None => used_anchors.push(issuer),
            }
            reporter.add(
                "trust-anchor",
                &issuer.subject,
                Outcome::Pass,
                "the chain reaches the given CA".to_owned(),
            );
            break;
        }
        visited[issuer.index] = true;
        current = issuer;
    }
    for node in chain.iter().filter(|node| !visited[node.index]) {
        reporter.add(
            "chain-unused",
            &node.subject,
            Outcome::Warn,
            format!(
                "chain position {} is not on the path from the serving certificate to its CA; \
                 drop it",
                node.index + 1
            ),
        );
    }
    used_anchors
}

/// The candidate whose key verifies `certificate`'s signature, with `true`; else one whose
/// signature algorithm cannot be checked here, with `false`.
fn find_signer<'n, 'a>(
    certificate: &Node<'a>,
    candidates: &[&'n Node<'a>],
) -> Option<(&'n Node<'a>, bool)> {
    let mut uncheckable = None;
    for candidate in candidates {
        match certificate
            .certificate
            .verify_signature(Some(candidate.certificate.public_key()))
        {
            Ok(()) => return Some((candidate, true)),
            Err(X509Error::SignatureUnsupportedAlgorithm) => {
                uncheckable.get_or_insert((*candidate, false));
            }
            Err(_) => {}
        }
    }
    uncheckable
}

fn anchor_list(anchors: &[Node<'_>]) -> String {
    anchors
        .iter()
        .map(|anchor| anchor.subject.as_str())
        .collect::<Vec<_>>()
        .join("; ")
}

fn report_missing_issuer(current: &Node<'_>, anchors: &[Node<'_>], reporter: &mut Reporter) {
    let issuer = current.issuer_name();
    if anchors.is_empty() {
        reporter.add(
            "trust-anchor",
            &current.subject,
            Outcome::Warn,
            format!(
                "issued by {issuer}, which is not in the chain; give that CA with --ca to check \
                 the chain up to it"
            ),
        );
    } else {
        reporter.add(
            "trust-anchor",
            &current.subject,
            Outcome::Fail,
            format!(
                "the chain does not reach the given CA ({}): this certificate was issued by \
                 {issuer}, which is neither in the chain nor the given CA (missing intermediate?)",
                anchor_list(anchors)
            ),
        );
    }
}

fn report_self_signed_end(current: &Node<'_>, anchors: &[Node<'_>], reporter: &mut Reporter) {
    if anchors.is_empty() {
        reporter.add(
            "trust-anchor",
            &current.subject,
            Outcome::Pass,
            "the chain ends at this self-signed certificate; no CA was given, so it is taken as \
             the root"
                .to_owned(),
        );
    } else {
        reporter.add(
            "trust-anchor",
            &current.subject,
            Outcome::Fail,
            format!(
                "the chain ends at this self-signed certificate, which is not the given CA ({})",
                anchor_list(anchors)
            ),
        );
    }
}

fn check_issuer_flags(issuer: &Node<'_>, issued: &Node<'_>, depth: usize, reporter: &mut Reporter) {
    let (outcome, detail) = if let Some(reason) = why_not_a_ca(&issuer.certificate) {
        (
            Outcome::Fail,
            format!("{reason}, yet it issued {}", issued.subject),
        )
    } else {
        let path_len = issuer
            .certificate
            .basic_constraints()
            .ok()
            .flatten()
            .and_then(|extension| extension.value.path_len_constraint);
        let intermediates_below = depth - 1;
        match path_len {
            Some(limit) if intermediates_below > usize::try_from(limit).unwrap_or(usize::MAX) => (
                Outcome::Fail,
                format!(
                    "its pathlen {limit} allows {limit} intermediate CA(s) below it, but \
                     {intermediates_below} follow"
                ),
            ),
            _ => (
                Outcome::Pass,
                "a CA allowed to sign certificates".to_owned(),
            ),
        }
    };
    reporter.add("ca-flags", &issuer.subject, outcome, detail);
}

fn check_leaf_not_ca(leaf: &Node<'_>, reporter: &mut Reporter) {
    let (outcome, detail) = if leaf.certificate.is_ca() {
        (
            Outcome::Warn,
            "the serving certificate is a CA (basicConstraints CA:true); some clients refuse a \
             CA certificate as a server certificate"
                .to_owned(),
        )
    } else {
        (
            Outcome::Pass,
            "the serving certificate is not a CA".to_owned(),
        )
    };
    reporter.add("ca-flags", &leaf.subject, outcome, detail);
}

fn check_validity(node: &Node<'_>, now: OffsetDateTime, reporter: &mut Reporter) {
    let not_before = node.certificate.validity().not_before.to_datetime();
    let not_after = node.certificate.validity().not_after.to_datetime();
    let (outcome, detail) = if now < not_before {
        (
            Outcome::Fail,
            format!(
                "not valid before {} ({} days from now; check the clock)",
                rfc3339(not_before),
                (not_before - now).whole_days()
            ),
        )
    } else if now > not_after {
        (
            Outcome::Fail,
            format!(
                "expired on {} ({} days ago)",
                rfc3339(not_after),
                (now - not_after).whole_days()
            ),
        )
    } else {
        let days_left = (not_after - now).whole_days();
        let outcome = if days_left < EXPIRY_WARNING_DAYS {
            Outcome::Warn
        } else {
            Outcome::Pass
        };
        (
            outcome,
            format!("valid until {} ({days_left} days left)", rfc3339(not_after)),
        )
    };
    reporter.add("validity", &node.subject, outcome, detail);
}

fn common_name(leaf: &Node<'_>) -> Option<String> {
    leaf.certificate
        .subject()
        .iter_common_name()
        .next()
        .and_then(|attribute| attribute.as_str().ok())
        .map(str::to_owned)
}

fn check_not_cn_only(leaf: &Node<'_>, sans: Option<&SubjectAltNames>, reporter: &mut Reporter) {
    let cn = common_name(leaf).map_or_else(|| "no CN".to_owned(), |cn| format!("CN={cn}"));
    let (outcome, detail) = match sans {
        None => (
            Outcome::Fail,
            format!("{cn} only; Go, containerd and browsers ignore the CN, add a subjectAltName"),
        ),
        Some(sans) if sans.is_empty() => (
            Outcome::Fail,
            format!("the subjectAltName is empty ({cn}); add the names clients connect to"),
        ),
        Some(sans) => (Outcome::Pass, format!("subjectAltName: {}", sans.summary())),
    };
    reporter.add("not-cn-only", &leaf.subject, outcome, detail);
}

fn check_ip_covered(leaf: &Node<'_>, sans: &SubjectAltNames, ip: IpAddr, reporter: &mut Reporter) {
    let subject = format!("IP {ip}");
    if sans.covers_ip(ip) {
        reporter.add(
            "san-covers",
            &subject,
            Outcome::Pass,
            "covered by an IP subjectAltName".to_owned(),
        );
        return;
    }
    let spelled = ip.to_string();
    let mut detail = format!(
        "not in the certificate's subjectAltName ({})",
        sans.summary()
    );
    if sans
        .dns
        .iter()
        .any(|dns| dns.trim_end_matches('.') == spelled)
    {
        let _ = write!(
            detail,
            "; a DNS entry spells {spelled}, but clients match IP addresses only against IP entries"
        );
    }
    if common_name(leaf).as_deref() == Some(spelled.as_str()) {
        let _ = write!(detail, "; the CN is {spelled}, but clients ignore the CN");
    }
    reporter.add("san-covers", &subject, Outcome::Fail, detail);
}

fn check_dns_covered(leaf: &Node<'_>, sans: &SubjectAltNames, name: &str, reporter: &mut Reporter) {
    let subject = format!("DNS {name}");
    if let Some(pattern) = sans.matching_dns(name) {
        reporter.add(
            "san-covers",
            &subject,
            Outcome::Pass,
            format!("covered by DNS:{pattern}"),
        );
        return;
    }
    let mut detail = format!(
        "not in the certificate's subjectAltName ({})",
        sans.summary()
    );
    if let Err(reason) = acr_names::check_reference_dns_name(name) {
        let _ = write!(
            detail,
            "; {name} is not a host name clients can match: {reason}"
        );
    }
    for (pattern, reason) in sans.dns.iter().filter_map(|pattern| {
        acr_names::check_presented_dns_name(pattern)
            .err()
            .map(|reason| (pattern, reason))
    }) {
        let _ = write!(detail, "; DNS:{pattern} matches no host: {reason}");
    }
    if common_name(leaf).is_some_and(|cn| cn.eq_ignore_ascii_case(name)) {
        let _ = write!(detail, "; the CN is {name}, but clients ignore the CN");
    }
    reporter.add("san-covers", &subject, Outcome::Fail, detail);
}

fn check_server_auth(leaf: &Node<'_>, reporter: &mut Reporter) {
    let (outcome, detail) = match leaf.certificate.extended_key_usage() {
        Ok(None) => (
            Outcome::Pass,
            "no extendedKeyUsage, so any use is allowed".to_owned(),
        ),
        Ok(Some(extension)) if extension.value.server_auth || extension.value.any => (
            Outcome::Pass,
            "extendedKeyUsage allows serverAuth".to_owned(),
        ),
        Ok(Some(_)) => {
            let usages = extended_key_usage_names(&leaf.certificate).join(", ");
            (
                Outcome::Fail,
                format!(
                    "extendedKeyUsage ({usages}) lacks serverAuth; TLS clients refuse it for a server"
                ),
            )
        }
        Err(err) => (
            Outcome::Fail,
            format!("the extendedKeyUsage extension does not parse: {err}"),
        ),
    };
    reporter.add("server-auth", &leaf.subject, outcome, detail);
}

fn check_key_usage(leaf: &Node<'_>, reporter: &mut Reporter) {
    let (outcome, detail) = match leaf.certificate.key_usage() {
        Ok(None) => (
            Outcome::Pass,
            "no keyUsage, so any use is allowed".to_owned(),
        ),
        Ok(Some(extension)) => {
            let usage = extension.value;
            if usage.digital_signature() || usage.key_encipherment() || usage.key_agreement() {
                (Outcome::Pass, "keyUsage allows a TLS handshake".to_owned())
            } else {
                (
                    Outcome::Fail,
                    "keyUsage has none of digitalSignature, keyEncipherment, keyAgreement; TLS \
                     clients refuse it for a server"
                        .to_owned(),
                )
            }
        }
        Err(err) => (
            Outcome::Fail,
            format!("the keyUsage extension does not parse: {err}"),
        ),
    };
    reporter.add("key-usage", &leaf.subject, outcome, detail);
}

/// Every certificate of `ders`, or `None` when one does not parse.
fn parse_all(ders: &[Vec<u8>]) -> Option<Vec<X509Certificate<'_>>> {
    ders.iter()
        .map(|der| parse_certificate(der, "certificate").ok())
        .collect()
}

/// Where a serving chain stops short of the CA clients are told to trust: the last certificate
/// reached and the issuer it names, which is neither in the chain nor among the CAs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainGap {
    pub subject: String,
    pub issuer: String,
}

/// Whether one of `cas` issued the serving `chain` (leaf first, then intermediates), following
/// signatures up the chain. `Err` names where the path breaks; unreadable certificates are left
/// to the checks that read them (`Ok`).
pub fn chain_issued_by(chain: &[Vec<u8>], cas: &[Vec<u8>]) -> Result<(), ChainGap> {
    let (Some(parsed_chain), Some(parsed_cas)) = (parse_all(chain), parse_all(cas)) else {
        return Ok(());
    };
    if parsed_chain.is_empty() {
        return Ok(());
    }
    let signed_by = |issued: &X509Certificate<'_>, issuer: &X509Certificate<'_>| {
        issued.issuer() == issuer.subject()
            && match issued.verify_signature(Some(issuer.public_key())) {
                Ok(()) | Err(X509Error::SignatureUnsupportedAlgorithm) => true,
                Err(_) => false,
            }
    };
    let mut current = 0;
    for _ in 0..=parsed_chain.len() {
        let reached_ca = cas
            .iter()
            .zip(&parsed_cas)
            .any(|(ca_der, ca)| *ca_der == chain[current] || signed_by(&parsed_chain[current], ca));
        if reached_ca {
            return Ok(());
        }
        match (0..parsed_chain.len()).find(|next| {
            chain[*next] != chain[current]
                && signed_by(&parsed_chain[current], &parsed_chain[*next])
        }) {
            Some(next) => current = next,
            None => break,
        }
    }
    let current = &parsed_chain[current];
    Err(ChainGap {
        subject: name_text(current.subject()),
        issuer: name_text(current.issuer()),
    })
}

#[cfg(test)]
mod tests {
    use rcgen::{ExtendedKeyUsagePurpose, SanType};
    use time::Duration;

    use super::*;
    use crate::tls::test_support::{
        TestCa, bundle_for, certificates, fixture, now, params, private_key,
    };

    fn chain_of(pems: &[&str]) -> Vec<LoadedCertificate> {
        pems.iter()
            .flat_map(|pem_text| certificates(pem_text))
            .collect()
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("ip")
    }

    /// The server fixture with its intermediate, the root as CA, its key and its names.
    fn fixture_request(chain: &[&str]) -> VerifyRequest {
        let mut request = VerifyRequest::new(chain_of(chain), now());
        request.trust_anchors = certificates(fixture!("root-ca.crt"));
        request.private_key = Some(private_key(fixture!("server.key")));
        request.ips = vec![ip("10.0.0.1")];
        request.dns_names = vec!["registry.example.com".to_owned()];
        request
    }

    fn only<'r>(report: &'r VerifyReport, name: &str, outcome: Outcome) -> Vec<&'r Check> {
        report
            .checks
            .iter()
            .filter(|check| check.name == name && check.outcome == outcome)
            .collect()
    }

    fn failure_names(report: &VerifyReport) -> Vec<&str> {
        report.failures().map(|check| check.name.as_str()).collect()
    }

    #[test]
    fn a_good_openssl_chain_passes_every_check() {
        let request = fixture_request(&[fixture!("server.crt"), fixture!("intermediate-ca.crt")]);
        let report = verify(&request);
        assert!(report.passed(), "{}", report.to_text());
        assert_eq!(report.warnings().count(), 0, "{}", report.to_text());
        let names: Vec<&str> = report
            .checks
            .iter()
            .map(|check| check.name.as_str())
            .collect();
        assert_eq!(
            names,
            [
                "key-matches",
                "chain-order",
                "signature",
                "ca-flags",
                "signature",
                "ca-flags",
                "trust-anchor",
                "ca-flags",
                "validity",
                "validity",
                "validity",
                "not-cn-only",
                "san-covers",
                "san-covers",
                "server-auth",
                "key-usage",
            ],
            "{}",
            report.to_text()
        );
        let san = only(&report, "san-covers", Outcome::Pass);
        assert_eq!(san[0].subject, "IP 10.0.0.1");
        assert_eq!(san[1].subject, "DNS registry.example.com");
        assert_eq!(san[1].detail, "covered by DNS:registry.example.com");
        let anchor = only(&report, "trust-anchor", Outcome::Pass);
        assert_eq!(anchor[0].subject, "CN=Fixture Root CA, O=acr tests");
    }

    #[test]
    fn a_chain_that_includes_the_given_root_uses_it_once() {
        let request = fixture_request(&[
            fixture!("server.crt"),
            fixture!("intermediate-ca.crt"),
            fixture!("root-ca.crt"),
        ]);
        let report = verify(&request);
        assert!(report.passed(), "{}", report.to_text());
        assert_eq!(report.warnings().count(), 0, "{}", report.to_text());
        assert_eq!(only(&report, "validity", Outcome::Pass).len(), 3);
        assert_eq!(
            only(&report, "chain-order", Outcome::Pass)[0].detail,
            "3 certificates, each issued by the next"
        );
    }

    #[test]
    fn json_has_passed_and_lowercase_outcomes() {
        let bundle = bundle_for(&["10.0.0.1"], &[]);
        let mut request = VerifyRequest::new(certificates(&bundle.leaf.cert_pem), now());
        request.ips = vec![ip("10.9.9.9")];
        let report = verify(&request);
        let json = serde_json::to_value(&report).expect("serialize");
        assert_eq!(json["passed"], false);
        let checks = json["checks"].as_array().expect("checks");
        assert_eq!(checks.len(), report.checks.len());
        let failed = checks
            .iter()
            .find(|check| check["outcome"] == "fail")
            .expect("a failure");
        assert_eq!(failed["name"], "san-covers");
        assert_eq!(failed["subject"], "IP 10.9.9.9");
        assert!(checks.iter().any(|check| check["outcome"] == "warn"));
        assert!(checks.iter().any(|check| check["outcome"] == "pass"));
    }

    #[test]
    fn a_key_of_another_certificate_fails_key_matches() {
        let bundle = bundle_for(&["10.0.0.1"], &[]);
        let other = bundle_for(&["10.0.0.1"], &[]);
        let mut request = VerifyRequest::new(certificates(&bundle.leaf.cert_pem), now());
        request.private_key = Some(private_key(&other.leaf.key_pem));
        let report = verify(&request);
        assert_eq!(
            failure_names(&report),
            ["key-matches"],
            "{}",
            report.to_text()
        );
        assert!(
            report.checks[0]
                .detail
                .starts_with("the private key (ECDSA P-256) does not belong to this certificate (its key is ECDSA P-256)"),
            "{}",
            report.checks[0].detail
        );

        request.private_key = Some(private_key(fixture!("root-ca.key")));
        let report = verify(&request);
        assert!(
            report.checks[0].detail.starts_with(
                "the private key (RSA 2048) does not belong to this certificate (its key is ECDSA P-256)"
            ),
            "{}",
            report.checks[0].detail
        );
    }

    #[test]
    fn an_out_of_order_chain_says_which_position_and_the_right_order() {
        let request = fixture_request(&[fixture!("intermediate-ca.crt"), fixture!("server.crt")]);
        let report = verify(&request);
        let order = only(&report, "chain-order", Outcome::Fail);
        assert_eq!(order.len(), 1, "{}", report.to_text());
        assert_eq!(
            order[0].detail,
            "position 1 (CN=Fixture Intermediate CA, O=acr tests) was issued by CN=Fixture Root \
             CA, O=acr tests, but position 2 is CN=registry.example.com, O=acr tests; the right \
             order is: CN=registry.example.com, O=acr tests (2), CN=Fixture Intermediate CA, \
             O=acr tests (1) (current positions in brackets)"
        );
        // The first certificate is what a server would present: it is a CA without the names.
        let failures = failure_names(&report);
        assert!(failures.contains(&"key-matches"), "{failures:?}");
        assert!(failures.contains(&"san-covers"), "{failures:?}");
        assert_eq!(only(&report, "chain-unused", Outcome::Warn).len(), 1);
    }

    #[test]
    fn a_missing_intermediate_names_the_issuer_looked_for() {
        let request = fixture_request(&[fixture!("server.crt")]);
        let report = verify(&request);
        assert_eq!(
            failure_names(&report),
            ["trust-anchor"],
            "{}",
            report.to_text()
        );
        let failure = report.failures().next().expect("failure");
        assert_eq!(failure.subject, "CN=registry.example.com, O=acr tests");
        assert_eq!(
            failure.detail,
            "the chain does not reach the given CA (CN=Fixture Root CA, O=acr tests): this \
             certificate was issued by CN=Fixture Intermediate CA, O=acr tests, which is neither \
             in the chain nor the given CA (missing intermediate?)"
        );
    }

    #[test]
    fn without_a_ca_an_unrooted_chain_is_only_a_warning() {
        let mut request =
            fixture_request(&[fixture!("server.crt"), fixture!("intermediate-ca.crt")]);
        request.trust_anchors.clear();
        let report = verify(&request);
        assert!(report.passed(), "{}", report.to_text());
        let warnings: Vec<_> = report.warnings().collect();
        assert_eq!(warnings.len(), 1, "{}", report.to_text());
        assert_eq!(warnings[0].name, "trust-anchor");
        assert!(
            warnings[0].detail.starts_with("issued by CN=Fixture Root CA, O=acr tests, which is not in the chain; give that CA with --ca"),
            "{}",
            warnings[0].detail
        );
    }

    #[test]
    fn a_different_ca_with_the_same_name_is_a_signature_failure() {
        let bundle = bundle_for(&["10.0.0.1"], &[]);
        let impostor = bundle_for(&["10.0.0.1"], &[]);
        let mut request = VerifyRequest::new(certificates(&bundle.leaf.cert_pem), now());
        request.trust_anchors = certificates(&impostor.ca_cert_pem);
        let report = verify(&request);
        assert_eq!(
            failure_names(&report),
            ["signature"],
            "{}",
            report.to_text()
        );
        assert!(
            report.failures().next().expect("failure").detail.ends_with(
                "(the given CA): a different key with the same name signed it (wrong CA?)"
            ),
            "{}",
            report.to_text()
        );
    }

    #[test]
    fn an_unrelated_ca_is_not_reached() {
        let bundle = bundle_for(&["10.0.0.1"], &[]);
        let mut request = VerifyRequest::new(certificates(&bundle.leaf.cert_pem), now());
        request.trust_anchors = certificates(fixture!("root-ca.crt"));
        let report = verify(&request);
        assert_eq!(
            failure_names(&report),
            ["trust-anchor"],
            "{}",
            report.to_text()
        );
        assert!(
            report
                .failures()
                .next()
                .expect("failure")
                .detail
                .starts_with(
                    "the chain does not reach the given CA (CN=Fixture Root CA, O=acr tests)"
                ),
            "{}",
            report.to_text()
        );

        let self_signed_root = chain_of(&[&bundle.leaf.cert_pem, &bundle.ca_cert_pem]);
        request.chain = self_signed_root;
        let report = verify(&request);
        let failure = report.failures().next().expect("failure");
        assert_eq!(failure.name, "trust-anchor");
        assert_eq!(
            failure.detail,
            "the chain ends at this self-signed certificate, which is not the given CA \
             (CN=Fixture Root CA, O=acr tests)"
        );
    }

    #[test]
    fn expired_and_not_yet_valid_certificates_fail_validity_with_dates() {
        let bundle = bundle_for(&["10.0.0.1"], &[]);
        let mut request = VerifyRequest::new(certificates(&bundle.leaf.cert_pem), now());
        request.trust_anchors = certificates(&bundle.ca_cert_pem);
        request.now = now() + Duration::days(400);
        let report = verify(&request);
        let expired = only(&report, "validity", Outcome::Fail);
        assert_eq!(expired.len(), 1, "{}", report.to_text());
        assert_eq!(
            expired[0].detail,
            "expired on 2027-03-01T12:00:00Z (35 days ago)"
        );
        assert_eq!(
            only(&report, "validity", Outcome::Pass).len(),
            1,
            "the CA is fine"
        );

        request.now = now() - Duration::days(1);
        let report = verify(&request);
        let early = only(&report, "validity", Outcome::Fail);
        assert_eq!(early.len(), 2, "{}", report.to_text());
        assert!(
            early[0]
                .detail
                .starts_with("not valid before 2026-03-01T11:55:00Z"),
            "{}",
            early[0].detail
        );

        request.now = now() + Duration::days(350);
        let report = verify(&request);
        assert!(report.passed());
        let soon = only(&report, "validity", Outcome::Warn);
        assert_eq!(soon.len(), 1, "{}", report.to_text());
        assert!(
            soon[0].detail.ends_with("(15 days left)"),
            "{}",
            soon[0].detail
        );
    }

    #[test]
    fn a_missing_ip_is_reported_with_the_names_the_certificate_has() {
        let bundle = bundle_for(&["10.0.0.1"], &["registry.local"]);
        let mut request = VerifyRequest::new(certificates(&bundle.leaf.cert_pem), now());
        request.ips = vec![ip("10.0.0.1"), ip("10.9.9.9")];
        request.dns_names = vec!["registry.local".to_owned(), "other.local".to_owned()];
        let report = verify(&request);
        let missing: Vec<(&str, &str)> = report
            .failures()
            .map(|check| (check.subject.as_str(), check.detail.as_str()))
            .collect();
        assert_eq!(
            missing,
            [
                (
                    "IP 10.9.9.9",
                    "not in the certificate's subjectAltName (DNS:registry.local, IP:10.0.0.1)"
                ),
                (
                    "DNS other.local",
                    "not in the certificate's subjectAltName (DNS:registry.local, IP:10.0.0.1)"
                ),
            ]
        );
    }

    #[test]
    fn a_dns_entry_spelling_the_ip_does_not_cover_it() {
        let ca = TestCa::new("Odd CA", None);
        let mut leaf = params("10.0.0.1");
        leaf.subject_alt_names = vec![SanType::DnsName("10.0.0.1".try_into().expect("ia5"))];
        let mut request = VerifyRequest::new(certificates(&ca.issue(&leaf)), now());
        request.ips = vec![ip("10.0.0.1")];
        let report = verify(&request);
        let failure = only(&report, "san-covers", Outcome::Fail);
        assert_eq!(
            failure[0].detail,
            "not in the certificate's subjectAltName (DNS:10.0.0.1); a DNS entry spells \
             10.0.0.1, but clients match IP addresses only against IP entries; the CN is \
             10.0.0.1, but clients ignore the CN"
        );
    }

    #[test]
    fn a_cn_only_certificate_is_reported() {
        let mut request = fixture_request(&[fixture!("cn-only.crt")]);
        request.dns_names = vec!["registry.example.com".to_owned()];
        let report = verify(&request);
        assert_eq!(
            failure_names(&report),
            ["not-cn-only", "san-covers", "san-covers"],
            "{}",
            report.to_text()
        );
        let cn_only = only(&report, "not-cn-only", Outcome::Fail);
        assert_eq!(
            cn_only[0].detail,
            "CN=registry.example.com only; Go, containerd and browsers ignore the CN, add a \
             subjectAltName"
        );
        let dns = only(&report, "san-covers", Outcome::Fail);
        assert_eq!(
            dns[1].detail,
            "not in the certificate's subjectAltName (none); the CN is registry.example.com, \
             but clients ignore the CN"
        );
    }

    #[test]
    fn a_serving_certificate_that_is_a_ca_is_a_warning() {
        let mut request = VerifyRequest::new(certificates(fixture!("ca-as-leaf.crt")), now());
        request.private_key = Some(private_key(fixture!("server.key")));
        request.ips = vec![ip("10.0.0.1")];
        let report = verify(&request);
        assert!(report.passed(), "{}", report.to_text());
        let warnings: Vec<_> = report.warnings().collect();
        assert_eq!(warnings.len(), 1, "{}", report.to_text());
        assert_eq!(warnings[0].name, "ca-flags");
        assert!(
            warnings[0]
                .detail
                .starts_with("the serving certificate is a CA")
        );
        let anchor = only(&report, "trust-anchor", Outcome::Pass);
        assert!(
            anchor[0]
                .detail
                .starts_with("the chain ends at this self-signed certificate")
        );

        // Trusting the self-signed certificate itself reaches it without CA checks on it.
        request.trust_anchors = certificates(fixture!("ca-as-leaf.crt"));
        let report = verify(&request);
        assert!(report.passed(), "{}", report.to_text());
    }

    #[test]
    fn an_extended_key_usage_without_server_auth_fails() {
        let mut request = fixture_request(&[fixture!("client-auth-only.crt")]);
        request.dns_names.clear();
        let report = verify(&request);
        assert_eq!(
            failure_names(&report),
            ["server-auth"],
            "{}",
            report.to_text()
        );
        assert_eq!(
            report.failures().next().expect("failure").detail,
            "extendedKeyUsage (clientAuth) lacks serverAuth; TLS clients refuse it for a server"
        );
    }

    #[test]
    fn issuers_must_be_cas_within_their_path_length() {
        let root = TestCa::new("Strict Root", Some(0));
        let sub = root.issue_ca("Sub CA");
        let mut leaf = params("leaf");
        leaf.subject_alt_names = vec![SanType::IpAddress(ip("10.0.0.1"))];
        leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let mut request = VerifyRequest::new(chain_of(&[&sub.issue(&leaf), &sub.cert_pem]), now());
        request.trust_anchors = certificates(&root.cert_pem);
        let report = verify(&request);
        assert_eq!(failure_names(&report), ["ca-flags"], "{}", report.to_text());
        let failure = report.failures().next().expect("failure");
        assert_eq!(failure.subject, "CN=Strict Root");
        assert_eq!(
            failure.detail,
            "its pathlen 0 allows 0 intermediate CA(s) below it, but 1 follow"
        );

        // A leaf signed by a certificate that is not a CA.
        let not_a_ca_key = rcgen::KeyPair::generate().expect("key");
        let mut not_a_ca = params("Not A CA");
        not_a_ca.is_ca = rcgen::IsCa::ExplicitNoCa;
        let not_a_ca_pem = not_a_ca
            .self_signed(&not_a_ca_key)
            .expect("self-sign")
            .pem();
        let issuer = rcgen::Issuer::new(not_a_ca, not_a_ca_key);
        let leaf_key = rcgen::KeyPair::generate().expect("key");
        let leaf_pem = leaf.signed_by(&leaf_key, &issuer).expect("sign").pem();
        let mut request = VerifyRequest::new(certificates(&leaf_pem), now());
        request.trust_anchors = certificates(&not_a_ca_pem);
        let report = verify(&request);
        assert_eq!(failure_names(&report), ["ca-flags"], "{}", report.to_text());
        assert_eq!(
            report.failures().next().expect("failure").detail,
            "it is not a CA (basicConstraints CA:true is missing), yet it issued CN=leaf"
        );
    }

    #[test]
    fn every_problem_is_reported_not_just_the_first() {
        let bundle = bundle_for(&["10.0.0.1"], &[]);
        let other = bundle_for(&["10.0.0.1"], &[]);
        let mut request = VerifyRequest::new(certificates(&bundle.leaf.cert_pem), now());
        request.now = now() + Duration::days(400);
        request.private_key = Some(private_key(&other.leaf.key_pem));
        request.ips = vec![ip("10.9.9.9")];
        request.trust_anchors = certificates(fixture!("root-ca.crt"));
        let report = verify(&request);
        assert_eq!(
            failure_names(&report),
            ["key-matches", "trust-anchor", "validity", "san-covers"],
            "{}",
            report.to_text()
        );
        let text = report.to_text();
        assert!(
            text.ends_with("FAILED: 4 failed, 0 warnings, 4 passed\n"),
            "{text}"
        );
        assert!(
            text.contains("FAIL  san-covers    IP 10.9.9.9: not in the certificate's"),
            "{text}"
        );
    }

    #[test]
    fn an_empty_chain_fails() {
        let report = verify(&VerifyRequest::new(Vec::new(), now()));
        assert!(!report.passed());
        assert_eq!(report.checks[0].detail, "no certificate to verify");
    }

    #[test]
    fn an_unparsable_certificate_in_the_middle_does_not_stop_the_rest() {
        let mut chain = chain_of(&[fixture!("server.crt")]);
        chain.push(LoadedCertificate {
            origin: "PEM block 2".to_owned(),
            der: vec![0x30, 0x00],
        });
        chain.extend(chain_of(&[fixture!("intermediate-ca.crt")]));
        let mut request = fixture_request(&[]);
        request.chain = chain;
        let report = verify(&request);
        assert_eq!(failure_names(&report), ["parse"], "{}", report.to_text());
        assert_eq!(
            report.checks[0].detail,
            "not a valid certificate: Parsing requires 1 bytes/chars"
        );
        assert_eq!(only(&report, "trust-anchor", Outcome::Pass).len(), 1);
    }

    #[test]
    fn an_unparsable_certificate_is_a_parse_failure() {
        let chain = vec![LoadedCertificate {
            origin: "tls.crt #1".to_owned(),
            der: vec![0x30, 0x03, 0x02, 0x01, 0x01],
        }];
        let report = verify(&VerifyRequest::new(chain, now()));
        assert_eq!(failure_names(&report), ["parse"]);
        assert_eq!(report.checks[0].subject, "tls.crt #1");
    }
}
