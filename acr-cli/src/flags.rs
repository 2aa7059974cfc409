//! kubectl's spelling of boolean flags, for both front ends: `--wait`, `--wait=true` and
//! `--wait=false` all work, so that pipelines can pass a variable (`--wait=$WAIT`).

use clap::builder::{PossibleValuesParser, TypedValueParser as _};
use clap::{ArgAction, Command, Parser};

/// Parses the process arguments as `T`, with every on/off flag spelled as kubectl spells it. A
/// usage error exits 2; under `-o json` it is one JSON object on stdout (code `usage`).
pub fn parse<T: Parser>() -> T {
    let mut command = kubectl_booleans(T::command());
    let parsed = command
        .try_get_matches_from_mut(std::env::args_os())
        .and_then(|matches| T::from_arg_matches(&matches));
    match parsed {
        Ok(parsed) => parsed,
        Err(error) => {
            let error = error.format(&mut command);
            if error.use_stderr() && crate::process::json_requested(std::env::args()) {
                let message = error.kind().as_str().unwrap_or("invalid usage");
                let detail = crate::process::usage_detail(&error.render().to_string());
                println!(
                    "{}",
                    serde_json::json!({
                        "error": { "code": "usage", "message": message, "causes": [detail] }
                    })
                );
                std::process::exit(2);
            }
            error.exit()
        }
    }
}

/// `command` with every on/off flag (at any depth) taking an optional `=true` or `=false`.
pub fn kubectl_booleans(command: Command) -> Command {
    command
        .mut_args(|arg| {
            if matches!(arg.get_action(), ArgAction::SetTrue) {
                arg.action(ArgAction::Set)
                    .num_args(0..=1)
                    .require_equals(true)
                    .default_missing_value("true")
                    .default_value("false")
                    .value_parser(PossibleValuesParser::new(["true", "false"]).map(|v| v == "true"))
                    .hide_possible_values(true)
                    .hide_default_value(true)
                    .value_name("true|false")
            } else {
                arg
            }
        })
        .mut_subcommands(kubectl_booleans)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::FromArgMatches as _;

    #[derive(Debug, clap::Parser)]
    struct Example {
        #[command(subcommand)]
        command: Sub,
    }

    #[derive(Debug, clap::Subcommand)]
    enum Sub {
        Deploy {
            #[arg(long)]
            wait: bool,
            #[arg(long, requires = "out")]
            force: bool,
            #[arg(long)]
            out: Option<String>,
        },
    }

    fn parse_words(words: &[&str]) -> Result<(bool, bool), clap::Error> {
        let matches = kubectl_booleans(<Example as clap::CommandFactory>::command())
            .try_get_matches_from(words)?;
        let Sub::Deploy { wait, force, .. } = Example::from_arg_matches(&matches)?.command;
        Ok((wait, force))
    }

    #[test]
    fn on_off_flags_take_kubectl_spellings_at_any_depth() {
        assert_eq!(parse_words(&["x", "deploy"]).expect("bare"), (false, false));
        assert_eq!(
            parse_words(&["x", "deploy", "--wait"]).expect("flag"),
            (true, false)
        );
        assert_eq!(
            parse_words(&["x", "deploy", "--wait=true"]).expect("true"),
            (true, false)
        );
        assert_eq!(
            parse_words(&["x", "deploy", "--wait=false"]).expect("false"),
            (false, false)
        );
        assert!(parse_words(&["x", "deploy", "--wait=maybe"]).is_err());
        assert!(parse_words(&["x", "deploy", "--wait", "false"]).is_err());
    }

    #[test]
    fn a_default_false_does_not_trigger_requires() {
        assert!(parse_words(&["x", "deploy", "--force"]).is_err());
        assert_eq!(
            parse_words(&["x", "deploy", "--force", "--out", "d"]).expect("with out"),
            (false, true)
        );
    }
}
