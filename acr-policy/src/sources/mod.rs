//! Where policy modules come from, as a policy set's `module:` names them, and fetching them:
//!
//! - `builtin:NAME`: compiled into the binary;
//! - a path to a `.wasm` file, or to a folder: every `*.wasm` file directly in it, sorted by
//!   name, each a policy with the entry's settings and enforcement; relative paths start at the
//!   set file's directory;
//! - `https://HOST/PATH#sha256=HEX`: downloaded, pinned by the SHA-256 of the module (64
//!   hexadecimal digits in the fragment, which is not sent); plain `http://` and unpinned URLs
//!   are refused;
//! - `oci://REGISTRY[:PORT]/REPOSITORY[:TAG]@sha256:HEX`: pulled from an OCI registry over
//!   https (plain http only with [`SourceOptions::insecure_http`]), pinned by the manifest
//!   digest (a tag alone is refused; `policy push` prints the digest).
//!
//! Every request goes through the one HTTP stack, `acr-net` (system trust store plus
//! [`SourceOptions::ca_file`], proxies from the environment, no https to http redirects).
//! Downloads are capped ([`SourceOptions::max_module_bytes`]) and their digest is checked
//! before anything else reads them. With [`SourceOptions::store_dir`], pinned modules are kept
//! in a local content-addressed store and fetched once.

mod digest;
mod oci;
mod reference;
mod store;

pub use digest::{InvalidDigest, Sha256Digest};
pub use oci::{
    IMAGE_MANIFEST_ACCEPT, OCI_MANIFEST_MEDIA_TYPE, WASM_CONFIG_MEDIA_TYPE, WASM_LAYER_MEDIA_TYPE,
    pull, push, resolve,
};
pub use reference::{InvalidOciReference, OciReference};
pub use store::ContentStore;

use crate::builtin::Builtin;
pub use acr_net::NetError;
use acr_net::{ClientOptions, HttpClient, StatusCode, Trust};
use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

/// The environment variable [`SourceOptions::from_env`] reads a CA file path from.
pub const CA_FILE_ENV: &str = "ACR_POLICY_CA_FILE";

/// Where a policy module comes from (see the [module documentation](self) for the syntax).
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(try_from = "String")]
pub enum ModuleSource {
    /// `builtin:NAME`: compiled into the binary.
    Builtin(String),
    /// A `.wasm` file, or a folder of them; relative paths start at the set file's directory.
    Path(PathBuf),
    /// An https URL (without its fragment) and the SHA-256 its module must have.
    Https { url: String, sha256: Sha256Digest },
    /// An OCI reference; always pinned by a manifest digest.
    Oci(OciReference),
}

/// A `module:` text that names no usable source.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SourceSyntaxError {
    #[error(
        "module source `{module}` has the unsupported scheme `{scheme}:`; use a file or folder \
         path, `builtin:NAME`, `https://HOST/PATH#sha256=HEX` or \
         `oci://REGISTRY/REPOSITORY@sha256:HEX`"
    )]
    UnsupportedScheme { module: String, scheme: String },
    #[error("module source `{module}` uses plain http; policy modules are fetched over https only")]
    PlainHttp { module: String },
    #[error(
        "module source `{module}` is not pinned: end the URL with `#sha256=HEX`, the SHA-256 of \
         the module (64 hexadecimal digits)"
    )]
    UnpinnedUrl { module: String },
    #[error(
        "module source `{module}` is not pinned by digest: use \
         `oci://REGISTRY/REPOSITORY@sha256:HEX` with the manifest digest (`policy push` prints it)"
    )]
    UnpinnedOci { module: String },
    #[error("module source `{module}`: {reason}")]
    Invalid { module: String, reason: String },
}

/// How remote sources are fetched.
#[derive(Debug, Clone)]
pub struct SourceOptions {
    /// The content-addressed store of fetched modules and manifests ([`ContentStore`], in the
    /// user's cache folder); `None` fetches every time.
    pub store_dir: Option<PathBuf>,
    /// A store read for what [`Self::store_dir`] lacks, its entries copied in (the user's own
    /// store, when `bundle save` fills a bundle's).
    pub seed_store_dir: Option<PathBuf>,
    /// PEM CA certificates to trust for https and registries besides the system trust store
    /// (for a private CA).
    pub ca_file: Option<PathBuf>,
    /// Talk to registries in plain http (`--insecure-http`); refused otherwise.
    pub insecure_http: bool,
    /// Fetch nothing: what the store does not hold is an error (an air-gap bundle's store,
    /// `--bundle`).
    pub offline: bool,
    /// The largest module downloaded, in bytes.
    pub max_module_bytes: u64,
    /// The limit on each request, from connecting to reading the whole answer.
    pub timeout: Duration,
    /// Credentials per registry (`host` or `host:port`, as written in references), offered only
    /// when that registry asks for them; a registry without an entry here is offered what
    /// Docker keeps for it (`acr_net::docker_credentials`).
    pub registry_credentials: HashMap<String, RegistryCredentials>,
}

