//! `policy new`: writes a ready-to-build policy crate (the SDK dependency, an example rule
//! with native tests, metadata, allow and deny fixtures, a README) from the templates in
//! `acr-policy/templates/`, never overwriting a file.

use std::fs::{self, OpenOptions};
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

/// Where the new crate takes the `wasm-guest` SDK (package `acr-wasm-guest`) from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SdkSource {
    /// A directory holding the SDK crate, such as this repository's `wasm-guest/`. Written to
    /// `Cargo.toml` as given, so a relative path is read from the new crate's directory.
    Path(PathBuf),
    /// A Cargo version requirement for the SDK from the registry, such as `0.1`.
    Version(String),
}

impl SdkSource {
    /// The dependency's value in `Cargo.toml`.
    fn dependency(&self) -> String {
        match self {
            Self::Path(path) => {
                format!("{{ path = {} }}", toml_string(&path.display().to_string()))
            }
            Self::Version(requirement) => toml_string(requirement),
        }
    }
}

/// Why no crate was written.
#[derive(Debug, thiserror::Error)]
pub enum ScaffoldError {
    #[error("`{name}` cannot name a policy: {reason}")]
    InvalidName { name: String, reason: &'static str },
    #[error("{} already exists, and a new policy crate never overwrites a file", path.display())]
    Exists { path: PathBuf },
    #[error("cannot write {}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

/// The crate's files: path inside the crate and template.
const TEMPLATES: [(&str, &str); 7] = [
    ("Cargo.toml", include_str!("../templates/Cargo.toml.tmpl")),
    (".gitignore", include_str!("../templates/gitignore.tmpl")),
    ("README.md", include_str!("../templates/README.md.tmpl")),
    (
        "metadata.json",
        include_str!("../templates/metadata.json.tmpl"),
    ),
    ("src/lib.rs", include_str!("../templates/lib.rs.tmpl")),
    (
        "fixtures/allow.json",
        include_str!("../templates/allow.json.tmpl"),
    ),
    (
        "fixtures/deny.json",
        include_str!("../templates/deny.json.tmpl"),
    ),
];

/// Longest name accepted, as crates.io limits package names.
const MAX_NAME_LEN: usize = 64;

/// Names Cargo or Rust refuse for a library, in their snake_case form: keywords, the built-in
/// crates, and the SDK's own library name.
const RESERVED_NAMES: [&str; 56] = [
    "abstract",
    "alloc",
    "as",
    "async",
    "await",
    "become",
    "box",
    "break",
    "const",
    "continue",
    "core",
    "crate",
    "do",
    "dyn",
    "else",
    "enum",
    "extern",
    "false",
    "final",
    "fn",
    "for",
    "gen",
    "if",
    "impl",
    "in",
    "let",
    "loop",
    "macro",
    "match",
    "mod",
    "move",
    "mut",
    "override",
    "priv",
    "proc_macro",
    "pub",
    "ref",
    "return",
    "self",
    "static",
    "std",
    "struct",
    "super",
    "test",
    "trait",
    "true",
    "try",
    "type",
    "typeof",
    "unsafe",
    "unsized",
    "use",
    "virtual",
    "wasm_guest",
    "where",
    "while",
];

/// Writes a new policy crate named `name` into `dir` (created if needed) and returns the files
/// written, in a fixed order. `name` becomes the package name and the metadata name, so it is
/// kebab-case: lowercase letters, digits and single `-` between them, starting with a letter.
///
/// Nothing is written when any of the files already exists.
pub fn new_policy_crate(
    name: &str,
    dir: &Path,
    sdk: SdkSource,
) -> Result<Vec<PathBuf>, ScaffoldError> {
    check_name(name)?;
    let crate_name = name.replace('-', "_");
    let dependency = sdk.dependency();
    let files: Vec<(PathBuf, String)> = TEMPLATES
        .iter()
        .map(|(relative, template)| {
            let contents = template
                .replace("{{name}}", name)
                .replace("{{crate_name}}", &crate_name)
                .replace("{{sdk_dependency}}", &dependency);
            (dir.join(relative), contents)
        })
        .collect();
    if let Some((existing, _)) = files
        .iter()
        .find(|(path, _)| fs::symlink_metadata(path).is_ok())
    {
        return Err(ScaffoldError::Exists {
            path: existing.clone(),
        });
    }
    for (path, contents) in &files {
        write_new(path, contents).map_err(|source| ScaffoldError::Write {
            path: path.clone(),
            source,
        })?;
    }
    Ok(files.into_iter().map(|(path, _)| path).collect())
}

fn check_name(name: &str) -> Result<(), ScaffoldError> {
    let invalid = |reason| ScaffoldError::InvalidName {
        name: name.to_owned(),
        reason,
    };
    if name.is_empty() || name.len() > MAX_NAME_LEN {
        return Err(invalid("give 1 to 64 characters"));
    }
    if !name
        .bytes()
        .all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'-')
    {
        return Err(invalid(
            "use only lowercase letters, digits and `-` (kebab-case)",
        ));
    }
    if !name.starts_with(|c: char| c.is_ascii_lowercase()) || name.ends_with('-') {
        return Err(invalid(
            "start with a letter and end with a letter or digit",
        ));
    }
    if name.contains("--") {
        return Err(invalid("put a single `-` between words"));
    }
    if RESERVED_NAMES.contains(&name.replace('-', "_").as_str()) {
        return Err(invalid(
            "it is a Rust keyword or the name of a built-in crate or of the SDK",
        ));
    }
    Ok(())
}

/// Creates `path` (and its directory), failing if it already exists.
fn write_new(path: &Path, contents: &str) -> io::Result<()> {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent)?;
    }
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)?
        .write_all(contents.as_bytes())
}

