//! Commands offered by both binaries, as clap argument structs with a `run` each, and the value
//! parsers both binaries' flags share.

pub mod cert;
pub mod config;
pub mod policy;
pub mod version;

use acr_core::azure::{self, dns};
pub use acr_io::InputKind;
use anyhow::Context as _;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;
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

/// Reads a file, or standard input for `-`, with the bounded reader (regular files only, at most
/// `kind`'s cap), naming the file on failure.
pub fn read_input(path: &Path, kind: InputKind) -> anyhow::Result<Vec<u8>> {
    if path == Path::new("-") {
        return acr_io::read_stdin(kind).context("cannot read standard input");
    }
    acr_io::read(path, kind).with_context(|| format!("cannot read {}", path.display()))
}

/// Where the DNS server comes from without `--dns-server`.
pub const RESOLV_CONF: &str = "/etc/resolv.conf";

/// `--registry`: a registry name, checked and lowercased.
pub fn parse_registry(text: &str) -> Result<String, String> {
    azure::registry_name(text).map_err(|error| error.to_string())
}

/// `--dns-server`: `IP[:PORT]`.
pub fn parse_dns_server(text: &str) -> Result<SocketAddr, String> {
    dns::parse_server(text).map_err(|error| error.to_string())
}

/// `--dns-server` when given, else the first nameserver of /etc/resolv.conf.
pub fn dns_server_or_system(dns_server: Option<SocketAddr>) -> anyhow::Result<SocketAddr> {
    Ok(match dns_server {
        Some(server) => server,
        None => dns::resolv_conf_server(Path::new(RESOLV_CONF))?,
    })
}

/// The longest `--timeout`: a week. Longer ones would overflow the clock arithmetic of waits.
const MAX_DURATION_SECONDS: u64 = 7 * 24 * 3600;

/// Parses `--timeout`: a sequence of numbers with units h, m or s (`90s`, `5m`, `1h30m`), or `0`.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let invalid = || format!("`{text}` is not a duration: use e.g. 90s, 5m or 1h30m");
    if text == "0" {
        return Ok(Duration::ZERO);
    }
    let mut seconds: u64 = 0;
    let mut number = String::new();
    for character in text.chars() {
        if character.is_ascii_digit() {
            number.push(character);
            continue;
        }
        let unit = match character {
            'h' => 3600,
            'm' => 60,
            's' => 1,
            _ => return Err(invalid()),
        };
        let value: u64 = number.parse().map_err(|_| invalid())?;
        seconds = value
            .checked_mul(unit)
            .and_then(|part| seconds.checked_add(part))
            .ok_or_else(invalid)?;
        number.clear();
    }
    if !number.is_empty() || text.is_empty() {
        return Err(invalid());
    }
    if seconds > MAX_DURATION_SECONDS {
        return Err(format!(
            "`{text}` is too long: at most {}h",
            MAX_DURATION_SECONDS / 3600
        ));
    }
    Ok(Duration::from_secs(seconds))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_durations_as_kubectl_writes_them() {
        assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("0"), Ok(Duration::ZERO));
        assert_eq!(parse_duration("168h"), Ok(Duration::from_secs(604_800)));
        assert_eq!(
            parse_duration("18446744073709551615s"),
            Err("`18446744073709551615s` is too long: at most 168h".to_owned())
        );
        for wrong in ["", "5", "m", "5x", "1.5m", "-1s"] {
            assert_eq!(
                parse_duration(wrong),
                Err(format!(
                    "`{wrong}` is not a duration: use e.g. 90s, 5m or 1h30m"
                )),
                "{wrong}"
            );
        }
    }

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
