//! On-disk cache of compiled modules, keyed by module hash and engine compatibility hash,
//! written atomically into a private directory and integrity-checked before deserialising.
//!
//! An entry is `MAGIC ‖ sha256(MAGIC ‖ module hash ‖ engine key ‖ payload) ‖ payload`, where
//! the payload is `Module::serialize`'s output. The digest catches truncated, corrupted and
//! swapped entries; the directory's 0700 mode keeps other users from writing them.

use crate::error::CacheProblem;
use sha2::{Digest, Sha256};
use std::fs;
use std::hash::{Hash, Hasher};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use wasmtime::{Engine, Module};

const ENTRY_MAGIC: &[u8; 8] = b"ACRCWSM1";
const DIGEST_LEN: usize = 32;

/// The SHA-256 of a module's bytes, which names it in both caches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ModuleHash([u8; 32]);

impl ModuleHash {
    pub fn of(bytes: &[u8]) -> Self {
        Self(Sha256::digest(bytes).into())
    }

    pub fn to_hex(self) -> String {
        hex(&self.0)
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// Feeds a `Hash` value into SHA-256, to turn the engine's compatibility hash into a stable
/// file-name component.
struct Sha256Hasher(Sha256);

impl Hasher for Sha256Hasher {
    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }

    fn finish(&self) -> u64 {
        let digest = self.0.clone().finalize();
        u64::from_le_bytes(
            digest[..8]
                .try_into()
                .expect("a SHA-256 digest has 8 bytes"),
        )
    }
}

/// A private directory of compiled modules for one engine configuration.
#[derive(Debug)]
pub struct DiskCache {
    dir: PathBuf,
    engine_key: String,
}

impl DiskCache {
    /// Creates `dir` if needed and makes it private (0700 on Unix).
    pub fn open(dir: &Path, engine: &Engine) -> Result<Self, CacheProblem> {
        create_private_dir(dir).map_err(|error| CacheProblem::DirectoryNotPrivate {
            path: dir.to_owned(),
            error,
        })?;
        let mut hasher = Sha256Hasher(Sha256::new());
        engine.precompile_compatibility_hash().hash(&mut hasher);
        let engine_key = hex(&hasher.0.finalize()[..16]);
        Ok(Self {
            dir: dir.to_owned(),
            engine_key,
        })
    }

    /// Where the compiled form of `module` lives.
    pub fn entry_path(&self, module: ModuleHash) -> PathBuf {
        self.dir
            .join(format!("{}-{}.cwasm", module.to_hex(), self.engine_key))
    }

    /// The cached compiled module, `Ok(None)` when there is none, or why the entry was not
    /// trusted.
    pub fn load(
        &self,
        engine: &Engine,
        module: ModuleHash,
    ) -> Result<Option<Module>, CacheProblem> {
        let path = self.entry_path(module);
        let entry = match fs::read(&path) {
            Ok(entry) => entry,
            Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(error) => return Err(CacheProblem::Unreadable { path, error }),
        };
        let tampered = |reason| CacheProblem::Tampered {
            path: path.clone(),
            reason,
        };
        let rest = entry
            .strip_prefix(ENTRY_MAGIC.as_slice())
            .ok_or_else(|| tampered("it does not start with the cache entry header"))?;
        if rest.len() < DIGEST_LEN {
            return Err(tampered("it is shorter than its header"));
        }
        let (digest, payload) = rest.split_at(DIGEST_LEN);
        if digest != self.digest(module, payload).as_slice() {
            return Err(tampered("its SHA-256 digest does not match its contents"));
        }
        deserialize_verified(engine, payload)
            .map(Some)
            .map_err(|error| CacheProblem::Incompatible {
                path,
                message: error.to_string(),
            })
    }

    /// Writes the compiled `compiled` atomically (temporary file, then rename).
    pub fn store(&self, module: ModuleHash, compiled: &Module) -> Result<(), CacheProblem> {
        let payload = compiled
            .serialize()
            .map_err(|error| CacheProblem::Serialise {
                message: error.to_string(),
            })?;
        let path = self.entry_path(module);
        let unwritable = |error| CacheProblem::Unwritable {
            path: path.clone(),
            error,
        };
        let mut file = tempfile::NamedTempFile::new_in(&self.dir).map_err(unwritable)?;
        file.write_all(ENTRY_MAGIC)
            .and_then(|()| file.write_all(&self.digest(module, &payload)))
            .and_then(|()| file.write_all(&payload))
            .map_err(unwritable)?;
        file.persist(&path)
            .map_err(|error| unwritable(error.error))?;
        Ok(())
    }

    fn digest(&self, module: ModuleHash, payload: &[u8]) -> [u8; DIGEST_LEN] {
        Sha256::new()
            .chain_update(ENTRY_MAGIC)
            .chain_update(module.0)
            .chain_update(self.engine_key.as_bytes())
            .chain_update(payload)
            .finalize()
            .into()
    }
}

#[allow(unsafe_code)]
fn deserialize_verified(engine: &Engine, payload: &[u8]) -> wasmtime::Result<Module> {
    // SAFETY: `Module::deserialize` trusts its input to be `Module::serialize` output. The
    // payload comes from an entry in a directory only this user can write (made 0700 by
    // `create_private_dir`), written by `DiskCache::store` from `Module::serialize`, and its
    // SHA-256 (bound to the module hash and this engine's compatibility key) was just checked,
    // so it is that output unmodified; wasmtime itself refuses output of another version or
    // configuration.
    unsafe { Module::deserialize(engine, payload) }
}

#[cfg(unix)]
fn create_private_dir(dir: &Path) -> io::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)?;
    // Succeeds only for the directory's owner (or root), so an existing directory of another
    // user is refused rather than trusted.
    fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
}

#[cfg(not(unix))]
fn create_private_dir(dir: &Path) -> io::Result<()> {
    fs::create_dir_all(dir)
}
