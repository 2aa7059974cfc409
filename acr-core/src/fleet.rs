//! Several clusters at once: the fleet file (each cluster's kubeconfig, context and own
//! settings), and the rollout in waves that stops at the first failure unless asked to go on.
//! Checking every cluster before any is changed is the caller's first step; this module orders
//! the changes and reports each cluster's outcome.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::secret::redact_quoted_values;
use crate::settings::SettingsInput;

/// The largest fleet file read.
const MAX_FLEET_BYTES: usize = 1 << 20;

/// Why a fleet file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum FleetError {
    #[error("{origin} is not a fleet file: {reason}")]
    Invalid { origin: String, reason: String },
    #[error("{origin} names no cluster")]
    Empty { origin: String },
    #[error("{origin} names the cluster {name} twice")]
    DuplicateName { origin: String, name: String },
}

/// One cluster of a fleet.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct FleetMember {
    /// How reports name the cluster (default: its context).
    #[serde(default)]
    pub name: String,
    /// Its kubeconfig (default: the command's `--kubeconfig`, else KUBECONFIG or ~/.kube/config).
    pub kubeconfig: Option<PathBuf>,
    /// Its context (default: the kubeconfig's current context).
    pub context: Option<String>,
    /// Settings for this cluster, over the command line's `--config` (a service IP, a storage
    /// class).
    #[serde(default)]
    pub config: BTreeMap<String, String>,
    /// This cluster's protected settings file, instead of the command line's.
    pub config_protected_file: Option<PathBuf>,
}

/// The clusters a fleet command acts on, in rollout order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fleet {
    pub members: Vec<FleetMember>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FleetFile {
    clusters: Vec<FleetMember>,
}

impl Fleet {
    /// Reads a fleet file (YAML or JSON): `clusters:` with `name`, `kubeconfig`, `context`,
    /// `config` and `configProtectedFile` each. Relative paths are relative to the file's folder.
    pub fn parse(origin: &Path, bytes: &[u8]) -> Result<Self, FleetError> {
        let origin_text = origin.display().to_string();
        let invalid = |reason: String| FleetError::Invalid {
            origin: origin_text.clone(),
            reason,
        };
        if bytes.len() > MAX_FLEET_BYTES {
            return Err(invalid("it is larger than 1 MiB".to_owned()));
        }
        acr_io::check_nesting(bytes).map_err(|error| invalid(error.to_string()))?;
        // A cluster's `config` may carry a connection string: values are never quoted back.
        let file: FleetFile = serde_yaml_ng::from_slice(bytes)
            .map_err(|error| invalid(redact_quoted_values(&error.to_string())))?;
        let base = origin.parent().unwrap_or(Path::new(""));
        let mut members = Vec::new();
        for mut member in file.clusters {
            if member.name.is_empty() {
                member.name = member
                    .context
                    .clone()
                    .unwrap_or_else(|| format!("cluster-{}", members.len() + 1));
            }
            for path in [&mut member.kubeconfig, &mut member.config_protected_file]
                .into_iter()
                .flatten()
            {
                if path.is_relative() {
                    *path = base.join(&*path);
                }
            }
            members.push(member);
        }
        Self::checked(origin_text, members)
    }

    /// A fleet of the given contexts of one kubeconfig (repeated `--context`).
    pub fn of_contexts(contexts: &[String]) -> Result<Self, FleetError> {
        let members = contexts
            .iter()
            .map(|context| FleetMember {
                name: context.clone(),
                kubeconfig: None,
                context: Some(context.clone()),
                config: BTreeMap::new(),
                config_protected_file: None,
            })
            .collect();
        Self::checked("--context".to_owned(), members)
    }

    fn checked(origin: String, members: Vec<FleetMember>) -> Result<Self, FleetError> {
        if members.is_empty() {
            return Err(FleetError::Empty { origin });
        }
        for (index, member) in members.iter().enumerate() {
            if members[..index]
                .iter()
                .any(|other| other.name == member.name)
            {
                return Err(FleetError::DuplicateName {
                    origin,
                    name: member.name.clone(),
                });
            }
        }
        Ok(Self { members })
    }
}