/// `text` as a TOML basic string.
fn toml_string(text: &str) -> String {
    let mut quoted = String::with_capacity(text.len() + 2);
    quoted.push('"');
    for c in text.chars() {
        match c {
            '"' => quoted.push_str("\\\""),
            '\\' => quoted.push_str("\\\\"),
            c if c.is_control() => quoted.push_str(&format!("\\u{:04X}", u32::from(c))),
            c => quoted.push(c),
        }
    }
    quoted.push('"');
    quoted
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{HostConfig, PolicyHost};
    use std::process::Command;
    use wasm_guest::{Review, Verdict};

    fn workspace_dir() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .expect("acr-policy sits in the workspace")
            .to_owned()
    }

    #[test]
    fn names_must_be_kebab_case_and_free() {
        let dir = tempfile::tempdir().expect("temporary directory");
        for (name, reason) in [
            ("", "give 1 to 64 characters"),
            (
                "Min_Key",
                "use only lowercase letters, digits and `-` (kebab-case)",
            ),
            (
                "9-lives",
                "start with a letter and end with a letter or digit",
            ),
            (
                "trailing-",
                "start with a letter and end with a letter or digit",
            ),
            ("two--dashes", "put a single `-` between words"),
            (
                "wasm-guest",
                "it is a Rust keyword or the name of a built-in crate or of the SDK",
            ),
            (
                "self",
                "it is a Rust keyword or the name of a built-in crate or of the SDK",
            ),
        ] {
            let error = new_policy_crate(name, dir.path(), SdkSource::Version("0.1".into()))
                .expect_err("refused");
            assert_eq!(
                error.to_string(),
                format!("`{name}` cannot name a policy: {reason}")
            );
        }
        assert_eq!(
            fs::read_dir(dir.path()).expect("listable").count(),
            0,
            "nothing was written"
        );
    }

    #[test]
    fn writes_every_file_with_the_name_and_sdk_filled_in() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let crate_dir = dir.path().join("min-key-size");
        let written = new_policy_crate(
            "min-key-size",
            &crate_dir,
            SdkSource::Path(PathBuf::from(r#"C:\sdk "quoted"\wasm-guest"#)),
        )
        .expect("scaffolds");
        let relative: Vec<PathBuf> = written
            .iter()
            .map(|path| path.strip_prefix(&crate_dir).expect("inside").to_owned())
            .collect();
        assert_eq!(
            relative,
            TEMPLATES
                .iter()
                .map(|(path, _)| PathBuf::from(path))
                .collect::<Vec<_>>()
        );
        let read = |path: &str| fs::read_to_string(crate_dir.join(path)).expect("written");
        let manifest = read("Cargo.toml");
        assert!(manifest.contains("name = \"min-key-size\""), "{manifest}");
        assert!(
            manifest.contains(r#"acr-wasm-guest = { path = "C:\\sdk \"quoted\"\\wasm-guest" }"#),
            "{manifest}"
        );
        let metadata =
            wasm_guest::Metadata::from_json(&read("metadata.json")).expect("metadata parses");
        assert_eq!(metadata.name, "min-key-size");
        assert!(read("README.md").contains("release/min_key_size.wasm"));
        assert!(
            !written
                .iter()
                .any(|path| { fs::read_to_string(path).expect("written").contains("{{") })
        );

        let versioned = dir.path().join("versioned");
        new_policy_crate("versioned", &versioned, SdkSource::Version("0.1".into()))
            .expect("scaffolds");
        assert!(
            fs::read_to_string(versioned.join("Cargo.toml"))
                .expect("written")
                .contains("acr-wasm-guest = \"0.1\"\n")
        );
    }

    #[test]
    fn refuses_to_overwrite_and_writes_nothing_then() {
        let dir = tempfile::tempdir().expect("temporary directory");
        fs::create_dir_all(dir.path().join("fixtures")).expect("mkdir");
        fs::write(dir.path().join("fixtures/deny.json"), "mine").expect("write");
        let error = new_policy_crate("org-rule", dir.path(), SdkSource::Version("0.1".into()))
            .expect_err("refused");
        assert_eq!(
            error.to_string(),
            format!(
                "{} already exists, and a new policy crate never overwrites a file",
                dir.path().join("fixtures/deny.json").display()
            )
        );
        assert!(!dir.path().join("Cargo.toml").exists());
        assert_eq!(
            fs::read_to_string(dir.path().join("fixtures/deny.json")).expect("kept"),
            "mine"
        );
    }

    /// `policies/<name>/fixtures/*.json` and the scaffolded ones: a review and its verdict.
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Fixture {
        review: Review,
        verdict: Verdict,
    }

    /// The whole path an author takes: scaffold, build for wasm32 with cargo, load the module
    /// into the engine, and get the verdicts the scaffolded fixtures record.
    #[test]
    fn scaffolded_crate_builds_to_a_module_that_passes_its_fixtures() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let crate_dir = dir.path().join("service-ip-range");
        new_policy_crate(
            "service-ip-range",
            &crate_dir,
            SdkSource::Path(workspace_dir().join("wasm-guest")),
        )
        .expect("scaffolds");
        // The workspace's lock pins the SDK's dependencies to versions already compiled and
        // downloaded, so the build neither re-resolves nor needs the network.
        fs::copy(
            workspace_dir().join("Cargo.lock"),
            crate_dir.join("Cargo.lock"),
        )
        .expect("lock file copied");
        let output = Command::new(env!("CARGO"))
            .current_dir(&crate_dir)
            .args([
                "build",
                "--release",
                "--offline",
                "--target",
                "wasm32-unknown-unknown",
            ])
            .env(
                "CARGO_TARGET_DIR",
                workspace_dir().join("target/scaffold-test"),
            )
            .env_remove("RUSTFLAGS")
            .env_remove("CARGO_ENCODED_RUSTFLAGS")
            .env_remove("CARGO_BUILD_TARGET")
            .output()
            .expect("cargo runs");
        assert!(
            output.status.success(),
            "cargo build failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let wasm = fs::read(
            workspace_dir()
                .join("target/scaffold-test/wasm32-unknown-unknown/release/service_ip_range.wasm"),
        )
        .expect("module built");

        let host = PolicyHost::new(HostConfig::default()).expect("host starts");
        let policy = host.load("service-ip-range", &wasm).expect("module loads");
        assert_eq!(policy.name(), "service-ip-range");
        assert!(policy.validates_settings());
        let mut allowed_and_denied = Vec::new();
        for case in ["allow", "deny"] {
            let text = fs::read_to_string(crate_dir.join(format!("fixtures/{case}.json")))
                .expect("fixture written");
            let fixture: Fixture = serde_json::from_str(&text).expect("fixture parses");
            let verdict = policy
                .evaluate(&fixture.review)
                .outcome
                .into_verdict()
                .unwrap_or_else(|error| panic!("{case}: {error}"));
            assert_eq!(verdict, fixture.verdict, "{case}");
            allowed_and_denied.push(verdict.allowed);
        }
        assert_eq!(allowed_and_denied, vec![true, false]);
    }
}
