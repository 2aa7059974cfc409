//! What a long cluster operation reports while it runs; the front end shows it (on a terminal)
//! or not.

use std::fmt;

/// One step of a deploy or delete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Progress {
    /// cert-manager's manifests were read; `matches_pinned` says whether they are byte for byte
    /// the pinned release.
    CertManagerManifests {
        origin: String,
        objects: usize,
        sha256: String,
        matches_pinned: bool,
    },
    /// An object was applied (or accepted by a server-side dry run).
    Applied { object: String, dry_run: bool },
    /// A server-side dry run could not check an object because what it needs is created by
    /// this same deploy.
    NotChecked { object: String, reason: String },
    /// Still waiting for an object; `state` says what it is at.
    Waiting { object: String, state: String },
    /// The cluster says why something is not ready yet (reported once per reason).
    Blocked { reason: String },
    /// An object became ready.
    Ready { object: String },
    /// An apply failed in a way that clears up on its own (cert-manager still starting) and
    /// will be tried again.
    Retrying { object: String, reason: String },
    /// An object was deleted.
    Deleted {
        object: String,
        dry_run: super::DeleteDryRun,
    },
    /// An object was already gone when delete came to it.
    AlreadyGone { object: String },
    /// An object was kept on purpose.
    Kept { object: String, reason: String },
}

impl fmt::Display for Progress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Progress::CertManagerManifests {
                origin,
                objects,
                sha256,
                matches_pinned,
            } => write!(
                f,
                "cert-manager: {objects} objects from {origin} (sha256 {sha256}{})",
                if *matches_pinned {
                    ", the pinned release"
                } else {
                    ", not the pinned release"
                }
            ),
            Progress::Applied { object, dry_run } => write!(
                f,
                "{object} applied{}",
                if *dry_run { " (server dry run)" } else { "" }
            ),
            Progress::NotChecked { object, reason } => {
                write!(f, "{object} not checked: {reason}")
            }
            Progress::Waiting { object, state } => write!(f, "waiting for {object}: {state}"),
            Progress::Blocked { reason } => write!(f, "not ready yet: {reason}"),
            Progress::Ready { object } => write!(f, "{object} is ready"),
            Progress::Retrying { object, reason } => {
                write!(f, "{object} will be tried again: {reason}")
            }
            Progress::Deleted { object, dry_run } => match dry_run {
                super::DeleteDryRun::None => write!(f, "{object} deleted"),
                super::DeleteDryRun::Client => write!(f, "{object} deleted (dry run)"),
                super::DeleteDryRun::Server => write!(f, "{object} deleted (server dry run)"),
            },
            Progress::AlreadyGone { object } => write!(f, "{object} was already gone"),
            Progress::Kept { object, reason } => write!(f, "{object} kept: {reason}"),
        }
    }
}
