//! `--format json`: the report as the versioned contract of docs/json-schema.md.

use serde::Serialize;
use std::io::{self, Write};

pub fn render<T: Serialize>(value: &T, out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, value).map_err(io::Error::other)?;
    writeln!(out)
}
