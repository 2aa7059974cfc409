//! Waiting for workloads, bounded by `--timeout`: a Deployment or DaemonSet rollout judged as
//! `kubectl rollout status` judges it, or a Deployment's `Available` condition (cert-manager's
//! webhook). Polls with GET requests; no watch connection is kept open.

use super::diagnosis;
use super::error::ClusterError;
use super::object_name;
use super::progress::Progress;
use super::requests::Requests;
use super::resources::known;
use k8s_openapi::api::apps::v1::{DaemonSet, Deployment};
use std::collections::{BTreeSet, HashMap, HashSet};
use std::time::Duration;
use tokio::time::Instant;

/// Time between two looks at what is still pending.
const POLL_INTERVAL: Duration = Duration::from_secs(2);

/// When waiting ends: the start of the operation plus `--timeout`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Deadline {
    at: Instant,
    timeout: Duration,
}

impl Deadline {
    pub(crate) fn after(timeout: Duration) -> Self {
        Self {
            at: Instant::now() + timeout,
            timeout,
        }
    }

    pub(crate) fn expired(&self) -> bool {
        Instant::now() >= self.at
    }

    /// Sleeps one poll interval, or until the deadline when that is sooner.
    pub(crate) async fn pause(&self) {
        let remaining = self.at.saturating_duration_since(Instant::now());
        tokio::time::sleep(remaining.min(POLL_INTERVAL)).await;
    }

    pub(crate) fn timed_out(&self, pending: Vec<String>, blockers: Vec<String>) -> ClusterError {
        ClusterError::TimedOut {
            timeout: self.timeout,
            pending,
            blockers,
        }
    }
}

/// What a workload must reach.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Readiness {
    /// A Deployment whose rollout is complete.
    DeploymentRollout,
    /// A Deployment whose `Available` condition is true.
    DeploymentAvailable,
    /// A DaemonSet whose rollout is complete on every node it selects.
    DaemonSetRollout,
}

/// A workload to wait for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Workload {
    pub namespace: String,
    pub name: String,
    pub readiness: Readiness,
}

impl Workload {
    fn kind(&self) -> &'static str {
        match self.readiness {
            Readiness::DeploymentRollout | Readiness::DeploymentAvailable => "Deployment",
            Readiness::DaemonSetRollout => "DaemonSet",
        }
    }

    fn object(&self) -> String {
        object_name(self.kind(), Some(&self.namespace), &self.name)
    }

    async fn state(&self, requests: &Requests) -> Result<WorkloadState, ClusterError> {
        let resource = known("apps/v1", self.kind());
        let namespace = Some(self.namespace.as_str());
        let absent = || WorkloadState::pending("it does not exist yet".to_owned());
        Ok(match self.readiness {
            Readiness::DeploymentRollout => requests
                .get::<Deployment>(&resource, namespace, &self.name)
                .await?
                .map_or_else(absent, |deployment| deployment_rollout(&deployment)),
            Readiness::DeploymentAvailable => requests
                .get::<Deployment>(&resource, namespace, &self.name)
                .await?
                .map_or_else(absent, |deployment| deployment_available(&deployment)),
            Readiness::DaemonSetRollout => requests
                .get::<DaemonSet>(&resource, namespace, &self.name)
                .await?
                .map_or_else(absent, |daemon_set| daemon_set_rollout(&daemon_set)),
        })
    }
}

/// Whether a workload is there yet, and if not, where it stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct WorkloadState {
    pub done: bool,
    pub detail: String,
}

impl WorkloadState {
    fn pending(detail: String) -> Self {
        Self {
            done: false,
            detail,
        }
    }

    fn done(detail: String) -> Self {
        Self { done: true, detail }
    }
}

