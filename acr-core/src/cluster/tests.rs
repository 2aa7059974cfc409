//! Unit tests of the cluster code that needs no cluster: resource paths, rollout judgement,
//! cert-manager manifests, preflight facts and `tls.secret` checks, status text. The requests
//! themselves are tested against the fake API server in `tests/tests/cluster_flows.rs`.

use super::cert_manager::sha256_hex;
use super::error::duration_text;
use super::preflight::SecretCheck;
use super::resources::{Scope, known, resource_type};
use super::wait::{daemon_set_rollout, deployment_available, deployment_rollout};
use super::*;
use crate::policy::{Operation, connected_registry_review};
use crate::settings::{ConnectedRegistrySettings, SettingsInput};
use k8s_openapi::ByteString;
use k8s_openapi::api::apps::v1::{DaemonSet, Deployment};
use serde_json::json;
use std::collections::BTreeMap;
use std::time::Duration;
use time::macros::datetime;
use wasm_guest::CertificateRole;

macro_rules! fixture {
    ($path:literal) => {
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../tests/fixtures/",
            $path
        ))
    };
}

const CERT_MANAGER_FIXTURE: &str = fixture!("cluster/cert-manager-mini.yaml");

#[test]
fn resource_paths_follow_the_api_layout() {
    let secrets = known("v1", "Secret");
    assert_eq!(
        secrets.path(Some("ns"), Some("tls")),
        "/api/v1/namespaces/ns/secrets/tls"
    );
    assert_eq!(secrets.path(None, None), "/api/v1/secrets");
    let deployments = known("apps/v1", "Deployment");
    assert_eq!(
        deployments.path(Some("ns"), None),
        "/apis/apps/v1/namespaces/ns/deployments"
    );
    let namespace = known("v1", "Namespace");
    assert_eq!(namespace.scope, Scope::Cluster);
    assert_eq!(
        namespace.path(Some("ignored"), Some("connected-registry")),
        "/api/v1/namespaces/connected-registry"
    );
    let crd = known("apiextensions.k8s.io/v1", "CustomResourceDefinition");
    assert_eq!(
        crd.path(None, Some("issuers.cert-manager.io")),
        "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/issuers.cert-manager.io"
    );
}

#[test]
fn unknown_kinds_get_the_plural_heuristic_and_the_manifest_scope() {
    let cluster_issuer = resource_type("cert-manager.io/v1", "ClusterIssuer", false);
    assert_eq!(cluster_issuer.api_resource.plural, "clusterissuers");
    assert_eq!(cluster_issuer.scope, Scope::Cluster);
    let policy = resource_type("policy/v1", "PodDisruptionBudget", true);
    assert_eq!(policy.api_resource.plural, "poddisruptionbudgets");
    assert_eq!(policy.scope, Scope::Namespaced);
    assert_eq!(
        policy.path(Some("cert-manager"), Some("webhook")),
        "/apis/policy/v1/namespaces/cert-manager/poddisruptionbudgets/webhook"
    );
}

fn deployment(status: serde_json::Value) -> Deployment {
    serde_json::from_value(json!({
        "metadata": { "name": "connected-registry", "generation": 2 },
        "spec": {
            "replicas": 1,
            "selector": {},
            "template": {},
        },
        "status": status,
    }))
    .expect("test Deployment")
}

#[test]
fn deployment_rollout_is_judged_as_kubectl_rollout_status_does() {
    let cases = [
        (
            json!({ "observedGeneration": 1, "replicas": 1, "updatedReplicas": 1, "availableReplicas": 1 }),
            false,
            "the rollout has not been observed yet",
        ),
        (
            json!({ "observedGeneration": 2, "replicas": 1, "updatedReplicas": 0 }),
            false,
            "0 of 1 replicas updated",
        ),
        (
            json!({ "observedGeneration": 2, "replicas": 2, "updatedReplicas": 1, "availableReplicas": 1 }),
            false,
            "1 old replicas are pending termination",
        ),
        (
            json!({ "observedGeneration": 2, "replicas": 1, "updatedReplicas": 1, "availableReplicas": 0 }),
            false,
            "0 of 1 replicas available",
        ),
        (
            json!({ "observedGeneration": 2, "replicas": 1, "updatedReplicas": 1, "availableReplicas": 1 }),
            true,
            "1 of 1 replicas available",
        ),
    ];
    for (status, done, detail) in cases {
        let state = deployment_rollout(&deployment(status.clone()));
        assert_eq!(
            (state.done, state.detail.as_str()),
            (done, detail),
            "{status}"
        );
    }
}

