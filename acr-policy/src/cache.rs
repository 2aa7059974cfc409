//! On-disk cache of compiled user policies, keyed by module hash and engine key, in a folder
//! only the current user controls, each entry sealed with a keyed digest before it is trusted.
//!
//! # Threat model
//!
//! A cache entry is native code: whoever can make the tool load an entry of their choosing runs
//! code as the tool's user. The cache folder is found through the environment
//! (`XDG_CACHE_HOME`, `HOME`), so a process may be pointed at a folder another user controls,
//! for example root running with another user's environment. Two rules keep that user's code
//! out of this process:
//!
//! - The folder is used only when it is a real directory (not a symbolic link) owned by the
//!   effective user and not writable by group or others; otherwise the cache is not used
//!   ([`CacheProblem::NotPrivate`], reported as a warning) and modules are compiled in memory.
//!   The folder is opened once and every later access is relative to that open handle, so
//!   renaming or replacing the path afterwards does not redirect the reads.
//! - An entry is `MAGIC ‖ HMAC-SHA256(key, MAGIC ‖ module hash ‖ engine key ‖ payload) ‖
//!   payload`, where the payload is `Module::serialize`'s output and `key` is 32 random bytes
//!   kept in the folder's `key` file: a regular file owned by the effective user, mode 0600.
//!   Without that key nobody can make an entry this process accepts; a plain recomputed digest,
//!   or an entry copied from another user's cache, is refused ([`CacheProblem::Tampered`]).
//!
//! Refused entries are reported, never trusted, and replaced by the freshly compiled module.

use crate::engine_config::engine_key;
use crate::trusted_code::{self, TrustedCode};
use aws_lc_rs::hmac;
use sha2::{Digest, Sha256};
use std::io;
use std::path::{Path, PathBuf};
use wasmtime::{Engine, Module};

/// A problem with the on-disk compilation cache. Never fatal: the module is compiled instead,
/// and the problem is reported as a warning.
#[derive(Debug, thiserror::Error)]
pub enum CacheProblem {
    #[error("cannot use the policy cache {}: {error}; policies are compiled in memory", path.display())]
    Unusable {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error(
        "the policy cache {} is not private to the current user ({reason}); it is not used \
         and policies are compiled in memory",
        path.display()
    )]
    NotPrivate { path: PathBuf, reason: String },
    #[error("cannot read the policy cache entry {}: {error}", path.display())]
    Unreadable {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error(
        "the policy cache entry {} failed its integrity check ({reason}); it was not trusted \
         and the module was compiled again",
        path.display()
    )]
    Tampered { path: PathBuf, reason: &'static str },
    #[error(
        "the policy cache entry {} does not fit this engine ({message}); the module was \
         compiled again",
        path.display()
    )]
    Incompatible { path: PathBuf, message: String },
    #[error("cannot write the policy cache entry {}: {error}", path.display())]
    Unwritable {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("cannot serialise the compiled module for the policy cache: {message}")]
    Serialise { message: String },
}

const ENTRY_MAGIC: &[u8; 8] = b"ACRCWSM2";
const TAG_LEN: usize = 32;
const KEY_FILE: &str = "key";
const KEY_LEN: usize = 32;

/// The SHA-256 of a module's bytes, which names it in both caches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ModuleHash([u8; 32]);

impl ModuleHash {
    pub fn of(bytes: &[u8]) -> Self {
        Self(Sha256::digest(bytes).into())
    }

    /// The hash whose SHA-256 digest is `digest`.
    pub fn from_digest(digest: [u8; 32]) -> Self {
        Self(digest)
    }

