//! Renders the connected registry settings into the Kubernetes objects `kubectl acr deploy`
//! applies, in apply order. Pure: no cluster, no clock, no randomness, so the same settings always
//! give the same plan (DESIGN.md section 4).
//!
//! What the plan assumes about the connected registry image is the settings'
//! [`ContainerProfile`](crate::settings::ContainerProfile): documented values and marked guesses,
//! each overridable.

mod cert_manager;
mod gitops;
mod labels;
mod namespace;
mod output;
mod registry;
mod secrets;
#[cfg(test)]
mod tests;
mod trust;

pub use cert_manager::{
    CA_CERTIFICATE_NAME, CA_ISSUER_NAME, CERT_MANAGER_API_VERSION, PlannedServingCertificate,
    SELF_SIGNED_ISSUER_NAME, SERVING_CERTIFICATE_NAME,
};
pub use gitops::{
    CERT_MANAGER_LAYER, EXTERNAL_SECRET_API_VERSION, FolderFile, GitOpsFolder, RemoteKey,
    SecretForm, StoreKind,
};
pub use labels::{
    COMPONENT_LABEL, Component, FIELD_MANAGER, INSTANCE_LABEL, MANAGED_BY, MANAGED_BY_LABEL,
    NAME_LABEL, PART_OF, PART_OF_LABEL, TRUST_NODE_LABEL, TRUST_NODE_LABEL_VALUE, label_selector,
};
pub use namespace::{POD_SECURITY_AUDIT_LABEL, POD_SECURITY_ENFORCE_LABEL, POD_SECURITY_LEVELS};
pub use output::{REDACTED_BASE64, SecretDisplay, kubectl_name};

use crate::settings::{
    ConnectedRegistrySettings, ParentAuth, TlsSource, is_safe_absolute_path, pinned_image_problem,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::Serialize;
use std::net::IpAddr;

/// Namespace of every object, as in the Arc extension.
pub const DEFAULT_NAMESPACE: &str = "connected-registry";
/// The image of the trust-distribution DaemonSet: Azure Linux busybox (a shell, `cp`, `cmp`).
pub const DEFAULT_TRUST_IMAGE: &str = "mcr.microsoft.com/azurelinux/busybox:1.36";
/// Where containerd reads per-registry host configuration (its `config_path`).
pub const DEFAULT_CONTAINERD_CERTS_DIR: &str = "/etc/containerd/certs.d";

/// Name of the registry Deployment, its Service and the service account.
pub const REGISTRY_NAME: &str = "connected-registry";
/// Name of the data volume claim; `delete` keeps it unless asked.
pub const PVC_NAME: &str = "connected-registry-pvc";
/// Name of the Secret holding the connection string.
pub const CONNECTION_SECRET_NAME: &str = "connected-registry-connection";
/// Key of the connection string in [`CONNECTION_SECRET_NAME`], named after the variable the
/// registry container reads.
pub const CONNECTION_STRING_KEY: &str = crate::settings::ENV_CONNECTION_STRING;
/// Name of the serving certificate's `kubernetes.io/tls` Secret (cert-manager and BYOC).
pub const TLS_SECRET_NAME: &str = "connected-registry-tls";
/// Name of the trust-distribution DaemonSet, as in the Arc extension.
pub const TRUST_DAEMONSET_NAME: &str = "connected-registry-containerd-config";

/// The HTTPS port the Service listens on, and so the port of the registry address on nodes.
pub const SERVICE_PORT: i32 = 443;
/// The plain HTTP port the Service listens on with `httpEnabled=true`, as in the Arc extension.
pub const SERVICE_HTTP_PORT: i32 = 80;

/// Choices that are not Arc extension settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanOptions {
    /// Namespace of every namespaced object.
    pub namespace: String,
    /// The trust-distribution DaemonSet image; must be pinned by tag or digest.
    pub trust_distribution_image: String,
    /// containerd's host configuration directory on the nodes (k3s uses
    /// `/var/lib/rancher/k3s/agent/etc/containerd/certs.d`).
    pub containerd_certs_dir: String,
}

