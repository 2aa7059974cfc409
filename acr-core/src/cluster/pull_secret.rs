//! Creating a pull secret in a cluster: reads first (the Secret, each service account), which
//! refuse with every problem at once before anything is written; then server-side apply of the
//! Secret under the field manager, and a guarded JSON merge patch of each service account's
//! `imagePullSecrets` (see `crate::pull_secret` for why not apply). A server-side dry run sends
//! the same writes with `dryRun=All`.

use super::error::ClusterError;
use super::object_name;
use super::requests::Requests;
use super::resources::known;
use crate::plan::{Plan, PlannedObject};
use crate::pull_secret::{
    PullSecretSpec, image_pull_secrets_patch, made_by_pull_secret_create, with_pull_secret,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde_json::{Value, json};
use std::fmt;

/// What the reads before a pull secret is created found: facts for the policy review, and the
/// service accounts as read (their `resourceVersion` guards the patches).
#[derive(Debug, Clone, PartialEq)]
pub struct PullSecretPreflight {
    namespace: String,
    /// The `resourceVersion` of the Secret when it exists already (made by this tool).
    existing_secret: Option<String>,
    service_accounts: Vec<ServiceAccountRead>,
}

#[derive(Debug, Clone, PartialEq)]
struct ServiceAccountRead {
    name: String,
    resource_version: String,
    image_pull_secrets: Vec<Value>,
    /// The object as read, without `managedFields`, shown when it needs no change.
    object: Value,
}

/// Something in the cluster that stops the pull secret before anything is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PullSecretProblem {
    /// A Secret of that name exists and was not made by `pull-secret create`.
    ForeignSecret { namespace: String, name: String },
    /// A service account to link does not exist.
    ServiceAccountMissing { namespace: String, name: String },
}

impl fmt::Display for PullSecretProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ForeignSecret { namespace, name } => write!(
                f,
                "Secret {namespace}/{name} exists and was not made by kubectl acr pull-secret \
                 create (it lacks the labels app.kubernetes.io/managed-by=kubectl-acr and \
                 app.kubernetes.io/component=pull-secret), so it is not overwritten: choose \
                 another name, or delete that Secret first"
            ),
            Self::ServiceAccountMissing { namespace, name } => write!(
                f,
                "ServiceAccount {namespace}/{name} does not exist: create it (kubectl create \
                 serviceaccount {name} -n {namespace}), name another with --service-account, or \
                 link none with --no-service-account"
            ),
        }
    }
}

/// Why a pull secret was not created.
#[derive(Debug, thiserror::Error)]
pub enum PullSecretClusterError {
    #[error(
        "the pull secret cannot be created, nothing was changed:\n{}",
        .problems.iter().map(|problem| format!("  - {problem}")).collect::<Vec<_>>().join("\n")
    )]
    Refused { problems: Vec<PullSecretProblem> },
    #[error(
        "ServiceAccount {namespace}/{name} changed while its imagePullSecrets were being \
         updated, so it was left as it was: run the command again (it converges)"
    )]
    ServiceAccountChanged {
        namespace: String,
        name: String,
        #[source]
        source: Box<ClusterError>,
    },
    #[error(transparent)]
    Cluster(#[from] ClusterError),
}

/// One object's part in the result, as kubectl reports it (`secret/NAME created`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectChange {
    /// `secret/NAME` or `serviceaccount/NAME`.
    pub object: String,
    /// `created`, `configured`, `patched` or `unchanged`.
    pub action: &'static str,
    pub dry_run: bool,
}

impl fmt::Display for ObjectChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.object, self.action)?;
        if self.dry_run {
            f.write_str(" (server dry run)")?;
        }
        Ok(())
    }
}

/// What creating the pull secret did.
#[derive(Debug, Clone, PartialEq)]
pub struct PullSecretReport {
    /// The Secret and the service accounts as the API server returned them (or as read, when
    /// they needed no change).
    pub objects: Plan,
    pub changes: Vec<ObjectChange>,
    pub dry_run: bool,
}

impl PullSecretPreflight {
    /// The facts as `facts.cluster` of the policy review.
    pub fn cluster_facts(&self) -> Value {
        let service_accounts: Vec<Value> = self
            .service_accounts
            .iter()
            .map(|account| {
                let names: Vec<&str> = account
                    .image_pull_secrets
                    .iter()
                    .filter_map(|entry| entry.get("name").and_then(Value::as_str))
                    .collect();
                json!({ "name": account.name, "imagePullSecrets": names })
            })
            .collect();
        json!({
            "namespace": { "name": self.namespace },
            "secret": { "exists": self.existing_secret.is_some() },
            "serviceAccounts": service_accounts,
        })
    }
}

