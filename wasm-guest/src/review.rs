//! The review a policy receives: what is asked, the normalised object, host-computed facts and
//! the settings the organisation gave the policy (ABI v1 input JSON).

use crate::lazy_json::LazyJson;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The `apiVersion` every ABI v1 review carries.
pub const REVIEW_API_VERSION: &str = "acr.policy/v1";

/// An admission-style request: may `operation` be done to `subject` with this `object`?
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Review {
    /// Always [`REVIEW_API_VERSION`] for ABI v1.
    pub api_version: String,
    /// What is about to happen.
    pub operation: Operation,
    /// What kind of thing it happens to.
    pub subject: SubjectKind,
    /// The normalised settings, keyed by their public names (`service.clusterIP`, ...);
    /// protected settings sit under `protected`, with secret values redacted by the host.
    #[serde(default)]
    pub object: Value,
    /// Facts the host computed (parsed certificates, cluster facts).
    #[serde(default)]
    pub facts: Facts,
    /// The settings the policy set gave this policy (`null` when none).
    #[serde(default)]
    pub settings: Value,
}

/// The operation under review.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Operation {
    /// Deploying a connected registry (`kubectl acr deploy`).
    Deploy,
    /// Preparing something ahead of use (`az acr-ext custom-domain prepare`).
    Prepare,
    /// Creating an object (a pull secret, protected settings).
    Create,
}

/// The kind of thing a review is about; also what a policy's metadata says it applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SubjectKind {
    ConnectedRegistry,
    CustomDomain,
    PullSecret,
    ProtectedSettings,
}

/// Facts the host computed so policies need not parse certificates or talk to clusters.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Facts {
    /// Every certificate involved, each with its role.
    #[serde(default)]
    pub certificates: Vec<CertificateFacts>,
    /// What the host knows about the target cluster, when it knows anything; parsed only
    /// when a policy asks ([`LazyJson::to_value`] or [`LazyJson::parse`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster: Option<LazyJson>,
}

impl Facts {
    /// The certificates playing `role`, in the order the host listed them.
    pub fn certificates_with_role(
        &self,
        role: CertificateRole,
    ) -> impl Iterator<Item = &CertificateFacts> {
        self.certificates
            .iter()
            .filter(move |cert| cert.role == role)
    }
}

/// What a certificate is used for in the reviewed object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CertificateRole {
    /// The certificate the registry serves (`tls.crt`, or `tls.crt` of `tls.secret`).
    Serving,
    /// A trust anchor (`tls.cacrt`, or `ca.crt` of `tls.secret`).
    Ca,
    /// A chain certificate between the serving certificate and the anchor.
    Intermediate,
    /// The serving certificate cert-manager will issue, described before it exists.
    PlannedServing,
}

impl CertificateRole {
    /// The role in words, for messages: `serving certificate`, `CA certificate`, ...
    pub fn label(self) -> &'static str {
        match self {
            Self::Serving => "serving certificate",
            Self::Ca => "CA certificate",
            Self::Intermediate => "intermediate certificate",
            Self::PlannedServing => "planned serving certificate",
        }
    }
}

/// One parsed certificate, as the host's certificate inspector reports it, plus its role.
///
/// Every field but `role` has a default, so facts from newer hosts still parse.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CertificateFacts {
    pub role: CertificateRole,
    /// Whether the private key given alongside matches this certificate; `None` when no key
    /// was given or the question does not apply.
    #[serde(default)]
    pub key_matches: Option<bool>,
    /// Distinguished name, RFC 4514 text.
    #[serde(default)]
    pub subject: String,
    #[serde(default)]
    pub issuer: String,
    /// Serial number, hexadecimal.
    #[serde(default)]
    pub serial: String,
    #[serde(default)]
    pub subject_alt_names: SubjectAltNames,
    #[serde(default)]
    pub common_name: Option<String>,
    /// RFC 3339.
    #[serde(default)]
    pub not_before: String,
    /// RFC 3339.
    #[serde(default)]
    pub not_after: String,
    /// Whole days from the host's "now" to `not_after`; negative once expired.
    #[serde(default)]
    pub days_left: i64,
    #[serde(default)]
    pub expired: bool,
    #[serde(default)]
    pub not_yet_valid: bool,
    #[serde(default)]
    pub public_key: PublicKeyFacts,
    /// For example `sha256WithRSAEncryption` or `ecdsa-with-SHA256`.
    #[serde(default)]
    pub signature_algorithm: String,
    #[serde(default)]
    pub sha256_fingerprint: String,
    #[serde(default)]
    pub is_ca: bool,
    #[serde(default)]
    pub path_len: Option<u32>,
    #[serde(default)]
    pub key_usage: Vec<String>,
    #[serde(default)]
    pub extended_key_usage: Vec<String>,
    #[serde(default)]
    pub subject_key_id: Option<String>,
    #[serde(default)]
    pub authority_key_id: Option<String>,
    #[serde(default)]
    pub self_signed: bool,
}

