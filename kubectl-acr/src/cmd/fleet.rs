//! Commands over several clusters (`--fleet FILE`, or repeated `--context`). `deploy`: every
//! cluster's settings, preflight and policies first, nothing changed unless all pass, then the
//! rollout in waves. `render --out-dir`: every cluster's policies first, then one folder per
//! cluster. `status`: one line per cluster. Each ends with one summary.

use super::deploy::DeployArgs;
use super::flags::{DryRun, ManifestFormat, fleet_of};
use super::print::progress_printer;
use super::render::RenderArgs;
use super::status::StatusArgs;
use acr_cli::{Outcome, OutputFormat, Status, render};
use acr_core::cluster::{CertManagerManifests, Cluster, KubeconfigSelection, Progress};
use acr_core::fleet::{
    Fleet, FleetMember, MemberOutcome, RolloutResult, roll_out, summary_table, table,
};
use acr_core::operations::{
    CheckedDeploy, DeployRequest, Gated, RenderRequest, check_deploy, render as render_plan,
};
use acr_core::policy::{CheckReport, DecisionKind, PolicyChecker, ReportFormats};
use acr_core::settings::{ConnectedRegistrySettings, SettingsInput};
use acr_core::untrusted::escape_output;
use acr_io::InputKind;
use anyhow::Context as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use time::OffsetDateTime;

/// Why a cluster did not pass its checks.
enum Refusal {
    Denied(String),
    Failed(String),
}

impl DeployArgs {
    pub(super) fn run_fleet(&self) -> anyhow::Result<Outcome> {
        anyhow::ensure!(
            self.dry_run != DryRun::Client,
            "--dry-run=client takes one cluster; with a fleet use --dry-run=server"
        );
        let fleet = fleet_of(self.fleet.as_deref(), &self.cluster.context)?
            .context("deploy to several clusters needs --fleet FILE or --context more than once")?;
        let command_line = self.plan.settings.to_input()?;
        let checker = self.plan.policy.checker()?;
        let mut cert_manager = None;
        let mut checked = Vec::new();
        let mut refused = Vec::new();
        for member in &fleet.members {
            eprintln!("checking {}", member.name);
            match self.check(member, &command_line, &checker, &mut cert_manager) {
                Ok(ready) => checked.push((member.name.clone(), ready)),
                Err(refusal) => refused.push((member.name.clone(), refusal)),
            }
        }
        if !refused.is_empty() {
            return self.refusal_outcome(&fleet, refused);
        }
        let outcomes = roll_out(
            &checked,
            usize::from(self.max_parallel),
            self.continue_on_error,
            |_, ready| self.change(ready),
        );
        rollout_summary(&outcomes, self.output == Some(ManifestFormat::Json))
    }

    /// Settings, plan, connection, preflight and policies of one cluster; nothing is written.
    fn check(
        &self,
        member: &FleetMember,
        command_line: &SettingsInput,
        checker: &PolicyChecker,
        cert_manager_cache: &mut Option<Arc<CertManagerManifests>>,
    ) -> Result<CheckedDeploy, Refusal> {
        let failed = |error: anyhow::Error| Refusal::Failed(format!("{error:#}"));
        let settings = member_settings(member, command_line).map_err(failed)?;
        let request = DeployRequest {
            cert_manager: self
                .plan
                .cert_manager_for(&settings, cert_manager_cache)
                .map_err(failed)?,
            settings,
            plan: self.plan.options(),
            cluster: member_selection(member, &self.cluster.kubeconfig),
            now: OffsetDateTime::now_utc(),
        };
        let check = check_deploy(&request, checker).map_err(|e| failed(e.into()))?;
        for warning in &check.warnings {
            eprintln!("{}: warning: {}", member.name, escape_output(warning));
        }
        match check.gated {
            Gated::Approved(checked) => Ok(checked),
            Gated::Refused(refusal) if refusal.report.decision == DecisionKind::Denied => {
                Err(Refusal::Denied(denial(&refusal.report)))
            }
            Gated::Refused(refusal) => Err(Refusal::Failed(denial(&refusal.report))),
        }
    }

