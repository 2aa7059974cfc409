//! Unit tests of plan rendering: the objects of each TLS source in apply order, the service IP
//! where it belongs, the trust DaemonSet's node selector, labels on everything, and redaction.

use super::*;
use crate::settings::{SettingsInput, split_key_value};
use base64::Engine as _;
use serde_json::Value;

const PASSWORD: &str = "Zm9vYmFyYmF6cXV4SECRET";
const KEY_BODY: &str = "MHcCAQEEIKEYMATERIALTHATMUSTNEVERLEAKAAA";

fn connection() -> String {
    format!(
        "ConnectedRegistryName=contosoedge;SyncTokenName=contosoedge-sync-token;SyncTokenPassword={PASSWORD};ParentGatewayEndpoint=contoso.eastus.data.azurecr.io;ParentEndpointProtocol=https"
    )
}

fn pem(label: &str, body: &str) -> String {
    format!("-----BEGIN {label}-----\n{body}\n-----END {label}-----\n")
}

fn b64(text: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(text)
}

fn cert_pem() -> String {
    pem("CERTIFICATE", "MAMCAQA=")
}

fn ca_pem() -> String {
    pem("CERTIFICATE", "MAMCAQE=")
}

fn key_pem() -> String {
    pem("EC PRIVATE KEY", KEY_BODY)
}

fn settings(config: &[&str], protected: &[(&str, String)]) -> ConnectedRegistrySettings {
    let input = SettingsInput {
        config: config
            .iter()
            .map(|arg| split_key_value("--config", arg).expect("key=value"))
            .collect(),
        protected_file: None,
        protected: protected
            .iter()
            .map(|(key, value)| ((*key).to_owned(), value.clone()))
            .collect(),
    };
    ConnectedRegistrySettings::resolve(&input).expect("valid settings")
}

const IP: &str = "service.clusterIP=10.0.0.1";
const NO_CERT_MANAGER: [&str; 2] = ["cert-manager.enabled=false", "cert-manager.install=false"];

fn cert_manager_install() -> ConnectedRegistrySettings {
    settings(&[IP], &[("connectionString", connection())])
}

fn byoc(extra_config: &[&str], with_ca: bool) -> ConnectedRegistrySettings {
    let mut config = vec![IP];
    config.extend(NO_CERT_MANAGER);
    config.extend(extra_config);
    let mut protected = vec![
        ("connectionString", connection()),
        ("tls.crt", b64(&cert_pem())),
        ("tls.key", b64(&key_pem())),
    ];
    if with_ca {
        protected.push(("tls.cacrt", b64(&ca_pem())));
    }
    settings(&config, &protected)
}

fn existing_secret(extra_config: &[&str]) -> ConnectedRegistrySettings {
    let mut config = vec![IP];
    config.extend(NO_CERT_MANAGER);
    config.extend(extra_config);
    settings(
        &config,
        &[
            ("connectionString", connection()),
            ("tls.secret", "my-registry-tls".to_owned()),
        ],
    )
}

fn plan_of(settings: &ConnectedRegistrySettings) -> Plan {
    render(settings, &PlanOptions::default()).expect("renders")
}

fn kinds_and_names(plan: &Plan) -> Vec<(String, String)> {
    plan.objects
        .iter()
        .map(|object| (object.kind.clone(), object.name.clone()))
        .collect()
}

fn expected(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(kind, name)| ((*kind).to_owned(), (*name).to_owned()))
        .collect()
}

fn manifest<'a>(plan: &'a Plan, kind: &str, name: &str) -> &'a Value {
    &plan
        .objects
        .iter()
        .find(|object| object.kind == kind && object.name == name)
        .unwrap_or_else(|| panic!("no {kind} {name} in the plan"))
        .manifest
}

fn at<'a>(value: &'a Value, pointer: &str) -> &'a Value {
    value
        .pointer(pointer)
        .unwrap_or_else(|| panic!("no {pointer} in {value}"))
}

const HEAD: [(&str, &str); 3] = [
    ("Namespace", "connected-registry"),
    ("ServiceAccount", "connected-registry"),
    ("Secret", "connected-registry-connection"),
];
const TAIL: [(&str, &str); 4] = [
    ("PersistentVolumeClaim", "connected-registry-pvc"),
    ("Service", "connected-registry"),
    ("Deployment", "connected-registry"),
    ("DaemonSet", "connected-registry-containerd-config"),
];

#[test]
fn cert_manager_sources_render_the_issuer_chain_in_apply_order() {
    let existing = settings(
        &[IP, "cert-manager.install=false"],
        &[("connectionString", connection())],
    );
    for settings in [cert_manager_install(), existing] {
        let plan = plan_of(&settings);
        let mut want = HEAD.to_vec();
        want.extend([
            ("Issuer", "connected-registry-selfsigned"),
            ("Certificate", "connected-registry-ca"),
            ("Issuer", "connected-registry-ca-issuer"),
            ("Certificate", "connected-registry-tls"),
        ]);
        want.extend(TAIL);
        assert_eq!(kinds_and_names(&plan), expected(&want));
    }
}

