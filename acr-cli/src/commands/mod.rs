//! Commands offered by both binaries, as clap argument structs with a `run` each.

pub mod cert;
pub mod config;
pub mod custom_domain;
pub mod policy;
pub mod protected_settings;
pub mod version;

use anyhow::Context as _;
use std::io::Read as _;
use std::path::Path;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Parses an `--at` time: RFC 3339 (`2026-11-23T12:00:00Z`) or a plain date (`2026-11-23`, midnight UTC).
pub fn parse_time(value: &str) -> Result<OffsetDateTime, String> {
    if let Ok(at) = OffsetDateTime::parse(value, &Rfc3339) {
        return Ok(at);
    }
    let date_only = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(value, &date_only)
        .map(|date| date.midnight().assume_utc())
        .map_err(|_| {
            format!("`{value}` is not a time: use RFC 3339 (2026-11-23T12:00:00Z) or a date (2026-11-23)")
        })
}

/// The time checks are made at: `--at` when given, else now.
pub fn time_or_now(at: Option<OffsetDateTime>) -> OffsetDateTime {
    at.unwrap_or_else(OffsetDateTime::now_utc)
}

/// Reads a file, or standard input for `-`, naming the file on failure.
pub fn read_input(path: &Path) -> anyhow::Result<Vec<u8>> {
    if path == Path::new("-") {
        let mut bytes = Vec::new();
        std::io::stdin()
            .read_to_end(&mut bytes)
            .context("cannot read standard input")?;
        return Ok(bytes);
    }
    std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_rfc3339_and_dates() {
        assert_eq!(
            parse_time("2026-11-23T12:30:00Z")
                .expect("rfc3339")
                .unix_timestamp(),
            1_795_437_000
        );
        assert_eq!(
            parse_time("2026-11-23").expect("date").unix_timestamp(),
            1_795_392_000
        );
        assert_eq!(
            parse_time("next tuesday").expect_err("refused"),
            "`next tuesday` is not a time: use RFC 3339 (2026-11-23T12:00:00Z) or a date (2026-11-23)"
        );
    }
}