impl Default for PlanOptions {
    fn default() -> Self {
        Self {
            namespace: DEFAULT_NAMESPACE.to_owned(),
            trust_distribution_image: DEFAULT_TRUST_IMAGE.to_owned(),
            containerd_certs_dir: DEFAULT_CONTAINERD_CERTS_DIR.to_owned(),
        }
    }
}

/// Why settings cannot be rendered into a plan.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error(
        "connectionString is required to deploy: the connected registry signs in to its parent with it; add it to the protected settings (--config-protected-file or --config-protected connectionString=...)"
    )]
    MissingConnectionString,
    #[error(
        "the connection string names a managed identity (ManagedIdentityClientId), which this tool cannot deploy yet: the Arc extension signs the registry in with Arc workload identity, which a cluster without Arc lacks, and the registry would crash-loop. Use a sync token instead (az acr connected-registry get-settings --name NAME --registry REGISTRY --parent-protocol https --generate-password 1), or deploy with az k8s-extension create on an Arc-enabled cluster"
    )]
    ManagedIdentityUnsupported,
    #[error(
        "tls.cacrt is required while trustDistribution.enabled=true: the nodes must trust the CA that signed tls.crt; add tls.cacrt, or set trustDistribution.enabled=false if the nodes already trust that CA"
    )]
    TrustWithoutCa,
    #[error("{what} `{value}` cannot be used: {reason}")]
    InvalidValue {
        what: &'static str,
        value: String,
        reason: &'static str,
    },
    #[error("cannot serialise the {kind} {name}")]
    Serialize {
        kind: &'static str,
        name: String,
        source: serde_json::Error,
    },
}

/// One object to apply.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedObject {
    pub api_version: String,
    pub kind: String,
    pub name: String,
    /// `None` for cluster-scoped objects (the Namespace).
    pub namespace: Option<String>,
    /// The full manifest, secret values included.
    pub manifest: serde_json::Value,
    /// True for Secrets carrying values from the protected settings; their `data` is redacted on
    /// output unless secrets are shown.
    pub holds_secret: bool,
}

/// The objects of a deployment, in dependency (apply) order.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub objects: Vec<PlannedObject>,
}

/// Renders the settings into the objects to apply.
pub fn render(
    settings: &ConnectedRegistrySettings,
    options: &PlanOptions,
) -> Result<Plan, PlanError> {
    let context = RenderContext::new(settings, options)?;
    let mut objects = vec![
        namespace::namespace(&context)?,
        registry::service_account(&context)?,
        secrets::connection_secret(&context)?,
    ];
    match &settings.tls_source {
        TlsSource::CertManagerInstall | TlsSource::CertManagerExisting => {
            objects.extend(cert_manager::issuer_chain(&context));
        }
        TlsSource::BringYourOwnCertificate {
            cert_pem,
            key_pem,
            ca_pem,
            ..
        } => objects.push(secrets::tls_secret(
            &context,
            cert_pem,
            key_pem,
            ca_pem.as_deref(),
        )?),
        TlsSource::ExistingSecret { .. } => {}
    }
    objects.push(registry::data_volume_claim(&context)?);
    objects.push(registry::service(&context)?);
    objects.push(registry::deployment(&context)?);
    if settings.trust_distribution_enabled {
        objects.push(trust::daemon_set(&context)?);
    }
    Ok(Plan { objects })
}

/// Everything the object builders share, checked once.
struct RenderContext<'a> {
    settings: &'a ConnectedRegistrySettings,
    options: &'a PlanOptions,
    /// The connected registry's name, the value of [`INSTANCE_LABEL`].
    instance: String,
    connection_string: String,
    /// The Secret the registry serves from (and whose `ca.crt` the nodes trust).
    tls_secret_name: String,
}

