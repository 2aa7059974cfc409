//! The reads before a deploy: the namespace and its Pod Security level (stricter than what the
//! plan runs needs is refused), Secrets the plan would overwrite, the `tls.secret` and its
//! certificates, cert-manager's CRDs when the cluster's own cert-manager is used, another
//! cert-manager when `cert-manager.install=true` would add a second, any other Service on
//! `service.clusterIP`, whether the address is in the cluster's service range (the API server's
//! own answer to a dry-run Service: the range is not readable otherwise), the StorageClasses,
//! and the nodes' OS and container runtime (trust distribution writes containerd's
//! configuration). Every problem found is reported at once, before anything is written; what
//! was read becomes facts for the policies, and what only may go wrong becomes warnings.

use super::cert_manager::REQUIRED_CERT_MANAGER_CRDS;
use super::error::{ClusterError, PreflightProblem};
use super::made_by_us;
use super::requests::Requests;
use super::resources::known;
use crate::plan::{
    FIELD_MANAGER, POD_SECURITY_ENFORCE_LABEL, POD_SECURITY_LEVELS, Plan, PlannedObject,
    REGISTRY_NAME,
};
use crate::policy::{Review, facts_of};
use crate::settings::{ConnectedRegistrySettings, TlsSource};
use crate::tls;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Namespace, Node, Secret, Service};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use time::OffsetDateTime;
use wasm_guest::{CertificateFacts, CertificateRole};

const TLS_SECRET_TYPE: &str = "kubernetes.io/tls";
/// The annotation that makes a StorageClass the cluster's default.
const DEFAULT_STORAGE_CLASS_ANNOTATION: &str = "storageclass.kubernetes.io/is-default-class";
/// Where the dry-run Service that asks about the service range goes: a namespace every
/// cluster has.
const SERVICE_IP_PROBE_NAMESPACE: &str = "default";
const SERVICE_IP_PROBE_NAME: &str = "kubectl-acr-service-ip-probe";
const TLS_CERT_KEY: &str = "tls.crt";
const TLS_KEY_KEY: &str = "tls.key";
const CA_CERT_KEY: &str = "ca.crt";

/// What the preflight reads found: facts for the policy review.
#[derive(Debug, Clone, PartialEq)]
pub struct Preflight {
    /// The target namespace, and whether it exists already.
    pub namespace: String,
    pub namespace_exists: bool,
    /// Its `pod-security.kubernetes.io/enforce` level, when it exists and has one.
    pub pod_security_enforce: Option<String>,
    /// The level the planned namespace enforces: what the pods deploy runs need.
    pub pod_security_required: Option<String>,
    /// cert-manager installs found that `kubectl acr deploy` did not make (`None`: not looked
    /// for, only with `cert-manager.install=true`, or not readable).
    pub other_cert_managers: Option<Vec<String>>,
    /// The nodes (`None`: they could not be listed).
    pub nodes: Option<Vec<NodeFacts>>,
    /// What may keep the deployment from working without stopping it.
    pub warnings: Vec<String>,
    /// Whether cert-manager's CRDs were found (`None`: not looked for).
    pub cert_manager_crds_present: Option<bool>,
    /// The keys of the `tls.secret`, when one is used.
    pub tls_secret_keys: Option<Vec<String>>,
    /// The service IP, free of other Services.
    pub service_ip: String,
    /// Whether the API server accepts the service IP for a Service (`None`: it could not be
    /// asked, e.g. no right to dry-run a Service in `default`).
    pub service_ip_in_range: Option<bool>,
    /// The cluster's StorageClasses (`None`: they could not be listed).
    pub storage: Option<StorageFacts>,
    /// The certificates of the `tls.secret`: serving (and intermediates) from `tls.crt`, CAs
    /// from `ca.crt`.
    pub certificates: Vec<CertificateFacts>,
}

