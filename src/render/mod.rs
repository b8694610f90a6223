//! Renderers: `fn render(&Report, &mut dyn Write, …)`. They format; they decide nothing.

pub mod github;
pub mod html;
pub mod json;
pub mod markdown;
pub mod pr_comment;
pub mod sarif;
pub mod svg;
pub mod terminal;
pub mod text;

use crate::model::Severity;
use std::borrow::Cow;

/// A path as git prints it with `core.quotePath=false`: as is, unless it holds a control
/// character, `"` or `\`; then in double quotes with C escapes (`\n`, `\t`, `\"`, `\\`, and
/// octal `\ooo` for the other bytes below 0x20 and 0x7f). UTF-8 stays readable.
pub fn quote_path(path: &str) -> Cow<'_, str> {
    if !path
        .chars()
        .any(|c| c.is_control() || c == '"' || c == '\\')
    {
        return Cow::Borrowed(path);
    }
    let mut out = String::with_capacity(path.len() + 2);
    out.push('"');
    for c in path.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{b}' => out.push_str("\\v"),
            '\u{c}' => out.push_str("\\f"),
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                out.push_str(&format!("\\{:03o}", c as u32));
            }
            c if c.is_control() => {
                let mut bytes = [0; 4];
                for byte in c.encode_utf8(&mut bytes).bytes() {
                    out.push_str(&format!("\\{byte:03o}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    Cow::Owned(out)
}

/// Notes a screen or a PR comment shows before the rest fold away: a deep fork has one per
/// framework commit that does not apply to the target (op-geth: 157).
pub(crate) const SHOWN_NOTES: usize = 20;

/// Release notes a plan's hop shows on a screen or in a PR comment; the rest are counted
/// (`--format json` and the HTML report list them all).
pub const SHOWN_RELEASE_NOTES: usize = 25;

/// A hop's conflicts and those the fork causes, as tables show them: `?` where git could not
/// merge the point (the report's notes say why).
pub fn hop_counts(conflicts: usize, fork: usize, merge_error: Option<&String>) -> [String; 2] {
    match merge_error {
        Some(_) => ["?".into(), "?".into()],
        None => [conflicts.to_string(), fork.to_string()],
    }
}

/// A hop's conflicts in a sentence: "3 conflicts (2 caused by the fork)".
pub fn hop_conflicts(conflicts: usize, fork: usize, merge_error: Option<&String>) -> String {
    match merge_error {
        Some(_) => "conflicts unknown: git could not merge it (see the notes)".into(),
        None => format!(
            "{} ({fork} caused by the fork)",
            plural(conflicts, "conflict", "conflicts")
        ),
    }
}

pub use crate::model::plural;

/// How many of `total` items a list that shows `shown` leaves out, when it leaves any out.
pub fn left_out(total: usize, shown: usize) -> Option<usize> {
    total.checked_sub(shown).filter(|&n| n > 0)
}

/// How terminal output looks: colour or not (decided once from --color, NO_COLOR and the tty).
#[derive(Debug, Clone, Copy, Default)]
pub struct Style {
    pub color: bool,
    /// List every changed path, upstream-origin ones too (`--all`).
    pub all: bool,
}

impl Style {
    fn paint(&self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }

    pub fn bold(&self, text: &str) -> String {
        self.paint("1", text)
    }

    pub fn dim(&self, text: &str) -> String {
        self.paint("2", text)
    }

    /// Colour for a count of findings: none when there are none.
    pub fn count(&self, severity: Severity, n: usize, text: &str) -> String {
        if n == 0 {
            text.to_string()
        } else {
            self.severity(severity, text)
        }
    }

    pub fn severity(&self, severity: Severity, text: &str) -> String {
        match severity {
            Severity::Error => self.paint("1;31", text),
            Severity::Warning => self.paint("33", text),
            _ => text.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::quote_path;

    #[test]
    fn paths_are_quoted_as_git_quotes_them() {
        assert_eq!(
            quote_path("connectors/sources/acme.py"),
            "connectors/sources/acme.py"
        );
        assert_eq!(quote_path("docs/café.md"), "docs/café.md");
        assert_eq!(quote_path("a\nb.py"), "\"a\\nb.py\"");
        assert_eq!(quote_path("tab\there"), "\"tab\\there\"");
        assert_eq!(quote_path("say \"hi\""), "\"say \\\"hi\\\"\"");
        assert_eq!(quote_path("back\\slash"), "\"back\\\\slash\"");
        assert_eq!(quote_path("esc\u{1b}[31m"), "\"esc\\033[31m\"");
        assert_eq!(quote_path("del\u{7f}"), "\"del\\177\"");
    }
}
