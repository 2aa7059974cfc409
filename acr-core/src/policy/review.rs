//! Builds the admission-style review a policy receives from typed settings: the normalised
//! object with secrets redacted, and certificate facts computed by the host.

use crate::plan::PlannedServingCertificate;
use crate::settings::{
    ConnectedRegistrySettings, EffectiveSettings, ProtectedSettings, ProtectedView, TlsSource,
    TlsSourceView,
};
use crate::tls::{self, CertificateInfo, LoadedCertificate, SuppliedChain};
use acr_policy::Review;
use serde_json::{Value, json};
use time::OffsetDateTime;
use wasm_guest::{
    CertificateFacts, CertificateRole, Facts, Operation, PublicKeyFacts, REVIEW_API_VERSION,
    SubjectAltNames, SubjectKind,
};

/// Why a review could not be built from the settings.
#[derive(Debug, thiserror::Error)]
pub enum ReviewError {
    #[error("cannot read the certificates in {setting}")]
    Certificates {
        setting: &'static str,
        #[source]
        source: tls::TlsError,
    },
    #[error("cannot read the private key in tls.key")]
    PrivateKey {
        #[source]
        source: tls::TlsError,
    },
    #[error(
        "tls.cacrt did not issue tls.crt: its chain ends at {subject}, issued by {issuer}, which is in neither tls.crt nor tls.cacrt; give the CA that issued it in tls.cacrt, or add the missing intermediate certificates to tls.crt"
    )]
    CaDidNotIssue { subject: String, issuer: String },
    #[error("cannot describe the certificate facts for policies")]
    Facts(#[from] serde_json::Error),
}

/// The review of deploying (or checking) a connected registry with `settings` into
/// `namespace`, as of `now`. The namespace names the planned cert-manager certificate's DNS
/// names (`connected-registry.<namespace>.svc`).
pub fn connected_registry_review(
    settings: &ConnectedRegistrySettings,
    namespace: &str,
    operation: Operation,
    now: OffsetDateTime,
) -> Result<Review, ReviewError> {
    Ok(Review {
        api_version: REVIEW_API_VERSION.to_owned(),
        operation,
        subject: SubjectKind::ConnectedRegistry,
        object: connected_registry_object(settings)?,
        facts: Facts {
            certificates: certificate_facts(settings, namespace, now)?,
            cluster: None,
        },
        settings: Value::Null,
    })
}

/// The review of writing a protected settings file holding `protected` (whose TLS source is
/// `tls_source`), as of `now`: the object has `protected` and `tlsSource` as a connected
/// registry's review has them, secrets redacted, and the facts describe the certificates.
pub fn protected_settings_review(
    protected: &ProtectedSettings,
    tls_source: &TlsSource,
    now: OffsetDateTime,
) -> Result<Review, ReviewError> {
    Ok(Review {
        api_version: REVIEW_API_VERSION.to_owned(),
        operation: Operation::Create,
        subject: SubjectKind::ProtectedSettings,
        object: json!({
            "protected": serde_json::to_value(ProtectedView::new(protected))?,
            "tlsSource": serde_json::to_value(TlsSourceView::new(tls_source))?,
        }),
        facts: Facts {
            certificates: supplied_certificate_facts(tls_source, now)?,
            cluster: None,
        },
        settings: Value::Null,
    })
}

/// Public settings at the top level under their Arc names; protected ones under `protected`,
/// secrets redacted; the TLS source under `tlsSource`.
fn connected_registry_object(settings: &ConnectedRegistrySettings) -> Result<Value, ReviewError> {
    let view = EffectiveSettings::new(settings);
    let mut object = serde_json::to_value(&view.settings)?;
    if let Value::Object(map) = &mut object {
        map.insert(
            "protected".to_owned(),
            serde_json::to_value(&view.protected)?,
        );
        map.insert(
            "tlsSource".to_owned(),
            serde_json::to_value(&view.tls_source)?,
        );
    }
    Ok(object)
}

fn certificate_facts(
    settings: &ConnectedRegistrySettings,
    namespace: &str,
    now: OffsetDateTime,
) -> Result<Vec<CertificateFacts>, ReviewError> {
    match &settings.tls_source {
        TlsSource::CertManagerInstall | TlsSource::CertManagerExisting => {
            let planned = PlannedServingCertificate::new(settings, namespace);
            Ok(vec![planned_facts(&planned)])
        }
        supplied => supplied_certificate_facts(supplied, now),
    }
}