impl FleetMember {
    /// The settings of this cluster: the command line's, then this cluster's `config` over them,
    /// and its protected file (already read as `protected_file`) instead of the command line's.
    pub fn settings_input(
        &self,
        command_line: &SettingsInput,
        protected_file: Option<(String, Vec<u8>)>,
    ) -> SettingsInput {
        let mut input = command_line.clone();
        input.config.extend(
            self.config
                .iter()
                .map(|(key, value)| (key.clone(), value.clone())),
        );
        if protected_file.is_some() {
            input.protected_file = protected_file;
        }
        input
    }
}

/// How one cluster's rollout ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RolloutResult {
    /// Its change went through; the detail says what it did.
    Done,
    /// It failed; the detail says why.
    Failed,
    /// Not attempted because an earlier wave failed.
    Skipped,
}

/// One line of the fleet summary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MemberOutcome {
    pub cluster: String,
    pub result: RolloutResult,
    pub detail: String,
}

/// Runs `change` (given the cluster's name) on every member, `max_parallel` at a time in waves,
/// in order. After a wave
/// with a failure the later waves are skipped, unless `continue_on_error`.
pub fn roll_out<T: Sync>(
    members: &[(String, T)],
    max_parallel: usize,
    continue_on_error: bool,
    change: impl Fn(&str, &T) -> Result<String, String> + Sync,
) -> Vec<MemberOutcome> {
    let mut outcomes = Vec::new();
    let mut failed = false;
    for wave in members.chunks(max_parallel.max(1)) {
        if failed && !continue_on_error {
            outcomes.extend(wave.iter().map(|(cluster, _)| MemberOutcome {
                cluster: cluster.clone(),
                result: RolloutResult::Skipped,
                detail: "an earlier cluster failed (--continue-on-error goes on)".to_owned(),
            }));
            continue;
        }
        let results: Vec<Result<String, String>> = std::thread::scope(|scope| {
            let running: Vec<_> = wave
                .iter()
                .map(|(cluster, member)| scope.spawn(|| change(cluster, member)))
                .collect();
            running
                .into_iter()
                .map(|handle| {
                    handle
                        .join()
                        .unwrap_or_else(|_| Err("the rollout of this cluster panicked".to_owned()))
                })
                .collect()
        });
        for ((cluster, _), result) in wave.iter().zip(results) {
            let (result, detail) = match result {
                Ok(detail) => (RolloutResult::Done, detail),
                Err(detail) => {
                    failed = true;
                    (RolloutResult::Failed, detail)
                }
            };
            outcomes.push(MemberOutcome {
                cluster: cluster.clone(),
                result,
                detail,
            });
        }
    }
    outcomes
}

/// The outcomes as an aligned table: CLUSTER, RESULT, DETAIL.
pub fn summary_table(outcomes: &[MemberOutcome]) -> String {
    let rows: Vec<[&str; 3]> = outcomes
        .iter()
        .map(|outcome| {
            let result = match outcome.result {
                RolloutResult::Done => "done",
                RolloutResult::Failed => "failed",
                RolloutResult::Skipped => "skipped",
            };
            [outcome.cluster.as_str(), result, outcome.detail.as_str()]
        })
        .collect();
    table(["CLUSTER", "RESULT", "DETAIL"], &rows)
}