impl<'a> RenderContext<'a> {
    fn new(
        settings: &'a ConnectedRegistrySettings,
        options: &'a PlanOptions,
    ) -> Result<Self, PlanError> {
        let connection_string = settings
            .protected
            .connection_string
            .as_ref()
            .ok_or(PlanError::MissingConnectionString)?;
        if matches!(connection_string.auth, ParentAuth::ManagedIdentity { .. }) {
            return Err(PlanError::ManagedIdentityUnsupported);
        }
        let instance = connection_string.connected_registry_name.clone();
        check_label_value("connected registry name", &instance)?;
        check_dns_label("namespace", &options.namespace)?;
        check_pinned_image(
            "trust distribution image",
            &options.trust_distribution_image,
        )?;
        check_host_directory(&options.containerd_certs_dir)?;
        let tls_secret_name = match &settings.tls_source {
            TlsSource::ExistingSecret { secret_name } => secret_name.clone(),
            TlsSource::BringYourOwnCertificate { ca_pem: None, .. }
                if settings.trust_distribution_enabled =>
            {
                return Err(PlanError::TrustWithoutCa);
            }
            _ => TLS_SECRET_NAME.to_owned(),
        };
        Ok(Self {
            settings,
            options,
            instance,
            connection_string: connection_string.expose(),
            tls_secret_name,
        })
    }

    fn service_ip(&self) -> IpAddr {
        self.settings.service_cluster_ip
    }

    /// The registry host as image references and containerd spell it (`[v6]` in brackets).
    fn registry_host(&self) -> String {
        match self.service_ip() {
            IpAddr::V4(ip) => ip.to_string(),
            IpAddr::V6(ip) => format!("[{ip}]"),
        }
    }

    fn metadata(&self, name: &str, component: Component) -> ObjectMeta {
        ObjectMeta {
            name: Some(name.to_owned()),
            namespace: Some(self.options.namespace.clone()),
            labels: Some(labels::object_labels(&self.instance, component)),
            ..ObjectMeta::default()
        }
    }
}

/// Wraps a typed object as a planned object.
fn planned<T>(object: &T, holds_secret: bool) -> Result<PlannedObject, PlanError>
where
    T: k8s_openapi::Resource + k8s_openapi::Metadata<Ty = ObjectMeta> + Serialize,
{
    let metadata = object.metadata();
    let name = metadata.name.clone().unwrap_or_default();
    let manifest = serde_json::to_value(object).map_err(|source| PlanError::Serialize {
        kind: T::KIND,
        name: name.clone(),
        source,
    })?;
    Ok(PlannedObject {
        api_version: T::API_VERSION.to_owned(),
        kind: T::KIND.to_owned(),
        name,
        namespace: metadata.namespace.clone(),
        manifest,
        holds_secret,
    })
}

fn invalid(what: &'static str, value: &str, reason: &'static str) -> PlanError {
    PlanError::InvalidValue {
        what,
        value: value.to_owned(),
        reason,
    }
}

/// A Kubernetes label value: at most 63 characters of `[A-Za-z0-9._-]`, alphanumeric at both ends.
fn check_label_value(what: &'static str, value: &str) -> Result<(), PlanError> {
    let alphanumeric_ends = value.starts_with(|c: char| c.is_ascii_alphanumeric())
        && value.ends_with(|c: char| c.is_ascii_alphanumeric());
    let allowed = value
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if value.len() <= 63 && alphanumeric_ends && allowed {
        Ok(())
    } else {
        Err(invalid(
            what,
            value,
            "a label value is at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit",
        ))
    }
}

/// An RFC 1123 label, as namespace names must be.
fn check_dns_label(what: &'static str, value: &str) -> Result<(), PlanError> {
    let lower_alphanumeric = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit();
    let valid = !value.is_empty()
        && value.len() <= 63
        && value.starts_with(lower_alphanumeric)
        && value.ends_with(lower_alphanumeric)
        && value.chars().all(|c| lower_alphanumeric(c) || c == '-');
    if valid {
        Ok(())
    } else {
        Err(invalid(
            what,
            value,
            "use at most 63 lowercase letters, digits or '-', starting and ending with a letter or digit",
        ))
    }
}

/// An image reference pinned by tag or digest, so every node runs the same image.
fn check_pinned_image(what: &'static str, image: &str) -> Result<(), PlanError> {
    match pinned_image_problem(image) {
        None => Ok(()),
        Some(reason) => Err(invalid(what, image, reason)),
    }
}

/// An absolute host path the trust script can use unquoted-safe: `[A-Za-z0-9._/-]`, no `..`.
fn check_host_directory(path: &str) -> Result<(), PlanError> {
    if is_safe_absolute_path(path) {
        Ok(())
    } else {
        Err(invalid(
            "containerd certs directory",
            path,
            "give an absolute path of letters, digits, '.', '_', '-' and '/', without '..'",
        ))
    }
}
