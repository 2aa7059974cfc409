//! Shell completion through kubectl: `kubectl_complete-acr` runs `kubectl-acr __complete ARGS`,
//! which answers in cobra's protocol (one candidate a line, then `:DIRECTIVE`). Subcommands,
//! flags and their fixed values come from the clap definition; `--context` from the kubeconfig,
//! `--namespace` from the cluster, asked for at most [`CLUSTER_TIMEOUT`].

use acr_core::cluster::{Cluster, KubeconfigSelection};
use clap::Command;
use std::path::PathBuf;
use std::time::Duration;

/// How long completion waits for the cluster's namespaces before offering none.
const CLUSTER_TIMEOUT: Duration = Duration::from_secs(2);

/// Cobra's directive: complete only from the candidates given.
const NO_FILE_COMPLETION: u8 = 4;
/// Cobra's directive: let the shell complete file names.
const DEFAULT_COMPLETION: u8 = 0;

/// Completes the last of `words` (possibly empty) given the words before it.
pub fn complete(root: Command, words: &[String]) -> String {
    let mut root = root;
    root.build();
    let (current, before) = match words.split_last() {
        Some((current, before)) => (current.as_str(), before),
        None => ("", &[][..]),
    };
    let mut command = &root;
    let mut pending_value_of: Option<&clap::Arg> = None;
    let selection = cluster_selection(before);
    for word in before {
        if pending_value_of.take().is_some() {
            continue;
        }
        if let Some(arg) = find_flag(command, word) {
            if takes_value(arg) && !word.contains('=') {
                pending_value_of = Some(arg);
            }
            continue;
        }
        if let Some(sub) = command.find_subcommand(word) {
            command = sub;
        }
    }

    let (candidates, directive) = if let Some(arg) = pending_value_of
        && let Some(names) = cluster_names(arg, &selection)
    {
        (names, NO_FILE_COMPLETION)
    } else if let Some(arg) = pending_value_of {
        let values: Vec<String> = arg
            .get_possible_values()
            .iter()
            .filter(|value| !value.is_hide_set())
            .map(|value| value.get_name().to_owned())
            .collect();
        if values.is_empty() {
            (Vec::new(), DEFAULT_COMPLETION)
        } else {
            (values, NO_FILE_COMPLETION)
        }
    } else if current.starts_with('-') {
        let flags = command
            .get_arguments()
            .filter(|arg| !arg.is_hide_set())
            .filter_map(|arg| arg.get_long().map(|long| format!("--{long}")))
            .collect();
        (flags, NO_FILE_COMPLETION)
    } else if command.has_subcommands() {
        let names = command
            .get_subcommands()
            .filter(|sub| !sub.is_hide_set())
            .map(|sub| sub.get_name().to_owned())
            .collect();
        (names, NO_FILE_COMPLETION)
    } else {
        (Vec::new(), DEFAULT_COMPLETION)
    };

    let mut out = String::new();
    for candidate in candidates.iter().filter(|c| c.starts_with(current)) {
        out.push_str(candidate);
        out.push('\n');
    }
    out.push_str(&format!(":{directive}\n"));
    out
}

fn find_flag<'a>(command: &'a Command, word: &str) -> Option<&'a clap::Arg> {
    let name = word.split_once('=').map_or(word, |(name, _)| name);
    if let Some(long) = name.strip_prefix("--") {
        command
            .get_arguments()
            .find(|arg| arg.get_long() == Some(long))
    } else if let Some(short) = name.strip_prefix('-') {
        let mut chars = short.chars();
        match (chars.next(), chars.next()) {
            (Some(c), None) => command
                .get_arguments()
                .find(|arg| arg.get_short() == Some(c)),
            _ => None,
        }
    } else {
        None
    }
}

/// Whether the flag needs a value in the next word (on/off flags take theirs after `=` only).
fn takes_value(arg: &clap::Arg) -> bool {
    arg.get_num_args()
        .is_some_and(|range| range.min_values() > 0)
}

