//! The local content-addressed store of fetched policy modules and OCI manifests, so a pinned
//! module is downloaded once: `<dir>/sha256/<hex>`, written atomically.
//!
//! Every read is checked against the digest the entry is named by, so the store needs no trust
//! of its own: an entry that does not match (damaged, or written by someone else) is ignored,
//! fetched again and replaced.

use super::RemoteError;
use super::digest::Sha256Digest;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A directory of blobs named by their SHA-256.
#[derive(Debug)]
pub(crate) struct ModuleStore {
    dir: PathBuf,
}

impl ModuleStore {
    pub(crate) fn new(dir: &Path) -> Self {
        Self {
            dir: dir.to_owned(),
        }
    }

    fn entry_path(&self, digest: Sha256Digest) -> PathBuf {
        self.dir.join("sha256").join(digest.hex())
    }

    /// The stored bytes named `digest`, when present and matching it.
    pub(crate) fn get(&self, digest: Sha256Digest) -> Result<Option<Vec<u8>>, RemoteError> {
        let path = self.entry_path(digest);
        match acr_io::read(&path, acr_io::InputKind::PolicyModule) {
            Ok(bytes) if Sha256Digest::of(&bytes) == digest => Ok(Some(bytes)),
            Ok(_) => Ok(None),
            Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(error) => Err(store_error(path, error)),
        }
    }

    /// Stores `bytes`, which the caller has checked to have the digest `digest`.
    pub(crate) fn put(&self, digest: Sha256Digest, bytes: &[u8]) -> Result<(), RemoteError> {
        let path = self.entry_path(digest);
        let parent = path.parent().unwrap_or(&self.dir);
        std::fs::create_dir_all(parent).map_err(|error| store_error(parent.to_owned(), error))?;
        let mut file = tempfile::NamedTempFile::new_in(parent)
            .map_err(|error| store_error(parent.to_owned(), error))?;
        file.write_all(bytes)
            .map_err(|error| store_error(file.path().to_owned(), error))?;
        file.persist(&path)
            .map_err(|error| store_error(path.clone(), error.error))?;
        Ok(())
    }
}

fn store_error(path: PathBuf, error: io::Error) -> RemoteError {
    RemoteError::Store {
        path,
        error: Arc::new(error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_found_by_digest_and_mismatching_ones_ignored() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = ModuleStore::new(&dir.path().join("store"));
        let digest = Sha256Digest::of(b"module");
        assert_eq!(store.get(digest).expect("reads"), None);

        store.put(digest, b"module").expect("writes");
        assert_eq!(store.get(digest).expect("reads"), Some(b"module".to_vec()));

        std::fs::write(store.entry_path(digest), b"tampered").expect("tamper");
        assert_eq!(store.get(digest).expect("reads"), None);
    }
}
