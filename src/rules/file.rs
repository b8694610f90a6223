//! The TOML shape of a rule pack, as written (`docs/rule-packs.md`); `Pack::parse` validates
//! it into a [`Pack`](super::Pack). Spans are kept so that diagnostics point at the line.

use super::{VersionScheme, ZoneKind};
use serde::Deserialize;
use std::collections::BTreeMap;
use toml::Spanned;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct PackFile {
    pub(super) name: Spanned<String>,
    pub(super) description: String,
    pub(super) upstream_url: Option<String>,
    pub(super) release_notes: Option<String>,
    #[serde(default)]
    pub(super) detect: Vec<String>,
    #[serde(default)]
    pub(super) units: Vec<UnitsFile>,
    #[serde(default, rename = "zone")]
    pub(super) zones: Vec<ZoneFile>,
    #[serde(default)]
    pub(super) severities: BTreeMap<Spanned<String>, Spanned<String>>,
    #[serde(default)]
    pub(super) protocol: ProtocolFile,
    pub(super) versions: Option<VersionsFile>,
    #[serde(default)]
    pub(super) plan: PlanFile,
    pub(super) changelog: Option<ChangelogFile>,
    pub(super) deps: Option<DepsFile>,
    #[serde(default)]
    pub(super) pins: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct DepsFile {
    pub(super) gem: Option<Spanned<String>>,
    #[serde(default = "default_lockfiles")]
    pub(super) lockfiles: Vec<String>,
    #[serde(default)]
    pub(super) gemspecs: Vec<String>,
    pub(super) coupled: Vec<Spanned<String>>,
    #[serde(default)]
    pub(super) renamed: BTreeMap<String, Spanned<String>>,
    #[serde(default = "default_update")]
    pub(super) command: String,
    #[serde(default)]
    pub(super) series: Vec<BTreeMap<Spanned<String>, OneOrMany>>,
}

#[derive(Deserialize)]
#[serde(untagged)]
pub(super) enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

// Untagged enums buffer their input, which loses `Spanned`'s position: a bad version is
// reported at its gem's key instead.
impl OneOrMany {
    pub(super) fn items(&self) -> Vec<&String> {
        match self {
            OneOrMany::One(one) => vec![one],
            OneOrMany::Many(many) => many.iter().collect(),
        }
    }
}

fn default_lockfiles() -> Vec<String> {
    vec!["Gemfile.lock".into()]
}

fn default_update() -> String {
    "bundle update".into()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct UnitsFile {
    pub(super) layout: String,
    pub(super) path: Spanned<String>,
    #[serde(default)]
    pub(super) tests: Vec<Spanned<String>>,
    pub(super) registration: Option<RegistrationFile>,
    pub(super) module_root: Option<String>,
    pub(super) module_suffix: Option<String>,
    pub(super) import: Option<Spanned<String>>,
    pub(super) class_name: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RegistrationFile {
    pub(super) path: String,
    pub(super) line: Spanned<String>,
    pub(super) template: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ZoneFile {
    pub(super) kind: ZoneKind,
    pub(super) paths: Vec<Spanned<String>>,
    pub(super) note: Option<String>,
    pub(super) warn: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct ProtocolFile {
    pub(super) enum_marker: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) document: Vec<NamedPaths>,
    #[serde(default)]
    pub(super) values: Vec<ValuesFile>,
    #[serde(default)]
    pub(super) files: Vec<NamedPaths>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct NamedPaths {
    pub(super) name: String,
    pub(super) paths: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ValuesFile {
    pub(super) name: String,
    pub(super) paths: Vec<String>,
    pub(super) scope: Option<Spanned<String>>,
    pub(super) value: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct VersionsFile {
    pub(super) scheme: VersionScheme,
    pub(super) tags: Spanned<String>,
    pub(super) branches: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) source: Vec<VersionSourceFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct VersionSourceFile {
    pub(super) path: String,
    pub(super) regex: Spanned<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct PlanFile {
    #[serde(default)]
    pub(super) checklist: Vec<String>,
    #[serde(default)]
    pub(super) coupled: Vec<String>,
    pub(super) command: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ChangelogFile {
    pub(super) path: String,
    pub(super) section: Spanned<String>,
    pub(super) breaking: Spanned<String>,
}
