//! The on-disk compilation cache: private directory, reuse across hosts, identical modules
//! compiled once, and tampered or truncated entries detected, reported and replaced.

use crate::common::{fixture_wasm, review, test_limits};
use acr_policy::{CacheProblem, HostConfig, ModuleOrigin, PolicyHost, PolicyOutcome};
use std::path::{Path, PathBuf};

fn host_with_cache(dir: &Path) -> PolicyHost {
    let host = PolicyHost::new(HostConfig {
        cache_dir: Some(dir.to_owned()),
        limits: test_limits(),
        ..HostConfig::default()
    })
    .expect("host starts");
    assert!(host.cache_problem().is_none(), "{:?}", host.cache_problem());
    host
}

fn cache_entries(dir: &Path) -> Vec<PathBuf> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("cache dir lists")
        .map(|entry| entry.expect("entry").path())
        .collect();
    entries.sort();
    entries
}

#[test]
fn compiled_modules_are_reused_in_process_and_from_disk() {
    let temp = tempfile::tempdir().expect("temp dir");
    let dir = temp.path().join("cache");
    let wasm = fixture_wasm("abi-doc-minimal.wat");

    let first_host = host_with_cache(&dir);
    let first = first_host.load("minimal.wasm", &wasm).expect("loads");
    assert_eq!(first.origin(), ModuleOrigin::Compiled);
    let again = first_host
        .load("copy-of-minimal.wasm", &wasm)
        .expect("loads");
    assert_eq!(again.origin(), ModuleOrigin::ThisProcess);

    let entries = cache_entries(&dir);
    assert_eq!(entries.len(), 1, "{entries:?}");
    let file_name = entries[0]
        .file_name()
        .expect("name")
        .to_string_lossy()
        .into_owned();
    assert!(file_name.starts_with(&first.module_sha256()), "{file_name}");
    assert!(file_name.ends_with(".cwasm"), "{file_name}");

    let second = host_with_cache(&dir)
        .load("minimal.wasm", &wasm)
        .expect("loads");
    assert_eq!(second.origin(), ModuleOrigin::DiskCache);
    assert!(second.cache_problem().is_none());
    assert!(matches!(
        second.evaluate(&review()).outcome,
        PolicyOutcome::Allowed { .. }
    ));
}

#[cfg(unix)]
#[test]
fn cache_directory_is_made_private() {
    use std::os::unix::fs::PermissionsExt;
    let temp = tempfile::tempdir().expect("temp dir");
    let dir = temp.path().join("shared-cache");
    std::fs::create_dir(&dir).expect("create");
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).expect("chmod");
    host_with_cache(&dir);
    let mode = std::fs::metadata(&dir)
        .expect("metadata")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o700);
}

fn assert_replaced_after(damage: impl FnOnce(&Path), expected_reason: &str) {
    let temp = tempfile::tempdir().expect("temp dir");
    let dir = temp.path().join("cache");
    let wasm = fixture_wasm("abi-doc-minimal.wat");
    host_with_cache(&dir)
        .load("minimal.wasm", &wasm)
        .expect("loads");
    let entry = cache_entries(&dir).pop().expect("one entry");
    damage(&entry);

    let recompiled = host_with_cache(&dir)
        .load("minimal.wasm", &wasm)
        .expect("loads");
    assert_eq!(recompiled.origin(), ModuleOrigin::Compiled);
    let problem = recompiled.cache_problem().expect("the damage is reported");
    assert!(
        matches!(problem, CacheProblem::Tampered { .. }),
        "{problem:?}"
    );
    assert_eq!(
        problem.to_string(),
        format!(
            "the policy cache entry {} failed its integrity check ({expected_reason}); it was \
             not trusted and the module was compiled again",
            entry.display()
        )
    );
    assert!(matches!(
        recompiled.evaluate(&review()).outcome,
        PolicyOutcome::Allowed { .. }
    ));

    let after = host_with_cache(&dir)
        .load("minimal.wasm", &wasm)
        .expect("loads");
    assert_eq!(
        after.origin(),
        ModuleOrigin::DiskCache,
        "the entry was rewritten"
    );
}

#[test]
fn tampered_cache_entry_is_detected_and_replaced() {
    assert_replaced_after(
        |entry| {
            let mut bytes = std::fs::read(entry).expect("read entry");
            let middle = bytes.len() / 2;
            bytes[middle] ^= 0x55;
            std::fs::write(entry, bytes).expect("write entry");
        },
        "its SHA-256 digest does not match its contents",
    );
}

#[test]
fn truncated_cache_entry_is_detected_and_replaced() {
    assert_replaced_after(
        |entry| {
            let bytes = std::fs::read(entry).expect("read entry");
            std::fs::write(entry, &bytes[..20]).expect("write entry");
        },
        "it is shorter than its header",
    );
}

#[test]
fn foreign_file_in_place_of_an_entry_is_not_trusted() {
    assert_replaced_after(
        |entry| std::fs::write(entry, b"\0asm not a cache entry").expect("write entry"),
        "it does not start with the cache entry header",
    );
}

#[test]
fn unusable_cache_directory_is_reported_and_compiling_still_works() {
    let temp = tempfile::tempdir().expect("temp dir");
    let file = temp.path().join("not-a-directory");
    std::fs::write(&file, b"").expect("write");
    let host = PolicyHost::new(HostConfig {
        cache_dir: Some(file.clone()),
        limits: test_limits(),
        ..HostConfig::default()
    })
    .expect("host starts without a cache");
    let problem = host.cache_problem().expect("reported").to_string();
    assert!(
        problem.starts_with(&format!(
            "cannot make the policy cache directory {} private (0700): ",
            file.display()
        )),
        "{problem}"
    );
    let policy = host
        .load("minimal.wasm", &fixture_wasm("abi-doc-minimal.wat"))
        .expect("loads without a cache");
    assert_eq!(policy.origin(), ModuleOrigin::Compiled);
}
