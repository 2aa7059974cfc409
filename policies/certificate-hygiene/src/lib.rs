//! Built-in policy: every certificate in the review is in its validity period with at least
//! `minDaysLeft` days to go, has a strong key (RSA of at least `minRsaBits`, ECDSA on one of
//! `allowedCurves`, or EdDSA), is not signed with SHA-1 or MD5 (self-signed trust anchors
//! excepted: nobody checks their signature), and, when it serves TLS, names its hosts in
//! subject alternative names.

use serde::Deserialize;
use wasm_guest::serde_json::Value;
use wasm_guest::{
    CertificateFacts, CertificateRole, Review, Verdict, accept, fail, parse_settings,
};

pub const CERTIFICATE_EXPIRED: &str = "CERTIFICATE_EXPIRED";
pub const CERTIFICATE_NOT_YET_VALID: &str = "CERTIFICATE_NOT_YET_VALID";
/// Fewer than `minDaysLeft` days of validity remain.
pub const CERTIFICATE_EXPIRES_SOON: &str = "CERTIFICATE_EXPIRES_SOON";
/// An RSA key shorter than `minRsaBits`.
pub const WEAK_RSA_KEY: &str = "WEAK_RSA_KEY";
/// An ECDSA key on a curve outside `allowedCurves`.
pub const CURVE_NOT_ALLOWED: &str = "CURVE_NOT_ALLOWED";
/// A key that is neither RSA, ECDSA nor EdDSA (DSA, for example).
pub const KEY_ALGORITHM_NOT_ALLOWED: &str = "KEY_ALGORITHM_NOT_ALLOWED";
/// Signed with a broken hash (SHA-1, MD5, MD4, MD2).
pub const WEAK_SIGNATURE_ALGORITHM: &str = "WEAK_SIGNATURE_ALGORITHM";
/// A serving certificate without subject alternative names.
pub const CN_ONLY_CERTIFICATE: &str = "CN_ONLY_CERTIFICATE";

/// Hashes whose collisions can be forged; a signature algorithm naming one is refused.
const BROKEN_HASHES: [&str; 5] = ["md2", "md4", "md5", "sha1", "sha-1"];

/// The settings a policy set may give; absent keys take the defaults.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
struct HygieneSettings {
    min_days_left: u32,
    min_rsa_bits: u32,
    allowed_curves: Vec<String>,
}

impl Default for HygieneSettings {
    fn default() -> Self {
        Self {
            min_days_left: 30,
            min_rsa_bits: 2048,
            allowed_curves: vec!["P-256".to_owned(), "P-384".to_owned()],
        }
    }
}

fn evaluate(review: &Review) -> Verdict {
    let settings: HygieneSettings =
        parse_settings(&review.settings).unwrap_or_else(|reason| fail(&reason));
    review
        .facts
        .certificates
        .iter()
        .fold(accept(), |verdict, certificate| {
            let field = review.certificate_setting(certificate);
            check_certificate(verdict, certificate, field, &settings)
        })
}

fn check_certificate(
    verdict: Verdict,
    certificate: &CertificateFacts,
    field: Option<&str>,
    settings: &HygieneSettings,
) -> Verdict {
    let verdict = check_validity(verdict, certificate, field, settings);
    let verdict = check_key(verdict, certificate, field, settings);
    let self_signed_anchor = certificate.role == CertificateRole::Ca && certificate.self_signed;
    let verdict = if !self_signed_anchor && names_broken_hash(&certificate.signature_algorithm) {
        verdict.reject(
            WEAK_SIGNATURE_ALGORITHM,
            &format!(
                "{} is signed with {}, whose hash is broken: reissue it signed with SHA-256 or \
                 stronger",
                certificate.describe(),
                certificate.signature_algorithm
            ),
            field,
        )
    } else {
        verdict
    };
    let serves_tls = matches!(
        certificate.role,
        CertificateRole::Serving | CertificateRole::PlannedServing
    );
    if serves_tls && certificate.subject_alt_names.is_empty() {
        verdict.reject(
            CN_ONLY_CERTIFICATE,
            &format!(
                "{} has no subject alternative names, only a common name, which TLS clients \
                 ignore: reissue it with the names and addresses clients use as subjectAltName",
                certificate.describe()
            ),
            field,
        )
    } else {
        verdict
    }
}