/// The facts of the certificates the settings themselves hold (`tls.crt`, `tls.cacrt`); none
/// for the other sources.
fn supplied_certificate_facts(
    tls_source: &TlsSource,
    now: OffsetDateTime,
) -> Result<Vec<CertificateFacts>, ReviewError> {
    let TlsSource::BringYourOwnCertificate {
        cert_pem,
        key_pem,
        ca_pem,
        ..
    } = tls_source
    else {
        return Ok(Vec::new());
    };
    let key = tls::load_private_key(key_pem.expose().as_bytes())
        .map_err(|source| ReviewError::PrivateKey { source })?;
    let chain = loaded("tls.crt", cert_pem)?;
    let cas = match ca_pem {
        Some(ca_pem) => loaded("tls.cacrt", ca_pem)?,
        None => Vec::new(),
    };
    let supplied = SuppliedChain::read(&chain, &key, &cas, now).map_err(|source| {
        ReviewError::Certificates {
            setting: "tls.crt",
            source,
        }
    })?;
    if let Some(gap) = supplied.ca_gap {
        return Err(ReviewError::CaDidNotIssue {
            subject: gap.subject,
            issuer: gap.issuer,
        });
    }
    let mut facts = Vec::new();
    for (index, info) in supplied.chain.iter().enumerate() {
        let (role, key_matches) = if index == 0 {
            (CertificateRole::Serving, Some(supplied.key_matches))
        } else {
            (CertificateRole::Intermediate, None)
        };
        facts.push(facts_of(info, role, key_matches)?);
    }
    for info in &supplied.cas {
        facts.push(facts_of(info, CertificateRole::Ca, None)?);
    }
    Ok(facts)
}

/// The certificates of a PEM setting.
fn loaded(setting: &'static str, pem_text: &str) -> Result<Vec<LoadedCertificate>, ReviewError> {
    Ok(tls::load_certificates(pem_text.as_bytes())
        .map_err(|source| ReviewError::Certificates { setting, source })?
        .certificates)
}

/// The host's certificate description in the shape policies read (the ABI's certificate facts).
pub fn facts_of(
    info: &CertificateInfo,
    role: CertificateRole,
    key_matches: Option<bool>,
) -> Result<CertificateFacts, serde_json::Error> {
    let mut value = serde_json::to_value(info)?;
    if let Value::Object(map) = &mut value {
        map.insert("role".to_owned(), serde_json::to_value(role)?);
        map.insert("keyMatches".to_owned(), json!(key_matches));
    }
    serde_json::from_value(value)
}

fn planned_facts(planned: &PlannedServingCertificate) -> CertificateFacts {
    let common_name = planned.ip_addresses.first().map(ToString::to_string);
    CertificateFacts {
        role: CertificateRole::PlannedServing,
        key_matches: None,
        subject: common_name
            .as_ref()
            .map(|cn| format!("CN={cn}"))
            .unwrap_or_default(),
        issuer: "cert-manager CA Issuer".to_owned(),
        serial: String::new(),
        subject_alt_names: SubjectAltNames {
            dns: planned.dns_names.clone(),
            ip: planned
                .ip_addresses
                .iter()
                .map(ToString::to_string)
                .collect(),
            uri: Vec::new(),
            email: Vec::new(),
        },
        common_name,
        not_before: String::new(),
        not_after: String::new(),
        days_left: i64::from(planned.validity_days),
        expired: false,
        not_yet_valid: false,
        public_key: PublicKeyFacts {
            algorithm: planned.key_algorithm.to_owned(),
            bits: Some(planned.key_bits),
            curve: Some(format!("P-{}", planned.key_bits)),
            description: format!("{} P-{}", planned.key_algorithm, planned.key_bits),
        },
        signature_algorithm: "ecdsa-with-SHA256".to_owned(),
        sha256_fingerprint: String::new(),
        is_ca: false,
        path_len: None,
        key_usage: vec!["digitalSignature".to_owned()],
        extended_key_usage: vec!["serverAuth".to_owned()],
        subject_key_id: None,
        authority_key_id: None,
        self_signed: false,
    }
}
