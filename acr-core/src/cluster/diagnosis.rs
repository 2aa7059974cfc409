//! What keeps a deployment from being ready, in words a platform engineer acts on: a data
//! volume claim Pending (no default StorageClass, the named one missing), a Certificate not
//! Ready (its condition's message), a Deployment whose pods are refused (Pod Security admission,
//! quota: the `ReplicaFailure` condition), a pod the scheduler cannot place (its reason), image
//! pull errors, a crash loop with the last lines of the container's log where the cluster gives
//! them, and what a known log line means (ALREADY_ACTIVATED: the connected registry was
//! re-installed without being deactivated). `status` shows these, and so does a wait that runs
//! out of time.

use super::deployed_selector;
use super::error::ClusterError;
use super::object_name;
use super::preflight::storage_classes;
use super::requests::Requests;
use super::resources::known;
use crate::plan::CERT_MANAGER_API_VERSION;
use crate::untrusted::Untrusted;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{PersistentVolumeClaim, Pod};
use serde_json::Value;

/// Lines of a crash-looping container's log shown.
const LOG_LINES: i64 = 5;
/// Container waiting reasons that need someone to act (others, such as ContainerCreating,
/// pass by themselves).
const BLOCKING_WAIT_REASONS: [&str; 7] = [
    "ImagePullBackOff",
    "ErrImagePull",
    "InvalidImageName",
    "CrashLoopBackOff",
    "CreateContainerConfigError",
    "CreateContainerError",
    "RunContainerError",
];

/// Everything that keeps what `deploy` made in `namespace` from being ready, one sentence each.
pub(crate) async fn blockers(
    requests: &Requests,
    namespace: &str,
) -> Result<Vec<String>, ClusterError> {
    let mut found = Vec::new();
    let selector = deployed_selector();
    let claims: Vec<PersistentVolumeClaim> = requests
        .list(
            &known("v1", "PersistentVolumeClaim"),
            Some(namespace),
            Some(&selector),
        )
        .await?
        .unwrap_or_default();
    for claim in &claims {
        if let Some(problem) = pending_claim(requests, namespace, claim).await? {
            found.push(problem);
        }
    }
    let certificates: Vec<Value> = requests
        .list(
            &known(CERT_MANAGER_API_VERSION, "Certificate"),
            Some(namespace),
            Some(&selector),
        )
        .await?
        .unwrap_or_default();
    found.extend(
        certificates
            .iter()
            .filter_map(|certificate| certificate_not_ready(namespace, certificate)),
    );
    let deployments: Vec<Deployment> = requests
        .list(
            &known("apps/v1", "Deployment"),
            Some(namespace),
            Some(&selector),
        )
        .await?
        .unwrap_or_default();
    found.extend(
        deployments
            .iter()
            .filter_map(|deployment| replica_failure(namespace, deployment)),
    );
    let pods: Vec<Pod> = requests
        .list(&known("v1", "Pod"), Some(namespace), Some(&selector))
        .await?
        .unwrap_or_default();
    for pod in &pods {
        found.extend(pod_problems(requests, namespace, pod).await);
    }
    Ok(found)
}

async fn pending_claim(
    requests: &Requests,
    namespace: &str,
    claim: &PersistentVolumeClaim,
) -> Result<Option<String>, ClusterError> {
    let phase = claim
        .status
        .as_ref()
        .and_then(|status| status.phase.as_deref());
    if phase != Some("Pending") {
        return Ok(None);
    }
    let object = object_name(
        "PersistentVolumeClaim",
        Some(namespace),
        claim.metadata.name.as_deref().unwrap_or_default(),
    );
    let named = claim
        .spec
        .as_ref()
        .and_then(|spec| spec.storage_class_name.clone());
    let (classes, default) = storage_classes(requests).await?;
    let reason = match named {
        Some(name) if name.is_empty() => {
            "it asks for no StorageClass (pvc.storageClassName is empty), so only a \
             PersistentVolume made by hand can bind it"
                .to_owned()
        }
        Some(name) if !classes.contains(&name) => format!(
            "StorageClass {name} (pvc.storageClassName) does not exist; the cluster has {}",
            listed(&classes)
        ),
        Some(name) => format!(
            "waiting for StorageClass {name}'s provisioner (`kubectl describe pvc -n {namespace}` \
             shows its events)"
        ),
        None => match default {
            Some(class) => format!(
                "waiting for the default StorageClass {class}'s provisioner (`kubectl describe \
                 pvc -n {namespace}` shows its events)"
            ),
            None if classes.is_empty() => "the cluster has no default StorageClass, nor any \
                 other: install a storage provisioner, or bind the claim to a PersistentVolume \
                 made by hand"
                .to_owned(),
            None => format!(
                "the cluster has no default StorageClass: set pvc.storageClassName to one of {}, \
                 or mark one default",
                listed(&classes)
            ),
        },
    };
    Ok(Some(format!("{object} is Pending: {reason}")))
}

fn listed(names: &[String]) -> String {
    if names.is_empty() {
        "none".to_owned()
    } else {
        names.join(", ")
    }
}

