//! Calls a PR candidate re-shaped for the fork's own signatures. A fix that passes a function
//! another number of arguments than it did builds only where the function takes them: op-geth's
//! "correct RPCMarshalBlock signature" passes six to a function go-ethereum defines with four,
//! and "eth/gasestimator: Fix NewEVMBlockContext call" five to one that takes three. Every name
//! in them is upstream's, so [`super::fork_names`] cannot tell.
//!
//! Text only, as fork_names reads code: a call on one line whose argument count a commit
//! changed, and the definitions (`func`, `def`, `fn`) of that name in the tree the series makes
//! on the target. The series is the fork's when none of them takes the new count and one takes
//! the old: the target still has the signature the fork moved away from.

use super::candidates::{FileChange, Picked};
use super::fork_names::{code_with_strings_as, kind};
use crate::error::Result;
use crate::facts::{Facts, Objects, par_map};
use regex::Regex;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

/// A call the series changed to a number of arguments no definition at the target takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    pub name: String,
    pub passes: usize,
    /// What the target's definition takes: `4`, `2 to 3`, `at least 2`.
    pub takes: String,
    pub path: String,
}

/// How many arguments a definition takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Takes {
    least: usize,
    most: Option<usize>,
}

impl Takes {
    fn accepts(self, count: usize) -> bool {
        count >= self.least && self.most.is_none_or(|most| count <= most)
    }

    fn describe(self) -> String {
        match self.most {
            Some(most) if most == self.least => most.to_string(),
            Some(most) => format!("{} to {most}", self.least),
            None => format!("at least {}", self.least),
        }
    }
}

/// A call whose argument count a commit changed: from `was` to `now`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Reshaped {
    name: String,
    was: usize,
    now: usize,
    kind: String,
}

/// For each series (its commits and its tree picked onto the target), the first call it
/// re-shaped for a signature the target does not have.
pub fn mismatches(
    facts: &Facts,
    objects: &dyn Objects,
    series: &[Picked],
) -> Result<Vec<Option<Mismatch>>> {
    let reshaped: Vec<BTreeSet<Reshaped>> = series
        .iter()
        .map(|picked| picked.files.iter().flat_map(reshaped_calls).collect())
        .collect();
    let touched: Vec<BTreeSet<String>> = series
        .iter()
        .map(|picked| {
            picked
                .files
                .iter()
                .map(|change| change.delta.path().to_string())
                .collect()
        })
        .collect();
    let names: HashSet<&str> = reshaped.iter().flatten().map(|r| r.name.as_str()).collect();
    if names.is_empty() {
        return Ok(vec![None; series.len()]);
    }
    let kinds: HashSet<&str> = reshaped.iter().flatten().map(|r| r.kind.as_str()).collect();
    let pattern = definition_pattern(&names);

    // The target's definitions of those names, in the files of the same kinds.
    let files: Vec<(&String, crate::facts::BlobId)> = facts
        .target_files
        .iter()
        .filter(|(path, _)| kinds.contains(kind(path).as_str()))
        .map(|(path, blob)| (path, *blob))
        .collect();
    let found = par_map(objects, &files, |objects, (path, blob)| {
        let text = objects.blob_if_present(*blob)?.unwrap_or_default();
        Ok(definitions(&pattern, &String::from_utf8_lossy(&text))
            .into_iter()
            .map(|(name, takes)| (name, ((*path).clone(), takes)))
            .collect::<Vec<_>>())
    })?;
    let mut at_target: HashMap<String, Vec<(String, Takes)>> = HashMap::new();
    for (name, found) in found.into_iter().flatten() {
        at_target.entry(name).or_default().push(found);
    }

    let mut out = Vec::with_capacity(series.len());
    for ((picked, calls), paths) in series.iter().zip(&reshaped).zip(&touched) {
        if calls.is_empty() {
            out.push(None);
            continue;
        }
        // The series' own files as it leaves them on the target: a fix that changes a
        // signature and its callers together builds.
        let mut own: BTreeMap<String, Vec<(String, Takes)>> = BTreeMap::new();
        for path in paths {
            let Some(blob) = objects.entry(picked.result, path)? else {
                continue;
            };
            let text = objects.blob_if_present(blob)?.unwrap_or_default();
            for (name, takes) in definitions(&pattern, &String::from_utf8_lossy(&text)) {
                own.entry(name).or_default().push((path.clone(), takes));
            }
        }
        let found = calls.iter().find_map(|call| {
            let defined: Vec<&(String, Takes)> = at_target
                .get(&call.name)
                .into_iter()
                .flatten()
                .filter(|(path, _)| !paths.contains(path))
                .chain(own.get(&call.name).into_iter().flatten())
                .collect();
            let old = defined.iter().find(|(_, takes)| takes.accepts(call.was))?;
            let new = defined.iter().any(|(_, takes)| takes.accepts(call.now));
            (!new).then(|| Mismatch {
                name: call.name.clone(),
                passes: call.now,
                takes: old.1.describe(),
                path: old.0.clone(),
            })
        });
        out.push(found);
    }
    Ok(out)
}

