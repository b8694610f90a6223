//! `.forkdrift.toml`, the fork's own configuration: reading it (validated, pointing at the bad
//! line) and appending to it. It names the pack, the upstream remote and target, what the fork
//! declares its own, and the reviewed protocols and accepted findings the commands record
//! (format in docs/configuration.md).

use crate::error::{Error, FileError, FileKind, IoContext, Result};
use crate::rules::pattern::UnitPattern;
use serde::{Deserialize, Serialize};
use std::ops::Range;
use std::path::{Path, PathBuf};
use toml::Spanned;

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

/// What a fork's `.forkdrift.toml` says, validated. Command-line options win over it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ForkConfig {
    /// `rules`: the pack (a built-in name or a `.toml` file relative to the repository root).
    pub rules: Option<String>,
    /// `[upstream] remote`.
    pub remote: Option<String>,
    /// `[upstream] target`: a revision or a version, as `--to` takes.
    pub target: Option<String>,
    pub own: Own,
    /// `[[protocol.accepted]]`, as `accept-protocol` records them.
    pub accepted: Vec<Acceptance>,
}

/// `[own]`: what the fork declares its own, on top of (or, with the generic pack, instead of)
/// the units its pack knows.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Own {
    /// Unit patterns (`plugins/inputs/{unit}/**`): every unit there is a plug-in, upstream's
    /// and the fork's alike, so copies and in-place edits are told apart.
    pub units: Vec<String>,
    /// Paths that are the fork's alone (`internal/acme/**`): each is one unit.
    pub paths: Vec<String>,
    /// Where plug-ins are registered (`plugins/inputs/all/**`): lines the fork only adds there
    /// register its own units, an edit of upstream's registration code, not a unit edited in
    /// place.
    pub registration: Vec<String>,
}

impl Own {
    pub fn is_empty(&self) -> bool {
        self.units.is_empty() && self.paths.is_empty() && self.registration.is_empty()
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    rules: Option<Spanned<String>>,
    upstream: Option<UpstreamFile>,
    own: Option<OwnFile>,
    #[serde(default)]
    protocol: ProtocolFile,
    /// Read and checked by [`crate::baseline`].
    #[serde(default)]
    #[allow(dead_code)]
    baseline: toml::Table,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UpstreamFile {
    remote: Option<Spanned<String>>,
    target: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OwnFile {
    #[serde(default)]
    units: Vec<Spanned<String>>,
    #[serde(default)]
    paths: Vec<Spanned<String>>,
    #[serde(default)]
    registration: Vec<Spanned<String>>,
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProtocolFile {
    #[serde(default)]
    accepted: Vec<Acceptance>,
}

const FORMAT_HELP: &str =
    "see docs/configuration.md; `forkdrift init` writes a commented file to start from";

/// Reads and validates a configuration text; `origin` names it in diagnostics.
pub fn parse(text: &str, origin: &Path) -> Result<ForkConfig> {
    let name = origin.display().to_string();
    let fail = |message: String, span: Option<Range<usize>>, label: &str, help: &str| {
        FileError::error(
            FileKind::Config,
            &name,
            text,
            message,
            span,
            label,
            help.to_string(),
        )
    };
    let file: ConfigFile = toml::from_str(text).map_err(|e| {
        fail(
            e.message().to_string(),
            e.span(),
            "here",
            &format!("{FORMAT_HELP}; `forkdrift accept-protocol` and `forkdrift baseline` write valid entries"),
        )
    })?;
    let rules = match file.rules {
        Some(rules) => {
            let name = rules.get_ref();
            let known = crate::rules::Pack::builtin_names();
            if !name.ends_with(".toml") && !known.contains(name) {
                return Err(fail(
                    format!("no rule pack named `{name}`"),
                    Some(rules.span()),
                    "not a pack",
                    &format!(
                        "built-in packs: {}; or the path of a .toml pack file, relative to the repository root",
                        known.join(", ")
                    ),
                ));
            }
            Some(rules.into_inner())
        }
        None => None,
    };
    let nonempty = |value: Option<Spanned<String>>, what: &str| match value {
        Some(v) if v.get_ref().trim().is_empty() => Err(fail(
            format!("`{what}` is empty"),
            Some(v.span()),
            "empty",
            "name it, or leave the key out for the default",
        )),
        other => Ok(other.map(Spanned::into_inner)),
    };
    let (remote, target) = match file.upstream {
        Some(upstream) => (
            nonempty(upstream.remote, "remote")?,
            nonempty(upstream.target, "target")?,
        ),
        None => (None, None),
    };
    let mut own = Own::default();
    if let Some(declared) = file.own {
        for unit in declared.units {
            let pattern = UnitPattern::parse(unit.get_ref())
                .and_then(|p| match p.placeholder {
                    "unit" => Ok(p),
                    _ => Err("own units use {unit}".into()),
                })
                .map_err(|m| {
                    fail(
                        m,
                        Some(unit.span()),
                        "invalid",
                        "a unit pattern names where each plug-in lives, with literal directories before {unit}: `plugins/inputs/{unit}/**`",
                    )
                })?;
            own.units.push(pattern.text);
        }
        for path in declared.paths {
            let pattern = UnitPattern::own_path(path.get_ref()).map_err(|m| {
                fail(
                    m,
                    Some(path.span()),
                    "invalid",
                    "an own path is a glob from the repository root: `internal/acme/**`",
                )
            })?;
            own.paths.push(pattern.text);
        }
        for glob in declared.registration {
            crate::rules::glob(glob.get_ref()).ok_or_else(|| {
                fail(
                    format!("`{}` is not a glob", glob.get_ref()),
                    Some(glob.span()),
                    "invalid",
                    "a registration path is a glob from the repository root: `plugins/inputs/all/**`",
                )
            })?;
            own.registration.push(glob.into_inner());
        }
    }
    Ok(ForkConfig {
        rules,
        remote,
        target,
        own,
        accepted: file.protocol.accepted,
    })
}

/// The acceptances a configuration text records; `origin` names it in diagnostics.
pub fn acceptances(text: &str, origin: &Path) -> Result<Vec<Acceptance>> {
    Ok(parse(text, origin)?.accepted)
}

/// `text` as a TOML string, escaped.
pub fn quote(text: &str) -> String {
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