pub(crate) async fn preflight(
    requests: &Requests,
    spec: &PullSecretSpec,
) -> Result<PullSecretPreflight, PullSecretClusterError> {
    let mut problems = Vec::new();
    let namespace = spec.namespace.as_str();
    let existing: Option<Value> = requests
        .get(&known("v1", "Secret"), Some(namespace), &spec.name)
        .await?;
    let existing_secret = match existing.as_ref().map(metadata_of) {
        Some(metadata) if made_by_pull_secret_create(&metadata) => {
            Some(metadata.resource_version.unwrap_or_default())
        }
        Some(_) => {
            problems.push(PullSecretProblem::ForeignSecret {
                namespace: namespace.to_owned(),
                name: spec.name.clone(),
            });
            None
        }
        None => None,
    };
    let mut service_accounts = Vec::new();
    for name in &spec.service_accounts {
        let found: Option<Value> = requests
            .get(&known("v1", "ServiceAccount"), Some(namespace), name)
            .await?;
        match found {
            Some(mut object) => {
                if let Some(metadata) = object.get_mut("metadata").and_then(Value::as_object_mut) {
                    metadata.remove("managedFields");
                }
                service_accounts.push(ServiceAccountRead {
                    name: name.clone(),
                    resource_version: metadata_of(&object).resource_version.unwrap_or_default(),
                    image_pull_secrets: object
                        .get("imagePullSecrets")
                        .and_then(Value::as_array)
                        .cloned()
                        .unwrap_or_default(),
                    object,
                });
            }
            None => problems.push(PullSecretProblem::ServiceAccountMissing {
                namespace: namespace.to_owned(),
                name: name.clone(),
            }),
        }
    }
    if !problems.is_empty() {
        return Err(PullSecretClusterError::Refused { problems });
    }
    Ok(PullSecretPreflight {
        namespace: namespace.to_owned(),
        existing_secret,
        service_accounts,
    })
}

pub(crate) async fn create(
    requests: &Requests,
    spec: &PullSecretSpec,
    preflight: &PullSecretPreflight,
    dry_run: bool,
) -> Result<PullSecretReport, PullSecretClusterError> {
    if preflight.namespace != spec.namespace {
        return Err(ClusterError::InvalidObject {
            object: object_name("Secret", Some(&spec.namespace), &spec.name),
            reason: format!("the preflight read namespace {}", preflight.namespace),
        }
        .into());
    }
    let secret = spec.secret_object();
    let applied = requests.apply(&secret, dry_run, false).await?;
    let secret_action = match &preflight.existing_secret {
        None => "created",
        Some(version) if metadata_of(&applied).resource_version.as_ref() == Some(version) => {
            "unchanged"
        }
        Some(_) => "configured",
    };
    let mut changes = vec![ObjectChange {
        object: format!("secret/{}", spec.name),
        action: secret_action,
        dry_run,
    }];
    let mut objects = vec![PlannedObject {
        manifest: applied,
        ..secret
    }];
    let service_accounts = known("v1", "ServiceAccount");
    for account in &preflight.service_accounts {
        let (object, action) = match with_pull_secret(&account.image_pull_secrets, &spec.name) {
            None => (account.object.clone(), "unchanged"),
            Some(entries) => {
                let patch = image_pull_secrets_patch(&account.resource_version, entries);
                let patched = requests
                    .merge_patch(
                        &service_accounts,
                        Some(&spec.namespace),
                        &account.name,
                        &patch,
                        dry_run,
                    )
                    .await
                    .map_err(|error| match error {
                        ClusterError::Api { code: 409, .. } => {
                            PullSecretClusterError::ServiceAccountChanged {
                                namespace: spec.namespace.clone(),
                                name: account.name.clone(),
                                source: Box::new(error),
                            }
                        }
                        other => other.into(),
                    })?;
                (patched, "patched")
            }
        };
        changes.push(ObjectChange {
            object: format!("serviceaccount/{}", account.name),
            action,
            dry_run,
        });
        objects.push(PlannedObject {
            api_version: "v1".to_owned(),
            kind: "ServiceAccount".to_owned(),
            name: account.name.clone(),
            namespace: Some(spec.namespace.clone()),
            manifest: object,
            holds_secret: false,
        });
    }
    Ok(PullSecretReport {
        objects: Plan { objects },
        changes,
        dry_run,
    })
}

/// The metadata of an object read as JSON (empty when it has none that parses).
fn metadata_of(object: &Value) -> ObjectMeta {
    object
        .get("metadata")
        .cloned()
        .and_then(|metadata| serde_json::from_value(metadata).ok())
        .unwrap_or_default()
}