#[test]
fn byoc_renders_a_tls_secret_and_existing_secret_renders_none() {
    let mut want = HEAD.to_vec();
    want.push(("Secret", "connected-registry-tls"));
    want.extend(TAIL);
    assert_eq!(kinds_and_names(&plan_of(&byoc(&[], true))), expected(&want));

    let mut want = HEAD.to_vec();
    want.extend(TAIL);
    assert_eq!(
        kinds_and_names(&plan_of(&existing_secret(&[]))),
        expected(&want)
    );
}

#[test]
fn the_issuer_chain_signs_the_service_ip_with_a_self_signed_ca() {
    let plan = plan_of(&cert_manager_install());
    let ca = manifest(&plan, "Certificate", "connected-registry-ca");
    assert_eq!(at(ca, "/apiVersion"), "cert-manager.io/v1");
    assert_eq!(at(ca, "/spec/isCA"), true);
    assert_eq!(at(ca, "/spec/secretName"), "connected-registry-ca");
    assert_eq!(
        at(ca, "/spec/issuerRef/name"),
        "connected-registry-selfsigned"
    );
    let ca_issuer = manifest(&plan, "Issuer", "connected-registry-ca-issuer");
    assert_eq!(
        at(ca_issuer, "/spec/ca/secretName"),
        "connected-registry-ca"
    );
    let serving = manifest(&plan, "Certificate", "connected-registry-tls");
    assert_eq!(
        at(serving, "/spec/ipAddresses"),
        &serde_json::json!(["10.0.0.1"])
    );
    assert_eq!(at(serving, "/spec/secretName"), "connected-registry-tls");
    assert_eq!(
        at(serving, "/spec/issuerRef/name"),
        "connected-registry-ca-issuer"
    );
    assert_eq!(at(serving, "/spec/issuerRef/kind"), "Issuer");
    assert!(serving.pointer("/spec/isCA").is_none());
    assert_eq!(
        at(
            serving,
            "/spec/secretTemplate/labels/app.kubernetes.io~1managed-by"
        ),
        "kubectl-acr"
    );
}

#[test]
fn the_service_takes_the_service_ip_on_port_443() {
    let plan = plan_of(&cert_manager_install());
    let service = manifest(&plan, "Service", "connected-registry");
    assert_eq!(at(service, "/spec/type"), "ClusterIP");
    assert_eq!(at(service, "/spec/clusterIP"), "10.0.0.1");
    assert_eq!(at(service, "/spec/ports/0/port"), 443);
    assert_eq!(at(service, "/spec/ports/0/targetPort"), "https");
    let deployment = manifest(&plan, "Deployment", "connected-registry");
    let container = at(deployment, "/spec/template/spec/containers/0");
    assert_eq!(at(container, "/ports/0/name"), "https");
    assert_eq!(at(container, "/ports/0/containerPort"), 8443);
    assert_eq!(
        at(service, "/spec/selector"),
        at(deployment, "/spec/selector/matchLabels")
    );
}

