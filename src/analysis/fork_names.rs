//! Names a PR candidate uses that only the fork has. A fix that calls the fork's own code
//! (op-geth's "Log a warning when optimism enabled but regolith not scheduled" calls
//! `IsOptimism`, which op-geth defines in params/config.go) does not build upstream: it is
//! the fork's work, however framework-shaped its files are.
//!
//! A name counts when the series' added code uses it, a file the fork changed already had it
//! before the series (so the series did not bring it), and no file of the target of the same
//! kind has it. The other way round, a series that takes out a definition breaks upstream when
//! the file, picked onto the target, still uses the name (op-geth's "Remove unused variable to
//! fix linter"). Text only, no parsing: identifiers are words of four or more letters, digits
//! and underscores outside quotes and comments.

use super::candidates::{FileChange, Picked};
use crate::error::Result;
use crate::facts::{BlobId, Facts, Objects, TreeId, par_map};
use crate::model::{Change, ChangeClass};
use std::collections::hash_map::Entry;
use std::collections::{BTreeSet, HashMap, HashSet};

/// Why a series would not build upstream, by one name and one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ForkName {
    /// It uses `name`, which the target lacks and the fork's `path` had before the series.
    Calls { name: String, path: String },
    /// It removes the definition of `name`, which the target's `path` still uses (op-geth's
    /// "Remove unused variable to fix linter" deletes `errTxNotFound`, which go-ethereum's
    /// eth/tracers/api.go uses).
    Removes { name: String, path: String },
}

/// For each series (its commits, oldest first, and its tree picked onto the target), why it
/// would not build upstream, if it would not.
pub fn fork_only_names(
    facts: &Facts,
    objects: &dyn Objects,
    changes: &[Change],
    series: &[Picked],
) -> Result<Vec<Option<ForkName>>> {
    let prose: HashSet<&str> = changes
        .iter()
        .filter(|c| c.class == ChangeClass::Docs)
        .map(|c| c.path.as_str())
        .collect();
    let mut read: Vec<Names> = Vec::with_capacity(series.len());
    for picked in series {
        let mut names = Names::default();
        for change in &picked.files {
            changed_names(change, &prose, &mut names);
        }
        // What the series defines is its own, whoever else has the name (telegraf's fork
        // declares a `defaultWatchMethod` of its own in a new plug-in; the one in
        // plugins/inputs/tail is another package's); a definition it moves is no removal.
        names.used.retain(|n| !names.defined.contains(n));
        names.undefined.retain(|(n, _)| !names.defined.contains(n));
        read.push(names);
    }
    // Tests last: the file to name is one that defines or uses the name, not one testing it.
    let tests: HashSet<&str> = changes
        .iter()
        .filter(|c| c.class == ChangeClass::Test)
        .map(|c| c.path.as_str())
        .collect();
    let mut fork_paths: Vec<&String> = facts
        .own
        .iter()
        .filter_map(|c| facts.touched.get(&c.id))
        .flatten()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    fork_paths.sort_by_key(|p| tests.contains(p.as_str()));

    // The names no file of the target of the same kinds has, read first: most names a fix
    // uses are upstream's, and the search below is then for a handful of names. The files
    // likeliest to have them come first (the target's versions of the files the fork
    // changed), and the reading stops once every name is found.
    let used: HashSet<&str> = read
        .iter()
        .flat_map(|names| names.used.iter().map(String::as_str))
        .collect();
    let kinds: BTreeSet<&String> = read.iter().flat_map(|names| &names.kinds).collect();
    let near: HashSet<&str> = fork_paths.iter().map(|p| p.as_str()).collect();
    let mut target_blobs: Vec<(bool, BlobId)> = facts
        .target_files
        .iter()
        .filter(|(path, _)| kinds.contains(&kind(path)))
        .map(|(path, blob)| (!near.contains(path.as_str()), *blob))
        .collect();
    target_blobs.sort();
    target_blobs.dedup_by_key(|(_, blob)| *blob);
    let target_blobs: Vec<BlobId> = target_blobs.into_iter().map(|(_, blob)| blob).collect();
    let mut lacking: HashSet<&str> = used;
    for chunk in target_blobs.chunks(256) {
        if lacking.is_empty() {
            break;
        }
        let finder = Finder::new(&lacking);
        let found = par_map(objects, chunk, |objects, blob| {
            let text = objects.blob_if_present(*blob)?.unwrap_or_default();
            Ok(finder.names_in(&text))
        })?;
        for name in found.into_iter().flatten() {
            lacking.remove(name);
        }
    }

    // Of those, the ones a file the fork changed had before the series (the first such
    // file, tests last).
    let finder = Finder::new(&lacking);
    let mut blob_names: HashMap<BlobId, Vec<&str>> = HashMap::new();
    let mut out = Vec::with_capacity(series.len());
    for (picked, names) in series.iter().zip(&read) {
        let removal = still_used_at_target(objects, picked.result, &names.undefined)?;
        let wanted: BTreeSet<&str> = names
            .used
            .iter()
            .map(String::as_str)
            .filter(|n| lacking.contains(n))
            .collect();
        let parent = picked.commits.first().and_then(|c| c.parent_tree);
        let (Some(parent), false) = (parent, wanted.is_empty()) else {
            out.push(removal);
            continue;
        };
        let paths: Vec<String> = fork_paths
            .iter()
            .filter(|p| names.kinds.contains(&kind(p)) && !prose.contains(p.as_str()))
            .map(|p| (*p).clone())
            .collect();
        let mut found: Option<ForkName> = None;
        for (path, blob) in blobs_at(facts, objects, parent, &paths)? {
            let present = match blob_names.entry(blob) {
                Entry::Occupied(entry) => entry.into_mut(),
                Entry::Vacant(slot) => {
                    let text = objects.blob_if_present(blob)?.unwrap_or_default();
                    slot.insert(finder.names_in(&text))
                }
            };
            // One reason is enough: the first file that has one of the names.
            if let Some(name) = wanted.iter().find(|n| present.contains(*n)) {
                found = Some(ForkName::Calls {
                    name: name.to_string(),
                    path,
                });
                break;
            }
        }
        out.push(found.or(removal));
    }
    Ok(out)
}

