//! A plan as a kustomize-ready folder for GitOps repositories: one file per object, a
//! `kustomization.yaml` listing them, cert-manager's release as its own layer when the method
//! installs it, and every Secret either in a file of its own (mode 0600, listed in the
//! `.gitignore` written beside it) or as an External Secrets Operator `ExternalSecret` that holds
//! no value. `kubectl kustomize DIR` then gives exactly the objects `deploy` applies.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use super::output::manifest_yaml;
use super::{Plan, PlannedObject, SecretDisplay};
use crate::fsio::{self, FileMode, OutputFile, Overwrite, WriteError};
use crate::policy::approval::{self, Approval};

/// The folder of cert-manager's layer inside the output folder.
pub const CERT_MANAGER_LAYER: &str = "cert-manager";
/// The API version of the `ExternalSecret` templates.
pub const EXTERNAL_SECRET_API_VERSION: &str = "external-secrets.io/v1";

/// How Secrets are written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretForm {
    /// Each Secret with its values in its own file, mode 0600, listed in `.gitignore`.
    File,
    /// Each Secret as an `ExternalSecret` that makes it from the named secret store; the files
    /// hold no value and belong in git.
    ExternalSecret {
        store: String,
        store_kind: StoreKind,
    },
}

/// The kind of secret store an `ExternalSecret` reads from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreKind {
    SecretStore,
    ClusterSecretStore,
}

impl StoreKind {
    fn as_str(self) -> &'static str {
        match self {
            StoreKind::SecretStore => "SecretStore",
            StoreKind::ClusterSecretStore => "ClusterSecretStore",
        }
    }
}

/// One file of the folder, its path relative to the folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FolderFile {
    pub path: PathBuf,
    pub contents: String,
    pub mode: FileMode,
}

/// A value an `ExternalSecret` expects to find in the secret store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteKey {
    /// The key to create in the store.
    pub remote_key: String,
    /// The Secret and key it fills.
    pub secret: String,
    pub key: String,
}

/// The files of a GitOps folder, not yet written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitOpsFolder {
    pub files: Vec<FolderFile>,
    /// The values to put into the secret store, for [`SecretForm::ExternalSecret`].
    pub remote_keys: Vec<RemoteKey>,
}

impl GitOpsFolder {
    /// Lays out `plan` (and cert-manager's objects, when the method installs it) as files.
    pub fn new(plan: &Plan, cert_manager: Option<&[PlannedObject]>, secrets: &SecretForm) -> Self {
        let mut files = Vec::new();
        let mut resources = Vec::new();
        let mut ignored = Vec::new();
        let mut remote_keys = Vec::new();
        if let Some(objects) = cert_manager {
            let layer = Path::new(CERT_MANAGER_LAYER);
            let release = Plan {
                objects: objects.to_vec(),
            };
            files.push(FolderFile {
                path: layer.join("cert-manager.yaml"),
                contents: release.to_yaml(SecretDisplay::Shown),
                mode: FileMode::Public,
            });
            files.push(FolderFile {
                path: layer.join("kustomization.yaml"),
                contents: kustomization(&["cert-manager.yaml".to_owned()]),
                mode: FileMode::Public,
            });
            resources.push(CERT_MANAGER_LAYER.to_owned());
        }
        for object in &plan.objects {
            let (manifest, mode) = match (object.holds_secret, secrets) {
                (false, _) => (object.manifest.clone(), FileMode::Public),
                (true, SecretForm::File) => (object.manifest.clone(), FileMode::Secret),
                (true, SecretForm::ExternalSecret { store, store_kind }) => {
                    let (external, keys) = external_secret(object, store, *store_kind);
                    remote_keys.extend(keys);
                    (external, FileMode::Public)
                }
            };
            let kind = manifest["kind"].as_str().unwrap_or(&object.kind);
            let name = format!("{}-{}.yaml", kind.to_ascii_lowercase(), object.name);
            if mode == FileMode::Secret {
                ignored.push(format!("/{name}"));
            }
            files.push(FolderFile {
                path: PathBuf::from(&name),
                contents: manifest_yaml(&manifest),
                mode,
            });
            resources.push(name);
        }
        files.push(FolderFile {
            path: PathBuf::from("kustomization.yaml"),
            contents: kustomization(&resources),
            mode: FileMode::Public,
        });
        let mut gitignore = String::from(
            "# Written by kubectl acr render --out-dir: these files hold Secret values (mode \
             0600).\n# Keep them out of git; apply them from the machine that rendered them, or \
             re-render\n# with --secrets external-secret.\n",
        );
        for name in ignored {
            gitignore.push_str(&name);
            gitignore.push('\n');
        }
        files.push(FolderFile {
            path: PathBuf::from(".gitignore"),
            contents: gitignore,
            mode: FileMode::Public,
        });
        Self { files, remote_keys }
    }