#[test]
fn an_ipv6_service_ip_is_bracketed_in_node_paths_only() {
    let settings = settings(
        &["service.clusterIP=fd00::10"],
        &[("connectionString", connection())],
    );
    let plan = plan_of(&settings);
    assert_eq!(
        at(
            manifest(&plan, "Service", "connected-registry"),
            "/spec/clusterIP"
        ),
        "fd00::10"
    );
    assert_eq!(
        at(
            manifest(&plan, "Certificate", "connected-registry-tls"),
            "/spec/ipAddresses/0"
        ),
        "fd00::10"
    );
    let script = at(
        manifest(&plan, "DaemonSet", TRUST_DAEMONSET_NAME),
        "/spec/template/spec/containers/0/args/0",
    )
    .as_str()
    .expect("script");
    assert!(script.contains(r#""/etc/containerd/certs.d/[fd00::10]:443""#));
    assert!(script.contains(r#"server = "https://[fd00::10]:443""#));
}

#[test]
fn the_deployment_runs_the_pinned_image_locked_down_with_data_and_tls_mounted() {
    let plan = plan_of(&cert_manager_install());
    let deployment = manifest(&plan, "Deployment", "connected-registry");
    let pod = at(deployment, "/spec/template/spec");
    let container = at(pod, "/containers/0");
    assert_eq!(
        at(container, "/image"),
        "mcr.microsoft.com/acr/connected-registry:0.9.0"
    );
    assert_eq!(at(deployment, "/spec/strategy/type"), "Recreate");
    assert_eq!(at(pod, "/securityContext/runAsNonRoot"), true);
    assert_eq!(
        at(pod, "/securityContext/seccompProfile/type"),
        "RuntimeDefault"
    );
    assert_eq!(
        at(container, "/securityContext/allowPrivilegeEscalation"),
        false
    );
    assert_eq!(
        at(container, "/securityContext/capabilities/drop"),
        &serde_json::json!(["ALL"])
    );
    assert_eq!(
        at(container, "/env/0/name"),
        "ACR_REGISTRY_CONNECTION_STRING"
    );
    assert_eq!(
        at(container, "/env/0/valueFrom/secretKeyRef/name"),
        "connected-registry-connection"
    );
    assert_eq!(
        at(container, "/env/0/valueFrom/secretKeyRef/key"),
        "ACR_REGISTRY_CONNECTION_STRING"
    );
    assert_eq!(at(container, "/volumeMounts/0/mountPath"), "/var/acr/data");
    assert_eq!(at(container, "/volumeMounts/1/mountPath"), "/var/acr/certs");
    assert_eq!(
        at(pod, "/volumes/1/secret/items"),
        &serde_json::json!([
            { "key": "tls.crt", "path": "tls.crt" },
            { "key": "tls.key", "path": "tls.key" },
        ])
    );
    assert_eq!(at(pod, "/securityContext/runAsUser"), 1000);
    assert!(
        container
            .pointer("/env")
            .and_then(Value::as_array)
            .expect("env")
            .iter()
            .all(|var| var["name"] != "ACR_REGISTRY_LOGIN_SERVER"),
        "no login server unless registryLoginServer is set"
    );
    assert_eq!(
        at(pod, "/volumes/0/persistentVolumeClaim/claimName"),
        "connected-registry-pvc"
    );
    assert_eq!(
        at(pod, "/volumes/1/secret/secretName"),
        "connected-registry-tls"
    );
    for probe in ["startupProbe", "readinessProbe", "livenessProbe"] {
        assert_eq!(
            at(container, &format!("/{probe}/tcpSocket/port")),
            "https",
            "{probe}"
        );
    }
    assert!(container.pointer("/resources/requests/memory").is_some());
}

#[test]
fn the_claim_takes_the_storage_class_and_request() {
    let plan = plan_of(&settings(
        &[
            IP,
            "pvc.storageClassName=managed-csi",
            "pvc.storageRequest=250Gi",
        ],
        &[("connectionString", connection())],
    ));
    let claim = manifest(&plan, "PersistentVolumeClaim", PVC_NAME);
    assert_eq!(at(claim, "/spec/storageClassName"), "managed-csi");
    assert_eq!(at(claim, "/spec/resources/requests/storage"), "250Gi");
    assert_eq!(
        at(claim, "/spec/accessModes"),
        &serde_json::json!(["ReadWriteOnce"])
    );

    let default_plan = plan_of(&cert_manager_install());
    let claim = manifest(&default_plan, "PersistentVolumeClaim", PVC_NAME);
    assert!(claim.pointer("/spec/storageClassName").is_none());
    assert_eq!(at(claim, "/spec/resources/requests/storage"), "500Gi");
}

#[test]
fn the_trust_daemon_set_runs_on_every_linux_node_unless_use_node_selector() {
    let every_node = serde_json::json!({ "kubernetes.io/os": "linux" });
    let labelled = serde_json::json!({
        "containerd-configured-by": "connected-registry",
        "kubernetes.io/os": "linux",
    });
    for (config, expected) in [
        (vec![IP], &every_node),
        (
            vec![IP, "trustDistribution.useNodeSelector=true"],
            &labelled,
        ),
        (
            vec![IP, "trustDistribution.skipNodeSelector=false"],
            &labelled,
        ),
        (
            vec![IP, "trustDistribution.skipNodeSelector=true"],
            &every_node,
        ),
    ] {
        let plan = plan_of(&settings(&config, &[("connectionString", connection())]));
        let pod = at(
            manifest(&plan, "DaemonSet", TRUST_DAEMONSET_NAME),
            "/spec/template/spec",
        );
        assert_eq!(at(pod, "/nodeSelector"), expected, "{config:?}");
    }
}

#[test]
fn arc_extension_settings_shape_the_service_certificate_and_trust() {
    let plan = plan_of(&settings(
        &[
            IP,
            "registryLoginServer=Registry.Contoso.local",
            "httpEnabled=true",
            "service.type=LoadBalancer",
        ],
        &[("connectionString", connection())],
    ));
    let service = manifest(&plan, "Service", "connected-registry");
    assert_eq!(at(service, "/spec/type"), "LoadBalancer");
    assert_eq!(at(service, "/spec/clusterIP"), "10.0.0.1");
    assert_eq!(at(service, "/spec/ports/1/name"), "http");
    assert_eq!(at(service, "/spec/ports/1/port"), 80);
    assert_eq!(at(service, "/spec/ports/1/targetPort"), "http");
    let container = at(
        manifest(&plan, "Deployment", "connected-registry"),
        "/spec/template/spec/containers/0",
    );
    assert_eq!(at(container, "/ports/1/containerPort"), 8080);
    let env = container
        .pointer("/env")
        .and_then(Value::as_array)
        .expect("env");
    assert!(
        env.contains(&serde_json::json!({
            "name": "ACR_REGISTRY_LOGIN_SERVER", "value": "registry.contoso.local"
        })),
        "{env:?}"
    );
    let certificate = manifest(&plan, "Certificate", "connected-registry-tls");
    let dns = at(certificate, "/spec/dnsNames");
    assert!(
        dns.as_array()
            .expect("dnsNames")
            .contains(&serde_json::json!("registry.contoso.local")),
        "{dns}"
    );
    let script = at(
        manifest(&plan, "DaemonSet", TRUST_DAEMONSET_NAME),
        "/spec/template/spec/containers/0/args/0",
    )
    .as_str()
    .expect("script");
    assert!(
        script.contains(r#"server = "http://10.0.0.1:80""#),
        "{script}"
    );
    assert!(script.contains(r#""/etc/containerd/certs.d/10.0.0.1:80""#));

    let plain = plan_of(&cert_manager_install());
    let script = at(
        manifest(&plain, "DaemonSet", TRUST_DAEMONSET_NAME),
        "/spec/template/spec/containers/0/args/0",
    )
    .as_str()
    .expect("script");
    assert!(!script.contains("http://"), "{script}");
    assert_eq!(
        at(
            manifest(&plain, "Service", "connected-registry"),
            "/spec/ports"
        )
        .as_array()
        .map(Vec::len),
        Some(1)
    );
}

#[test]
fn the_container_profile_overrides_every_guess() {
    let plan = plan_of(&settings(
        &[
            IP,
            "trustDistribution.enabled=false",
            "container.image=contoso.azurecr.io/acr/connected-registry@sha256:0123",
            "container.httpsPort=443",
            "container.runAsUser=0",
            "container.dataPath=/data",
            "container.certsPath=/certs",
            "container.certFile=server.crt",
            "container.keyFile=server.key",
        ],
        &[("connectionString", connection())],
    ));
    let pod = at(
        manifest(&plan, "Deployment", "connected-registry"),
        "/spec/template/spec",
    );
    let container = at(pod, "/containers/0");
    assert_eq!(
        at(container, "/image"),
        "contoso.azurecr.io/acr/connected-registry@sha256:0123"
    );
    assert_eq!(at(container, "/ports/0/containerPort"), 443);
    assert_eq!(at(pod, "/securityContext/runAsUser"), 0);
    assert_eq!(at(pod, "/securityContext/runAsNonRoot"), false);
    assert_eq!(at(container, "/volumeMounts/0/mountPath"), "/data");
    assert_eq!(at(container, "/volumeMounts/1/mountPath"), "/certs");
    assert_eq!(
        at(pod, "/volumes/1/secret/items"),
        &serde_json::json!([
            { "key": "tls.crt", "path": "server.crt" },
            { "key": "tls.key", "path": "server.key" },
        ])
    );
    let env = container
        .pointer("/env")
        .and_then(Value::as_array)
        .expect("env");
    assert!(
        env.contains(&serde_json::json!({"name": "ACR_REGISTRY_DATA_VOLUME", "value": "/data"}))
    );
    assert!(env.contains(
        &serde_json::json!({"name": "ACR_REGISTRY_CERTIFICATE_VOLUME", "value": "/certs"})
    ));
    // A root registry needs Pod Security baseline, not restricted.
    assert_eq!(
        at(
            manifest(&plan, "Namespace", "connected-registry"),
            "/metadata/labels/pod-security.kubernetes.io~1enforce"
        ),
        "baseline"
    );

    // Non-root on a port below 1024 gets NET_BIND_SERVICE and nothing else.
    let low_port = plan_of(&settings(
        &[IP, "container.httpsPort=443"],
        &[("connectionString", connection())],
    ));
    let container = at(
        manifest(&low_port, "Deployment", "connected-registry"),
        "/spec/template/spec/containers/0",
    );
    assert_eq!(
        at(container, "/securityContext/capabilities"),
        &serde_json::json!({"add": ["NET_BIND_SERVICE"], "drop": ["ALL"]})
    );
}

#[test]
fn a_managed_identity_connection_string_is_refused_with_what_to_do() {
    let settings = settings(
        &[IP],
        &[(
            "connectionString",
            "ConnectedRegistryName=edge;ManagedIdentityClientId=0000-1111;ParentGatewayEndpoint=contoso.eastus.data.azurecr.io;ParentEndpointProtocol=https".to_owned(),
        )],
    );
    let error = render(&settings, &PlanOptions::default()).expect_err("refused");
    assert!(matches!(error, PlanError::ManagedIdentityUnsupported));
    let text = error.to_string();
    for expected in ["workload identity", "sync token", "--generate-password"] {
        assert!(text.contains(expected), "{expected}: {text}");
    }
}

#[test]
fn the_trust_daemon_set_copies_the_ca_of_the_serving_secret_into_both_host_directories() {
    for (settings, secret) in [
        (cert_manager_install(), "connected-registry-tls"),
        (byoc(&[], true), "connected-registry-tls"),
        (existing_secret(&[]), "my-registry-tls"),
    ] {
        let plan = plan_of(&settings);
        let pod = at(
            manifest(&plan, "DaemonSet", TRUST_DAEMONSET_NAME),
            "/spec/template/spec",
        );
        assert_eq!(at(pod, "/volumes/0/secret/secretName"), secret);
        assert_eq!(
            at(pod, "/volumes/0/secret/items"),
            &serde_json::json!([{ "key": "ca.crt", "path": "ca.crt" }])
        );
        assert_eq!(
            at(pod, "/volumes/1/hostPath/path"),
            "/etc/containerd/certs.d"
        );
        assert_eq!(at(pod, "/volumes/1/hostPath/type"), "DirectoryOrCreate");
        let container = at(pod, "/containers/0");
        assert_eq!(at(container, "/image"), DEFAULT_TRUST_IMAGE);
        assert_eq!(
            at(container, "/securityContext/readOnlyRootFilesystem"),
            true
        );
        assert_eq!(
            at(container, "/securityContext/capabilities/drop"),
            &serde_json::json!(["ALL"])
        );
        let script = at(container, "/args/0").as_str().expect("script");
        for directory in trust::host_directories("10.0.0.1", DEFAULT_CONTAINERD_CERTS_DIR) {
            assert!(script.contains(&format!("\"{directory}\"")), "{script}");
        }
        assert!(script.contains(r#"server = "https://10.0.0.1:443""#));
        assert!(script.contains("cp /etc/acr-trust/ca.crt \"$dir/ca.crt.new\""));
    }
}

#[test]
fn the_containerd_directory_follows_the_option() {
    let options = PlanOptions {
        containerd_certs_dir: "/var/lib/rancher/k3s/agent/etc/containerd/certs.d".to_owned(),
        ..PlanOptions::default()
    };
    let plan = render(&cert_manager_install(), &options).expect("renders");
    let pod = at(
        manifest(&plan, "DaemonSet", TRUST_DAEMONSET_NAME),
        "/spec/template/spec",
    );
    assert_eq!(
        at(pod, "/volumes/1/hostPath/path"),
        "/var/lib/rancher/k3s/agent/etc/containerd/certs.d"
    );
    assert_eq!(
        at(pod, "/containers/0/volumeMounts/1/mountPath"),
        "/var/lib/rancher/k3s/agent/etc/containerd/certs.d"
    );
}

#[test]
fn without_trust_distribution_there_is_no_daemon_set_and_the_namespace_is_restricted() {
    let plan = plan_of(&byoc(&["trustDistribution.enabled=false"], false));
    assert!(plan.objects.iter().all(|object| object.kind != "DaemonSet"));
    let namespace = manifest(&plan, "Namespace", "connected-registry");
    assert_eq!(
        at(
            namespace,
            "/metadata/labels/pod-security.kubernetes.io~1enforce"
        ),
        "restricted"
    );
    let tls = manifest(&plan, "Secret", TLS_SECRET_NAME);
    assert!(tls.pointer("/data/ca.crt").is_none());

    let with_trust = plan_of(&cert_manager_install());
    let namespace = manifest(&with_trust, "Namespace", "connected-registry");
    assert_eq!(
        at(
            namespace,
            "/metadata/labels/pod-security.kubernetes.io~1enforce"
        ),
        "privileged"
    );
    assert_eq!(
        at(
            namespace,
            "/metadata/labels/pod-security.kubernetes.io~1audit"
        ),
        "restricted"
    );
    assert!(namespace.pointer("/metadata/namespace").is_none());
}

#[test]
fn every_object_carries_the_labels_status_and_delete_select_on() {
    for settings in [
        cert_manager_install(),
        byoc(&[], true),
        existing_secret(&["trustDistribution.enabled=false"]),
    ] {
        let plan = plan_of(&settings);
        for object in &plan.objects {
            let labels = at(&object.manifest, "/metadata/labels");
            for pair in label_selector("contosoedge").split(',') {
                let (key, value) = pair.split_once('=').expect("key=value");
                assert_eq!(labels[key], value, "{} {}", object.kind, object.name);
            }
            assert!(
                labels[COMPONENT_LABEL].is_string(),
                "{} {}",
                object.kind,
                object.name
            );
            let expected_namespace =
                (object.kind != "Namespace").then(|| DEFAULT_NAMESPACE.to_owned());
            assert_eq!(object.namespace, expected_namespace);
            assert_eq!(at(&object.manifest, "/kind"), object.kind.as_str());
            assert_eq!(
                at(&object.manifest, "/apiVersion"),
                object.api_version.as_str()
            );
            if let Some(template_labels) = object.manifest.pointer("/spec/template/metadata/labels")
            {
                let selector = at(&object.manifest, "/spec/selector/matchLabels");
                for (key, value) in selector.as_object().expect("labels") {
                    assert_eq!(&template_labels[key], value);
                }
                assert_eq!(template_labels[MANAGED_BY_LABEL], MANAGED_BY);
            }
        }
    }
    assert_eq!(FIELD_MANAGER, "kubectl-acr");
    assert_eq!(
        label_selector("edge"),
        "app.kubernetes.io/managed-by=kubectl-acr,app.kubernetes.io/part-of=connected-registry,app.kubernetes.io/instance=edge"
    );
}

#[test]
fn components_label_each_part() {
    let plan = plan_of(&cert_manager_install());
    let component = |kind: &str, name: &str| {
        at(manifest(&plan, kind, name), "/metadata/labels")[COMPONENT_LABEL]
            .as_str()
            .expect("component")
            .to_owned()
    };
    assert_eq!(component("Namespace", "connected-registry"), "namespace");
    assert_eq!(component("Secret", CONNECTION_SECRET_NAME), "credentials");
    assert_eq!(component("Certificate", SERVING_CERTIFICATE_NAME), "tls");
    assert_eq!(component("PersistentVolumeClaim", PVC_NAME), "storage");
    assert_eq!(component("Deployment", REGISTRY_NAME), "registry");
    assert_eq!(component("DaemonSet", TRUST_DAEMONSET_NAME), "trust");
}

#[test]
fn redaction_leaves_no_secret_bytes_and_shown_output_has_them() {
    let plan = plan_of(&byoc(&[], true));
    let holding: Vec<&str> = plan
        .objects
        .iter()
        .filter(|object| object.holds_secret)
        .map(|object| object.name.as_str())
        .collect();
    assert_eq!(
        holding,
        ["connected-registry-connection", "connected-registry-tls"]
    );

    let secret_forms = [
        PASSWORD.to_owned(),
        KEY_BODY.to_owned(),
        b64(&connection()),
        b64(&key_pem()),
    ];
    let redacted_yaml = plan.to_yaml(SecretDisplay::Redacted);
    let redacted_json = plan.to_json(SecretDisplay::Redacted).to_string();
    for output in [&redacted_yaml, &redacted_json] {
        for secret in &secret_forms {
            assert!(!output.contains(secret.as_str()), "leaked {secret}");
        }
    }
    assert!(redacted_yaml.contains("ACR_REGISTRY_CONNECTION_STRING: PHJlZGFjdGVkPg=="));
    assert!(redacted_yaml.contains("tls.key: PHJlZGFjdGVkPg=="));
    assert_eq!(REDACTED_BASE64, b64(crate::secret::REDACTED));

    let shown = plan.to_json(SecretDisplay::Shown);
    let items = at(&shown, "/items").as_array().expect("items");
    let tls = items
        .iter()
        .find(|item| item["metadata"]["name"] == TLS_SECRET_NAME)
        .expect("tls secret");
    assert_eq!(at(tls, "/type"), "kubernetes.io/tls");
    assert_eq!(at(tls, "/data/tls.key"), b64(&key_pem()).as_str());
    assert_eq!(at(tls, "/data/tls.crt"), b64(&cert_pem()).as_str());
    assert_eq!(at(tls, "/data/ca.crt"), b64(&ca_pem()).as_str());
    assert!(
        plan.to_yaml(SecretDisplay::Shown)
            .contains(&b64(&connection()))
    );
}

#[test]
fn redaction_covers_string_data_too() {
    let object = PlannedObject {
        api_version: "v1".to_owned(),
        kind: "Secret".to_owned(),
        name: "handmade".to_owned(),
        namespace: Some("default".to_owned()),
        manifest: serde_json::json!({
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": { "name": "handmade" },
            "stringData": { "password": "hunter2" },
        }),
        holds_secret: true,
    };
    assert_eq!(
        object.displayed(SecretDisplay::Redacted)["stringData"]["password"],
        "<redacted>"
    );
    assert_eq!(
        object.displayed(SecretDisplay::Shown)["stringData"]["password"],
        "hunter2"
    );
}

#[test]
fn yaml_output_is_one_document_per_object_with_the_type_first() {
    let plan = plan_of(&cert_manager_install());
    let yaml = plan.to_yaml(SecretDisplay::Redacted);
    let documents: Vec<&str> = yaml.split("---\n").collect();
    assert_eq!(documents.len(), plan.objects.len());
    assert!(
        documents[0].starts_with("apiVersion: v1\nkind: Namespace\nmetadata:\n"),
        "{}",
        documents[0]
    );
    for document in &documents {
        assert!(document.starts_with("apiVersion: "), "{document}");
        let kind_line = document.lines().nth(1).expect("second line");
        assert!(kind_line.starts_with("kind: "), "{document}");
    }
    let list = plan.to_json(SecretDisplay::Redacted);
    assert_eq!(at(&list, "/kind"), "List");
    assert_eq!(
        at(&list, "/items").as_array().expect("items").len(),
        plan.objects.len()
    );
}

#[test]
fn rendering_is_deterministic() {
    let settings = byoc(&[], true);
    assert_eq!(plan_of(&settings), plan_of(&settings));
    assert_eq!(
        plan_of(&settings).to_yaml(SecretDisplay::Shown),
        plan_of(&settings).to_yaml(SecretDisplay::Shown)
    );
}

#[test]
fn a_plan_needs_a_connection_string() {
    let settings = settings(&[IP], &[]);
    let error = render(&settings, &PlanOptions::default()).expect_err("refused");
    assert!(matches!(error, PlanError::MissingConnectionString));
    assert!(
        error
            .to_string()
            .starts_with("connectionString is required to deploy: ")
    );
}

#[test]
fn trust_distribution_needs_a_ca_for_a_brought_certificate() {
    let error = render(&byoc(&[], false), &PlanOptions::default()).expect_err("refused");
    assert!(matches!(error, PlanError::TrustWithoutCa));
    assert!(error.to_string().contains("add tls.cacrt"));
}

#[test]
fn options_are_checked() {
    let refused = |options: PlanOptions| {
        render(&cert_manager_install(), &options)
            .expect_err("refused")
            .to_string()
    };
    assert_eq!(
        refused(PlanOptions {
            namespace: "Connected_Registry".to_owned(),
            ..PlanOptions::default()
        }),
        "namespace `Connected_Registry` cannot be used: use at most 63 lowercase letters, digits or '-', starting and ending with a letter or digit"
    );
    assert!(
        refused(PlanOptions {
            trust_distribution_image: "busybox:latest".to_owned(),
            ..PlanOptions::default()
        })
        .starts_with("trust distribution image `busybox:latest`")
    );
    assert!(
        refused(PlanOptions {
            containerd_certs_dir: "etc/containerd/certs.d".to_owned(),
            ..PlanOptions::default()
        })
        .starts_with("containerd certs directory")
    );
    assert!(
        refused(PlanOptions {
            containerd_certs_dir: "/etc/$(reboot)".to_owned(),
            ..PlanOptions::default()
        })
        .starts_with("containerd certs directory")
    );
    let other_namespace = PlanOptions {
        namespace: "edge-registry".to_owned(),
        ..PlanOptions::default()
    };
    let plan = render(&cert_manager_install(), &other_namespace).expect("renders");
    assert_eq!(plan.objects[1].namespace.as_deref(), Some("edge-registry"));
}

fn folder_file<'a>(folder: &'a GitOpsFolder, path: &str) -> &'a FolderFile {
    folder
        .files
        .iter()
        .find(|file| file.path == std::path::Path::new(path))
        .unwrap_or_else(|| panic!("no {path} in {:?}", folder.files))
}

#[test]
fn a_gitops_folder_has_one_file_per_object_and_keeps_secrets_out_of_git() {
    let plan = plan_of(&byoc(&[], true));
    let folder = GitOpsFolder::new(&plan, None, &SecretForm::File);
    let kustomization: Value =
        serde_yaml_ng::from_str(&folder_file(&folder, "kustomization.yaml").contents)
            .expect("YAML");
    let resources: Vec<&str> = kustomization["resources"]
        .as_array()
        .expect("resources")
        .iter()
        .map(|name| name.as_str().expect("string"))
        .collect();
    assert_eq!(resources.len(), plan.objects.len());
    for (object, resource) in plan.objects.iter().zip(&resources) {
        let file = folder_file(&folder, resource);
        let manifest: Value = serde_yaml_ng::from_str(&file.contents).expect("YAML");
        assert_eq!(manifest, object.manifest, "{resource}");
        let expected_mode = if object.holds_secret {
            crate::fsio::FileMode::Secret
        } else {
            crate::fsio::FileMode::Public
        };
        assert_eq!(file.mode, expected_mode, "{resource}");
    }
    let secret_files: Vec<String> = folder
        .secret_files()
        .map(|path| path.display().to_string())
        .collect();
    assert_eq!(
        secret_files,
        [
            "secret-connected-registry-connection.yaml",
            "secret-connected-registry-tls.yaml"
        ]
    );
    let gitignore = &folder_file(&folder, ".gitignore").contents;
    for name in &secret_files {
        assert!(
            gitignore.lines().any(|line| line == format!("/{name}")),
            "{gitignore}"
        );
    }
    for file in folder
        .files
        .iter()
        .filter(|file| file.mode != crate::fsio::FileMode::Secret)
    {
        assert!(
            !file.contents.contains(&b64(&connection())),
            "{:?}",
            file.path
        );
        assert!(!file.contents.contains(KEY_BODY), "{:?}", file.path);
    }
}

#[test]
fn cert_manager_gets_its_own_layer_listed_first() {
    let plan = plan_of(&cert_manager_install());
    let release = plan_of(&byoc(&["trustDistribution.enabled=false"], false)).objects[..2].to_vec();
    let folder = GitOpsFolder::new(&plan, Some(&release), &SecretForm::File);
    let top: Value = serde_yaml_ng::from_str(&folder_file(&folder, "kustomization.yaml").contents)
        .expect("YAML");
    assert_eq!(top["resources"][0], CERT_MANAGER_LAYER);
    let layer: Value =
        serde_yaml_ng::from_str(&folder_file(&folder, "cert-manager/kustomization.yaml").contents)
            .expect("YAML");
    assert_eq!(layer["resources"], serde_json::json!(["cert-manager.yaml"]));
    let documents = folder_file(&folder, "cert-manager/cert-manager.yaml")
        .contents
        .split("---\n")
        .count();
    assert_eq!(documents, release.len());
}

#[test]
fn external_secrets_hold_no_value_and_name_the_keys_to_create() {
    let plan = plan_of(&byoc(&["trustDistribution.enabled=false"], false));
    let folder = GitOpsFolder::new(
        &plan,
        None,
        &SecretForm::ExternalSecret {
            store: "vault".to_owned(),
            store_kind: StoreKind::SecretStore,
        },
    );
    assert_eq!(folder.secret_files().count(), 0);
    for file in &folder.files {
        assert!(
            !file.contents.contains(&b64(&connection())),
            "{:?}",
            file.path
        );
        assert!(!file.contents.contains(PASSWORD), "{:?}", file.path);
        assert!(!file.contents.contains(&b64(&key_pem())), "{:?}", file.path);
    }
    let external: Value = serde_yaml_ng::from_str(
        &folder_file(&folder, "externalsecret-connected-registry-connection.yaml").contents,
    )
    .expect("YAML");
    assert_eq!(external["apiVersion"], EXTERNAL_SECRET_API_VERSION);
    assert_eq!(
        external["spec"]["secretStoreRef"],
        serde_json::json!({"name": "vault", "kind": "SecretStore"})
    );
    assert_eq!(
        external["spec"]["data"],
        serde_json::json!([{
            "secretKey": CONNECTION_STRING_KEY,
            "remoteRef": {"key": "connected-registry-connection-acr-registry-connection-string"}
        }])
    );
    let tls = manifest(&plan, "Secret", TLS_SECRET_NAME);
    let external_tls: Value = serde_yaml_ng::from_str(
        &folder_file(&folder, "externalsecret-connected-registry-tls.yaml").contents,
    )
    .expect("YAML");
    assert_eq!(
        external_tls["spec"]["target"]["template"]["type"],
        tls["type"]
    );
    assert_eq!(
        external_tls["metadata"]["labels"],
        tls["metadata"]["labels"]
    );
    let remote: Vec<&str> = folder
        .remote_keys
        .iter()
        .map(|key| key.remote_key.as_str())
        .collect();
    assert_eq!(
        remote,
        [
            "connected-registry-connection-acr-registry-connection-string",
            "connected-registry-tls-tls-crt",
            "connected-registry-tls-tls-key"
        ]
    );
}

#[test]
fn a_gitops_folder_is_written_all_or_nothing_and_not_over_an_earlier_one() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("site-a");
    let folder = GitOpsFolder::new(
        &plan_of(&byoc(&["trustDistribution.enabled=false"], false)),
        None,
        &SecretForm::File,
    );
    folder
        .write(
            &out,
            crate::fsio::Overwrite::Refuse,
            &crate::policy::Approval::for_tests(),
        )
        .expect("first write");
    use std::os::unix::fs::PermissionsExt as _;
    let mode = |name: &str| {
        std::fs::metadata(out.join(name))
            .expect("written")
            .permissions()
            .mode()
            & 0o777
    };
    assert_eq!(mode("secret-connected-registry-tls.yaml"), 0o600);
    assert_eq!(mode("deployment-connected-registry.yaml"), 0o644);
    let error = folder
        .write(
            &out,
            crate::fsio::Overwrite::Refuse,
            &crate::policy::Approval::for_tests(),
        )
        .expect_err("second write");
    assert!(error.to_string().contains("--force"), "{error}");
    folder
        .write(
            &out,
            crate::fsio::Overwrite::Replace,
            &crate::policy::Approval::for_tests(),
        )
        .expect("forced");
}

#[test]
fn names_are_printed_as_kubectl_prints_them() {
    let names = plan_of(&cert_manager_install()).to_names();
    let lines: Vec<&str> = names.lines().collect();
    assert_eq!(lines.len(), plan_of(&cert_manager_install()).objects.len());
    for expected in [
        "namespace/connected-registry",
        "deployment.apps/connected-registry",
        "certificate.cert-manager.io/connected-registry-tls",
        "secret/connected-registry-connection",
    ] {
        assert!(lines.contains(&expected), "{names}");
    }
}
