//! The `.dockerconfigjson` content, exactly as `kubectl create secret docker-registry` writes
//! it, and the `kubernetes.io/dockerconfigjson` Secret holding it.

use super::{PULL_SECRET_COMPONENT, PullSecretSpec};
use crate::plan::{COMPONENT_LABEL, MANAGED_BY, MANAGED_BY_LABEL, PlannedObject};
use crate::secret::SecretString;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::Serialize;
use serde_json::json;
use std::collections::BTreeMap;

/// The Secret type kubelet reads registry credentials from.
pub const DOCKER_CONFIG_JSON_TYPE: &str = "kubernetes.io/dockerconfigjson";
/// The key of that Secret holding the docker config.
pub const DOCKER_CONFIG_JSON_KEY: &str = ".dockerconfigjson";

/// `~/.docker/config.json` as far as registry logins go.
#[derive(Serialize)]
struct DockerConfig<'a> {
    auths: BTreeMap<String, DockerAuth<'a>>,
}

/// One registry login, with the fields in kubectl's order. Docker, containerd and skopeo read
/// `auth` (base64 of `user:password`); kubelet reads `username` and `password` too.
#[derive(Serialize)]
struct DockerAuth<'a> {
    username: &'a str,
    password: &'a str,
    auth: String,
}

/// `{"auths":{"HOST":{"username":U,"password":P,"auth":base64("U:P")}}}`: the docker config
/// JSON with one login, as kubectl writes it (without `email`, which kubectl leaves out too
/// when none is given).
pub fn docker_config_json(spec: &PullSecretSpec) -> SecretString {
    let password = spec.password.expose();
    let config = DockerConfig {
        auths: BTreeMap::from([(
            spec.server.to_string(),
            DockerAuth {
                username: &spec.username,
                password,
                auth: STANDARD.encode(format!("{}:{password}", spec.username)),
            },
        )]),
    };
    SecretString::new(
        serde_json::to_string(&config).expect("string fields always serialise to JSON"),
    )
}

impl PullSecretSpec {
    /// The Secret to apply: type `kubernetes.io/dockerconfigjson`, labelled as this tool's pull
    /// secret. Its `data` is redacted when shown, unless secrets are asked for.
    pub fn secret_object(&self) -> PlannedObject {
        let content = docker_config_json(self);
        let manifest = json!({
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {
                "name": self.name,
                "namespace": self.namespace,
                "labels": {
                    MANAGED_BY_LABEL: MANAGED_BY,
                    COMPONENT_LABEL: PULL_SECRET_COMPONENT,
                },
            },
            "type": DOCKER_CONFIG_JSON_TYPE,
            "data": { DOCKER_CONFIG_JSON_KEY: STANDARD.encode(content.expose()) },
        });
        PlannedObject {
            api_version: "v1".to_owned(),
            kind: "Secret".to_owned(),
            name: self.name.clone(),
            namespace: Some(self.namespace.clone()),
            manifest,
            holds_secret: true,
        }
    }
}