    pub fn to_hex(self) -> String {
        hex(&self.0)
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// The cache folder, opened and checked, for one engine configuration.
#[derive(Debug)]
pub struct DiskCache {
    dir: PathBuf,
    handle: private_dir::PrivateDir,
    key: hmac::Key,
    engine_key: [u8; 32],
    engine_name: String,
}

impl DiskCache {
    /// Creates `dir` if needed (0700), checks that only this user controls it, and reads (or
    /// makes) its secret key.
    pub fn open(dir: &Path, engine: &Engine) -> Result<Self, CacheProblem> {
        let handle = private_dir::PrivateDir::open(dir)?;
        let key = handle.secret_key(dir)?;
        let engine_key = engine_key(engine);
        Ok(Self {
            dir: dir.to_owned(),
            handle,
            key: hmac::Key::new(hmac::HMAC_SHA256, &key),
            engine_name: hex(&engine_key[..16]),
            engine_key,
        })
    }

    fn entry_name(&self, module: ModuleHash) -> String {
        format!("{}-{}.cwasm", module.to_hex(), self.engine_name)
    }

    /// Where the compiled form of `module` lives.
    pub fn entry_path(&self, module: ModuleHash) -> PathBuf {
        self.dir.join(self.entry_name(module))
    }

    /// The cached compiled module, `Ok(None)` when there is none, or why the entry was not
    /// trusted.
    pub fn load(
        &self,
        engine: &Engine,
        module: ModuleHash,
    ) -> Result<Option<Module>, CacheProblem> {
        let path = self.entry_path(module);
        let entry = match self.handle.read(&self.entry_name(module)) {
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
        if rest.len() < TAG_LEN {
            return Err(tampered("it is shorter than its header"));
        }
        let (tag, payload) = rest.split_at(TAG_LEN);
        hmac::verify(&self.key, &self.sealed_message(module, payload), tag)
            .map_err(|_| tampered("its keyed digest (HMAC-SHA256) does not match its contents"))?;
        trusted_code::deserialize(engine, TrustedCode::VerifiedCacheEntry(payload))
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
        let tag = hmac::sign(&self.key, &self.sealed_message(module, &payload));
        let mut entry = Vec::with_capacity(ENTRY_MAGIC.len() + TAG_LEN + payload.len());
        entry.extend_from_slice(ENTRY_MAGIC);
        entry.extend_from_slice(tag.as_ref());
        entry.extend_from_slice(&payload);
        self.handle
            .write_atomically(&self.entry_name(module), &entry)
            .map_err(|error| CacheProblem::Unwritable {
                path: self.entry_path(module),
                error,
            })
    }

    /// What the tag covers: everything that names the entry, then the payload.
    fn sealed_message(&self, module: ModuleHash, payload: &[u8]) -> Vec<u8> {
        let mut message = Vec::with_capacity(8 + 32 + 32 + payload.len());
        message.extend_from_slice(ENTRY_MAGIC);
        message.extend_from_slice(&module.0);
        message.extend_from_slice(&self.engine_key);
        message.extend_from_slice(payload);
        message
    }
}

/// A new random cache key.
fn new_key() -> io::Result<[u8; KEY_LEN]> {
    let mut key = [0; KEY_LEN];
    aws_lc_rs::rand::fill(&mut key).map_err(|_| io::Error::other("no random numbers"))?;
    Ok(key)
}

#[cfg(unix)]
pub(crate) mod private_dir {
    //! The cache folder as an open directory handle checked for ownership and mode; every
    //! access is relative to the handle (`openat`, `renameat`), never to the path again.

    use super::CacheProblem;
    use super::{KEY_FILE, KEY_LEN, new_key};
    use rustix::fs::{AtFlags, Mode, OFlags};
    use std::fs::{self, File};
    use std::io::{self, Read, Write};
    use std::os::fd::OwnedFd;
    use std::os::unix::fs::{DirBuilderExt, MetadataExt};
    use std::path::Path;
    use std::sync::atomic::{AtomicU64, Ordering};

    /// Group and others may not write the folder or read the key.
    const GROUP_OTHER_WRITE: u32 = 0o022;

    #[derive(Debug)]
    pub struct PrivateDir(OwnedFd);

    impl PrivateDir {
        /// Creates `dir` (0700) if needed and opens it, refusing it unless it is a directory
        /// owned by the effective user and not writable by group or others.
        pub fn open(dir: &Path) -> Result<Self, CacheProblem> {
            fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)
                .map_err(|error| CacheProblem::Unusable {
                    path: dir.to_owned(),
                    error,
                })?;
            let handle = rustix::fs::open(
                dir,
                OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                Mode::empty(),
            )
            .map_err(|error| CacheProblem::Unusable {
                path: dir.to_owned(),
                error: error.into(),
            })?;
            check_private(&File::from(handle.try_clone().map_err(|error| {
                CacheProblem::Unusable {
                    path: dir.to_owned(),
                    error,
                }
            })?))
            .map_err(|reason| CacheProblem::NotPrivate {
                path: dir.to_owned(),
                reason,
            })?;
            Ok(Self(handle))
        }

        /// The folder's secret key: read from its `key` file, checked like the folder, or made
        /// now (32 random bytes, 0600).
        pub fn secret_key(&self, dir: &Path) -> Result<[u8; KEY_LEN], CacheProblem> {
            let path = dir.join(KEY_FILE);
            let unusable = |error| CacheProblem::Unusable {
                path: path.clone(),
                error,
            };
            let file = match self.open_file(KEY_FILE) {
                Ok(file) => file,
                Err(error) if error.kind() == io::ErrorKind::NotFound => {
                    self.create_key().map_err(unusable)?;
                    self.open_file(KEY_FILE).map_err(unusable)?
                }
                Err(error) => return Err(unusable(error)),
            };
            check_private(&file).map_err(|reason| CacheProblem::NotPrivate {
                path: path.clone(),
                reason,
            })?;
            let mode = file.metadata().map_err(unusable)?.mode();
            if mode & 0o077 != 0 {
                return Err(CacheProblem::NotPrivate {
                    path,
                    reason: format!("its mode is {:o}, not 0600", mode & 0o777),
                });
            }
            let mut key = [0; KEY_LEN];
            let mut rest = Vec::new();
            (&file)
                .read_exact(&mut key)
                .and_then(|()| (&file).read_to_end(&mut rest))
                .map_err(unusable)?;
            if !rest.is_empty() {
                return Err(CacheProblem::NotPrivate {
                    path,
                    reason: format!("it is not a {KEY_LEN}-byte key"),
                });
            }
            Ok(key)
        }

        /// Writes a new key under a temporary name and links it into place, so a concurrent
        /// process sees either no key or a whole one; the first process's key wins.
        fn create_key(&self) -> io::Result<()> {
            let temporary = self.write_temporary(KEY_FILE, &new_key()?)?;
            let linked =
                rustix::fs::linkat(&self.0, &temporary, &self.0, KEY_FILE, AtFlags::empty());
            let removed = rustix::fs::unlinkat(&self.0, &temporary, AtFlags::empty());
            match linked {
                Err(rustix::io::Errno::EXIST) | Ok(()) => Ok(removed?),
                Err(error) => Err(error.into()),
            }
        }

        fn open_file(&self, name: &str) -> io::Result<File> {
            let fd = rustix::fs::openat(
                &self.0,
                name,
                OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                Mode::empty(),
            )?;
            Ok(File::from(fd))
        }

        /// The contents of the entry `name`.
        pub fn read(&self, name: &str) -> io::Result<Vec<u8>> {
            let mut bytes = Vec::new();
            self.open_file(name)?.read_to_end(&mut bytes)?;
            Ok(bytes)
        }

        /// Replaces the entry `name` by `contents` atomically.
        pub fn write_atomically(&self, name: &str, contents: &[u8]) -> io::Result<()> {
            let temporary = self.write_temporary(name, contents)?;
            rustix::fs::renameat(&self.0, &temporary, &self.0, name).map_err(|error| {
                // Already failing: a leftover temporary file is harmless and named as one.
                let _ = rustix::fs::unlinkat(&self.0, &temporary, AtFlags::empty());
                error.into()
            })
        }

        /// A new file (0600) named after `name` holding `contents`; its name is returned.
        fn write_temporary(&self, name: &str, contents: &[u8]) -> io::Result<String> {
            static COUNTER: AtomicU64 = AtomicU64::new(0);
            let temporary = format!(
                ".{name}.{}.{}.tmp",
                std::process::id(),
                COUNTER.fetch_add(1, Ordering::Relaxed)
            );
            let fd = rustix::fs::openat(
                &self.0,
                &temporary,
                OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                Mode::from_raw_mode(0o600),
            )?;
            let written = File::from(fd).write_all(contents);
            if let Err(error) = written {
                let _ = rustix::fs::unlinkat(&self.0, &temporary, AtFlags::empty());
                return Err(error);
            }
            Ok(temporary)
        }
    }

    /// Why `file` is not private to the effective user, if it is not.
    fn check_private(file: &File) -> Result<(), String> {
        let metadata = file.metadata().map_err(|error| error.to_string())?;
        let euid = rustix::process::geteuid().as_raw();
        if metadata.uid() != euid {
            return Err(format!(
                "it is owned by user {}, not by the current user {euid}",
                metadata.uid()
            ));
        }
        if metadata.mode() & GROUP_OTHER_WRITE != 0 {
            return Err(format!(
                "its mode {:o} lets group or others write it",
                metadata.mode() & 0o777
            ));
        }
        Ok(())
    }
}

#[cfg(not(unix))]
pub(crate) mod private_dir {
    //! Without Unix ownership and `openat` the folder cannot be checked, so it is not used.

    use super::CacheProblem;
    use std::path::Path;

    #[derive(Debug)]
    pub enum PrivateDir {}

    impl PrivateDir {
        pub fn open(dir: &Path) -> Result<Self, CacheProblem> {
            Err(CacheProblem::NotPrivate {
                path: dir.to_owned(),
                reason: "its owner cannot be checked on this system".to_owned(),
            })
        }

        pub fn secret_key(&self, _dir: &Path) -> Result<[u8; super::KEY_LEN], CacheProblem> {
            match *self {}
        }

        pub fn read(&self, _name: &str) -> std::io::Result<Vec<u8>> {
            match *self {}
        }

        pub fn write_atomically(&self, _name: &str, _contents: &[u8]) -> std::io::Result<()> {
            match *self {}
        }
    }
}
