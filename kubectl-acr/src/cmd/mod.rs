//! The kubectl-only commands: rendering, and with a cluster deploying, showing, verifying and
//! deleting the connected registry, and creating pull secrets.

pub mod delete;
pub mod deploy;
pub mod pull_secret;
pub mod render;
pub mod status;
pub mod verify;
