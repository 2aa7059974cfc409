//! Connecting to a cluster as kubectl does: `--kubeconfig FILE`, else the `KUBECONFIG` list
//! (merged, the first file to set a value wins), else `~/.kube/config`; `--context` or the
//! current context; exec credential plugins and client certificates as the kubeconfig says.

use super::error::ClusterError;
use super::requests::Requests;
use super::{
    DeleteOptions, DeleteReport, DeployOptions, DeployReport, Preflight, Progress,
    PullSecretClusterError, PullSecretPreflight, PullSecretReport, RegistryEndpoint, delete,
    deploy, endpoint, preflight, pull_secret, status,
};
use crate::plan::Plan;
use crate::policy::approval::{self, Approval};
use crate::pull_secret::PullSecretSpec;
use crate::settings::ConnectedRegistrySettings;
use kube::config::{KubeConfigOptions, Kubeconfig};
use std::fmt;
use std::future::Future;
use std::path::PathBuf;
use time::OffsetDateTime;

/// Which kubeconfig and context to use.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KubeconfigSelection {
    /// `--kubeconfig`: this file only; `None` reads `KUBECONFIG` or `~/.kube/config`.
    pub kubeconfig: Option<PathBuf>,
    /// `--context`: this context instead of the current one.
    pub context: Option<String>,
}

impl KubeconfigSelection {
    fn origin(&self) -> String {
        match &self.kubeconfig {
            Some(path) => path.display().to_string(),
            None => match std::env::var_os("KUBECONFIG").filter(|value| !value.is_empty()) {
                Some(list) => format!("from KUBECONFIG={}", list.to_string_lossy()),
                None => "~/.kube/config".to_owned(),
            },
        }
    }

    /// The namespace of the selected context (`--context`, else the current one), as kubectl
    /// uses it when `-n` is not given; `None` when the context sets none.
    pub fn context_namespace(&self) -> Result<Option<String>, ClusterError> {
        let kubeconfig = self.read()?;
        let context = self
            .context
            .as_ref()
            .or(kubeconfig.current_context.as_ref());
        Ok(kubeconfig
            .contexts
            .iter()
            .find(|named| Some(&named.name) == context)
            .and_then(|named| named.context.as_ref())
            .and_then(|context| context.namespace.clone()))
    }

    /// The names of the kubeconfig's contexts, in file order.
    pub fn context_names(&self) -> Result<Vec<String>, ClusterError> {
        Ok(self
            .read()?
            .contexts
            .into_iter()
            .map(|named| named.name)
            .collect())
    }

    fn read(&self) -> Result<Kubeconfig, ClusterError> {
        let read = match &self.kubeconfig {
            Some(path) => Kubeconfig::read_from(path),
            None => Kubeconfig::read(),
        };
        read.map_err(|source| ClusterError::Kubeconfig {
            origin: self.origin(),
            source,
        })
    }
}

/// A connection to one cluster, with the runtime its requests run on.
pub struct Cluster {
    runtime: tokio::runtime::Runtime,
    requests: Requests,
    server: String,
}

impl fmt::Debug for Cluster {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cluster")
            .field("server", &self.server)
            .finish_non_exhaustive()
    }
}

impl Cluster {
    /// The names of the cluster's namespaces, for shell completion: best effort, giving up
    /// after `timeout`, and empty when the cluster cannot answer (completion must never hang or
    /// print an error into the shell).
    pub fn namespace_names(&self, timeout: std::time::Duration) -> Vec<String> {
        let namespace = super::resources::known("v1", "Namespace");
        let listed = self.runtime.block_on(async {
            tokio::time::timeout(
                timeout,
                self.requests
                    .list::<serde_json::Value>(&namespace, None, None),
            )
            .await
        });
        let Ok(Ok(Some(namespaces))) = listed else {
            return Vec::new();
        };
        namespaces
            .iter()
            .filter_map(|namespace| namespace.pointer("/metadata/name")?.as_str())
            .map(str::to_owned)
            .collect()
    }

