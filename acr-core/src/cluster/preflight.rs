//! The reads before a deploy: the namespace and its Pod Security level, Secrets the plan would
//! overwrite, the `tls.secret` and its certificates, cert-manager's CRDs when the cluster's own
//! cert-manager is used, any other Service on `service.clusterIP`, and whether the address is
//! in the cluster's service range (the API server's own answer to a dry-run Service: the range
//! is not readable otherwise). Every problem found is reported at once, before anything is
//! written; what was read becomes facts for the policies.

use super::cert_manager::REQUIRED_CERT_MANAGER_CRDS;
use super::error::{ClusterError, PreflightProblem};
use super::made_by_us;
use super::requests::Requests;
use super::resources::known;
use crate::plan::{POD_SECURITY_ENFORCE_LABEL, Plan, PlannedObject, REGISTRY_NAME};
use crate::policy::{Review, facts_of};
use crate::settings::{ConnectedRegistrySettings, TlsSource};
use crate::tls;
use k8s_openapi::api::core::v1::{Namespace, Secret, Service};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
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

impl Preflight {
    /// The facts as `facts.cluster` of a policy review.
    pub fn cluster_facts(&self) -> Value {
        let mut facts = json!({
            "namespace": {
                "name": self.namespace,
                "exists": self.namespace_exists,
                "podSecurityEnforce": self.pod_security_enforce,
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
        cert_manager_crds_present,
        tls_secret_keys,
        service_ip,
        service_ip_in_range,
        storage,
        certificates,
    })
}

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