    /// Deploys one checked cluster; its progress lines carry its server.
    fn change(&self, ready: &CheckedDeploy) -> Result<String, String> {
        let server = ready.server().to_owned();
        let mut printer = progress_printer(false);
        let mut show = |event: Progress| {
            eprint!("{server}: ");
            printer(event);
        };
        match ready.apply(&self.apply_options(), &mut show) {
            Ok(deployed) => Ok(format!(
                "{} {} objects on {server}",
                if deployed.dry_run {
                    "server dry run accepted"
                } else {
                    "applied"
                },
                deployed.applied.objects.len()
            )),
            Err(error) => Err(format!("{:#}", anyhow::Error::from(error))),
        }
    }

    /// Nothing was changed: every cluster's check outcome, exit 3 when a policy denied.
    fn refusal_outcome(
        &self,
        fleet: &Fleet,
        refused: Vec<(String, Refusal)>,
    ) -> anyhow::Result<Outcome> {
        let denied = refused
            .iter()
            .any(|(_, refusal)| matches!(refusal, Refusal::Denied(_)));
        let outcomes: Vec<MemberOutcome> = fleet
            .members
            .iter()
            .map(
                |member| match refused.iter().find(|(name, _)| *name == member.name) {
                    Some((_, Refusal::Denied(why) | Refusal::Failed(why))) => MemberOutcome {
                        cluster: member.name.clone(),
                        result: RolloutResult::Failed,
                        detail: why.clone(),
                    },
                    None => MemberOutcome {
                        cluster: member.name.clone(),
                        result: RolloutResult::Skipped,
                        detail: "checked; not changed because another cluster failed its checks"
                            .to_owned(),
                    },
                },
            )
            .collect();
        fleet_summary(
            &outcomes,
            self.output == Some(ManifestFormat::Json),
            if denied {
                Status::Denied
            } else {
                Status::CheckFailed
            },
        )
    }
}

/// Which cluster a member is: its kubeconfig, else the command's `--kubeconfig`; its context.
fn member_selection(member: &FleetMember, kubeconfig: &Option<PathBuf>) -> KubeconfigSelection {
    KubeconfigSelection {
        kubeconfig: member.kubeconfig.clone().or_else(|| kubeconfig.clone()),
        context: member.context.clone(),
    }
}

/// A member's settings: the command line's, its own over them, its protected file if it names
/// one.
fn member_settings(
    member: &FleetMember,
    command_line: &SettingsInput,
) -> anyhow::Result<ConnectedRegistrySettings> {
    let protected_file = match &member.config_protected_file {
        Some(path) => Some((
            path.display().to_string(),
            acr_io::read(path, InputKind::Settings)
                .with_context(|| format!("cannot read {}", path.display()))?,
        )),
        None => None,
    };
    let input = member.settings_input(command_line, protected_file);
    Ok(ConnectedRegistrySettings::resolve(&input)?)
}

/// A denial in one line: the decision and the codes of the violations.
fn denial(report: &CheckReport) -> String {
    let codes: Vec<&str> = report
        .policies
        .iter()
        .flat_map(|policy| policy.violations())
        .map(|violation| violation.code.as_str())
        .collect();
    let why = report.refusal().unwrap_or_default();
    format!(
        "{} ({})",
        why.trim_start_matches("error: "),
        codes.join(", ")
    )
}

/// The summary of a rollout that ran: exit 1 when a cluster failed.
fn rollout_summary(outcomes: &[MemberOutcome], json: bool) -> anyhow::Result<Outcome> {
    let failed = outcomes
        .iter()
        .any(|outcome| outcome.result == RolloutResult::Failed);
    fleet_summary(
        outcomes,
        json,
        if failed {
            Status::CheckFailed
        } else {
            Status::Success
        },
    )
}

/// The summary table (or, with `json`, the outcomes as JSON) and the exit status.
fn fleet_summary(
    outcomes: &[MemberOutcome],
    json: bool,
    status: Status,
) -> anyhow::Result<Outcome> {
    let stdout = if json {
        let mut json = serde_json::to_string_pretty(outcomes)?;
        json.push('\n');
        json
    } else {
        summary_table(outcomes)
    };
    let changed = outcomes
        .iter()
        .filter(|outcome| outcome.result == RolloutResult::Done)
        .count();
    Ok(Outcome {
        stdout,
        stderr: Some(format!("{changed} of {} clusters done", outcomes.len())),
        status,
    })
}

