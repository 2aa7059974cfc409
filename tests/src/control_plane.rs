//! A disposable Kubernetes control plane on loopback, started the way controller-runtime's
//! envtest starts one: `etcd`, `kube-apiserver` and (when present) `kube-controller-manager`
//! and `kube-scheduler` from the folder `KUBEBUILDER_ASSETS` names, on free ports, with a PKI
//! of its own and a kubeconfig, stopped by pid when it is dropped (and by a watchdog when the
//! test process dies first).
//!
//! The kubeconfig has three contexts: `admin` (client certificate, `system:masters`),
//! `admin-token` (a static bearer token, `system:masters`) and `limited` (a token for user
//! [`LIMITED_USER`], who has no rights until a test binds a Role to it).

use crate::fake_nodes::{FakeNodes, NamespaceBehaviour};
use base64::Engine as _;
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose,
};
use std::io::{Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The environment variable naming the folder with the control-plane binaries.
pub const ASSETS_VARIABLE: &str = "KUBEBUILDER_ASSETS";
/// The user the `limited` context authenticates as.
pub const LIMITED_USER: &str = "acr-test-limited";
/// The cluster's Service range, as kubeadm and kind have it.
pub const SERVICE_CIDR: &str = "10.96.0.0/12";
/// How long each component may take to answer after it is started.
const START_TIMEOUT: Duration = Duration::from_secs(90);

/// Where the binaries are, or why the control plane cannot start here.
#[derive(Debug)]
pub enum Assets {
    Found(PathBuf),
    Missing(String),
}

impl Assets {
    /// Reads `KUBEBUILDER_ASSETS`: a folder with `kube-apiserver` and `etcd`, optionally
    /// `kube-controller-manager` and `kube-scheduler`.
    pub fn from_env() -> Self {
        let Some(dir) = std::env::var_os(ASSETS_VARIABLE).filter(|value| !value.is_empty()) else {
            return Self::Missing(format!(
                "{ASSETS_VARIABLE} is not set (scripts/test.sh unpacks the control plane and sets it)"
            ));
        };
        let dir = PathBuf::from(dir);
        for required in ["kube-apiserver", "etcd"] {
            if !dir.join(required).is_file() {
                return Self::Missing(format!(
                    "{ASSETS_VARIABLE}={} has no {required}",
                    dir.display()
                ));
            }
        }
        Self::Found(dir)
    }
}

/// A running control plane. Dropping it stops every process it started.
#[derive(Debug)]
pub struct ControlPlane {
    state: tempfile::TempDir,
    processes: Vec<(String, Child)>,
    watchdog: Option<Child>,
    kubeconfig: PathBuf,
    server: String,
    etcd_data: Option<PathBuf>,
    fake_nodes: Option<FakeNodes>,
}

/// What to start.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Fake Ready nodes (no kubelet), kept alive by a heartbeat, whose pods a fake kubelet runs.
    pub nodes: usize,
}

/// Files of the PKI that components read.
struct Pki {
    ca_pem: String,
    server: (String, String),
    admin: (String, String),
    controller_manager: (String, String),
    scheduler: (String, String),
    front_proxy_ca_pem: String,
    front_proxy_client: (String, String),
    service_account: KeyPair,
}

impl ControlPlane {
    /// Starts etcd, kube-apiserver, and kube-controller-manager and kube-scheduler when the
    /// assets have them; then the fake nodes. Fails with the component's log when one does not
    /// come up.
    pub fn start(assets: &Path, options: Options) -> Result<Self, String> {
        let state = tempfile::Builder::new()
            .prefix("acr-control-plane-")
            .tempdir()
            .map_err(|error| format!("cannot create the state folder: {error}"))?;
        let mut plane = Self {
            kubeconfig: state.path().join("kubeconfig"),
            state,
            processes: Vec::new(),
            watchdog: None,
            server: String::new(),
            etcd_data: None,
            fake_nodes: None,
        };
        plane.boot(assets, options)?;
        Ok(plane)
    }

