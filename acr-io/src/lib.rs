//! The one bounded reader for every input file: regular files only (a FIFO, a device or a folder
//! is refused at once, never read), at most a cap per kind of input, and YAML nesting bounded
//! before a parser sees it, so that no input can hang a command or exhaust its memory. Refusals
//! say what the file is or which cap it passed; callers name the file. JSON is read through [`json`],
//! which refuses a key given twice.

pub mod json;

use std::fs::OpenOptions;
use std::io::{self, Read};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;

/// What an input is, which sets how large it may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputKind {
    /// Settings and protected settings files.
    Settings,
    /// Certificates, CA bundles, Secrets and other documents holding certificates.
    Certificate,
    /// A private key.
    PrivateKey,
    /// A password, token or connection string.
    Secret,
    /// A policy set file.
    PolicySet,
    /// A WebAssembly policy module.
    PolicyModule,
    /// A review, a fixture or a policy's metadata (JSON).
    Document,
    /// Kubernetes manifests (cert-manager's release).
    Manifests,
    /// A system configuration file (`/etc/resolv.conf`).
    SystemConfig,
}

const KIB: u64 = 1024;
const MIB: u64 = 1024 * KIB;

impl InputKind {
    /// The largest input of this kind, in bytes.
    pub const fn cap(self) -> u64 {
        match self {
            InputKind::Settings | InputKind::Certificate | InputKind::PolicySet => MIB,
            InputKind::PrivateKey => 256 * KIB,
            InputKind::Secret | InputKind::SystemConfig => 64 * KIB,
            InputKind::PolicyModule => 32 * MIB,
            InputKind::Document => 4 * MIB,
            InputKind::Manifests => 16 * MIB,
        }
    }

    fn name(self) -> &'static str {
        match self {
            InputKind::Settings => "settings files",
            InputKind::Certificate => "certificate files",
            InputKind::PrivateKey => "private key files",
            InputKind::Secret => "passwords, tokens and connection strings",
            InputKind::PolicySet => "policy set files",
            InputKind::PolicyModule => "policy modules",
            InputKind::Document => "JSON documents",
            InputKind::Manifests => "manifest files",
            InputKind::SystemConfig => "system configuration files",
        }
    }
}

/// Reads the regular file at `path`, refusing anything else and anything over `kind`'s cap.
pub fn read(path: &Path, kind: InputKind) -> io::Result<Vec<u8>> {
    // Non-blocking, so that opening a FIFO with no writer returns at once; it is refused below.
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)?;
    let file_type = file.metadata()?.file_type();
    if !file_type.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("it is {}, not a regular file", describe(&file_type)),
        ));
    }
    read_bounded(file, kind)
}

/// Reads a file as UTF-8 text, as [`read`] does.
pub fn read_to_string(path: &Path, kind: InputKind) -> io::Result<String> {
    String::from_utf8(read(path, kind)?)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "it is not UTF-8 text"))
}

/// Reads standard input to its end, at most `kind`'s cap (stdin may be a pipe or a terminal).
pub fn read_stdin(kind: InputKind) -> io::Result<Vec<u8>> {
    read_bounded(io::stdin().lock(), kind)
}

/// Reads `reader` to its end, refusing more than `kind`'s cap.
fn read_bounded(reader: impl Read, kind: InputKind) -> io::Result<Vec<u8>> {
    let cap = kind.cap();
    let mut bytes = Vec::new();
    reader.take(cap + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > cap {
        return Err(too_large(kind));
    }
    Ok(bytes)
}

fn too_large(kind: InputKind) -> io::Error {
    io::Error::new(
        io::ErrorKind::FileTooLarge,
        format!(
            "it is larger than {}, the limit for {}",
            human(kind.cap()),
            kind.name()
        ),
    )
}

fn human(bytes: u64) -> String {
    if bytes >= MIB {
        format!("{} MiB", bytes / MIB)
    } else {
        format!("{} KiB", bytes / KIB)
    }
}

fn describe(file_type: &std::fs::FileType) -> &'static str {
    if file_type.is_dir() {
        "a folder"
    } else if file_type.is_fifo() {
        "a FIFO (named pipe)"
    } else if file_type.is_char_device() {
        "a character device"
    } else if file_type.is_block_device() {
        "a block device"
    } else if file_type.is_socket() {
        "a socket"
    } else {
        "not a file"
    }
}

