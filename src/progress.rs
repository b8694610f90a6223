//! Progress events for long runs. The library never prints: it names the phase it enters, and
//! whoever installed a reporter (`main.rs`: a spinner on stderr, or `--verbose` lines) shows it.

use std::sync::OnceLock;

pub trait Progress: Send + Sync {
    /// A new phase begins; the previous one, if any, is over.
    fn phase(&self, what: &str);
}

static REPORTER: OnceLock<Box<dyn Progress>> = OnceLock::new();

/// Installs the reporter for this process (once; later calls are ignored).
pub fn install(reporter: Box<dyn Progress>) {
    let _ = REPORTER.set(reporter);
}

pub(crate) fn phase(what: &str) {
    if let Some(reporter) = REPORTER.get() {
        reporter.phase(what);
    }
}