/// A user name and password (or token) for a registry: sent as Basic authentication, or to the
/// registry's Bearer token realm.
#[derive(Clone, PartialEq, Eq)]
pub struct RegistryCredentials {
    pub username: String,
    pub password: String,
}

impl fmt::Debug for RegistryCredentials {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("RegistryCredentials")
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

impl Default for SourceOptions {
    /// No store, the system trust store, https only, 16 MiB modules, 60 s per request, no
    /// credentials.
    fn default() -> Self {
        Self {
            store_dir: None,
            seed_store_dir: None,
            ca_file: None,
            insecure_http: false,
            offline: false,
            max_module_bytes: 16 << 20,
            timeout: Duration::from_secs(60),
            registry_credentials: HashMap::new(),
        }
    }
}

impl SourceOptions {
    /// The defaults, with [`Self::ca_file`] from `ACR_POLICY_CA_FILE` when set and not empty.
    pub fn from_env() -> Self {
        Self {
            ca_file: std::env::var_os(CA_FILE_ENV)
                .filter(|path| !path.is_empty())
                .map(PathBuf::from),
            ..Self::default()
        }
    }

    /// The store of [`Self::store_dir`] (seeded by [`Self::seed_store_dir`]), opened and
    /// checked, when there is one.
    pub fn store(&self) -> Result<Option<ContentStore>, RemoteError> {
        self.store_dir
            .as_deref()
            .map(|dir| ContentStore::open_seeded(dir, self.seed_store_dir.as_deref()))
            .transpose()
    }

    /// Refuses to fetch `what` when [`Self::offline`].
    pub(crate) fn check_online(&self, what: impl FnOnce() -> String) -> Result<(), RemoteError> {
        if self.offline {
            return Err(RemoteError::NotInStore {
                what: what(),
                store: self.store_dir.clone().unwrap_or_default(),
            });
        }
        Ok(())
    }

    /// The HTTP client these options describe.
    pub(crate) fn client(&self) -> Result<HttpClient, RemoteError> {
        Ok(HttpClient::new(&ClientOptions {
            trust: Trust::System {
                ca_file: self.ca_file.clone(),
            },
            timeout: self.timeout,
            insecure_http: self.insecure_http,
        })?)
    }
}

/// Why a policy module could not be obtained; the text follows "policy `SOURCE` ".
#[derive(Debug, Clone, thiserror::Error)]
pub enum SourceError {
    #[error("is not a built-in policy (built-in policies: {})", known.join(", "))]
    UnknownBuiltin { known: Vec<String> },
    #[error("cannot be read from {}: {error}", path.display())]
    Unreadable {
        path: PathBuf,
        error: Arc<io::Error>,
    },
    #[error("names the folder {}, which holds no `.wasm` file", path.display())]
    EmptyFolder { path: PathBuf },
    #[error("cannot be fetched: {0}")]
    Remote(RemoteError),
}

/// A download, pull or push that failed; the text names the URL or reference.
#[derive(Debug, Clone, thiserror::Error)]
pub enum RemoteError {
    #[error(transparent)]
    Net(#[from] NetError),
    #[error(
        "{what} is not in the store {} and nothing is fetched with --bundle (save the bundle \
         again with this policy set)",
        store.display()
    )]
    NotInStore { what: String, store: PathBuf },
    #[error(transparent)]
    DockerCredentials(#[from] acr_net::docker_credentials::DockerCredentialsError),
    #[error("{method} {url} answered HTTP {status}{}", if detail.is_empty() { String::new() } else { format!(" ({detail})") })]
    Status {
        method: String,
        url: String,
        status: u16,
        detail: String,
    },
    #[error("{what} has the digest {actual}, but {expected} was expected")]
    DigestMismatch {
        what: String,
        expected: Sha256Digest,
        actual: Sha256Digest,
    },
    #[error("the registry {registry} did not authorize the request: {reason}")]
    Unauthorized { registry: String, reason: String },
    #[error("the OCI manifest of {reference} is not a policy artifact: {reason}")]
    InvalidManifest { reference: String, reason: String },
    #[error(
        "{reference} is not pinned by a manifest digest (`@sha256:HEX`), so it cannot be pulled"
    )]
    NotPinned { reference: String },
    #[error("{reference} cannot be pushed to: give a tag (`:TAG`) and no digest")]
    PushNeedsTag { reference: String },
    #[error("POST {url} started an upload without saying where (no `Location` header)")]
    UploadLocation { url: String },
    #[error(
        "the store of fetched artefacts {} is not private to the current user ({reason}); it is \
         not used",
        path.display()
    )]
    StoreNotPrivate { path: PathBuf, reason: String },
    #[error("cannot use the store of fetched artefacts at {}: {error}", path.display())]
    Store {
        path: PathBuf,
        error: Arc<io::Error>,
    },
}