    fn boot(&mut self, assets: &Path, options: Options) -> Result<(), String> {
        let dir = self.state.path().to_owned();
        let [
            etcd_port,
            etcd_peer_port,
            api_port,
            kcm_port,
            scheduler_port,
        ] = free_ports()?;
        self.server = format!("https://127.0.0.1:{api_port}");
        let pki = Pki::generate().map_err(|error| format!("cannot make the PKI: {error}"))?;
        let file = |name: &str, contents: &str| -> Result<PathBuf, String> {
            let path = dir.join(name);
            std::fs::write(&path, contents)
                .map_err(|error| format!("cannot write {}: {error}", path.display()))?;
            Ok(path)
        };
        let ca = file("ca.crt", &pki.ca_pem)?;
        let server_crt = file("apiserver.crt", &pki.server.0)?;
        let server_key = file("apiserver.key", &pki.server.1)?;
        let front_proxy_ca = file("front-proxy-ca.crt", &pki.front_proxy_ca_pem)?;
        let front_proxy_crt = file("front-proxy-client.crt", &pki.front_proxy_client.0)?;
        let front_proxy_key = file("front-proxy-client.key", &pki.front_proxy_client.1)?;
        let sa_key = file("sa.key", &pki.service_account.serialize_pem())?;
        let sa_pub = file("sa.pub", &pki.service_account.public_key_pem())?;
        let admin_token = random_token();
        let limited_token = random_token();
        let tokens = file(
            "tokens.csv",
            &format!(
                "{admin_token},admin-token,admin-token,system:masters\n{limited_token},{LIMITED_USER},{LIMITED_USER}\n"
            ),
        )?;
        let kubeconfig = kubeconfig_text(
            &self.server,
            &pki.ca_pem,
            &[
                ("admin", Credential::Certificate(&pki.admin)),
                ("admin-token", Credential::Token(&admin_token)),
                ("limited", Credential::Token(&limited_token)),
            ],
        );
        file("kubeconfig", &kubeconfig)?;
        let kcm_kubeconfig = file(
            "controller-manager.kubeconfig",
            &kubeconfig_text(
                &self.server,
                &pki.ca_pem,
                &[(
                    "controller-manager",
                    Credential::Certificate(&pki.controller_manager),
                )],
            ),
        )?;
        let scheduler_kubeconfig = file(
            "scheduler.kubeconfig",
            &kubeconfig_text(
                &self.server,
                &pki.ca_pem,
                &[("scheduler", Credential::Certificate(&pki.scheduler))],
            ),
        )?;

        // etcd keeps its data in memory-backed /dev/shm when there is one: its fsyncs are then
        // free, which matters on a small machine.
        let etcd_parent = Path::new("/dev/shm");
        let etcd_data = if etcd_parent.is_dir() {
            tempfile::Builder::new()
                .prefix("acr-etcd-")
                .tempdir_in(etcd_parent)
        } else {
            tempfile::Builder::new().prefix("acr-etcd-").tempdir()
        }
        .map_err(|error| format!("cannot create etcd's data folder: {error}"))?
        .keep();
        self.etcd_data = Some(etcd_data.clone());
        let etcd_client = format!("http://127.0.0.1:{etcd_port}");
        let etcd_peer = format!("http://127.0.0.1:{etcd_peer_port}");
        self.spawn(
            "etcd",
            Command::new(assets.join("etcd"))
                .arg("--name=acr-test")
                .arg(format!("--data-dir={}", etcd_data.display()))
                .arg(format!("--listen-client-urls={etcd_client}"))
                .arg(format!("--advertise-client-urls={etcd_client}"))
                .arg(format!("--listen-peer-urls={etcd_peer}"))
                .arg(format!("--initial-advertise-peer-urls={etcd_peer}"))
                .arg(format!("--initial-cluster=acr-test={etcd_peer}"))
                .arg("--initial-cluster-state=new"),
        )?;
        self.start_watchdog(&etcd_data)?;
        self.wait_for("etcd", || etcd_healthy(etcd_port))?;

        let path = |path: &Path| path.display().to_string();
        self.spawn(
            "kube-apiserver",
            Command::new(assets.join("kube-apiserver")).args([
                "--bind-address=127.0.0.1".to_owned(),
                "--advertise-address=127.0.0.1".to_owned(),
                format!("--secure-port={api_port}"),
                format!("--etcd-servers={etcd_client}"),
                format!("--service-cluster-ip-range={SERVICE_CIDR}"),
                "--authorization-mode=Node,RBAC".to_owned(),
                format!("--client-ca-file={}", path(&ca)),
                format!("--tls-cert-file={}", path(&server_crt)),
                format!("--tls-private-key-file={}", path(&server_key)),
                format!("--token-auth-file={}", path(&tokens)),
                format!("--service-account-key-file={}", path(&sa_pub)),
                format!("--service-account-signing-key-file={}", path(&sa_key)),
                "--service-account-issuer=https://kubernetes.default.svc.cluster.local".to_owned(),
                format!("--requestheader-client-ca-file={}", path(&front_proxy_ca)),
                "--requestheader-allowed-names=front-proxy-client".to_owned(),
                "--requestheader-username-headers=X-Remote-User".to_owned(),
                "--requestheader-group-headers=X-Remote-Group".to_owned(),
                "--requestheader-extra-headers-prefix=X-Remote-Extra-".to_owned(),
                format!("--proxy-client-cert-file={}", path(&front_proxy_crt)),
                format!("--proxy-client-key-file={}", path(&front_proxy_key)),
                // 127.0.0.1 is not a valid Endpoints address.
                "--endpoint-reconciler-type=none".to_owned(),
                "--allow-privileged=true".to_owned(),
                "--profiling=false".to_owned(),
            ]),
        )?;
        self.restart_watchdog(&etcd_data)?;
        let admin = self.kubeconfig.clone();
        self.wait_for("kube-apiserver", || {
            kubectl(&admin, ["get", "--raw", "/readyz"], None)
                .is_ok_and(|answer| answer.trim() == "ok")
        })?;

        if assets.join("kube-controller-manager").is_file() {
            self.spawn(
                "kube-controller-manager",
                Command::new(assets.join("kube-controller-manager")).args([
                    format!("--kubeconfig={}", path(&kcm_kubeconfig)),
                    format!("--authentication-kubeconfig={}", path(&kcm_kubeconfig)),
                    format!("--authorization-kubeconfig={}", path(&kcm_kubeconfig)),
                    "--bind-address=127.0.0.1".to_owned(),
                    format!("--secure-port={kcm_port}"),
                    "--leader-elect=false".to_owned(),
                    format!("--service-account-private-key-file={}", path(&sa_key)),
                    format!("--root-ca-file={}", path(&ca)),
                    "--use-service-account-credentials=true".to_owned(),
                    format!("--service-cluster-ip-range={SERVICE_CIDR}"),
                    "--cluster-name=acr-test".to_owned(),
                    "--profiling=false".to_owned(),
                ]),
            )?;
        }
        if assets.join("kube-scheduler").is_file() {
            self.spawn(
                "kube-scheduler",
                Command::new(assets.join("kube-scheduler")).args([
                    format!("--kubeconfig={}", path(&scheduler_kubeconfig)),
                    format!(
                        "--authentication-kubeconfig={}",
                        path(&scheduler_kubeconfig)
                    ),
                    format!("--authorization-kubeconfig={}", path(&scheduler_kubeconfig)),
                    "--bind-address=127.0.0.1".to_owned(),
                    format!("--secure-port={scheduler_port}"),
                    "--leader-elect=false".to_owned(),
                    "--profiling=false".to_owned(),
                ]),
            )?;
        }
        self.restart_watchdog(&etcd_data)?;
        if self.has("kube-controller-manager") {
            // The service-account controller makes `default` in every namespace; tests rely on it.
            self.wait_for("kube-controller-manager", || {
                kubectl(
                    &admin,
                    ["-n", "default", "get", "serviceaccount", "default"],
                    None,
                )
                .is_ok()
            })?;
        }
        if options.nodes > 0 {
            self.fake_nodes = Some(FakeNodes::start(self.kubeconfig.clone(), options.nodes)?);
        }
        Ok(())
    }