/// The `--kubeconfig` and `--context` typed so far, wherever they stand (`--flag value` or
/// `--flag=value`), for completing names from that cluster.
fn cluster_selection(words: &[String]) -> KubeconfigSelection {
    let mut selection = KubeconfigSelection {
        kubeconfig: None,
        context: None,
    };
    let mut words = words.iter();
    while let Some(word) = words.next() {
        let (flag, inline) = match word.split_once('=') {
            Some((flag, value)) => (flag, Some(value.to_owned())),
            None => (word.as_str(), None),
        };
        if flag != "--kubeconfig" && flag != "--context" {
            continue;
        }
        let Some(value) = inline.or_else(|| words.next().cloned()) else {
            break;
        };
        if flag == "--kubeconfig" {
            selection.kubeconfig = Some(PathBuf::from(value));
        } else {
            selection.context = Some(value);
        }
    }
    selection
}

/// Context names for `--context`, namespace names for `--namespace`; `None` for other flags.
fn cluster_names(arg: &clap::Arg, selection: &KubeconfigSelection) -> Option<Vec<String>> {
    match arg.get_id().as_str() {
        "context" => Some(selection.context_names().unwrap_or_default()),
        "namespace" => Some(
            Cluster::connect(selection)
                .map(|cluster| cluster.namespace_names(CLUSTER_TIMEOUT))
                .unwrap_or_default(),
        ),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::Cli;
    use clap::CommandFactory as _;

    fn words(list: &[&str]) -> Vec<String> {
        list.iter().map(|w| (*w).to_owned()).collect()
    }

    #[test]
    fn completes_subcommands_flags_and_values() {
        let root = acr_cli::flags::kubectl_booleans(Cli::command());
        assert_eq!(
            complete(root.clone(), &words(&["cert", ""])),
            "generate\ninspect\nverify\nhelp\n:4\n"
        );
        assert_eq!(complete(root.clone(), &words(&["ce"])), "cert\n:4\n");
        assert_eq!(
            complete(
                root.clone(),
                &words(&["cert", "generate", "--key-type", "rsa"])
            ),
            "rsa2048\nrsa3072\nrsa4096\n:4\n"
        );
        assert_eq!(
            complete(root.clone(), &words(&["config", "view", "-o", ""])),
            "text\njson\nyaml\n:4\n"
        );
        let flags = complete(root.clone(), &words(&["cert", "verify", "--c"]));
        assert_eq!(flags, "--cert\n--ca\n:4\n");
        assert_eq!(
            complete(root.clone(), &words(&["cert", "verify", "--cert", ""])),
            ":0\n",
            "a file argument leaves completion to the shell"
        );
        assert!(!complete(root.clone(), &words(&[""])).contains("__complete"));
        assert_eq!(
            complete(root.clone(), &words(&["deploy", "--wait", "--dry-run", ""])),
            "none\nclient\nserver\n:4\n",
            "an on/off flag takes no value from the next word"
        );
    }

    #[test]
    fn contexts_come_from_the_kubeconfig_and_namespaces_from_a_cluster_that_answers() {
        let dir = tempfile::tempdir().expect("tempdir");
        let kubeconfig = dir.path().join("config");
        // A server address nothing listens on: completion offers no namespace and returns.
        let closed = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port");
        std::fs::write(
            &kubeconfig,
            format!(
                "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: \
                 https://{closed}\nusers:\n- name: u\n  user:\n    token: t\ncontexts:\n- name: \
                 edge-01\n  context: {{cluster: c, user: u}}\n- name: edge-02\n  context: \
                 {{cluster: c, user: u}}\ncurrent-context: edge-01\n"
            ),
        )
        .expect("write kubeconfig");
        let path = kubeconfig.to_str().expect("UTF-8");
        let root = acr_cli::flags::kubectl_booleans(Cli::command());
        assert_eq!(
            complete(
                root.clone(),
                &words(&["status", "--kubeconfig", path, "--context", "edge-"])
            ),
            "edge-01\nedge-02\n:4\n"
        );
        assert_eq!(
            complete(
                root,
                &words(&["status", &format!("--kubeconfig={path}"), "-n", ""])
            ),
            ":4\n"
        );
    }
}
