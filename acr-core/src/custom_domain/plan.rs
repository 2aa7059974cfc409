//! Writing one PEM per domain, and the plan of what remains: CNAME records, the Key Vault
//! secret, the managed identity and its role, and the details a support request needs.

use super::certificate::PreparedCertificate;
use super::secret_id::{KeyVaultSecretId, Rotation};
use super::{CustomDomainError, CustomDomains, Domain};
use crate::fsio::{self, FileMode, OutputFile, Overwrite};
use crate::policy::approval::{self, Approval};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// A domain and the PEM file written for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DomainFile {
    pub domain: Domain,
    pub path: PathBuf,
}

/// Writes `<fqdn>.pem` (private key, serving certificate, chain) for every domain into `dir`,
/// 0600 and atomically. Every destination is checked first, so that nothing is written when
/// any exists and `overwrite` is [`Overwrite::Refuse`].
pub(crate) fn write_domain_files(
    domains: &CustomDomains,
    certificate: &PreparedCertificate,
    dir: &Path,
    overwrite: Overwrite,
    _approved: &Approval<approval::CustomDomain>,
) -> Result<Vec<DomainFile>, CustomDomainError> {
    let files: Vec<DomainFile> = domains
        .all()
        .into_iter()
        .map(|domain| DomainFile {
            path: dir.join(format!("{}.pem", domain.fqdn)),
            domain,
        })
        .collect();
    fsio::create_private_dir(dir).map_err(|source| CustomDomainError::CreateDirectory {
        path: dir.to_path_buf(),
        source,
    })?;
    let pem = certificate.pem();
    let outputs: Vec<OutputFile<'_>> = files
        .iter()
        .map(|file| OutputFile {
            path: &file.path,
            contents: pem.expose().as_bytes(),
            mode: FileMode::Secret,
        })
        .collect();
    fsio::write_set(&outputs, overwrite)?;
    Ok(files)
}

/// Names for the identity steps; placeholders are used where none is given.
#[derive(Debug, Clone, Default)]
pub struct IdentityOptions {
    pub resource_group: Option<String>,
    pub identity: Option<String>,
}

/// What `custom-domain prepare` returns.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Plan {
    pub registry: String,
    /// True for `--self-signed`: the certificate is for testing only.
    pub testing_only: bool,
    pub certificate: CertificateSummary,
    pub domains: Vec<PlannedDomain>,
    pub key_vault: KeyVaultPlan,
    pub steps: Vec<Step>,
    pub support_request: SupportRequest,
    pub warnings: Vec<String>,
}

/// The serving certificate shared by every domain.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CertificateSummary {
    pub subject: String,
    pub issuer: String,
    pub not_after: String,
    pub days_left: i64,
    /// Subjects in the order written: the serving certificate, then its chain.
    pub chain: Vec<String>,
}

/// One domain: its PEM file, its CNAME record and the secret that will hold its certificate.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PlannedDomain {
    #[serde(flatten)]
    pub domain: Domain,
    pub pem_file: PathBuf,
    pub cname: CnameRecord,
    pub key_vault_secret_id: String,
}

/// A DNS CNAME record to create.
#[derive(Debug, Clone, Serialize)]
pub struct CnameRecord {
    pub name: String,
    pub target: String,
}

/// Where the certificate goes in Key Vault and how rotation works with that ID.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyVaultPlan {
    pub secret_id: String,
    pub vault: String,
    pub secret: String,
    pub rotation: Rotation,
    pub rotation_consequence: &'static str,
}

/// One remaining step, with the az command that does it when there is one.
#[derive(Debug, Clone, Serialize)]
pub struct Step {
    pub title: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
}

/// What the support request enabling the custom domains must state.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SupportRequest {
    pub registry: String,
    pub login_server: String,
    pub registry_domain: String,
    pub data_domains: BTreeMap<String, String>,
    pub regions: Vec<String>,
    pub key_vault_secret_ids: BTreeMap<String, String>,
    pub identity: IdentityDetails,
}

/// The user-assigned identity the registry reads the secret with.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IdentityDetails {
    pub name: String,
    pub resource_group: String,
    pub resource_id_command: String,
}