/// Rows under headers, the first two columns padded to their widest cell.
pub fn table(headers: [&str; 3], rows: &[[&str; 3]]) -> String {
    let width = |column: usize| {
        rows.iter()
            .map(|row| row[column].len())
            .chain([headers[column].len()])
            .max()
            .unwrap_or(0)
    };
    let (first, second) = (width(0), width(1));
    let mut text = String::new();
    for row in std::iter::once(&headers).chain(rows) {
        text.push_str(&format!(
            "{:<first$}  {:<second$}  {}\n",
            row[0], row[1], row[2]
        ));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    fn members(count: usize) -> Vec<(String, usize)> {
        (1..=count).map(|n| (format!("edge-{n:02}"), n)).collect()
    }

    #[test]
    fn waves_stop_after_a_failure_unless_asked_to_go_on() {
        let started = Mutex::new(Vec::new());
        let change = |_: &str, n: &usize| {
            started.lock().expect("lock").push(*n);
            if *n == 3 {
                Err("boom".to_owned())
            } else {
                Ok(format!("applied {n}"))
            }
        };
        let outcomes = roll_out(&members(6), 2, false, change);
        let results: Vec<&RolloutResult> = outcomes.iter().map(|o| &o.result).collect();
        assert_eq!(
            results,
            [
                &RolloutResult::Done,
                &RolloutResult::Done,
                &RolloutResult::Failed,
                &RolloutResult::Done,
                &RolloutResult::Skipped,
                &RolloutResult::Skipped
            ]
        );
        let mut ran = started.lock().expect("lock").clone();
        ran.sort_unstable();
        assert_eq!(ran, [1, 2, 3, 4]);
        assert_eq!(outcomes[2].detail, "boom");

        let all = roll_out(&members(6), 2, true, |_, n: &usize| {
            if *n == 3 {
                Err("boom".to_owned())
            } else {
                Ok(String::new())
            }
        });
        assert_eq!(
            all.iter()
                .filter(|o| o.result == RolloutResult::Done)
                .count(),
            5
        );
        let table = summary_table(&outcomes);
        assert!(
            table.starts_with("CLUSTER  RESULT   DETAIL\nedge-01  done     applied 1\n"),
            "{table}"
        );
    }

    #[test]
    fn fleet_files_name_each_cluster_and_resolve_paths_beside_the_file() {
        let fleet = Fleet::parse(
            Path::new("/srv/fleet/sites.yaml"),
            b"clusters:\n- context: edge-01\n  config: {service.clusterIP: 10.0.0.20}\n  \
              configProtectedFile: edge-01.json\n- name: lab\n  kubeconfig: /etc/lab.config\n",
        )
        .expect("valid");
        assert_eq!(fleet.members[0].name, "edge-01");
        assert_eq!(
            fleet.members[0].config_protected_file.as_deref(),
            Some(Path::new("/srv/fleet/edge-01.json"))
        );
        assert_eq!(
            fleet.members[1].kubeconfig.as_deref(),
            Some(Path::new("/etc/lab.config"))
        );
        for (text, expected) in [
            ("clusters: []\n", "names no cluster"),
            (
                "clusters:\n- context: a\n- context: a\n",
                "names the cluster a twice",
            ),
            ("clusters:\n- contxt: a\n", "unknown field `contxt`"),
            (
                "clusters: \"SyncTokenPassword=hunter2\"\n",
                "string \"<redacted>\"",
            ),
        ] {
            let error = Fleet::parse(Path::new("f.yaml"), text.as_bytes()).expect_err(text);
            assert!(error.to_string().contains(expected), "{error}");
        }
    }

    #[test]
    fn a_cluster_s_settings_go_over_the_command_line() {
        let member = Fleet::parse(
            Path::new("f.yaml"),
            b"clusters:\n- context: a\n  config: {service.clusterIP: 10.0.0.9}\n",
        )
        .expect("valid")
        .members
        .remove(0);
        let command_line = SettingsInput {
            config: vec![("service.clusterIP".to_owned(), "10.0.0.1".to_owned())],
            protected_file: Some(("p.json".to_owned(), b"{}".to_vec())),
            protected: Vec::new(),
        };
        let input = member.settings_input(&command_line, None);
        assert_eq!(
            input.config.last(),
            Some(&("service.clusterIP".to_owned(), "10.0.0.9".to_owned()))
        );
        assert_eq!(input.protected_file, command_line.protected_file);
    }
}
