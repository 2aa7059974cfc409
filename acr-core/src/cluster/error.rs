//! Why a cluster operation failed: each error names the object and the request, and for answers
//! from the API server its HTTP status, reason and message.

use super::cert_manager::CertManagerError;
use std::fmt;
use std::time::Duration;

/// A failed cluster operation.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error("cannot read the kubeconfig {origin}")]
    Kubeconfig {
        origin: String,
        #[source]
        source: kube::config::KubeconfigError,
    },
    #[error("cannot use the kubeconfig {origin}")]
    ClientConfig {
        origin: String,
        #[source]
        source: kube::Error,
    },
    #[error("cannot start the runtime the Kubernetes client runs on")]
    Runtime(#[source] std::io::Error),
    #[error(
        "{request} ({object}): the API server answered HTTP {code}{}: {message}{}",
        reason_text(reason),
        hint(*code)
    )]
    Api {
        /// `METHOD /path` of the request.
        request: String,
        /// The object it was about, as `Kind namespace/name`.
        object: String,
        code: u16,
        reason: String,
        message: String,
    },
    #[error(
        "{request} ({object}): fields this deploy sets are managed by someone else, so nothing \
         was overwritten:\n{}\nRe-run with --force-conflicts to take them over (the other \
         manager may set them back), or stop that manager from setting them",
        conflict_lines(.conflicts)
    )]
    Conflict {
        request: String,
        object: String,
        conflicts: Vec<FieldConflict>,
    },
    #[error("{request} ({object}) failed")]
    Request {
        request: String,
        object: String,
        #[source]
        source: kube::Error,
    },
    #[error("the API server's answer to {request} is not a {kind}")]
    Answer {
        request: String,
        kind: &'static str,
        #[source]
        source: serde_json::Error,
    },
    #[error("{object} does not exist: {hint}")]
    Missing { object: String, hint: String },
    #[error("{object} cannot be applied: {reason}")]
    InvalidObject { object: String, reason: String },
    #[error("the cluster is not ready for this deployment, nothing was changed:\n{}", problem_lines(.problems))]
    Preflight { problems: Vec<PreflightProblem> },
    #[error(
        "timed out after {} waiting for: {}{}",
        duration_text(*.timeout),
        .pending.join("; "),
        blocker_lines(.blockers)
    )]
    TimedOut {
        timeout: Duration,
        /// What was still not ready, each with its state.
        pending: Vec<String>,
        /// What keeps it from being ready, where the cluster says.
        blockers: Vec<String>,
    },
    #[error(transparent)]
    CertManager(#[from] CertManagerError),
}

/// A field of a server-side apply that another field manager owns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldConflict {
    /// The field path, as the API server names it (`.spec.replicas`).
    pub field: String,
    /// The field manager that owns it.
    pub manager: String,
}

