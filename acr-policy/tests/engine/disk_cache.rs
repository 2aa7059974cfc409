//! The on-disk compilation cache: a directory private to the user, reuse across hosts,
//! identical modules compiled once, and tampered, truncated or forged entries detected,
//! reported and replaced; the built-ins' precompiled code and its fallback.

use crate::common::{fixture_wasm, review, test_limits};
use acr_policy::{
    BUILTIN_POLICIES, CacheProblem, HostConfig, ModuleOrigin, PolicyHost, PolicyOutcome,
};
use sha2::{Digest, Sha256};
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
        .filter(|path| {
            path.extension()
                .is_some_and(|extension| extension == "cwasm")
        })
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
fn assert_not_used(dir: &Path, expected_reason: &str) {
    let host = PolicyHost::new(HostConfig {
        cache_dir: Some(dir.to_owned()),
        limits: test_limits(),
        ..HostConfig::default()
    })
    .expect("host starts without a cache");
    let problem = host.cache_problem().expect("the problem is reported");
    assert!(
        matches!(problem, CacheProblem::NotPrivate { .. }),
        "{problem:?}"
    );
    let message = problem.to_string();
    assert!(message.contains(expected_reason), "{message}");
    let policy = host
        .load("minimal.wasm", &fixture_wasm("abi-doc-minimal.wat"))
        .expect("loads without the cache");
    assert_eq!(policy.origin(), ModuleOrigin::Compiled);
    assert!(cache_entries(dir).is_empty(), "nothing written to it");
}

#[cfg(unix)]
#[test]
fn world_writable_cache_directory_is_not_used() {
    use std::os::unix::fs::PermissionsExt;
    let temp = tempfile::tempdir().expect("temp dir");
    let dir = temp.path().join("shared-cache");
    std::fs::create_dir(&dir).expect("create");
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).expect("chmod");
    assert_not_used(&dir, "its mode 777 lets group or others write it");
    let mode = std::fs::metadata(&dir)
        .expect("metadata")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o777, "left as it was");
}

/// As root with another user's cache folder: the folder is not used. Needs root to give the
/// folder away; as another user the test has nothing to check and says so.
#[cfg(unix)]
#[test]
fn cache_directory_of_another_user_is_not_used() {
    use std::os::unix::fs::MetadataExt;
    const NOBODY: u32 = 65534;
    let temp = tempfile::tempdir().expect("temp dir");
    let dir = temp.path().join("their-cache");
    std::fs::create_dir(&dir).expect("create");
    if let Err(error) = std::os::unix::fs::chown(&dir, Some(NOBODY), Some(NOBODY)) {
        eprintln!("skipped: cannot give a folder to another user here ({error})");
        return;
    }
    assert_eq!(std::fs::metadata(&dir).expect("metadata").uid(), NOBODY);
    assert_not_used(
        &dir,
        &format!("it is owned by user {NOBODY}, not by the current user"),
    );
}

#[cfg(unix)]
#[test]
fn cache_key_readable_by_others_is_not_used() {
    use std::os::unix::fs::PermissionsExt;
    let temp = tempfile::tempdir().expect("temp dir");
    let dir = temp.path().join("cache");
    host_with_cache(&dir);
    let key = dir.join("key");
    let mode = std::fs::metadata(&key)
        .expect("key made")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    assert_not_used(&dir, "its mode is 644, not 0600");
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
        "its keyed digest (HMAC-SHA256) does not match its contents",
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

/// The attack of issue 13: an entry whose payload was replaced and whose digest was
/// recomputed, as anyone can with a plain SHA-256, is refused.
#[test]
fn forged_entry_with_a_recomputed_plain_digest_is_not_trusted() {
    assert_replaced_after(
        |entry| {
            let bytes = std::fs::read(entry).expect("read entry");
            let (magic, rest) = bytes.split_at(8);
            let mut payload = rest[32..].to_vec();
            let middle = payload.len() / 2;
            payload[middle] ^= 0x55;
            let digest = Sha256::new()
                .chain_update(magic)
                .chain_update(&payload)
                .finalize();
            std::fs::write(entry, [magic, digest.as_slice(), &payload].concat())
                .expect("write entry");
        },
        "its keyed digest (HMAC-SHA256) does not match its contents",
    );
}

/// An entry is sealed with its cache's own key: a valid entry of another cache (another
/// user's) is refused here.
#[test]
fn entry_from_another_cache_is_not_trusted() {
    let temp = tempfile::tempdir().expect("temp dir");
    let (theirs, ours) = (temp.path().join("theirs"), temp.path().join("ours"));
    let wasm = fixture_wasm("abi-doc-minimal.wat");
    host_with_cache(&theirs)
        .load("minimal.wasm", &wasm)
        .expect("loads");
    host_with_cache(&ours)
        .load("minimal.wasm", &wasm)
        .expect("loads");
    let their_entry = cache_entries(&theirs).pop().expect("their entry");
    let our_entry = cache_entries(&ours).pop().expect("our entry");
    std::fs::copy(&their_entry, &our_entry).expect("copy");
    let loaded = host_with_cache(&ours)
        .load("minimal.wasm", &wasm)
        .expect("loads");
    assert_eq!(loaded.origin(), ModuleOrigin::Compiled);
    assert!(matches!(
        loaded.cache_problem(),
        Some(CacheProblem::Tampered { .. })
    ));
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
        problem.starts_with(&format!("cannot use the policy cache {}: ", file.display())),
        "{problem}"
    );
    let policy = host
        .load("minimal.wasm", &fixture_wasm("abi-doc-minimal.wat"))
        .expect("loads without a cache");
    assert_eq!(policy.origin(), ModuleOrigin::Compiled);
}

