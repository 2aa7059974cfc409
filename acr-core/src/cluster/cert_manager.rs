//! cert-manager's release manifests for `cert-manager.install=true`: the pinned release,
//! downloaded over https and checked against its SHA-256 before anything reads it, or a file the
//! user brings (air-gapped sites), read as multi-document YAML into objects to apply.
//!
//! The pin: cert-manager v1.21.1's static install manifest, the release asset `cert-manager.yaml`
//! (1,034,400 bytes; 6 CRDs, 3 Deployments, 1 Namespace). Its SHA-256 is the one that many
//! independent projects pin for that asset; it is verified on every download.

use crate::plan::PlannedObject;
use acr_policy::sources::{RemoteError, Sha256Digest, SourceOptions};
use serde::Deserialize as _;
use serde_json::Value;
use std::path::Path;

/// The cert-manager release installed when no manifests file is given.
pub const CERT_MANAGER_VERSION: &str = "v1.21.1";
/// Where the pinned release's manifests are downloaded from.
pub const CERT_MANAGER_RELEASE_URL: &str =
    "https://github.com/cert-manager/cert-manager/releases/download/v1.21.1/cert-manager.yaml";
/// The SHA-256 of [`CERT_MANAGER_RELEASE_URL`]'s content, lowercase hex.
pub const CERT_MANAGER_RELEASE_SHA256: &str =
    "5f6a499b8c1857d57f560f536e0dcc830914b45c420899fe7ad0692c8624e408";
/// The CustomResourceDefinitions the issuer chain needs.
pub const REQUIRED_CERT_MANAGER_CRDS: [&str; 2] =
    ["certificates.cert-manager.io", "issuers.cert-manager.io"];

/// The Deployment serving cert-manager's admission webhook, which must answer before issuers
/// can be created.
pub(crate) const WEBHOOK_DEPLOYMENT: &str = "cert-manager-webhook";
/// The largest manifests file read or downloaded: eight times the pinned release.
const MAX_MANIFEST_BYTES: u64 = 8 << 20;
/// How long the download may take, from connecting to the last byte.
const DOWNLOAD_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(120);

/// Why cert-manager's manifests cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum CertManagerError {
    #[error("cannot download the cert-manager {CERT_MANAGER_VERSION} manifests from {url}")]
    Download {
        url: String,
        #[source]
        source: acr_net::NetError,
    },
    #[error(
        "the store {} does not hold cert-manager {CERT_MANAGER_VERSION}'s manifests and nothing is \
         downloaded with --bundle (save the bundle again, or pass --cert-manager-manifests FILE)",
        store.display()
    )]
    NotInBundle { store: std::path::PathBuf },
    #[error("cannot keep cert-manager's manifests in the store of fetched artefacts")]
    Store(#[from] RemoteError),
    #[error(
        "cannot download the cert-manager {CERT_MANAGER_VERSION} manifests: {url} answered HTTP {status}"
    )]
    DownloadStatus { url: String, status: u16 },
    #[error(
        "{origin} is larger than {MAX_MANIFEST_BYTES} bytes, too large for cert-manager's manifests"
    )]
    TooLarge { origin: String },
    #[error(
        "{origin} has the SHA-256 {actual}, but the release pinned has {expected}: refusing to apply it (download it again, or pass a copy you trust with --cert-manager-manifests)"
    )]
    DigestMismatch {
        origin: String,
        expected: String,
        actual: String,
    },
    #[error("{origin}, document {document}: not valid YAML")]
    Yaml {
        origin: String,
        document: usize,
        #[source]
        source: serde_yaml_ng::Error,
    },
    #[error("{origin}, document {document}: {reason}")]
    InvalidObject {
        origin: String,
        document: usize,
        reason: String,
    },
    #[error("{origin} does not look like cert-manager's release manifests: it has no {missing}")]
    NotCertManager { origin: String, missing: String },
}