    /// The kubeconfig (contexts `admin`, `admin-token`, `limited`; current: `admin`).
    pub fn kubeconfig(&self) -> &Path {
        &self.kubeconfig
    }

    /// The API server's URL.
    pub fn server(&self) -> &str {
        &self.server
    }

    /// Whether a component was started.
    pub fn has(&self, component: &str) -> bool {
        self.processes.iter().any(|(name, _)| name == component)
    }

    /// Names of the fake nodes.
    pub fn node_names(&self) -> Vec<String> {
        self.fake_nodes
            .as_ref()
            .map(FakeNodes::names)
            .unwrap_or_default()
    }

    /// What the fake kubelet and storage provisioner do in `namespace`.
    pub fn set_behaviour(&self, namespace: &str, behaviour: NamespaceBehaviour) {
        if let Some(nodes) = &self.fake_nodes {
            nodes.set_behaviour(namespace, behaviour);
        }
    }

    /// Runs the real `kubectl` against this control plane as admin; stdout, or the failure
    /// with stderr.
    pub fn kubectl<I, S>(&self, args: I) -> Result<String, String>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        kubectl(&self.kubeconfig, args, None)
    }

    /// `kubectl` with `stdin` on its standard input (`apply -f -`).
    pub fn kubectl_stdin<I, S>(&self, args: I, stdin: &str) -> Result<String, String>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        kubectl(&self.kubeconfig, args, Some(stdin))
    }

    fn spawn(&mut self, name: &str, command: &mut Command) -> Result<(), String> {
        let log = std::fs::File::create(self.log_path(name))
            .map_err(|error| format!("cannot create {name}'s log: {error}"))?;
        let err_log = log
            .try_clone()
            .map_err(|error| format!("cannot share {name}'s log: {error}"))?;
        let child = command
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(err_log)
            .spawn()
            .map_err(|error| format!("cannot start {name}: {error}"))?;
        self.processes.push((name.to_owned(), child));
        Ok(())
    }

    fn log_path(&self, name: &str) -> PathBuf {
        self.state.path().join(format!("{name}.log"))
    }

    /// The last lines of a component's log, for failure messages.
    pub fn log_tail(&self, name: &str) -> String {
        let text = std::fs::read_to_string(self.log_path(name)).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(25)..].join("\n")
    }

    /// A shell that outlives nothing: when this test process is gone (killed, aborted), it
    /// kills the components and removes etcd's data, which `Drop` would otherwise do.
    fn start_watchdog(&mut self, etcd_data: &Path) -> Result<(), String> {
        let pids: Vec<String> = self
            .processes
            .iter()
            .map(|(_, child)| child.id().to_string())
            .collect();
        let child = Command::new("sh")
            .arg("-c")
            .arg(
                "parent=$1; data=$2; shift 2; \
                 while kill -0 \"$parent\" 2>/dev/null; do sleep 1; done; \
                 kill -KILL \"$@\" 2>/dev/null; rm -rf -- \"$data\"",
            )
            .arg("control-plane-watchdog")
            .arg(std::process::id().to_string())
            .arg(etcd_data)
            .args(pids)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|error| format!("cannot start the watchdog: {error}"))?;
        self.watchdog = Some(child);
        Ok(())
    }

    fn restart_watchdog(&mut self, etcd_data: &Path) -> Result<(), String> {
        if let Some(mut old) = self.watchdog.take() {
            let _ = old.kill();
            let _ = old.wait();
        }
        self.start_watchdog(etcd_data)
    }

    /// Polls `ready` until it holds; fails with the newest component's log when that
    /// component exits or time runs out.
    fn wait_for(&mut self, name: &str, ready: impl Fn() -> bool) -> Result<(), String> {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if ready() {
                return Ok(());
            }
            for (component, child) in &mut self.processes {
                if let Ok(Some(status)) = child.try_wait() {
                    let component = component.clone();
                    return Err(format!(
                        "{component} exited ({status}) while waiting for {name}:\n{}",
                        self.log_tail(&component)
                    ));
                }
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "{name} did not answer within {START_TIMEOUT:?}:\n{}",
                    self.log_tail(name)
                ));
            }
            std::thread::sleep(Duration::from_millis(250));
        }
    }
}