impl RenderArgs {
    /// `render --fleet F --out-dir DIR`: every cluster's settings and policies, then, when all
    /// pass, one GitOps folder per cluster under DIR.
    pub(super) fn run_fleet(&self, fleet: &Fleet, dir: &Path) -> anyhow::Result<Outcome> {
        let command_line = self.plan.settings.to_input()?;
        let checker = self.plan.policy.checker()?;
        let mut cert_manager = None;
        let mut planned = Vec::new();
        let mut refused = Vec::new();
        let mut denied = false;
        for member in &fleet.members {
            let checked = member_settings(member, &command_line).and_then(|settings| {
                let request = RenderRequest {
                    settings,
                    plan: self.plan.options(),
                    now: OffsetDateTime::now_utc(),
                };
                match render_plan(&request, &checker)? {
                    Gated::Approved(rendered) => {
                        self.folder(&request.settings, rendered, &mut cert_manager)
                    }
                    Gated::Refused(refusal) => {
                        denied |= refusal.report.decision == DecisionKind::Denied;
                        anyhow::bail!("{}", denial(&refusal.report))
                    }
                }
            });
            match checked {
                Ok(approved) => planned.push((member.name.clone(), approved)),
                Err(error) => refused.push(MemberOutcome {
                    cluster: member.name.clone(),
                    result: RolloutResult::Failed,
                    detail: format!("{error:#}"),
                }),
            }
        }
        if !refused.is_empty() {
            let mut outcomes = refused;
            outcomes.extend(planned.iter().map(|(cluster, _)| MemberOutcome {
                cluster: cluster.clone(),
                result: RolloutResult::Skipped,
                detail: "checked; not written because another cluster failed its checks".to_owned(),
            }));
            let status = if denied {
                Status::Denied
            } else {
                Status::CheckFailed
            };
            return fleet_summary(&outcomes, self.output == Some(ManifestFormat::Json), status);
        }
        let outcomes = roll_out(&planned, 1, false, |name, approved| {
            let member_dir = dir.join(name);
            approved
                .write(&member_dir, self.overwrite())
                .map(|()| {
                    format!(
                        "{} files in {}",
                        approved.folder().files.len(),
                        member_dir.display()
                    )
                })
                .map_err(|error| format!("{:#}", anyhow::Error::from(error)))
        });
        rollout_summary(&outcomes, self.output == Some(ManifestFormat::Json))
    }
}

impl StatusArgs {
    /// `status` of every cluster: one line each (READY and what the rollout says), or the full
    /// statuses with `-o json|yaml`. Exit 1 when a cluster could not be read.
    pub(super) fn run_fleet(&self, fleet: &Fleet) -> anyhow::Result<Outcome> {
        let now = OffsetDateTime::now_utc();
        let mut rows: Vec<[String; 3]> = Vec::new();
        let mut statuses = Vec::new();
        let mut unreadable = false;
        for member in &fleet.members {
            let read = Cluster::connect(&member_selection(member, &self.cluster.kubeconfig))
                .and_then(|cluster| cluster.status(&self.namespace, now));
            match read {
                Ok(status) => {
                    let ready = if status.ready() { "yes" } else { "no" };
                    rows.push([member.name.clone(), ready.to_owned(), status.summary()]);
                    statuses.push(serde_json::json!({ "cluster": member.name, "status": status }));
                }
                Err(error) => {
                    unreadable = true;
                    let error = format!("{:#}", anyhow::Error::from(error));
                    rows.push([member.name.clone(), "unknown".to_owned(), error.clone()]);
                    statuses.push(serde_json::json!({ "cluster": member.name, "error": error }));
                }
            }
        }
        let stdout = match self.output {
            OutputFormat::Text => {
                let rows: Vec<[&str; 3]> = rows
                    .iter()
                    .map(|[a, b, c]| [a.as_str(), b.as_str(), c.as_str()])
                    .collect();
                table(["CLUSTER", "READY", "DETAIL"], &rows)
            }
            format => render(&statuses, format, |_| String::new())?,
        };
        Ok(Outcome {
            stdout,
            stderr: None,
            status: if unreadable {
                Status::CheckFailed
            } else {
                Status::Success
            },
        })
    }
}
