//! `deploy` over several clusters (`--fleet FILE` or repeated `--context`): every cluster's
//! settings, preflight and policies first, nothing changed unless all pass; then the rollout in
//! waves, and one summary of every cluster's outcome.

use super::deploy::{DeployArgs, DryRun, progress_printer};
use super::render::ManifestFormat;
use acr_cli::{Outcome, Status};
use acr_core::cluster::{
    CertManagerManifests, Cluster, DeployOptions, KubeconfigSelection, Preflight, Progress,
};
use acr_core::fleet::{Fleet, FleetMember, MemberOutcome, RolloutResult, roll_out, summary_table};
use acr_core::plan::{self, Plan};
use acr_core::policy::{Operation, connected_registry_review};
use acr_core::settings::{ConnectedRegistrySettings, SettingsInput, TlsSource};
use acr_io::InputKind;
use anyhow::Context as _;
use time::OffsetDateTime;

/// One cluster, checked and ready to change.
struct Checked {
    cluster: Cluster,
    planned: Plan,
    preflight: Preflight,
    cert_manager: Option<CertManagerManifests>,
}

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
        let fleet = match &self.fleet {
            Some(path) => {
                anyhow::ensure!(
                    self.cluster.context.is_empty(),
                    "give the clusters either in --fleet or with --context, not both"
                );
                let bytes = acr_io::read(path, InputKind::Settings)
                    .with_context(|| format!("cannot read {}", path.display()))?;
                Fleet::parse(path, &bytes)?
            }
            None => Fleet::of_contexts(&self.cluster.context)?,
        };
        let command_line = self.plan.settings.to_input()?;
        let mut checked = Vec::new();
        let mut refused = Vec::new();
        for member in &fleet.members {
            eprintln!("checking {}", member.name);
            match self.check(member, &command_line) {
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
            |ready| self.change(ready),
        );
        let failed = outcomes
            .iter()
            .any(|outcome| outcome.result == RolloutResult::Failed);
        self.summary(
            &outcomes,
            if failed {
                Status::CheckFailed
            } else {
                Status::Success
            },
        )
    }

    /// Settings, plan, connection, preflight and policies of one cluster; nothing is written.
    fn check(
        &self,
        member: &FleetMember,
        command_line: &SettingsInput,
    ) -> Result<Checked, Refusal> {
        let failed = |error: anyhow::Error| Refusal::Failed(format!("{error:#}"));
        let protected_file = match &member.config_protected_file {
            Some(path) => Some((
                path.display().to_string(),
                acr_io::read(path, InputKind::Settings)
                    .with_context(|| format!("cannot read {}", path.display()))
                    .map_err(failed)?,
            )),
            None => None,
        };
        let input = member.settings_input(command_line, protected_file);
        let settings = ConnectedRegistrySettings::resolve(&input).map_err(|e| failed(e.into()))?;
        let options = self.plan.options();
        let planned = plan::render(&settings, &options).map_err(|e| failed(e.into()))?;
        let cert_manager = match settings.tls_source {
            TlsSource::CertManagerInstall => {
                Some(self.plan.cert_manager_manifests().map_err(failed)?)
            }
            _ => None,
        };
        let cluster = Cluster::connect(&KubeconfigSelection {
            kubeconfig: member
                .kubeconfig
                .clone()
                .or_else(|| self.cluster.kubeconfig.clone()),
            context: member.context.clone(),
        })
        .map_err(|e| failed(e.into()))?;
        let now = OffsetDateTime::now_utc();
        let preflight = cluster
            .preflight(&settings, &planned, &options.namespace, now)
            .map_err(|e| failed(e.into()))?;
        let mut review =
            connected_registry_review(&settings, &options.namespace, Operation::Deploy, now)
                .map_err(|e| failed(e.into()))?;
        preflight.add_facts_to(&mut review);
        let report = self.plan.policy.checker().map_err(failed)?.check(&review);
        if !report.allowed {
            let codes: Vec<&str> = report
                .policies
                .iter()
                .flat_map(|policy| &policy.violations)
                .map(|violation| violation.code.as_str())
                .collect();
            let why = report.refusal().unwrap_or_default();
            return Err(Refusal::Denied(format!(
                "{} ({})",
                why.trim_start_matches("error: "),
                codes.join(", ")
            )));
        }
        Ok(Checked {
            cluster,
            planned,
            preflight,
            cert_manager,
        })
    }

    /// Deploys one checked cluster; its progress lines carry its server.
    fn change(&self, ready: &Checked) -> Result<String, String> {
        let options = DeployOptions {
            dry_run: self.dry_run == DryRun::Server,
            cert_manager: ready.cert_manager.as_ref(),
            wait: self.wait,
            timeout: self.timeout,
            force_conflicts: self.force_conflicts,
        };
        let server = ready.cluster.server().to_owned();
        let mut printer = progress_printer(false);
        let mut show = |event: Progress| {
            eprint!("{server}: ");
            printer(event);
        };
        match ready
            .cluster
            .deploy(&ready.planned, &ready.preflight, &options, &mut show)
        {
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
        self.summary(
            &outcomes,
            if denied {
                Status::Denied
            } else {
                Status::CheckFailed
            },
        )
    }

    /// The summary table (or, with -o json, the outcomes as JSON) and the exit status.
    fn summary(&self, outcomes: &[MemberOutcome], status: Status) -> anyhow::Result<Outcome> {
        let stdout = match self.output {
            Some(ManifestFormat::Json) => {
                let mut json = serde_json::to_string_pretty(outcomes)?;
                json.push('\n');
                json
            }
            _ => summary_table(outcomes),
        };
        let changed = outcomes
            .iter()
            .filter(|outcome| outcome.result == RolloutResult::Done)
            .count();
        Ok(Outcome {
            stdout,
            stderr: Some(format!("{changed} of {} clusters changed", outcomes.len())),
            status,
        })
    }
}
