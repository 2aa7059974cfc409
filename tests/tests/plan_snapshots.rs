//! The rendered manifests of the public tutorial's five secure deployment methods, compared
//! byte for byte with the reviewed snapshots in `tests/fixtures/plan/` (`UPDATE_SNAPSHOTS=1`
//! rewrites them), validated against the Kubernetes schemas by `scripts/validate-manifests.sh`,
//! and, for cert-manager's resources that have no schema there, checked field by field.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use acr_core::plan::{
    CA_CERTIFICATE_NAME, CA_ISSUER_NAME, CERT_MANAGER_API_VERSION, Plan, PlanOptions,
    REDACTED_BASE64, SELF_SIGNED_ISSUER_NAME, SERVING_CERTIFICATE_NAME, SecretDisplay, render,
};
use acr_core::settings::{ConnectedRegistrySettings, SettingsInput};
use acr_tests::{fixture, require_tool, run};
use base64::Engine as _;
use serde_json::Value;

/// The service IP of every snapshot: the IP SAN of `tests/fixtures/tls/server.crt`.
const SERVICE_IP: &str = "10.0.0.1";
/// A made-up sync token password; it must never reach a snapshot.
const TOKEN_PASSWORD: &str = "c25hcHNob3Qtc3luYy10b2tlbi1wYXNzd29yZA==";

/// One deployment method of the tutorial, as `--config` and protected settings.
struct Method {
    /// The snapshot's file name, without `.yaml`.
    name: &'static str,
    config: &'static [&'static str],
    tls: ProtectedTls,
}

enum ProtectedTls {
    None,
    /// `tls.crt` (server and intermediate), `tls.key`, `tls.cacrt` (root) from the TLS fixtures.
    BringYourOwn,
    /// `tls.secret`.
    ExistingSecret(&'static str),
}

const METHODS: [Method; 5] = [
    Method {
        name: "cert-manager-install",
        config: &[],
        tls: ProtectedTls::None,
    },
    // Also shows a storage class and a smaller claim.
    Method {
        name: "cert-manager-existing",
        config: &[
            "cert-manager.install=false",
            "pvc.storageClassName=managed-csi",
            "pvc.storageRequest=250Gi",
        ],
        tls: ProtectedTls::None,
    },
    Method {
        name: "byoc",
        config: &["cert-manager.enabled=false", "cert-manager.install=false"],
        tls: ProtectedTls::BringYourOwn,
    },
    // Also shows trust distribution limited to labelled nodes (useNodeSelector=true).
    Method {
        name: "existing-secret",
        config: &[
            "cert-manager.enabled=false",
            "cert-manager.install=false",
            "trustDistribution.useNodeSelector=true",
        ],
        tls: ProtectedTls::ExistingSecret("registry-tls"),
    },
    Method {
        name: "own-trust",
        config: &[
            "cert-manager.enabled=false",
            "cert-manager.install=false",
            "trustDistribution.enabled=false",
        ],
        tls: ProtectedTls::BringYourOwn,
    },
];

fn connection_string() -> String {
    format!(
        "ConnectedRegistryName=contosoedge;SyncTokenName=contosoedge-sync-token;SyncTokenPassword={TOKEN_PASSWORD};ParentGatewayEndpoint=contoso.eastus.data.azurecr.io;ParentEndpointProtocol=https"
    )
}

fn read_fixture(relative: &str) -> String {
    fs::read_to_string(fixture(relative))
        .unwrap_or_else(|err| panic!("cannot read tests/fixtures/{relative}: {err}"))
}

fn base64_of(text: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(text)
}

fn settings_of(method: &Method) -> ConnectedRegistrySettings {
    let mut config = vec![("service.clusterIP".to_owned(), SERVICE_IP.to_owned())];
    config.extend(method.config.iter().map(|pair| {
        let (key, value) = pair.split_once('=').expect("key=value");
        (key.to_owned(), value.to_owned())
    }));
    let mut protected = vec![("connectionString".to_owned(), connection_string())];
    match method.tls {
        ProtectedTls::None => {}
        ProtectedTls::BringYourOwn => {
            let chain = read_fixture("tls/server.crt") + &read_fixture("tls/intermediate-ca.crt");
            protected.extend([
                ("tls.crt".to_owned(), base64_of(&chain)),
                (
                    "tls.key".to_owned(),
                    base64_of(&read_fixture("tls/server.key")),
                ),
                (
                    "tls.cacrt".to_owned(),
                    base64_of(&read_fixture("tls/root-ca.crt")),
                ),
            ]);
        }
        ProtectedTls::ExistingSecret(name) => {
            protected.push(("tls.secret".to_owned(), name.to_owned()));
        }
    }
    let input = SettingsInput {
        config,
        protected_file: None,
        protected,
    };
    ConnectedRegistrySettings::resolve(&input)
        .unwrap_or_else(|err| panic!("{}: settings refused: {err}", method.name))
}

fn method_named(name: &str) -> &'static Method {
    METHODS
        .iter()
        .find(|method| method.name == name)
        .unwrap_or_else(|| panic!("no method {name}"))
}

