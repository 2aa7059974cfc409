//! The kubectl-only commands: rendering, and with a cluster deploying, showing, verifying and
//! deleting the connected registry, creating pull secrets, and air-gap bundles.

pub mod bundle;
pub mod delete;
pub mod deploy;
pub mod pull_secret;
pub mod render;
pub mod status;
pub mod verify;