#[test]
fn webhook_readiness_is_the_available_condition() {
    let available =
        deployment(json!({ "conditions": [{ "type": "Available", "status": "True" }] }));
    assert!(deployment_available(&available).done);
    let starting = deployment(json!({ "conditions": [{
        "type": "Available", "status": "False", "message": "Deployment does not have minimum availability."
    }] }));
    let state = deployment_available(&starting);
    assert!(!state.done);
    assert_eq!(
        state.detail,
        "not available yet: Deployment does not have minimum availability."
    );
    assert!(!deployment_available(&deployment(json!({}))).done);
}

#[test]
fn daemon_set_rollout_counts_selected_nodes() {
    let daemon_set = |status: serde_json::Value| -> DaemonSet {
        serde_json::from_value(json!({
            "metadata": { "generation": 1 },
            "spec": { "selector": {}, "template": {} },
            "status": status,
        }))
        .expect("test DaemonSet")
    };
    let partial = daemon_set_rollout(&daemon_set(json!({
        "observedGeneration": 1, "desiredNumberScheduled": 3, "currentNumberScheduled": 3,
        "numberMisscheduled": 0, "numberReady": 2, "updatedNumberScheduled": 3, "numberAvailable": 2,
    })));
    assert_eq!(
        (partial.done, partial.detail.as_str()),
        (false, "2 of 3 pods available")
    );
    let none_selected = daemon_set_rollout(&daemon_set(json!({
        "observedGeneration": 1, "desiredNumberScheduled": 0, "currentNumberScheduled": 0,
        "numberMisscheduled": 0, "numberReady": 0,
    })));
    assert_eq!(
        (none_selected.done, none_selected.detail.as_str()),
        (true, "0 of 0 nodes ready")
    );
}

#[test]
fn cert_manager_manifests_are_read_in_apply_order() {
    let manifests = CertManagerManifests::parse("mini.yaml", CERT_MANAGER_FIXTURE.as_bytes())
        .expect("fixture parses");
    let order: Vec<(&str, &str)> = manifests
        .objects
        .iter()
        .map(|object| (object.kind.as_str(), object.name.as_str()))
        .collect();
    assert_eq!(
        order[..3],
        [
            ("Namespace", "cert-manager"),
            ("CustomResourceDefinition", "certificates.cert-manager.io"),
            ("CustomResourceDefinition", "issuers.cert-manager.io"),
        ]
    );
    assert_eq!(manifests.objects.len(), 9);
    let webhook = manifests.webhook().expect("webhook Deployment");
    assert_eq!(webhook.namespace.as_deref(), Some("cert-manager"));
    assert!(!manifests.is_pinned_release());
    assert_eq!(
        manifests.sha256,
        sha256_hex(CERT_MANAGER_FIXTURE.as_bytes())
    );
}

