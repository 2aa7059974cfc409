//! Writing the Arc extension's protected settings file: the inputs checked and the file built,
//! the gate on what it holds, then the file written.

use super::{Gated, OperationError};
use crate::fsio::Overwrite;
use crate::policy::approval::{Approval, ProtectedSettings};
use crate::policy::{CheckReport, PolicyChecker, protected_settings_review};
use crate::secret::SecretString;
use crate::settings::protected_write::{
    ProtectedSettingsSummary, ProtectedTlsInput, prepare_protected_settings,
};
use std::path::PathBuf;
use time::OffsetDateTime;

/// A protected settings file to write.
#[derive(Debug, Clone)]
pub struct ProtectedSettingsRequest {
    pub connection_string: SecretString,
    pub tls: ProtectedTlsInput,
    pub out: PathBuf,
    pub overwrite: Overwrite,
    /// The time certificates are judged at.
    pub now: OffsetDateTime,
}

/// What was written (no secret value), with the approval.
#[derive(Debug)]
pub struct WrittenProtectedSettings {
    pub summary: ProtectedSettingsSummary,
    approval: Approval<ProtectedSettings>,
}

impl WrittenProtectedSettings {
    /// The verdicts that approved it (warnings included).
    pub fn report(&self) -> &CheckReport {
        self.approval.report()
    }
}

/// Builds the file, runs the gate on what it holds (secrets redacted, certificates described)
/// and, when approved, writes it (0600). A refusal writes nothing.
pub fn write_protected_settings(
    request: &ProtectedSettingsRequest,
    checker: &PolicyChecker,
) -> Result<Gated<WrittenProtectedSettings>, OperationError> {
    let file = prepare_protected_settings(request.connection_string.expose(), &request.tls)?;
    let review = protected_settings_review(file.settings(), file.tls_source(), request.now)?;
    let approval = match checker.approve::<ProtectedSettings>(&review) {
        Ok(approval) => approval,
        Err(refusal) => return Ok(Gated::Refused(refusal)),
    };
    let summary = file.write(&request.out, request.overwrite, &approval)?;
    Ok(Gated::Approved(WrittenProtectedSettings {
        summary,
        approval,
    }))
}
