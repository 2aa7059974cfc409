//! The gate's approval: a value only the policy gate makes, required by every call that changes
//! a cluster or writes a file, so a change no policy approved does not compile.

use acr_policy::SetReport as CheckReport;
use std::marker::PhantomData;
use wasm_guest::SubjectKind;

mod sealed {
    pub trait Sealed {}
}

/// What a review (and so an approval) is about; one marker type per subject of the policy ABI.
pub trait Subject: sealed::Sealed {
    /// The review subject the policies saw.
    const KIND: SubjectKind;
}

macro_rules! subjects {
    ($($(#[$doc:meta])* $name:ident => $kind:ident),* $(,)?) => {$(
        $(#[$doc])*
        #[derive(Debug, Clone, Copy)]
        pub enum $name {}
        impl sealed::Sealed for $name {}
        impl Subject for $name {
            const KIND: SubjectKind = SubjectKind::$kind;
        }
    )*};
}

subjects! {
    /// Deploying or rendering a connected registry.
    ConnectedRegistry => ConnectedRegistry,
    /// Creating a pull secret.
    PullSecret => PullSecret,
    /// Writing an ACR custom domain's certificate files.
    CustomDomain => CustomDomain,
    /// Writing the Arc extension's protected settings file.
    ProtectedSettings => ProtectedSettings,
}

/// The policies allowed a change about `S`: the report they gave travels with it. Made only by
/// [`super::PolicyChecker::approve`]; it cannot be built, cloned or deserialised elsewhere, so
/// a change no policy approved does not compile:
///
/// ```compile_fail,E0624
/// use acr_core::policy::{Approval, CheckReport, ConnectedRegistry};
/// fn forge(report: CheckReport) -> Approval<ConnectedRegistry> {
///     Approval::granted(report) // private to the gate
/// }
/// ```
///
/// ```compile_fail,E0308
/// use acr_core::policy::{Approval, ConnectedRegistry, PullSecret};
/// fn reuse(approval: &Approval<PullSecret>) -> &Approval<ConnectedRegistry> {
///     approval // an approval is for one subject
/// }
/// ```
///
/// ```compile_fail,E0599
/// use acr_core::policy::{Approval, ConnectedRegistry};
/// fn copy(approval: &Approval<ConnectedRegistry>) -> Approval<ConnectedRegistry> {
///     approval.clone() // not Clone
/// }
/// ```
#[derive(Debug)]
pub struct Approval<S: Subject> {
    report: CheckReport,
    subject: PhantomData<S>,
}

impl<S: Subject> Approval<S> {
    /// Only the gate (the policy module) grants one, from an allowing report about `S`.
    pub(super) fn granted(report: CheckReport) -> Self {
        debug_assert!(report.allowed() && report.subject == S::KIND);
        Self {
            report,
            subject: PhantomData,
        }
    }

    /// An approval for the unit tests of the calls that require one.
    #[cfg(test)]
    pub(crate) fn for_tests() -> Self {
        Self {
            report: CheckReport {
                operation: wasm_guest::Operation::Create,
                subject: S::KIND,
                decision: acr_policy::Decision::Allowed,
                policies: Vec::new(),
            },
            subject: PhantomData,
        }
    }

    /// The verdicts that allowed the change (warnings included).
    pub fn report(&self) -> &CheckReport {
        &self.report
    }
}

/// The policies refused: nothing was changed. The report says which policy denied or failed.
#[derive(Debug)]
pub struct Refusal {
    pub report: CheckReport,
}