/// The calls whose argument count the change made different: a name called on a removed line
/// with one count and on an added line with another that no removed line passed.
fn reshaped_calls(change: &FileChange) -> Vec<Reshaped> {
    if change.old.contains(&0) || change.new.contains(&0) {
        return Vec::new();
    }
    let old = String::from_utf8_lossy(&change.old);
    let new = String::from_utf8_lossy(&change.new);
    let before: HashSet<&str> = old.lines().collect();
    let after: HashSet<&str> = new.lines().collect();
    let counts = |lines: &mut dyn Iterator<Item = &str>| {
        let mut counts: BTreeMap<String, BTreeSet<usize>> = BTreeMap::new();
        for line in lines {
            for (name, count) in calls(line) {
                counts.entry(name).or_default().insert(count);
            }
        }
        counts
    };
    let removed = counts(&mut old.lines().filter(|l| !after.contains(l)));
    let added = counts(&mut new.lines().filter(|l| !before.contains(l)));
    let kind = kind(change.delta.path());
    let mut out = Vec::new();
    for (name, now) in added {
        let Some(was) = removed.get(&name) else {
            continue;
        };
        for &count in now.difference(was) {
            if let Some(&old) = was.iter().next() {
                out.push(Reshaped {
                    name: name.clone(),
                    was: old,
                    now: count,
                    kind: kind.clone(),
                });
            }
        }
    }
    out
}

/// Words that take parentheses without being calls.
const KEYWORDS: &[&str] = &[
    "if", "for", "while", "switch", "return", "func", "def", "fn", "elif", "and", "or", "not",
    "in", "match", "case", "catch", "with", "assert", "yield", "await", "select", "go", "defer",
];

/// The calls closed on one line of code, with their argument counts. A call that spreads its
/// arguments (`f(xs...)`, `f(*args)`) has no count.
fn calls(line: &str) -> Vec<(String, usize)> {
    let code = code_with_strings_as(line.as_bytes(), b'0');
    let mut out = Vec::new();
    let mut at = 0;
    while at < code.len() {
        let byte = code[at];
        if !(byte.is_ascii_alphabetic() || byte == b'_') {
            at += 1;
            continue;
        }
        let start = at;
        while at < code.len() && (code[at].is_ascii_alphanumeric() || code[at] == b'_') {
            at += 1;
        }
        let name = String::from_utf8_lossy(&code[start..at]).into_owned();
        let glued = start > 0 && code[start - 1].is_ascii_digit();
        if glued || name.len() < 3 || KEYWORDS.contains(&name.as_str()) {
            continue;
        }
        // A definition is no call: `func Name(`, `def name(`, `fn name(`, `func (r *T) Name(`.
        let before = String::from_utf8_lossy(&code[..start]);
        let before = before.trim_end();
        let defines = ["func", "def", "fn"].iter().any(|k| before.ends_with(k))
            || before.ends_with(')') && before.contains("func");
        if defines {
            continue;
        }
        if code.get(at) == Some(&b'(') {
            if let Some(count) = arguments(&code[at + 1..]) {
                out.push((name, count));
            }
        }
    }
    out
}

/// The number of arguments before the parenthesis that closes `inside`; None when it does not
/// close here or an argument is spread.
fn arguments(inside: &[u8]) -> Option<usize> {
    let mut depth = 0usize;
    let mut commas = 0;
    let mut content = false;
    let mut last_comma = false;
    let mut spread = false;
    for (at, &byte) in inside.iter().enumerate() {
        match byte {
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' if depth > 0 => depth -= 1,
            b')' => {
                if spread {
                    return None;
                }
                let trailing = usize::from(last_comma);
                return Some(if content { commas + 1 - trailing } else { 0 });
            }
            b',' if depth == 0 => {
                commas += 1;
                last_comma = true;
                continue;
            }
            b'.' if depth == 0 && inside[at..].starts_with(b"...") => spread = true,
            b'*' if depth == 0 && !content_since_comma(inside, at) => spread = true,
            _ => {}
        }
        if !byte.is_ascii_whitespace() {
            content = true;
            last_comma = false;
        }
    }
    None
}

/// Whether anything but blanks stands between the last top-level comma (or the opening
/// parenthesis) and `at`: a `*` there is a product, not a spread.
fn content_since_comma(inside: &[u8], at: usize) -> bool {
    inside[..at]
        .iter()
        .rev()
        .take_while(|&&b| b != b',')
        .any(|b| !b.is_ascii_whitespace())
}

