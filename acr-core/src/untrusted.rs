//! The one sanitiser for untrusted text printed (certificate fields, server answers, policy
//! verdicts and metadata): control characters, line breaks included, and bidirectional overrides
//! are shown escaped, so that no field can move the cursor, recolour the terminal or forge a line.

use std::borrow::Cow;
use std::fmt;

/// A field of untrusted text; its `Display` escapes every control character (`\n`, `\r`, `\t`,
/// ESC as `\x1b`, DEL and C1 as `\u{..}`) and bidirectional overrides.
#[derive(Debug, Clone, Copy)]
pub struct Untrusted<'a>(pub &'a str);

impl fmt::Display for Untrusted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&escape(self.0, Keep::Nothing))
    }
}

/// Escapes a whole output (many lines): as [`Untrusted`], but line feeds and tabs stay. The
/// binaries pass everything they print through it; fields are escaped before, where a line feed
/// inside them could forge a line.
pub fn escape_output(text: &str) -> Cow<'_, str> {
    escape(text, Keep::LinesAndTabs)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Keep {
    Nothing,
    LinesAndTabs,
}

fn needs_escape(c: char, keep: Keep) -> bool {
    if keep == Keep::LinesAndTabs && matches!(c, '\n' | '\t') {
        return false;
    }
    c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

fn escape(text: &str, keep: Keep) -> Cow<'_, str> {
    if !text.chars().any(|c| needs_escape(c, keep)) {
        return Cow::Borrowed(text);
    }
    let mut escaped = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if !needs_escape(c, keep) {
            escaped.push(c);
            continue;
        }
        match c {
            '\n' => escaped.push_str("\\n"),
            '\r' => escaped.push_str("\\r"),
            '\t' => escaped.push_str("\\t"),
            c if (c as u32) < 0x80 => escaped.push_str(&format!("\\x{:02x}", c as u32)),
            c => escaped.push_str(&format!("\\u{{{:x}}}", c as u32)),
        }
    }
    Cow::Owned(escaped)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_cannot_forge_lines_or_drive_the_terminal() {
        let hostile = "ok\nPASS  forged\r\x1b[2J\u{9b}31m\u{202e}txt.exe\x7f";
        assert_eq!(
            Untrusted(hostile).to_string(),
            "ok\\nPASS  forged\\r\\x1b[2J\\u{9b}31m\\u{202e}txt.exe\\x7f"
        );
        assert!(matches!(
            escape("plain text é", Keep::Nothing),
            Cow::Borrowed(_)
        ));
    }

    #[test]
    fn whole_outputs_keep_their_lines() {
        assert_eq!(
            escape_output("PASS a\n\tb\x1b]0;title\x07\n"),
            "PASS a\n\tb\\x1b]0;title\\x07\n"
        );
    }
}