    /// Writes every file under `dir` (created 0700 when missing), all or none; only with the
    /// policies' approval.
    pub(crate) fn write(
        &self,
        dir: &Path,
        overwrite: Overwrite,
        _approved: &Approval<approval::ConnectedRegistry>,
    ) -> Result<(), WriteError> {
        let paths: Vec<PathBuf> = self.files.iter().map(|file| dir.join(&file.path)).collect();
        for folder in paths.iter().filter_map(|path| path.parent()) {
            fsio::create_private_dir(folder).map_err(|source| WriteError::Io {
                path: folder.to_path_buf(),
                source,
            })?;
        }
        let outputs: Vec<OutputFile<'_>> = self
            .files
            .iter()
            .zip(&paths)
            .map(|(file, path)| OutputFile {
                path,
                contents: file.contents.as_bytes(),
                mode: file.mode,
            })
            .collect();
        fsio::write_set(&outputs, overwrite)
    }

    /// The files holding Secret values.
    pub fn secret_files(&self) -> impl Iterator<Item = &Path> {
        self.files
            .iter()
            .filter(|file| file.mode == FileMode::Secret)
            .map(|file| file.path.as_path())
    }
}

fn kustomization(resources: &[String]) -> String {
    manifest_yaml(&json!({
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": resources,
    }))
}

/// The `ExternalSecret` that makes `secret` (same name, labels and type) from `store`, and the
/// store keys it reads: `<secret name>-<key>`, the key lowercased with `_` and `.` as `-`.
fn external_secret(
    secret: &PlannedObject,
    store: &str,
    store_kind: StoreKind,
) -> (Value, Vec<RemoteKey>) {
    let keys: Vec<RemoteKey> = secret.manifest["data"]
        .as_object()
        .into_iter()
        .flat_map(|data| data.keys())
        .map(|key| RemoteKey {
            remote_key: format!(
                "{}-{}",
                secret.name,
                key.to_ascii_lowercase().replace(['_', '.'], "-")
            ),
            secret: secret.name.clone(),
            key: key.clone(),
        })
        .collect();
    let data: Vec<Value> = keys
        .iter()
        .map(|key| json!({ "secretKey": key.key, "remoteRef": { "key": key.remote_key } }))
        .collect();
    let metadata = &secret.manifest["metadata"];
    let mut template = json!({ "metadata": { "labels": metadata["labels"] } });
    if let Some(kind) = secret.manifest.get("type") {
        template["type"] = kind.clone();
    }
    let external = json!({
        "apiVersion": EXTERNAL_SECRET_API_VERSION,
        "kind": "ExternalSecret",
        "metadata": {
            "name": secret.name,
            "namespace": metadata["namespace"],
            "labels": metadata["labels"],
        },
        "spec": {
            "refreshInterval": "1h",
            "secretStoreRef": { "name": store, "kind": store_kind.as_str() },
            "target": {
                "name": secret.name,
                "creationPolicy": "Owner",
                "template": template,
            },
            "data": data,
        },
    });
    (external, keys)
}
