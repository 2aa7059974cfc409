//! Fake Ready nodes for a control plane without kubelets, and a background loop that plays the
//! parts the cluster lacks, each through the real `kubectl`:
//! - the node heartbeat (Leases in `kube-node-lease`), so the node lifecycle controller keeps
//!   the nodes Ready;
//! - the kubelet: pods bound to a fake node are marked Running and Ready, or left Pending, or
//!   given an image pull or crash-loop state, as the pod's namespace asks; pods being deleted
//!   are finished, so that namespaces can go;
//! - a storage provisioner: a Pending claim gets a matching PersistentVolume, unless its
//!   namespace asks for none.

use crate::control_plane::kubectl;
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The prefix of every fake node's name.
pub const NODE_PREFIX: &str = "acr-fake-node-";
/// How often the loop looks at pods and claims.
const LOOP_INTERVAL: Duration = Duration::from_millis(700);
/// How often the leases are renewed (the lifecycle controller's grace period is 40 s).
const HEARTBEAT_INTERVAL: Duration = Duration::from_secs(10);

/// What the fake kubelet does with pods in one namespace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pods {
    /// Running and Ready (the default).
    Run,
    /// Left Pending, as a kubelet that cannot start them would (a missing Secret volume).
    Hold,
    /// Waiting with `ImagePullBackOff`.
    ImagePullBackOff,
    /// Waiting with `CrashLoopBackOff` after three restarts, exit code 1.
    CrashLoop,
}

/// What the fake kubelet and storage provisioner do in one namespace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NamespaceBehaviour {
    pub pods: Pods,
    /// Whether Pending claims get a volume.
    pub bind_volumes: bool,
}

impl Default for NamespaceBehaviour {
    fn default() -> Self {
        Self {
            pods: Pods::Run,
            bind_volumes: true,
        }
    }
}

/// The fake nodes and the loop keeping them alive; dropping it stops the loop.
#[derive(Debug)]
pub struct FakeNodes {
    names: Vec<String>,
    behaviours: Arc<Mutex<HashMap<String, NamespaceBehaviour>>>,
    stop: Arc<AtomicBool>,
    worker: Option<JoinHandle<()>>,
}

