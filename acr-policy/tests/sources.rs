//! Policy sources against real peers on 127.0.0.1, with a CA and server certificate made by
//! `openssl`: Debian's `docker-registry` over TLS (OCI push and pull, Basic and Bearer
//! authentication, tampered content, the local store), cross-checked with `skopeo` and `curl`,
//! and `openssl s_server -WWW` serving https modules pinned by sha256.

use acr_policy::sources::{
    self, ModuleSource, NetError, OCI_MANIFEST_MEDIA_TYPE, OciReference, RegistryCredentials,
    RemoteError, Sha256Digest, SourceOptions, WASM_CONFIG_MEDIA_TYPE, WASM_LAYER_MEDIA_TYPE,
};
use acr_policy::{
    BUILTIN_POLICIES, Decision, HostConfig, Metadata, PolicyHost, PolicyOutcome, PolicySet,
    SetReport,
};
use acr_tests::peers::{DockerRegistry, Peer, free_port};
use acr_tests::require_tool;
use serde::Deserialize;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use tempfile::TempDir;
use wasm_guest::{Review, Verdict};

/// The built-in policy pushed, pulled and downloaded, and its fixture that it denies.
const POLICY: &str = "trust-distribution-requires-ca";
const DENIED_FIXTURE: &str = "off-without-ca.json";

/// The user of the Basic-authenticated registry, and its password's bcrypt hash (made with
/// `perl -e 'print crypt("correct-horse-battery", "$2b$05$acrpolicytestsaltsaltu")'`).
const REGISTRY_USER: &str = "policy-pusher";
const REGISTRY_PASSWORD: &str = "correct-horse-battery";
const REGISTRY_PASSWORD_BCRYPT: &str =
    "$2b$05$acrpolicytestsaltsalturXWqtDZdp.yn3Zzj9zSnqQTeY0h/smy";

fn policy_wasm() -> &'static [u8] {
    BUILTIN_POLICIES
        .iter()
        .find(|builtin| builtin.name == POLICY)
        .unwrap_or_else(|| panic!("{POLICY} is built in"))
        .wasm
}

/// One host for these tests, so the policy is compiled once (slow in debug builds).
fn host() -> &'static PolicyHost {
    static HOST: OnceLock<PolicyHost> = OnceLock::new();
    HOST.get_or_init(|| PolicyHost::new(HostConfig::default()).expect("policy host starts"))
}

fn policy_metadata() -> Metadata {
    host()
        .load(POLICY, policy_wasm())
        .expect("the built-in policy loads")
        .metadata()
        .clone()
}

#[derive(Deserialize)]
struct Fixture {
    review: Review,
    verdict: Verdict,
}

fn denied_fixture() -> Fixture {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../policies")
        .join(POLICY)
        .join("fixtures")
        .join(DENIED_FIXTURE);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("{}: {error}", path.display()));
    let fixture: Fixture = serde_json::from_str(&text).expect("fixture parses");
    assert!(
        !fixture.verdict.allowed,
        "{DENIED_FIXTURE} is a denied case"
    );
    fixture
}

/// A one-entry policy set naming `module`, prepared with no built-ins (so nothing can come
/// from the binary) and evaluated on the fixture's review.
fn evaluate_source(module: &str, options: &SourceOptions) -> SetReport {
    let set = PolicySet::from_text(
        &format!("policies:\n  - module: {module}\n"),
        PathBuf::new(),
    )
    .expect("the set parses");
    set.prepare_with_sources(host(), &[], options)
        .evaluate(&denied_fixture().review)
}

/// Asserts that the module named `module` is the built-in policy and denies as its fixture
/// records.
fn assert_denies_like_the_builtin(module: &str, options: &SourceOptions) {
    let report = evaluate_source(module, options);
    let [policy] = report.policies.as_slice() else {
        panic!("one policy expected: {:?}", report.policies);
    };
    assert_eq!(policy.source, module);
    assert_eq!(policy.name.as_deref(), Some(POLICY));
    let Some(PolicyOutcome::Denied { violations, .. }) = &policy.outcome else {
        panic!("expected a deny, got {:?}", policy.outcome);
    };
    let codes = |violations: &[wasm_guest::Violation]| -> Vec<String> {
        violations.iter().map(|v| v.code.clone()).collect()
    };
    assert_eq!(
        codes(violations),
        codes(&denied_fixture().verdict.violations)
    );
    assert_eq!(report.decision, Decision::Denied);
}

