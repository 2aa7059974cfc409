//! The serving-certificate checks of `cert verify`: key match, CA flag, validity, names, usages.

use std::fmt::Write as _;
use std::net::IpAddr;

use time::OffsetDateTime;

use super::node::Node;
use super::report::{Outcome, Reporter};
use crate::tls::describe::SubjectAltNames;
use crate::tls::load::PrivateKey;
use crate::tls::public_key::PublicKeyInfo;
use crate::tls::x509::{common_name, extended_key_usage_names, rfc3339};

/// Certificates with fewer days left than this get a warning.
const EXPIRY_WARNING_DAYS: i64 = 30;

pub(super) fn check_key(leaf: &Node<'_>, private_key: &PrivateKey, reporter: &mut Reporter) {
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

pub(super) fn check_leaf_not_ca(leaf: &Node<'_>, reporter: &mut Reporter) {
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

pub(super) fn check_validity(node: &Node<'_>, now: OffsetDateTime, reporter: &mut Reporter) {
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

pub(super) fn check_not_cn_only(
    leaf: &Node<'_>,
    sans: Option<&SubjectAltNames>,
    reporter: &mut Reporter,
) {
    let cn = common_name(leaf.certificate.subject())
        .map_or_else(|| "no CN".to_owned(), |cn| format!("CN={cn}"));
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

pub(super) fn check_ip_covered(
    leaf: &Node<'_>,
    sans: &SubjectAltNames,
    ip: IpAddr,
    reporter: &mut Reporter,
) {
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
    if common_name(leaf.certificate.subject()).as_deref() == Some(spelled.as_str()) {
        let _ = write!(detail, "; the CN is {spelled}, but clients ignore the CN");
    }
    reporter.add("san-covers", &subject, Outcome::Fail, detail);
}

pub(super) fn check_dns_covered(
    leaf: &Node<'_>,
    sans: &SubjectAltNames,
    name: &str,
    reporter: &mut Reporter,
) {
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
    if common_name(leaf.certificate.subject()).is_some_and(|cn| cn.eq_ignore_ascii_case(name)) {
        let _ = write!(detail, "; the CN is {name}, but clients ignore the CN");
    }
    reporter.add("san-covers", &subject, Outcome::Fail, detail);
}

pub(super) fn check_server_auth(leaf: &Node<'_>, reporter: &mut Reporter) {
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

pub(super) fn check_key_usage(leaf: &Node<'_>, reporter: &mut Reporter) {
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
