//! The local content-addressed store of everything fetched (policy modules, OCI manifests,
//! cert-manager's release manifests), so a pinned artefact is downloaded once:
//! `<dir>/sha256-<hex>`, written atomically.
//!
//! The folder is opened and checked exactly as the compiled-policy cache's is (one mechanism,
//! [`crate::cache`]'s private folder): a real directory owned by the current user and not
//! writable by group or others, every access relative to the one open handle. Every read is
//! also checked against the digest the entry is named by, so an entry that does not match
//! (damaged, or planted) is ignored, fetched again and replaced.

use super::RemoteError;
use super::digest::Sha256Digest;
use crate::cache::CacheProblem;
use crate::cache::private_dir::PrivateDir;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A private folder of blobs named by their SHA-256.
#[derive(Debug)]
pub struct ContentStore {
    dir: PathBuf,
    handle: PrivateDir,
}

impl ContentStore {
    /// Creates `dir` if needed (0700) and opens it, refusing a folder another user controls.
    pub fn open(dir: &Path) -> Result<Self, RemoteError> {
        let handle = PrivateDir::open(dir).map_err(|problem| match problem {
            CacheProblem::NotPrivate { path, reason } => {
                RemoteError::StoreNotPrivate { path, reason }
            }
            CacheProblem::Unusable { path, error } => store_error(path, error),
            other => RemoteError::StoreNotPrivate {
                path: dir.to_owned(),
                reason: other.to_string(),
            },
        })?;
        Ok(Self {
            dir: dir.to_owned(),
            handle,
        })
    }

    fn entry_name(digest: Sha256Digest) -> String {
        format!("sha256-{}", digest.hex())
    }

    /// Where the entry named `digest` lives.
    pub fn entry_path(&self, digest: Sha256Digest) -> PathBuf {
        self.dir.join(Self::entry_name(digest))
    }

    /// The stored bytes named `digest`, when present and matching it.
    pub fn get(&self, digest: Sha256Digest) -> Result<Option<Vec<u8>>, RemoteError> {
        match self.handle.read(&Self::entry_name(digest)) {
            Ok(bytes) if Sha256Digest::of(&bytes) == digest => Ok(Some(bytes)),
            Ok(_) => Ok(None),
            Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(error) => Err(store_error(self.entry_path(digest), error)),
        }
    }

    /// Stores `bytes`, which the caller has checked to have the digest `digest`.
    pub fn put(&self, digest: Sha256Digest, bytes: &[u8]) -> Result<(), RemoteError> {
        self.handle
            .write_atomically(&Self::entry_name(digest), bytes)
            .map_err(|error| store_error(self.entry_path(digest), error))
    }
}

fn store_error(path: PathBuf, error: io::Error) -> RemoteError {
    RemoteError::Store {
        path,
        error: Arc::new(error),
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt as _;

    #[test]
    fn entries_are_found_by_digest_and_mismatching_ones_ignored() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = ContentStore::open(&dir.path().join("store")).expect("opens");
        let digest = Sha256Digest::of(b"module");
        assert_eq!(store.get(digest).expect("reads"), None);

        store.put(digest, b"module").expect("writes");
        assert_eq!(store.get(digest).expect("reads"), Some(b"module".to_vec()));

        std::fs::write(store.entry_path(digest), b"tampered").expect("tamper");
        assert_eq!(store.get(digest).expect("reads"), None);
    }

    #[test]
    fn a_folder_others_may_write_is_refused() {
        let dir = tempfile::tempdir().expect("temp dir");
        let shared = dir.path().join("shared");
        std::fs::create_dir(&shared).expect("folder");
        std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o777)).expect("chmod");
        let error = ContentStore::open(&shared).expect_err("refused");
        assert!(
            matches!(&error, RemoteError::StoreNotPrivate { reason, .. } if reason.contains("lets group or others write it")),
            "{error}"
        );
    }
}
