//! `.forkdrift.toml`, the fork's own configuration: reading it (validated, pointing at the bad
//! line) and appending to it. Today it holds the reviewed protocols `accept-protocol` records.

use crate::error::{Error, IoContext, Result};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

pub const CONFIG_FILE: &str = ".forkdrift.toml";

/// A reviewed protocol, as recorded by `accept-protocol`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Acceptance {
    pub fingerprint: String,
    pub pack: String,
    pub target: String,
    pub commit: String,
    pub by: String,
    pub why: String,
    pub at: String,
}

#[derive(Debug, Default, Deserialize)]
struct ForkConfig {
    #[serde(default)]
    protocol: ProtocolConfig,
}

#[derive(Debug, Default, Deserialize)]
struct ProtocolConfig {
    #[serde(default)]
    accepted: Vec<Acceptance>,
}

/// The acceptances a configuration text records; `origin` names it in diagnostics.
pub fn acceptances(text: &str, origin: &Path) -> Result<Vec<Acceptance>> {
    let config: ForkConfig = toml::from_str(text).map_err(|e| Error::InvalidConfig {
        what: "forkdrift configuration",
        path: origin.to_path_buf(),
        help: format!(
            "{}; `forkdrift accept-protocol` writes valid entries",
            e.message()
        ),
    })?;
    Ok(config.protocol.accepted)
}

fn quote(text: &str) -> String {
    toml::Value::String(text.to_string()).to_string()
}

/// Appends an acceptance to the configuration file (creating it), keeping what is there.
pub fn record(path: &Path, acceptance: &Acceptance) -> Result<()> {
    let existing = match std::fs::read_to_string(path) {
        Ok(text) => {
            acceptances(&text, path)?;
            text
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            "# forkdrift configuration. `forkdrift accept-protocol` appends reviewed protocols here.\n".to_string()
        }
        Err(source) => {
            return Err(Error::Io {
                context: format!("could not read {}", path.display()),
                source,
            });
        }
    };
    let mut text = existing;
    if !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str(&format!(
        "\n[[protocol.accepted]]\nfingerprint = {}\npack = {}\ntarget = {}\ncommit = {}\nby = {}\nwhy = {}\nat = {}\n",
        quote(&acceptance.fingerprint),
        quote(&acceptance.pack),
        quote(&acceptance.target),
        quote(&acceptance.commit),
        quote(&acceptance.by),
        quote(&acceptance.why),
        quote(&acceptance.at),
    ));
    std::fs::write(path, text).io_context(|| format!("could not write {}", path.display()))
}

/// Where `accept-protocol` writes: the work tree's `.forkdrift.toml`, or `--file`.
pub fn path(workdir: Option<&Path>, file: Option<&Path>) -> Result<PathBuf> {
    match (file, workdir) {
        (Some(file), _) => Ok(file.to_path_buf()),
        (None, Some(workdir)) => Ok(workdir.join(CONFIG_FILE)),
        (None, None) => Err(Error::Usage {
            message: "a bare repository has no work tree to keep .forkdrift.toml in".into(),
            help: "name the file with --file PATH, then commit it to the fork".into(),
        }),
    }
}
