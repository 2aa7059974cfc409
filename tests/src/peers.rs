//! Real peer processes for tests: any server started on a free loopback port and killed when
//! dropped, Debian's docker-registry serving TLS from a temporary directory, and dnsmasq serving
//! DNS zone data given on its command line.

use crate::require_tool;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long a peer may take to start listening.
const START_TIMEOUT: Duration = Duration::from_secs(20);

/// A free TCP port on 127.0.0.1.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port()
}

/// A peer process listening on 127.0.0.1, killed when dropped.
#[derive(Debug)]
pub struct Peer {
    child: Child,
    pub port: u16,
    log: PathBuf,
}

impl Peer {
    /// Starts `command` (already told to listen on `port`), sending its output to `log`, and
    /// waits until it accepts connections; fails the test with the log when it exits or never
    /// listens.
    pub fn start(mut command: Command, port: u16, log: PathBuf) -> Self {
        let log_file = std::fs::File::create(&log).expect("log file");
        command
            .stdin(Stdio::null())
            .stdout(log_file.try_clone().expect("log file"))
            .stderr(log_file);
        let child = command.spawn().expect("peer starts");
        let mut peer = Self { child, port, log };
        let deadline = Instant::now() + START_TIMEOUT;
        while Instant::now() < deadline {
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return peer;
            }
            if let Some(status) = peer.child.try_wait().expect("peer status") {
                panic!("peer exited with {status}:\n{}", peer.log_text());
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        panic!(
            "peer did not listen on {port} within {START_TIMEOUT:?}:\n{}",
            peer.log_text()
        );
    }

    /// What the peer wrote so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Debian's docker-registry on 127.0.0.1 (over TLS unless asked not to), storing under its working
/// directory.
#[derive(Debug)]
pub struct DockerRegistry {
    pub peer: Peer,
    /// The registry's storage root.
    pub storage: PathBuf,
}

impl DockerRegistry {
    /// Serves `cert` and `key` (PEM) on a free port; `extra_config` is appended to the registry's
    /// YAML configuration (an `auth:` section, for example). Files go into `dir`.
    pub fn start(dir: &Path, cert: &Path, key: &Path, extra_config: &str) -> Self {
        let tls = format!(
            "  tls:\n    certificate: {}\n    key: {}\n",
            cert.display(),
            key.display()
        );
        Self::launch(dir, &tls, extra_config)
    }

    /// Serves plain HTTP (no TLS) on a free port, as a misconfigured registry does.
    pub fn start_plain_http(dir: &Path) -> Self {
        Self::launch(dir, "", "")
    }

    fn launch(dir: &Path, tls_config: &str, extra_config: &str) -> Self {
        let binary = require_tool("docker-registry");
        let port = free_port();
        let storage = dir.join(format!("registry-{port}"));
        std::fs::create_dir_all(&storage).expect("registry storage");
        let config = dir.join(format!("registry-{port}.yml"));
        std::fs::write(
            &config,
            format!(
                "version: 0.1\nlog:\n  level: info\nstorage:\n  filesystem:\n    \
                 rootdirectory: {storage}\nhttp:\n  addr: 127.0.0.1:{port}\n{tls_config}{extra_config}",
                storage = storage.display(),
            ),
        )
        .expect("write registry config");
        let mut command = Command::new(binary);
        command.arg("serve").arg(&config);
        let peer = Peer::start(command, port, dir.join(format!("registry-{port}.log")));
        Self { peer, storage }
    }

    /// `127.0.0.1:PORT`.
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.peer.port)
    }
}

/// dnsmasq answering DNS on 127.0.0.1 (UDP and TCP) from the records given on its command line
/// only: no /etc/hosts, no resolv.conf, no upstream servers.
#[derive(Debug)]
pub struct Dnsmasq {
    pub peer: Peer,
}

impl Dnsmasq {
    /// Starts dnsmasq on a free port with `records`, each a dnsmasq option such as
    /// `--cname=a.example,b.example` or `--host-record=b.example,10.0.0.5`; its log goes into `dir`.
    pub fn start(dir: &Path, records: &[String]) -> Self {
        // Debian installs it in /usr/sbin, which is not on every user's PATH.
        let sbin = Path::new("/usr/sbin/dnsmasq");
        let binary = if sbin.is_file() {
            sbin.to_path_buf()
        } else {
            require_tool("dnsmasq")
        };
        let port = free_port();
        let user = std::env::var("USER")
            .ok()
            .filter(|user| !user.is_empty())
            .unwrap_or_else(|| "root".to_owned());
        let mut command = Command::new(binary);
        command
            .args([
                "--no-daemon",
                "--conf-file=/dev/null",
                "--no-resolv",
                "--no-hosts",
                "--bind-interfaces",
                "--listen-address=127.0.0.1",
                "--log-queries",
            ])
            .arg(format!("--port={port}"))
            .arg(format!("--user={user}"))
            .args(records);
        let peer = Peer::start(command, port, dir.join(format!("dnsmasq-{port}.log")));
        Self { peer }
    }

    /// `127.0.0.1:PORT`.
    pub fn server(&self) -> String {
        format!("127.0.0.1:{}", self.peer.port)
    }
}