    /// Reads the kubeconfig and prepares a client; no request is sent yet.
    pub fn connect(selection: &KubeconfigSelection) -> Result<Self, ClusterError> {
        let kubeconfig = selection.read()?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(ClusterError::Runtime)?;
        let options = KubeConfigOptions {
            context: selection.context.clone(),
            ..KubeConfigOptions::default()
        };
        let origin = selection.origin();
        let (client, server) = runtime.block_on(async {
            let config = kube::Config::from_custom_kubeconfig(kubeconfig, &options)
                .await
                .map_err(|source| ClusterError::Kubeconfig {
                    origin: origin.clone(),
                    source,
                })?;
            let server = config.cluster_url.to_string();
            let client = kube::Client::try_from(config)
                .map_err(|source| ClusterError::ClientConfig { origin, source })?;
            Ok::<_, ClusterError>((client, server))
        })?;
        Ok(Self {
            runtime,
            requests: Requests::new(client),
            server,
        })
    }

    /// The API server's URL, as the kubeconfig gives it.
    pub fn server(&self) -> &str {
        &self.server
    }

    /// Reads what the deployment depends on and refuses, before anything is written, when the
    /// cluster is not ready for it. The result carries facts for the policy review.
    pub fn preflight(
        &self,
        settings: &ConnectedRegistrySettings,
        plan: &Plan,
        namespace: &str,
        now: OffsetDateTime,
    ) -> Result<Preflight, ClusterError> {
        self.block_on(preflight::run(
            &self.requests,
            settings,
            plan,
            namespace,
            now,
        ))
    }

    /// Applies the plan (after cert-manager, when it is installed), then waits as asked; only
    /// with the policies' approval (only `operations` has one).
    pub(crate) fn deploy(
        &self,
        plan: &Plan,
        preflight: &Preflight,
        options: &DeployOptions<'_>,
        _approved: &Approval<approval::ConnectedRegistry>,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<DeployReport, ClusterError> {
        self.block_on(deploy::run(
            &self.requests,
            plan,
            preflight,
            options,
            progress,
        ))
    }

    /// What `deploy` made in `namespace`, the rollout, the serving certificate as of `now` and
    /// trust distribution per node.
    pub fn status(
        &self,
        namespace: &str,
        now: OffsetDateTime,
    ) -> Result<status::ClusterStatus, ClusterError> {
        self.block_on(status::read(&self.requests, namespace, now))
    }

    /// Where the deployed registry in `namespace` listens (its Service) and the CA of its TLS
    /// Secret, for checking it as clients will.
    pub fn registry_endpoint(&self, namespace: &str) -> Result<RegistryEndpoint, ClusterError> {
        self.block_on(endpoint::read(&self.requests, namespace))
    }

    /// Removes what `deploy` made, keeping the data unless asked.
    pub fn delete(
        &self,
        options: &DeleteOptions,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<DeleteReport, ClusterError> {
        self.block_on(delete::run(&self.requests, options, progress))
    }

    /// Reads the Secret and the service accounts a pull secret involves and refuses, before
    /// anything is written, when the Secret is not this tool's or a service account is missing.
    pub fn pull_secret_preflight(
        &self,
        spec: &PullSecretSpec,
    ) -> Result<PullSecretPreflight, PullSecretClusterError> {
        self.block_on(pull_secret::preflight(&self.requests, spec))
    }

    /// Applies the pull secret and adds it to each service account's `imagePullSecrets`; only
    /// with the policies' approval (only `operations` has one).
    pub(crate) fn create_pull_secret(
        &self,
        spec: &PullSecretSpec,
        preflight: &PullSecretPreflight,
        dry_run: bool,
        _approved: &Approval<approval::PullSecret>,
    ) -> Result<PullSecretReport, PullSecretClusterError> {
        self.block_on(pull_secret::create(
            &self.requests,
            spec,
            preflight,
            dry_run,
        ))
    }

    fn block_on<T>(&self, future: impl Future<Output = T>) -> T {
        self.runtime.block_on(future)
    }
}