fn plan_of(method: &Method) -> Plan {
    render(&settings_of(method), &PlanOptions::default())
        .unwrap_or_else(|err| panic!("{}: not rendered: {err}", method.name))
}

fn snapshot_dir() -> PathBuf {
    fixture("plan")
}

fn snapshot_path(method: &Method) -> PathBuf {
    snapshot_dir().join(format!("{}.yaml", method.name))
}

#[test]
fn snapshots_match_the_rendered_plans() {
    let update = std::env::var_os("UPDATE_SNAPSHOTS").is_some_and(|value| value == "1");
    let mut stale = Vec::new();
    for method in &METHODS {
        let rendered = plan_of(method).to_yaml(SecretDisplay::Redacted);
        let path = snapshot_path(method);
        if update {
            fs::create_dir_all(snapshot_dir()).expect("create tests/fixtures/plan");
            fs::write(&path, &rendered).expect("write snapshot");
            continue;
        }
        let stored = fs::read_to_string(&path).unwrap_or_default();
        if stored != rendered {
            let line = stored
                .lines()
                .zip(rendered.lines())
                .position(|(old, new)| old != new)
                .unwrap_or_else(|| stored.lines().count().min(rendered.lines().count()));
            stale.push(format!(
                "{}: first difference at line {}: snapshot {:?}, rendered {:?}",
                path.display(),
                line + 1,
                stored.lines().nth(line),
                rendered.lines().nth(line)
            ));
        }
    }
    assert!(
        stale.is_empty(),
        "snapshots differ from the rendered plans; review the change and rerun with UPDATE_SNAPSHOTS=1:\n{}",
        stale.join("\n")
    );
}

#[test]
fn the_snapshot_folder_holds_exactly_the_five_methods() {
    let mut found: Vec<String> = fs::read_dir(snapshot_dir())
        .expect("tests/fixtures/plan exists")
        .map(|entry| {
            entry
                .expect("directory entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    found.sort();
    let mut expected: Vec<String> = METHODS
        .iter()
        .map(|method| format!("{}.yaml", method.name))
        .collect();
    expected.sort();
    assert_eq!(found, expected);
}

#[test]
fn snapshots_hold_no_secret_material() {
    let key = read_fixture("tls/server.key");
    let key_body = key
        .lines()
        .filter(|line| !line.starts_with("-----"))
        .collect::<String>();
    let secrets = [
        TOKEN_PASSWORD.to_owned(),
        base64_of(&connection_string()),
        base64_of(&key),
        key_body,
    ];
    for method in &METHODS {
        let text = plan_of(method).to_yaml(SecretDisplay::Redacted);
        for secret in &secrets {
            assert!(
                !text.contains(secret.as_str()),
                "{} leaks a secret",
                method.name
            );
        }
        assert!(
            text.contains(&format!(
                "ACR_REGISTRY_CONNECTION_STRING: {REDACTED_BASE64}"
            )),
            "{}",
            method.name
        );
    }
    let byoc = plan_of(method_named("byoc")).to_yaml(SecretDisplay::Redacted);
    for key in ["tls.crt", "tls.key", "ca.crt"] {
        assert!(
            byoc.contains(&format!("  {key}: {REDACTED_BASE64}\n")),
            "{key}"
        );
    }
}

fn manifest_of<'a>(plan: &'a Plan, kind: &str, name: &str) -> &'a Value {
    &plan
        .objects
        .iter()
        .find(|object| object.kind == kind && object.name == name)
        .unwrap_or_else(|| panic!("no {kind} {name}"))
        .manifest
}

fn text_at<'a>(value: &'a Value, pointer: &str) -> &'a str {
    value
        .pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("no string at {pointer} in {value}"))
}

/// A Go duration of whole hours, as cert-manager takes `duration` and `renewBefore`.
fn hours(value: &str) -> u64 {
    value
        .strip_suffix('h')
        .and_then(|number| number.parse().ok())
        .unwrap_or_else(|| panic!("`{value}` is not a duration in hours"))
}

