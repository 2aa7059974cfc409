//! The effective settings as `config view` shows them: defaults filled in, TLS source named,
//! secrets redacted.

use super::{
    ConnectedRegistrySettings, ConnectionString, ContainerProfile, ProtectedSettings, TlsSource,
    keys,
};
use crate::secret::REDACTED;
use serde::Serialize;
use std::fmt::Write as _;

/// A printable, serialisable view of [`ConnectedRegistrySettings`] that holds no secret.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EffectiveSettings {
    pub settings: PublicView,
    /// Settings that took their default value.
    pub defaults: Vec<&'static str>,
    pub protected: ProtectedView,
    pub tls_source: TlsSourceView,
}

/// Public settings under their Arc extension names.
#[derive(Debug, Clone, Serialize)]
pub struct PublicView {
    #[serde(rename = "service.clusterIP")]
    pub service_cluster_ip: String,
    #[serde(rename = "service.type")]
    pub service_type: &'static str,
    #[serde(rename = "pvc.storageClassName")]
    pub pvc_storage_class_name: Option<String>,
    #[serde(rename = "pvc.storageRequest")]
    pub pvc_storage_request: String,
    #[serde(rename = "cert-manager.enabled")]
    pub cert_manager_enabled: bool,
    #[serde(rename = "cert-manager.install")]
    pub cert_manager_install: bool,
    #[serde(rename = "trustDistribution.enabled")]
    pub trust_distribution_enabled: bool,
    #[serde(rename = "trustDistribution.useNodeSelector")]
    pub trust_distribution_use_node_selector: bool,
    #[serde(rename = "registryLoginServer")]
    pub registry_login_server: Option<String>,
    #[serde(rename = "httpEnabled")]
    pub http_enabled: bool,
    /// The `container.*` keys.
    pub container: ContainerProfile,
}

/// Protected settings with secrets replaced by what they are.
#[derive(Debug, Clone, Serialize)]
pub struct ProtectedView {
    #[serde(rename = "connectionString", skip_serializing_if = "Option::is_none")]
    pub connection_string: Option<ConnectionString>,
    #[serde(rename = "tls.crt", skip_serializing_if = "Option::is_none")]
    pub tls_crt: Option<String>,
    #[serde(rename = "tls.key", skip_serializing_if = "Option::is_none")]
    pub tls_key: Option<&'static str>,
    #[serde(rename = "tls.cacrt", skip_serializing_if = "Option::is_none")]
    pub tls_cacrt: Option<String>,
    #[serde(rename = "tls.secret", skip_serializing_if = "Option::is_none")]
    pub tls_secret: Option<String>,
}

/// The TLS source, by kind and in words.
#[derive(Debug, Clone, Serialize)]
pub struct TlsSourceView {
    #[serde(flatten)]
    pub source: TlsSource,
    pub description: String,
}

fn certificate_count(pem_text: &str) -> String {
    let count = crate::tls::pem::parse_blocks(pem_text)
        .map(|blocks| blocks.iter().filter(|block| block.is_certificate()).count())
        .unwrap_or(0);
    match count {
        1 => "1 certificate (PEM)".to_owned(),
        n => format!("{n} certificates (PEM)"),
    }
}

impl ProtectedView {
    /// The view of `protected`: certificates counted, the key redacted.
    pub fn new(protected: &ProtectedSettings) -> Self {
        Self {
            connection_string: protected.connection_string.clone(),
            tls_crt: protected.tls_crt.as_deref().map(certificate_count),
            tls_key: protected.tls_key.as_ref().map(|_| REDACTED),
            tls_cacrt: protected.tls_cacrt.as_deref().map(certificate_count),
            tls_secret: protected.tls_secret.clone(),
        }
    }
}

impl TlsSourceView {
    /// `source` by kind and in words.
    pub fn new(source: &TlsSource) -> Self {
        Self {
            description: source.describe(),
            source: source.clone(),
        }
    }
}

