//! Disconnected sites: an OCI-pinned policy in a private registry (Debian's docker-registry with
//! token authentication, a token service signing JWTs with a test key, a private CA given by
//! `--ca-file` or `SSL_CERT_FILE`, credentials from `--registry-username`/`--password-stdin`,
//! Docker's `config.json` or a credential helper) is fetched once into the store, or saved in
//! an air-gap bundle; after the registry is stopped, and in a network namespace with only
//! loopback (`unshare -rn`), the commands still succeed from the store or the bundle, and
//! `strace` counts the network connections each one attempts.

use std::path::{Path, PathBuf};
use std::process::Command;

use acr_tests::peers::{DockerRegistry, Peer, free_port};
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

    /// A folder holding only the CA, as skopeo's `--*-cert-dir` wants it.
    fn skopeo_cert_dir(&self) -> PathBuf {
        let dir = self.path("skopeo-certs");
        std::fs::create_dir_all(&dir).expect("cert dir");
        std::fs::copy(&self.ca, dir.join("ca.crt")).expect("copy CA");
        dir
    }

    /// Pushes a small image to `registry` (with the site's credentials when `login`) as
    /// `repository:tag` and returns the manifest digest skopeo reports for what it pushed.
    fn push_image(&self, registry: &str, repository_and_tag: &str, login: bool) -> String {
        let name = repository_and_tag.replace(['/', ':'], "-");
        let layout = self.path(&format!("image-{name}"));
        oci_image_dir(&layout, repository_and_tag);
        let digest_file = self.path(&format!("digest-{name}"));
        let mut skopeo = Command::new(require_tool("skopeo"));
        skopeo
            .args(["copy", "--digestfile"])
            .arg(&digest_file)
            .arg("--dest-cert-dir")
            .arg(self.skopeo_cert_dir())
            .env("SSL_CERT_FILE", &self.ca);
        if login {
            skopeo.args(["--dest-creds", &format!("{USER}:{PASSWORD}")]);
        }
        skopeo
            .arg(format!("dir:{}", layout.display()))
            .arg(format!("docker://{registry}/{repository_and_tag}"));
        run_with_stdin(&mut skopeo, b"").success();
        std::fs::read_to_string(&digest_file)
            .expect("skopeo's digest file")
            .trim()
            .to_owned()
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

/// The connected registry's and the trust DaemonSet's images, as a bundle without cert-manager
/// lists them, under their registry's name.
const MCR_IMAGES: [&str; 2] = ["acr/connected-registry:0.9.0", "azurelinux/busybox:1.36"];

fn sha256(bytes: &[u8]) -> String {
    acr_core::policy::sources::Sha256Digest::of(bytes).to_string()
}

/// Writes a one-layer OCI image (its content names `label`) in skopeo's `dir:` layout at
/// `dir`.
fn oci_image_dir(dir: &Path, label: &str) {
    std::fs::create_dir_all(dir).expect("image dir");
    let content = dir.join("content");
    std::fs::create_dir_all(&content).expect("content dir");
    std::fs::write(content.join("label"), label).expect("write label");
    let tar = dir.join("layer.tar");
    run_with_stdin(
        Command::new(require_tool("tar"))
            .args(["--mtime=@0", "--owner=0", "--group=0", "-cf"])
            .arg(&tar)
            .arg("-C")
            .arg(&content)
            .arg("label"),
        b"",
    )
    .success();
    let layer = std::fs::read(&tar).expect("layer");
    let config = serde_json::to_vec(&serde_json::json!({
        "architecture": "amd64",
        "os": "linux",
        "rootfs": {"type": "layers", "diff_ids": [sha256(&layer)]},
    }))
    .expect("config");
    let manifest = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            "digest": sha256(&config),
            "size": config.len(),
        },
        "layers": [{
            "mediaType": "application/vnd.oci.image.layer.v1.tar",
            "digest": sha256(&layer),
            "size": layer.len(),
        }],
    }))
    .expect("manifest");
    for blob in [&layer, &config] {
        let hex = sha256(blob).trim_start_matches("sha256:").to_owned();
        std::fs::write(dir.join(hex), blob).expect("write blob");
    }
    std::fs::write(dir.join("manifest.json"), &manifest).expect("write manifest");
    std::fs::write(dir.join("version"), "Directory Transport Version: 1.1\n").expect("version");
    std::fs::remove_file(&tar).expect("remove tar");
    std::fs::remove_dir_all(&content).expect("remove content");
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
    // The site's registry mirrors mcr.microsoft.com: the images are pushed there, behind its
    // token authentication and private CA.
    let digests: Vec<String> = MCR_IMAGES
        .iter()
        .map(|image| site.push_image(&site.host, image, true))
        .collect();
    let bundle = site.path("bundle");
    let save = |bundle: &Path, mirror: Option<&str>| {
        let mut args = vec![
            "bundle".to_owned(),
            "save".to_owned(),
            "--out".to_owned(),
            path_text(bundle).to_owned(),
            "--no-cert-manager".to_owned(),
            "--ca-file".to_owned(),
            path_text(&site.ca).to_owned(),
        ];
        if let Some(mirror) = mirror {
            args.extend(["--policy-set".to_owned(), path_text(&set).to_owned()]);
            args.extend([
                "--registry-mirror".to_owned(),
                format!("mcr.microsoft.com={mirror}"),
            ]);
        }
        args
    };

    // Without a mirror and without network (and without a policy set, whose module the new
    // network namespace could not reach either), nothing is saved, and the error names the
    // image and the flag.
    let args = save(&site.path("unsaved"), None);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (unsaved, attempts) =
        run_without_network(&site.command("save-cache"), &args, site.dir.path());
    assert_eq!(unsaved.code, Some(1), "{unsaved:?}");
    assert!(
        unsaved.stderr.contains(
            "cannot resolve the digest of the image \
             mcr.microsoft.com/acr/connected-registry:0.9.0: images.txt pins every image by \
             digest; if this machine reaches mcr.microsoft.com only through a mirror, give \
             --registry-mirror mcr.microsoft.com=HOST[:PORT]"
        ),
        "{unsaved:?}"
    );
    assert!(!site.path("unsaved").join("images.txt").exists());
    assert!(
        attempts >= 1,
        "the digest lookup must have tried mcr.microsoft.com"
    );

    let args = save(&bundle, Some(&site.host));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let saved = run(site.command("save-cache"), &args).success();
    assert!(saved.contains("images.txt"), "{saved}");
    assert!(!saved.contains(PASSWORD), "{saved}");
    let images = std::fs::read_to_string(bundle.join("images.txt")).expect("images.txt");
    // Each line: the image pinned by the digest the registry resolved, then its name and tag.
    let expected: String = MCR_IMAGES
        .iter()
        .zip(&digests)
        .map(|(image, digest)| {
            let name = image.rsplit_once(':').map_or(*image, |(name, _)| name);
            format!("mcr.microsoft.com/{name}@{digest} mcr.microsoft.com/{image}\n")
        })
        .collect();
    assert_eq!(images, expected);
    let manifest: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(bundle.join("bundle.json")).expect("bundle.json"),
    )
    .expect("JSON");
    assert_eq!(manifest["format"], 2);
    assert_eq!(manifest["images"][0]["digest"], digests[0].as_str());

    // skopeo copies what each line's first reference pins (here from the mirror that holds it).
    for (number, line) in images.lines().enumerate() {
        let pinned = line.split(' ').next().unwrap_or_default();
        let from_mirror = pinned.replacen("mcr.microsoft.com", &site.host, 1);
        let copy = site.path(&format!("copied-{number}"));
        run_with_stdin(
            Command::new(require_tool("skopeo"))
                .args(["copy", "--src-cert-dir"])
                .arg(site.skopeo_cert_dir())
                .args(["--src-creds", &format!("{USER}:{PASSWORD}")])
                .env("SSL_CERT_FILE", &site.ca)
                .arg(format!("docker://{from_mirror}"))
                .arg(format!("dir:{}", copy.display())),
            b"",
        )
        .success();
        let copied = std::fs::read(copy.join("manifest.json")).expect("copied manifest");
        assert!(pinned.ends_with(&sha256(&copied)), "{line}");
    }
    // A site that overrides the images (container.image, --trust-image) saves those instead.
    let own_trust = "site/busybox:1.36";
    let own_digest = site.push_image(&site.host, own_trust, true);
    let overridden = site.path("overridden");
    let mut args = save(&overridden, Some(&site.host));
    args.extend([
        "--trust-image".to_owned(),
        format!("mcr.microsoft.com/{own_trust}"),
    ]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    run(site.command("save-cache"), &args).success();
    let images = std::fs::read_to_string(overridden.join("images.txt")).expect("images.txt");
    assert!(
        images.contains(&format!(
            "mcr.microsoft.com/site/busybox@{own_digest} mcr.microsoft.com/{own_trust}\n"
        )),
        "{images}"
    );
    assert!(!images.contains(MCR_IMAGES[1]), "{images}");

    let (verified, attempts) = run_without_network(
        &site.command("verify-cache"),
        &["bundle", "verify", path_text(&bundle)],
        site.dir.path(),
    );
    assert_eq!(verified.code, Some(0), "{verified:?}");
    assert_eq!(attempts, 0, "network attempts of bundle verify");
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

    // images.txt listing an image by tag only is refused, even with bundle.json's checksum of
    // it updated to match.
    std::fs::remove_file(&entry).expect("remove the tampered entry");
    let by_tag = "mcr.microsoft.com/acr/connected-registry:0.9.0\n";
    std::fs::write(bundle.join("images.txt"), by_tag).expect("rewrite images.txt");
    let manifest_path = bundle.join("bundle.json");
    let mut manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&manifest_path).expect("read"))
            .expect("JSON");
    let files = manifest["files"].as_array_mut().expect("files");
    files.retain(|file| {
        !file["path"]
            .as_str()
            .is_some_and(|path| path.ends_with(name))
    });
    for file in files.iter_mut() {
        if file["path"] == "images.txt" {
            file["sha256"] = sha256(by_tag.as_bytes())
                .trim_start_matches("sha256:")
                .into();
        }
    }
    std::fs::write(&manifest_path, manifest.to_string()).expect("write bundle.json");
    let by_tag = run(
        site.command("verify-cache"),
        &["bundle", "verify", path_text(&bundle)],
    );
    assert_eq!(by_tag.code, Some(1), "{by_tag:?}");
    assert!(
        by_tag.stderr.contains(
            "images.txt line 1: `mcr.microsoft.com/acr/connected-registry:0.9.0` is not \
             `REGISTRY/REPOSITORY@sha256:HEX REGISTRY/REPOSITORY:TAG`"
        ),
        "{by_tag:?}"
    );
}