impl Drop for ControlPlane {
    fn drop(&mut self) {
        self.fake_nodes = None;
        for (_, child) in self.processes.iter_mut().rev() {
            let _ = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
            let deadline = Instant::now() + Duration::from_secs(10);
            while matches!(child.try_wait(), Ok(None)) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        // The watchdog sees the test process alive, so it is stopped here and etcd's data with it.
        if let Some(mut watchdog) = self.watchdog.take() {
            let _ = watchdog.kill();
            let _ = watchdog.wait();
        }
        if let Some(data) = self.etcd_data.take() {
            let _ = std::fs::remove_dir_all(data);
        }
    }
}

/// Runs kubectl with `kubeconfig`.
pub fn kubectl<I, S>(kubeconfig: &Path, args: I, stdin: Option<&str>) -> Result<String, String>
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    let mut command = Command::new("kubectl");
    command
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command
        .spawn()
        .map_err(|error| format!("cannot run kubectl: {error}"))?;
    if let (Some(text), Some(mut input)) = (stdin, child.stdin.take()) {
        input
            .write_all(text.as_bytes())
            .map_err(|error| format!("cannot write kubectl's input: {error}"))?;
    }
    let output = child
        .wait_with_output()
        .map_err(|error| format!("kubectl failed to run: {error}"))?;
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    } else {
        Err(String::from_utf8_lossy(&output.stderr).into_owned())
    }
}