impl CertificateFacts {
    /// Names the certificate in messages: its role and, when known, its subject, as in
    /// ``the serving certificate `CN=connected-registry` ``.
    pub fn describe(&self) -> String {
        if self.subject.is_empty() {
            format!("the {}", self.role.label())
        } else {
            format!("the {} `{}`", self.role.label(), self.subject)
        }
    }
}

/// Subject alternative names by type, as text.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SubjectAltNames {
    #[serde(default)]
    pub dns: Vec<String>,
    #[serde(default)]
    pub ip: Vec<String>,
    #[serde(default)]
    pub uri: Vec<String>,
    #[serde(default)]
    pub email: Vec<String>,
}

impl SubjectAltNames {
    /// Whether the certificate names nothing in subjectAltName: a "CN-only" certificate, which
    /// TLS clients reject because they ignore the common name (RFC 6125 section 6.4.4).
    pub fn is_empty(&self) -> bool {
        self.dns.is_empty() && self.ip.is_empty() && self.uri.is_empty() && self.email.is_empty()
    }
}

/// The certificate's public key.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PublicKeyFacts {
    /// For example `RSA`, `EC`, `Ed25519`.
    #[serde(default)]
    pub algorithm: String,
    #[serde(default)]
    pub bits: Option<u32>,
    /// For EC keys, for example `P-256`.
    #[serde(default)]
    pub curve: Option<String>,
    /// In words, for example `RSA 4096 bits`.
    #[serde(default)]
    pub description: String,
}

impl Review {
    /// The value of a public setting in `object`, if present.
    pub fn setting(&self, key: &str) -> Option<&Value> {
        self.object.get(key)
    }

    /// A boolean public setting, or `default` when absent or not a boolean.
    pub fn setting_bool(&self, key: &str, default: bool) -> bool {
        self.setting(key)
            .and_then(Value::as_bool)
            .unwrap_or(default)
    }

