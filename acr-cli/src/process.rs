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
/// with the error chain printed once on stderr (`error: outer: cause: root cause`).
pub fn run_main(command: impl FnOnce() -> anyhow::Result<Outcome>) -> ExitCode {
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