/// The error text of the one policy of `report`.
fn source_error(report: &SetReport) -> String {
    match &report.policies[0].outcome {
        Some(PolicyOutcome::Error(error)) => error.to_string(),
        other => panic!("expected an error, got {other:?}"),
    }
}

/// A CA and a server certificate for 127.0.0.1 signed by it, made with openssl.
struct TestPki {
    dir: TempDir,
}

impl TestPki {
    fn new() -> Self {
        let openssl = require_tool("openssl");
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(
            dir.path().join("server.ext"),
            "subjectAltName=IP:127.0.0.1\nbasicConstraints=critical,CA:FALSE\n\
             keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n",
        )
        .expect("write extensions");
        let steps: [&[&str]; 3] = [
            &[
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-nodes",
                "-keyout",
                "ca.key",
                "-out",
                "ca.crt",
                "-days",
                "2",
                "-subj",
                "/CN=acr test CA",
                "-addext",
                "basicConstraints=critical,CA:TRUE",
                "-addext",
                "keyUsage=critical,keyCertSign,cRLSign",
            ],
            &[
                "req",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-nodes",
                "-keyout",
                "server.key",
                "-out",
                "server.csr",
                "-subj",
                "/CN=127.0.0.1",
            ],
            &[
                "x509",
                "-req",
                "-in",
                "server.csr",
                "-CA",
                "ca.crt",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-out",
                "server.crt",
                "-days",
                "2",
                "-extfile",
                "server.ext",
            ],
        ];
        for args in steps {
            let output = Command::new(&openssl)
                .args(args)
                .current_dir(dir.path())
                .output()
                .expect("openssl runs");
            assert!(
                output.status.success(),
                "openssl {args:?}: {}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        Self { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn options(&self) -> SourceOptions {
        SourceOptions {
            ca_file: Some(self.path("ca.crt")),
            ..SourceOptions::default()
        }
    }
}

/// How a test registry authenticates.
enum RegistryAuth {
    None,
    /// htpasswd with [`REGISTRY_USER`].
    Basic,
    /// The registry's `silly` access controller: a Bearer challenge naming `realm`, and any
    /// `Authorization` accepted afterwards.
    Bearer {
        realm: String,
    },
}

/// Debian's docker-registry on 127.0.0.1 over TLS, storing in a temporary directory.
struct TestRegistry {
    registry: DockerRegistry,
}

/// The service name the Bearer-authenticated registry announces.
const TOKEN_SERVICE: &str = "acr-test-registry";

impl TestRegistry {
    fn start(pki: &TestPki, auth: RegistryAuth) -> Self {
        let auth = match auth {
            RegistryAuth::None => String::new(),
            RegistryAuth::Basic => {
                let htpasswd = pki.path("htpasswd");
                std::fs::write(
                    &htpasswd,
                    format!("{REGISTRY_USER}:{REGISTRY_PASSWORD_BCRYPT}\n"),
                )
                .expect("write htpasswd");
                format!(
                    "auth:\n  htpasswd:\n    realm: acr-test\n    path: {}\n",
                    htpasswd.display()
                )
            }
            RegistryAuth::Bearer { realm } => {
                format!("auth:\n  silly:\n    realm: {realm}\n    service: {TOKEN_SERVICE}\n")
            }
        };
        let registry = DockerRegistry::start(
            pki.dir.path(),
            &pki.path("server.crt"),
            &pki.path("server.key"),
            &auth,
        );
        Self { registry }
    }

    fn host(&self) -> String {
        self.registry.host()
    }

    fn reference(&self, repository_and_tag: &str) -> OciReference {
        format!("oci://{}/{repository_and_tag}", self.host())
            .parse()
            .expect("reference parses")
    }

    /// The file the registry keeps the blob `digest` in.
    fn blob_file(&self, digest: Sha256Digest) -> PathBuf {
        let hex = digest.hex();
        self.registry
            .storage
            .join("docker/registry/v2/blobs/sha256")
            .join(&hex[..2])
            .join(hex)
            .join("data")
    }
}

/// `openssl s_server -WWW` serving the files of a directory over TLS.
fn start_file_server(pki: &TestPki, root: &Path) -> Peer {
    let openssl = require_tool("openssl");
    let port = free_port();
    let mut command = Command::new(openssl);
    command
        .args(["s_server", "-WWW", "-quiet", "-accept"])
        .arg(format!("127.0.0.1:{port}"))
        .arg("-cert")
        .arg(pki.path("server.crt"))
        .arg("-key")
        .arg(pki.path("server.key"))
        .current_dir(root);
    Peer::start(command, port, pki.path(&format!("s_server-{port}.log")))
}

fn push_policy(
    registry: &TestRegistry,
    repository_and_tag: &str,
    options: &SourceOptions,
) -> OciReference {
    let reference = registry.reference(repository_and_tag);
    let digest = sources::push(&reference, policy_wasm(), &policy_metadata(), options)
        .unwrap_or_else(|error| panic!("push: {error}"));
    reference.pinned(digest)
}

fn pull_error(reference: &OciReference, options: &SourceOptions) -> RemoteError {
    match sources::pull(reference, options) {
        Ok(module) => panic!(
            "pulling {reference} should fail, but gave {} bytes",
            module.len()
        ),
        Err(error) => error,
    }
}

#[test]
fn oci_push_then_pull_by_digest_loads_and_evaluates() {
    let pki = TestPki::new();
    let registry = TestRegistry::start(&pki, RegistryAuth::None);
    let options = pki.options();
    let pinned = push_policy(&registry, "policies/trust:1.0", &options);
    let digest = pinned.digest.expect("pinned");
    assert_eq!(
        pinned.to_string(),
        format!("oci://{}/policies/trust@{digest}", registry.host())
    );

    let pulled = sources::pull(&pinned, &options).expect("pull");
    assert_eq!(pulled, policy_wasm());
    assert_denies_like_the_builtin(&pinned.to_string(), &options);

    // The same module and metadata give the same manifest, under another tag too.
    assert_eq!(
        push_policy(&registry, "policies/trust:latest", &options),
        pinned
    );

    // An independent client reads the tag as an OCI manifest of the Wasm artifact convention.
    let cert_dir = pki.path("skopeo-certs");
    std::fs::create_dir(&cert_dir).expect("cert dir");
    std::fs::copy(pki.path("ca.crt"), cert_dir.join("ca.crt")).expect("copy CA");
    let output = Command::new(require_tool("skopeo"))
        .args(["inspect", "--raw", "--cert-dir"])
        .arg(&cert_dir)
        .arg(format!("docker://{}/policies/trust:1.0", registry.host()))
        .output()
        .expect("skopeo runs");
    assert!(
        output.status.success(),
        "skopeo: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(Sha256Digest::of(&output.stdout), digest);
    let manifest: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(manifest["mediaType"], OCI_MANIFEST_MEDIA_TYPE);
    assert_eq!(manifest["config"]["mediaType"], WASM_CONFIG_MEDIA_TYPE);
    assert_eq!(manifest["layers"][0]["mediaType"], WASM_LAYER_MEDIA_TYPE);
    assert_eq!(
        manifest["layers"][0]["digest"],
        Sha256Digest::of(policy_wasm()).to_string()
    );
    assert_eq!(
        manifest["annotations"]["org.opencontainers.image.title"],
        POLICY
    );
}

#[test]
fn oci_references_without_a_digest_are_refused() {
    let pki = TestPki::new();
    let registry = TestRegistry::start(&pki, RegistryAuth::None);
    let options = pki.options();
    let pinned = push_policy(&registry, "policies/trust:1.0", &options);

    let tagged = registry.reference("policies/trust:1.0");
    assert_eq!(
        pull_error(&tagged, &options).to_string(),
        format!(
            "{tagged} is not pinned by a manifest digest (`@sha256:HEX`), so it cannot be pulled"
        )
    );
    let set_error = PolicySet::from_text(
        &format!("policies:\n  - module: {tagged}\n"),
        PathBuf::new(),
    )
    .expect_err("tag-only source");
    assert!(
        set_error
            .to_string()
            .contains(&format!("module source `{tagged}` is not pinned by digest")),
        "{set_error}"
    );

    let error = sources::push(&pinned, policy_wasm(), &policy_metadata(), &options)
        .expect_err("pushing to a digest");
    assert_eq!(
        error.to_string(),
        format!("{pinned} cannot be pushed to: give a tag (`:TAG`) and no digest")
    );
}

#[test]
fn oci_unknown_digest_is_refused_with_the_registry_error() {
    let pki = TestPki::new();
    let registry = TestRegistry::start(&pki, RegistryAuth::None);
    let options = pki.options();
    push_policy(&registry, "policies/trust:1.0", &options);

    let unknown = registry
        .reference("policies/trust")
        .pinned(Sha256Digest::of(b"no such manifest"));
    let report = evaluate_source(&unknown.to_string(), &options);
    assert_eq!(
        source_error(&report),
        format!(
            "policy `{unknown}` cannot be fetched: GET https://{}/v2/policies/trust/manifests/{} \
             answered HTTP 404 (MANIFEST_UNKNOWN: manifest unknown)",
            registry.host(),
            unknown.digest.expect("pinned")
        )
    );
    assert_eq!(report.decision, Decision::BlockedByError);
}

#[test]
fn oci_tampered_layer_and_manifest_are_detected() {
    let pki = TestPki::new();
    let registry = TestRegistry::start(&pki, RegistryAuth::None);
    let options = pki.options();
    let pinned = push_policy(&registry, "policies/trust:1.0", &options);
    let manifest_digest = pinned.digest.expect("pinned");

    // The registry now serves other bytes of the same length under the layer's digest.
    let layer_digest = Sha256Digest::of(policy_wasm());
    let mut tampered_layer = policy_wasm().to_vec();
    let last = tampered_layer.len() - 1;
    tampered_layer[last] ^= 0xff;
    std::fs::write(registry.blob_file(layer_digest), &tampered_layer).expect("tamper layer");
    assert_eq!(
        pull_error(&pinned, &options).to_string(),
        format!(
            "the wasm layer of {pinned} has the digest {}, but {layer_digest} was expected",
            Sha256Digest::of(&tampered_layer)
        )
    );

    // And a manifest that is not the one pinned.
    let manifest_file = registry.blob_file(manifest_digest);
    let mut tampered_manifest = std::fs::read(&manifest_file).expect("manifest");
    tampered_manifest.push(b'\n');
    std::fs::write(&manifest_file, &tampered_manifest).expect("tamper manifest");
    let error = pull_error(&pinned, &options);
    assert_eq!(
        error.to_string(),
        format!(
            "the manifest of {pinned} has the digest {}, but {manifest_digest} was expected",
            Sha256Digest::of(&tampered_manifest)
        )
    );
    assert!(matches!(
        error,
        RemoteError::DigestMismatch { expected, .. } if expected == manifest_digest
    ));
}

#[test]
fn oci_crafted_manifest_without_a_wasm_layer_is_refused() {
    let pki = TestPki::new();
    let registry = TestRegistry::start(&pki, RegistryAuth::None);
    let options = pki.options();
    push_policy(&registry, "policies/trust:1.0", &options);

    // The pushed blobs, under a manifest that calls the module a container image layer.
    let config = &pushed_manifest(&registry, &options)["config"];
    let manifest = format!(
        r#"{{"schemaVersion":2,"mediaType":"{OCI_MANIFEST_MEDIA_TYPE}","config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{config}","size":{config_size}}},"layers":[{{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"{layer}","size":{layer_size}}}]}}"#,
        config = config["digest"].as_str().expect("config digest"),
        config_size = config["size"].as_u64().expect("config size"),
        layer = Sha256Digest::of(policy_wasm()),
        layer_size = policy_wasm().len(),
    );
    let manifest_path = pki.path("crafted.json");
    std::fs::write(&manifest_path, &manifest).expect("write manifest");
    let output = Command::new(require_tool("curl"))
        .args(["--silent", "--show-error", "--fail", "--cacert"])
        .arg(pki.path("ca.crt"))
        .args(["-X", "PUT", "-H"])
        .arg(format!("Content-Type: {OCI_MANIFEST_MEDIA_TYPE}"))
        .arg("--data-binary")
        .arg(format!("@{}", manifest_path.display()))
        .arg(format!(
            "https://{}/v2/policies/trust/manifests/crafted",
            registry.host()
        ))
        .output()
        .expect("curl runs");
    assert!(
        output.status.success(),
        "curl: {}",
        String::from_utf8_lossy(&output.stderr)
    );

    let crafted = registry
        .reference("policies/trust")
        .pinned(Sha256Digest::of(manifest.as_bytes()));
    assert_eq!(
        pull_error(&crafted, &options).to_string(),
        format!(
            "the OCI manifest of {crafted} is not a policy artifact: a policy artifact has \
             exactly one layer of media type `{WASM_LAYER_MEDIA_TYPE}`, but its layers are \
             [application/vnd.oci.image.layer.v1.tar]"
        )
    );
}

/// The pushed manifest of `policies/trust:1.0`, read with curl.
fn pushed_manifest(registry: &TestRegistry, options: &SourceOptions) -> serde_json::Value {
    let ca_file = options.ca_file.as_ref().expect("CA file");
    let output = Command::new(require_tool("curl"))
        .args(["--silent", "--show-error", "--fail", "--cacert"])
        .arg(ca_file)
        .args(["-H"])
        .arg(format!("Accept: {OCI_MANIFEST_MEDIA_TYPE}"))
        .arg(format!(
            "https://{}/v2/policies/trust/manifests/1.0",
            registry.host()
        ))
        .output()
        .expect("curl runs");
    assert!(
        output.status.success(),
        "curl: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("manifest JSON")
}

#[test]
fn oci_pinned_module_is_fetched_once_into_the_store() {
    let pki = TestPki::new();
    let registry = TestRegistry::start(&pki, RegistryAuth::None);
    let options = SourceOptions {
        store_dir: Some(pki.path("store")),
        ..pki.options()
    };
    let pinned = push_policy(&registry, "policies/trust:1.0", &options);
    assert_eq!(
        sources::pull(&pinned, &options).expect("pull"),
        policy_wasm()
    );
    let stored = pki
        .path("store")
        .join(format!("sha256-{}", Sha256Digest::of(policy_wasm()).hex()));
    assert_eq!(std::fs::read(&stored).expect("stored layer"), policy_wasm());

    // With the registry gone, the store serves the module; without the store, nothing does.
    drop(registry);
    assert_denies_like_the_builtin(&pinned.to_string(), &options);
    let error = pull_error(&pinned, &pki.options());
    assert!(
        matches!(&error, RemoteError::Net(NetError::Transport { method, .. }) if method == "GET"),
        "{error}"
    );
}

#[test]
fn oci_basic_authentication_is_answered_with_the_registry_credentials() {
    let pki = TestPki::new();
    let registry = TestRegistry::start(&pki, RegistryAuth::Basic);
    let with_password = |password: &str| SourceOptions {
        registry_credentials: HashMap::from([(
            registry.host(),
            RegistryCredentials {
                username: REGISTRY_USER.to_owned(),
                password: password.to_owned(),
            },
        )]),
        ..pki.options()
    };
    let reference = registry.reference("policies/trust:1.0");

    let anonymous = sources::push(
        &reference,
        policy_wasm(),
        &policy_metadata(),
        &pki.options(),
    )
    .expect_err("no credentials");
    assert_eq!(
        anonymous.to_string(),
        format!(
            "the registry {} did not authorize the request: it asks for credentials (Basic) and \
             none are configured for it",
            registry.host()
        )
    );
    let wrong = sources::push(
        &reference,
        policy_wasm(),
        &policy_metadata(),
        &with_password("wrong"),
    )
    .expect_err("wrong password");
    assert!(
        wrong.to_string().starts_with(&format!(
            "the registry {} did not authorize the request: it refused the credentials of \
             `{REGISTRY_USER}` for HEAD https://{}/v2/policies/trust/blobs/sha256:",
            registry.host(),
            registry.host()
        )),
        "{wrong}"
    );

    let options = with_password(REGISTRY_PASSWORD);
    let pinned = push_policy(&registry, "policies/trust:1.0", &options);
    assert_eq!(
        sources::pull(&pinned, &options).expect("pull"),
        policy_wasm()
    );
    assert!(matches!(
        pull_error(&pinned, &pki.options()),
        RemoteError::Unauthorized { .. }
    ));
}

#[test]
fn oci_bearer_challenge_is_answered_with_a_token_from_the_realm() {
    let pki = TestPki::new();
    // The token realm: s_server serves files named as the requests' paths and queries.
    let realm_root = pki.path("realm");
    std::fs::create_dir(&realm_root).expect("realm dir");
    let realm = start_file_server(&pki, &realm_root);
    let registry = TestRegistry::start(
        &pki,
        RegistryAuth::Bearer {
            realm: format!("https://127.0.0.1:{}/token", realm.port),
        },
    );
    let options = pki.options();
    let reference = registry.reference("policies/trust:1.0");

    // Before the realm has the token, its answer is not a token.
    let error = sources::push(&reference, policy_wasm(), &policy_metadata(), &options)
        .expect_err("no token yet");
    let token_url = format!(
        "https://127.0.0.1:{}/token?service={TOKEN_SERVICE}&scope=repository%3Apolicies%2Ftrust%3Apull",
        realm.port
    );
    assert!(
        error.to_string().starts_with(&format!(
            "the registry {} did not authorize the request: the token realm {token_url} \
             answered no token JSON: ",
            registry.host()
        )),
        "{error}"
    );

    std::fs::write(
        realm_root.join(format!(
            "token?service={TOKEN_SERVICE}&scope=repository%3Apolicies%2Ftrust%3Apull"
        )),
        r#"{"token":"test-token"}"#,
    )
    .expect("write token");
    let pinned = push_policy(&registry, "policies/trust:1.0", &options);
    assert_eq!(
        sources::pull(&pinned, &options).expect("pull"),
        policy_wasm()
    );
}

/// The https file server with the policy module, a large file and the test PKI.
fn https_fixture() -> (TestPki, PathBuf, Peer) {
    let pki = TestPki::new();
    let root = pki.path("www");
    std::fs::create_dir(&root).expect("www dir");
    std::fs::write(root.join("policy.wasm"), policy_wasm()).expect("write module");
    let server = start_file_server(&pki, &root);
    (pki, root, server)
}

fn https_source(server: &Peer, file: &str, sha256: Sha256Digest) -> String {
    format!(
        "https://127.0.0.1:{}/{file}#sha256={}",
        server.port,
        sha256.hex()
    )
}

#[test]
fn https_module_pinned_by_sha256_loads_and_evaluates_and_is_stored() {
    let (pki, _root, server) = https_fixture();
    let options = SourceOptions {
        store_dir: Some(pki.path("store")),
        ..pki.options()
    };
    let source = https_source(&server, "policy.wasm", Sha256Digest::of(policy_wasm()));
    assert_denies_like_the_builtin(&source, &options);

    drop(server);
    assert_denies_like_the_builtin(&source, &options);
    let report = evaluate_source(&source, &pki.options());
    assert!(
        source_error(&report).starts_with(&format!("policy `{source}` cannot be fetched: GET ")),
        "{}",
        source_error(&report)
    );
}

#[test]
fn https_module_with_another_sha256_is_refused_naming_both() {
    let (pki, _root, server) = https_fixture();
    let pinned = Sha256Digest::of(b"another module");
    let source = https_source(&server, "policy.wasm", pinned);
    let report = evaluate_source(&source, &pki.options());
    assert_eq!(
        source_error(&report),
        format!(
            "policy `{source}` cannot be fetched: the module at https://127.0.0.1:{}/policy.wasm \
             has the digest {}, but {pinned} was expected",
            server.port,
            Sha256Digest::of(policy_wasm())
        )
    );
    assert_eq!(report.decision, Decision::BlockedByError);
}

#[test]
fn https_body_over_the_size_cap_is_refused() {
    let (pki, root, server) = https_fixture();
    let large = vec![0_u8; 64 << 10];
    std::fs::write(root.join("large.wasm"), &large).expect("write large file");
    let options = SourceOptions {
        max_module_bytes: 16 << 10,
        ..pki.options()
    };
    let source = https_source(&server, "large.wasm", Sha256Digest::of(&large));
    let report = evaluate_source(&source, &options);
    assert_eq!(
        source_error(&report),
        format!(
            "policy `{source}` cannot be fetched: https://127.0.0.1:{}/large.wasm is larger \
             than 16384 bytes, the limit for a policy module",
            server.port
        )
    );
}

#[test]
fn https_server_of_an_untrusted_ca_is_refused() {
    let (_pki, _root, server) = https_fixture();
    let source = https_source(&server, "policy.wasm", Sha256Digest::of(policy_wasm()));
    let report = evaluate_source(&source, &SourceOptions::default());
    let error = source_error(&report);
    assert!(
        error.starts_with(&format!(
            "policy `{source}` cannot be fetched: GET https://127.0.0.1:{}/policy.wasm failed: ",
            server.port
        )) && error.contains("UnknownIssuer"),
        "{error}"
    );

    let missing_ca = SourceOptions {
        ca_file: Some(PathBuf::from("/nonexistent/ca.crt")),
        ..SourceOptions::default()
    };
    assert!(
        source_error(&evaluate_source(&source, &missing_ca)).starts_with(&format!(
            "policy `{source}` cannot be fetched: cannot use the CA file /nonexistent/ca.crt: "
        ))
    );
}

#[test]
fn unpinned_and_plain_http_urls_are_refused_in_policy_sets() {
    for (module, expected) in [
        (
            "https://127.0.0.1:1/policy.wasm",
            "module source `https://127.0.0.1:1/policy.wasm` is not pinned: end the URL with \
             `#sha256=HEX`",
        ),
        (
            "http://127.0.0.1:1/policy.wasm#sha256=00",
            "module source `http://127.0.0.1:1/policy.wasm#sha256=00` uses plain http; policy \
             modules are fetched over https only",
        ),
    ] {
        let error = PolicySet::from_text(
            &format!("policies:\n  - module: {module}\n"),
            PathBuf::new(),
        )
        .expect_err(module);
        assert!(error.to_string().contains(expected), "{error}");
    }
    assert!(matches!(
        format!("https://h/p.wasm#sha256={}", Sha256Digest::of(b"m").hex()).parse(),
        Ok(ModuleSource::Https { .. })
    ));
}

#[test]
fn folder_sources_become_one_policy_per_module() {
    let dir = tempfile::tempdir().expect("temp dir");
    let folder = dir.path().join("org");
    std::fs::create_dir(&folder).expect("folder");
    std::fs::write(folder.join("b-trust.wasm"), policy_wasm()).expect("write");
    std::fs::write(folder.join("a-broken.wasm"), b"not wasm").expect("write");
    let set_path = dir.path().join("policies.yaml");
    std::fs::write(
        &set_path,
        "policies:\n  - module: org\n    on-error: allow\n",
    )
    .expect("write");
    let set = PolicySet::from_file(&set_path).expect("parses");
    let report = set
        .prepare_with_sources(host(), &[], &SourceOptions::default())
        .evaluate(&denied_fixture().review);
    let sources: Vec<&str> = report.policies.iter().map(|p| p.source.as_str()).collect();
    let separator = std::path::MAIN_SEPARATOR;
    assert_eq!(
        sources,
        [
            format!("org{separator}a-broken.wasm"),
            format!("org{separator}b-trust.wasm")
        ]
    );
    assert!(matches!(
        report.policies[0].outcome,
        Some(PolicyOutcome::Error(_))
    ));
    assert!(matches!(
        report.policies[1].outcome,
        Some(PolicyOutcome::Denied { .. })
    ));
    assert_eq!(report.decision, Decision::Denied);
}

#[test]
fn plain_http_registries_are_used_only_with_insecure_http_and_refused_naming_the_flag() {
    let pki = TestPki::new();
    let registry = DockerRegistry::start_plain_http(pki.dir.path());
    let reference: OciReference = format!("oci://{}/policies/plain:1.0", registry.host())
        .parse()
        .expect("reference");

    let refused = sources::push(
        &reference,
        policy_wasm(),
        &policy_metadata(),
        &pki.options(),
    )
    .expect_err("TLS to a plain-HTTP registry");
    assert!(
        refused.to_string().starts_with(&format!(
            "HEAD https://{}/v2/policies/plain/blobs/sha256:",
            registry.host()
        )) && refused.to_string().ends_with(
            "failed: the server answers in plain HTTP, not TLS; pass --insecure-http to use it \
             without TLS (only on a network you trust)"
        ),
        "{refused}"
    );

    let insecure = SourceOptions {
        insecure_http: true,
        ..pki.options()
    };
    let digest = sources::push(&reference, policy_wasm(), &policy_metadata(), &insecure)
        .expect("pushed over plain http");
    let pinned = reference.pinned(digest);
    assert_eq!(
        sources::pull(&pinned, &insecure).expect("pulled over plain http"),
        policy_wasm()
    );
    assert!(matches!(
        pull_error(&pinned, &pki.options()),
        RemoteError::Net(NetError::ServerSpeaksPlainHttp { .. })
    ));
}
