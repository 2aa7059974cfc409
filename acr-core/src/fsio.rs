//! Safe file output: atomic writes, owner-only permissions for secrets, no silent overwrites.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// Who may read a written file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileMode {
    /// 0600: private keys, tokens, protected settings.
    Secret,
    /// 0644: certificates and other public material.
    Public,
}

impl FileMode {
    fn bits(self) -> u32 {
        match self {
            FileMode::Secret => 0o600,
            FileMode::Public => 0o644,
        }
    }
}

/// Whether an existing file at the destination may be replaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overwrite {
    /// Refuse when the destination exists (the default everywhere).
    Refuse,
    /// Replace the destination atomically (`--force`).
    Replace,
}

/// A failed file write, naming the file.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("{path} already exists; pass --force to replace it")]
    Exists { path: PathBuf },
    #[error("cannot write {path}")]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

/// Refuses early when any of `paths` exists and overwriting is not allowed, so that a command
/// writing several files writes none of them rather than some.
pub fn ensure_writable(paths: &[&Path], overwrite: Overwrite) -> Result<(), WriteError> {
    if overwrite == Overwrite::Replace {
        return Ok(());
    }
    match paths.iter().find(|path| path.exists()) {
        Some(path) => Err(WriteError::Exists {
            path: path.to_path_buf(),
        }),
        None => Ok(()),
    }
}

/// Writes `contents` to `path` atomically: a temporary file in the same directory, created with
/// the final permissions, flushed to disk, then moved into place. With [`Overwrite::Refuse`] the
/// move is a hard link, which fails if the destination appeared in the meantime.
pub fn write_atomic(
    path: &Path,
    contents: &[u8],
    mode: FileMode,
    overwrite: Overwrite,
) -> Result<(), WriteError> {
    let io_err = |source| WriteError::Io {
        path: path.to_path_buf(),
        source,
    };
    let dir = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let (temp_path, mut file) = create_temp_file(&dir, path, mode).map_err(io_err)?;
    let written = file
        .write_all(contents)
        .and_then(|()| file.sync_all())
        .map_err(io_err);
    drop(file);
    let placed = written.and_then(|()| match overwrite {
        Overwrite::Replace => fs::rename(&temp_path, path).map_err(io_err),
        Overwrite::Refuse => fs::hard_link(&temp_path, path).map_err(|source| {
            if source.kind() == io::ErrorKind::AlreadyExists {
                WriteError::Exists {
                    path: path.to_path_buf(),
                }
            } else {
                io_err(source)
            }
        }),
    });
    // After a rename the temporary name is gone; after a link or a failure it must go.
    let _ = fs::remove_file(&temp_path);
    placed
}

fn create_temp_file(dir: &Path, target: &Path, mode: FileMode) -> io::Result<(PathBuf, File)> {
    let stem = target
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_else(|| "file".to_owned());
    let pid = std::process::id();
    for attempt in 0..100u32 {
        let candidate = dir.join(format!(".{stem}.{pid}.{attempt}.tmp"));
        match OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode.bits())
            .open(&candidate)
        {
            Ok(file) => return Ok((candidate, file)),
            Err(err) if err.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(err) => return Err(err),
        }
    }
    Err(io::Error::new(
        io::ErrorKind::AlreadyExists,
        "no free temporary file name",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn secret_files_are_owner_only_and_not_overwritten() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("tls.key");
        write_atomic(&path, b"first", FileMode::Secret, Overwrite::Refuse).expect("write");
        let mode = fs::metadata(&path).expect("stat").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);

        let err = write_atomic(&path, b"second", FileMode::Secret, Overwrite::Refuse)
            .expect_err("must refuse");
        assert!(
            err.to_string().contains("already exists; pass --force"),
            "{err}"
        );
        assert_eq!(fs::read(&path).expect("read"), b"first");

        write_atomic(&path, b"third", FileMode::Secret, Overwrite::Replace).expect("replace");
        assert_eq!(fs::read(&path).expect("read"), b"third");
        let leftovers: Vec<_> = fs::read_dir(dir.path())
            .expect("list")
            .map(|entry| entry.expect("entry").file_name())
            .collect();
        assert_eq!(leftovers.len(), 1, "temporary files left: {leftovers:?}");
    }

    #[test]
    fn public_files_are_world_readable() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("tls.crt");
        write_atomic(&path, b"cert", FileMode::Public, Overwrite::Refuse).expect("write");
        let mode = fs::metadata(&path).expect("stat").permissions().mode() & 0o777;
        assert_eq!(mode, 0o644);
    }

    #[test]
    fn ensure_writable_names_the_existing_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let existing = dir.path().join("ca.key");
        fs::write(&existing, b"x").expect("write");
        let fresh = dir.path().join("tls.key");
        let err = ensure_writable(&[&fresh, &existing], Overwrite::Refuse).expect_err("refuse");
        assert!(err.to_string().contains("ca.key"), "{err}");
        ensure_writable(&[&fresh, &existing], Overwrite::Replace).expect("force allows");
    }
}