#[test]
fn sha256_is_lowercase_hex_of_the_bytes() {
    assert_eq!(
        sha256_hex(b"abc"),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
    assert_eq!(CERT_MANAGER_RELEASE_SHA256.len(), 64);
    assert!(CERT_MANAGER_RELEASE_URL.contains(CERT_MANAGER_VERSION));
}

#[test]
fn manifests_that_are_not_cert_manager_are_refused() {
    let error = CertManagerManifests::parse(
        "other.yaml",
        b"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: other\n---\n",
    )
    .expect_err("not cert-manager");
    assert_eq!(
        error.to_string(),
        "other.yaml does not look like cert-manager's release manifests: it has no \
         CustomResourceDefinition certificates.cert-manager.io, CustomResourceDefinition \
         issuers.cert-manager.io, Deployment cert-manager-webhook"
    );
    let unnamed = CertManagerManifests::parse(
        "broken.yaml",
        b"---\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {}\n",
    )
    .expect_err("no name");
    assert_eq!(
        unnamed.to_string(),
        "broken.yaml, document 2: the ConfigMap has no metadata.name"
    );
    let list = CertManagerManifests::parse("list.yaml", b"apiVersion: v1\nkind: List\nitems: []\n")
        .expect_err("lists are refused");
    assert!(list.to_string().contains("a List is not applied"), "{list}");
    let yaml = CertManagerManifests::parse("bad.yaml", b"kind: [unclosed\n").expect_err("YAML");
    assert!(
        yaml.to_string()
            .starts_with("bad.yaml, document 1: not valid YAML"),
        "{yaml}"
    );
}

#[test]
fn durations_are_written_as_flags_take_them() {
    assert_eq!(duration_text(Duration::from_secs(1)), "1s");
    assert_eq!(duration_text(Duration::from_secs(300)), "5m");
    assert_eq!(duration_text(Duration::from_secs(5430)), "1h30m30s");
    assert_eq!(duration_text(Duration::ZERO), "0s");
}

const CONNECTION: &str = "ConnectedRegistryName=edge;SyncTokenName=edge-sync-token;SyncTokenPassword=c2VjcmV0;ParentGatewayEndpoint=contoso.eastus.data.azurecr.io;ParentEndpointProtocol=https";

fn existing_secret_settings() -> ConnectedRegistrySettings {
    let config = [
        "service.clusterIP=10.0.0.1",
        "cert-manager.enabled=false",
        "cert-manager.install=false",
    ];
    ConnectedRegistrySettings::resolve(&SettingsInput {
        config: config
            .iter()
            .map(|setting| {
                let (key, value) = setting.split_once('=').expect("key=value");
                (key.to_owned(), value.to_owned())
            })
            .collect(),
        protected_file: None,
        protected: vec![
            ("connectionString".to_owned(), CONNECTION.to_owned()),
            ("tls.secret".to_owned(), "registry-tls".to_owned()),
        ],
    })
    .expect("valid settings")
}

fn secret_check() -> SecretCheck<'static> {
    SecretCheck {
        namespace: "connected-registry",
        name: "registry-tls",
        trust_distribution: true,
        now: datetime!(2026-03-01 12:00:00 UTC),
    }
}

fn tls_data(keys: &[(&str, String)]) -> BTreeMap<String, ByteString> {
    keys.iter()
        .map(|(key, value)| ((*key).to_owned(), ByteString(value.clone().into_bytes())))
        .collect()
}

fn chain() -> String {
    format!(
        "{}{}",
        fixture!("tls/server.crt"),
        fixture!("tls/intermediate-ca.crt")
    )
}

#[test]
fn a_good_tls_secret_gives_serving_intermediate_and_ca_facts() {
    let data = tls_data(&[
        ("tls.crt", chain()),
        ("tls.key", fixture!("tls/server.key").to_owned()),
        ("ca.crt", fixture!("tls/root-ca.crt").to_owned()),
    ]);
    let (facts, problems) = secret_check().examine(Some("kubernetes.io/tls"), &data);
    assert_eq!(problems, []);
    let roles: Vec<CertificateRole> = facts.iter().map(|fact| fact.role).collect();
    assert_eq!(
        roles,
        [
            CertificateRole::Serving,
            CertificateRole::Intermediate,
            CertificateRole::Ca
        ]
    );
    assert_eq!(facts[0].key_matches, Some(true));
    assert_eq!(facts[0].subject_alt_names.ip, ["10.0.0.1"]);
}

#[test]
fn a_tls_secret_of_the_wrong_shape_is_refused_with_every_reason() {
    let data = tls_data(&[
        ("tls.crt", "not a certificate".to_owned()),
        ("tls.key", fixture!("tls/server.key").to_owned()),
    ]);
    let (facts, problems) = secret_check().examine(Some("Opaque"), &data);
    assert!(facts.is_empty());
    let texts: Vec<String> = problems.iter().map(ToString::to_string).collect();
    assert_eq!(texts.len(), 3, "{texts:#?}");
    assert_eq!(
        texts[0],
        "tls.secret connected-registry/registry-tls has type `Opaque`, not kubernetes.io/tls"
    );
    assert!(
        texts[1].starts_with("tls.secret connected-registry/registry-tls has no `ca.crt`"),
        "{}",
        texts[1]
    );
    assert!(
        texts[2]
            .starts_with("`tls.crt` of tls.secret connected-registry/registry-tls cannot be read"),
        "{}",
        texts[2]
    );
}