impl RemoteError {
    /// The error for an unexpected status, with the registry's error codes or the start of the
    /// answer's text to explain it.
    pub(crate) fn status(method: &str, url: &str, response: acr_net::Response) -> Self {
        Self::Status {
            method: method.to_owned(),
            url: url.to_owned(),
            status: response.status().as_u16(),
            detail: acr_net::error_detail(response),
        }
    }
}

impl From<RemoteError> for SourceError {
    fn from(error: RemoteError) -> Self {
        Self::Remote(error)
    }
}

/// One policy module's bytes and the source naming it (for a folder, its file).
#[derive(Debug, Clone)]
pub struct FetchedModule {
    pub source: ModuleSource,
    pub bytes: Cow<'static, [u8]>,
}

impl ModuleSource {
    /// The modules this source names: one, or for a folder one per `*.wasm` file, sorted.
    /// Relative paths start at `base_dir`; built-in names are looked up in `builtins`.
    pub fn fetch(
        &self,
        base_dir: &Path,
        builtins: &[Builtin],
        options: &SourceOptions,
    ) -> Result<Vec<FetchedModule>, SourceError> {
        let fetched = |bytes| FetchedModule {
            source: self.clone(),
            bytes,
        };
        match self {
            Self::Builtin(name) => builtins
                .iter()
                .find(|builtin| builtin.name == name)
                .map(|builtin| vec![fetched(Cow::Borrowed(builtin.wasm))])
                .ok_or_else(|| SourceError::UnknownBuiltin {
                    known: builtins.iter().map(|b| b.name.to_owned()).collect(),
                }),
            Self::Path(path) => read_path(path, base_dir),
            Self::Https { url, sha256 } => {
                Ok(vec![fetched(Cow::Owned(download(url, *sha256, options)?))])
            }
            Self::Oci(reference) => Ok(vec![fetched(Cow::Owned(pull(reference, options)?))]),
        }
    }
}

/// The module at `path`, or every `*.wasm` file directly in the folder at `path`.
fn read_path(path: &Path, base_dir: &Path) -> Result<Vec<FetchedModule>, SourceError> {
    let full_path = base_dir.join(path);
    let unreadable = |path: &Path, error| SourceError::Unreadable {
        path: path.to_owned(),
        error: Arc::new(error),
    };
    let read = |relative: PathBuf, full: &Path| {
        acr_io::read(full, acr_io::InputKind::PolicyModule)
            .map(|bytes| FetchedModule {
                source: ModuleSource::Path(relative),
                bytes: Cow::Owned(bytes),
            })
            .map_err(|error| unreadable(full, error))
    };
    if !full_path.is_dir() {
        return read(path.to_owned(), &full_path).map(|module| vec![module]);
    }
    let mut names = Vec::new();
    for entry in std::fs::read_dir(&full_path).map_err(|error| unreadable(&full_path, error))? {
        let entry = entry.map_err(|error| unreadable(&full_path, error))?;
        let name = entry.file_name();
        if Path::new(&name)
            .extension()
            .is_some_and(|ext| ext == "wasm")
            && entry.path().is_file()
        {
            names.push(name);
        }
    }
    if names.is_empty() {
        return Err(SourceError::EmptyFolder { path: full_path });
    }
    names.sort();
    names
        .into_iter()
        .map(|name| read(path.join(&name), &full_path.join(&name)))
        .collect()
}

