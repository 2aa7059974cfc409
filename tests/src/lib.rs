//! Helpers shared by the integration tests: locating the built binaries and fixtures, running
//! commands and real peers (openssl, curl, docker-registry, dnsmasq, a registry token service,
//! a real Kubernetes control plane) with clear failures when missing.

pub mod control_plane;
pub mod fake_api_server;
pub mod fake_nodes;
pub mod peers;
pub mod policies;
pub mod token_server;

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The workspace's target directory for the current profile (where `cargo build` put binaries).
fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    // target/<profile>/deps/<test-binary>
    exe.parent()
        .and_then(Path::parent)
        .expect("test binary lives in target/<profile>/deps")
        .to_path_buf()
}

/// Path of a workspace binary such as `kubectl-acr`, built by `cargo build --workspace --bins`.
pub fn bin_path(name: &str) -> PathBuf {
    let path = target_dir().join(name);
    assert!(
        path.is_file(),
        "{} is not built: run `cargo build --workspace --bins` first (scripts/test.sh does)",
        path.display()
    );
    path
}

/// A path as text, for command-line arguments (test paths are UTF-8).
pub fn path_text(path: &Path) -> &str {
    path.to_str().expect("UTF-8 path")
}

/// Makes a FIFO at `path` with the real `mkfifo`.
pub fn make_fifo(path: &Path) {
    let made = Command::new("mkfifo")
        .arg(path)
        .status()
        .unwrap_or_else(|err| panic!("cannot run mkfifo: {err}"));
    assert!(made.success(), "mkfifo {} failed", path.display());
}

/// A file under `tests/fixtures/`.
pub fn fixture(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(relative)
}

/// Path of a required external tool, failing the test (never skipping) when it is missing.
pub fn require_tool(name: &str) -> PathBuf {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(name))
            .find(|candidate| candidate.is_file())
    });
    found.unwrap_or_else(|| {
        panic!("`{name}` is not installed: run scripts/test.sh, which installs what the tests need")
    })
}

/// The captured result of running a command.
#[derive(Debug)]
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl From<Output> for Run {
    fn from(output: Output) -> Self {
        Self {
            code: output.status.code(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }
}

impl Run {
    /// Asserts exit code 0 and returns stdout.
    pub fn success(self) -> String {
        assert_eq!(
            self.code,
            Some(0),
            "command failed\nstdout:\n{}\nstderr:\n{}",
            self.stdout,
            self.stderr
        );
        self.stdout
    }
}

/// Runs a program with arguments, capturing its output.
pub fn run<I, S>(program: impl AsRef<std::ffi::OsStr>, args: I) -> Run
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    let program = program.as_ref();
    Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|err| panic!("cannot run {}: {err}", program.to_string_lossy()))
        .into()
}

/// `kubectl-acr` with its compiled-policy cache under `cache_home` (tests pass
/// `env!("CARGO_TARGET_TMPDIR")`) and no KUBECONFIG from the environment.
pub fn kubectl_acr_command(cache_home: &Path) -> Command {
    let mut command = Command::new(bin_path("kubectl-acr"));
    command
        .env("XDG_CACHE_HOME", cache_home)
        .env_remove("KUBECONFIG");
    command
}

/// Runs `command` with `stdin` on its standard input, capturing its output.
pub fn run_with_stdin(command: &mut Command, stdin: &[u8]) -> Run {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|err| panic!("cannot run {:?}: {err}", command.get_program()));
    child
        .stdin
        .take()
        .expect("stdin is piped")
        .write_all(stdin)
        .expect("write stdin");
    child.wait_with_output().expect("command output").into()
}
