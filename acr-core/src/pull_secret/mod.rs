//! Image pull secrets for a private registry (`kubectl acr pull-secret create`), the pure parts:
//! the checked request, the `.dockerconfigjson` content and the Secret holding it, the change to
//! each service account's `imagePullSecrets`, and the policy review. The cluster flow is in
//! `crate::cluster`.

mod docker_config;
mod review;
mod service_account;

pub use docker_config::{DOCKER_CONFIG_JSON_KEY, DOCKER_CONFIG_JSON_TYPE, docker_config_json};
pub use review::{CredentialKind, pull_secret_review};
pub use service_account::{image_pull_secrets_patch, with_pull_secret};

use crate::plan::{COMPONENT_LABEL, MANAGED_BY, MANAGED_BY_LABEL};
use crate::secret::SecretString;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use std::fmt;

/// The value of `app.kubernetes.io/component` on the Secrets this tool makes.
pub const PULL_SECRET_COMPONENT: &str = "pull-secret";

/// The service account linked when none is named, as `kubectl create secret docker-registry`
/// users then do by hand for the pods that run without one.
pub const DEFAULT_SERVICE_ACCOUNT: &str = "default";

/// What the user asked for, before it is checked.
#[derive(Debug, Clone)]
pub struct PullSecretInput {
    pub name: String,
    pub namespace: String,
    pub server: String,
    pub username: String,
    pub password: SecretString,
    pub service_accounts: Vec<String>,
}

/// A checked pull secret request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullSecretSpec {
    /// The Secret's name.
    pub name: String,
    pub namespace: String,
    pub server: RegistryServer,
    /// The registry user: for Azure Container Registry, the token (or admin user) name.
    pub username: String,
    pub password: SecretString,
    /// The service accounts whose `imagePullSecrets` get the Secret, without repeats, in the
    /// order given.
    pub service_accounts: Vec<String>,
}

/// A registry as `docker login` names it: a host and an optional port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryServer {
    pub host: String,
    pub port: Option<u16>,
}

impl fmt::Display for RegistryServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.port {
            Some(port) => write!(f, "{}:{port}", self.host),
            None => f.write_str(&self.host),
        }
    }
}

/// Why a pull secret request cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PullSecretError {
    #[error("{what} `{value}` is not a valid Kubernetes name: {rule}")]
    InvalidName {
        what: &'static str,
        value: String,
        rule: &'static str,
    },
    #[error("--server `{value}` is not a registry host: {reason}")]
    InvalidServer { value: String, reason: String },
    #[error("--username `{value}` cannot be used: {reason}")]
    InvalidUsername { value: String, reason: &'static str },
    #[error("the password from {origin} is empty")]
    EmptyPassword { origin: String },
}

impl PullSecretSpec {
    /// Checks every part of the request.
    pub fn new(input: PullSecretInput) -> Result<Self, PullSecretError> {
        check_name(NameRule::Subdomain, "secret name", &input.name)?;
        check_name(NameRule::Label, "namespace", &input.namespace)?;
        let mut service_accounts: Vec<String> = Vec::new();
        for account in input.service_accounts {
            check_name(NameRule::Subdomain, "service account", &account)?;
            if !service_accounts.contains(&account) {
                service_accounts.push(account);
            }
        }
        let username_problem = if input.username.is_empty() {
            Some("it is empty")
        } else if input.username.contains(':') {
            Some("a ':' would split the `user:password` pair registries read from `auth`")
        } else if input.username.chars().any(char::is_control) {
            Some("it contains a control character")
        } else {
            None
        };
        if let Some(reason) = username_problem {
            return Err(PullSecretError::InvalidUsername {
                value: input.username,
                reason,
            });
        }
        if input.password.expose().is_empty() {
            return Err(PullSecretError::EmptyPassword {
                origin: "the request".to_owned(),
            });
        }
        Ok(Self {
            server: RegistryServer::parse(&input.server)?,
            name: input.name,
            namespace: input.namespace,
            username: input.username,
            password: input.password,
            service_accounts,
        })
    }
}

/// Whether a Secret with this metadata was made by `pull-secret create` (and so may be
/// overwritten by it): labelled as this tool's, as a pull secret. A Secret `deploy` made is not.
pub fn made_by_pull_secret_create(metadata: &ObjectMeta) -> bool {
    let label = |key: &str| {
        metadata
            .labels
            .as_ref()
            .and_then(|labels| labels.get(key))
            .map(String::as_str)
    };
    label(MANAGED_BY_LABEL) == Some(MANAGED_BY)
        && label(COMPONENT_LABEL) == Some(PULL_SECRET_COMPONENT)
}

impl RegistryServer {
    /// Reads `HOST` or `HOST:PORT` (`[IPv6]:PORT`), as `docker login` and the `auths` keys of a
    /// docker config name a registry. A URL (`https://...`, a path) is refused with the host to
    /// use instead, so the key matches what kubelet looks up for `HOST/repository` images.
    pub fn parse(text: &str) -> Result<Self, PullSecretError> {
        let invalid = |reason: String| PullSecretError::InvalidServer {
            value: text.to_owned(),
            reason,
        };
        let without_scheme = text.split_once("://").map(|(_, rest)| rest);
        if let Some(rest) = without_scheme {
            let host = rest.split('/').next().unwrap_or_default();
            return Err(invalid(format!(
                "give the registry's host without a scheme, as in `{host}`"
            )));
        }
        if let Some((host, _)) = text.split_once('/') {
            return Err(invalid(format!(
                "give the registry's host without a path, as in `{host}`"
            )));
        }
        let (host, port) = match text.rsplit_once(':') {
            Some((host, port)) if !host.ends_with(':') && !port.contains(']') => {
                let port: u16 = port
                    .parse()
                    .ok()
                    .filter(|port| *port > 0)
                    .ok_or_else(|| invalid(format!("`{port}` is not a port number")))?;
                (host, Some(port))
            }
            _ => (text, None),
        };
        let bracketed = host.starts_with('[') && host.ends_with(']');
        let valid_host = !host.is_empty()
            && (bracketed
                || host
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.'));
        if !valid_host {
            return Err(invalid(
                "a host name is letters, digits, '-' and '.' (an IPv6 address goes in brackets)"
                    .to_owned(),
            ));
        }
        Ok(Self {
            host: host.to_owned(),
            port,
        })
    }
}

/// The two shapes of Kubernetes object names.
#[derive(Debug, Clone, Copy)]
enum NameRule {
    /// RFC 1123 subdomain: Secrets, service accounts.
    Subdomain,
    /// RFC 1123 label: namespaces.
    Label,
}

fn check_name(rule: NameRule, what: &'static str, value: &str) -> Result<(), PullSecretError> {
    let (max_len, dots, text) = match rule {
        NameRule::Subdomain => (
            253,
            true,
            "at most 253 lowercase letters, digits, '-' or '.', starting and ending with a letter or digit",
        ),
        NameRule::Label => (
            63,
            false,
            "at most 63 lowercase letters, digits or '-', starting and ending with a letter or digit",
        ),
    };
    let edge = |c: Option<char>| c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    let inner =
        |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || (dots && c == '.');
    if value.len() <= max_len
        && edge(value.chars().next())
        && edge(value.chars().last())
        && value.chars().all(inner)
    {
        Ok(())
    } else {
        Err(PullSecretError::InvalidName {
            what,
            value: value.to_owned(),
            rule: text,
        })
    }
}

#[cfg(test)]
mod tests;
