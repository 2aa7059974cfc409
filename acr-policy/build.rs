//! Builds the built-in policies (`policies/*`, one crate each) for `wasm32-unknown-unknown`,
//! precompiles them for the target the binary is built for with the engine configuration the
//! host uses (`src/engine_config.rs`, compiled into this script too), and generates
//! `builtin_policies.rs`, which embeds the modules and their precompiled code with
//! `include_bytes!`. Where the target cannot be compiled for here (a cross build for an
//! architecture this build's wasmtime lacks), no code is embedded and the host compiles the
//! built-ins at run time: the same fallback as for a changed engine.
//!
//! The policies are built by a nested `cargo build --release` with its own target directory
//! (`<profile dir>/policy-wasm`), so it never waits on the lock of the build that runs this
//! script; the nested build shares this build's jobserver, so `-j` still holds. Its release
//! profile is set here ([`POLICY_PROFILE`]), not taken from the workspace.

#[path = "src/engine_config.rs"]
mod engine_config;

use sha2::{Digest, Sha256};
use std::env;
use std::ffi::OsStr;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, exit};
use std::thread;
use wasmtime::Engine;

const WASM_TARGET: &str = "wasm32-unknown-unknown";

/// The nested build's release profile: small modules compile faster in the host, and a policy
/// that panics should trap at once. The modules get a 128 KiB stack instead of Rust's 1 MiB:
/// resetting an instance walks its whole memory, and decoding the deepest review JSON (127
/// levels, serde_json's limit) needs under 64 KiB, which a test of every built-in checks.
const POLICY_PROFILE: [(&str, &str); 5] = [
    (
        "CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS",
        "-Clink-arg=-zstack-size=131072",
    ),
    ("CARGO_PROFILE_RELEASE_OPT_LEVEL", "3"),
    ("CARGO_PROFILE_RELEASE_LTO", "fat"),
    ("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "1"),
    ("CARGO_PROFILE_RELEASE_PANIC", "abort"),
];

/// Outer-build settings that must not leak into the nested wasm32 build.
const ENV_NOT_INHERITED: [&str; 6] = [
    "CARGO_ENCODED_RUSTFLAGS",
    "RUSTFLAGS",
    "RUSTC_WORKSPACE_WRAPPER",
    "CARGO_TARGET_DIR",
    "CARGO_BUILD_TARGET",
    "CARGO_BUILD_TARGET_DIR",
];

fn main() {
    let manifest_dir = PathBuf::from(env_var("CARGO_MANIFEST_DIR"));
    let workspace = manifest_dir
        .parent()
        .expect("acr-policy sits in the workspace root")
        .to_owned();
    let out_dir = PathBuf::from(env_var("OUT_DIR"));
    for watched in [
        "policies",
        "wasm-guest/src",
        "wasm-guest/Cargo.toml",
        "Cargo.toml",
        "Cargo.lock",
        "acr-policy/src/engine_config.rs",
    ] {
        println!(
            "cargo::rerun-if-changed={}",
            workspace.join(watched).display()
        );
    }

    let policies = policy_crates(&workspace.join("policies"));
    let mut modules = Vec::new();
    if !policies.is_empty() {
        require_wasm_target();
        let target_dir = nested_target_dir(&out_dir);
        build_policies(&workspace, &target_dir, &policies);
        for name in &policies {
            let built = target_dir
                .join(WASM_TARGET)
                .join("release")
                .join(format!("{}.wasm", name.replace('-', "_")));
            let embedded = out_dir.join(format!("{name}.wasm"));
            if let Err(error) = fs::copy(&built, &embedded) {
                fail(&format!(
                    "cannot copy the built policy {}: {error}",
                    built.display()
                ));
            }
            modules.push((name.as_str(), embedded));
        }
    }
    let target = env_var("TARGET");
    println!("cargo::rustc-env=ACR_POLICY_TARGET={target}");
    let precompiled = precompile(&modules, &target, &out_dir);
    if let Err(error) = fs::write(
        out_dir.join("builtin_policies.rs"),
        generated_source(&modules, precompiled.as_ref()),
    ) {
        fail(&format!("cannot write builtin_policies.rs: {error}"));
    }
}

/// What `build.rs` precompiled: the engine's key, and per module its SHA-256 and code file.
struct Precompiled {
    engine_key: [u8; 32],
    modules: Vec<([u8; 32], PathBuf)>,
}

/// Compiles every module for `TARGET` with the host's engine configuration, one thread per
/// module, into `OUT_DIR/NAME.cwasm`; `None` (with a warning) when this build cannot compile
/// for the target.
fn precompile(modules: &[(&str, PathBuf)], target: &str, out_dir: &Path) -> Option<Precompiled> {
    let engine =
        match engine_config::engine_config(target, false).and_then(|config| Engine::new(&config)) {
            Ok(engine) => engine,
            Err(error) => {
                println!(
                    "cargo::warning=built-in policies not precompiled for {target} ({error}); \
                 they will be compiled at run time"
                );
                return None;
            }
        };
    let compiled = thread::scope(|scope| {
        let workers: Vec<_> = modules
            .iter()
            .map(|(name, wasm_path)| {
                let engine = &engine;
                scope.spawn(move || precompile_one(engine, name, wasm_path, out_dir))
            })
            .collect();
        workers
            .into_iter()
            .map(|worker| worker.join().expect("a precompiling thread does not panic"))
            .collect()
    });
    Some(Precompiled {
        engine_key: engine_config::engine_key(&engine),
        modules: compiled,
    })
}

fn precompile_one(
    engine: &Engine,
    name: &str,
    wasm_path: &Path,
    out_dir: &Path,
) -> ([u8; 32], PathBuf) {
    let wasm = fs::read(wasm_path)
        .unwrap_or_else(|error| fail(&format!("cannot read {}: {error}", wasm_path.display())));
    let code = engine
        .precompile_module(&wasm)
        .unwrap_or_else(|error| fail(&format!("cannot precompile the policy {name}: {error:#}")));
    let code_path = out_dir.join(format!("{name}.cwasm"));
    if let Err(error) = fs::write(&code_path, code) {
        fail(&format!("cannot write {}: {error}", code_path.display()));
    }
    (Sha256::digest(&wasm).into(), code_path)
}

/// `builtin_policies.rs`: the modules, and their precompiled code when there is some.
fn generated_source(modules: &[(&str, PathBuf)], precompiled: Option<&Precompiled>) -> String {
    let mut source = String::from(
        "/// The built-in policies, built for wasm32 from `policies/*` by `build.rs`.\n\
         pub const BUILTIN_POLICIES: &[Builtin] = &[\n",
    );
    for (name, wasm_path) in modules {
        writeln!(
            source,
            "    Builtin {{ name: {name:?}, wasm: include_bytes!({:?}) }},",
            wasm_path.display().to_string()
        )
        .expect("writing to a String cannot fail");
    }
    source.push_str(
        "];\n/// The SHA-256 of each module of [`BUILTIN_POLICIES`], in the same order.\n\
         const BUILTIN_HASHES: &[[u8; 32]] = &[\n",
    );
    for (_, wasm_path) in modules {
        let wasm = fs::read(wasm_path)
            .unwrap_or_else(|error| fail(&format!("cannot read {}: {error}", wasm_path.display())));
        let hash: [u8; 32] = Sha256::digest(&wasm).into();
        writeln!(source, "    {hash:?},").expect("writing to a String cannot fail");
    }
    source.push_str("];\n");
    let (engine_key, code) = precompiled.map_or(([0; 32], &[][..]), |precompiled| {
        (precompiled.engine_key, precompiled.modules.as_slice())
    });
    writeln!(
        source,
        "/// The key of the engine `build.rs` precompiled the built-ins with.\n\
         const PRECOMPILED_ENGINE_KEY: [u8; 32] = {engine_key:?};\n\
         /// The built-ins' code, precompiled by `build.rs`.\n\
         const PRECOMPILED_MODULES: &[PrecompiledModule] = &["
    )
    .expect("writing to a String cannot fail");
    for (module_hash, code_path) in code {
        writeln!(
            source,
            "    PrecompiledModule {{ module_hash: {module_hash:?}, code: include_bytes!({:?}) }},",
            code_path.display().to_string()
        )
        .expect("writing to a String cannot fail");
    }
    source.push_str("];\n");
    source
}

/// Names of the policy crates: the directories of `policies/` holding a `Cargo.toml`, sorted.
/// A policy's directory, package and metadata names are the same.
fn policy_crates(policies_dir: &Path) -> Vec<String> {
    let Ok(entries) = fs::read_dir(policies_dir) else {
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .filter_map(Result::ok)
        .filter(|entry| entry.path().join("Cargo.toml").is_file())
        .filter_map(|entry| entry.file_name().to_str().map(str::to_owned))
        .collect();
    names.sort();
    names
}

fn require_wasm_target() {
    let rustc = env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let libdir = Command::new(&rustc)
        .args(["--print", "target-libdir", "--target", WASM_TARGET])
        .output()
        .ok()
        .filter(|output| output.status.success())
        .map(|output| PathBuf::from(String::from_utf8_lossy(&output.stdout).trim()));
    let installed = libdir
        .and_then(|dir| fs::read_dir(dir).ok())
        .is_some_and(|mut entries| entries.next().is_some());
    if !installed {
        fail(
            "wasm32-unknown-unknown target missing: run `rustup target add wasm32-unknown-unknown` \
             (scripts/test.sh does this)",
        );
    }
}

/// `<target>/<profile>/policy-wasm`, found from `OUT_DIR` (`<target>/<profile>/build/<pkg>/out`,
/// with a target triple directory before the profile when cross-compiling).
fn nested_target_dir(out_dir: &Path) -> PathBuf {
    out_dir
        .ancestors()
        .find(|dir| dir.file_name() == Some(OsStr::new("build")))
        .and_then(Path::parent)
        .map(|profile_dir| profile_dir.join("policy-wasm"))
        .unwrap_or_else(|| out_dir.join("policy-wasm"))
}

fn build_policies(workspace: &Path, target_dir: &Path, policies: &[String]) {
    let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .current_dir(workspace)
        .args(["build", "--release", "--locked", "--target", WASM_TARGET])
        .arg("--manifest-path")
        .arg(workspace.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(target_dir);
    for policy in policies {
        command.args(["--package", policy]);
    }
    for variable in ENV_NOT_INHERITED {
        command.env_remove(variable);
    }
    command.envs(POLICY_PROFILE);
    match command.output() {
        Ok(output) if output.status.success() => {}
        Ok(output) => {
            // Exiting with failure makes cargo show this script's stderr: the nested errors.
            eprintln!("{}", String::from_utf8_lossy(&output.stderr));
            eprintln!(
                "error: building the built-in policies for {WASM_TARGET} failed ({})",
                output.status
            );
            exit(1)
        }
        Err(error) => fail(&format!(
            "cannot run cargo to build the built-in policies: {error}"
        )),
    }
}

fn env_var(name: &str) -> String {
    env::var(name).unwrap_or_else(|_| fail(&format!("cargo did not set {name}")))
}

/// Ends the build with one line saying what is wrong: cargo prints `cargo::error` lines and
/// fails the build once the script exits, without the script's other output.
fn fail(message: &str) -> ! {
    println!("cargo::error={message}");
    exit(0)
}