/// Looks for some names as identifiers in files.
struct Finder<'w, 's> {
    wanted: &'s HashSet<&'w str>,
    /// Any of the names as plain text: most files have none of them (the names the fork alone
    /// has are what is looked for), and only the lines that do are read as code.
    text: Option<regex::bytes::Regex>,
}

impl<'w, 's> Finder<'w, 's> {
    fn new(wanted: &'s HashSet<&'w str>) -> Finder<'w, 's> {
        let mut names: Vec<&str> = wanted.iter().copied().collect();
        names.sort_unstable();
        let pattern: Vec<String> = names.into_iter().map(regex::escape).collect();
        // Too large a pattern only costs the shortcut: every line is then read as code.
        let text = regex::bytes::RegexBuilder::new(&pattern.join("|"))
            .unicode(false)
            .build()
            .ok();
        Finder { wanted, text }
    }

    /// Which of the names occur as identifiers in `text`.
    fn names_in(&self, text: &[u8]) -> Vec<&'w str> {
        let mut found: BTreeSet<&'w str> = BTreeSet::new();
        let mut take = |word: &[u8]| {
            if let Ok(word) = std::str::from_utf8(word) {
                if let Some(hit) = self.wanted.get(word) {
                    found.insert(hit);
                }
            }
        };
        if self.wanted.is_empty() {
            return Vec::new();
        }
        let Some(finder) = &self.text else {
            for_each_identifier(text, &mut take);
            return found.into_iter().collect();
        };
        // A line with a name as an identifier has the name as text: read each such line once.
        let mut read_up_to = 0;
        for hit in finder.find_iter(text) {
            if hit.start() < read_up_to {
                continue;
            }
            let start = text[..hit.start()]
                .iter()
                .rposition(|&b| b == b'\n')
                .map_or(0, |at| at + 1);
            let end = text[hit.end()..]
                .iter()
                .position(|&b| b == b'\n')
                .map_or(text.len(), |at| hit.end() + at);
            for_each_identifier(&text[start..end], &mut take);
            read_up_to = end;
        }
        found.into_iter().collect()
    }
}

/// The first definition a series removed whose file, with the series picked onto the target
/// (`result`), still uses the name and no longer defines it: the pick applies, and upstream
/// no longer builds.
fn still_used_at_target(
    objects: &dyn Objects,
    result: TreeId,
    removed: &BTreeSet<(String, String)>,
) -> Result<Option<ForkName>> {
    for (name, path) in removed {
        // A file this clone lacks (a partial clone) says nothing either way.
        let Some(blob) = objects.entry(result, path)? else {
            continue;
        };
        let Some(text) = objects.blob_if_present(blob)? else {
            continue;
        };
        let defined = String::from_utf8_lossy(&text)
            .lines()
            .any(|line| definition(line).as_deref() == Some(name.as_str()));
        if !defined && identifiers(&text).contains(name) {
            return Ok(Some(ForkName::Removes {
                name: name.clone(),
                path: path.clone(),
            }));
        }
    }
    Ok(None)
}

/// The kind of file a name lives in, by its extension ("" for none): a Go name is looked for
/// in Go files.
pub(super) fn kind(path: &str) -> String {
    let file = path.rsplit('/').next().unwrap_or(path);
    match file.rsplit_once('.') {
        Some((stem, extension)) if !stem.is_empty() => extension.to_ascii_lowercase(),
        _ => String::new(),
    }
}

