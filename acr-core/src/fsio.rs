//! The one writer for every output set: temporary files in the target folder, all renamed into
//! place or none, cleaned up on error and on SIGINT, SIGTERM and SIGHUP; never over a
//! non-regular file; folders created 0700, secrets 0600.

use std::fs::{self, DirBuilder, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, FileTypeExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, OnceLock, PoisonError};

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
    /// Replace the destination atomically (`--force`); still never a device, FIFO, folder or link.
    Replace,
}

/// One file of an output set.
#[derive(Debug, Clone, Copy)]
pub struct OutputFile<'a> {
    pub path: &'a Path,
    pub contents: &'a [u8],
    pub mode: FileMode,
}

/// A failed file write, naming the file. Nothing of the set was left behind.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("{path} already exists; pass --force to replace it")]
    Exists { path: PathBuf },
    #[error("{path} is {what}, not a regular file; it is never replaced, even with --force")]
    NotRegular { path: PathBuf, what: &'static str },
    #[error("cannot write {path}")]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

/// Creates `dir` and its missing parents 0700, whatever the umask.
pub fn create_private_dir(dir: &Path) -> io::Result<()> {
    DirBuilder::new().recursive(true).mode(0o700).create(dir)
}

/// Writes `contents` to `path` atomically, as [`write_set`] does for one file.
pub fn write_atomic(
    path: &Path,
    contents: &[u8],
    mode: FileMode,
    overwrite: Overwrite,
) -> Result<(), WriteError> {
    write_set(
        &[OutputFile {
            path,
            contents,
            mode,
        }],
        overwrite,
    )
}

/// Writes every file of `files` or none: each is written to a temporary file in its folder,
/// created with its final permissions and flushed to disk, and only when all are written are they
/// moved into place. With [`Overwrite::Refuse`] a move is a hard link, which fails if the
/// destination appeared meanwhile; with [`Overwrite::Replace`] the old file is kept aside until
/// the whole set is in place. A failure or a signal midway undoes what was placed.
pub fn write_set(files: &[OutputFile<'_>], overwrite: Overwrite) -> Result<(), WriteError> {
    for file in files {
        check_destination(file.path, overwrite)?;
    }
    let mut set = PendingSet::default();
    let result = set
        .write_temporaries(files)
        .and_then(|()| set.place(files, overwrite));
    set.finish(result.is_ok());
    result
}

fn check_destination(path: &Path, overwrite: Overwrite) -> Result<(), WriteError> {
    match fs::symlink_metadata(path) {
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(source) => Err(WriteError::Io {
            path: path.to_path_buf(),
            source,
        }),
        Ok(metadata) if !metadata.file_type().is_file() => Err(WriteError::NotRegular {
            path: path.to_path_buf(),
            what: describe(&metadata.file_type()),
        }),
        Ok(_) if overwrite == Overwrite::Refuse => Err(WriteError::Exists {
            path: path.to_path_buf(),
        }),
        Ok(_) => Ok(()),
    }
}

fn describe(file_type: &fs::FileType) -> &'static str {
    if file_type.is_symlink() {
        "a symbolic link"
    } else if file_type.is_dir() {
        "a folder"
    } else if file_type.is_fifo() {
        "a FIFO"
    } else if file_type.is_char_device() || file_type.is_block_device() {
        "a device"
    } else {
        "a socket"
    }
}

/// What undoes one step of a write in progress.
#[derive(Debug)]
enum Undo {
    /// A temporary file, or a destination this write created.
    Remove(PathBuf),
    /// A destination this write replaced: its old content, kept aside at `backup`.
    Restore { backup: PathBuf, path: PathBuf },
}

impl Undo {
    fn run(self) {
        let _ = match self {
            Undo::Remove(path) => fs::remove_file(path),
            Undo::Restore { backup, path } => fs::rename(backup, path),
        };
    }
}

/// An undo step and the write it belongs to.
type Step = (u64, Undo);

/// Every write in progress in this process, by write, undone by the signal thread before the
/// process dies. Steps are taken while holding the lock, so the thread sees a consistent list.
static IN_PROGRESS: Mutex<Vec<Step>> = Mutex::new(Vec::new());

fn in_progress() -> MutexGuard<'static, Vec<Step>> {
    IN_PROGRESS.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Starts, once, the thread that undoes writes in progress on SIGINT, SIGTERM or SIGHUP and then
/// ends the process as the signal would have.
fn watch_signals() {
    static WATCHING: OnceLock<()> = OnceLock::new();
    WATCHING.get_or_init(|| {
        use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
        let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP]) else {
            return;
        };
        std::thread::spawn(move || {
            if let Some(signal) = signals.forever().next() {
                undo_all(&mut in_progress());
                let _ = signal_hook::low_level::emulate_default_handler(signal);
                std::process::exit(128 + signal);
            }
        });
    });
}