impl EffectiveSettings {
    pub fn new(settings: &ConnectedRegistrySettings) -> Self {
        Self {
            settings: PublicView {
                service_cluster_ip: settings.service_cluster_ip.to_string(),
                service_type: settings.service_type.as_str(),
                pvc_storage_class_name: settings.pvc_storage_class_name.clone(),
                pvc_storage_request: settings.pvc_storage_request.clone(),
                cert_manager_enabled: settings.cert_manager_enabled,
                cert_manager_install: settings.cert_manager_install,
                trust_distribution_enabled: settings.trust_distribution_enabled,
                trust_distribution_use_node_selector: settings.trust_distribution_use_node_selector,
                registry_login_server: settings.registry_login_server.clone(),
                http_enabled: settings.http_enabled,
                container: settings.container.clone(),
            },
            defaults: settings.defaulted.iter().copied().collect(),
            protected: ProtectedView::new(&settings.protected),
            tls_source: TlsSourceView::new(&settings.tls_source),
        }
    }

    /// Aligned text for people; `(default)` marks values nobody set.
    pub fn to_text(&self) -> String {
        let public = &self.settings;
        let container = &public.container;
        let rows: [(&str, String); 18] = [
            (keys::SERVICE_CLUSTER_IP, public.service_cluster_ip.clone()),
            (keys::SERVICE_TYPE, public.service_type.to_owned()),
            (
                keys::PVC_STORAGE_CLASS_NAME,
                public
                    .pvc_storage_class_name
                    .clone()
                    .unwrap_or_else(|| "(the cluster's default storage class)".to_owned()),
            ),
            (
                keys::PVC_STORAGE_REQUEST,
                public.pvc_storage_request.clone(),
            ),
            (
                keys::CERT_MANAGER_ENABLED,
                public.cert_manager_enabled.to_string(),
            ),
            (
                keys::CERT_MANAGER_INSTALL,
                public.cert_manager_install.to_string(),
            ),
            (
                keys::TRUST_DISTRIBUTION_ENABLED,
                public.trust_distribution_enabled.to_string(),
            ),
            (
                keys::TRUST_DISTRIBUTION_USE_NODE_SELECTOR,
                if public.trust_distribution_use_node_selector {
                    "true (labelled nodes only)".to_owned()
                } else {
                    "false (every Linux node)".to_owned()
                },
            ),
            (
                keys::REGISTRY_LOGIN_SERVER,
                public
                    .registry_login_server
                    .clone()
                    .unwrap_or_else(|| "(any name)".to_owned()),
            ),
            (keys::HTTP_ENABLED, public.http_enabled.to_string()),
            (keys::CONTAINER_IMAGE, container.image.clone()),
            (keys::CONTAINER_HTTPS_PORT, container.https_port.to_string()),
            (keys::CONTAINER_HTTP_PORT, container.http_port.to_string()),
            (
                keys::CONTAINER_RUN_AS_USER,
                if container.runs_as_root() {
                    "0 (root)".to_owned()
                } else {
                    container.run_as_user.to_string()
                },
            ),
            (keys::CONTAINER_DATA_PATH, container.data_path.clone()),
            (keys::CONTAINER_CERTS_PATH, container.certs_path.clone()),
            (keys::CONTAINER_CERT_FILE, container.cert_file.clone()),
            (keys::CONTAINER_KEY_FILE, container.key_file.clone()),
        ];
        let mut text = String::from("Settings:\n");
        for (key, value) in rows {
            let marker = if self.defaults.contains(&key) {
                "  (default)"
            } else {
                ""
            };
            let _ = writeln!(text, "  {key:<36} {value}{marker}");
        }
        text.push_str("Protected settings:\n");
        let protected = &self.protected;
        let protected_rows = [
            (
                keys::CONNECTION_STRING,
                protected
                    .connection_string
                    .as_ref()
                    .map(ToString::to_string),
            ),
            (keys::TLS_CRT, protected.tls_crt.clone()),
            (keys::TLS_KEY, protected.tls_key.map(str::to_owned)),
            (keys::TLS_CACRT, protected.tls_cacrt.clone()),
            (keys::TLS_SECRET, protected.tls_secret.clone()),
        ];
        let mut any = false;
        for (key, value) in protected_rows {
            if let Some(value) = value {
                any = true;
                let _ = writeln!(text, "  {key:<36} {value}");
            }
        }
        if !any {
            text.push_str("  (none)\n");
        }
        let _ = writeln!(text, "TLS source:\n  {}", self.tls_source.description);
        text
    }
}