/// The rollout of a Deployment, as `kubectl rollout status` sees it.
pub(crate) fn deployment_rollout(deployment: &Deployment) -> WorkloadState {
    let generation = deployment.metadata.generation.unwrap_or(0);
    let wanted = deployment
        .spec
        .as_ref()
        .and_then(|spec| spec.replicas)
        .unwrap_or(1);
    let Some(status) = &deployment.status else {
        return WorkloadState::pending("the rollout has not been observed yet".to_owned());
    };
    let updated = status.updated_replicas.unwrap_or(0);
    let total = status.replicas.unwrap_or(0);
    let available = status.available_replicas.unwrap_or(0);
    if status.observed_generation.unwrap_or(0) < generation {
        WorkloadState::pending("the rollout has not been observed yet".to_owned())
    } else if updated < wanted {
        WorkloadState::pending(format!("{updated} of {wanted} replicas updated"))
    } else if total > updated {
        WorkloadState::pending(format!(
            "{} old replicas are pending termination",
            total - updated
        ))
    } else if available < updated {
        WorkloadState::pending(format!("{available} of {updated} replicas available"))
    } else {
        WorkloadState::done(format!("{available} of {wanted} replicas available"))
    }
}

/// Whether a Deployment says it is `Available`.
pub(crate) fn deployment_available(deployment: &Deployment) -> WorkloadState {
    let condition = deployment
        .status
        .as_ref()
        .and_then(|status| status.conditions.as_ref())
        .and_then(|conditions| {
            conditions
                .iter()
                .find(|condition| condition.type_ == "Available")
        });
    match condition {
        Some(condition) if condition.status == "True" => {
            WorkloadState::done("available".to_owned())
        }
        Some(condition) => WorkloadState::pending(format!(
            "not available yet{}",
            condition
                .message
                .as_ref()
                .map(|message| format!(": {message}"))
                .unwrap_or_default()
        )),
        None => WorkloadState::pending("not available yet".to_owned()),
    }
}

/// The rollout of a DaemonSet, as `kubectl rollout status` sees it.
pub(crate) fn daemon_set_rollout(daemon_set: &DaemonSet) -> WorkloadState {
    let generation = daemon_set.metadata.generation.unwrap_or(0);
    let Some(status) = &daemon_set.status else {
        return WorkloadState::pending("the rollout has not been observed yet".to_owned());
    };
    let desired = status.desired_number_scheduled;
    let updated = status.updated_number_scheduled.unwrap_or(0);
    let available = status.number_available.unwrap_or(0);
    if status.observed_generation.unwrap_or(0) < generation {
        WorkloadState::pending("the rollout has not been observed yet".to_owned())
    } else if updated < desired {
        WorkloadState::pending(format!("{updated} of {desired} pods updated"))
    } else if available < desired {
        WorkloadState::pending(format!("{available} of {desired} pods available"))
    } else {
        WorkloadState::done(format!("{available} of {desired} nodes ready"))
    }
}

/// Polls until every workload is ready, reporting each change of state and each new reason the
/// cluster gives for a delay, or fails with what was still pending at the deadline and why.
pub(crate) async fn until_ready(
    requests: &Requests,
    workloads: Vec<Workload>,
    deadline: &Deadline,
    progress: &mut dyn FnMut(Progress),
) -> Result<(), ClusterError> {
    let mut pending = workloads;
    let mut reported: HashMap<String, String> = HashMap::new();
    let mut reported_blockers: HashSet<String> = HashSet::new();
    loop {
        let mut still_pending = Vec::new();
        for workload in pending {
            let state = workload.state(requests).await?;
            let object = workload.object();
            if state.done {
                progress(Progress::Ready { object });
                continue;
            }
            if reported.get(&object) != Some(&state.detail) {
                reported.insert(object.clone(), state.detail.clone());
                progress(Progress::Waiting {
                    object,
                    state: state.detail.clone(),
                });
            }
            still_pending.push((workload, state.detail));
        }
        if still_pending.is_empty() {
            return Ok(());
        }
        let mut blockers = Vec::new();
        let namespaces: BTreeSet<&str> = still_pending
            .iter()
            .map(|(workload, _)| workload.namespace.as_str())
            .collect();
        for namespace in namespaces {
            blockers.extend(diagnosis::blockers(requests, namespace).await?);
        }
        for blocker in &blockers {
            if reported_blockers.insert(blocker.clone()) {
                progress(Progress::Blocked {
                    reason: blocker.clone(),
                });
            }
        }
        if deadline.expired() {
            return Err(deadline.timed_out(
                still_pending
                    .iter()
                    .map(|(workload, detail)| format!("{} ({detail})", workload.object()))
                    .collect(),
                blockers,
            ));
        }
        deadline.pause().await;
        pending = still_pending
            .into_iter()
            .map(|(workload, _)| workload)
            .collect();
    }
}