/// The deepest flow nesting (`[` and `{`) a YAML document may have: parsers take quadratic time
/// on deeper ones.
pub const MAX_NESTING: usize = 64;

/// A document nested deeper than [`MAX_NESTING`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TooDeep {
    pub line: usize,
}

impl std::fmt::Display for TooDeep {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "line {}: nested deeper than {MAX_NESTING} levels of [ and {{",
            self.line
        )
    }
}

impl std::error::Error for TooDeep {}

/// Refuses YAML (or JSON) text whose `[`/`{` nesting passes [`MAX_NESTING`], in one linear pass
/// before it is parsed. Brackets inside quotes count too: real documents never open 64 in a row.
pub fn check_nesting(text: &[u8]) -> Result<(), TooDeep> {
    let mut depth = 0usize;
    let mut line = 1;
    for byte in text {
        match *byte {
            b'\n' => line += 1,
            b'[' | b'{' => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Err(TooDeep { line });
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    /// Fuzzing: any text is measured in one pass, and refused exactly when it opens more than
    /// the cap at once.
    #[test]
    fn fuzz_nesting_check_agrees_with_a_count() {
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        let cases: usize = std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|cases| cases.parse().ok())
            .unwrap_or(256);
        for _ in 0..cases {
            let text: String = (0..200)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    ['[', '{', ']', '}', 'a', '\n'][(state % 6) as usize]
                })
                .collect();
            let mut depth = 0usize;
            let mut deepest = 0;
            for c in text.chars() {
                match c {
                    '[' | '{' => depth += 1,
                    ']' | '}' => depth = depth.saturating_sub(1),
                    _ => {}
                }
                deepest = deepest.max(depth);
            }
            assert_eq!(
                check_nesting(text.as_bytes()).is_err(),
                deepest > MAX_NESTING,
                "{text}"
            );
        }
    }

    #[test]
    fn deep_nesting_is_refused_before_parsing() {
        let deep = format!("policies:\n  - {}{}", "[".repeat(65), "]".repeat(65));
        assert_eq!(
            check_nesting(deep.as_bytes()).map_err(|error| error.to_string()),
            Err("line 2: nested deeper than 64 levels of [ and {".to_owned())
        );
        let fine = format!(
            "a: {}{}\nb: [x] [y] {{z: [1]}}",
            "[".repeat(64),
            "]".repeat(64)
        );
        assert_eq!(check_nesting(fine.as_bytes()), Ok(()));
    }

    #[test]
    fn reads_a_regular_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("settings.json");
        std::fs::write(&path, b"{}").expect("write");
        assert_eq!(read(&path, InputKind::Settings).expect("read"), b"{}");
    }

    #[test]
    fn devices_folders_and_fifos_are_refused_at_once() {
        let dir = tempfile::tempdir().expect("tempdir");
        let fifo = dir.path().join("fifo");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .expect("mkfifo runs");
        assert!(made.success());
        let started = Instant::now();
        for (path, what) in [
            (Path::new("/dev/zero"), "a character device"),
            (dir.path(), "a folder"),
            (fifo.as_path(), "a FIFO (named pipe)"),
        ] {
            let error = read(path, InputKind::PolicyModule).expect_err("refused");
            assert_eq!(
                error.to_string(),
                format!("it is {what}, not a regular file"),
                "{}",
                path.display()
            );
        }
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn inputs_over_the_cap_are_refused_naming_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("password");
        std::fs::write(&path, vec![b'a'; 64 * 1024 + 1]).expect("write");
        assert_eq!(
            read(&path, InputKind::Secret)
                .expect_err("too large")
                .to_string(),
            "it is larger than 64 KiB, the limit for passwords, tokens and connection strings"
        );
        std::fs::write(&path, vec![b'a'; 64 * 1024]).expect("write");
        assert_eq!(
            read(&path, InputKind::Secret).expect("at the cap").len(),
            65536
        );
        let endless = std::io::repeat(0);
        assert!(read_bounded(endless, InputKind::Settings).is_err());
    }
}
