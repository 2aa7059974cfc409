//! The kubectl-only commands: rendering, and with a cluster deploying, showing, verifying and
//! deleting the connected registry.

pub mod delete;
pub mod deploy;
pub mod render;
pub mod status;
pub mod verify;
