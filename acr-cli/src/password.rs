//! The one password flag group: `--password-stdin` or `--password-file FILE`, read one way
//! (up to one trailing line break; one line of text, not empty), and `--password VALUE` refused without
//! echoing it.

use acr_core::secret::{SecretString, password_from_input};
use acr_io::InputKind;
use anyhow::Context as _;
use clap::builder::TypedValueParser;
use clap::error::ErrorKind;
use std::ffi::OsStr;
use std::path::PathBuf;

/// Where a password comes from; never the command line. Its two sources form the group
/// `password_source`, which a command's user-name flag (id `username`) requires; each source
/// requires that user name in turn.
#[derive(Debug, Clone, Default, clap::Args)]
#[group(skip)]
pub struct PasswordArgs {
    /// Read the password from standard input, to its end; one trailing line break is dropped.
    #[arg(long, group = "password_source", requires = "username")]
    pub password_stdin: bool,
    /// Read the password from FILE; one trailing line break is dropped.
    #[arg(
        long,
        value_name = "FILE",
        group = "password_source",
        requires = "username"
    )]
    pub password_file: Option<PathBuf>,
    /// Never accepted: a password on the command line ends up in shell history and `ps`.
    #[arg(
        long = "password",
        alias = "docker-password",
        hide = true,
        num_args = 0..=1,
        default_missing_value = "",
        value_parser = PasswordOnCommandLine
    )]
    pub password: Option<String>,
}

impl PasswordArgs {
    /// The password, when a source was given.
    pub fn read(&self) -> anyhow::Result<Option<SecretString>> {
        let (bytes, origin) = match (&self.password_file, self.password_stdin) {
            (Some(path), _) => (
                acr_io::read(path, InputKind::Secret)
                    .with_context(|| format!("cannot read the password file {}", path.display()))?,
                path.display().to_string(),
            ),
            (None, true) => (
                acr_io::read_stdin(InputKind::Secret)
                    .context("cannot read the password from stdin")?,
                "stdin".to_owned(),
            ),
            (None, false) => return Ok(None),
        };
        Ok(Some(password_from_input(bytes, &origin)?))
    }
}

/// Refuses `--password` (and kubectl's `--docker-password`) without echoing the value.
#[derive(Debug, Clone, Copy)]
struct PasswordOnCommandLine;

impl TypedValueParser for PasswordOnCommandLine {
    type Value = String;

    fn parse_ref(
        &self,
        command: &clap::Command,
        _arg: Option<&clap::Arg>,
        _value: &OsStr,
    ) -> Result<String, clap::Error> {
        Err(command.clone().error(
            ErrorKind::ArgumentConflict,
            "a password is never taken on the command line, where shell history and `ps` would \
             show it: pipe it in with --password-stdin, or name a file with --password-file FILE",
        ))
    }
}
