//! Output formats (`-o text|json|yaml`) and rendering of command results.

use serde::Serialize;

/// How a command prints its result. JSON and YAML are stable whether or not stdout is a terminal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    Text,
    Json,
    Yaml,
}

/// Renders `value` in `format`; `text` produces the human form.
pub fn render<T: Serialize>(
    value: &T,
    format: OutputFormat,
    text: impl FnOnce(&T) -> String,
) -> anyhow::Result<String> {
    Ok(match format {
        OutputFormat::Text => text(value),
        OutputFormat::Json => {
            let mut json = serde_json::to_string_pretty(value)?;
            json.push('\n');
            json
        }
        OutputFormat::Yaml => serde_yaml_ng::to_string(value)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize)]
    struct Sample {
        name: &'static str,
        count: u32,
    }

    #[test]
    fn renders_each_format() {
        let sample = Sample {
            name: "tls.crt",
            count: 2,
        };
        let text = |s: &Sample| format!("{} x{}", s.name, s.count);
        assert_eq!(
            render(&sample, OutputFormat::Text, text).expect("text"),
            "tls.crt x2"
        );
        assert_eq!(
            render(&sample, OutputFormat::Json, text).expect("json"),
            "{\n  \"name\": \"tls.crt\",\n  \"count\": 2\n}\n"
        );
        assert_eq!(
            render(&sample, OutputFormat::Yaml, text).expect("yaml"),
            "name: tls.crt\ncount: 2\n"
        );
    }
}