/// cert-manager's objects, in apply order: Namespaces and CustomResourceDefinitions first, the
/// rest as the file lists them.
#[derive(Debug, Clone, PartialEq)]
pub struct CertManagerManifests {
    /// The file or URL they came from.
    pub origin: String,
    /// SHA-256 of the bytes, lowercase hex.
    pub sha256: String,
    pub objects: Vec<PlannedObject>,
}

/// A cert-manager release file: where it is downloaded from and the SHA-256 it must have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertManagerRelease {
    pub url: String,
    pub sha256: Sha256Digest,
}

impl CertManagerRelease {
    /// [`CERT_MANAGER_VERSION`]'s release, [`CERT_MANAGER_RELEASE_URL`] and
    /// [`CERT_MANAGER_RELEASE_SHA256`].
    pub fn pinned() -> Self {
        Self {
            url: CERT_MANAGER_RELEASE_URL.to_owned(),
            sha256: Sha256Digest::from_hex(CERT_MANAGER_RELEASE_SHA256)
                .expect("the pin is 64 hexadecimal digits"),
        }
    }
}

impl CertManagerManifests {
    /// The pinned release ([`CertManagerRelease::pinned`]) as [`Self::release`] gets it, with
    /// the store at `store_dir`; with `offline` (`--bundle`) nothing is downloaded.
    pub fn pinned_release(
        store_dir: Option<&Path>,
        offline: bool,
    ) -> Result<Self, CertManagerError> {
        Self::release(
            &CertManagerRelease::pinned(),
            &SourceOptions {
                store_dir: store_dir.map(Path::to_owned),
                offline,
                ..SourceOptions::default()
            },
        )
    }

    /// `release`: from the store of `sources` when it (or its seed) holds it (no network then),
    /// else downloaded through the one HTTP stack (the system trust store plus
    /// [`SourceOptions::ca_file`]), checked against its SHA-256 before anything reads it, and
    /// kept in the store. With [`SourceOptions::offline`], a store without it is an error.
    pub fn release(
        release: &CertManagerRelease,
        sources: &SourceOptions,
    ) -> Result<Self, CertManagerError> {
        let store = sources.store()?;
        if let Some(bytes) = store
            .as_ref()
            .map(|store| store.get(release.sha256))
            .transpose()?
            .flatten()
        {
            return Self::parse(&release.url, &bytes);
        }
        if sources.offline {
            return Err(CertManagerError::NotInBundle {
                store: sources.store_dir.clone().unwrap_or_default(),
            });
        }
        let bytes = download(&release.url, sources.ca_file.clone())?;
        let actual = Sha256Digest::of(&bytes);
        if actual != release.sha256 {
            return Err(CertManagerError::DigestMismatch {
                origin: release.url.clone(),
                expected: release.sha256.hex(),
                actual: actual.hex(),
            });
        }
        if let Some(store) = &store {
            store.put(release.sha256, &bytes)?;
        }
        Self::parse(&release.url, &bytes)
    }

    /// Reads manifests the user brought (any cert-manager release they chose; whether it is the
    /// pinned one shows in [`Self::is_pinned_release`]).
    pub fn parse(origin: &str, bytes: &[u8]) -> Result<Self, CertManagerError> {
        if bytes.len() as u64 > MAX_MANIFEST_BYTES {
            return Err(CertManagerError::TooLarge {
                origin: origin.to_owned(),
            });
        }
        let mut objects = Vec::new();
        for (index, document) in serde_yaml_ng::Deserializer::from_slice(bytes).enumerate() {
            let number = index + 1;
            let value = Value::deserialize(document).map_err(|source| CertManagerError::Yaml {
                origin: origin.to_owned(),
                document: number,
                source,
            })?;
            if value.is_null() {
                continue;
            }
            objects.push(
                object_of(value).map_err(|reason| CertManagerError::InvalidObject {
                    origin: origin.to_owned(),
                    document: number,
                    reason,
                })?,
            );
        }
        objects.sort_by_key(|object| match object.kind.as_str() {
            "Namespace" => 0,
            "CustomResourceDefinition" => 1,
            _ => 2,
        });
        let manifests = Self {
            origin: origin.to_owned(),
            sha256: sha256_hex(bytes),
            objects,
        };
        manifests.check_complete()?;
        Ok(manifests)
    }

