//! Disconnected sites: an OCI-pinned policy in a private registry (Debian's docker-registry with
//! token authentication, a token service signing JWTs with a test key, a private CA given by
//! `--ca-file` or `SSL_CERT_FILE`, credentials from `--registry-username`/`--password-stdin`,
//! Docker's `config.json` or a credential helper) is fetched once into the store, or saved in
//! an air-gap bundle; after the registry is stopped, and in a network namespace with only
//! loopback (`unshare -rn`), the commands still succeed from the store or the bundle, and
//! `strace` counts the network connections each one attempts.

use std::path::{Path, PathBuf};
use std::process::Command;

use acr_tests::peers::DockerRegistry;
use acr_tests::token_server::{TokenServer, TokenService};
use acr_tests::{Run, bin_path, path_text, require_tool, run_with_stdin};
use base64::Engine as _;

const USER: &str = "offline-user";
const PASSWORD: &str = "offline-password-0815";
const SERVICE: &str = "offline-registry";
const ISSUER: &str = "offline-token-issuer";
const MINIMAL_WAT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../acr-policy/tests/fixtures/abi-doc-minimal.wat"
);

/// `kubectl-acr` with its caches and store under `cache_home`, Docker's configuration in
/// `docker_config`, and no proxy or CA from the test's environment.
fn command(cache_home: &Path, docker_config: &Path) -> Command {
    let mut command = Command::new(bin_path("kubectl-acr"));
    command
        .env("XDG_CACHE_HOME", cache_home)
        .env("DOCKER_CONFIG", docker_config)
        .env_remove("KUBECONFIG")
        .env_remove("SSL_CERT_FILE")
        .env_remove("ACR_POLICY_CA_FILE");
    for proxy in [
        "HTTPS_PROXY",
        "https_proxy",
        "HTTP_PROXY",
        "http_proxy",
        "ALL_PROXY",
    ] {
        command.env_remove(proxy);
    }
    command
}

fn run(mut command: Command, args: &[&str]) -> Run {
    run_with_stdin(command.args(args), b"")
}

/// Runs `command ARGS` in a new network namespace holding only loopback, under `strace`, and
/// returns the run and the number of `connect` calls to an IPv4 or IPv6 address it made.
fn run_without_network(command: &Command, args: &[&str], dir: &Path) -> (Run, usize) {
    static TRACES: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let number = TRACES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let trace = dir.join(format!("strace-{number}-{}.log", args[0]));
    let mut wrapped = Command::new(require_tool("unshare"));
    wrapped
        .args(["-rn", "--"])
        .arg(require_tool("strace"))
        .args(["-f", "-qq", "-e", "trace=connect", "-o"])
        .arg(&trace)
        .arg(command.get_program())
        .args(args);
    for (name, value) in command.get_envs() {
        match value {
            Some(value) => wrapped.env(name, value),
            None => wrapped.env_remove(name),
        };
    }
    let run = run_with_stdin(&mut wrapped, b"");
    let log = std::fs::read_to_string(&trace).unwrap_or_default();
    let attempts = log.lines().filter(|line| line.contains("AF_INET")).count();
    (run, attempts)
}

fn policy_check(set: &Path) -> Vec<String> {
    [
        "policy",
        "check",
        "--policy-set",
        path_text(set),
        "--config",
        "service.clusterIP=10.0.0.1",
        "-o",
        "json",
    ]
    .map(str::to_owned)
    .to_vec()
}

fn decision(run: &Run) -> String {
    let report: serde_json::Value =
        serde_json::from_str(&run.stdout).unwrap_or_else(|error| panic!("{error}: {run:?}"));
    report["decision"].as_str().unwrap_or_default().to_owned()
}

struct Site {
    dir: tempfile::TempDir,
    ca: PathBuf,
    registry: Option<DockerRegistry>,
    host: String,
    tokens: TokenServer,
    docker_config: PathBuf,
}

