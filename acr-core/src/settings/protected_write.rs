//! Writing the Arc extension's protected settings file (`--config-protected-file`): the
//! connection string plus either your own certificate (`tls.crt`, `tls.key`, `tls.cacrt` as
//! base64 PEM) or the name of an existing Secret (`tls.secret`), checked before anything is written.

use super::protected::parse_secret_name;
use super::{ConnectionString, ProtectedSettings, SettingsError, TlsSource, keys};
use crate::fsio::{self, FileMode, Overwrite, WriteError};
use crate::policy::approval::{self, Approval};
use crate::secret::SecretString;
use crate::tls::{self, LoadedCertificate, SuppliedChain, TlsError};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::Serialize;
use serde_json::{Map, Value};
use std::path::{Path, PathBuf};

/// Where the registry's TLS material comes from.
#[derive(Debug, Clone)]
pub enum ProtectedTlsInput {
    /// Your own certificate (PEM, optionally followed by its chain), its key and the CA clients trust.
    OwnCertificate {
        cert: Vec<u8>,
        key: SecretString,
        ca: Option<Vec<u8>>,
    },
    /// An existing `kubernetes.io/tls` Secret in the registry's namespace.
    Secret { name: String },
}

/// Why protected settings were not written. Never contains a secret value.
#[derive(Debug, thiserror::Error)]
pub enum ProtectedWriteError {
    #[error(transparent)]
    Settings(#[from] SettingsError),
    #[error("{setting}: cannot read the certificate")]
    Certificate {
        setting: &'static str,
        #[source]
        source: TlsError,
    },
    #[error("tls.key: cannot read the private key")]
    PrivateKey(#[source] TlsError),
    #[error(
        "tls.key ({key}) does not belong to the certificate in tls.crt ({subject}); give the key the certificate was issued for"
    )]
    KeyMismatch { key: String, subject: String },
    #[error(
        "--ca did not issue --cert: its chain ends at {subject}, issued by {issuer}, which is in neither; give the CA that issued it, or add the missing intermediate certificates to --cert"
    )]
    CaDidNotIssue { subject: String, issuer: String },
    #[error(transparent)]
    Write(#[from] WriteError),
}

/// What was written, without any secret value.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProtectedSettingsSummary {
    pub file: PathBuf,
    /// The keys written, in file order.
    pub keys: Vec<&'static str>,
    /// The parsed connection string, its password redacted.
    pub connection_string: ConnectionString,
    /// `bring-your-own-certificate` or `existing-secret`.
    pub tls_source: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub certificate_subject: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret_name: Option<String>,
}

/// A protected settings file, checked and ready to write: its content held as a secret, what
/// it holds as the settings model reads it (for the policies' review), and a summary.
#[derive(Debug)]
pub struct ProtectedSettingsFile {
    content: SecretString,
    /// What the file holds, read back with `--config-protected-file`'s own decoder.
    settings: ProtectedSettings,
    /// The TLS source the file gives.
    tls_source: TlsSource,
    summary: ProtectedSettingsSummary,
}

impl ProtectedSettingsFile {
    /// What the file holds, as `--config-protected-file` reads it back (secrets inside).
    pub fn settings(&self) -> &ProtectedSettings {
        &self.settings
    }

    /// The TLS source the file gives.
    pub fn tls_source(&self) -> &TlsSource {
        &self.tls_source
    }

    /// Writes the file to `path` (0600, atomically, never over an existing file unless
    /// `overwrite` allows it), once the policies approved it.
    pub(crate) fn write(
        &self,
        path: &Path,
        overwrite: Overwrite,
        _approved: &Approval<approval::ProtectedSettings>,
    ) -> Result<ProtectedSettingsSummary, ProtectedWriteError> {
        fsio::write_atomic(
            path,
            self.content.expose().as_bytes(),
            FileMode::Secret,
            overwrite,
        )?;
        Ok(ProtectedSettingsSummary {
            file: path.to_path_buf(),
            ..self.summary.clone()
        })
    }
}