/// The blobs of `paths` in `tree`: the fork's own where the file is as the fork has it now,
/// read from a diff against the fork's tree for the others (one tree diff, not a lookup per
/// path).
fn blobs_at(
    facts: &Facts,
    objects: &dyn Objects,
    tree: TreeId,
    paths: &[String],
) -> Result<Vec<(String, BlobId)>> {
    if paths.is_empty() {
        return Ok(Vec::new());
    }
    let changed: HashMap<String, Option<BlobId>> = objects
        .diff(Some(tree), facts.trees.fork, false, paths)?
        .into_iter()
        .filter_map(|d| d.old_path.or(d.new_path).map(|p| (p, d.old_id)))
        .collect();
    Ok(paths
        .iter()
        .filter_map(|path| {
            let blob = match changed.get(path) {
                Some(old) => *old,
                None => facts.fork_files.get(path).copied(),
            };
            blob.map(|b| (path.clone(), b))
        })
        .collect())
}

/// What a series' lines say about names: those its added code uses and defines, those whose
/// definitions it removes, and the kinds of its files.
#[derive(Default)]
struct Names {
    used: BTreeSet<String>,
    defined: HashSet<String>,
    /// A top-level definition it removed, and the file, which no longer has the name.
    undefined: BTreeSet<(String, String)>,
    kinds: BTreeSet<String>,
}

/// Adds what a commit's change to a file of code (not of prose) says about names.
fn changed_names(change: &FileChange, prose: &HashSet<&str>, names: &mut Names) {
    let FileChange { delta, old, new } = change;
    let path = delta.path().to_string();
    if prose.contains(path.as_str()) || old.contains(&0) || new.contains(&0) {
        return;
    }
    let old = String::from_utf8_lossy(old);
    let new = String::from_utf8_lossy(new);
    let before: HashSet<&str> = old.lines().collect();
    let after: HashSet<&str> = new.lines().collect();
    for line in new.lines().filter(|l| !before.contains(l)) {
        names.used.extend(identifiers(line.as_bytes()));
        names.defined.extend(definition(line));
    }
    let still_named = identifiers(new.as_bytes());
    for line in old.lines().filter(|l| !after.contains(l)) {
        if let Some(name) = top_level_definition(line).filter(|n| !still_named.contains(n)) {
            names.undefined.insert((name, path.clone()));
        }
    }
    names.kinds.insert(kind(&path));
}

/// The name a line of code defines, by the shapes most languages share: after a keyword
/// that declares (`func (c *Client) Name(`, `def name(`, `class Name`, `type Name`, `const
/// Name`) or before an assignment at the start of the line (`Name = …`, `name := …`).
fn definition(line: &str) -> Option<String> {
    static SHAPES: std::sync::OnceLock<[regex::Regex; 2]> = std::sync::OnceLock::new();
    let [declared, assigned] = SHAPES.get_or_init(|| {
        [
            regex::Regex::new(
                r"\b(?:func|def|class|type|const|var|let|fn|struct|enum|interface|module)\s+(?:\([^)]*\)\s*)?([A-Za-z_][A-Za-z0-9_]*)",
            )
            .expect("a valid pattern"),
            regex::Regex::new(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?::=|=[^=])").expect("a valid pattern"),
        ]
    });
    let code = String::from_utf8_lossy(&code_of(line.as_bytes())).into_owned();
    declared
        .captures(&code)
        .or_else(|| assigned.captures(&code))
        .map(|c| c[1].to_string())
}

/// A definition at the top of a file, or one level in (a `var (` or `const (` block, a class
/// body): a local variable taken out with its uses removes nothing upstream needs. Names of
/// four or more characters, as [`identifiers`] reads them.
fn top_level_definition(line: &str) -> Option<String> {
    let depth = line.len() - line.trim_start().len();
    let one_level = line.starts_with('\t') && depth == 1 || !line.starts_with('\t') && depth <= 4;
    let name = definition(line).filter(|n| n.len() >= 4)?;
    let short_declaration = line.contains(":=");
    (depth == 0 || (one_level && !short_declaration)).then_some(name)
}

/// The identifiers of some code: words of four or more letters, digits and underscores that
/// start with a letter or underscore, outside quoted strings and line comments.
fn identifiers(text: &[u8]) -> HashSet<String> {
    let mut out = HashSet::new();
    for_each_identifier(text, |word| {
        out.insert(String::from_utf8_lossy(word).into_owned());
    });
    out
}

