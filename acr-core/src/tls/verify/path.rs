//! The chain checks of `cert verify`: order, signatures up to a trust anchor, the CA flags of
//! every issuer.

use std::fmt::Write as _;

use super::node::Node;
use super::report::{Outcome, Reporter};
use crate::tls::chain::{IssuerSearch, find_issuer};
use crate::tls::x509::{oid_name, why_not_a_ca};

pub(super) fn check_chain_order(chain: &[Node<'_>], reporter: &mut Reporter) {
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
pub(super) fn check_path<'n, 'a>(
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
        let candidates = anchors
            .iter()
            .chain([current])
            .chain(chain.iter().filter(|node| !visited[node.index]))
            .map(|node| (node, &node.certificate));
        let (issuer, verified) = match find_issuer(&current.certificate, candidates) {
            IssuerSearch::Found { issuer, verified } => (issuer, verified),
            IssuerSearch::NotFound => {
                report_missing_issuer(current, anchors, reporter);
                break;
            }
            IssuerSearch::WrongKey(tried) => {
                let tried: Vec<String> = tried
                    .iter()
                    .map(|candidate| format!("{} ({})", candidate.subject, candidate.place()))
                    .collect();
                reporter.add(
                    "signature",
                    &current.subject,
                    Outcome::Fail,
                    format!(
                        "the signature does not verify with the key of {}: a different key with \
                         the same name signed it (wrong CA?)",
                        tried.join(", ")
                    ),
                );
                break;
            }
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