/// Five distinct free loopback ports (free when asked; envtest takes the same small risk).
fn free_ports() -> Result<[u16; 5], String> {
    let listeners = (0..5)
        .map(|_| TcpListener::bind("127.0.0.1:0"))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| format!("cannot find a free port: {error}"))?;
    let ports: Vec<u16> = listeners
        .iter()
        .map(|listener| listener.local_addr().map(|address| address.port()))
        .collect::<Result<_, _>>()
        .map_err(|error| format!("cannot read a port: {error}"))?;
    Ok([ports[0], ports[1], ports[2], ports[3], ports[4]])
}

fn etcd_healthy(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    if stream
        .write_all(b"GET /health HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
        .is_err()
    {
        return false;
    }
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer.contains("\"health\":\"true\"")
}

fn random_token() -> String {
    let mut bytes = [0u8; 24];
    aws_lc_rs::rand::fill(&mut bytes).expect("the system random source works");
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// How a kubeconfig user authenticates.
enum Credential<'a> {
    /// Certificate and key PEM.
    Certificate(&'a (String, String)),
    Token(&'a str),
}

/// A kubeconfig with one cluster and one context per user, named `USER`; the first is current.
fn kubeconfig_text(server: &str, ca_pem: &str, users: &[(&str, Credential<'_>)]) -> String {
    let b64 = |text: &str| base64::engine::general_purpose::STANDARD.encode(text);
    let mut text = format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: acr-test\n  cluster:\n    server: {server}\n    certificate-authority-data: {}\nusers:\n",
        b64(ca_pem)
    );
    for (name, credential) in users {
        match credential {
            Credential::Certificate((cert, key)) => text.push_str(&format!(
                "- name: {name}\n  user:\n    client-certificate-data: {}\n    client-key-data: {}\n",
                b64(cert),
                b64(key)
            )),
            Credential::Token(token) => {
                text.push_str(&format!("- name: {name}\n  user:\n    token: {token}\n"))
            }
        }
    }
    text.push_str("contexts:\n");
    for (name, _) in users {
        text.push_str(&format!(
            "- name: {name}\n  context:\n    cluster: acr-test\n    user: {name}\n"
        ));
    }
    text.push_str(&format!("current-context: {}\n", users[0].0));
    text
}

impl Pki {
    fn generate() -> Result<Self, rcgen::Error> {
        let ca_key = KeyPair::generate()?;
        let root_params = ca_params("acr-test-ca")?;
        let ca_pem = root_params.self_signed(&ca_key)?.pem();
        let ca = Issuer::new(root_params, ca_key);

        let mut server = leaf_params("kube-apiserver", None, ExtendedKeyUsagePurpose::ServerAuth)?;
        server.subject_alt_names = CertificateParams::new(vec![
            "127.0.0.1".to_owned(),
            "10.96.0.1".to_owned(),
            "localhost".to_owned(),
            "kubernetes".to_owned(),
            "kubernetes.default".to_owned(),
            "kubernetes.default.svc".to_owned(),
            "kubernetes.default.svc.cluster.local".to_owned(),
        ])?
        .subject_alt_names;
        let client = |common_name: &str, organisation: Option<&str>| {
            signed(
                &leaf_params(
                    common_name,
                    organisation,
                    ExtendedKeyUsagePurpose::ClientAuth,
                )?,
                &ca,
            )
        };

        let front_proxy_key = KeyPair::generate()?;
        let front_proxy_params = ca_params("acr-test-front-proxy-ca")?;
        let front_proxy_ca_pem = front_proxy_params.self_signed(&front_proxy_key)?.pem();
        let front_proxy = Issuer::new(front_proxy_params, front_proxy_key);

        Ok(Self {
            ca_pem,
            server: signed(&server, &ca)?,
            admin: client("kubernetes-admin", Some("system:masters"))?,
            controller_manager: client("system:kube-controller-manager", None)?,
            scheduler: client("system:kube-scheduler", None)?,
            front_proxy_ca_pem,
            front_proxy_client: signed(
                &leaf_params(
                    "front-proxy-client",
                    None,
                    ExtendedKeyUsagePurpose::ClientAuth,
                )?,
                &front_proxy,
            )?,
            service_account: KeyPair::generate()?,
        })
    }
}

fn ca_params(common_name: &str) -> Result<CertificateParams, rcgen::Error> {
    let mut params = CertificateParams::new(Vec::<String>::new())?;
    params.distinguished_name = DistinguishedName::new();
    params
        .distinguished_name
        .push(DnType::CommonName, common_name);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    Ok(params)
}

fn leaf_params(
    common_name: &str,
    organisation: Option<&str>,
    usage: ExtendedKeyUsagePurpose,
) -> Result<CertificateParams, rcgen::Error> {
    let mut params = CertificateParams::new(Vec::<String>::new())?;
    params.distinguished_name = DistinguishedName::new();
    if let Some(organisation) = organisation {
        params
            .distinguished_name
            .push(DnType::OrganizationName, organisation);
    }
    params
        .distinguished_name
        .push(DnType::CommonName, common_name);
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    params.extended_key_usages = vec![usage];
    params.use_authority_key_identifier_extension = true;
    Ok(params)
}

/// A fresh key and its certificate signed by `issuer`, both PEM.
fn signed(
    params: &CertificateParams,
    issuer: &Issuer<'_, KeyPair>,
) -> Result<(String, String), rcgen::Error> {
    let key = KeyPair::generate()?;
    let certificate = params.signed_by(&key, issuer)?;
    Ok((certificate.pem(), key.serialize_pem()))
}