fn conflict_lines(conflicts: &[FieldConflict]) -> String {
    conflicts
        .iter()
        .map(|conflict| {
            format!(
                "  - {} is managed by `{}`",
                conflict.field, conflict.manager
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// What to do about an answer, where the code says it.
fn hint(code: u16) -> &'static str {
    match code {
        401 => " (the kubeconfig's credentials were not accepted: log in again or check --context)",
        403 => {
            " (the user lacks this right: `kubectl auth can-i --list -n NAMESPACE` shows what it \
             may do; ask a cluster admin for it or use a context that has it)"
        }
        _ => "",
    }
}

fn reason_text(reason: &str) -> String {
    if reason.is_empty() {
        String::new()
    } else {
        format!(" {reason}")
    }
}

fn blocker_lines(blockers: &[String]) -> String {
    if blockers.is_empty() {
        return String::new();
    }
    let lines: Vec<String> = blockers
        .iter()
        .map(|blocker| format!("  - {blocker}"))
        .collect();
    format!("\nWhat keeps it from being ready:\n{}", lines.join("\n"))
}

fn problem_lines(problems: &[PreflightProblem]) -> String {
    problems
        .iter()
        .map(|problem| format!("  - {problem}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// `90s`, `5m`, `1m30s`, `2h`: how `--timeout` is written.
pub(crate) fn duration_text(duration: Duration) -> String {
    let total = duration.as_secs();
    let (hours, minutes, seconds) = (total / 3600, total % 3600 / 60, total % 60);
    let mut text = String::new();
    if hours > 0 {
        text.push_str(&format!("{hours}h"));
    }
    if minutes > 0 {
        text.push_str(&format!("{minutes}m"));
    }
    if seconds > 0 || text.is_empty() {
        text.push_str(&format!("{seconds}s"));
    }
    text
}

/// Something in the cluster that stops the deployment before anything is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PreflightProblem {
    /// A Secret the plan would apply exists and was not made by `kubectl acr deploy`.
    ForeignSecret { namespace: String, name: String },
    /// `tls.secret` names a Secret that does not exist.
    TlsSecretMissing { namespace: String, name: String },
    /// `tls.secret` is not of type `kubernetes.io/tls`.
    TlsSecretType {
        namespace: String,
        name: String,
        found: String,
    },
    /// `tls.secret` lacks a key the deployment reads.
    TlsSecretKeyMissing {
        namespace: String,
        name: String,
        key: &'static str,
        why: &'static str,
    },
    /// A certificate or key in `tls.secret` cannot be read.
    TlsSecretUnreadable {
        namespace: String,
        name: String,
        key: &'static str,
        reason: String,
    },
    /// cert-manager is expected in the cluster (`cert-manager.install=false`) but a CRD is absent.
    CertManagerCrdMissing { crd: &'static str },
    /// Another Service already holds `service.clusterIP`.
    ServiceIpTaken { ip: String, service: String },
    /// `pvc.storageClassName` names a StorageClass the cluster does not have.
    StorageClassMissing {
        name: String,
        available: Vec<String>,
    },
    /// The API server refuses `service.clusterIP` for a Service: it is outside the cluster's
    /// service range (named when the API server names it).
    ServiceIpOutOfRange { ip: String, range: Option<String> },
    /// The namespace exists and enforces a Pod Security level stricter than the pods need; the
    /// label was set by someone else (`manager`), so deploy does not lower it.
    PodSecurityTooStrict {
        namespace: String,
        enforced: String,
        required: String,
        manager: Option<String>,
        why: &'static str,
    },
    /// `cert-manager.install=true`, but the cluster has a cert-manager deploy did not install.
    SecondCertManager { found: Vec<String> },
}

impl fmt::Display for PreflightProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PreflightProblem::ForeignSecret { namespace, name } => write!(
                f,
                "Secret {namespace}/{name} exists and was not made by kubectl acr (it has no \
                 app.kubernetes.io/managed-by=kubectl-acr label), so it is not overwritten: \
                 delete or rename it, or deploy into another namespace (-n)"
            ),
            PreflightProblem::TlsSecretMissing { namespace, name } => write!(
                f,
                "tls.secret names Secret {namespace}/{name}, which does not exist: create it \
                 (kubectl create secret tls {name} -n {namespace} --cert=... --key=...) or fix \
                 the name"
            ),
            PreflightProblem::TlsSecretType {
                namespace,
                name,
                found,
            } => write!(
                f,
                "tls.secret {namespace}/{name} has type `{found}`, not kubernetes.io/tls"
            ),
            PreflightProblem::TlsSecretKeyMissing {
                namespace,
                name,
                key,
                why,
            } => write!(f, "tls.secret {namespace}/{name} has no `{key}`: {why}"),
            PreflightProblem::TlsSecretUnreadable {
                namespace,
                name,
                key,
                reason,
            } => write!(
                f,
                "`{key}` of tls.secret {namespace}/{name} cannot be read: {reason}"
            ),
            PreflightProblem::CertManagerCrdMissing { crd } => write!(
                f,
                "cert-manager.install=false, but the cluster has no CustomResourceDefinition \
                 {crd}: install cert-manager first, or set cert-manager.install=true"
            ),
            PreflightProblem::StorageClassMissing { name, available } => write!(
                f,
                "pvc.storageClassName names StorageClass {name}, which the cluster does not \
                 have, so the data volume would never be provisioned: use one of {}, or leave \
                 it out for the default",
                if available.is_empty() {
                    "the classes a storage provisioner brings (the cluster has none yet)".to_owned()
                } else {
                    available.join(", ")
                }
            ),
            PreflightProblem::ServiceIpOutOfRange { ip, range } => write!(
                f,
                "service.clusterIP {ip} is outside the cluster's service range{}: choose a free \
                 address inside it",
                range
                    .as_ref()
                    .map(|range| format!(" {range}"))
                    .unwrap_or_default()
            ),
            PreflightProblem::PodSecurityTooStrict {
                namespace,
                enforced,
                required,
                manager,
                why,
            } => write!(
                f,
                "namespace {namespace} enforces Pod Security `{enforced}` (label \
                 pod-security.kubernetes.io/enforce{}), but deploy needs `{required}`: {why}. \
                 It does not lower a level someone else set: deploy into another namespace \
                 (-n){}, or, if {namespace} may run such pods, relabel it (kubectl label \
                 namespace {namespace} pod-security.kubernetes.io/enforce={required} --overwrite)",
                manager
                    .as_ref()
                    .map(|manager| format!(", set by `{manager}`"))
                    .unwrap_or_default(),
                if *required == "privileged" {
                    ", set trustDistribution.enabled=false and make the nodes trust the CA yourself"
                } else {
                    ", run the registry as a non-root user (leave container.runAsUser out)"
                }
            ),
            PreflightProblem::SecondCertManager { found } => write!(
                f,
                "cert-manager.install=true would install a second cert-manager, but the cluster \
                 has one already: {}. Two installs fight over the same CRDs and webhooks: set \
                 cert-manager.install=false to use the one there",
                found.join(", ")
            ),
            PreflightProblem::ServiceIpTaken { ip, service } => write!(
                f,
                "service.clusterIP {ip} is already held by Service {service}: choose a free \
                 address in the cluster's service range"
            ),
        }
    }
}