fn for_each_identifier(text: &[u8], mut each: impl FnMut(&[u8])) {
    for line in text.split(|&b| b == b'\n') {
        let code = code_of(line);
        let mut at = 0;
        while at < code.len() {
            let byte = code[at];
            if byte.is_ascii_alphabetic() || byte == b'_' {
                let start = at;
                while at < code.len() && (code[at].is_ascii_alphanumeric() || code[at] == b'_') {
                    at += 1;
                }
                // A word glued to a digit before it (`0x1f`) is no name.
                let glued = start > 0 && code[start - 1].is_ascii_digit();
                if at - start >= 4 && !glued {
                    each(&code[start..at]);
                }
            } else {
                at += 1;
            }
        }
    }
}

/// A line without its quoted strings and its comment (`//`, or `#` starting a word).
pub(super) fn code_of(line: &[u8]) -> Vec<u8> {
    code_with_strings_as(line, b' ')
}

/// [`code_of`], each quoted string standing as `placeholder` (a string is an argument too).
pub(super) fn code_with_strings_as(line: &[u8], placeholder: u8) -> Vec<u8> {
    let mut code = Vec::with_capacity(line.len());
    let mut quote: Option<u8> = None;
    let mut at = 0;
    while at < line.len() {
        let byte = line[at];
        match quote {
            Some(open) => {
                if byte == b'\\' {
                    at += 1;
                } else if byte == open {
                    quote = None;
                    code.push(placeholder);
                }
            }
            None => match byte {
                b'"' | b'\'' | b'`' => quote = Some(byte),
                b'/' if line.get(at + 1) == Some(&b'/') => break,
                b'#' if at == 0 || line[at - 1].is_ascii_whitespace() => break,
                _ => code.push(byte),
            },
        }
        at += 1;
    }
    code
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(line: &str) -> BTreeSet<String> {
        identifiers(line.as_bytes()).into_iter().collect()
    }

    #[test]
    fn identifiers_skip_strings_comments_short_words_and_numbers() {
        assert_eq!(
            names(
                r#"	if cfg.IsOptimism() && x == 0x1fee { log.Warn("Regolith not set") } // opstack"#
            ),
            ["IsOptimism", "Warn"].map(String::from).into()
        );
        assert_eq!(
            names("    timeout = settings.get('timeout_s')  # seconds"),
            ["settings", "timeout"].map(String::from).into()
        );
        assert_eq!(names(r#"s := "a \"quoted\" word""#), BTreeSet::new());
    }

    #[test]
    fn names_are_found_as_identifiers_only() {
        let wanted: HashSet<&str> = ["IsOptimism", "Regolith", "rollup"].into();
        let finder = Finder::new(&wanted);
        let text = b"package params\n\n// IsOptimism in a comment\nvar s = \"Regolith\"\nfunc (c *Config) IsOptimismRegolith() bool { return c.rollup != nil && IsOptimism() }\n";
        assert_eq!(finder.names_in(text), ["IsOptimism", "rollup"]);
        assert_eq!(finder.names_in(b"var Regolith = 1"), ["Regolith"]);
        assert!(finder.names_in(b"nothing here").is_empty());
    }

    #[test]
    fn definitions_in_the_shapes_most_languages_share() {
        let defined = |line: &str| definition(line);
        assert_eq!(
            defined("func (c *Client) Retry(n int) error {").as_deref(),
            Some("Retry")
        );
        assert_eq!(
            defined("    def backoff_steps(self):").as_deref(),
            Some("backoff_steps")
        );
        assert_eq!(
            defined("\tdefaultWatchMethod =\t\t\"inotify\"").as_deref(),
            Some("defaultWatchMethod")
        );
        assert_eq!(defined("\tcount := len(items)").as_deref(), Some("count"));
        assert_eq!(defined("\tif cfg.IsOptimism() == true {"), None);
        assert_eq!(defined("\tx == y"), None);
    }

    #[test]
    fn only_definitions_at_the_top_or_one_level_in_count_as_removed() {
        assert_eq!(
            top_level_definition("\terrTxNotFound = errors.New(\"x\")").as_deref(),
            Some("errTxNotFound")
        );
        assert_eq!(
            top_level_definition("def helper(x):").as_deref(),
            Some("helper")
        );
        assert_eq!(
            top_level_definition("    LIMIT = 10").as_deref(),
            Some("LIMIT")
        );
        assert_eq!(top_level_definition("\tcount := len(items)"), None);
        assert_eq!(top_level_definition("\t\ttotal = total + 1"), None);
        assert_eq!(top_level_definition("        result = fetch()"), None);
        assert_eq!(top_level_definition("var ok = true"), None);
    }

    #[test]
    fn a_kind_is_the_extension() {
        assert_eq!(kind("core/blockchain.go"), "go");
        assert_eq!(kind("Makefile"), "");
        assert_eq!(kind("tools/.env"), "");
        assert_eq!(kind("a.b/README.MD"), "md");
    }
}
