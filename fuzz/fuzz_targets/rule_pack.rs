//! A rule pack from arbitrary text: parsing and validation must end in a pack or a diagnostic
//! that renders (its spans inside the text), never a panic; a pack that parses must answer
//! the questions every audit asks of it.
#![no_main]

use forkdrift::rules::Pack;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match Pack::parse("fuzz", text, "fuzz.toml") {
        Ok(pack) => {
            for path in ["src/a.rs", "connectors/sources/x/y.py", "", "a/b/c"] {
                let _ = pack.zone(path);
            }
        }
        Err(error) => {
            let mut out = String::new();
            miette::GraphicalReportHandler::new_themed(miette::GraphicalTheme::unicode_nocolor())
                .render_report(&mut out, &error)
                .expect("a diagnostic renders");
        }
    }
});