/// What the data volume claim will be provisioned by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StorageFacts {
    /// `pvc.storageClassName`, when set.
    pub requested_class: Option<String>,
    /// The StorageClass marked default, if any.
    pub default_class: Option<String>,
    /// Every StorageClass's name.
    pub classes: Vec<String>,
}

/// What trust distribution depends on in a node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeFacts {
    pub name: String,
    /// `status.nodeInfo.operatingSystem` (`linux`, `windows`).
    pub operating_system: String,
    /// `status.nodeInfo.osImage`.
    pub os_image: String,
    /// `status.nodeInfo.containerRuntimeVersion` (`containerd://1.7.0`).
    pub container_runtime: String,
    /// Whether the trust DaemonSet's node selector takes the node.
    pub trust_distribution: bool,
}

impl NodeFacts {
    /// Whether the node's runtime is containerd, whose host configuration the DaemonSet writes.
    pub fn uses_containerd(&self) -> bool {
        self.container_runtime.starts_with("containerd://")
    }
}

impl Preflight {
    /// The facts as `facts.cluster` of a policy review.
    pub fn cluster_facts(&self) -> Value {
        let mut facts = json!({
            "namespace": {
                "name": self.namespace,
                "exists": self.namespace_exists,
                "podSecurityEnforce": self.pod_security_enforce,
                "podSecurityRequired": self.pod_security_required,
            },
            "serviceIp": {
                "address": self.service_ip,
                "free": true,
                "inServiceRange": self.service_ip_in_range,
            },
        });
        if let Some(storage) = &self.storage {
            facts["storage"] = json!({
                "requestedClass": storage.requested_class,
                "defaultClass": storage.default_class,
                "classes": storage.classes,
            });
        }
        if let Some(present) = self.cert_manager_crds_present {
            facts["certManager"] = json!({ "crdsPresent": present });
        }
        if let Some(others) = &self.other_cert_managers {
            facts["certManager"]["otherInstalls"] = json!(others);
        }
        if let Some(nodes) = &self.nodes {
            facts["nodes"] = nodes
                .iter()
                .map(|node| {
                    json!({
                        "name": node.name,
                        "operatingSystem": node.operating_system,
                        "osImage": node.os_image,
                        "containerRuntime": node.container_runtime,
                        "containerd": node.uses_containerd(),
                        "trustDistribution": node.trust_distribution,
                    })
                })
                .collect();
        }
        if let Some(keys) = &self.tls_secret_keys {
            facts["tlsSecret"] = json!({ "type": TLS_SECRET_TYPE, "keys": keys });
        }
        facts
    }

    /// Adds the cluster facts and the `tls.secret` certificates to a review built from settings.
    pub fn add_facts_to(&self, review: &mut Review) {
        review
            .facts
            .certificates
            .extend(self.certificates.iter().cloned());
        review.facts.cluster = Some(self.cluster_facts().into());
    }
}