impl Site {
    fn start() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let certs = dir.path().join("certs");
        run(
            command(dir.path(), dir.path()),
            &[
                "cert",
                "generate",
                "--ip",
                "127.0.0.1",
                "--out-dir",
                path_text(&certs),
            ],
        )
        .success();
        let read = |name: &str| std::fs::read_to_string(certs.join(name)).expect("cert file");
        let tokens = TokenServer::start(
            &read("tls.crt"),
            &read("tls.key"),
            TokenService {
                issuer: ISSUER.to_owned(),
                username: USER.to_owned(),
                password: PASSWORD.to_owned(),
                default_grant: ("registry".to_owned(), "catalog".to_owned(), Vec::new()),
            },
        );
        let auth = format!(
            "auth:\n  token:\n    realm: {}\n    service: {SERVICE}\n    issuer: {ISSUER}\n    \
             rootcertbundle: {}\n",
            tokens.realm(),
            certs.join("ca.crt").display()
        );
        let registry = DockerRegistry::start(
            dir.path(),
            &certs.join("tls.crt"),
            &certs.join("tls.key"),
            &auth,
        );
        let docker_config = dir.path().join("docker");
        std::fs::create_dir(&docker_config).expect("docker config dir");
        Self {
            ca: certs.join("ca.crt"),
            dir,
            host: registry.host(),
            registry: Some(registry),
            tokens,
            docker_config,
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn command(&self, cache: &str) -> Command {
        command(&self.path(cache), &self.docker_config)
    }

    /// Pushes the minimal module with `--registry-username`/`--password-stdin` and returns the
    /// pinned reference.
    fn push_module(&self) -> String {
        let module = self.path("minimal.wasm");
        std::fs::write(&module, wat::parse_file(MINIMAL_WAT).expect("WAT")).expect("write");
        let tagged = format!("oci://{}/policies/minimal:1.0.0", self.host);
        let mut push = self.command("push-cache");
        push.args([
            "policy",
            "push",
            path_text(&module),
            &tagged,
            "--ca-file",
            path_text(&self.ca),
            "--registry-username",
            USER,
            "--password-stdin",
        ]);
        let pushed = run_with_stdin(&mut push, PASSWORD.as_bytes());
        assert!(!pushed.stdout.contains(PASSWORD) && !pushed.stderr.contains(PASSWORD));
        pushed.success().trim_end().to_owned()
    }

    /// Docker's `config.json` with the registry's credentials, as `docker login` writes it.
    fn docker_login(&self) {
        let auth = base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{PASSWORD}"));
        std::fs::write(
            self.docker_config.join("config.json"),
            format!(r#"{{"auths":{{"{}":{{"auth":"{auth}"}}}}}}"#, self.host),
        )
        .expect("write config.json");
    }
}

#[test]
fn a_pinned_policy_from_a_token_auth_registry_is_fetched_once_and_then_works_offline() {
    let mut site = Site::start();
    let pinned = site.push_module();
    let set = site.path("set.yaml");
    std::fs::write(&set, format!("policies:\n  - module: {pinned}\n")).expect("write set");
    let check = policy_check(&set);
    let check: Vec<&str> = check.iter().map(String::as_str).collect();

    // Without credentials the registry refuses, and the error says so.
    let refused = run(
        site.command("anonymous"),
        &[&check[..], &["--ca-file", path_text(&site.ca)]].concat(),
    );
    assert_eq!(refused.code, Some(1), "{refused:?}");
    assert!(
        format!("{}{}", refused.stdout, refused.stderr).contains("did not authorize the request"),
        "{refused:?}"
    );

    // With Docker's credentials: the private CA through SSL_CERT_FILE, then through --ca-file.
    site.docker_login();
    let mut with_env_ca = site.command("env-ca");
    with_env_ca.env("SSL_CERT_FILE", &site.ca);
    let first = run(with_env_ca, &check);
    assert_eq!(decision(&first), "allowed-with-warnings", "{first:?}");
    let second = run(
        site.command("cache"),
        &[&check[..], &["--ca-file", path_text(&site.ca)]].concat(),
    );
    assert_eq!(decision(&second), "allowed-with-warnings", "{second:?}");
    let token_requests = site.tokens.requests();
    assert!(
        token_requests.iter().any(|request| request
            .target
            .contains("scope=repository%3Apolicies%2Fminimal%3Apull")),
        "{token_requests:?}"
    );

    // The registry stops: the store serves the pinned module, with no request at all.
    let requests_before = site.tokens.requests().len();
    drop(site.registry.take());
    let stopped = run(site.command("cache"), &check);
    assert_eq!(decision(&stopped), "allowed-with-warnings", "{stopped:?}");
    assert_eq!(site.tokens.requests().len(), requests_before);

    // No network at all: the same, and not one connection attempted.
    let (offline, attempts) = run_without_network(&site.command("cache"), &check, site.dir.path());
    assert_eq!(decision(&offline), "allowed-with-warnings", "{offline:?}");
    assert_eq!(
        attempts, 0,
        "network attempts of policy check from the store"
    );

    // A fresh cache has no copy: the check fails closed, naming the registry it tried.
    let (fresh, attempts) = run_without_network(&site.command("fresh"), &check, site.dir.path());
    assert_eq!(fresh.code, Some(1), "{fresh:?}");
    assert!(
        format!("{}{}", fresh.stdout, fresh.stderr).contains("cannot be fetched"),
        "{fresh:?}"
    );
    assert!(attempts >= 1, "the fetch must have tried the registry");
}

#[test]
fn commands_that_need_no_network_attempt_none() {
    let dir = tempfile::tempdir().expect("tempdir");
    let base = command(dir.path(), dir.path());
    let certs = dir.path().join("certs");
    let commands: [Vec<&str>; 4] = [
        vec!["policy", "list", "-o", "json"],
        vec![
            "policy",
            "check",
            "--config",
            "service.clusterIP=10.0.0.1",
            "--config",
            "cert-manager.install=false",
        ],
        vec![
            "render",
            "--config",
            "service.clusterIP=10.0.0.1",
            "--config",
            "cert-manager.install=false",
        ],
        vec![
            "cert",
            "generate",
            "--ip",
            "10.0.0.1",
            "--out-dir",
            path_text(&certs),
        ],
    ];
    for args in commands {
        let (run, attempts) = run_without_network(&base, &args, dir.path());
        // Allowed or denied by a policy: either way the command ran to its end.
        assert!(matches!(run.code, Some(0 | 3)), "{args:?}: {run:?}");
        assert_eq!(attempts, 0, "{args:?} tried the network");
    }
}

#[test]
fn a_bundle_saved_online_serves_policy_check_and_render_with_no_network_and_verifies() {
    let mut site = Site::start();
    let pinned = site.push_module();
    let set = site.path("set.yaml");
    std::fs::write(&set, format!("policies:\n  - module: {pinned}\n")).expect("write set");
    site.docker_login();
    let bundle = site.path("bundle");
    let saved = run(
        site.command("save-cache"),
        &[
            "bundle",
            "save",
            "--out",
            path_text(&bundle),
            "--policy-set",
            path_text(&set),
            "--no-cert-manager",
            "--ca-file",
            path_text(&site.ca),
        ],
    )
    .success();
    assert!(saved.contains("images.txt"), "{saved}");
    let images = std::fs::read_to_string(bundle.join("images.txt")).expect("images.txt");
    assert!(
        images.contains("mcr.microsoft.com/acr/connected-registry:0.9.0")
            && images.contains("mcr.microsoft.com/azurelinux/busybox:"),
        "the registry and the trust DaemonSet's images: {images}"
    );
    run(
        site.command("verify-cache"),
        &["bundle", "verify", path_text(&bundle)],
    )
    .success();
    drop(site.registry.take());

    let check = policy_check(&set);
    let mut with_bundle: Vec<&str> = check.iter().map(String::as_str).collect();
    with_bundle.extend(["--bundle", path_text(&bundle)]);
    let (offline, attempts) =
        run_without_network(&site.command("fresh"), &with_bundle, site.dir.path());
    assert_eq!(decision(&offline), "allowed-with-warnings", "{offline:?}");
    assert_eq!(attempts, 0, "network attempts of policy check --bundle");

    let render = [
        "render",
        "--policy-set",
        path_text(&set),
        "--bundle",
        path_text(&bundle),
        "--config",
        "service.clusterIP=10.0.0.1",
        "--config",
        "cert-manager.install=false",
        "--config-protected",
        "connectionString=ConnectedRegistryName=edge;SyncTokenName=edge-sync;\
         SyncTokenPassword=s3cret;ParentGatewayEndpoint=contoso.eastus.data.azurecr.io;\
         ParentEndpointProtocol=https",
    ];
    let (rendered, attempts) =
        run_without_network(&site.command("fresh"), &render, site.dir.path());
    assert_eq!(rendered.code, Some(0), "{rendered:?}");
    assert!(rendered.stdout.contains("kind: "), "{rendered:?}");
    assert_eq!(attempts, 0, "network attempts of render --bundle");

    // A set naming a module the bundle lacks is refused without trying the network.
    let other = site.path("other.yaml");
    std::fs::write(
        &other,
        format!(
            "policies:\n  - module: oci://{}/policies/other@sha256:{}\n",
            site.host,
            "0".repeat(64)
        ),
    )
    .expect("write set");
    let (missing, attempts) = run_without_network(
        &site.command("fresh"),
        &[
            "policy",
            "check",
            "--policy-set",
            path_text(&other),
            "--bundle",
            path_text(&bundle),
            "--config",
            "service.clusterIP=10.0.0.1",
        ],
        site.dir.path(),
    );
    assert_eq!(missing.code, Some(1), "{missing:?}");
    assert!(
        missing.stdout.contains("nothing is fetched with --bundle"),
        "{missing:?}"
    );
    assert_eq!(attempts, 0);

    // A changed file fails verification, named.
    let entry = std::fs::read_dir(bundle.join("store"))
        .expect("store")
        .flatten()
        .next()
        .expect("an entry")
        .path();
    std::fs::write(&entry, b"tampered").expect("tamper");
    let tampered = run(
        site.command("verify-cache"),
        &["bundle", "verify", path_text(&bundle)],
    );
    assert_eq!(tampered.code, Some(1), "{tampered:?}");
    let name = entry
        .file_name()
        .and_then(|name| name.to_str())
        .unwrap_or_default();
    assert!(tampered.stderr.contains(name), "{tampered:?}");
}

#[test]
fn a_docker_credential_helper_gives_the_registry_login() {
    let site = Site::start();
    let pinned = site.push_module();
    let set = site.path("set.yaml");
    std::fs::write(&set, format!("policies:\n  - module: {pinned}\n")).expect("write set");
    // A credential helper as Docker runs them: the registry on stdin, JSON on stdout.
    let helpers = site.path("helpers");
    std::fs::create_dir(&helpers).expect("helpers dir");
    let helper = helpers.join("docker-credential-acrtest");
    std::fs::write(
        &helper,
        format!(
            "#!/bin/sh\n[ \"$1\" = get ] || exit 1\nread registry\n\
             [ \"$registry\" = \"{host}\" ] || {{ echo 'credentials not found in native keychain'; exit 1; }}\n\
             printf '{{\"ServerURL\":\"%s\",\"Username\":\"{USER}\",\"Secret\":\"{PASSWORD}\"}}' \"$registry\"\n",
            host = site.host
        ),
    )
    .expect("write helper");
    let mut permissions = std::fs::metadata(&helper).expect("helper").permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut permissions, 0o755);
    std::fs::set_permissions(&helper, permissions).expect("chmod");
    std::fs::write(
        site.docker_config.join("config.json"),
        format!(r#"{{"credHelpers":{{"{}":"acrtest"}}}}"#, site.host),
    )
    .expect("write config.json");
    let path = format!(
        "{}:{}",
        helpers.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let check = policy_check(&set);
    let mut args: Vec<&str> = check.iter().map(String::as_str).collect();
    args.extend(["--ca-file", path_text(&site.ca)]);
    let mut command = site.command("helper-cache");
    command.env("PATH", &path);
    let run = run(command, &args);
    assert_eq!(decision(&run), "allowed-with-warnings", "{run:?}");
    assert!(!run.stdout.contains(PASSWORD) && !run.stderr.contains(PASSWORD));
}
