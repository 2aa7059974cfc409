//! What `deploy` made in a namespace, read back: each object (found by its labels), the registry
//! rollout, the serving certificate's expiry and names, and trust distribution per node.

use super::diagnosis;
use super::error::ClusterError;
use super::requests::Requests;
use super::resources::known;
use super::wait::{daemon_set_rollout, deployment_rollout};
use super::{carries_deployed_labels, deployed_selector, object_name};
use crate::plan::{CERT_MANAGER_API_VERSION, INSTANCE_LABEL, REGISTRY_NAME, TLS_SECRET_NAME};
use crate::tls::{self, SubjectAltNames};
use crate::untrusted::Untrusted;
use k8s_openapi::api::apps::v1::{DaemonSet, Deployment};
use k8s_openapi::api::core::v1::{Namespace, Node, Pod, Secret};
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// The volume of the registry Deployment that mounts the serving certificate's Secret.
const TLS_VOLUME: &str = "tls";

/// `(apiVersion, kind)` of every kind `deploy` makes in the namespace, in apply order.
const DEPLOYED_KINDS: [(&str, &str); 8] = [
    ("v1", "ServiceAccount"),
    ("v1", "Secret"),
    (CERT_MANAGER_API_VERSION, "Issuer"),
    (CERT_MANAGER_API_VERSION, "Certificate"),
    ("v1", "PersistentVolumeClaim"),
    ("v1", "Service"),
    ("apps/v1", "Deployment"),
    ("apps/v1", "DaemonSet"),
];

/// A connected registry deployment as the cluster has it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterStatus {
    pub namespace: String,
    pub namespace_found: bool,
    /// The connected registry's name, from the objects' instance label.
    pub instance: Option<String>,
    pub objects: Vec<ObjectStatus>,
    pub rollout: Option<RolloutStatus>,
    pub certificate: Option<CertificateStatus>,
    pub trust_distribution: Option<TrustStatus>,
    /// What keeps the deployment from being ready, where the cluster says.
    pub problems: Vec<String>,
}

/// One object `deploy` made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectStatus {
    pub kind: String,
    pub name: String,
    pub created: Option<String>,
}

/// The registry Deployment's rollout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RolloutStatus {
    pub deployment: String,
    pub complete: bool,
    pub state: String,
    pub image: Option<String>,
}

/// The certificate the registry serves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CertificateStatus {
    /// The Secret holding it.
    pub secret: String,
    /// Why it could not be described (the Secret is missing, not issued yet, unreadable).
    pub problem: Option<String>,
    pub subject: Option<String>,
    pub issuer: Option<String>,
    pub not_after: Option<String>,
    pub days_left: Option<i64>,
    pub expired: Option<bool>,
    pub subject_alt_names: Option<SubjectAltNames>,
}

/// The trust-distribution DaemonSet, node by node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TrustStatus {
    pub daemon_set: String,
    /// The nodes it runs on, as a label selector.
    pub node_selector: String,
    pub complete: bool,
    pub state: String,
    pub nodes: Vec<NodeTrust>,
}

/// Whether one node has the CA.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeTrust {
    pub node: String,
    /// The trust pod on the node; `None` when none was scheduled there (yet).
    pub pod: Option<String>,
    pub ready: bool,
    /// The node's container runtime (`containerd://1.7.0`); trust distribution writes
    /// containerd's configuration, which other runtimes do not read.
    pub container_runtime: Option<String>,
}

