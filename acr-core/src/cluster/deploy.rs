//! Applying a plan: cert-manager's release first when it is installed (then its webhook must
//! answer), then each planned object in order with server-side apply, then, when asked, the
//! rollouts. A server-side dry run sends the same requests with `dryRun=All`.

use super::cert_manager::CertManagerManifests;
use super::error::ClusterError;
use super::object_name;
use super::preflight::Preflight;
use super::progress::Progress;
use super::requests::Requests;
use super::wait::{self, Deadline, Readiness, Workload};
use crate::plan::{CERT_MANAGER_API_VERSION, Plan, PlannedObject, REGISTRY_NAME};
use std::time::Duration;

/// How to deploy.
#[derive(Debug, Clone)]
pub struct DeployOptions<'a> {
    /// Server-side dry run: every apply carries `dryRun=All`, nothing is stored, nothing waited for.
    pub dry_run: bool,
    /// cert-manager's release manifests, to install before the plan (`cert-manager.install=true`).
    pub cert_manager: Option<&'a CertManagerManifests>,
    /// Wait for the registry Deployment and the trust DaemonSet to roll out.
    pub wait: bool,
    /// Bounds every wait: cert-manager's webhook, cert-manager accepting the issuers, rollouts.
    pub timeout: Duration,
    /// Take over fields another field manager owns instead of stopping at the conflict.
    pub force_conflicts: bool,
}

/// What a deploy applied.
#[derive(Debug, Clone, PartialEq)]
pub struct DeployReport {
    /// The objects as the API server returned them, in apply order (cert-manager's first).
    pub applied: Plan,
    /// Objects a server-side dry run could not check.
    pub not_checked: Vec<NotChecked>,
    pub dry_run: bool,
}

/// An object a server-side dry run could not check, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotChecked {
    pub object: String,
    pub reason: String,
}

pub(crate) async fn run(
    requests: &Requests,
    plan: &Plan,
    preflight: &Preflight,
    options: &DeployOptions<'_>,
    progress: &mut dyn FnMut(Progress),
) -> Result<DeployReport, ClusterError> {
    if let Some(elsewhere) = plan.objects.iter().find(|object| {
        object
            .namespace
            .as_ref()
            .is_some_and(|namespace| *namespace != preflight.namespace)
    }) {
        return Err(ClusterError::InvalidObject {
            object: describe(elsewhere),
            reason: format!(
                "the preflight checked namespace {}, not this object's",
                preflight.namespace
            ),
        });
    }
    let deadline = Deadline::after(options.timeout);
    let mut deploy = Deployer {
        requests,
        dry_run: options.dry_run,
        force_conflicts: options.force_conflicts,
        report: DeployReport {
            applied: Plan {
                objects: Vec::new(),
            },
            not_checked: Vec::new(),
            dry_run: options.dry_run,
        },
    };
    if let Some(manifests) = options.cert_manager {
        progress(Progress::CertManagerManifests {
            origin: manifests.origin.clone(),
            objects: manifests.objects.len(),
            sha256: manifests.sha256.clone(),
            matches_pinned: manifests.is_pinned_release(),
        });
        for object in &manifests.objects {
            deploy.apply(object, progress).await?;
        }
        if let (false, Some(webhook)) = (options.dry_run, manifests.webhook()) {
            let workload = Workload {
                namespace: webhook.namespace.clone().unwrap_or_default(),
                name: webhook.name.clone(),
                readiness: Readiness::DeploymentAvailable,
            };
            wait::until_ready(requests, vec![workload], &deadline, progress).await?;
        }
    }
    let cert_manager_just_installed = options.cert_manager.is_some() && !options.dry_run;
    for object in &plan.objects {
        if cert_manager_just_installed && object.api_version == CERT_MANAGER_API_VERSION {
            deploy
                .apply_when_cert_manager_answers(object, &deadline, progress)
                .await?;
        } else {
            deploy.apply(object, progress).await?;
        }
    }
    if options.wait && !options.dry_run {
        let workloads = plan
            .objects
            .iter()
            .filter_map(|object| {
                let readiness = match object.kind.as_str() {
                    "Deployment" if object.name == REGISTRY_NAME => Readiness::DeploymentRollout,
                    "DaemonSet" => Readiness::DaemonSetRollout,
                    _ => return None,
                };
                Some(Workload {
                    namespace: object.namespace.clone().unwrap_or_default(),
                    name: object.name.clone(),
                    readiness,
                })
            })
            .collect();
        wait::until_ready(requests, workloads, &deadline, progress).await?;
    }
    Ok(deploy.report)
}

struct Deployer<'a> {
    requests: &'a Requests,
    dry_run: bool,
    force_conflicts: bool,
    report: DeployReport,
}

impl Deployer<'_> {
    /// Applies one object. In a dry run, an answer of 404 (its namespace or its CRD is created
    /// by this same deploy, so the server cannot know it yet) is reported, not fatal.
    async fn apply(
        &mut self,
        object: &PlannedObject,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<(), ClusterError> {
        match self
            .requests
            .apply(object, self.dry_run, self.force_conflicts)
            .await
        {
            Ok(applied) => {
                self.record(object, applied, progress);
                Ok(())
            }
            Err(ClusterError::Api {
                code: 404, message, ..
            }) if self.dry_run => {
                let not_checked = NotChecked {
                    object: describe(object),
                    reason: format!(
                        "the API server cannot dry-run it before what it needs is created by this deploy ({message})"
                    ),
                };
                progress(Progress::NotChecked {
                    object: not_checked.object.clone(),
                    reason: not_checked.reason.clone(),
                });
                self.report.not_checked.push(not_checked);
                Ok(())
            }
            Err(error) => Err(error),
        }
    }

    /// Applies a cert-manager object right after cert-manager was installed: while its CRDs
    /// are not served yet (404) or its webhook does not answer yet (500 naming the webhook),
    /// tries again until the deadline.
    async fn apply_when_cert_manager_answers(
        &mut self,
        object: &PlannedObject,
        deadline: &Deadline,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<(), ClusterError> {
        let mut last_reason = None;
        loop {
            let error = match self
                .requests
                .apply(object, false, self.force_conflicts)
                .await
            {
                Ok(applied) => {
                    self.record(object, applied, progress);
                    return Ok(());
                }
                Err(error) => error,
            };
            let reason = match &error {
                ClusterError::Api { code: 404, .. } => {
                    "cert-manager's resources are not served yet".to_owned()
                }
                ClusterError::Api {
                    code: 500, message, ..
                } if message.contains("webhook") => {
                    format!("cert-manager's webhook does not answer yet: {message}")
                }
                _ => return Err(error),
            };
            if deadline.expired() {
                return Err(deadline
                    .timed_out(vec![format!("{} ({reason})", describe(object))], Vec::new()));
            }
            if last_reason.as_ref() != Some(&reason) {
                progress(Progress::Retrying {
                    object: describe(object),
                    reason: reason.clone(),
                });
                last_reason = Some(reason);
            }
            deadline.pause().await;
        }
    }

    fn record(
        &mut self,
        object: &PlannedObject,
        applied: serde_json::Value,
        progress: &mut dyn FnMut(Progress),
    ) {
        progress(Progress::Applied {
            object: describe(object),
            dry_run: self.dry_run,
        });
        self.report.applied.objects.push(PlannedObject {
            manifest: applied,
            holds_secret: object.kind == "Secret",
            ..object.clone()
        });
    }
}

fn describe(object: &PlannedObject) -> String {
    object_name(&object.kind, object.namespace.as_deref(), &object.name)
}