pub(crate) async fn run(
    requests: &Requests,
    settings: &ConnectedRegistrySettings,
    plan: &Plan,
    namespace: &str,
    now: OffsetDateTime,
) -> Result<Preflight, ClusterError> {
    let mut problems = Vec::new();
    let existing_namespace: Option<Namespace> = requests
        .get(&known("v1", "Namespace"), None, namespace)
        .await?;
    let pod_security_enforce = existing_namespace
        .as_ref()
        .and_then(|found| found.metadata.labels.as_ref())
        .and_then(|labels| labels.get(POD_SECURITY_ENFORCE_LABEL))
        .cloned();
    let pod_security_required = plan
        .objects
        .iter()
        .find(|object| object.kind == "Namespace")
        .and_then(|object| {
            object
                .manifest
                .pointer("/metadata/labels")
                .and_then(|labels| labels.get(POD_SECURITY_ENFORCE_LABEL))
                .and_then(Value::as_str)
                .map(str::to_owned)
        });
    if let (Some(found), Some(enforced), Some(required)) = (
        &existing_namespace,
        &pod_security_enforce,
        &pod_security_required,
    ) {
        let strictness = |level: &str| POD_SECURITY_LEVELS.iter().position(|known| *known == level);
        let manager = label_manager(&found.metadata, POD_SECURITY_ENFORCE_LABEL);
        if strictness(enforced) > strictness(required) && manager.as_deref() != Some(FIELD_MANAGER)
        {
            problems.push(PreflightProblem::PodSecurityTooStrict {
                namespace: namespace.to_owned(),
                enforced: enforced.clone(),
                required: required.clone(),
                manager,
                why: if settings.trust_distribution_enabled {
                    "the trust-distribution DaemonSet writes containerd's configuration on each node through a hostPath volume"
                } else {
                    "the registry runs as root (container.runAsUser=0)"
                },
            });
        }
    }

    let secrets = known("v1", "Secret");
    for planned in plan.objects.iter().filter(|object| object.kind == "Secret") {
        let secret_namespace = planned.namespace.as_deref().unwrap_or(namespace);
        let existing: Option<Secret> = requests
            .get(&secrets, Some(secret_namespace), &planned.name)
            .await?;
        if existing.is_some_and(|secret| !made_by_us(&secret.metadata)) {
            problems.push(PreflightProblem::ForeignSecret {
                namespace: secret_namespace.to_owned(),
                name: planned.name.clone(),
            });
        }
    }

    let mut certificates = Vec::new();
    let mut tls_secret_keys = None;
    if let TlsSource::ExistingSecret { secret_name } = &settings.tls_source {
        let found: Option<Secret> = requests.get(&secrets, Some(namespace), secret_name).await?;
        let check = SecretCheck {
            namespace,
            name: secret_name,
            trust_distribution: settings.trust_distribution_enabled,
            now,
        };
        match found {
            None => problems.push(PreflightProblem::TlsSecretMissing {
                namespace: namespace.to_owned(),
                name: secret_name.clone(),
            }),
            Some(secret) => {
                let data = secret.data.unwrap_or_default();
                tls_secret_keys = Some(data.keys().cloned().collect());
                let (facts, found_problems) = check.examine(secret.type_.as_deref(), &data);
                certificates = facts;
                problems.extend(found_problems);
            }
        }
    }

    let mut cert_manager_crds_present = None;
    if matches!(settings.tls_source, TlsSource::CertManagerExisting) {
        let definitions = known("apiextensions.k8s.io/v1", "CustomResourceDefinition");
        let mut all_present = true;
        for crd in REQUIRED_CERT_MANAGER_CRDS {
            let found: Option<CustomResourceDefinition> =
                requests.get(&definitions, None, crd).await?;
            if found.is_none() {
                all_present = false;
                problems.push(PreflightProblem::CertManagerCrdMissing { crd });
            }
        }
        cert_manager_crds_present = Some(all_present);
    }

    let other_cert_managers = if matches!(settings.tls_source, TlsSource::CertManagerInstall) {
        let found = other_cert_managers(requests).await?;
        if let Some(found) = found.as_ref().filter(|found| !found.is_empty()) {
            problems.push(PreflightProblem::SecondCertManager {
                found: found.clone(),
            });
        }
        found
    } else {
        None
    };
    let nodes = node_facts(requests, plan).await?;
    let warnings = match &nodes {
        Some(nodes) if settings.trust_distribution_enabled => {
            trust_warnings(nodes, settings.trust_distribution_use_node_selector)
        }
        _ => Vec::new(),
    };

    let service_ip = settings.service_cluster_ip.to_string();
    let services: Vec<Service> = requests
        .list(&known("v1", "Service"), None, None)
        .await?
        .unwrap_or_default();
    for service in services {
        let (service_namespace, service_name) = (
            service.metadata.namespace.clone().unwrap_or_default(),
            service.metadata.name.clone().unwrap_or_default(),
        );
        if service_namespace == namespace && service_name == REGISTRY_NAME {
            continue;
        }
        let holds_ip = service.spec.as_ref().is_some_and(|spec| {
            spec.cluster_ip.as_deref() == Some(service_ip.as_str())
                || spec
                    .cluster_ips
                    .as_ref()
                    .is_some_and(|ips| ips.contains(&service_ip))
        });
        if holds_ip {
            problems.push(PreflightProblem::ServiceIpTaken {
                ip: service_ip.clone(),
                service: format!("{service_namespace}/{service_name}"),
            });
        }
    }
    let storage = storage_facts(requests, settings).await?;
    if let Some(StorageFacts {
        requested_class: Some(name),
        classes,
        ..
    }) = &storage
        && !classes.contains(name)
    {
        problems.push(PreflightProblem::StorageClassMissing {
            name: name.clone(),
            available: classes.clone(),
        });
    }

    let service_ip_in_range = if problems
        .iter()
        .any(|problem| matches!(problem, PreflightProblem::ServiceIpTaken { .. }))
    {
        None
    } else {
        match requests
            .apply(&service_ip_probe(&service_ip), true, false)
            .await
        {
            Ok(_) => Some(true),
            Err(ClusterError::Api {
                code: 422, message, ..
            }) if message.contains("not in the valid range") => {
                problems.push(PreflightProblem::ServiceIpOutOfRange {
                    ip: service_ip.clone(),
                    range: message
                        .rsplit("The range of valid IPs is ")
                        .next()
                        .filter(|range| *range != message)
                        .map(|range| range.trim().trim_end_matches('.').to_owned()),
                });
                Some(false)
            }
            // No right to dry-run a Service in `default`, no `default`, another answer: the
            // apply itself will say.
            Err(ClusterError::Api { .. } | ClusterError::Conflict { .. }) => None,
            Err(error) => return Err(error),
        }
    };

    if !problems.is_empty() {
        return Err(ClusterError::Preflight { problems });
    }
    Ok(Preflight {
        namespace: namespace.to_owned(),
        namespace_exists: existing_namespace.is_some(),
        pod_security_enforce,
        pod_security_required,
        other_cert_managers,
        nodes,
        warnings,
        cert_manager_crds_present,
        tls_secret_keys,
        service_ip,
        service_ip_in_range,
        storage,
        certificates,
    })
}

