//! Air-gap bundles: one folder holding what a disconnected site needs, saved where there is a
//! network and used where there is none (`--bundle DIR`, which fetches nothing):
//!
//! - `store/sha256-HEX`: a store of fetched artefacts (the same [`ContentStore`] as the user's
//!   cache): the remote policy modules a policy set names with their OCI manifests, and
//!   cert-manager's pinned release manifests;
//! - `images.txt`: the container images to copy into the site's registry (`skopeo copy`, `oras`),
//!   one a line, each pinned by the digest its registry (or `--registry-mirror`) resolved at
//!   save time, followed by the name and tag the manifests pull ([`images`]);
//! - `bundle.json`: every file with its SHA-256 and the images with their digests, which
//!   `bundle verify` checks.

mod images;

pub use images::{BundleImage, ImageReference, InvalidImage, InvalidMirror, RegistryMirrors};

use crate::cluster::{CertManagerError, CertManagerManifests, CertManagerRelease};
use crate::fsio::{self, FileMode, Overwrite};
use acr_policy::PolicySet;
use acr_policy::sources::{ContentStore, ModuleSource, RemoteError, Sha256Digest, SourceOptions};
use std::path::{Path, PathBuf};

/// The bundle's list of files and their SHA-256.
pub const MANIFEST_FILE: &str = "bundle.json";
/// The bundle's list of images.
pub const IMAGES_FILE: &str = "images.txt";
const STORE_DIR: &str = "store";
/// 2: images with their digests (format 1 listed tags only).
const FORMAT: u32 = 2;

/// The store inside the bundle at `bundle`.
pub fn store_dir(bundle: &Path) -> PathBuf {
    bundle.join(STORE_DIR)
}

/// The source options that use the bundle at `bundle` and nothing else.
pub fn offline_sources(bundle: &Path) -> SourceOptions {
    SourceOptions {
        store_dir: Some(store_dir(bundle)),
        offline: true,
        ..SourceOptions::default()
    }
}

/// What `bundle save` puts in the bundle.
#[derive(Debug, Clone)]
pub struct SaveRequest {
    pub out: PathBuf,
    /// The policy set whose remote modules are saved.
    pub policy_set: Option<PathBuf>,
    /// The cert-manager release to save (for `cert-manager.install=true`):
    /// [`CertManagerRelease::pinned`], the one deploy and render look for.
    pub cert_manager: Option<CertManagerRelease>,
    /// How remote modules and manifests are fetched and image digests resolved (trust, plain
    /// http, credentials); the store is the bundle's, seeded by
    /// [`SourceOptions::seed_store_dir`] (the user's own store) so that nothing it holds is
    /// fetched again.
    pub sources: SourceOptions,
    /// Where image digests are asked for instead of the images' own registries.
    pub registry_mirrors: RegistryMirrors,
    /// The connected registry's image, as `container.image` sets it for deploy and render.
    pub registry_image: String,
    /// The trust-distribution DaemonSet's image, as `--trust-image` sets it.
    pub trust_image: String,
}

/// `bundle.json`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct BundleManifest {
    pub format: u32,
    pub files: Vec<BundleFile>,
    pub images: Vec<BundleImage>,
}

/// One file of the bundle, relative to its folder.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct BundleFile {
    pub path: String,
    pub sha256: String,
}