/// Checks the inputs and builds the protected settings file; nothing is written.
pub fn prepare_protected_settings(
    connection_string: &str,
    tls_input: &ProtectedTlsInput,
) -> Result<ProtectedSettingsFile, ProtectedWriteError> {
    let connection_string =
        ConnectionString::parse(connection_string).map_err(SettingsError::from)?;
    let mut settings = Map::new();
    let mut written = vec![keys::CONNECTION_STRING];
    settings.insert(
        keys::CONNECTION_STRING.to_owned(),
        Value::String(connection_string.expose()),
    );
    let mut summary = ProtectedSettingsSummary {
        file: PathBuf::new(),
        keys: Vec::new(),
        connection_string,
        tls_source: "bring-your-own-certificate",
        certificate_subject: None,
        secret_name: None,
    };
    match tls_input {
        ProtectedTlsInput::OwnCertificate { cert, key, ca } => {
            let chain = load(keys::TLS_CRT, cert)?;
            let cas = ca
                .as_deref()
                .map(|ca| load(keys::TLS_CACRT, ca))
                .transpose()?
                .unwrap_or_default();
            let subject = check_own_certificate(&chain, key, &cas)?;
            let mut add = |setting: &'static str, pem: &str| {
                settings.insert(setting.to_owned(), Value::String(STANDARD.encode(pem)));
                written.push(setting);
            };
            add(keys::TLS_CRT, &pem_of(&chain));
            add(keys::TLS_KEY, key.expose());
            if !cas.is_empty() {
                add(keys::TLS_CACRT, &pem_of(&cas));
            }
            summary.certificate_subject = Some(subject);
        }
        ProtectedTlsInput::Secret { name } => {
            let name =
                parse_secret_name(name).map_err(|problem| SettingsError::ProtectedValue {
                    key: keys::TLS_SECRET,
                    problem,
                })?;
            settings.insert(keys::TLS_SECRET.to_owned(), Value::String(name.clone()));
            written.push(keys::TLS_SECRET);
            summary.tls_source = "existing-secret";
            summary.secret_name = Some(name);
        }
    }
    let mut json = serde_json::to_string_pretty(&Value::Object(settings)).map_err(|error| {
        SettingsError::InvalidValue {
            key: "protected settings".to_owned(),
            detail: error.to_string(),
        }
    })?;
    json.push('\n');
    summary.keys = written;
    let (settings, tls_source) =
        ProtectedSettings::read_file("the protected settings", json.as_bytes())?;
    Ok(ProtectedSettingsFile {
        content: SecretString::new(json),
        settings,
        tls_source,
        summary,
    })
}

/// The certificates of `bytes` (PEM, DER or base64), private keys left out.
fn load(
    setting: &'static str,
    bytes: &[u8],
) -> Result<Vec<LoadedCertificate>, ProtectedWriteError> {
    Ok(tls::load_certificates(bytes)
        .map_err(|source| ProtectedWriteError::Certificate { setting, source })?
        .certificates)
}

/// Certificates as PEM blocks.
fn pem_of(certificates: &[LoadedCertificate]) -> String {
    certificates
        .iter()
        .map(|certificate| tls::pem::encode("CERTIFICATE", &certificate.der))
        .collect()
}

