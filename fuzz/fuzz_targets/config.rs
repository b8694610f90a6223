//! `.forkdrift.toml` from arbitrary text, through the public entry point every command uses:
//! a list of acceptances or a diagnostic that renders, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Err(error) = forkdrift::config::acceptances(text, Path::new(".forkdrift.toml")) {
        let mut out = String::new();
        miette::GraphicalReportHandler::new_themed(miette::GraphicalTheme::unicode_nocolor())
            .render_report(&mut out, &error)
            .expect("a diagnostic renders");
    }
});
