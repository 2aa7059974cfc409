//! The only code holding a Kubernetes client: connects with a kubeconfig, reads what the
//! deployment depends on (preflight), applies a plan with server-side apply, waits for rollouts,
//! and reports or removes what `deploy` made (DESIGN.md sections 4 and 5).
//!
//! The API is blocking: a [`Cluster`] owns a single-threaded tokio runtime and drives kube-rs on
//! it, so the command-line front ends stay synchronous. Nothing here prints; long operations
//! report [`Progress`] through a callback and the front end decides whether to show it.

mod cert_manager;
mod connection;
mod delete;
mod deploy;
mod diagnosis;
mod endpoint;
mod error;
mod preflight;
mod progress;
mod pull_secret;
mod requests;
mod resources;
mod status;
#[cfg(test)]
mod tests;
mod wait;

pub use cert_manager::{
    CERT_MANAGER_RELEASE_SHA256, CERT_MANAGER_RELEASE_URL, CERT_MANAGER_VERSION, CertManagerError,
    CertManagerManifests, CertManagerRelease, REQUIRED_CERT_MANAGER_CRDS,
};
pub use connection::{Cluster, KubeconfigSelection};
pub use delete::{DeleteDryRun, DeleteOptions, DeleteReport, DeletedObject, KeptObject};
pub use deploy::{DeployOptions, DeployReport, NotChecked};
pub use endpoint::RegistryEndpoint;
pub use error::{ClusterError, FieldConflict, PreflightProblem};
pub use preflight::{NodeFacts, Preflight, StorageFacts};
pub use progress::Progress;
pub use pull_secret::{
    ObjectChange, PullSecretClusterError, PullSecretPreflight, PullSecretProblem, PullSecretReport,
};
pub use status::{
    CertificateStatus, ClusterStatus, NodeTrust, ObjectStatus, RolloutStatus, TrustStatus,
};

use crate::plan::{MANAGED_BY, MANAGED_BY_LABEL, PART_OF, PART_OF_LABEL};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

/// The label selector of everything `deploy` made in a namespace, whatever the instance.
fn deployed_selector() -> String {
    format!("{MANAGED_BY_LABEL}={MANAGED_BY},{PART_OF_LABEL}={PART_OF}")
}

/// Whether a listed object carries both labels of [`deployed_selector`]: delete and status
/// check this themselves rather than trust the server's label filtering.
fn carries_deployed_labels(object: &serde_json::Value) -> bool {
    let label = |name: &str| {
        object
            .pointer("/metadata/labels")
            .and_then(|labels| labels.get(name))
            .and_then(serde_json::Value::as_str)
    };
    label(MANAGED_BY_LABEL) == Some(MANAGED_BY) && label(PART_OF_LABEL) == Some(PART_OF)
}

/// Whether `deploy` made (or cert-manager made for it) the object with this metadata.
fn made_by_us(metadata: &ObjectMeta) -> bool {
    metadata
        .labels
        .as_ref()
        .and_then(|labels| labels.get(MANAGED_BY_LABEL))
        .is_some_and(|value| value == MANAGED_BY)
}

/// `Kind namespace/name`, or `Kind name` for cluster-scoped objects: how messages name objects.
fn object_name(kind: &str, namespace: Option<&str>, name: &str) -> String {
    match namespace {
        Some(namespace) => format!("{kind} {namespace}/{name}"),
        None => format!("{kind} {name}"),
    }
}
