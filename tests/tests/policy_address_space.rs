//! The policy tools under an address-space limit (`ulimit -v`), as CI runners and hardened
//! hosts set one: the instance pool reserves only what one evaluation at a time needs, so
//! `policy check` runs under 8 GiB and answers exactly as it does without a limit.

use acr_tests::bin_path;
use std::path::Path;
use std::process::{Command, Output};

/// `kubectl-acr policy check` on the example settings, under `ulimit -v` when given (KiB).
fn policy_check(address_space_kib: Option<u64>) -> Output {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ sits in the workspace");
    let limit = address_space_kib.map_or_else(String::new, |kib| format!("ulimit -v {kib}; "));
    Command::new("bash")
        .arg("-c")
        .arg(format!("{limit}exec \"$0\" \"$@\""))
        .arg(bin_path("kubectl-acr"))
        .args(["policy", "check", "--config", "service.clusterIP=10.0.0.1"])
        .arg("--config-protected-file")
        .arg(workspace.join("examples/protected-settings.json"))
        .env("XDG_CACHE_HOME", env!("CARGO_TARGET_TMPDIR"))
        .output()
        .expect("run bash")
}

#[test]
fn policy_check_runs_under_an_8_gib_address_space_limit() {
    let unlimited = policy_check(None);
    let limited = policy_check(Some(8 << 20));
    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
    assert!(
        matches!(unlimited.status.code(), Some(0 | 3)) && !unlimited.stdout.is_empty(),
        "policy check did not answer: {}",
        text(&unlimited.stderr)
    );
    assert_eq!(
        (
            limited.status.code(),
            text(&limited.stdout),
            text(&limited.stderr)
        ),
        (
            unlimited.status.code(),
            text(&unlimited.stdout),
            text(&unlimited.stderr)
        ),
    );
}