#[test]
fn preflight_facts_reach_the_review() {
    let settings = existing_secret_settings();
    let data = tls_data(&[
        ("tls.crt", chain()),
        ("tls.key", fixture!("tls/server.key").to_owned()),
        ("ca.crt", fixture!("tls/root-ca.crt").to_owned()),
    ]);
    let (certificates, _) = secret_check().examine(Some("kubernetes.io/tls"), &data);
    let preflight = Preflight {
        namespace: "connected-registry".to_owned(),
        namespace_exists: true,
        pod_security_enforce: Some("restricted".to_owned()),
        pod_security_required: Some("privileged".to_owned()),
        other_cert_managers: Some(Vec::new()),
        nodes: Some(vec![super::NodeFacts {
            name: "edge-1".to_owned(),
            operating_system: "linux".to_owned(),
            os_image: "Ubuntu 24.04 LTS".to_owned(),
            container_runtime: "containerd://1.7.27".to_owned(),
            trust_distribution: true,
        }]),
        warnings: Vec::new(),
        cert_manager_crds_present: None,
        tls_secret_keys: Some(vec!["ca.crt".to_owned(), "tls.crt".to_owned()]),
        service_ip: "10.0.0.1".to_owned(),
        service_ip_in_range: Some(true),
        storage: Some(super::StorageFacts {
            requested_class: None,
            default_class: Some("standard".to_owned()),
            classes: vec!["standard".to_owned()],
        }),
        certificates,
    };
    let mut review = connected_registry_review(
        &settings,
        "connected-registry",
        Operation::Deploy,
        datetime!(2026-03-01 12:00:00 UTC),
    )
    .expect("review");
    assert!(review.facts.certificates.is_empty());
    preflight.add_facts_to(&mut review);
    assert_eq!(review.facts.certificates.len(), 3);
    assert_eq!(
        review.facts.cluster.map(|cluster| cluster.to_value()),
        Some(json!({
            "namespace": { "name": "connected-registry", "exists": true, "podSecurityEnforce": "restricted", "podSecurityRequired": "privileged" },
            "serviceIp": { "address": "10.0.0.1", "free": true, "inServiceRange": true },
            "certManager": { "otherInstalls": [] },
            "nodes": [{ "name": "edge-1", "operatingSystem": "linux", "osImage": "Ubuntu 24.04 LTS",
                        "containerRuntime": "containerd://1.7.27", "containerd": true, "trustDistribution": true }],
            "storage": { "requestedClass": null, "defaultClass": "standard", "classes": ["standard"] },
            "tlsSecret": { "type": "kubernetes.io/tls", "keys": ["ca.crt", "tls.crt"] },
        }))
    );
}

#[test]
fn trust_warnings_name_unreached_nodes_and_other_runtimes() {
    let node = |name: &str, runtime: &str, selected: bool| super::NodeFacts {
        name: name.to_owned(),
        operating_system: "linux".to_owned(),
        os_image: "fake".to_owned(),
        container_runtime: runtime.to_owned(),
        trust_distribution: selected,
    };
    let fine = [node("a", "containerd://1.7.0", true)];
    assert!(super::preflight::trust_warnings(&fine, false).is_empty());
    let unlabelled = [node("a", "containerd://1.7.0", false)];
    let warnings = super::preflight::trust_warnings(&unlabelled, true);
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].contains("kubectl label node NODE containerd-configured-by=connected-registry"),
        "{warnings:?}"
    );
    let mixed = [
        node("a", "containerd://1.7.0", true),
        node("b", "cri-o://1.30.0", true),
    ];
    let warnings = super::preflight::trust_warnings(&mixed, false);
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].starts_with("not all of the nodes"),
        "{warnings:?}"
    );
    assert!(warnings[0].contains("b (cri-o://1.30.0)"), "{warnings:?}");
    let none = [node("b", "docker://24.0.0", true)];
    let warnings = super::preflight::trust_warnings(&none, false);
    assert!(warnings[0].starts_with("none of the nodes"), "{warnings:?}");
}

#[test]
fn a_known_crash_log_line_is_explained() {
    let cause = super::diagnosis::known_log_cause(
        "error: activation failed: ALREADY_ACTIVATED (the connected registry is already active)",
    )
    .expect("known");
    assert!(
        cause.contains("az acr connected-registry deactivate"),
        "{cause}"
    );
    let cause =
        super::diagnosis::known_log_cause("DISK_PERMISSION_DENIED: /var/acr/data").expect("known");
    assert!(cause.contains("container.runAsUser"), "{cause}");
    assert_eq!(
        super::diagnosis::known_log_cause("listening on :8443"),
        None
    );
}

