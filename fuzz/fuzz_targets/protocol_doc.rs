//! The protocol-document extractor on arbitrary Markdown, as the gate runs it: the items of a
//! document before and after a change (split at the first NUL), their diff and fingerprint.
#![no_main]

use forkdrift::analysis::protocol;
use libfuzzer_sys::fuzz_target;
use std::collections::BTreeMap;
use std::sync::LazyLock;

static MARKER: LazyLock<regex::Regex> =
    LazyLock::new(|| regex::Regex::new(protocol::ENUM_MARKER).expect("the default marker"));

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (before, after) = text.split_once('\0').unwrap_or((text, ""));
    let old = protocol::document_items(before, &MARKER);
    let new = protocol::document_items(after, &MARKER);
    for change in protocol::diff(&old, &new) {
        let _ = change.describe();
    }
    let _ = protocol::fingerprint(&BTreeMap::from([("doc".to_string(), new)]));
});
