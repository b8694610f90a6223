//! The files `build.rs` embeds into the binary: the built-in rule packs (`rules/*.toml`) and
//! the fixture scenarios with their files (`fixtures/`), for the demo.

include!(concat!(env!("OUT_DIR"), "/embedded.rs"));