#[test]
fn a_second_bundle_save_takes_policy_modules_from_the_users_store_with_their_registry_stopped() {
    let mut site = Site::start();
    let pinned = site.push_module();
    let set = site.path("set.yaml");
    std::fs::write(&set, format!("policies:\n  - module: {pinned}\n")).expect("write set");
    site.docker_login();
    // The images come from a mirror of mcr.microsoft.com without authentication, which stays up.
    std::fs::create_dir(site.path("mirror")).expect("mirror dir");
    let mirror = DockerRegistry::start(
        &site.path("mirror"),
        &site.path("certs/tls.crt"),
        &site.path("certs/tls.key"),
        "",
    );
    for image in MCR_IMAGES {
        site.push_image(&mirror.host(), image, false);
    }
    // policy check fills the user's store.
    let check = policy_check(&set);
    let check: Vec<&str> = check.iter().map(String::as_str).collect();
    let checked = run(
        site.command("user"),
        &[&check[..], &["--ca-file", path_text(&site.ca)]].concat(),
    );
    assert_eq!(decision(&checked), "allowed-with-warnings", "{checked:?}");

    drop(site.registry.take());
    let save = |cache: &str, bundle: &Path| {
        run(
            site.command(cache),
            &[
                "bundle",
                "save",
                "--out",
                path_text(bundle),
                "--policy-set",
                path_text(&set),
                "--no-cert-manager",
                "--ca-file",
                path_text(&site.ca),
                "--registry-mirror",
                &format!("mcr.microsoft.com={}", mirror.host()),
            ],
        )
    };
    let bundle = site.path("bundle");
    save("user", &bundle).success();
    let user_store: Vec<_> = std::fs::read_dir(site.path("user/kubectl-acr/store"))
        .expect("user store")
        .flatten()
        .map(|entry| entry.file_name())
        .collect();
    let bundle_store: Vec<_> = std::fs::read_dir(bundle.join("store"))
        .expect("bundle store")
        .flatten()
        .map(|entry| entry.file_name())
        .collect();
    assert_eq!(
        bundle_store.len(),
        2,
        "the manifest and the module: {bundle_store:?}"
    );
    assert!(bundle_store.iter().all(|name| user_store.contains(name)));
    run(
        site.command("user"),
        &["bundle", "verify", path_text(&bundle)],
    )
    .success();

    // Without the user's store the same save needs the stopped registry, and fails naming the
    // module.
    let unsaved = save("empty", &site.path("unsaved"));
    assert_eq!(unsaved.code, Some(1), "{unsaved:?}");
    assert!(
        unsaved
            .stderr
            .contains(&format!("policy `{pinned}` cannot be saved in the bundle")),
        "{unsaved:?}"
    );

    // The bundle serves the check with no network.
    let mut with_bundle = check.clone();
    with_bundle.extend(["--bundle", path_text(&bundle)]);
    let (offline, attempts) =
        run_without_network(&site.command("fresh"), &with_bundle, site.dir.path());
    assert_eq!(decision(&offline), "allowed-with-warnings", "{offline:?}");
    assert_eq!(attempts, 0);
}