/// Expired, not yet valid, or expiring within `minDaysLeft`. A certificate whose facts give no
/// `notAfter` (a planned one, say) has no known validity to judge.
fn check_validity(
    verdict: Verdict,
    certificate: &CertificateFacts,
    field: Option<&str>,
    settings: &HygieneSettings,
) -> Verdict {
    if certificate.expired {
        let name = certificate.describe();
        return verdict.reject(
            CERTIFICATE_EXPIRED,
            &format!("{name} expired on {}: renew it", certificate.not_after),
            field,
        );
    }
    let verdict = if certificate.not_yet_valid {
        let name = certificate.describe();
        verdict.reject(
            CERTIFICATE_NOT_YET_VALID,
            &format!(
                "{name} is not valid before {}: check the issuer's clock, or wait",
                certificate.not_before
            ),
            field,
        )
    } else {
        verdict
    };
    if !certificate.not_after.is_empty()
        && certificate.days_left < i64::from(settings.min_days_left)
    {
        let name = certificate.describe();
        verdict.reject(
            CERTIFICATE_EXPIRES_SOON,
            &format!(
                "{name} expires in {} days, on {}, fewer than the {} days minDaysLeft asks for: \
                 renew it",
                certificate.days_left, certificate.not_after, settings.min_days_left
            ),
            field,
        )
    } else {
        verdict
    }
}

/// RSA size, ECDSA curve, or an algorithm outside RSA, ECDSA and EdDSA. A key whose size or
/// curve the facts do not give is judged on what they do give.
fn check_key(
    verdict: Verdict,
    certificate: &CertificateFacts,
    field: Option<&str>,
    settings: &HygieneSettings,
) -> Verdict {
    let key = &certificate.public_key;
    match key.algorithm.as_str() {
        "RSA" => match key.bits {
            Some(bits) if bits < settings.min_rsa_bits => verdict.reject(
                WEAK_RSA_KEY,
                &format!(
                    "{} has a {bits}-bit RSA key, shorter than the {} bits minRsaBits asks \
                     for: reissue it with a longer key",
                    certificate.describe(),
                    settings.min_rsa_bits
                ),
                field,
            ),
            _ => verdict,
        },
        "ECDSA" | "EC" => match &key.curve {
            Some(curve) if !settings.allowed_curves.contains(curve) => verdict.reject(
                CURVE_NOT_ALLOWED,
                &format!(
                    "{} has an ECDSA key on {curve}, which is not among the allowed curves \
                     ({}): reissue it on an allowed curve",
                    certificate.describe(),
                    settings.allowed_curves.join(", ")
                ),
                field,
            ),
            _ => verdict,
        },
        "Ed25519" | "Ed448" | "" => verdict,
        other => verdict.reject(
            KEY_ALGORITHM_NOT_ALLOWED,
            &format!(
                "{} has a {other} key: reissue it with an RSA, ECDSA or Ed25519 key",
                certificate.describe()
            ),
            field,
        ),
    }
}

/// Whether a signature algorithm's name contains one of [`BROKEN_HASHES`], in any case.
fn names_broken_hash(signature_algorithm: &str) -> bool {
    let name = signature_algorithm.as_bytes();
    BROKEN_HASHES.iter().any(|hash| {
        name.windows(hash.len())
            .any(|window| window.eq_ignore_ascii_case(hash.as_bytes()))
    })
}

fn validate_settings(settings: &Value) -> Result<(), String> {
    parse_settings::<HygieneSettings>(settings).map(drop)
}