#[test]
fn builtins_load_their_precompiled_code_and_never_touch_the_cache() {
    let temp = tempfile::tempdir().expect("temp dir");
    let dir = temp.path().join("cache");
    let host = host_with_cache(&dir);
    for builtin in BUILTIN_POLICIES {
        let policy = host.load(builtin.name, builtin.wasm).expect("loads");
        assert_eq!(
            policy.origin(),
            ModuleOrigin::Precompiled,
            "{}",
            builtin.name
        );
    }
    assert!(cache_entries(&dir).is_empty());
}

/// An engine that compiles differently (here: fuel metering) cannot use the precompiled code:
/// the built-ins are compiled, and still work.
#[test]
fn builtins_are_compiled_when_the_engine_differs_from_the_build() {
    let host = PolicyHost::new(HostConfig {
        limits: test_limits(),
        fuel_metering: true,
        ..HostConfig::default()
    })
    .expect("host starts");
    let builtin = BUILTIN_POLICIES.first().expect("a built-in policy");
    let policy = host.load(builtin.name, builtin.wasm).expect("loads");
    assert_eq!(policy.origin(), ModuleOrigin::Compiled);
    let outcome = policy.evaluate(&review()).outcome;
    assert!(!matches!(outcome, PolicyOutcome::Error(_)), "{outcome:?}");
}

/// Loads of one module from several threads at once compile it once; the others wait for
/// that compilation and share it.
#[test]
fn a_module_loaded_from_many_threads_is_compiled_once() {
    let host = crate::common::host();
    let wasm = fixture_wasm("abi-doc-minimal.wat");
    let origins: Vec<ModuleOrigin> = std::thread::scope(|scope| {
        let loads: Vec<_> = (0..4)
            .map(|_| scope.spawn(|| host.load("minimal.wasm", &wasm).expect("loads").origin()))
            .collect();
        loads
            .into_iter()
            .map(|load| load.join().expect("no panic"))
            .collect()
    });
    let compiled = origins
        .iter()
        .filter(|origin| **origin == ModuleOrigin::Compiled)
        .count();
    assert_eq!(compiled, 1, "{origins:?}");
    assert!(
        origins
            .iter()
            .all(|origin| matches!(origin, ModuleOrigin::Compiled | ModuleOrigin::ThisProcess)),
        "{origins:?}"
    );
}

/// A run with only built-in policies never creates, reads or writes the cache folder.
#[test]
fn builtins_alone_leave_the_cache_folder_alone() {
    let temp = tempfile::tempdir().expect("temp dir");
    let dir = temp.path().join("cache");
    let host = PolicyHost::new(HostConfig {
        cache_dir: Some(dir.clone()),
        limits: test_limits(),
        ..HostConfig::default()
    })
    .expect("host starts");
    let set = acr_policy::PolicySet::all_builtins(BUILTIN_POLICIES);
    let prepared = set.prepare(&host, BUILTIN_POLICIES);
    assert!(prepared.policies().all(|(_, loaded)| loaded.is_ok()));
    assert!(!dir.exists());
}