/// Builds the plan for the files written, the secret ID (or a placeholder) and the identity.
pub fn build_plan(
    domains: &CustomDomains,
    certificate: &PreparedCertificate,
    files: &[DomainFile],
    secret_id: Option<&KeyVaultSecretId>,
    identity: &IdentityOptions,
    now: OffsetDateTime,
) -> Result<Plan, CustomDomainError> {
    let registry = domains.registry.clone();
    let rotation = secret_id.map_or(Rotation::Automatic, KeyVaultSecretId::rotation);
    let (secret_id, vault, secret) = match secret_id {
        Some(id) => (id.to_string(), id.vault.clone(), id.name.clone()),
        None => {
            let secret = format!("{registry}-custom-domain");
            (
                format!("https://<key-vault>.vault.azure.net/secrets/{secret}"),
                "<key-vault>".to_owned(),
                secret,
            )
        }
    };
    let resource_group = identity
        .resource_group
        .clone()
        .unwrap_or_else(|| "<resource-group>".to_owned());
    let identity_name = identity
        .identity
        .clone()
        .unwrap_or_else(|| format!("{registry}-custom-domain"));
    let identity_show = |query: &str| {
        format!(
            "az identity show --resource-group {resource_group} --name {identity_name} --query {query} -o tsv"
        )
    };

    let planned: Vec<PlannedDomain> = files
        .iter()
        .map(|file| PlannedDomain {
            domain: file.domain.clone(),
            pem_file: file.path.clone(),
            cname: CnameRecord {
                name: file.domain.fqdn.clone(),
                target: file.domain.cname_target(&registry),
            },
            key_vault_secret_id: secret_id.clone(),
        })
        .collect();

    let mut steps: Vec<Step> = planned
        .iter()
        .map(|domain| {
            let (label, zone) = domain
                .domain
                .fqdn
                .split_once('.')
                .unwrap_or((domain.domain.fqdn.as_str(), ""));
            Step {
                title: format!(
                    "Create the DNS record {} CNAME {} (the command is for a zone in Azure DNS)",
                    domain.cname.name, domain.cname.target
                ),
                command: Some(format!(
                    "az network dns record-set cname set-record --resource-group <dns-resource-group> \
                     --zone-name {zone} --record-set-name {label} --cname {}",
                    domain.cname.target
                )),
            }
        })
        .collect();
    if let Some(first) = planned.first() {
        steps.push(Step {
            title: format!(
                "Store the certificate in Key Vault as the secret {secret} (every domain shares it)"
            ),
            command: Some(format!(
                "az keyvault secret set --vault-name {vault} --name {secret} --file {} --encoding utf-8 \
                 --content-type application/x-pem-file",
                first.pem_file.display()
            )),
        });
    }
    steps.extend([
        Step {
            title: format!(
                "Create the managed identity {identity_name} the registry reads the secret with"
            ),
            command: Some(format!(
                "az identity create --resource-group {resource_group} --name {identity_name}"
            )),
        },
        Step {
            title: "Let the identity read the secret (role Key Vault Secrets User)".to_owned(),
            command: Some(format!(
                "az role assignment create --role \"Key Vault Secrets User\" --assignee-object-id \
                 \"$({})\" --assignee-principal-type ServicePrincipal --scope \"$(az keyvault show \
                 --name {vault} --query id -o tsv)/secrets/{secret}\"",
                identity_show("principalId")
            )),
        },
        Step {
            title: format!("Assign the identity to the registry {registry}"),
            command: Some(format!(
                "az acr identity assign --name {registry} --identities \"$({})\"",
                identity_show("id")
            )),
        },
        Step {
            title:
                "Open an Azure support request to enable the custom domains, with the details in \
                    supportRequest"
                    .to_owned(),
            command: None,
        },
    ]);

    let infos = certificate
        .chain
        .iter()
        .map(|certificate| crate::tls::describe(&certificate.der, now))
        .collect::<Result<Vec<_>, _>>()
        .map_err(CustomDomainError::Describe)?;
    let mut certificate_summary = infos
        .first()
        .map(|leaf| CertificateSummary {
            subject: leaf.subject.clone(),
            issuer: leaf.issuer.clone(),
            not_after: leaf.not_after.format(&Rfc3339).unwrap_or_default(),
            days_left: leaf.days_left,
            chain: Vec::new(),
        })
        .unwrap_or_default();
    certificate_summary.chain = infos.into_iter().map(|info| info.subject).collect();

    Ok(Plan {
        testing_only: certificate.self_signed,
        certificate: certificate_summary,
        key_vault: KeyVaultPlan {
            secret_id: secret_id.clone(),
            vault,
            secret,
            rotation,
            rotation_consequence: rotation.consequence(),
        },
        support_request: SupportRequest {
            login_server: format!("{registry}.azurecr.io"),
            registry: registry.clone(),
            registry_domain: domains.registry_domain.clone(),
            data_domains: domains.data_domains.clone(),
            regions: domains.data_domains.keys().cloned().collect(),
            key_vault_secret_ids: planned
                .iter()
                .map(|domain| (domain.domain.fqdn.clone(), secret_id.clone()))
                .collect(),
            identity: IdentityDetails {
                resource_id_command: identity_show("id"),
                name: identity_name.clone(),
                resource_group: resource_group.clone(),
            },
        },
        domains: planned,
        steps,
        warnings: certificate.warnings.clone(),
        registry,
    })
}