impl FakeNodes {
    /// Creates `count` Ready nodes and starts the loop.
    pub fn start(kubeconfig: PathBuf, count: usize) -> Result<Self, String> {
        let names: Vec<String> = (1..=count).map(|i| format!("{NODE_PREFIX}{i}")).collect();
        let version: Value =
            serde_json::from_str(&kubectl(&kubeconfig, ["get", "--raw", "/version"], None)?)
                .map_err(|error| format!("the API server's /version is not JSON: {error}"))?;
        let version = version["gitVersion"]
            .as_str()
            .unwrap_or("v0.0.0")
            .to_owned();
        for name in &names {
            let node = json!({
                "apiVersion": "v1",
                "kind": "Node",
                "metadata": {"name": name, "labels": {
                    "kubernetes.io/hostname": name,
                    "kubernetes.io/os": "linux",
                    "kubernetes.io/arch": "amd64",
                }},
            });
            kubectl(
                &kubeconfig,
                [
                    "apply",
                    "--server-side",
                    "--field-manager=fake-nodes",
                    "-f",
                    "-",
                ],
                Some(&node.to_string()),
            )?;
            let now = now();
            let condition = |type_: &str, status: &str, reason: &str| {
                json!({"type": type_, "status": status, "reason": reason, "message": "fake node (no kubelet)",
                       "lastHeartbeatTime": now, "lastTransitionTime": now})
            };
            let status = json!({"status": {
                "capacity": {"cpu": "8", "memory": "32Gi", "pods": "110", "ephemeral-storage": "100Gi"},
                "allocatable": {"cpu": "8", "memory": "32Gi", "pods": "110", "ephemeral-storage": "100Gi"},
                "addresses": [{"type": "InternalIP", "address": "127.0.0.1"}, {"type": "Hostname", "address": name}],
                "nodeInfo": {"architecture": "amd64", "operatingSystem": "linux", "kubeletVersion": version,
                    "kubeProxyVersion": version, "containerRuntimeVersion": "containerd://1.7.0",
                    "kernelVersion": "fake", "osImage": "fake", "machineID": name, "systemUUID": name, "bootID": name},
                "conditions": [
                    condition("Ready", "True", "KubeletReady"),
                    condition("MemoryPressure", "False", "KubeletHasSufficientMemory"),
                    condition("DiskPressure", "False", "KubeletHasNoDiskPressure"),
                    condition("PIDPressure", "False", "KubeletHasSufficientPID"),
                ],
            }});
            patch_status(&kubeconfig, &["node", name], &status)?;
        }
        renew_leases(&kubeconfig, &names)?;
        let behaviours = Arc::new(Mutex::new(HashMap::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let worker = {
            let (names, behaviours, stop) = (names.clone(), behaviours.clone(), stop.clone());
            std::thread::Builder::new()
                .name("fake-nodes".to_owned())
                .spawn(move || run_loop(&kubeconfig, &names, &behaviours, &stop))
                .map_err(|error| format!("cannot start the fake-node loop: {error}"))?
        };
        Ok(Self {
            names,
            behaviours,
            stop,
            worker: Some(worker),
        })
    }

    pub fn names(&self) -> Vec<String> {
        self.names.clone()
    }

    pub fn set_behaviour(&self, namespace: &str, behaviour: NamespaceBehaviour) {
        self.behaviours
            .lock()
            .expect("behaviours lock")
            .insert(namespace.to_owned(), behaviour);
    }
}

impl Drop for FakeNodes {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(worker) = self.worker.take() {
            let _ = worker.join();
        }
    }
}

fn now() -> String {
    time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .ok()
        .and_then(|now| {
            now.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

fn renew_leases(kubeconfig: &std::path::Path, names: &[String]) -> Result<(), String> {
    // A Lease's MicroTime takes exactly six digits of fraction.
    let renewed = time::OffsetDateTime::now_utc()
        .format(time::macros::format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z"
        ))
        .unwrap_or_default();
    let leases: Vec<Value> = names
        .iter()
        .map(|name| {
            json!({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                   "metadata": {"name": name, "namespace": "kube-node-lease"},
                   "spec": {"holderIdentity": name, "leaseDurationSeconds": 40, "renewTime": renewed}})
        })
        .collect();
    let list = json!({"apiVersion": "v1", "kind": "List", "items": leases});
    kubectl(
        kubeconfig,
        [
            "apply",
            "--server-side",
            "--force-conflicts",
            "--field-manager=fake-heartbeat",
            "-f",
            "-",
        ],
        Some(&list.to_string()),
    )
    .map(drop)
}

fn run_loop(
    kubeconfig: &std::path::Path,
    names: &[String],
    behaviours: &Mutex<HashMap<String, NamespaceBehaviour>>,
    stop: &AtomicBool,
) {
    let mut last_heartbeat = Instant::now();
    let mut handled: HashSet<String> = HashSet::new();
    while !stop.load(Ordering::Relaxed) {
        if last_heartbeat.elapsed() >= HEARTBEAT_INTERVAL {
            let _ = renew_leases(kubeconfig, names);
            last_heartbeat = Instant::now();
        }
        let behaviour = |namespace: &str| {
            behaviours
                .lock()
                .expect("behaviours lock")
                .get(namespace)
                .copied()
                .unwrap_or_default()
        };
        play_kubelet(kubeconfig, &behaviour, &mut handled);
        provision_volumes(kubeconfig, &behaviour, &mut handled);
        std::thread::sleep(LOOP_INTERVAL);
    }
}

/// A merge patch of an object's status subresource, as a kubelet sends one.
fn patch_status(
    kubeconfig: &std::path::Path,
    object: &[&str],
    status: &Value,
) -> Result<String, String> {
    let status = status.to_string();
    let mut args = vec!["patch"];
    args.extend_from_slice(object);
    args.extend(["--subresource=status", "--type=merge", "-p", &status]);
    kubectl(kubeconfig, args, None)
}

fn list(kubeconfig: &std::path::Path, resource: &str) -> Vec<Value> {
    kubectl(kubeconfig, ["get", resource, "-A", "-o", "json"], None)
        .ok()
        .and_then(|text| serde_json::from_str::<Value>(&text).ok())
        .and_then(|list| list["items"].as_array().cloned())
        .unwrap_or_default()
}

fn play_kubelet(
    kubeconfig: &std::path::Path,
    behaviour: &dyn Fn(&str) -> NamespaceBehaviour,
    handled: &mut HashSet<String>,
) {
    for pod in list(kubeconfig, "pods") {
        let node = pod["spec"]["nodeName"].as_str().unwrap_or_default();
        if !node.starts_with(NODE_PREFIX) {
            continue;
        }
        let namespace = pod["metadata"]["namespace"].as_str().unwrap_or_default();
        let name = pod["metadata"]["name"].as_str().unwrap_or_default();
        let uid = pod["metadata"]["uid"].as_str().unwrap_or_default();
        if pod["metadata"]["deletionTimestamp"].is_string() {
            let _ = kubectl(
                kubeconfig,
                [
                    "delete",
                    "pod",
                    "-n",
                    namespace,
                    name,
                    "--grace-period=0",
                    "--force",
                    "--wait=false",
                ],
                None,
            );
            continue;
        }
        if handled.contains(uid) {
            continue;
        }
        let Some(status) = pod_status(&pod, behaviour(namespace).pods) else {
            continue;
        };
        let patched = patch_status(kubeconfig, &["pod", "-n", namespace, name], &status);
        if patched.is_ok() {
            handled.insert(uid.to_owned());
        }
    }
}

/// The status a kubelet would give the pod, or `None` to leave it Pending.
fn pod_status(pod: &Value, pods: Pods) -> Option<Value> {
    let now = now();
    let containers = pod["spec"]["containers"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let state = |container: &Value| -> Value {
        let name = container["name"].clone();
        let image = container["image"].clone();
        match pods {
            Pods::Run | Pods::Hold => {
                json!({"name": name, "image": image, "imageID": "", "ready": true,
                "started": true, "restartCount": 0, "state": {"running": {"startedAt": now}}})
            }
            Pods::ImagePullBackOff => {
                json!({"name": name, "image": image, "imageID": "", "ready": false,
                "started": false, "restartCount": 0, "state": {"waiting": {"reason": "ImagePullBackOff",
                "message": format!("Back-off pulling image {image}")}}})
            }
            Pods::CrashLoop => json!({"name": name, "image": image, "imageID": "", "ready": false,
                "started": false, "restartCount": 3,
                "state": {"waiting": {"reason": "CrashLoopBackOff",
                    "message": format!("back-off 40s restarting failed container={} pod={}", container["name"].as_str().unwrap_or_default(), pod["metadata"]["name"].as_str().unwrap_or_default())}},
                "lastState": {"terminated": {"exitCode": 1, "reason": "Error", "startedAt": now, "finishedAt": now}}}),
        }
    };
    let statuses: Vec<Value> = containers.iter().map(state).collect();
    let condition = |type_: &str, ok: bool| json!({"type": type_, "status": if ok { "True" } else { "False" }, "lastTransitionTime": now});
    let ready = match pods {
        Pods::Hold => return None,
        Pods::Run => true,
        Pods::ImagePullBackOff | Pods::CrashLoop => false,
    };
    Some(json!({"status": {
        "phase": if ready { "Running" } else { "Pending" },
        "hostIP": "127.0.0.1",
        "startTime": now,
        "conditions": [condition("Initialized", true), condition("Ready", ready),
                       condition("ContainersReady", ready), condition("PodScheduled", true)],
        "containerStatuses": statuses,
    }}))
}

fn provision_volumes(
    kubeconfig: &std::path::Path,
    behaviour: &dyn Fn(&str) -> NamespaceBehaviour,
    handled: &mut HashSet<String>,
) {
    for claim in list(kubeconfig, "persistentvolumeclaims") {
        if claim["status"]["phase"].as_str() != Some("Pending") {
            continue;
        }
        let namespace = claim["metadata"]["namespace"].as_str().unwrap_or_default();
        let name = claim["metadata"]["name"].as_str().unwrap_or_default();
        let uid = claim["metadata"]["uid"].as_str().unwrap_or_default();
        if !behaviour(namespace).bind_volumes || handled.contains(uid) {
            continue;
        }
        let volume = json!({
            "apiVersion": "v1", "kind": "PersistentVolume",
            "metadata": {"name": format!("acr-fake-pv-{uid}")},
            "spec": {
                "capacity": {"storage": claim["spec"]["resources"]["requests"]["storage"].clone()},
                "accessModes": claim["spec"]["accessModes"].clone(),
                "storageClassName": claim["spec"]["storageClassName"].as_str().unwrap_or(""),
                "persistentVolumeReclaimPolicy": "Retain",
                "hostPath": {"path": format!("/tmp/acr-fake-pv-{uid}")},
                "claimRef": {"namespace": namespace, "name": name, "uid": uid},
            },
        });
        if kubectl(
            kubeconfig,
            [
                "apply",
                "--server-side",
                "--field-manager=fake-provisioner",
                "-f",
                "-",
            ],
            Some(&volume.to_string()),
        )
        .is_ok()
        {
            handled.insert(uid.to_owned());
        }
    }
}