/// The field manager that set `label` on an object, from its managed fields.
fn label_manager(metadata: &ObjectMeta, label: &str) -> Option<String> {
    let field = format!("f:{label}");
    metadata.managed_fields.iter().flatten().find_map(|entry| {
        entry
            .fields_v1
            .as_ref()
            .and_then(|fields| fields.0.pointer("/f:metadata/f:labels"))
            .and_then(Value::as_object)
            .filter(|labels| labels.contains_key(&field))
            .and(entry.manager.clone())
    })
}

/// Whether `kubectl acr deploy` applied an object (its field manager is among the managers).
fn applied_by_us(metadata: &ObjectMeta) -> bool {
    metadata
        .managed_fields
        .iter()
        .flatten()
        .any(|entry| entry.manager.as_deref() == Some(FIELD_MANAGER))
}

/// cert-manager installs `deploy` did not make: controller Deployments in any namespace (by
/// image or by the `app.kubernetes.io/name=cert-manager` label of the Helm chart and the static
/// manifests), and cert-manager's Certificate CRD applied by someone else. `None` when the
/// user may not list Deployments cluster-wide.
async fn other_cert_managers(requests: &Requests) -> Result<Option<Vec<String>>, ClusterError> {
    let deployments: Vec<Deployment> = match requests
        .list(&known("apps/v1", "Deployment"), None, None)
        .await
    {
        Ok(found) => found.unwrap_or_default(),
        Err(ClusterError::Api { code: 403, .. }) => return Ok(None),
        Err(error) => return Err(error),
    };
    let mut found: Vec<String> = deployments
        .iter()
        .filter(|deployment| !applied_by_us(&deployment.metadata))
        .filter(|deployment| is_cert_manager_controller(deployment))
        .map(|deployment| {
            super::object_name(
                "Deployment",
                deployment.metadata.namespace.as_deref(),
                deployment.metadata.name.as_deref().unwrap_or_default(),
            )
        })
        .collect();
    let definitions = known("apiextensions.k8s.io/v1", "CustomResourceDefinition");
    let crd = REQUIRED_CERT_MANAGER_CRDS[0];
    let definition: Option<CustomResourceDefinition> =
        match requests.get(&definitions, None, crd).await {
            Ok(definition) => definition,
            Err(ClusterError::Api { code: 403, .. }) => None,
            Err(error) => return Err(error),
        };
    if let Some(definition) = definition.filter(|found| !applied_by_us(&found.metadata)) {
        let managers: Vec<String> = definition
            .metadata
            .managed_fields
            .iter()
            .flatten()
            .filter_map(|entry| entry.manager.clone())
            .collect();
        found.push(format!(
            "CustomResourceDefinition {crd}{}",
            if managers.is_empty() {
                String::new()
            } else {
                format!(" (applied by {})", managers.join(", "))
            }
        ));
    }
    Ok(Some(found))
}