    /// The setting a certificate of a connected registry came from, for a violation's `field`:
    /// `tls.crt` (serving and intermediate certificates), `tls.cacrt` (CA certificates), or
    /// `tls.secret` for both when the review names an existing Secret. `None` for planned
    /// certificates, which no setting holds, and for other subjects.
    pub fn certificate_setting(&self, certificate: &CertificateFacts) -> Option<&'static str> {
        if !matches!(
            self.subject,
            SubjectKind::ConnectedRegistry | SubjectKind::ProtectedSettings
        ) {
            return None;
        }
        let from_secret = self.protected_setting("tls.secret").is_some();
        match certificate.role {
            CertificateRole::PlannedServing => None,
            _ if from_secret => Some("tls.secret"),
            CertificateRole::Ca => Some("tls.cacrt"),
            CertificateRole::Serving | CertificateRole::Intermediate => Some("tls.crt"),
        }
    }

    /// A protected setting (under `object.protected`), if present and not `null`.
    pub fn protected_setting(&self, key: &str) -> Option<&Value> {
        self.object
            .get("protected")
            .and_then(|protected| protected.get(key))
            .filter(|value| !value.is_null())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn inspected_certificate() -> Value {
        json!({
            "role": "serving",
            "keyMatches": true,
            "subject": "CN=connected-registry",
            "issuer": "CN=Example CA",
            "serial": "0a1b",
            "subjectAltNames": { "dns": ["registry.local"], "ip": ["192.100.100.1"], "uri": [], "email": [] },
            "commonName": "connected-registry",
            "notBefore": "2026-01-01T00:00:00Z",
            "notAfter": "2027-01-01T00:00:00Z",
            "daysLeft": 39,
            "expired": false,
            "notYetValid": false,
            "publicKey": { "algorithm": "RSA", "bits": 4096, "curve": null, "description": "RSA 4096 bits" },
            "signatureAlgorithm": "sha256WithRSAEncryption",
            "sha256Fingerprint": "AB:CD",
            "isCa": false,
            "pathLen": null,
            "keyUsage": ["digitalSignature", "keyEncipherment"],
            "extendedKeyUsage": ["serverAuth"],
            "subjectKeyId": "01:02",
            "authorityKeyId": "03:04",
            "selfSigned": false,
            "fieldFromANewerHost": 1
        })
    }

    #[test]
    fn certificate_facts_read_the_inspector_json() {
        let cert: CertificateFacts =
            serde_json::from_value(inspected_certificate()).expect("inspector JSON parses");
        assert_eq!(cert.role, CertificateRole::Serving);
        assert_eq!(cert.key_matches, Some(true));
        assert_eq!(cert.subject_alt_names.ip, vec!["192.100.100.1"]);
        assert_eq!(cert.public_key.bits, Some(4096));
        assert_eq!(cert.days_left, 39);
        assert_eq!(cert.extended_key_usage, vec!["serverAuth"]);
        assert_eq!(cert.authority_key_id.as_deref(), Some("03:04"));
    }

    #[test]
    fn certificate_facts_need_only_a_role() {
        let cert: CertificateFacts =
            serde_json::from_value(json!({ "role": "planned-serving" })).expect("role suffices");
        assert_eq!(cert.role, CertificateRole::PlannedServing);
        assert!(cert.subject_alt_names.dns.is_empty());
        let missing_role = serde_json::from_value::<CertificateFacts>(json!({ "subject": "CN=x" }))
            .expect_err("role is required");
        assert!(
            missing_role.to_string().contains("missing field `role`"),
            "{missing_role}"
        );
    }

    #[test]
    fn review_reads_settings_and_facts() {
        let review: Review = serde_json::from_value(json!({
            "apiVersion": "acr.policy/v1",
            "operation": "deploy",
            "subject": "connected-registry",
            "object": {
                "trustDistribution.enabled": false,
                "protected": { "tls.secret": "registry-tls", "tls.cacrt": null }
            },
            "facts": { "certificates": [inspected_certificate(), { "role": "ca", "isCa": true }] },
            "settings": { "minimumDays": 30 }
        }))
        .expect("review parses");
        assert_eq!(review.operation, Operation::Deploy);
        assert_eq!(review.subject, SubjectKind::ConnectedRegistry);
        assert!(!review.setting_bool("trustDistribution.enabled", true));
        assert!(review.setting_bool("cert-manager.enabled", true));
        assert_eq!(
            review.protected_setting("tls.secret"),
            Some(&json!("registry-tls"))
        );
        assert_eq!(review.protected_setting("tls.cacrt"), None);
        assert_eq!(
            review
                .facts
                .certificates_with_role(CertificateRole::Ca)
                .count(),
            1
        );
        assert_eq!(review.settings["minimumDays"], 30);
    }

    #[test]
    fn certificates_are_described_by_role_and_subject() {
        let serving: CertificateFacts =
            serde_json::from_value(inspected_certificate()).expect("inspector JSON parses");
        assert_eq!(
            serving.describe(),
            "the serving certificate `CN=connected-registry`"
        );
        let planned: CertificateFacts =
            serde_json::from_value(json!({ "role": "planned-serving" })).expect("parses");
        assert_eq!(planned.describe(), "the planned serving certificate");
        assert!(!serving.subject_alt_names.is_empty());
        assert!(planned.subject_alt_names.is_empty());
        let email_only = SubjectAltNames {
            email: vec!["ops@example.com".to_owned()],
            ..SubjectAltNames::default()
        };
        assert!(!email_only.is_empty());
    }

    #[test]
    fn certificate_settings_follow_the_tls_source() {
        let certificate = |role: &str| -> CertificateFacts {
            serde_json::from_value(json!({ "role": role })).expect("parses")
        };
        let review_of = |subject: &str, protected: Value| -> Review {
            serde_json::from_value(json!({
                "apiVersion": "acr.policy/v1",
                "operation": "deploy",
                "subject": subject,
                "object": { "protected": protected }
            }))
            .expect("review parses")
        };
        let own = review_of(
            "connected-registry",
            json!({ "tls.crt": "1 certificate (PEM)" }),
        );
        assert_eq!(
            own.certificate_setting(&certificate("serving")),
            Some("tls.crt")
        );
        assert_eq!(
            own.certificate_setting(&certificate("intermediate")),
            Some("tls.crt")
        );
        assert_eq!(
            own.certificate_setting(&certificate("ca")),
            Some("tls.cacrt")
        );
        assert_eq!(
            own.certificate_setting(&certificate("planned-serving")),
            None
        );
        let secret = review_of(
            "connected-registry",
            json!({ "tls.secret": "registry-tls" }),
        );
        assert_eq!(
            secret.certificate_setting(&certificate("ca")),
            Some("tls.secret")
        );
        let domain = review_of("custom-domain", json!({}));
        assert_eq!(domain.certificate_setting(&certificate("serving")), None);
    }

    #[test]
    fn unknown_subjects_are_refused_by_name() {
        let error = serde_json::from_value::<Review>(json!({
            "apiVersion": "acr.policy/v1",
            "operation": "deploy",
            "subject": "cluster"
        }))
        .expect_err("unknown subject");
        assert!(
            error.to_string().contains("unknown variant `cluster`"),
            "{error}"
        );
    }
}