#[test]
fn preflight_refusal_lists_every_problem() {
    let error = ClusterError::Preflight {
        problems: vec![
            PreflightProblem::ForeignSecret {
                namespace: "connected-registry".to_owned(),
                name: "connected-registry-connection".to_owned(),
            },
            PreflightProblem::ServiceIpTaken {
                ip: "10.0.0.1".to_owned(),
                service: "default/other".to_owned(),
            },
        ],
    };
    let text = error.to_string();
    assert!(
        text.starts_with("the cluster is not ready for this deployment, nothing was changed:\n  - Secret connected-registry/connected-registry-connection exists and was not made by kubectl acr"),
        "{text}"
    );
    assert!(
        text.ends_with("\n  - service.clusterIP 10.0.0.1 is already held by Service default/other: choose a free address in the cluster's service range"),
        "{text}"
    );
}

#[test]
fn status_text_shows_each_part() {
    let status = ClusterStatus {
        namespace: "connected-registry".to_owned(),
        namespace_found: true,
        instance: Some("edge".to_owned()),
        objects: vec![ObjectStatus {
            kind: "Service".to_owned(),
            name: "connected-registry".to_owned(),
            created: Some("2026-01-01T00:00:00Z".to_owned()),
        }],
        rollout: Some(RolloutStatus {
            deployment: "Deployment connected-registry/connected-registry".to_owned(),
            complete: false,
            state: "0 of 1 replicas available".to_owned(),
            image: None,
        }),
        certificate: Some(CertificateStatus {
            secret: "Secret connected-registry/connected-registry-tls".to_owned(),
            problem: None,
            subject: Some("CN=10.0.0.1".to_owned()),
            issuer: Some("CN=CA".to_owned()),
            not_after: Some("2027-01-01T00:00:00Z".to_owned()),
            days_left: Some(300),
            expired: Some(false),
            subject_alt_names: Some(crate::tls::SubjectAltNames {
                ip: vec!["10.0.0.1".parse().expect("IP")],
                ..Default::default()
            }),
        }),
        trust_distribution: Some(TrustStatus {
            daemon_set: "DaemonSet connected-registry/connected-registry-containerd-config"
                .to_owned(),
            node_selector: "containerd-configured-by=connected-registry".to_owned(),
            complete: true,
            state: "1 of 1 nodes ready".to_owned(),
            nodes: vec![
                NodeTrust {
                    node: "node-a".to_owned(),
                    pod: Some("trust-abc".to_owned()),
                    ready: true,
                    container_runtime: Some("containerd://1.7.0".to_owned()),
                },
                NodeTrust {
                    node: "node-b".to_owned(),
                    pod: Some("trust-def".to_owned()),
                    ready: true,
                    container_runtime: Some("cri-o://1.30.0".to_owned()),
                },
            ],
        }),
        problems: vec![
            "PersistentVolumeClaim connected-registry/connected-registry-pvc is Pending: the cluster has no default StorageClass".to_owned(),
        ],
    };
    let text = status.to_text();
    for expected in [
        "\nWhat keeps it from being ready:\n  - PersistentVolumeClaim connected-registry/connected-registry-pvc is Pending: the cluster has no default StorageClass\n",
        "Connected registry: edge\n",
        "  Service                connected-registry",
        "Rollout: Deployment connected-registry/connected-registry in progress: 0 of 1 replicas available\n",
        "  SANs:     IP:10.0.0.1\n",
        "  expires:  2027-01-01T00:00:00Z (300 days left)\n",
        "  node-a                         ready      trust-abc\n",
        "  node-b                         ready      trust-def (cri-o://1.30.0: does not read containerd's configuration, so this node does not trust the CA)\n",
    ] {
        assert!(
            text.contains(expected),
            "{expected:?} missing from:\n{text}"
        );
    }
}

#[test]
fn only_objects_with_both_deployed_labels_count_as_deployed() {
    use super::carries_deployed_labels;
    let object = |labels: serde_json::Value| serde_json::json!({"metadata": {"labels": labels}});
    assert!(carries_deployed_labels(&object(serde_json::json!({
        "app.kubernetes.io/managed-by": "kubectl-acr",
        "app.kubernetes.io/part-of": "connected-registry",
    }))));
    for labels in [
        serde_json::json!({"app.kubernetes.io/managed-by": "kubectl-acr"}),
        serde_json::json!({"app.kubernetes.io/part-of": "connected-registry"}),
        serde_json::json!({"app.kubernetes.io/managed-by": "helm", "app.kubernetes.io/part-of": "connected-registry"}),
        serde_json::json!({}),
        serde_json::Value::Null,
    ] {
        assert!(
            !carries_deployed_labels(&object(labels.clone())),
            "{labels}"
        );
    }
}