wasm_guest::export_policy! {
    metadata: include_str!("../metadata.json"),
    evaluate: evaluate,
    validate_settings: validate_settings,
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_guest::serde_json::{self, json};

    /// A certificate the default settings accept, changed by `changes`.
    fn certificate(changes: Value) -> Value {
        let mut certificate = json!({
            "role": "serving",
            "subject": "CN=connected-registry",
            "subjectAltNames": { "ip": ["192.100.100.1"] },
            "notBefore": "2026-01-01T00:00:00Z",
            "notAfter": "2027-01-01T00:00:00Z",
            "daysLeft": 200,
            "expired": false,
            "notYetValid": false,
            "publicKey": { "algorithm": "RSA", "bits": 2048, "curve": null },
            "signatureAlgorithm": "sha256WithRSAEncryption",
            "selfSigned": false
        });
        if let (Some(certificate), Some(changes)) =
            (certificate.as_object_mut(), changes.as_object())
        {
            certificate.extend(changes.clone());
        }
        certificate
    }

    fn review(certificates: Value, settings: Value) -> Review {
        serde_json::from_value(json!({
            "apiVersion": "acr.policy/v1",
            "operation": "deploy",
            "subject": "connected-registry",
            "object": { "protected": { "tls.crt": "1 certificate (PEM)", "tls.cacrt": "1 certificate (PEM)" } },
            "facts": { "certificates": certificates },
            "settings": settings
        }))
        .expect("test review parses")
    }

    fn codes_of(certificates: Value, settings: Value) -> Vec<(String, Option<String>)> {
        let verdict = evaluate(&review(certificates, settings));
        assert_eq!(verdict.allowed, verdict.violations.is_empty());
        verdict
            .violations
            .into_iter()
            .map(|violation| (violation.code, violation.field))
            .collect()
    }

    fn on_tls_crt(code: &str) -> Vec<(String, Option<String>)> {
        vec![(code.to_owned(), Some("tls.crt".to_owned()))]
    }

    #[test]
    fn healthy_certificates_pass_with_defaults() {
        let chain = json!([
            certificate(json!({})),
            certificate(
                json!({ "role": "ca", "subjectAltNames": {}, "publicKey": { "algorithm": "ECDSA", "curve": "P-384" }, "selfSigned": true })
            ),
            certificate(
                json!({ "role": "intermediate", "subjectAltNames": {}, "publicKey": { "algorithm": "Ed25519" } })
            )
        ]);
        assert!(codes_of(chain, Value::Null).is_empty());
        assert!(codes_of(json!([]), Value::Null).is_empty());
    }

    #[test]
    fn validity_is_checked_against_min_days_left() {
        assert_eq!(
            codes_of(
                json!([certificate(json!({ "expired": true, "daysLeft": -3 }))]),
                Value::Null
            ),
            on_tls_crt(CERTIFICATE_EXPIRED)
        );
        assert_eq!(
            codes_of(
                json!([certificate(json!({ "notYetValid": true }))]),
                Value::Null
            ),
            on_tls_crt(CERTIFICATE_NOT_YET_VALID)
        );
        let soon = json!([certificate(json!({ "daysLeft": 29 }))]);
        assert_eq!(
            codes_of(soon.clone(), Value::Null),
            on_tls_crt(CERTIFICATE_EXPIRES_SOON)
        );
        assert!(codes_of(soon.clone(), json!({ "minDaysLeft": 29 })).is_empty());
        assert_eq!(
            codes_of(soon, json!({ "minDaysLeft": 90 })),
            on_tls_crt(CERTIFICATE_EXPIRES_SOON)
        );
        let planned =
            json!([{ "role": "planned-serving", "subjectAltNames": { "ip": ["192.100.100.1"] } }]);
        assert!(codes_of(planned, Value::Null).is_empty());
    }

    #[test]
    fn key_strength_follows_the_settings() {
        let rsa_1024 = json!([certificate(
            json!({ "publicKey": { "algorithm": "RSA", "bits": 1024 } })
        )]);
        assert_eq!(
            codes_of(rsa_1024.clone(), Value::Null),
            on_tls_crt(WEAK_RSA_KEY)
        );
        assert!(codes_of(rsa_1024, json!({ "minRsaBits": 1024 })).is_empty());
        let rsa_2048 = json!([certificate(json!({}))]);
        assert_eq!(
            codes_of(rsa_2048, json!({ "minRsaBits": 3072 })),
            on_tls_crt(WEAK_RSA_KEY)
        );
        let p521 = json!([certificate(
            json!({ "publicKey": { "algorithm": "ECDSA", "bits": 521, "curve": "P-521" } })
        )]);
        assert_eq!(
            codes_of(p521.clone(), Value::Null),
            on_tls_crt(CURVE_NOT_ALLOWED)
        );
        assert!(codes_of(p521, json!({ "allowedCurves": ["P-521"] })).is_empty());
        let dsa = json!([certificate(
            json!({ "publicKey": { "algorithm": "DSA", "bits": 2048 } })
        )]);
        assert_eq!(
            codes_of(dsa, Value::Null),
            on_tls_crt(KEY_ALGORITHM_NOT_ALLOWED)
        );
    }

    #[test]
    fn broken_signature_hashes_are_refused_except_on_self_signed_anchors() {
        for algorithm in [
            "sha1WithRSAEncryption",
            "ecdsa-with-SHA1",
            "md5WithRSAEncryption",
        ] {
            let weak = json!([certificate(json!({ "signatureAlgorithm": algorithm }))]);
            assert_eq!(
                codes_of(weak, Value::Null),
                on_tls_crt(WEAK_SIGNATURE_ALGORITHM),
                "{algorithm}"
            );
        }
        let anchor = json!([certificate(
            json!({ "role": "ca", "selfSigned": true, "signatureAlgorithm": "sha1WithRSAEncryption" })
        )]);
        assert!(codes_of(anchor, Value::Null).is_empty());
        let issued_ca = json!([certificate(
            json!({ "role": "ca", "signatureAlgorithm": "sha1WithRSAEncryption" })
        )]);
        assert_eq!(
            codes_of(issued_ca, Value::Null),
            vec![(
                WEAK_SIGNATURE_ALGORITHM.to_owned(),
                Some("tls.cacrt".to_owned())
            )]
        );
    }

    #[test]
    fn serving_certificates_need_subject_alt_names() {
        let cn_only = json!([certificate(
            json!({ "subjectAltNames": { "dns": [], "ip": [] } })
        )]);
        assert_eq!(
            codes_of(cn_only, Value::Null),
            on_tls_crt(CN_ONLY_CERTIFICATE)
        );
    }

    #[test]
    fn every_problem_of_every_certificate_is_reported() {
        let bad = json!([
            certificate(json!({ "daysLeft": 3, "signatureAlgorithm": "sha1WithRSAEncryption" })),
            certificate(json!({ "role": "ca", "publicKey": { "algorithm": "RSA", "bits": 1024 } }))
        ]);
        assert_eq!(
            codes_of(bad, Value::Null),
            vec![
                (
                    CERTIFICATE_EXPIRES_SOON.to_owned(),
                    Some("tls.crt".to_owned())
                ),
                (
                    WEAK_SIGNATURE_ALGORITHM.to_owned(),
                    Some("tls.crt".to_owned())
                ),
                (WEAK_RSA_KEY.to_owned(), Some("tls.cacrt".to_owned())),
            ]
        );
    }

    #[test]
    fn settings_are_validated() {
        assert_eq!(validate_settings(&Value::Null), Ok(()));
        assert_eq!(
            validate_settings(
                &json!({ "minDaysLeft": 14, "minRsaBits": 3072, "allowedCurves": ["P-384"] })
            ),
            Ok(())
        );
        assert_eq!(
            validate_settings(&json!({ "minDaysLeft": "14" })),
            Err("invalid settings: invalid type: string \"14\", expected u32".to_owned())
        );
        assert_eq!(
            validate_settings(&json!({ "minimumDays": 14 })),
            Err(
                "invalid settings: unknown field `minimumDays`, expected one of `minDaysLeft`, \
                 `minRsaBits`, `allowedCurves`"
                    .to_owned()
            )
        );
    }

    #[test]
    fn evaluating_with_refused_settings_is_an_error() {
        let panic = std::panic::catch_unwind(|| {
            evaluate(&review(json!([]), json!({ "minRsaBits": "big" })))
        })
        .expect_err("invalid settings end the evaluation");
        let message = panic.downcast_ref::<String>().expect("formatted message");
        assert_eq!(
            message,
            "invalid settings: invalid type: string \"big\", expected u32"
        );
        assert_eq!(wasm_guest::take_logged(), vec![message.clone()]);
    }
}