pub(crate) async fn read(
    requests: &Requests,
    namespace: &str,
    now: OffsetDateTime,
) -> Result<ClusterStatus, ClusterError> {
    let found: Option<Namespace> = requests
        .get(&known("v1", "Namespace"), None, namespace)
        .await?;
    let mut status = ClusterStatus {
        namespace: namespace.to_owned(),
        namespace_found: found.is_some(),
        instance: None,
        objects: Vec::new(),
        rollout: None,
        certificate: None,
        trust_distribution: None,
        problems: Vec::new(),
    };
    if found.is_none() {
        return Ok(status);
    }
    let selector = deployed_selector();
    let mut deployments = Vec::new();
    let mut daemon_sets = Vec::new();
    for (api_version, kind) in DEPLOYED_KINDS {
        let items: Vec<Value> = requests
            .list(&known(api_version, kind), Some(namespace), Some(&selector))
            .await?
            .unwrap_or_default();
        for item in items.into_iter().filter(carries_deployed_labels) {
            let metadata = |field: &str| {
                item.pointer(&format!("/metadata/{field}"))
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            };
            if status.instance.is_none() {
                status.instance = item
                    .pointer("/metadata/labels")
                    .and_then(|labels| labels.get(INSTANCE_LABEL))
                    .and_then(Value::as_str)
                    .map(str::to_owned);
            }
            status.objects.push(ObjectStatus {
                kind: kind.to_owned(),
                name: metadata("name").unwrap_or_default(),
                created: metadata("creationTimestamp"),
            });
            match kind {
                "Deployment" => deployments.push(item),
                "DaemonSet" => daemon_sets.push(item),
                _ => {}
            }
        }
    }
    let registry = deployments
        .into_iter()
        .filter_map(|item| serde_json::from_value::<Deployment>(item).ok())
        .find(|deployment| deployment.metadata.name.as_deref() == Some(REGISTRY_NAME));
    let tls_secret = registry
        .as_ref()
        .and_then(serving_secret_name)
        .unwrap_or_else(|| TLS_SECRET_NAME.to_owned());
    if let Some(deployment) = &registry {
        let state = deployment_rollout(deployment);
        status.rollout = Some(RolloutStatus {
            deployment: object_name("Deployment", Some(namespace), REGISTRY_NAME),
            complete: state.done,
            state: state.detail,
            image: deployment
                .spec
                .as_ref()
                .and_then(|spec| spec.template.spec.as_ref())
                .and_then(|pod| pod.containers.first())
                .and_then(|container| container.image.clone()),
        });
    }
    status.certificate = Some(certificate(requests, namespace, &tls_secret, now).await?);
    if let Some(daemon_set) = daemon_sets
        .into_iter()
        .find_map(|item| serde_json::from_value::<DaemonSet>(item).ok())
    {
        status.trust_distribution = Some(trust(requests, namespace, &daemon_set).await?);
    }
    status.problems = diagnosis::blockers(requests, namespace).await?;
    Ok(status)
}

/// The Secret the registry Deployment mounts as its certificate.
pub(super) fn serving_secret_name(deployment: &Deployment) -> Option<String> {
    deployment
        .spec
        .as_ref()?
        .template
        .spec
        .as_ref()?
        .volumes
        .as_ref()?
        .iter()
        .find(|volume| volume.name == TLS_VOLUME)?
        .secret
        .as_ref()?
        .secret_name
        .clone()
}

async fn certificate(
    requests: &Requests,
    namespace: &str,
    secret_name: &str,
    now: OffsetDateTime,
) -> Result<CertificateStatus, ClusterError> {
    let mut status = CertificateStatus {
        secret: object_name("Secret", Some(namespace), secret_name),
        problem: None,
        subject: None,
        issuer: None,
        not_after: None,
        days_left: None,
        expired: None,
        subject_alt_names: None,
    };
    let secret: Option<Secret> = requests
        .get(&known("v1", "Secret"), Some(namespace), secret_name)
        .await?;
    let pem = secret
        .and_then(|secret| secret.data)
        .and_then(|mut data| data.remove("tls.crt"));
    let Some(pem) = pem else {
        status.problem =
            Some("the Secret or its tls.crt does not exist (yet, with cert-manager)".to_owned());
        return Ok(status);
    };
    let described = tls::load_certificates(&pem.0).and_then(|loaded| {
        let first = loaded
            .certificates
            .first()
            .ok_or(tls::TlsError::NoCertificate)?;
        tls::describe(&first.der, now)
    });
    match described {
        Ok(info) => {
            status.subject = Some(info.subject);
            status.issuer = Some(info.issuer);
            status.not_after = info.not_after.format(&Rfc3339).ok();
            status.days_left = Some(info.days_left);
            status.expired = Some(info.expired);
            status.subject_alt_names = Some(info.subject_alt_names);
        }
        Err(error) => status.problem = Some(format!("tls.crt cannot be read: {error}")),
    }
    Ok(status)
}

