//! The review policies get before a pull secret is created: subject `pull-secret`, operation
//! `create`, and an object with everything known locally about the credential except the
//! password itself.
//!
//! What an organisation can require from it: a registry from an allow-list (`server`,
//! `registry.host`, `registry.azureContainerRegistry`), and pull-only credentials. Whether an
//! ACR token is pull-only is decided by its scope map in Azure, which cannot be read here, so the
//! object says what the user name shows: `credentialKind` tells a repository-scoped ACR token
//! (`token`, the kind that can be limited to pull) from the registry's admin user (`admin-user`,
//! which can always push and delete), a service principal (`service-principal`) and a Microsoft
//! Entra refresh token (`refresh-token`, user `00000000-0000-0000-0000-000000000000`); a policy
//! can then deny all but tokens, and hold token names to a convention such as a `-pull` suffix.

use super::PullSecretSpec;
use crate::policy::Review;
use serde::Serialize;
use serde_json::{Value, json};
use wasm_guest::{Facts, LazyJson, Operation, REVIEW_API_VERSION, SubjectKind};

/// Host name suffixes of Azure Container Registry login servers, per Azure cloud.
const ACR_SUFFIXES: [&str; 3] = [".azurecr.io", ".azurecr.cn", ".azurecr.us"];

/// The user name Microsoft Entra refresh tokens are used with (`az acr login --expose-token`).
const REFRESH_TOKEN_USER: &str = "00000000-0000-0000-0000-000000000000";

/// What kind of credential the user name shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CredentialKind {
    /// An ACR token (repository-scoped; its scope map may limit it to pull).
    Token,
    /// The ACR admin user: the user name is the registry's name; full push and delete rights.
    AdminUser,
    /// A service principal: the user name is its application (client) id, a GUID.
    ServicePrincipal,
    /// A Microsoft Entra refresh token.
    RefreshToken,
    /// A user of a registry other than ACR.
    RegistryUser,
}

impl CredentialKind {
    fn of(spec: &PullSecretSpec, acr_name: Option<&str>) -> Self {
        let username = spec.username.to_ascii_lowercase();
        match acr_name {
            None => Self::RegistryUser,
            Some(_) if username == REFRESH_TOKEN_USER => Self::RefreshToken,
            Some(_) if is_guid(&username) => Self::ServicePrincipal,
            Some(name) if username == name => Self::AdminUser,
            Some(_) => Self::Token,
        }
    }
}

/// The review of creating the pull secret `spec` describes; `cluster` is what the preflight
/// read (`facts.cluster`), `None` in a client dry run.
pub fn pull_secret_review(spec: &PullSecretSpec, cluster: Option<Value>) -> Review {
    let host = spec.server.host.to_ascii_lowercase();
    let acr_name = ACR_SUFFIXES
        .iter()
        .find_map(|suffix| host.strip_suffix(suffix))
        .filter(|name| !name.is_empty() && !name.contains('.'));
    let object = json!({
        "name": spec.name,
        "namespace": spec.namespace,
        "server": spec.server.to_string(),
        "registry": {
            "host": spec.server.host,
            "port": spec.server.port,
            "azureContainerRegistry": acr_name.is_some(),
            "name": acr_name,
        },
        "username": spec.username,
        "credentialKind": CredentialKind::of(spec, acr_name),
        "serviceAccounts": spec.service_accounts,
    });
    Review {
        api_version: REVIEW_API_VERSION.to_owned(),
        operation: Operation::Create,
        subject: SubjectKind::PullSecret,
        object,
        facts: Facts {
            certificates: Vec::new(),
            cluster: cluster.map(LazyJson::from),
        },
        settings: Value::Null,
    }
}

/// `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` in hexadecimal digits.
fn is_guid(text: &str) -> bool {
    let groups: Vec<&str> = text.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(group, len)| group.len() == len && group.chars().all(|c| c.is_ascii_hexdigit()))
}