/// Undoes every step in `steps`, newest first.
fn undo_all(steps: &mut Vec<Step>) {
    while let Some((_, step)) = steps.pop() {
        step.run();
    }
}

/// One [`write_set`] call: its steps are registered in [`IN_PROGRESS`] under `id` until it ends.
#[derive(Debug)]
struct PendingSet {
    id: u64,
    temporaries: Vec<PathBuf>,
}

impl Default for PendingSet {
    fn default() -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        Self {
            id: NEXT.fetch_add(1, Ordering::Relaxed),
            temporaries: Vec::new(),
        }
    }
}

impl PendingSet {
    fn write_temporaries(&mut self, files: &[OutputFile<'_>]) -> Result<(), WriteError> {
        watch_signals();
        for file in files {
            let io_err = |source| WriteError::Io {
                path: file.path.to_path_buf(),
                source,
            };
            let dir = parent_dir(file.path);
            let (temp_path, mut handle) = {
                let mut steps = in_progress();
                let (temp_path, handle) =
                    create_temp_file(&dir, file.path, file.mode.bits()).map_err(io_err)?;
                steps.push((self.id, Undo::Remove(temp_path.clone())));
                (temp_path, handle)
            };
            self.temporaries.push(temp_path);
            handle
                .write_all(file.contents)
                .and_then(|()| handle.sync_all())
                .map_err(io_err)?;
        }
        Ok(())
    }

    fn place(&self, files: &[OutputFile<'_>], overwrite: Overwrite) -> Result<(), WriteError> {
        for (file, temp) in files.iter().zip(&self.temporaries) {
            let path = file.path;
            let io_err = |source| WriteError::Io {
                path: path.to_path_buf(),
                source,
            };
            let mut steps = in_progress();
            let undo = match overwrite {
                Overwrite::Refuse => {
                    fs::hard_link(temp, path).map_err(|source| {
                        if source.kind() == io::ErrorKind::AlreadyExists {
                            WriteError::Exists {
                                path: path.to_path_buf(),
                            }
                        } else {
                            io_err(source)
                        }
                    })?;
                    Undo::Remove(path.to_path_buf())
                }
                Overwrite::Replace => {
                    check_destination(path, overwrite)?;
                    let backup = if fs::symlink_metadata(path).is_ok() {
                        let backup = free_name(&parent_dir(path), path).map_err(io_err)?;
                        fs::hard_link(path, &backup).map_err(io_err)?;
                        Some(backup)
                    } else {
                        None
                    };
                    let placed = fs::rename(temp, path).map_err(io_err);
                    let undo = match backup {
                        Some(backup) => Undo::Restore {
                            backup,
                            path: path.to_path_buf(),
                        },
                        None => Undo::Remove(path.to_path_buf()),
                    };
                    if let Err(error) = placed {
                        if let Undo::Restore { backup, .. } = undo {
                            let _ = fs::remove_file(backup);
                        }
                        return Err(error);
                    }
                    undo
                }
            };
            steps.push((self.id, undo));
        }
        Ok(())
    }

    /// Undoes this set's steps on failure; on success drops what was kept only for undoing:
    /// temporary names left after linking, and the replaced files.
    fn finish(self, placed: bool) {
        let mut steps = in_progress();
        let (mut mine, others): (Vec<Step>, Vec<Step>) =
            steps.drain(..).partition(|(id, _)| *id == self.id);
        *steps = others;
        drop(steps);
        if !placed {
            undo_all(&mut mine);
            return;
        }
        for (_, step) in mine {
            match step {
                Undo::Restore { backup, .. } => {
                    let _ = fs::remove_file(backup);
                }
                Undo::Remove(path) if self.temporaries.contains(&path) => {
                    let _ = fs::remove_file(path);
                }
                Undo::Remove(_) => {}
            }
        }
    }
}

fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// A free name beside `target` for keeping its old content until a set is placed.
fn free_name(dir: &Path, target: &Path) -> io::Result<PathBuf> {
    let stem = target
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_else(|| "file".to_owned());
    let pid = std::process::id();
    (0..100u32)
        .map(|attempt| dir.join(format!(".{stem}.{pid}.{attempt}.old")))
        .find(|candidate| fs::symlink_metadata(candidate).is_err())
        .ok_or_else(|| io::Error::new(io::ErrorKind::AlreadyExists, "no free file name"))
}

fn create_temp_file(dir: &Path, target: &Path, mode: u32) -> io::Result<(PathBuf, File)> {
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
            .mode(mode)
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

    fn listing(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .expect("list")
            .map(|entry| {
                entry
                    .expect("entry")
                    .file_name()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        names.sort();
        names
    }

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
        assert_eq!(listing(dir.path()), ["tls.key"]);
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
    fn an_existing_file_anywhere_in_the_set_writes_none() {
        let dir = tempfile::tempdir().expect("tempdir");
        let existing = dir.path().join("ca.key");
        fs::write(&existing, b"x").expect("write");
        let fresh = dir.path().join("tls.key");
        let set = [
            OutputFile {
                path: &fresh,
                contents: b"key",
                mode: FileMode::Secret,
            },
            OutputFile {
                path: &existing,
                contents: b"ca",
                mode: FileMode::Secret,
            },
        ];
        let err = write_set(&set, Overwrite::Refuse).expect_err("refuse");
        assert!(err.to_string().contains("ca.key"), "{err}");
        assert_eq!(listing(dir.path()), ["ca.key"]);
        write_set(&set, Overwrite::Replace).expect("force allows");
        assert_eq!(fs::read(&existing).expect("read"), b"ca");
        assert_eq!(listing(dir.path()), ["ca.key", "tls.key"]);
    }

    #[test]
    fn a_dangling_symlink_in_the_set_writes_none_even_with_force() {
        let dir = tempfile::tempdir().expect("tempdir");
        let link = dir.path().join("tls.key");
        std::os::unix::fs::symlink(dir.path().join("missing"), &link).expect("symlink");
        let first = dir.path().join("ca.crt");
        for overwrite in [Overwrite::Refuse, Overwrite::Replace] {
            let err = write_set(
                &[
                    OutputFile {
                        path: &first,
                        contents: b"ca",
                        mode: FileMode::Public,
                    },
                    OutputFile {
                        path: &link,
                        contents: b"key",
                        mode: FileMode::Secret,
                    },
                ],
                overwrite,
            )
            .expect_err("refused");
            assert!(
                err.to_string()
                    .contains("is a symbolic link, not a regular file"),
                "{err}"
            );
            assert_eq!(listing(dir.path()), ["tls.key"]);
        }
    }

    #[test]
    fn devices_and_fifos_are_never_replaced() {
        let err = write_atomic(
            Path::new("/dev/null"),
            b"x",
            FileMode::Public,
            Overwrite::Replace,
        )
        .expect_err("refused");
        assert_eq!(
            err.to_string(),
            "/dev/null is a device, not a regular file; it is never replaced, even with --force"
        );
    }

    /// A failure while placing the set (here the same destination twice: the second link finds
    /// the first) undoes the files already placed; a failure while writing leaves nothing.
    #[test]
    fn a_failure_midway_undoes_the_placed_files() {
        let dir = tempfile::tempdir().expect("tempdir");
        let crt = dir.path().join("tls.crt");
        let key = dir.path().join("tls.key");
        let file = |path, contents| OutputFile {
            path,
            contents,
            mode: FileMode::Secret,
        };
        let set = [file(&crt, b"a"), file(&key, b"b"), file(&crt, b"c")];
        let err = write_set(&set, Overwrite::Refuse).expect_err("fails");
        assert!(err.to_string().contains("tls.crt already exists"), "{err}");
        assert!(listing(dir.path()).is_empty(), "{:?}", listing(dir.path()));

        fs::write(&crt, b"old").expect("write");
        let missing_dir = dir.path().join("gone").join("tls.key");
        let err = write_set(
            &[file(&crt, b"new"), file(&missing_dir, b"k")],
            Overwrite::Replace,
        )
        .expect_err("fails");
        assert!(err.to_string().contains("gone/tls.key"), "{err}");
        assert_eq!(fs::read(&crt).expect("read"), b"old");
        assert_eq!(listing(dir.path()), ["tls.crt"]);
    }

    /// What the signal thread runs: every temporary file and placed file of a write in progress
    /// goes, every replaced file comes back.
    #[test]
    fn undoing_in_progress_writes_leaves_nothing_behind() {
        let dir = tempfile::tempdir().expect("tempdir");
        let temp = dir.path().join(".tls.key.1.0.tmp");
        let placed = dir.path().join("tls.crt");
        let backup = dir.path().join(".ca.crt.1.0.old");
        let replaced = dir.path().join("ca.crt");
        for path in [&temp, &placed, &replaced] {
            fs::write(path, b"x").expect("write");
        }
        fs::write(&backup, b"old ca").expect("write");
        let mut steps = vec![
            (7, Undo::Remove(temp)),
            (7, Undo::Remove(placed)),
            (
                7,
                Undo::Restore {
                    backup,
                    path: replaced.clone(),
                },
            ),
        ];
        undo_all(&mut steps);
        assert_eq!(listing(dir.path()), ["ca.crt"]);
        assert_eq!(fs::read(&replaced).expect("read"), b"old ca");
    }

    #[test]
    fn folders_are_created_owner_only_whatever_the_umask() {
        let dir = tempfile::tempdir().expect("tempdir");
        let nested = dir.path().join("a").join("b");
        create_private_dir(&nested).expect("create");
        for path in [dir.path().join("a"), nested] {
            let mode = fs::metadata(&path).expect("stat").permissions().mode() & 0o777;
            assert_eq!(mode, 0o700, "{}", path.display());
        }
    }
}