#[test]
fn cert_manager_resources_have_their_required_fields_and_chain_up() {
    for method in METHODS
        .iter()
        .filter(|method| method.name.starts_with("cert-manager-"))
    {
        let plan = plan_of(method);
        let custom: Vec<_> = plan
            .objects
            .iter()
            .filter(|object| object.api_version == CERT_MANAGER_API_VERSION)
            .collect();
        assert_eq!(custom.len(), 4, "{}", method.name);
        for object in &custom {
            let manifest = &object.manifest;
            assert_eq!(
                text_at(manifest, "/metadata/namespace"),
                "connected-registry"
            );
            assert_eq!(text_at(manifest, "/metadata/name"), object.name);
            let spec = manifest
                .pointer("/spec")
                .and_then(Value::as_object)
                .expect("spec");
            match object.kind.as_str() {
                // An Issuer has exactly one issuing mechanism.
                "Issuer" => assert_eq!(spec.len(), 1, "{}", object.name),
                "Certificate" => {
                    assert!(!text_at(manifest, "/spec/secretName").is_empty());
                    let issuer = text_at(manifest, "/spec/issuerRef/name");
                    assert_eq!(text_at(manifest, "/spec/issuerRef/kind"), "Issuer");
                    assert_eq!(
                        text_at(manifest, "/spec/issuerRef/group"),
                        "cert-manager.io"
                    );
                    assert!(
                        custom
                            .iter()
                            .any(|other| other.kind == "Issuer" && other.name == issuer),
                        "{} names a missing issuer {issuer}",
                        object.name
                    );
                    hours(text_at(manifest, "/spec/duration"));
                }
                other => panic!("unexpected cert-manager kind {other}"),
            }
        }

        let self_signed = manifest_of(&plan, "Issuer", SELF_SIGNED_ISSUER_NAME);
        assert_eq!(self_signed["spec"]["selfSigned"], serde_json::json!({}));
        let ca = manifest_of(&plan, "Certificate", CA_CERTIFICATE_NAME);
        assert_eq!(ca["spec"]["isCA"], true);
        assert_eq!(text_at(ca, "/spec/issuerRef/name"), SELF_SIGNED_ISSUER_NAME);
        assert!(!text_at(ca, "/spec/commonName").is_empty());
        let ca_issuer = manifest_of(&plan, "Issuer", CA_ISSUER_NAME);
        assert_eq!(
            text_at(ca_issuer, "/spec/ca/secretName"),
            text_at(ca, "/spec/secretName")
        );

        let serving = manifest_of(&plan, "Certificate", SERVING_CERTIFICATE_NAME);
        assert!(serving["spec"].get("isCA").is_none());
        assert_eq!(text_at(serving, "/spec/issuerRef/name"), CA_ISSUER_NAME);
        assert_eq!(
            serving["spec"]["ipAddresses"],
            serde_json::json!([SERVICE_IP])
        );
        assert!(
            hours(text_at(serving, "/spec/renewBefore"))
                < hours(text_at(serving, "/spec/duration"))
        );
        assert_eq!(
            serving["spec"]["usages"],
            serde_json::json!(["server auth", "digital signature"])
        );
        let deployment = manifest_of(&plan, "Deployment", "connected-registry");
        let daemon_set = manifest_of(&plan, "DaemonSet", "connected-registry-containerd-config");
        let secret_name = text_at(serving, "/spec/secretName");
        assert_eq!(
            text_at(
                deployment,
                "/spec/template/spec/volumes/1/secret/secretName"
            ),
            secret_name
        );
        assert_eq!(
            text_at(
                daemon_set,
                "/spec/template/spec/volumes/0/secret/secretName"
            ),
            secret_name
        );
        assert_eq!(
            text_at(
                manifest_of(&plan, "Service", "connected-registry"),
                "/spec/clusterIP"
            ),
            SERVICE_IP
        );
    }
}

/// Runs of the validation script share `.venv`; one at a time.
static VALIDATOR: Mutex<()> = Mutex::new(());

fn validate_manifests(dir: &Path) -> acr_tests::Run {
    require_tool("python3");
    let _one_at_a_time = VALIDATOR
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let script = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("scripts")
        .join("validate-manifests.sh");
    run(require_tool("bash"), [script.as_os_str(), dir.as_os_str()])
}

#[test]
fn snapshots_pass_strict_kubernetes_schema_validation() {
    let stdout = validate_manifests(&snapshot_dir()).success();
    assert!(
        stdout.contains("validate-manifests: 5 files,")
            && stdout.contains("against Kubernetes 1.33.0 1.37.0 (strict)")
            && stdout.contains("; 16 cert-manager object checks left to the Rust tests"),
        "{stdout}"
    );
}

#[test]
fn schema_validation_refuses_unknown_fields_and_unknown_kinds() {
    let service = plan_of(method_named("cert-manager-install"))
        .objects
        .into_iter()
        .find(|object| object.kind == "Service")
        .expect("service")
        .manifest;

    let mut misspelt_field = service.clone();
    let spec = misspelt_field["spec"].as_object_mut().expect("spec");
    let cluster_ip = spec.remove("clusterIP").expect("clusterIP");
    spec.insert("clusterIp".to_owned(), cluster_ip);
    let mut misspelt_kind = service;
    misspelt_kind["kind"] = Value::from("Servise");

    for (broken, complaint) in [
        (misspelt_field, "clusterIp"),
        (misspelt_kind, "Couldn't find schema for kind Servise"),
    ] {
        let dir = tempfile::tempdir().expect("tempdir");
        let text = serde_json::to_string_pretty(&broken).expect("json");
        fs::write(dir.path().join("broken.yaml"), text).expect("write");
        let outcome = validate_manifests(dir.path());
        assert_eq!(outcome.code, Some(1), "{outcome:?}");
        assert!(outcome.stderr.contains(complaint), "{outcome:?}");
    }
}
