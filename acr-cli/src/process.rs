//! Process conventions: what a command returns, and the exit codes of DESIGN.md section 5.

use acr_core::untrusted::escape_output;
use std::io::Write;
use std::process::ExitCode;

/// How a command that ran to completion ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Exit 0.
    Success,
    /// Exit 1: the command worked but what it checked did not pass (e.g. `cert verify`).
    CheckFailed,
    /// Exit 3: denied by policy.
    Denied,
    /// Exit 124: gave up waiting at `--timeout` (as `timeout(1)` does).
    TimedOut,
}

impl Status {
    pub fn exit_code(self) -> u8 {
        match self {
            Status::Success => 0,
            Status::CheckFailed => 1,
            Status::Denied => 3,
            Status::TimedOut => 124,
        }
    }
}

/// What a command prints on stdout, what it says on stderr, and how it ends.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub stdout: String,
    /// A closing line for stderr (e.g. why the check failed), if any.
    pub stderr: Option<String>,
    pub status: Status,
}

impl Outcome {
    pub fn success(stdout: String) -> Self {
        Self {
            stdout,
            stderr: None,
            status: Status::Success,
        }
    }
}

/// Runs a command and turns its result into the process exit code: the outcome's status, or 1
/// with the error chain printed once on stderr (`error: outer: cause: root cause`), or, when
/// the command was asked for JSON ([`json_requested`]), as one JSON object on stdout (see
/// [`error_json`]).
pub fn run_main(json_errors: bool, command: impl FnOnce() -> anyhow::Result<Outcome>) -> ExitCode {
    match command() {
        Ok(outcome) => {
            if let Err(error) = write_stdout(escape_output(&outcome.stdout).as_bytes()) {
                eprintln!("error: cannot write the output: {error}");
                return ExitCode::from(1);
            }
            if let Some(line) = outcome.stderr {
                eprintln!("{}", escape_output(&line));
            }
            ExitCode::from(outcome.status.exit_code())
        }
        Err(error) if json_errors => {
            let text = format!("{}\n", error_json(&error));
            if write_stdout(text.as_bytes()).is_err() {
                eprintln!("error: {}", escape_output(&format!("{error:#}")));
            }
            ExitCode::from(1)
        }
        Err(error) => {
            eprintln!("error: {}", escape_output(&format!("{error:#}")));
            ExitCode::from(1)
        }
    }
}

/// Writes the output: a closed pipe (`| head`) is fine, any other failure (a full disk,
/// `/dev/full`) is an error, so that a truncated file never ends in exit 0.
fn write_stdout(bytes: &[u8]) -> std::io::Result<()> {
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(bytes).and_then(|()| stdout.flush()) {
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        result => result,
    }
}

/// Whether the command line asks for JSON output (`-o json`, `-ojson`, `-o=json`, `--output json`,
/// `--output=json`), so that a failure is reported as JSON too.
pub fn json_requested(args: impl IntoIterator<Item = String>) -> bool {
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let value = match arg.as_str() {
            "-o" | "--output" => args.next(),
            other => other
                .strip_prefix("--output=")
                .or_else(|| other.strip_prefix("-o="))
                .or_else(|| other.strip_prefix("-o"))
                .map(str::to_owned),
        };
        if value.as_deref() == Some("json") {
            return true;
        }
    }
    false
}

/// A failure as one JSON object: `{"error": {"code", "message", "causes"}}`. The code is stable:
/// the family of the first typed error in the chain and its variant, in kebab case (for example
/// `settings.unknown-key`, `cluster.conflict`), or `error` when no typed error is in the chain.
/// Text is escaped as every printed string is.
pub fn error_json(error: &anyhow::Error) -> serde_json::Value {
    let mut chain = error.chain();
    let message = chain.next().map(ToString::to_string).unwrap_or_default();
    let causes: Vec<String> = chain
        .map(|cause| escape_output(&cause.to_string()).into_owned())
        .collect();
    serde_json::json!({
        "error": {
            "code": error_code(error),
            "message": escape_output(&message),
            "causes": causes,
        }
    })
}

/// The first line of clap's usage message without its `error: ` prefix, escaped.
pub fn usage_detail(rendered: &str) -> String {
    let first = rendered.lines().next().unwrap_or_default();
    escape_output(first.strip_prefix("error: ").unwrap_or(first)).into_owned()
}

/// The stable code of [`error_json`].
pub fn error_code(error: &anyhow::Error) -> String {
    for cause in error.chain() {
        if let Some((family, debug)) = typed(cause) {
            return format!("{family}.{}", kebab(variant(&debug)));
        }
    }
    "error".to_owned()
}

/// The family and `Debug` text of a typed error of the engine.
fn typed(error: &(dyn std::error::Error + 'static)) -> Option<(&'static str, String)> {
    use acr_core::{cluster, custom_domain, fsio, plan, policy, pull_secret, settings, tls};
    macro_rules! family {
        ($($name:literal => $type:ty),* $(,)?) => {
            $(if let Some(typed) = error.downcast_ref::<$type>() {
                return Some(($name, format!("{typed:?}")));
            })*
        };
    }
    family! {
        "settings" => settings::SettingsError,
        "tls" => tls::TlsError,
        "plan" => plan::PlanError,
        "cluster" => cluster::ClusterError,
        "cert-manager" => cluster::CertManagerError,
        "policy" => policy::PolicySetupError,
        "review" => policy::ReviewError,
        "pull-secret" => pull_secret::PullSecretError,
        "custom-domain" => custom_domain::CustomDomainError,
        "write" => fsio::WriteError,
    }
    None
}

/// The variant name at the start of a derived `Debug` text (`Conflict { .. }` gives `Conflict`).
fn variant(debug: &str) -> &str {
    let end = debug
        .find(|c: char| !c.is_ascii_alphanumeric() && c != '_')
        .unwrap_or(debug.len());
    &debug[..end]
}

/// `UnknownKey` as `unknown-key`.
fn kebab(name: &str) -> String {
    let mut out = String::new();
    for (index, c) in name.char_indices() {
        if c.is_ascii_uppercase() && index > 0 {
            out.push('-');
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<String> {
        text.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn json_is_requested_in_every_spelling_kubectl_accepts() {
        for line in [
            "x -o json",
            "x -ojson",
            "x -o=json",
            "x --output json",
            "x --output=json",
        ] {
            assert!(json_requested(words(line)), "{line}");
        }
        for line in ["x -o yaml", "x --config o=json", "x", "x -o"] {
            assert!(!json_requested(words(line)), "{line}");
        }
    }

    #[test]
    fn errors_become_one_object_with_a_stable_code_and_the_causes() {
        let typed = acr_core::fsio::WriteError::Exists {
            path: "out/tls.key".into(),
        };
        let error = anyhow::Error::new(typed).context("cannot write the certificates");
        assert_eq!(
            error_json(&error),
            serde_json::json!({
                "error": {
                    "code": "write.exists",
                    "message": "cannot write the certificates",
                    "causes": ["out/tls.key already exists; pass --force to replace it"],
                }
            })
        );
        assert_eq!(error_code(&anyhow::anyhow!("plain")), "error");
    }
}