async fn trust(
    requests: &Requests,
    namespace: &str,
    daemon_set: &DaemonSet,
) -> Result<TrustStatus, ClusterError> {
    let spec = daemon_set.spec.as_ref();
    let node_selector = spec
        .and_then(|spec| spec.template.spec.as_ref())
        .and_then(|pod| pod.node_selector.clone())
        .unwrap_or_default();
    let pod_selector = spec
        .and_then(|spec| spec.selector.match_labels.clone())
        .unwrap_or_default();
    let nodes: Vec<Node> = requests
        .list(
            &known("v1", "Node"),
            None,
            Some(&selector_text(&node_selector)),
        )
        .await?
        .unwrap_or_default();
    let pods: Vec<Pod> = requests
        .list(
            &known("v1", "Pod"),
            Some(namespace),
            Some(&selector_text(&pod_selector)),
        )
        .await?
        .unwrap_or_default();
    let runtimes: BTreeMap<String, String> = nodes
        .iter()
        .filter_map(|node| {
            let runtime = node
                .status
                .as_ref()?
                .node_info
                .as_ref()?
                .container_runtime_version
                .clone();
            Some((node.metadata.name.clone()?, runtime))
        })
        .collect();
    let mut by_node: BTreeMap<String, NodeTrust> = nodes
        .iter()
        .filter_map(|node| node.metadata.name.clone())
        .map(|node| {
            let trust = NodeTrust {
                node: node.clone(),
                pod: None,
                ready: false,
                container_runtime: runtimes.get(&node).cloned(),
            };
            (node, trust)
        })
        .collect();
    for pod in &pods {
        let Some(node) = pod.spec.as_ref().and_then(|spec| spec.node_name.clone()) else {
            continue;
        };
        let ready = pod
            .status
            .as_ref()
            .and_then(|status| status.conditions.as_ref())
            .is_some_and(|conditions| {
                conditions
                    .iter()
                    .any(|condition| condition.type_ == "Ready" && condition.status == "True")
            });
        by_node.insert(
            node.clone(),
            NodeTrust {
                container_runtime: runtimes.get(&node).cloned(),
                node,
                pod: pod.metadata.name.clone(),
                ready,
            },
        );
    }
    let rollout = daemon_set_rollout(daemon_set);
    Ok(TrustStatus {
        daemon_set: object_name(
            "DaemonSet",
            Some(namespace),
            daemon_set.metadata.name.as_deref().unwrap_or_default(),
        ),
        node_selector: selector_text(&node_selector),
        complete: rollout.done,
        state: rollout.detail,
        nodes: by_node.into_values().collect(),
    })
}

fn selector_text(labels: &BTreeMap<String, String>) -> String {
    labels
        .iter()
        .map(|(key, value)| format!("{key}={value}"))
        .collect::<Vec<_>>()
        .join(",")
}

impl ClusterStatus {
    /// Whether the registry is deployed, rolled out and nothing is known to keep it from working.
    pub fn ready(&self) -> bool {
        self.namespace_found
            && self
                .rollout
                .as_ref()
                .is_some_and(|rollout| rollout.complete)
            && self.problems.is_empty()
    }

    /// One line for a fleet summary: the rollout and the first problem, if any.
    pub fn summary(&self) -> String {
        if !self.namespace_found {
            return format!("namespace {} does not exist", self.namespace);
        }
        let mut line = match &self.rollout {
            Some(rollout) => format!(
                "{}: {}{}",
                rollout.deployment,
                rollout.state,
                rollout
                    .image
                    .as_deref()
                    .map(|image| format!(" ({image})"))
                    .unwrap_or_default()
            ),
            None => "no registry Deployment".to_owned(),
        };
        match self.problems.as_slice() {
            [] => {}
            [only] => line.push_str(&format!("; {only}")),
            [first, rest @ ..] => {
                line.push_str(&format!("; {first} (and {} more)", rest.len()));
            }
        }
        line
    }

