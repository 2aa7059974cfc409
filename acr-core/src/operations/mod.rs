//! The use cases both front ends run: deploy, render, delete, pull-secret create, custom-domain
//! prepare and protected-settings write. Each takes a typed request and returns a typed outcome;
//! the policy gate runs inside, once, and the change itself (an apply, a patch, a file written)
//! takes the approval only the gate makes, so a change no policy approved does not compile.

mod connected_registry;
mod custom_domain;
mod delete;
mod protected_settings;
mod pull_secret;

pub use crate::policy::approval::Refusal;
pub use connected_registry::{
    ApplyOptions, ApprovedFolder, CheckedDeploy, DeployCheck, DeployRequest, RenderRequest,
    Rendered, check_deploy, render,
};
pub use custom_domain::{CustomDomainRequest, PreparedCustomDomain, prepare_custom_domain};
pub use delete::{DeleteRequest, delete};
pub use protected_settings::{
    ProtectedSettingsRequest, WrittenProtectedSettings, write_protected_settings,
};
pub use pull_secret::{
    CheckedPullSecret, OfflinePullSecret, check_pull_secret, check_pull_secret_offline,
};

use crate::cluster::{ClusterError, PullSecretClusterError};
use crate::custom_domain::CustomDomainError;
use crate::fsio::WriteError;
use crate::plan::PlanError;
use crate::policy::ReviewError;
use crate::settings::protected_write::ProtectedWriteError;

/// What the policy gate decided: the approved work, ready to carry out, or the refusal.
#[derive(Debug)]
pub enum Gated<T> {
    Approved(T),
    Refused(Refusal),
}

/// Why an operation could not run (a policy refusal is not this: it is [`Gated::Refused`]).
#[derive(Debug, thiserror::Error)]
pub enum OperationError {
    #[error(transparent)]
    Review(#[from] ReviewError),
    #[error(transparent)]
    Plan(#[from] PlanError),
    #[error(transparent)]
    Cluster(#[from] ClusterError),
    #[error(transparent)]
    PullSecret(#[from] PullSecretClusterError),
    #[error(transparent)]
    CustomDomain(#[from] CustomDomainError),
    #[error(transparent)]
    ProtectedSettings(#[from] ProtectedWriteError),
    #[error(transparent)]
    Write(#[from] WriteError),
}