/// Downloads the module at `url` (https), unless the store has it, and checks its SHA-256.
fn download(
    url: &str,
    sha256: Sha256Digest,
    options: &SourceOptions,
) -> Result<Vec<u8>, RemoteError> {
    let store = options.store()?;
    if let Some(module) = store
        .as_ref()
        .map(|store| store.get(sha256))
        .transpose()?
        .flatten()
    {
        return Ok(module);
    }
    options.check_online(|| url.to_owned())?;
    let response = options.client()?.get(url)?;
    if response.status() != StatusCode::OK {
        return Err(RemoteError::status("GET", url, response));
    }
    let module = acr_net::read_body(response, url, options.max_module_bytes, "a policy module")?;
    let actual = Sha256Digest::of(&module);
    if actual != sha256 {
        return Err(RemoteError::DigestMismatch {
            what: format!("the module at {url}"),
            expected: sha256,
            actual,
        });
    }
    if let Some(store) = &store {
        store.put(sha256, &module)?;
    }
    Ok(module)
}

impl FromStr for ModuleSource {
    type Err = SourceSyntaxError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        if let Some(name) = text.strip_prefix("builtin:") {
            return Ok(Self::Builtin(name.to_owned()));
        }
        let module = || text.to_owned();
        match text.split_once(':') {
            Some(("https", _)) => {
                let (url, pin) = text
                    .split_once('#')
                    .ok_or_else(|| SourceSyntaxError::UnpinnedUrl { module: module() })?;
                let hex = pin
                    .strip_prefix("sha256=")
                    .ok_or_else(|| SourceSyntaxError::UnpinnedUrl { module: module() })?;
                let sha256 =
                    Sha256Digest::from_hex(hex).ok_or_else(|| SourceSyntaxError::Invalid {
                        module: module(),
                        reason: format!("`{hex}` after `#sha256=` is not 64 hexadecimal digits"),
                    })?;
                Ok(Self::Https {
                    url: url.to_owned(),
                    sha256,
                })
            }
            Some(("http", _)) => Err(SourceSyntaxError::PlainHttp { module: module() }),
            Some(("oci", _)) => {
                let reference: OciReference =
                    text.parse().map_err(|error: InvalidOciReference| {
                        SourceSyntaxError::Invalid {
                            module: module(),
                            reason: error.reason,
                        }
                    })?;
                if reference.digest.is_none() {
                    return Err(SourceSyntaxError::UnpinnedOci { module: module() });
                }
                Ok(Self::Oci(reference))
            }
            Some((scheme, _)) if is_url_scheme(scheme) => {
                Err(SourceSyntaxError::UnsupportedScheme {
                    module: module(),
                    scheme: scheme.to_owned(),
                })
            }
            _ => Ok(Self::Path(PathBuf::from(text))),
        }
    }
}

impl TryFrom<String> for ModuleSource {
    type Error = SourceSyntaxError;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        text.parse()
    }
}

/// Whether `prefix` (the text before the first `:`) is a URL scheme rather than a Windows
/// drive letter or part of a file name.
fn is_url_scheme(prefix: &str) -> bool {
    prefix.len() > 1
        && prefix.starts_with(|c: char| c.is_ascii_alphabetic())
        && prefix
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
}