/// A cert-manager controller: its image (`.../cert-manager-controller:v1.x`) or its label.
fn is_cert_manager_controller(deployment: &Deployment) -> bool {
    let labelled = deployment.metadata.labels.as_ref().is_some_and(|labels| {
        labels.get("app.kubernetes.io/name").map(String::as_str) == Some("cert-manager")
    });
    let image = deployment
        .spec
        .as_ref()
        .and_then(|spec| spec.template.spec.as_ref())
        .is_some_and(|pod| {
            pod.containers.iter().any(|container| {
                container.image.as_deref().is_some_and(|image| {
                    image
                        .rsplit('/')
                        .next()
                        .is_some_and(|name| name.starts_with("cert-manager-controller"))
                })
            })
        });
    labelled || image
}

/// The nodes' OS and runtime, and whether the planned trust DaemonSet selects each; `None`
/// when the user may not list nodes.
async fn node_facts(
    requests: &Requests,
    plan: &Plan,
) -> Result<Option<Vec<NodeFacts>>, ClusterError> {
    let nodes: Vec<Node> = match requests.list(&known("v1", "Node"), None, None).await {
        Ok(found) => found.unwrap_or_default(),
        Err(ClusterError::Api { code: 403, .. }) => return Ok(None),
        Err(error) => return Err(error),
    };
    let selector: Option<BTreeMap<String, String>> = plan
        .objects
        .iter()
        .find(|object| object.kind == "DaemonSet")
        .and_then(|object| object.manifest.pointer("/spec/template/spec/nodeSelector"))
        .and_then(|selector| serde_json::from_value(selector.clone()).ok());
    Ok(Some(
        nodes
            .iter()
            .map(|node| {
                let info = node
                    .status
                    .as_ref()
                    .and_then(|status| status.node_info.as_ref());
                let labels = node.metadata.labels.clone().unwrap_or_default();
                NodeFacts {
                    name: node.metadata.name.clone().unwrap_or_default(),
                    operating_system: info
                        .map(|info| info.operating_system.clone())
                        .unwrap_or_default(),
                    os_image: info.map(|info| info.os_image.clone()).unwrap_or_default(),
                    container_runtime: info
                        .map(|info| info.container_runtime_version.clone())
                        .unwrap_or_default(),
                    trust_distribution: selector.as_ref().is_some_and(|selector| {
                        selector
                            .iter()
                            .all(|(key, value)| labels.get(key) == Some(value))
                    }),
                }
            })
            .collect(),
    ))
}

