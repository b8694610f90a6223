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

/// How terminal output looks: colour or not (decided once from --color, NO_COLOR and the tty).
#[derive(Debug, Clone, Copy, Default)]
pub struct Style {
    pub color: bool,
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

    pub fn severity(&self, severity: Severity, text: &str) -> String {
        match severity {
            Severity::Error => self.paint("1;31", text),
            Severity::Warning => self.paint("33", text),
            _ => text.to_string(),
        }
    }
}