impl fmt::Display for ModuleSource {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Builtin(name) => write!(formatter, "builtin:{name}"),
            Self::Path(path) => write!(formatter, "{}", path.display()),
            Self::Https { url, sha256 } => write!(formatter, "{url}#sha256={}", sha256.hex()),
            Self::Oci(reference) => write!(formatter, "{reference}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEX: &str = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

    fn parse(text: &str) -> Result<ModuleSource, String> {
        text.parse::<ModuleSource>()
            .map_err(|error| error.to_string())
    }

    #[test]
    fn every_source_kind_parses_and_prints_back() {
        for text in [
            "builtin:min-key-size",
            "./org/min-key-size.wasm",
            "org",
            r"C:\policies\org.wasm",
            &format!("https://policies.example/org/p.wasm#sha256={HEX}"),
            &format!("oci://registry.example:5000/org/p@sha256:{HEX}"),
            &format!("oci://registry.example/org/p:1.0@sha256:{HEX}"),
        ] {
            let source = text.parse::<ModuleSource>().expect(text);
            assert_eq!(source.to_string(), text);
        }
        assert_eq!(
            parse(&format!("https://h/p.wasm#sha256={HEX}")),
            Ok(ModuleSource::Https {
                url: "https://h/p.wasm".to_owned(),
                sha256: Sha256Digest::from_hex(HEX).expect("hex"),
            })
        );
        assert_eq!(
            parse(r"C:\policies\org.wasm"),
            Ok(ModuleSource::Path(PathBuf::from(r"C:\policies\org.wasm")))
        );
    }

    #[test]
    fn unpinned_insecure_and_unknown_sources_are_refused() {
        assert_eq!(
            parse("https://h/p.wasm"),
            Err(
                "module source `https://h/p.wasm` is not pinned: end the URL with \
                 `#sha256=HEX`, the SHA-256 of the module (64 hexadecimal digits)"
                    .to_owned()
            )
        );
        assert!(
            parse("https://h/p.wasm#md5=00")
                .expect_err("not a sha256 pin")
                .starts_with("module source `https://h/p.wasm#md5=00` is not pinned: ")
        );
        assert_eq!(
            parse("https://h/p.wasm#sha256=abc"),
            Err(
                "module source `https://h/p.wasm#sha256=abc`: `abc` after `#sha256=` is not 64 \
                 hexadecimal digits"
                    .to_owned()
            )
        );
        assert_eq!(
            parse(&format!("http://h/p.wasm#sha256={HEX}")),
            Err(format!(
                "module source `http://h/p.wasm#sha256={HEX}` uses plain http; policy modules \
                 are fetched over https only"
            ))
        );
        assert_eq!(
            parse("oci://registry.example/org/p:1.0"),
            Err(
                "module source `oci://registry.example/org/p:1.0` is not pinned by digest: use \
                 `oci://REGISTRY/REPOSITORY@sha256:HEX` with the manifest digest (`policy push` \
                 prints it)"
                    .to_owned()
            )
        );
        assert_eq!(
            parse("oci://registry.example/Org"),
            Err(
                "module source `oci://registry.example/Org`: the repository must be \
                 `/`-separated lowercase names of letters, digits and `.`, `_` or `-` between \
                 them"
                    .to_owned()
            )
        );
        assert_eq!(
            parse("ftp://h/p.wasm"),
            Err(
                "module source `ftp://h/p.wasm` has the unsupported scheme `ftp:`; use a file \
                 or folder path, `builtin:NAME`, `https://HOST/PATH#sha256=HEX` or \
                 `oci://REGISTRY/REPOSITORY@sha256:HEX`"
                    .to_owned()
            )
        );
    }

    #[test]
    fn folders_give_their_wasm_files_sorted_and_empty_folders_are_refused() {
        let dir = tempfile::tempdir().expect("temp dir");
        let folder = dir.path().join("org");
        std::fs::create_dir(&folder).expect("folder");
        for name in ["b.wasm", "a.wasm", "notes.txt"] {
            std::fs::write(folder.join(name), name).expect("write");
        }
        std::fs::create_dir(folder.join("c.wasm")).expect("folder named like a module");
        let modules = ModuleSource::Path(PathBuf::from("org"))
            .fetch(dir.path(), &[], &SourceOptions::default())
            .expect("fetches");
        let found: Vec<(String, &[u8])> = modules
            .iter()
            .map(|module| (module.source.to_string(), module.bytes.as_ref()))
            .collect();
        assert_eq!(
            found,
            [
                (
                    format!("org{}a.wasm", std::path::MAIN_SEPARATOR),
                    b"a.wasm".as_slice()
                ),
                (
                    format!("org{}b.wasm", std::path::MAIN_SEPARATOR),
                    b"b.wasm".as_slice()
                ),
            ]
        );

        let empty = dir.path().join("empty");
        std::fs::create_dir(&empty).expect("folder");
        let error = ModuleSource::Path(PathBuf::from("empty"))
            .fetch(dir.path(), &[], &SourceOptions::default())
            .expect_err("empty");
        assert_eq!(
            error.to_string(),
            format!(
                "names the folder {}, which holds no `.wasm` file",
                empty.display()
            )
        );
    }

    #[test]
    fn builtins_are_found_by_name() {
        let builtins = [Builtin {
            name: "a",
            wasm: b"module a",
        }];
        let fetched = ModuleSource::Builtin("a".to_owned())
            .fetch(Path::new(""), &builtins, &SourceOptions::default())
            .expect("found");
        assert!(matches!(fetched[0].bytes, Cow::Borrowed(b"module a")));
        let error = ModuleSource::Builtin("b".to_owned())
            .fetch(Path::new(""), &builtins, &SourceOptions::default())
            .expect_err("unknown");
        assert_eq!(
            error.to_string(),
            "is not a built-in policy (built-in policies: a)"
        );
    }
}
