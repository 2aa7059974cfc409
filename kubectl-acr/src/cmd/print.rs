//! What kubectl-acr's verbs print besides their outcome: a plan as manifests, and the progress
//! of a change.

use super::flags::ManifestFormat;
use acr_core::cluster::Progress;
use acr_core::plan::{self, SecretDisplay};
use acr_core::untrusted::escape_output;
use std::io::{IsTerminal as _, Write as _};
use time::OffsetDateTime;

/// A plan in a manifest format: what render, deploy and pull-secret create print.
pub(crate) fn manifests(
    plan: &plan::Plan,
    format: ManifestFormat,
    display: SecretDisplay,
) -> anyhow::Result<String> {
    Ok(match format {
        ManifestFormat::Name => plan.to_names(),
        ManifestFormat::Yaml => plan.to_yaml(display),
        ManifestFormat::Json => {
            let mut json = serde_json::to_string_pretty(&plan.to_json(display))?;
            json.push('\n');
            json
        }
    })
}

/// Shows progress: the result of each object on stdout when the output is text (as kubectl
/// does), else on a terminal's stderr; everything else (waiting, what blocks readiness,
/// retries) on stderr, one line per change, with a UTC timestamp when stderr is not a terminal
/// (a CI log, a file).
pub fn progress_printer(text_output: bool) -> impl FnMut(Progress) {
    let stderr_is_terminal = std::io::stderr().is_terminal();
    move |event| {
        let result_line = matches!(
            event,
            Progress::Applied { .. }
                | Progress::NotChecked { .. }
                | Progress::Deleted { .. }
                | Progress::AlreadyGone { .. }
                | Progress::Kept { .. }
        );
        if result_line && text_output {
            // A closed pipe (`| head`) is not worth failing over.
            let _ = writeln!(
                std::io::stdout().lock(),
                "{}",
                escape_output(&event.to_string())
            );
        } else if stderr_is_terminal {
            eprintln!("{}", escape_output(&event.to_string()));
        } else if !result_line {
            let now = OffsetDateTime::now_utc()
                .replace_nanosecond(0)
                .ok()
                .and_then(|now| {
                    now.format(&time::format_description::well_known::Rfc3339)
                        .ok()
                })
                .unwrap_or_default();
            eprintln!("{now} {}", escape_output(&event.to_string()));
        }
    }
}
