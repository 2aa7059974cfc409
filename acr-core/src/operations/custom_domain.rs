//! Preparing an ACR custom domain: the certificate checked, the gate on it, then one PEM per
//! domain written and the plan of the remaining steps.

use super::{Gated, OperationError};
use crate::custom_domain::{
    CertificateSource, CustomDomains, IdentityOptions, KeyVaultSecretId, Plan, build_plan,
    custom_domain_review, prepare_certificate, write_domain_files,
};
use crate::fsio::Overwrite;
use crate::policy::approval::{Approval, CustomDomain};
use crate::policy::{CheckReport, PolicyChecker};
use std::path::PathBuf;
use time::OffsetDateTime;

/// A custom domain to prepare.
#[derive(Debug, Clone)]
pub struct CustomDomainRequest {
    pub domains: CustomDomains,
    pub certificate: CertificateSource,
    /// Where one PEM per domain is written.
    pub out_dir: PathBuf,
    pub overwrite: Overwrite,
    pub key_vault_secret_id: Option<KeyVaultSecretId>,
    pub identity: IdentityOptions,
    /// The time certificates are judged at.
    pub now: OffsetDateTime,
}

/// The files written and the plan of what is left to do, with the approval.
#[derive(Debug)]
pub struct PreparedCustomDomain {
    pub plan: Plan,
    approval: Approval<CustomDomain>,
}

impl PreparedCustomDomain {
    /// The verdicts that approved it (warnings included).
    pub fn report(&self) -> &CheckReport {
        self.approval.report()
    }
}

/// Checks the certificate, runs the gate on it and, when approved, writes the PEM files and
/// plans the DNS, Key Vault, identity and support steps. A refusal writes nothing.
pub fn prepare_custom_domain(
    request: &CustomDomainRequest,
    checker: &PolicyChecker,
) -> Result<Gated<PreparedCustomDomain>, OperationError> {
    let certificate = prepare_certificate(&request.domains, &request.certificate, request.now)?;
    let review = custom_domain_review(&request.domains, &certificate, request.now)?;
    let approval = match checker.approve::<CustomDomain>(&review) {
        Ok(approval) => approval,
        Err(refusal) => return Ok(Gated::Refused(refusal)),
    };
    let files = write_domain_files(
        &request.domains,
        &certificate,
        &request.out_dir,
        request.overwrite,
        &approval,
    )?;
    let plan = build_plan(
        &request.domains,
        &certificate,
        &files,
        request.key_vault_secret_id.as_ref(),
        &request.identity,
        request.now,
    )?;
    Ok(Gated::Approved(PreparedCustomDomain { plan, approval }))
}