    /// The container images the manifests' workloads run, as they name them.
    pub fn images(&self) -> Vec<String> {
        let mut images: Vec<String> = self
            .objects
            .iter()
            .flat_map(|object| {
                [
                    "/spec/template/spec/containers",
                    "/spec/template/spec/initContainers",
                ]
                .into_iter()
                .filter_map(|pointer| object.manifest.pointer(pointer)?.as_array())
                .flatten()
                .filter_map(|container| container.get("image")?.as_str().map(str::to_owned))
            })
            .collect();
        images.sort();
        images.dedup();
        images
    }

    /// Whether these are byte for byte the pinned release.
    pub fn is_pinned_release(&self) -> bool {
        self.sha256 == CERT_MANAGER_RELEASE_SHA256
    }

    /// The Deployment of cert-manager's webhook.
    pub(crate) fn webhook(&self) -> Option<&PlannedObject> {
        self.objects
            .iter()
            .find(|object| object.kind == "Deployment" && object.name == WEBHOOK_DEPLOYMENT)
    }

    fn check_complete(&self) -> Result<(), CertManagerError> {
        let has = |kind: &str, name: &str| {
            self.objects
                .iter()
                .any(|object| object.kind == kind && object.name == name)
        };
        let mut missing: Vec<String> = REQUIRED_CERT_MANAGER_CRDS
            .iter()
            .filter(|crd| !has("CustomResourceDefinition", crd))
            .map(|crd| format!("CustomResourceDefinition {crd}"))
            .collect();
        if self.webhook().is_none() {
            missing.push(format!("Deployment {WEBHOOK_DEPLOYMENT}"));
        }
        if missing.is_empty() {
            Ok(())
        } else {
            Err(CertManagerError::NotCertManager {
                origin: self.origin.clone(),
                missing: missing.join(", "),
            })
        }
    }
}

/// One YAML document as an object to apply.
fn object_of(manifest: Value) -> Result<PlannedObject, String> {
    let text = |pointer: &str| manifest.pointer(pointer).and_then(Value::as_str);
    let api_version = text("/apiVersion").ok_or("it has no apiVersion")?;
    let kind = text("/kind").ok_or("it has no kind")?;
    if kind.ends_with("List") {
        return Err(format!(
            "a {kind} is not applied; list its items as documents"
        ));
    }
    let name = text("/metadata/name").ok_or_else(|| format!("the {kind} has no metadata.name"))?;
    Ok(PlannedObject {
        api_version: api_version.to_owned(),
        kind: kind.to_owned(),
        name: name.to_owned(),
        namespace: text("/metadata/namespace").map(str::to_owned),
        holds_secret: kind == "Secret",
        manifest,
    })
}

pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, bytes)
        .as_ref()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// GET `url` through the one HTTP stack (system trust store plus `ca_file`, proxies from the
/// environment), at most [`MAX_MANIFEST_BYTES`].
fn download(url: &str, ca_file: Option<std::path::PathBuf>) -> Result<Vec<u8>, CertManagerError> {
    let transport = |source| CertManagerError::Download {
        url: url.to_owned(),
        source,
    };
    let client =
        acr_net::HttpClient::new(&acr_net::ClientOptions::system(ca_file, DOWNLOAD_TIMEOUT))
            .map_err(transport)?;
    let response = client.get(url).map_err(transport)?;
    let status = response.status().as_u16();
    if status != 200 {
        return Err(CertManagerError::DownloadStatus {
            url: url.to_owned(),
            status,
        });
    }
    acr_net::read_body(
        response,
        url,
        MAX_MANIFEST_BYTES,
        "cert-manager's manifests",
    )
    .map_err(|error| match error {
        acr_net::NetError::TooLarge { .. } => CertManagerError::TooLarge {
            origin: url.to_owned(),
        },
        other => transport(other),
    })
}
