//! Creating a pull secret: the gate on the request (with what the cluster holds, unless no
//! cluster is read), then the Secret and the service accounts' `imagePullSecrets`.

use super::{Gated, OperationError};
use crate::cluster::{
    Cluster, KubeconfigSelection, PullSecretClusterError, PullSecretPreflight, PullSecretReport,
};
use crate::plan::Plan;
use crate::policy::approval::{Approval, PullSecret};
use crate::policy::{CheckReport, PolicyChecker};
use crate::pull_secret::{PullSecretSpec, pull_secret_review};

/// The Secret a pull secret request would create, approved on the request alone.
#[derive(Debug)]
pub struct OfflinePullSecret {
    pub secret: Plan,
    approval: Approval<PullSecret>,
}

impl OfflinePullSecret {
    /// The verdicts that approved it.
    pub fn report(&self) -> &CheckReport {
        self.approval.report()
    }
}

/// A pull secret the policies approved on the request alone (a client dry run): the Secret it
/// would create. No cluster is read and nothing is written.
pub fn check_pull_secret_offline(
    spec: &PullSecretSpec,
    checker: &PolicyChecker,
) -> Gated<OfflinePullSecret> {
    match checker.approve::<PullSecret>(&pull_secret_review(spec, None)) {
        Ok(approval) => Gated::Approved(OfflinePullSecret {
            secret: Plan {
                objects: vec![spec.secret_object()],
            },
            approval,
        }),
        Err(refusal) => Gated::Refused(refusal),
    }
}

/// A pull secret the policies approved with the cluster's facts; nothing is written yet.
#[derive(Debug)]
pub struct CheckedPullSecret {
    spec: PullSecretSpec,
    cluster: Cluster,
    preflight: PullSecretPreflight,
    approval: Approval<PullSecret>,
}

/// Reads the Secret and the service accounts the request involves (refusing a Secret this tool
/// did not make, or a missing service account) and runs the gate with what it read.
pub fn check_pull_secret(
    spec: PullSecretSpec,
    cluster: &KubeconfigSelection,
    checker: &PolicyChecker,
) -> Result<Gated<CheckedPullSecret>, OperationError> {
    let cluster = Cluster::connect(cluster)?;
    let preflight = cluster.pull_secret_preflight(&spec)?;
    let review = pull_secret_review(&spec, Some(preflight.cluster_facts()));
    Ok(match checker.approve::<PullSecret>(&review) {
        Ok(approval) => Gated::Approved(CheckedPullSecret {
            spec,
            cluster,
            preflight,
            approval,
        }),
        Err(refusal) => Gated::Refused(refusal),
    })
}

impl CheckedPullSecret {
    /// The verdicts that approved it.
    pub fn report(&self) -> &CheckReport {
        self.approval.report()
    }

    /// The API server the Secret goes to.
    pub fn server(&self) -> &str {
        self.cluster.server()
    }

    /// Applies the Secret and adds it to each service account (`dry_run`: the API server checks
    /// every write and stores nothing).
    pub fn create(&self, dry_run: bool) -> Result<PullSecretReport, PullSecretClusterError> {
        self.cluster
            .create_pull_secret(&self.spec, &self.preflight, dry_run, &self.approval)
    }
}