/// cert-manager's release manifests through the store and a bundle, with a release file served
/// by `openssl s_server -WWW` (the pinned release itself can only come from GitHub): downloaded
/// once with the private CA, checked against its SHA-256 and kept in the user's store; saved
/// into a bundle from that store with the server stopped, with the images of its Deployments
/// pinned by digest; then read from the bundle alone.
#[test]
fn a_cert_manager_release_goes_through_the_store_into_a_bundle_and_is_read_from_it_alone() {
    use acr_core::bundle::{self, RegistryMirrors, SaveRequest};
    use acr_core::cluster::{CertManagerError, CertManagerManifests, CertManagerRelease};
    use acr_core::policy::sources::{Sha256Digest, SourceOptions};

    let site = Site::start();
    let www = site.path("www");
    std::fs::create_dir(&www).expect("www");
    let release_text = std::fs::read(acr_tests::fixture("cluster/cert-manager-mini.yaml"))
        .expect("release fixture");
    std::fs::write(www.join("cert-manager.yaml"), &release_text).expect("write release");
    let port = free_port();
    let mut openssl = Command::new(require_tool("openssl"));
    openssl
        .current_dir(&www)
        .args([
            "s_server",
            "-quiet",
            "-WWW",
            "-accept",
            &port.to_string(),
            "-cert",
        ])
        .arg(site.path("certs/tls.crt"))
        .arg("-key")
        .arg(site.path("certs/tls.key"));
    let server = Peer::start(openssl, port, site.path("openssl.log"));
    let release = CertManagerRelease {
        url: format!("https://127.0.0.1:{port}/cert-manager.yaml"),
        sha256: Sha256Digest::of(&release_text),
    };
    let user_store = site.path("user-store");
    let online = SourceOptions {
        store_dir: Some(user_store.clone()),
        ca_file: Some(site.ca.clone()),
        ..SourceOptions::default()
    };

    // A release whose bytes are not the pinned ones is refused, and not kept.
    let wrong_pin = CertManagerRelease {
        sha256: Sha256Digest::of(b"another release"),
        ..release.clone()
    };
    let refused = CertManagerManifests::release(&wrong_pin, &online).expect_err("mismatch");
    assert!(
        matches!(refused, CertManagerError::DigestMismatch { .. }),
        "{refused}"
    );
    assert!(
        !user_store
            .join(format!("sha256-{}", wrong_pin.sha256.hex()))
            .exists()
    );

    let downloaded = CertManagerManifests::release(&release, &online).expect("downloaded");
    assert_eq!(downloaded.sha256, release.sha256.hex());
    let kept = user_store.join(format!("sha256-{}", release.sha256.hex()));
    assert_eq!(
        std::fs::read(&kept).expect("kept in the store"),
        release_text
    );
    drop(server);

    // The images the release runs, and the connected registry's, from a mirror.
    std::fs::create_dir(site.path("mirror")).expect("mirror dir");
    let mirror = DockerRegistry::start(
        &site.path("mirror"),
        &site.path("certs/tls.crt"),
        &site.path("certs/tls.key"),
        "",
    );
    for image in MCR_IMAGES {
        site.push_image(&mirror.host(), image, false);
    }
    let webhook = site.push_image(
        &mirror.host(),
        "jetstack/cert-manager-webhook:v1.21.1",
        false,
    );

    let bundle_dir = site.path("bundle");
    acr_core::fsio::create_private_dir(&bundle_dir).expect("bundle dir");
    let mirrors = [
        format!("mcr.microsoft.com={}", mirror.host()),
        format!("quay.io={}", mirror.host()),
    ];
    let saved = bundle::save(&SaveRequest {
        out: bundle_dir.clone(),
        policy_set: None,
        cert_manager: Some(release.clone()),
        sources: SourceOptions {
            seed_store_dir: Some(user_store.clone()),
            ca_file: Some(site.ca.clone()),
            ..SourceOptions::default()
        },
        registry_mirrors: RegistryMirrors::parse(mirrors.iter().map(String::as_str))
            .expect("mirrors"),
        registry_image: acr_core::settings::DEFAULT_REGISTRY_IMAGE.to_owned(),
        trust_image: acr_core::plan::DEFAULT_TRUST_IMAGE.to_owned(),
    })
    .expect("saved with the release server stopped");
    assert!(
        saved.images.iter().any(|image| image.image
            == "quay.io/jetstack/cert-manager-webhook:v1.21.1"
            && image.digest == webhook),
        "{saved:?}"
    );
    assert_eq!(bundle::verify(&bundle_dir).expect("verifies"), saved);

    // From the bundle alone: nothing is fetched, and what it lacks is an error.
    let from_bundle =
        CertManagerManifests::release(&release, &bundle::offline_sources(&bundle_dir))
            .expect("read from the bundle");
    assert_eq!(from_bundle.objects, downloaded.objects);
    let missing = CertManagerManifests::release(&wrong_pin, &bundle::offline_sources(&bundle_dir))
        .expect_err("not in the bundle");
    assert!(
        matches!(missing, CertManagerError::NotInBundle { .. }),
        "{missing}"
    );
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
