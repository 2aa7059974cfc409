//! Deploying and rendering a connected registry: settings to plan, preflight on the cluster,
//! the gate with what preflight found, then the apply (or the GitOps folder) it approved.

use super::{Gated, OperationError};
use crate::cluster::{
    CertManagerManifests, Cluster, ClusterError, DeployOptions, DeployReport, KubeconfigSelection,
    Preflight, Progress,
};
use crate::fsio::{Overwrite, WriteError};
use crate::plan::{self, GitOpsFolder, Plan, PlanOptions, PlannedObject, SecretForm};
use crate::policy::approval::{Approval, ConnectedRegistry};
use crate::policy::{CheckReport, Operation, PolicyChecker, connected_registry_review};
use crate::settings::ConnectedRegistrySettings;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use time::OffsetDateTime;

/// A deploy of one connected registry to one cluster.
#[derive(Debug, Clone)]
pub struct DeployRequest {
    pub settings: ConnectedRegistrySettings,
    pub plan: PlanOptions,
    pub cluster: KubeconfigSelection,
    /// cert-manager's release when the settings install it.
    pub cert_manager: Option<Arc<CertManagerManifests>>,
    /// The time certificates are judged at.
    pub now: OffsetDateTime,
}

/// How an approved deploy is carried out.
#[derive(Debug, Clone, Copy)]
pub struct ApplyOptions {
    /// Server-side dry run: the API server checks every object and stores nothing.
    pub dry_run: bool,
    /// Wait for the registry Deployment and the trust DaemonSet to roll out.
    pub wait: bool,
    /// Bounds every wait.
    pub timeout: Duration,
    /// Take over fields another field manager owns.
    pub force_conflicts: bool,
}

/// What checking a deploy found: preflight's warnings, and the gate's decision.
#[derive(Debug)]
pub struct DeployCheck {
    pub warnings: Vec<String>,
    pub gated: Gated<CheckedDeploy>,
}

/// A deploy the policies approved, with the cluster facts they saw; nothing is changed yet.
#[derive(Debug)]
pub struct CheckedDeploy {
    cluster: Cluster,
    planned: Plan,
    preflight: Preflight,
    cert_manager: Option<Arc<CertManagerManifests>>,
    approval: Approval<ConnectedRegistry>,
}

/// Plans the deploy, reads the cluster (preflight: nothing is written) and runs the gate with
/// what preflight found.
pub fn check_deploy(
    request: &DeployRequest,
    checker: &PolicyChecker,
) -> Result<DeployCheck, OperationError> {
    let planned = plan::render(&request.settings, &request.plan)?;
    let cluster = Cluster::connect(&request.cluster)?;
    let namespace = &request.plan.namespace;
    let preflight = cluster.preflight(&request.settings, &planned, namespace, request.now)?;
    let mut review =
        connected_registry_review(&request.settings, namespace, Operation::Deploy, request.now)?;
    preflight.add_facts_to(&mut review);
    let warnings = preflight.warnings.clone();
    let gated = match checker.approve::<ConnectedRegistry>(&review) {
        Ok(approval) => Gated::Approved(CheckedDeploy {
            cluster,
            planned,
            preflight,
            cert_manager: request.cert_manager.clone(),
            approval,
        }),
        Err(refusal) => Gated::Refused(refusal),
    };
    Ok(DeployCheck { warnings, gated })
}

impl CheckedDeploy {
    /// The verdicts that approved the deploy.
    pub fn report(&self) -> &CheckReport {
        self.approval.report()
    }

    /// The API server this deploy goes to.
    pub fn server(&self) -> &str {
        self.cluster.server()
    }

    /// Applies the approved plan (cert-manager first when it is installed), then waits as asked.
    pub fn apply(
        &self,
        options: &ApplyOptions,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<DeployReport, ClusterError> {
        let deploy_options = DeployOptions {
            dry_run: options.dry_run,
            cert_manager: self.cert_manager.as_deref(),
            wait: options.wait,
            timeout: options.timeout,
            force_conflicts: options.force_conflicts,
        };
        self.cluster.deploy(
            &self.planned,
            &self.preflight,
            &deploy_options,
            &self.approval,
            progress,
        )
    }
}

/// A render of one connected registry: no cluster is read.
#[derive(Debug, Clone)]
pub struct RenderRequest {
    pub settings: ConnectedRegistrySettings,
    pub plan: PlanOptions,
    /// The time certificates are judged at.
    pub now: OffsetDateTime,
}

/// The manifests of a deploy the policies approved.
#[derive(Debug)]
pub struct Rendered {
    plan: Plan,
    approval: Approval<ConnectedRegistry>,
}

/// The GitOps folder of an approved render, ready to write; built only from that render's plan.
#[derive(Debug)]
pub struct ApprovedFolder {
    folder: GitOpsFolder,
    approval: Approval<ConnectedRegistry>,
}

/// Runs the gate on the settings, then plans: a refused render plans nothing.
pub fn render(
    request: &RenderRequest,
    checker: &PolicyChecker,
) -> Result<Gated<Rendered>, OperationError> {
    let review = connected_registry_review(
        &request.settings,
        &request.plan.namespace,
        Operation::Deploy,
        request.now,
    )?;
    Ok(match checker.approve::<ConnectedRegistry>(&review) {
        Ok(approval) => Gated::Approved(Rendered {
            plan: plan::render(&request.settings, &request.plan)?,
            approval,
        }),
        Err(refusal) => Gated::Refused(refusal),
    })
}

impl Rendered {
    /// The verdicts that approved the render.
    pub fn report(&self) -> &CheckReport {
        self.approval.report()
    }

    /// The approved objects.
    pub fn plan(&self) -> &Plan {
        &self.plan
    }

    /// The GitOps folder of the plan, cert-manager's release as its own layer when given.
    pub fn into_folder(
        self,
        cert_manager: Option<&[PlannedObject]>,
        secrets: &SecretForm,
    ) -> ApprovedFolder {
        ApprovedFolder {
            folder: GitOpsFolder::new(&self.plan, cert_manager, secrets),
            approval: self.approval,
        }
    }
}

impl ApprovedFolder {
    /// The files it holds, and what to do about its Secrets.
    pub fn folder(&self) -> &GitOpsFolder {
        &self.folder
    }

    /// The verdicts that approved it.
    pub fn report(&self) -> &CheckReport {
        self.approval.report()
    }

    /// Writes every file under `dir`, all or nothing.
    pub fn write(&self, dir: &Path, overwrite: Overwrite) -> Result<(), WriteError> {
        self.folder.write(dir, overwrite, &self.approval)
    }
}
