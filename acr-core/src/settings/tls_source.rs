//! Where the registry's serving certificate comes from, derived from the cert-manager flags and
//! the protected TLS settings (DESIGN.md section 4).

use super::{ProtectedSettings, SettingsError, keys};
use crate::secret::SecretString;
use serde::Serialize;

/// The TLS source of a connected registry deployment.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum TlsSource {
    /// cert-manager is installed by the tool, then a self-signed CA issues the serving certificate.
    CertManagerInstall,
    /// The cluster's own cert-manager issues the serving certificate.
    CertManagerExisting,
    /// The user's own certificate and key (`tls.crt`, `tls.key`, optionally `tls.cacrt`).
    #[serde(rename_all = "camelCase")]
    BringYourOwnCertificate {
        #[serde(skip)]
        cert_pem: String,
        #[serde(skip)]
        key_pem: SecretString,
        #[serde(skip)]
        ca_pem: Option<String>,
        has_custom_ca: bool,
    },
    /// An existing `kubernetes.io/tls` Secret in the registry's namespace.
    #[serde(rename_all = "camelCase")]
    ExistingSecret { secret_name: String },
}

impl TlsSource {
    /// One line saying what the source is, for people.
    pub fn describe(&self) -> String {
        match self {
            TlsSource::CertManagerInstall => {
                "cert-manager installed by kubectl acr; a self-signed CA issues the serving certificate".to_owned()
            }
            TlsSource::CertManagerExisting => {
                "the cluster's existing cert-manager; a self-signed CA issues the serving certificate".to_owned()
            }
            TlsSource::BringYourOwnCertificate { ca_pem, .. } => format!(
                "your own certificate from tls.crt and tls.key{}",
                if ca_pem.is_some() { ", with the CA from tls.cacrt" } else { "" }
            ),
            TlsSource::ExistingSecret { secret_name } => {
                format!("the existing kubernetes.io/tls Secret `{secret_name}`")
            }
        }
    }

    pub(super) fn derive(
        cert_manager_enabled: bool,
        cert_manager_install: bool,
        protected: &ProtectedSettings,
    ) -> Result<Self, SettingsError> {
        let conflict = |first: &str, second: &str, detail: &str| SettingsError::Conflict {
            first: first.to_owned(),
            second: second.to_owned(),
            detail: detail.to_owned(),
        };
        let enabled = format!("{}={cert_manager_enabled}", keys::CERT_MANAGER_ENABLED);
        let install = format!("{}={cert_manager_install}", keys::CERT_MANAGER_INSTALL);
        let own_material = [
            (keys::TLS_CRT, protected.tls_crt.is_some()),
            (keys::TLS_KEY, protected.tls_key.is_some()),
            (keys::TLS_CACRT, protected.tls_cacrt.is_some()),
            (keys::TLS_SECRET, protected.tls_secret.is_some()),
        ];
        let given = own_material
            .iter()
            .find(|(_, present)| *present)
            .map(|(key, _)| *key);

        if cert_manager_enabled {
            if let Some(key) = given {
                return Err(conflict(
                    &enabled,
                    key,
                    "cert-manager issues the certificate, so your own TLS material would be ignored; to bring your own, set cert-manager.enabled=false and cert-manager.install=false",
                ));
            }
            return Ok(if cert_manager_install {
                TlsSource::CertManagerInstall
            } else {
                TlsSource::CertManagerExisting
            });
        }
        if cert_manager_install {
            return Err(conflict(
                &enabled,
                &install,
                "cert-manager cannot be installed while disabled; add --config cert-manager.install=false (the default is true)",
            ));
        }
        match (
            &protected.tls_secret,
            &protected.tls_crt,
            &protected.tls_key,
        ) {
            (Some(_), Some(_), _) => Err(conflict(
                keys::TLS_SECRET,
                keys::TLS_CRT,
                "give either an existing Secret or your own certificate, not both",
            )),
            (Some(_), None, Some(_)) => Err(conflict(
                keys::TLS_SECRET,
                keys::TLS_KEY,
                "give either an existing Secret or your own certificate and key, not both",
            )),
            (Some(secret_name), None, None) => {
                if protected.tls_cacrt.is_some() {
                    return Err(conflict(
                        keys::TLS_SECRET,
                        keys::TLS_CACRT,
                        "the CA of an existing Secret is its ca.crt entry; leave tls.cacrt out",
                    ));
                }
                Ok(TlsSource::ExistingSecret {
                    secret_name: secret_name.clone(),
                })
            }
            (None, Some(cert_pem), Some(key_pem)) => Ok(TlsSource::BringYourOwnCertificate {
                cert_pem: cert_pem.clone(),
                key_pem: key_pem.clone(),
                ca_pem: protected.tls_cacrt.clone(),
                has_custom_ca: protected.tls_cacrt.is_some(),
            }),
            (None, Some(_), None) => Err(SettingsError::Missing {
                key: keys::TLS_KEY,
                why: "tls.crt was given without its private key",
            }),
            (None, None, Some(_)) => Err(SettingsError::Missing {
                key: keys::TLS_CRT,
                why: "tls.key was given without its certificate",
            }),
            (None, None, None) => Err(conflict(
                &enabled,
                &install,
                "with cert-manager off, give your own certificate (tls.crt and tls.key) or an existing Secret (tls.secret) in the protected settings",
            )),
        }
    }
}