/// What the nodes say about trust distribution: nodes it will not reach, nodes whose runtime
/// does not read containerd's configuration.
pub(crate) fn trust_warnings(nodes: &[NodeFacts], use_node_selector: bool) -> Vec<String> {
    let mut warnings = Vec::new();
    let selected: Vec<&NodeFacts> = nodes
        .iter()
        .filter(|node| node.trust_distribution)
        .collect();
    if selected.is_empty() {
        warnings.push(if use_node_selector {
            format!(
                "trust distribution reaches no node: trustDistribution.useNodeSelector=true and no node is labelled {TRUST_LABEL}; label the nodes that pull from the registry (kubectl label node NODE {TRUST_LABEL})"
            )
        } else {
            "trust distribution reaches no node: the cluster has no Linux node".to_owned()
        });
        return warnings;
    }
    let other_runtime: Vec<String> = selected
        .iter()
        .filter(|node| !node.uses_containerd())
        .map(|node| {
            format!(
                "{} ({})",
                node.name,
                if node.container_runtime.is_empty() {
                    "runtime not reported"
                } else {
                    node.container_runtime.as_str()
                }
            )
        })
        .collect();
    if !other_runtime.is_empty() {
        warnings.push(format!(
            "{} the nodes trust distribution selects run containerd: {} {} not read the containerd configuration it writes, so {} will not trust the registry's CA; configure {} runtime yourself or use useNodeSelector=true to leave {} out",
            if other_runtime.len() == selected.len() { "none of" } else { "not all of" },
            other_runtime.join(", "),
            if other_runtime.len() == 1 { "does" } else { "do" },
            if other_runtime.len() == 1 { "it" } else { "they" },
            if other_runtime.len() == 1 { "its" } else { "their" },
            if other_runtime.len() == 1 { "it" } else { "them" },
        ));
    }
    warnings
}

/// The node label `trustDistribution.useNodeSelector=true` selects, as `key=value`.
const TRUST_LABEL: &str = "containerd-configured-by=connected-registry";

/// The StorageClasses, `None` when the user may not list them (they are cluster-wide).
async fn storage_facts(
    requests: &Requests,
    settings: &ConnectedRegistrySettings,
) -> Result<Option<StorageFacts>, ClusterError> {
    match storage_classes(requests).await {
        Ok((classes, default_class)) => Ok(Some(StorageFacts {
            requested_class: settings.pvc_storage_class_name.clone(),
            default_class,
            classes,
        })),
        Err(ClusterError::Api { code: 403, .. }) => Ok(None),
        Err(error) => Err(error),
    }
}

/// The names of the cluster's StorageClasses, and the one marked default.
pub(crate) async fn storage_classes(
    requests: &Requests,
) -> Result<(Vec<String>, Option<String>), ClusterError> {
    let classes: Vec<Value> = requests
        .list(&known("storage.k8s.io/v1", "StorageClass"), None, None)
        .await?
        .unwrap_or_default();
    let name = |class: &Value| {
        class
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let default = classes
        .iter()
        .find(|class| {
            class
                .pointer("/metadata/annotations")
                .and_then(|annotations| annotations.get(DEFAULT_STORAGE_CLASS_ANNOTATION))
                .and_then(Value::as_str)
                == Some("true")
        })
        .map(name);
    Ok((classes.iter().map(name).collect(), default))
}

/// A Service in `default` on the service IP, only ever applied as a dry run: the API server's
/// IP allocator answers whether the address is in the service range.
fn service_ip_probe(service_ip: &str) -> PlannedObject {
    PlannedObject {
        api_version: "v1".to_owned(),
        kind: "Service".to_owned(),
        namespace: Some(SERVICE_IP_PROBE_NAMESPACE.to_owned()),
        name: SERVICE_IP_PROBE_NAME.to_owned(),
        holds_secret: false,
        manifest: json!({
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {
                "name": SERVICE_IP_PROBE_NAME,
                "namespace": SERVICE_IP_PROBE_NAMESPACE,
            },
            "spec": {
                "clusterIP": service_ip,
                "ports": [{ "port": 443, "protocol": "TCP" }],
            },
        }),
    }
}

/// Checks a `tls.secret` and describes its certificates.
pub(crate) struct SecretCheck<'a> {
    pub namespace: &'a str,
    pub name: &'a str,
    pub trust_distribution: bool,
    pub now: OffsetDateTime,
}