/// A pattern for the definitions of `names`: `func Name(`, `func (r *T) Name(`, `func
/// Name[T any](`, `def name(`, `fn name(` and `fn name<T>(`.
fn definition_pattern(names: &HashSet<&str>) -> Regex {
    let mut names: Vec<&str> = names.iter().copied().collect();
    names.sort_unstable();
    let names: Vec<String> = names.into_iter().map(regex::escape).collect();
    Regex::new(&format!(
        r"\b(?:func|def|fn)\s+(?:\([^)]*\)\s*)?({})\s*(?:\[[^\]]*\]|<[^(]*>)?\s*\(",
        names.join("|")
    ))
    .expect("escaped names")
}

/// The definitions `pattern` finds in `text`, each with what it takes.
fn definitions(pattern: &Regex, text: &str) -> Vec<(String, Takes)> {
    pattern
        .captures_iter(text)
        .filter_map(|captures| {
            let whole = captures.get(0)?;
            let takes = parameters(&text.as_bytes()[whole.end()..])?;
            Some((captures[1].to_string(), takes))
        })
        .collect()
}

/// What a parameter list (after its opening parenthesis) takes: receivers (`self`, `&self`,
/// `cls`) are no arguments, a default makes one optional, `...`, `*args` and `**kw` any
/// number more.
fn parameters(inside: &[u8]) -> Option<Takes> {
    let mut depth = 0usize;
    let mut end = None;
    for (at, &byte) in inside.iter().enumerate().take(4096) {
        match byte {
            b'(' | b'[' | b'{' | b'<' => depth += 1,
            b')' | b']' | b'}' | b'>' if depth > 0 => depth -= 1,
            b')' => {
                end = Some(at);
                break;
            }
            _ => {}
        }
    }
    let list = String::from_utf8_lossy(&inside[..end?]).into_owned();
    let mut params: Vec<String> = Vec::new();
    let mut current = String::new();
    let mut depth = 0usize;
    for c in list.chars() {
        match c {
            '(' | '[' | '{' | '<' => depth += 1,
            ')' | ']' | '}' | '>' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                params.push(std::mem::take(&mut current));
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    params.push(current);
    let params: Vec<&str> = params
        .iter()
        .map(|p| p.trim())
        .filter(|p| !p.is_empty())
        .collect();
    let mut takes = Takes {
        least: 0,
        most: Some(0),
    };
    for (index, param) in params.iter().enumerate() {
        let receiver = index == 0
            && (["self", "cls", "&self", "&mut self", "mut self"].contains(param)
                || param.starts_with("self:"));
        if receiver {
            continue;
        }
        if param.contains("...") || param.starts_with('*') {
            takes.most = None;
        } else if param.contains('=') {
            takes.most = takes.most.map(|m| m + 1);
        } else {
            takes.least += 1;
            takes.most = takes.most.map(|m| m + 1);
        }
    }
    Some(takes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_count_their_arguments_on_one_line() {
        assert_eq!(
            calls("\tval := ethapi.RPCMarshalBlock(block, ctx.Bool(a), ctx.Bool(b), config)"),
            [
                ("RPCMarshalBlock".to_string(), 4),
                ("Bool".to_string(), 1),
                ("Bool".to_string(), 1)
            ]
        );
        assert_eq!(calls("x := New()"), [("New".to_string(), 0)]);
        assert_eq!(calls("f(a, b,)"), []);
        assert_eq!(calls("foo(a, b,)"), [("foo".to_string(), 2)]);
        assert_eq!(calls("append(xs, ys...)"), []);
        assert_eq!(calls("run(*args)"), []);
        assert_eq!(calls("area(w * h, 2)"), [("area".to_string(), 2)]);
        assert_eq!(calls("open(\"a, b\")"), [("open".to_string(), 1)]);
        assert_eq!(calls("start(a,"), []);
        assert_eq!(calls("func Start(a int) error {"), []);
        assert_eq!(calls("func (s *S) Start(a int) error {"), []);
    }

    #[test]
    fn definitions_say_what_they_take() {
        let names: HashSet<&str> = ["Marshal", "get", "new"].into_iter().collect();
        let pattern = definition_pattern(&names);
        let text = "func Marshal(block *Block, inclTx bool,\n\tfullTx bool, config *Config) map[string]any {\n}\n\
            func (b *B) Marshal(xs ...int) {}\n\
            def get(self, key, default=None, *rest):\n\
            fn new<T: Into<String>>(name: T, map: HashMap<K, V>) -> Self {\n";
        assert_eq!(
            definitions(&pattern, text),
            [
                (
                    "Marshal".to_string(),
                    Takes {
                        least: 4,
                        most: Some(4)
                    }
                ),
                (
                    "Marshal".to_string(),
                    Takes {
                        least: 0,
                        most: None
                    }
                ),
                (
                    "get".to_string(),
                    Takes {
                        least: 1,
                        most: None
                    }
                ),
                (
                    "new".to_string(),
                    Takes {
                        least: 2,
                        most: Some(2)
                    }
                ),
            ]
        );
        assert_eq!(
            Takes {
                least: 2,
                most: Some(3)
            }
            .describe(),
            "2 to 3"
        );
    }
}