    /// The status for people, one section per part.
    pub fn to_text(&self) -> String {
        let mut text = String::new();
        if !self.namespace_found {
            let _ = writeln!(
                text,
                "Namespace {} does not exist: nothing is deployed there.",
                self.namespace
            );
            return text;
        }
        let _ = writeln!(
            text,
            "Connected registry: {}",
            self.instance.as_deref().unwrap_or("(no objects found)")
        );
        let _ = writeln!(text, "Namespace:          {}", self.namespace);
        let _ = writeln!(text, "\nObjects:");
        if self.objects.is_empty() {
            let _ = writeln!(text, "  none made by kubectl acr deploy");
        }
        for object in &self.objects {
            let _ = writeln!(
                text,
                "  {:<22} {:<40} {}",
                object.kind,
                object.name,
                object.created.as_deref().unwrap_or("")
            );
        }
        if let Some(rollout) = &self.rollout {
            let _ = writeln!(
                text,
                "\nRollout: {} {}: {}",
                rollout.deployment,
                if rollout.complete {
                    "complete"
                } else {
                    "in progress"
                },
                rollout.state
            );
            if let Some(image) = &rollout.image {
                let _ = writeln!(text, "  image: {image}");
            }
        }
        if let Some(certificate) = &self.certificate {
            let _ = writeln!(text, "\nServing certificate ({}):", certificate.secret);
            match &certificate.problem {
                Some(problem) => {
                    let _ = writeln!(text, "  {problem}");
                }
                None => {
                    let field = |value: &Option<String>| value.clone().unwrap_or_default();
                    let _ = writeln!(text, "  subject:  {}", field(&certificate.subject));
                    let _ = writeln!(text, "  issuer:   {}", field(&certificate.issuer));
                    let _ = writeln!(
                        text,
                        "  SANs:     {}",
                        certificate
                            .subject_alt_names
                            .as_ref()
                            .map(SubjectAltNames::summary)
                            .unwrap_or_default()
                    );
                    let _ = writeln!(
                        text,
                        "  expires:  {} ({})",
                        field(&certificate.not_after),
                        match (certificate.expired, certificate.days_left) {
                            (Some(true), _) => "EXPIRED".to_owned(),
                            (_, Some(days)) => format!("{days} days left"),
                            _ => String::new(),
                        }
                    );
                }
            }
        }
        match &self.trust_distribution {
            Some(trust) => {
                let _ = writeln!(
                    text,
                    "\nTrust distribution: {} on nodes {}: {}",
                    trust.daemon_set, trust.node_selector, trust.state
                );
                if trust.nodes.is_empty() {
                    let _ = writeln!(
                        text,
                        "  no node matches; label the nodes that pull from the registry"
                    );
                }
                for node in &trust.nodes {
                    let runtime = match node.container_runtime.as_deref() {
                        Some(runtime) if !runtime.starts_with("containerd://") => format!(
                            " ({}: does not read containerd's configuration, so this node does not trust the CA)",
                            Untrusted(runtime)
                        ),
                        _ => String::new(),
                    };
                    let _ = writeln!(
                        text,
                        "  {:<30} {:<10} {}{runtime}",
                        node.node,
                        if node.ready { "ready" } else { "not ready" },
                        node.pod.as_deref().unwrap_or("no pod")
                    );
                }
            }
            None => {
                let _ = writeln!(
                    text,
                    "\nTrust distribution: off (no DaemonSet); the nodes must trust the CA themselves"
                );
            }
        }
        if !self.problems.is_empty() {
            let _ = writeln!(text, "\nWhat keeps it from being ready:");
            for problem in &self.problems {
                let _ = writeln!(text, "  - {problem}");
            }
        }
        text
    }
}