fn certificate_not_ready(namespace: &str, certificate: &Value) -> Option<String> {
    let name = certificate
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let object = object_name("Certificate", Some(namespace), name);
    let ready = certificate
        .pointer("/status/conditions")
        .and_then(Value::as_array)
        .and_then(|conditions| {
            conditions
                .iter()
                .find(|condition| condition["type"] == "Ready")
        });
    match ready {
        Some(condition) if condition["status"] == "True" => None,
        Some(condition) => Some(format!(
            "{object} is not Ready: {}",
            Untrusted(
                condition["message"]
                    .as_str()
                    .or(condition["reason"].as_str())
                    .unwrap_or("no reason given")
            )
        )),
        None => Some(format!(
            "{object} is not Ready: cert-manager has not looked at it yet (is cert-manager's \
             controller running? `kubectl get pods -n cert-manager`)"
        )),
    }
}

/// A Deployment whose ReplicaSet cannot create pods (Pod Security admission, quota), from its
/// `ReplicaFailure` condition.
fn replica_failure(namespace: &str, deployment: &Deployment) -> Option<String> {
    let condition = deployment
        .status
        .as_ref()?
        .conditions
        .iter()
        .flatten()
        .find(|condition| condition.type_ == "ReplicaFailure" && condition.status == "True")?;
    let message = condition.message.as_deref().unwrap_or("no message given");
    let hint = if message.contains("violates PodSecurity") {
        format!(
            " (the namespace's Pod Security level refuses the pod: `kubectl get namespace \
             {namespace} --show-labels` shows pod-security.kubernetes.io/enforce)"
        )
    } else {
        String::new()
    };
    Some(format!(
        "{} cannot create its pods: {}{hint}",
        object_name(
            "Deployment",
            Some(namespace),
            deployment.metadata.name.as_deref().unwrap_or_default()
        ),
        Untrusted(message)
    ))
}

/// What a line the connected registry logs means, where it is known: ALREADY_ACTIVATED (field
/// reports, issue 14; the Helm quickstart says to deactivate before deploying again) and
/// DISK_PERMISSION_DENIED (Microsoft's connected registry error code reference).
pub(crate) fn known_log_cause(log: &str) -> Option<&'static str> {
    if log.contains("DISK_PERMISSION_DENIED") {
        return Some(
            "DISK_PERMISSION_DENIED: the registry cannot write its data volume as the user it \
             runs as; set container.runAsUser to the user the image expects (0 runs it as root, \
             as Docker runs it by default)",
        );
    }
    log.contains("ALREADY_ACTIVATED").then_some(
        "ALREADY_ACTIVATED: the connected registry is still activated from an earlier install \
         (it was removed without being deactivated); run `az acr connected-registry deactivate \
         --name NAME --registry REGISTRY`, then deploy again",
    )
}

async fn pod_problems(requests: &Requests, namespace: &str, pod: &Pod) -> Vec<String> {
    let name = pod.metadata.name.as_deref().unwrap_or_default();
    let object = object_name("Pod", Some(namespace), name);
    let Some(status) = &pod.status else {
        return Vec::new();
    };
    let mut problems = Vec::new();
    let unschedulable = status.conditions.iter().flatten().find(|condition| {
        condition.type_ == "PodScheduled"
            && condition.status == "False"
            && condition.reason.as_deref() == Some("Unschedulable")
    });
    if let Some(condition) = unschedulable {
        problems.push(format!(
            "{object} cannot be scheduled: {}",
            Untrusted(
                condition
                    .message
                    .as_deref()
                    .unwrap_or("the scheduler gave no reason")
            )
        ));
    }
    for container in status.container_statuses.iter().flatten() {
        let Some(waiting) = container
            .state
            .as_ref()
            .and_then(|state| state.waiting.as_ref())
        else {
            continue;
        };
        let reason = waiting.reason.as_deref().unwrap_or_default();
        if !BLOCKING_WAIT_REASONS.contains(&reason) {
            continue;
        }
        let mut problem = format!(
            "{object} container {}: {}",
            Untrusted(&container.name),
            Untrusted(reason)
        );
        if let Some(message) = &waiting.message {
            problem.push_str(&format!(": {}", Untrusted(message)));
        }
        if reason == "CrashLoopBackOff" {
            let exit_code = container
                .last_state
                .as_ref()
                .and_then(|state| state.terminated.as_ref())
                .map(|terminated| terminated.exit_code);
            problem.push_str(&format!(
                " (restarted {} times{})",
                container.restart_count,
                exit_code
                    .map(|code| format!(", last exit code {code}"))
                    .unwrap_or_default()
            ));
            problem.push_str(&match requests
                .previous_log(namespace, name, &container.name, LOG_LINES)
                .await
            {
                Ok(log) if log.trim().is_empty() => "; its last log is empty".to_owned(),
                Ok(log) => format!(
                    "{}; the last lines of its log:\n{}",
                    known_log_cause(&log)
                        .map(|cause| format!("; {cause}"))
                        .unwrap_or_default(),
                    log.lines()
                        .map(|line| format!("      {}", Untrusted(line)))
                        .collect::<Vec<_>>()
                        .join("\n")
                ),
                Err(error) => format!("; the cluster did not give its log: {error}"),
            });
        }
        problems.push(problem);
    }
    problems
}