impl SecretCheck<'_> {
    pub(crate) fn examine(
        &self,
        secret_type: Option<&str>,
        data: &BTreeMap<String, k8s_openapi::ByteString>,
    ) -> (Vec<CertificateFacts>, Vec<PreflightProblem>) {
        let mut problems = Vec::new();
        let found_type = secret_type.unwrap_or("Opaque");
        if found_type != TLS_SECRET_TYPE {
            problems.push(PreflightProblem::TlsSecretType {
                namespace: self.namespace.to_owned(),
                name: self.name.to_owned(),
                found: found_type.to_owned(),
            });
        }
        let mut required = vec![
            (
                TLS_CERT_KEY,
                "the registry serves this certificate (and its chain)",
            ),
            (
                TLS_KEY_KEY,
                "the registry needs the certificate's private key",
            ),
        ];
        if self.trust_distribution {
            required.push((
                CA_CERT_KEY,
                "trust distribution copies this CA to the nodes; add it, or set trustDistribution.enabled=false",
            ));
        }
        for (key, why) in required {
            if !data.contains_key(key) {
                problems.push(PreflightProblem::TlsSecretKeyMissing {
                    namespace: self.namespace.to_owned(),
                    name: self.name.to_owned(),
                    key,
                    why,
                });
            }
        }
        let mut facts = Vec::new();
        let key = data
            .get(TLS_KEY_KEY)
            .map(|bytes| tls::load_private_key(&bytes.0));
        if let Some(Err(error)) = &key {
            problems.push(self.unreadable(TLS_KEY_KEY, error.to_string()));
        }
        if let Some(bytes) = data.get(TLS_CERT_KEY) {
            match self.describe(&bytes.0) {
                Ok(chain) => {
                    for (index, (der, info)) in chain.iter().enumerate() {
                        let (role, key_matches) = if index == 0 {
                            let matches = match &key {
                                Some(Ok(key)) => key.matches_certificate_der(der).ok(),
                                _ => None,
                            };
                            (CertificateRole::Serving, matches)
                        } else {
                            (CertificateRole::Intermediate, None)
                        };
                        match facts_of(info, role, key_matches) {
                            Ok(fact) => facts.push(fact),
                            Err(error) => {
                                problems.push(self.unreadable(TLS_CERT_KEY, error.to_string()))
                            }
                        }
                    }
                }
                Err(reason) => problems.push(self.unreadable(TLS_CERT_KEY, reason)),
            }
        }
        if let Some(bytes) = data.get(CA_CERT_KEY) {
            match self.describe(&bytes.0) {
                Ok(chain) => {
                    for (_, info) in chain {
                        match facts_of(&info, CertificateRole::Ca, None) {
                            Ok(fact) => facts.push(fact),
                            Err(error) => {
                                problems.push(self.unreadable(CA_CERT_KEY, error.to_string()))
                            }
                        }
                    }
                }
                Err(reason) => problems.push(self.unreadable(CA_CERT_KEY, reason)),
            }
        }
        (facts, problems)
    }

    fn describe(&self, pem: &[u8]) -> Result<Vec<(Vec<u8>, tls::CertificateInfo)>, String> {
        let loaded = tls::load_certificates(pem).map_err(|error| error.to_string())?;
        loaded
            .certificates
            .into_iter()
            .map(|certificate| {
                tls::describe(&certificate.der, self.now)
                    .map(|info| (certificate.der, info))
                    .map_err(|error| error.to_string())
            })
            .collect()
    }

    fn unreadable(&self, key: &'static str, reason: String) -> PreflightProblem {
        PreflightProblem::TlsSecretUnreadable {
            namespace: self.namespace.to_owned(),
            name: self.name.to_owned(),
            key,
            reason,
        }
    }
}