/// The serving certificate's subject, after checking, with each certificate parsed once, that
/// the key is its own and that the CA (when given) issued the chain.
fn check_own_certificate(
    chain: &[LoadedCertificate],
    key: &SecretString,
    cas: &[LoadedCertificate],
) -> Result<String, ProtectedWriteError> {
    let private_key =
        tls::load_private_key(key.expose().as_bytes()).map_err(ProtectedWriteError::PrivateKey)?;
    let supplied = SuppliedChain::read(chain, &private_key, cas, time::OffsetDateTime::UNIX_EPOCH)
        .map_err(|source| ProtectedWriteError::Certificate {
            setting: keys::TLS_CRT,
            source,
        })?;
    let subject = supplied
        .chain
        .first()
        .map(|serving| serving.subject.clone())
        .unwrap_or_default();
    if !supplied.key_matches {
        return Err(ProtectedWriteError::KeyMismatch {
            key: private_key.description(),
            subject,
        });
    }
    if let Some(gap) = supplied.ca_gap {
        return Err(ProtectedWriteError::CaDidNotIssue {
            subject: gap.subject,
            issuer: gap.issuer,
        });
    }
    Ok(subject)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::{ConnectedRegistrySettings, SettingsInput, TlsSource};
    use crate::tls::test_support::bundle_for;
    use std::os::unix::fs::PermissionsExt;

    /// Writes as the protected-settings operation does once the policies approved.
    fn write_for_test(
        path: &Path,
        connection_string: &str,
        tls_input: &ProtectedTlsInput,
    ) -> Result<ProtectedSettingsSummary, ProtectedWriteError> {
        prepare_protected_settings(connection_string, tls_input)?.write(
            path,
            Overwrite::Refuse,
            &Approval::for_tests(),
        )
    }

    const CONNECTION: &str = "ConnectedRegistryName=edge;SyncTokenName=edge-sync;SyncTokenPassword=s3cretPassw0rd;ParentGatewayEndpoint=contoso.eastus.data.azurecr.io;ParentEndpointProtocol=https";

    fn resolve(path: &Path) -> ConnectedRegistrySettings {
        let input = SettingsInput {
            config: [
                ("service.clusterIP", "10.0.0.1"),
                ("cert-manager.enabled", "false"),
                ("cert-manager.install", "false"),
            ]
            .iter()
            .map(|(key, value)| ((*key).to_owned(), (*value).to_owned()))
            .collect(),
            protected_file: Some(("p.json".to_owned(), std::fs::read(path).expect("read"))),
            protected: Vec::new(),
        };
        ConnectedRegistrySettings::resolve(&input).expect("the settings model reads it back")
    }

    #[test]
    fn a_ca_that_did_not_issue_the_certificate_is_refused() {
        let bundle = bundle_for(&["10.0.0.1"], &[]);
        let other = bundle_for(&["10.0.0.1"], &[]);
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("protected.json");
        let tls_input = ProtectedTlsInput::OwnCertificate {
            cert: bundle.leaf.cert_pem.clone().into_bytes(),
            key: SecretString::new(bundle.leaf.key_pem.clone()),
            ca: Some(other.ca_cert_pem.clone().into_bytes()),
        };
        let error = write_for_test(&path, CONNECTION, &tls_input).expect_err("refused");
        assert!(
            error.to_string().starts_with("--ca did not issue --cert: "),
            "{error}"
        );
        assert!(!path.exists());
    }

    #[test]
    fn own_certificate_settings_read_back_and_stay_private() {
        let bundle = bundle_for(&["10.0.0.1"], &[]);
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("protected.json");
        let tls_input = ProtectedTlsInput::OwnCertificate {
            cert: bundle.leaf.cert_pem.clone().into_bytes(),
            key: SecretString::new(bundle.leaf.key_pem.clone()),
            ca: Some(bundle.ca_cert_pem.clone().into_bytes()),
        };
        let summary = write_for_test(&path, CONNECTION, &tls_input).expect("write");
        assert_eq!(
            summary.keys,
            ["connectionString", "tls.crt", "tls.key", "tls.cacrt"]
        );
        let shown = serde_json::to_string(&summary).expect("json");
        assert!(
            !shown.contains("s3cretPassw0rd") && !shown.contains("PRIVATE"),
            "{shown}"
        );
        let mode = std::fs::metadata(&path).expect("stat").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);

        let settings = resolve(&path);
        let TlsSource::BringYourOwnCertificate {
            cert_pem,
            key_pem,
            ca_pem,
            ..
        } = &settings.tls_source
        else {
            panic!(
                "expected bring your own certificate, got {:?}",
                settings.tls_source
            );
        };
        assert_eq!(cert_pem, &bundle.leaf.cert_pem);
        assert_eq!(key_pem.expose(), bundle.leaf.key_pem);
        assert_eq!(ca_pem.as_deref(), Some(bundle.ca_cert_pem.as_str()));
        assert_eq!(
            settings
                .protected
                .connection_string
                .expect("connection")
                .expose(),
            CONNECTION
        );

        let error = write_for_test(&path, CONNECTION, &tls_input).expect_err("exists");
        assert!(
            error.to_string().contains("already exists; pass --force"),
            "{error}"
        );
    }

    #[test]
    fn secret_settings_name_the_secret() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("protected.json");
        let tls_input = ProtectedTlsInput::Secret {
            name: "registry-tls".to_owned(),
        };
        let summary = write_for_test(&path, CONNECTION, &tls_input).expect("write");
        assert_eq!(summary.keys, ["connectionString", "tls.secret"]);
        let settings = resolve(&path);
        assert!(matches!(
            settings.tls_source,
            TlsSource::ExistingSecret { ref secret_name } if secret_name == "registry-tls"
        ));
    }

    #[test]
    fn bad_inputs_are_refused_and_nothing_is_written() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("protected.json");
        let secret = |name: &str| ProtectedTlsInput::Secret {
            name: name.to_owned(),
        };
        let error = |connection: &str, tls_input: &ProtectedTlsInput| {
            write_for_test(&path, connection, tls_input)
                .expect_err("refused")
                .to_string()
        };
        assert_eq!(
            error(
                "ConnectedRegistryName=edge;SyncTokenName=t",
                &secret("registry-tls")
            ),
            "connectionString: connection string is missing SyncTokenPassword, ParentGatewayEndpoint, ParentEndpointProtocol"
        );
        assert!(error(CONNECTION, &secret("Registry_TLS")).contains("is not a valid Secret name"));
        let bundle = bundle_for(&["10.0.0.1"], &[]);
        let other = bundle_for(&["10.0.0.1"], &[]);
        let mismatch = ProtectedTlsInput::OwnCertificate {
            cert: bundle.leaf.cert_pem.into_bytes(),
            key: SecretString::new(other.leaf.key_pem),
            ca: None,
        };
        assert_eq!(
            error(CONNECTION, &mismatch),
            "tls.key (ECDSA P-256) does not belong to the certificate in tls.crt (CN=10.0.0.1, O=Azure Container Registry connected registry); give the key the certificate was issued for"
        );
        assert!(!path.exists());
    }
}