/// Why a bundle cannot be saved or does not verify.
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    #[error("cannot read the policy set")]
    PolicySet(#[from] acr_policy::PolicySetError),
    #[error("policy `{module}` cannot be saved in the bundle")]
    Module {
        module: String,
        #[source]
        source: acr_policy::sources::SourceError,
    },
    #[error(transparent)]
    Store(#[from] RemoteError),
    #[error(transparent)]
    CertManager(#[from] CertManagerError),
    #[error(transparent)]
    Image(#[from] InvalidImage),
    #[error(
        "cannot resolve the digest of the image {image}{}: images.txt pins every image by digest{}",
        match mirror { Some(mirror) => format!(" through the mirror {mirror}"), None => String::new() },
        match mirror {
            Some(_) => String::new(),
            None => format!(
                "; if this machine reaches {registry} only through a mirror, give \
                 --registry-mirror {registry}=HOST[:PORT]"
            ),
        }
    )]
    ImageDigest {
        image: String,
        registry: String,
        mirror: Option<String>,
        #[source]
        source: Box<RemoteError>,
    },
    #[error(transparent)]
    Write(#[from] fsio::WriteError),
    #[error("cannot read {}: {error}", path.display())]
    Read {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("{} is not a bundle manifest: {reason}", path.display())]
    InvalidManifest { path: PathBuf, reason: String },
    #[error("the bundle does not verify: {}", problems.join("; "))]
    Mismatch { problems: Vec<String> },
}

/// Saves the bundle: takes from the bundle's store, else the seed store, else fetches what the
/// request names; resolves every image's digest; then writes `images.txt` and `bundle.json`.
pub fn save(request: &SaveRequest) -> Result<BundleManifest, BundleError> {
    let store = store_dir(&request.out);
    let sources = SourceOptions {
        store_dir: Some(store.clone()),
        offline: false,
        ..request.sources.clone()
    };
    ContentStore::open(&store)?;
    if let Some(path) = &request.policy_set {
        let set = PolicySet::from_file(path)?;
        for entry in &set.policies {
            if matches!(
                entry.module,
                ModuleSource::Https { .. } | ModuleSource::Oci(_)
            ) {
                entry
                    .module
                    .fetch(&set.base_dir, &[], &sources)
                    .map_err(|source| BundleError::Module {
                        module: entry.module.to_string(),
                        source,
                    })?;
            }
        }
    }
    let mut names = vec![request.registry_image.clone(), request.trust_image.clone()];
    if let Some(release) = &request.cert_manager {
        names.extend(CertManagerManifests::release(release, &sources)?.images());
    }
    let mut references = names
        .iter()
        .map(|name| name.parse::<ImageReference>())
        .collect::<Result<Vec<_>, _>>()?;
    references.sort();
    references.dedup();
    let images = references
        .iter()
        .map(|image| {
            let mirror = request.registry_mirrors.of(&image.registry);
            image
                .resolve(mirror, &sources)
                .map(|digest| BundleImage::new(image, digest))
                .map_err(|source| BundleError::ImageDigest {
                    image: image.to_string(),
                    registry: image.registry.clone(),
                    mirror: mirror.map(str::to_owned),
                    source: Box::new(source),
                })
        })
        .collect::<Result<Vec<_>, _>>()?;
    fsio::write_atomic(
        &request.out.join(IMAGES_FILE),
        images_text(&images).as_bytes(),
        FileMode::Public,
        Overwrite::Replace,
    )?;
    let manifest = BundleManifest {
        format: FORMAT,
        files: list_files(&request.out)?,
        images,
    };
    let mut text = serde_json::to_string_pretty(&manifest).expect("the manifest is plain JSON");
    text.push('\n');
    fsio::write_atomic(
        &request.out.join(MANIFEST_FILE),
        text.as_bytes(),
        FileMode::Public,
        Overwrite::Replace,
    )?;
    Ok(manifest)
}

/// Checks every file `bundle.json` lists against its SHA-256, and that the store holds nothing
/// it does not list.
pub fn verify(bundle: &Path) -> Result<BundleManifest, BundleError> {
    let path = bundle.join(MANIFEST_FILE);
    let bytes = read(&path)?;
    let manifest: BundleManifest =
        serde_json::from_slice(&bytes).map_err(|error| BundleError::InvalidManifest {
            path: path.clone(),
            reason: error.to_string(),
        })?;
    if manifest.format != FORMAT {
        return Err(BundleError::InvalidManifest {
            path,
            reason: format!("its format is {}, not {FORMAT}", manifest.format),
        });
    }
    let found = list_files(bundle)?;
    let mut problems = images_problems(bundle, &manifest.images)?;
    for file in &manifest.files {
        match found.iter().find(|present| present.path == file.path) {
            None => problems.push(format!("{} is missing", file.path)),
            Some(present) if present.sha256 != file.sha256 => problems.push(format!(
                "{} has the SHA-256 {}, not {}",
                file.path, present.sha256, file.sha256
            )),
            Some(_) => {}
        }
    }
    for present in &found {
        if !manifest.files.iter().any(|file| file.path == present.path) {
            problems.push(format!("{} is not listed in {MANIFEST_FILE}", present.path));
        }
    }
    if problems.is_empty() {
        Ok(manifest)
    } else {
        Err(BundleError::Mismatch { problems })
    }
}

/// `images.txt`: a line per image, in the order of `bundle.json`.
fn images_text(images: &[BundleImage]) -> String {
    images.iter().map(|image| image.line() + "\n").collect()
}

/// What is wrong with `images.txt`: lines that are not an image pinned by digest and its tag,
/// or a list other than `bundle.json`'s.
fn images_problems(bundle: &Path, listed: &[BundleImage]) -> Result<Vec<String>, BundleError> {
    let path = bundle.join(IMAGES_FILE);
    if !path.exists() {
        // Named as a missing file with the others.
        return Ok(Vec::new());
    }
    let text = String::from_utf8_lossy(&read(&path)?).into_owned();
    let mut problems = Vec::new();
    let mut found = Vec::new();
    for (number, line) in text.lines().enumerate() {
        match BundleImage::parse_line(line) {
            Ok(image) => found.push(image),
            Err(reason) => problems.push(format!("{IMAGES_FILE} line {}: {reason}", number + 1)),
        }
    }
    if problems.is_empty() && found != listed {
        problems.push(format!(
            "{IMAGES_FILE} does not list the images of {MANIFEST_FILE} with their digests"
        ));
    }
    Ok(problems)
}

/// `images.txt` and every entry of the store, sorted, with their SHA-256.
fn list_files(bundle: &Path) -> Result<Vec<BundleFile>, BundleError> {
    let mut paths = vec![IMAGES_FILE.to_owned()];
    let store = store_dir(bundle);
    let entries = std::fs::read_dir(&store).map_err(|error| BundleError::Read {
        path: store.clone(),
        error,
    })?;
    for entry in entries {
        let entry = entry.map_err(|error| BundleError::Read {
            path: store.clone(),
            error,
        })?;
        if let Some(name) = entry.file_name().to_str() {
            paths.push(format!("{STORE_DIR}/{name}"));
        }
    }
    paths.sort();
    paths
        .into_iter()
        .map(|path| {
            let bytes = read(&bundle.join(&path))?;
            Ok(BundleFile {
                sha256: Sha256Digest::of(&bytes).hex(),
                path,
            })
        })
        .collect()
}

fn read(path: &Path) -> Result<Vec<u8>, BundleError> {
    acr_io::read(path, acr_io::InputKind::Manifests).map_err(|error| BundleError::Read {
        path: path.to_owned(),
        error,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_txt_must_pin_every_image_of_the_manifest_in_its_order() {
        let dir = tempfile::tempdir().expect("tempdir");
        let image = |text: &str, content: &[u8]| {
            BundleImage::new(
                &text.parse::<ImageReference>().expect("image"),
                Sha256Digest::of(content),
            )
        };
        let listed = vec![
            image("mcr.microsoft.com/acr/connected-registry:0.9.0", b"a"),
            image("quay.io/jetstack/cert-manager-webhook:v1.21.1", b"b"),
        ];
        let write = |text: &str| std::fs::write(dir.path().join(IMAGES_FILE), text).expect("write");
        write(&images_text(&listed));
        assert_eq!(
            images_problems(dir.path(), &listed).expect("reads"),
            Vec::<String>::new()
        );
        assert_eq!(
            images_problems(dir.path(), &listed[..1]).expect("reads"),
            ["images.txt does not list the images of bundle.json with their digests"]
        );
        write(&format!(
            "{}\nquay.io/jetstack/cert-manager-webhook:v1.21.1\n",
            listed[0].line()
        ));
        assert_eq!(
            images_problems(dir.path(), &listed).expect("reads"),
            [
                "images.txt line 2: `quay.io/jetstack/cert-manager-webhook:v1.21.1` is not \
              `REGISTRY/REPOSITORY@sha256:HEX REGISTRY/REPOSITORY:TAG`"
            ]
        );
    }
}
