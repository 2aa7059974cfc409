//! The registry check's result: one typed step each for name resolution, the TLS handshake, the
//! certificate's names, the registry API and authentication, each passed, failed or skipped
//! with its reason; serialisable for `-o json` and printable one line per step.

use std::fmt::Write as _;
use std::net::IpAddr;

use serde::Serialize;
use time::OffsetDateTime;

use crate::tls::SubjectAltNames;
use crate::untrusted::Untrusted;

/// How a step went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StepOutcome {
    Pass,
    Fail,
    /// Not run: an earlier step failed, or there was nothing to check (no credentials).
    Skipped,
}

impl StepOutcome {
    fn label(self) -> &'static str {
        match self {
            StepOutcome::Pass => "PASS",
            StepOutcome::Fail => "FAIL",
            StepOutcome::Skipped => "SKIP",
        }
    }
}

/// What every step has: how it went and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StepResult {
    pub outcome: StepOutcome,
    pub reason: String,
}

impl StepResult {
    pub(crate) fn pass(reason: impl Into<String>) -> Self {
        Self {
            outcome: StepOutcome::Pass,
            reason: reason.into(),
        }
    }

    pub(crate) fn fail(reason: impl Into<String>) -> Self {
        Self {
            outcome: StepOutcome::Fail,
            reason: reason.into(),
        }
    }

    pub(crate) fn skipped(reason: impl Into<String>) -> Self {
        Self {
            outcome: StepOutcome::Skipped,
            reason: reason.into(),
        }
    }

    pub(crate) fn passed(&self) -> bool {
        self.outcome == StepOutcome::Pass
    }
}

/// `resolve`: the host's addresses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ResolveStep {
    #[serde(flatten)]
    pub result: StepResult,
    pub addresses: Vec<IpAddr>,
}

/// One certificate the server presented.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PresentedCertificate {
    pub subject: String,
    pub issuer: String,
    #[serde(with = "time::serde::rfc3339")]
    pub not_after: OffsetDateTime,
    pub expired: bool,
    pub subject_alt_names: SubjectAltNames,
}

/// `tls`: the handshake and the validation of the presented chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TlsStep {
    #[serde(flatten)]
    pub result: StepResult,
    /// The address connected to.
    pub address: Option<String>,
    /// "TLSv1.3", "TLSv1.2" once the handshake completed.
    pub protocol: Option<String>,
    /// What validation of the chain found, whether or not the handshake completed.
    pub chain_valid: Option<bool>,
    /// The chain as presented, leaf first (recorded even when validation fails).
    pub chain: Vec<PresentedCertificate>,
}

/// `san`: whether the leaf certificate names the host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SanStep {
    #[serde(flatten)]
    pub result: StepResult,
    /// The name or IP address clients connect to.
    pub host: String,
}

/// A `WWW-Authenticate` challenge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Challenge {
    /// "Basic", "Bearer", ...
    pub scheme: String,
    pub realm: Option<String>,
    pub service: Option<String>,
    pub scope: Option<String>,
}

/// `v2`: the registry API's base endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct V2Step {
    #[serde(flatten)]
    pub result: StepResult,
    pub status: Option<u16>,
    pub challenge: Option<Challenge>,
}

/// One entry of a registry token's `access` claim.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct GrantedAccess {
    #[serde(rename = "type")]
    pub kind: String,
    pub name: String,
    #[serde(default)]
    pub actions: Vec<String>,
}

impl GrantedAccess {
    /// `repository:team/app:pull,push`, as scopes are written.
    pub fn scope(&self) -> String {
        format!("{}:{}:{}", self.kind, self.name, self.actions.join(","))
    }
}

/// `auth`: the credentials, through the challenge's scheme.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthStep {
    #[serde(flatten)]
    pub result: StepResult,
    pub scheme: Option<String>,
    pub requested_scope: Option<String>,
    /// The token's `access` claim (read, not verified); `None` when the token does not carry one.
    pub granted: Option<Vec<GrantedAccess>>,
}

/// Every step of a registry check, in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RegistryReport {
    /// `host:port` as checked.
    pub server: String,
    pub passed: bool,
    pub resolve: ResolveStep,
    pub tls: TlsStep,
    pub san: SanStep,
    pub v2: V2Step,
    pub auth: AuthStep,
}

impl RegistryReport {
    /// The steps' names and results, in order.
    pub fn steps(&self) -> [(&'static str, &StepResult); 5] {
        [
            ("resolve", &self.resolve.result),
            ("tls", &self.tls.result),
            ("san", &self.san.result),
            ("v2", &self.v2.result),
            ("auth", &self.auth.result),
        ]
    }

    /// One line per step (`PASS  tls      reason`), the presented chain under the tls step.
    pub fn to_text(&self) -> String {
        let mut text = format!("Registry {}:\n", Untrusted(&self.server));
        for (name, result) in self.steps() {
            let _ = writeln!(
                text,
                "{}  {name:<7}  {}",
                result.outcome.label(),
                Untrusted(&result.reason)
            );
            if name == "tls" {
                for (position, certificate) in self.tls.chain.iter().enumerate() {
                    let _ = writeln!(
                        text,
                        "      {}. {} (issuer {}; notAfter {}{}; SANs {})",
                        position + 1,
                        Untrusted(&certificate.subject),
                        Untrusted(&certificate.issuer),
                        certificate
                            .not_after
                            .format(&time::format_description::well_known::Rfc3339)
                            .unwrap_or_default(),
                        if certificate.expired { ", EXPIRED" } else { "" },
                        Untrusted(&certificate.subject_alt_names.summary())
                    );
                }
            }
        }
        text
    }
}
