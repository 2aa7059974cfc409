//! The local content-addressed store of everything fetched (policy modules, OCI manifests,
//! cert-manager's release manifests), so a pinned artefact is downloaded once:
//! `<dir>/sha256-<hex>`, written atomically.
//!
//! The folder is opened and checked exactly as the compiled-policy cache's is (one mechanism,
//! [`crate::cache`]'s private folder): a real directory owned by the current user and not
//! writable by group or others, every access relative to the one open handle. Every read is
//! also checked against the digest the entry is named by, so an entry that does not match
//! (damaged, or planted) is ignored, fetched again and replaced.
//!
//! A store may have a *seed*: a second store read when an entry is missing, whose matching
//! entries are copied in (`bundle save` seeds the bundle's store with the user's own, so what
//! was fetched once is not fetched again).

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
    seed: Option<Box<ContentStore>>,
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
            seed: None,
        })
    }

    /// Opens `dir` as [`Self::open`] does, with the store at `seed` (when given, and a folder
    /// that exists) read for entries `dir` lacks. A seed that is not private is refused as `dir`
    /// would be.
    pub fn open_seeded(dir: &Path, seed: Option<&Path>) -> Result<Self, RemoteError> {
        let mut store = Self::open(dir)?;
        if let Some(seed) = seed.filter(|seed| seed.is_dir() && *seed != dir) {
            store.seed = Some(Box::new(Self::open(seed)?));
        }
        Ok(store)
    }

    fn entry_name(digest: Sha256Digest) -> String {
        format!("sha256-{}", digest.hex())
    }

    /// Where the entry named `digest` lives.
    pub fn entry_path(&self, digest: Sha256Digest) -> PathBuf {
        self.dir.join(Self::entry_name(digest))
    }

    /// The stored bytes named `digest`, when present and matching it; else the seed's, which
    /// are then kept here too.
    pub fn get(&self, digest: Sha256Digest) -> Result<Option<Vec<u8>>, RemoteError> {
        match self.handle.read(&Self::entry_name(digest)) {
            Ok(bytes) if Sha256Digest::of(&bytes) == digest => return Ok(Some(bytes)),
            Ok(_) => {}
            Err(error) if error.kind() == io::ErrorKind::NotFound => {}
            Err(error) => return Err(store_error(self.entry_path(digest), error)),
        }
        let Some(bytes) = self
            .seed
            .as_ref()
            .map(|seed| seed.get(digest))
            .transpose()?
            .flatten()
        else {
            return Ok(None);
        };
        self.put(digest, &bytes)?;
        Ok(Some(bytes))
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
    fn a_seeded_store_copies_matching_entries_from_its_seed() {
        let dir = tempfile::tempdir().expect("temp dir");
        let seed = ContentStore::open(&dir.path().join("user")).expect("opens");
        let (kept, planted) = (Sha256Digest::of(b"kept"), Sha256Digest::of(b"planted"));
        seed.put(kept, b"kept").expect("writes");
        seed.put(planted, b"not what the name says")
            .expect("writes");

        let bundle = dir.path().join("bundle");
        let store =
            ContentStore::open_seeded(&bundle, Some(&dir.path().join("user"))).expect("opens");
        assert_eq!(store.get(kept).expect("reads"), Some(b"kept".to_vec()));
        assert_eq!(store.get(planted).expect("reads"), None);
        // Copied in: the bundle's own store serves it without the seed.
        let alone = ContentStore::open(&bundle).expect("opens");
        assert_eq!(alone.get(kept).expect("reads"), Some(b"kept".to_vec()));
        assert_eq!(alone.get(planted).expect("reads"), None);
        // A seed that does not exist is no seed.
        ContentStore::open_seeded(&bundle, Some(&dir.path().join("absent"))).expect("opens");
        assert!(!dir.path().join("absent").exists());
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
