//! Declarative git histories. A scenario (`fixtures/*.toml`, format in `fixtures/README.md`)
//! lists steps — commits on upstream or fork branches, branches, tags, merges, backports —
//! and [`build`] writes them into a real repository with `git fast-import`: pinned authors
//! and dates, no user configuration, no network. The demo and the test-suite share it.

use crate::analysis::diff3;
use crate::error::{Error, IoContext, Result};
use crate::repo::git::Git;
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/embedded.rs"));
}

pub(crate) use embedded::RULES as EMBEDDED_RULES;

const DEFAULT_START: &str = "2024-01-02T09:00:00Z";
const UPSTREAM_AUTHOR: &str = "Ada Upstream <ada@upstream.example>";
const FORK_AUTHOR: &str = "Fin Fork <fin@fork.example>";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    pub description: String,
    /// The name under which upstream branches are fetched (`refs/remotes/<remote>/…`).
    #[serde(default = "default_remote")]
    pub remote: String,
    /// Write `remote.<remote>.url`; false leaves remote-tracking refs with no remote configured.
    #[serde(default = "default_true")]
    pub configure_remote: bool,
    /// What HEAD names: a fork branch (`fork/main`) or any revision (detached).
    #[serde(default = "default_head")]
    pub head: String,
    #[serde(default)]
    pub bare: bool,
    /// The upstream branch `refs/remotes/<remote>/HEAD` points at.
    #[serde(default = "default_upstream_head")]
    pub upstream_head: String,
    pub start: Option<String>,
    #[serde(rename = "step", default)]
    pub steps: Vec<Step>,
    #[serde(skip)]
    name: String,
    #[serde(skip)]
    files: FileSource,
}

fn default_remote() -> String {
    "upstream".into()
}
fn default_true() -> bool {
    true
}
fn default_head() -> String {
    "fork/main".into()
}
fn default_upstream_head() -> String {
    "main".into()
}

#[derive(Debug, Default, Clone)]
enum FileSource {
    #[default]
    Embedded,
    Dir(PathBuf),
}

#[derive(Debug, Deserialize, Default, Clone)]
#[serde(deny_unknown_fields)]
pub struct Step {
    pub commit: Option<String>,
    pub branch: Option<String>,
    pub tag: Option<String>,
    pub merge: Option<String>,
    pub backport: Option<String>,

    pub id: Option<String>,
    pub at: Option<String>,
    pub into: Option<String>,
    pub onto: Option<String>,
    pub message: Option<String>,
    pub date: Option<String>,
    pub author: Option<String>,
    #[serde(default)]
    pub annotated: bool,
    /// For backports: path prefixes of the picked commit to rewrite, old → new.
    #[serde(default)]
    pub map: BTreeMap<String, String>,

    /// Whole directories of `fixtures/files/`, written first.
    #[serde(default)]
    pub import: Vec<ImportOp>,
    #[serde(default)]
    pub delete: Vec<String>,
    /// old → new; a trailing `/` moves a whole directory.
    #[serde(default)]
    pub rename: BTreeMap<String, String>,
    #[serde(default)]
    pub copy: Vec<CopyOp>,
    /// path → text; `@name` reads `fixtures/files/name`.
    #[serde(default)]
    pub write: BTreeMap<String, String>,
    /// path → raw bytes, for binary and non-UTF-8 files.
    #[serde(default)]
    pub bytes: BTreeMap<String, Vec<u8>>,
    #[serde(default)]
    pub edit: Vec<EditOp>,
}

#[derive(Debug, Deserialize, Default, Clone)]
#[serde(deny_unknown_fields)]
pub struct ImportOp {
    /// A directory under `fixtures/files/`, ending in `/`.
    pub from: String,
    /// Where its files go in the repository (default: the root).
    #[serde(default)]
    pub to: String,
    /// Sub-paths of `from` to leave out.
    #[serde(default)]
    pub exclude: Vec<String>,
}

#[derive(Debug, Deserialize, Default, Clone)]
#[serde(deny_unknown_fields)]
pub struct CopyOp {
    pub from: String,
    pub to: String,
    /// Literal replacements applied to every copied file, in order.
    #[serde(default)]
    pub replace: Vec<[String; 2]>,
}

#[derive(Debug, Deserialize, Default, Clone)]
#[serde(deny_unknown_fields)]
pub struct EditOp {
    pub path: String,
    #[serde(default)]
    pub replace: Vec<[String; 2]>,
    pub append: Option<String>,
    pub prepend: Option<String>,
}

type Tree = BTreeMap<String, Arc<[u8]>>;

struct Commit {
    tree: Arc<Tree>,
    parents: Vec<usize>,
    message: String,
}

/// A scenario written to disk.
#[derive(Debug)]
pub struct Built {
    /// The work tree, or the git directory of a bare repository.
    pub path: PathBuf,
    pub git_dir: PathBuf,
    /// Full commit ids of every step `id`, and of every branch and tag.
    pub ids: BTreeMap<String, String>,
}

impl Built {
    pub fn id(&self, name: &str) -> &str {
        self.ids
            .get(name)
            .unwrap_or_else(|| panic!("scenario has no step or ref named {name}"))
    }
}

impl Scenario {
    /// A scenario shipped in `fixtures/` (embedded in the binary), by file stem.
    pub fn embedded(name: &str) -> Result<Scenario> {
        let file = format!("{name}.toml");
        let text = embedded::FIXTURES
            .iter()
            .find(|(path, _)| *path == file)
            .map(|(_, bytes)| String::from_utf8_lossy(bytes).into_owned())
            .ok_or_else(|| Error::InvalidScenario {
                name: name.into(),
                message: format!(
                    "no fixture named {name}; known: {}",
                    Scenario::names().join(", ")
                ),
            })?;
        Scenario::parse(name, &text, FileSource::Embedded)
    }

    pub fn names() -> Vec<String> {
        embedded::FIXTURES
            .iter()
            .filter_map(|(path, _)| path.strip_suffix(".toml"))
            .filter(|path| !path.contains('/'))
            .map(str::to_string)
            .collect()
    }

    /// A scenario file on disk; `@name` contents resolve against `files/` beside it.
    pub fn from_path(path: &Path) -> Result<Scenario> {
        let text = std::fs::read_to_string(path)
            .io_context(|| format!("could not read {}", path.display()))?;
        let dir = path.parent().unwrap_or(Path::new(".")).join("files");
        let name = path
            .file_stem()
            .map_or("scenario".into(), |s| s.to_string_lossy().into_owned());
        Scenario::parse(&name, &text, FileSource::Dir(dir))
    }

    fn parse(name: &str, text: &str, files: FileSource) -> Result<Scenario> {
        let mut scenario: Scenario = toml::from_str(text).map_err(|e| Error::InvalidScenario {
            name: name.into(),
            message: e.to_string(),
        })?;
        scenario.name = name.into();
        scenario.files = files;
        Ok(scenario)
    }

    fn invalid(&self, message: impl Into<String>) -> Error {
        Error::InvalidScenario {
            name: self.name.clone(),
            message: message.into(),
        }
    }

    /// Files under `files/<dir>`, relative to it.
    fn list(&self, dir: &str) -> Result<Vec<(String, Arc<[u8]>)>> {
        let mut out = Vec::new();
        match &self.files {
            FileSource::Embedded => {
                let prefix = format!("files/{dir}");
                for (path, bytes) in embedded::FIXTURES {
                    if let Some(relative) = path.strip_prefix(&prefix) {
                        out.push((relative.to_string(), Arc::from(*bytes)));
                    }
                }
            }
            FileSource::Dir(root) => {
                let base = root.join(dir);
                let mut stack = vec![base.clone()];
                while let Some(current) = stack.pop() {
                    let entries = std::fs::read_dir(&current)
                        .map_err(|e| self.invalid(format!("cannot list files/{dir}: {e}")))?;
                    for entry in entries.flatten() {
                        let path = entry.path();
                        if path.is_dir() {
                            stack.push(path);
                        } else {
                            let bytes =
                                std::fs::read(&path).map_err(|e| self.invalid(e.to_string()))?;
                            let relative = path
                                .strip_prefix(&base)
                                .expect("below base")
                                .to_string_lossy()
                                .replace('\\', "/");
                            out.push((relative, Arc::from(bytes)));
                        }
                    }
                }
            }
        }
        if out.is_empty() {
            return Err(self.invalid(format!("no files under files/{dir}")));
        }
        out.sort();
        Ok(out)
    }

    fn content(&self, text: &str) -> Result<Arc<[u8]>> {
        let Some(file) = text
            .strip_prefix('@')
            .filter(|f| !f.starts_with('@') && !f.contains('\n'))
        else {
            let literal = text
                .strip_prefix('@')
                .filter(|t| t.starts_with('@'))
                .unwrap_or(text);
            return Ok(Arc::from(literal.as_bytes()));
        };
        match &self.files {
            FileSource::Embedded => {
                let wanted = format!("files/{file}");
                embedded::FIXTURES
                    .iter()
                    .find(|(path, _)| *path == wanted)
                    .map(|(_, bytes)| Arc::from(*bytes))
                    .ok_or_else(|| self.invalid(format!("no fixture file files/{file}")))
            }
            FileSource::Dir(dir) => std::fs::read(dir.join(file))
                .map(Arc::from)
                .map_err(|e| self.invalid(format!("cannot read files/{file}: {e}"))),
        }
    }
}

/// Writes `scenario` as a fresh repository at `dest` (which must not exist or be empty).
pub fn build(scenario: &Scenario, dest: &Path) -> Result<Built> {
    let mut builder = Builder {
        scenario,
        commits: Vec::new(),
        refs: BTreeMap::new(),
        labels: HashMap::new(),
        step_commit: HashMap::new(),
        clock: crate::time::parse_iso(scenario.start.as_deref().unwrap_or(DEFAULT_START))
            .ok_or_else(|| scenario.invalid("`start` is not an ISO date"))?,
        stream: Vec::new(),
    };
    for (index, step) in scenario.steps.iter().enumerate() {
        builder.step(index, step).map_err(|e| {
            scenario.invalid(format!("step {} ({}): {e}", index + 1, describe(step)))
        })?;
    }
    builder.write(dest)
}

fn describe(step: &Step) -> String {
    [
        ("commit", &step.commit),
        ("branch", &step.branch),
        ("tag", &step.tag),
        ("merge", &step.merge),
        ("backport", &step.backport),
    ]
    .iter()
    .find_map(|(kind, value)| value.as_ref().map(|v| format!("{kind} {v}")))
    .unwrap_or_else(|| "empty step".into())
}

struct Builder<'s> {
    scenario: &'s Scenario,
    commits: Vec<Commit>,
    refs: BTreeMap<String, usize>,
    labels: HashMap<String, usize>,
    step_commit: HashMap<usize, usize>,
    clock: i64,
    stream: Vec<u8>,
}

type StepResult<T> = std::result::Result<T, String>;

impl Builder<'_> {
    fn refname(&self, spec: &str) -> StepResult<String> {
        if let Some(branch) = spec.strip_prefix("upstream/") {
            Ok(format!("refs/remotes/{}/{branch}", self.scenario.remote))
        } else if let Some(branch) = spec.strip_prefix("fork/") {
            Ok(format!("refs/heads/{branch}"))
        } else {
            Err(format!(
                "`{spec}` is not a branch: write upstream/NAME or fork/NAME"
            ))
        }
    }

    fn resolve(&self, rev: &str) -> StepResult<usize> {
        let (name, back) = match rev.rsplit_once('~') {
            Some((name, n)) => (
                name,
                n.parse::<usize>()
                    .map_err(|_| format!("bad revision {rev}"))?,
            ),
            None => (rev, 0),
        };
        let mut commit = if let Some(&c) = self.labels.get(name) {
            c
        } else if let Some(&c) = self
            .refname(name)
            .ok()
            .and_then(|r| self.refs.get(&r))
            .or_else(|| self.refs.get(&format!("refs/tags/{name}")))
        {
            c
        } else {
            return Err(format!("unknown revision `{name}`"));
        };
        for _ in 0..back {
            commit = *self.commits[commit]
                .parents
                .first()
                .ok_or_else(|| format!("{rev} goes past a root commit"))?;
        }
        Ok(commit)
    }

    fn side_author(&self, spec: &str, step: &Step) -> String {
        step.author.clone().unwrap_or_else(|| {
            if spec.starts_with("fork/") {
                FORK_AUTHOR
            } else {
                UPSTREAM_AUTHOR
            }
            .to_string()
        })
    }

    fn tick(&mut self, step: &Step) -> StepResult<i64> {
        self.clock = match &step.date {
            Some(date) => crate::time::parse_iso(date).ok_or_else(|| format!("bad date {date}"))?,
            None => self.clock + crate::time::DAY,
        };
        Ok(self.clock)
    }

    fn step(&mut self, index: usize, step: &Step) -> StepResult<()> {
        let kinds = [
            &step.commit,
            &step.branch,
            &step.tag,
            &step.merge,
            &step.backport,
        ];
        if kinds.iter().filter(|k| k.is_some()).count() != 1 {
            return Err("a step needs exactly one of commit, branch, tag, merge, backport".into());
        }
        let created = if let Some(spec) = &step.commit {
            let refname = self.refname(spec)?;
            let parent = match &step.at {
                Some(at) => Some(self.resolve(at)?),
                None => self.refs.get(&refname).copied(),
            };
            let mut tree = parent.map_or_else(Tree::new, |p| (*self.commits[p].tree).clone());
            self.apply(&mut tree, step)?;
            let message = step.message.clone().ok_or("a commit needs a message")?;
            let author = self.side_author(spec, step);
            Some(self.commit(
                &refname,
                parent.into_iter().collect(),
                tree,
                &message,
                &author,
                step,
            )?)
        } else if let Some(spec) = &step.branch {
            let at = self.resolve(step.at.as_deref().ok_or("a branch needs `at`")?)?;
            let refname = self.refname(spec)?;
            self.reset(&refname, at);
            None
        } else if let Some(name) = &step.tag {
            let at = self.resolve(step.at.as_deref().ok_or("a tag needs `at`")?)?;
            let when = self.tick(step)?;
            self.tag(name, at, step, when);
            None
        } else if let Some(from) = &step.merge {
            let into = step.into.as_deref().ok_or("a merge needs `into`")?;
            let refname = self.refname(into)?;
            let ours = *self
                .refs
                .get(&refname)
                .ok_or_else(|| format!("{into} does not exist yet"))?;
            let theirs = self.resolve(from)?;
            let base = self.merge_base(ours, theirs);
            let (mut tree, conflicts) = self.merge_trees(base, ours, theirs);
            self.apply(&mut tree, step)?;
            let resolved: BTreeSet<&String> = step
                .write
                .keys()
                .chain(&step.delete)
                .chain(step.bytes.keys())
                .collect();
            let unresolved: Vec<&String> =
                conflicts.iter().filter(|p| !resolved.contains(p)).collect();
            if !unresolved.is_empty() {
                return Err(format!(
                    "merge conflicts on {unresolved:?}: resolve them with `write` or `delete`"
                ));
            }
            let message = step
                .message
                .clone()
                .unwrap_or_else(|| format!("Merge {from} into {into}"));
            let author = self.side_author(into, step);
            Some(self.commit(&refname, vec![ours, theirs], tree, &message, &author, step)?)
        } else if let Some(label) = &step.backport {
            let onto = step.onto.as_deref().ok_or("a backport needs `onto`")?;
            let refname = self.refname(onto)?;
            let picked = *self
                .labels
                .get(label)
                .ok_or_else(|| format!("no step with id {label}"))?;
            let target = *self
                .refs
                .get(&refname)
                .ok_or_else(|| format!("{onto} does not exist yet"))?;
            let mut tree = (*self.commits[target].tree).clone();
            self.cherry_pick(picked, &mut tree, &step.map)?;
            self.apply(&mut tree, step)?;
            let original = self.original_message(picked);
            let message = step.message.clone().unwrap_or(original);
            let author = self.side_author(onto, step);
            Some(self.commit(&refname, vec![target], tree, &message, &author, step)?)
        } else {
            unreachable!("one kind is set")
        };
        if let Some(commit) = created {
            self.step_commit.insert(index, commit);
            if let Some(id) = &step.id {
                if self.labels.insert(id.clone(), commit).is_some() {
                    return Err(format!("id {id} is used twice"));
                }
            }
        } else if step.id.is_some() {
            return Err("only steps that make a commit take an `id`".into());
        }
        Ok(())
    }

    fn original_message(&self, commit: usize) -> String {
        self.commits[commit].message.clone()
    }

    fn apply(&self, tree: &mut Tree, step: &Step) -> StepResult<()> {
        for import in &step.import {
            for (relative, content) in self
                .scenario
                .list(&import.from)
                .map_err(|e| e.to_string())?
            {
                if import
                    .exclude
                    .iter()
                    .any(|x| relative.starts_with(x.as_str()))
                {
                    continue;
                }
                tree.insert(format!("{}{relative}", import.to), content);
            }
        }
        for path in &step.delete {
            let prefix = path.ends_with('/');
            let before = tree.len();
            tree.retain(|p, _| {
                if prefix {
                    !p.starts_with(path.as_str())
                } else {
                    p != path
                }
            });
            if tree.len() == before {
                return Err(format!("delete: no file {path}"));
            }
        }
        // Single files move before whole directories, so a step can move a file out of a
        // directory and the rest of the directory elsewhere.
        let mut renames: Vec<(&String, &String)> = step.rename.iter().collect();
        renames.sort_by_key(|(from, _)| from.ends_with('/'));
        for (from, to) in renames {
            let moved: Vec<String> = if from.ends_with('/') {
                tree.keys()
                    .filter(|p| p.starts_with(from.as_str()))
                    .cloned()
                    .collect()
            } else {
                tree.contains_key(from)
                    .then(|| from.clone())
                    .into_iter()
                    .collect()
            };
            if moved.is_empty() {
                return Err(format!("rename: nothing at {from}"));
            }
            for path in moved {
                let content = tree.remove(&path).expect("listed above");
                let new_path = if from.ends_with('/') {
                    format!("{to}{}", &path[from.len()..])
                } else {
                    to.clone()
                };
                tree.insert(new_path, content);
            }
        }
        for copy in &step.copy {
            let sources: Vec<(String, Arc<[u8]>)> = tree
                .iter()
                .filter(|(p, _)| {
                    if copy.from.ends_with('/') {
                        p.starts_with(&copy.from)
                    } else {
                        **p == copy.from
                    }
                })
                .map(|(p, c)| (p.clone(), c.clone()))
                .collect();
            if sources.is_empty() {
                return Err(format!("copy: nothing at {}", copy.from));
            }
            let mut replaced = vec![false; copy.replace.len()];
            for (path, content) in sources {
                let mut text = String::from_utf8_lossy(&content).into_owned();
                for (index, [old, new]) in copy.replace.iter().enumerate() {
                    replaced[index] |= text.contains(old.as_str());
                    text = text.replace(old.as_str(), new);
                }
                let new_path = if copy.from.ends_with('/') {
                    format!("{}{}", copy.to, &path[copy.from.len()..])
                } else {
                    copy.to.clone()
                };
                tree.insert(new_path, Arc::from(text.into_bytes()));
            }
            if let Some(index) = replaced.iter().position(|r| !r) {
                return Err(format!(
                    "copy: `{}` does not occur in {}",
                    copy.replace[index][0], copy.from
                ));
            }
        }
        for (path, text) in &step.write {
            let content = self.scenario.content(text).map_err(|e| e.to_string())?;
            tree.insert(path.clone(), content);
        }
        for (path, bytes) in &step.bytes {
            tree.insert(path.clone(), Arc::from(bytes.as_slice()));
        }
        for edit in &step.edit {
            let content = tree
                .get(&edit.path)
                .ok_or_else(|| format!("edit: no file {}", edit.path))?;
            let mut text = String::from_utf8_lossy(content).into_owned();
            for [old, new] in &edit.replace {
                if !text.contains(old.as_str()) {
                    return Err(format!("edit: `{old}` does not occur in {}", edit.path));
                }
                text = text.replace(old.as_str(), new);
            }
            if let Some(prefix) = &edit.prepend {
                text.insert_str(0, prefix);
            }
            if let Some(suffix) = &edit.append {
                text.push_str(suffix);
            }
            tree.insert(edit.path.clone(), Arc::from(text.into_bytes()));
        }
        Ok(())
    }

    /// Applies the change `picked` made to its first parent onto `tree`, file by file with a
    /// three-way merge, the way `git cherry-pick` would.
    fn cherry_pick(
        &self,
        picked: usize,
        tree: &mut Tree,
        map: &BTreeMap<String, String>,
    ) -> StepResult<()> {
        let after = &self.commits[picked].tree;
        let empty = Tree::new();
        let before = self.commits[picked]
            .parents
            .first()
            .map_or(&empty, |p| &*self.commits[*p].tree);
        let relocate = |path: &str| -> String {
            map.iter()
                .find(|(from, _)| path.starts_with(from.as_str()))
                .map_or_else(
                    || path.to_string(),
                    |(from, to)| format!("{to}{}", &path[from.len()..]),
                )
        };
        let paths: BTreeSet<&String> = before.keys().chain(after.keys()).collect();
        for path in paths {
            let (old, new) = (before.get(path), after.get(path));
            if old == new {
                continue;
            }
            let target = relocate(path);
            match (old, new) {
                (_, None) => {
                    tree.remove(&target);
                }
                (None, Some(new)) => {
                    tree.insert(target, new.clone());
                }
                (Some(old), Some(new)) => {
                    let current = tree
                        .get(&target)
                        .ok_or_else(|| format!("backport: {target} does not exist"))?;
                    let (b, o, t) = (diff3::lines(old), diff3::lines(current), diff3::lines(new));
                    match diff3::merge(&b, &o, &t) {
                        diff3::Merged::Clean(lines) => {
                            let merged: Vec<u8> = lines.concat();
                            tree.insert(target, Arc::from(merged));
                        }
                        diff3::Merged::Conflicts(_) => {
                            return Err(format!("backport conflicts on {target}"));
                        }
                    }
                }
            }
        }
        Ok(())
    }

    fn ancestors(&self, commit: usize) -> BTreeSet<usize> {
        let mut seen = BTreeSet::new();
        let mut stack = vec![commit];
        while let Some(c) = stack.pop() {
            if seen.insert(c) {
                stack.extend(&self.commits[c].parents);
            }
        }
        seen
    }

    /// A best common ancestor: commits are numbered in creation order, so no common ancestor
    /// descends from the one with the highest number.
    fn merge_base(&self, a: usize, b: usize) -> Option<usize> {
        let of_a = self.ancestors(a);
        self.ancestors(b).intersection(&of_a).max().copied()
    }

    fn merge_trees(&self, base: Option<usize>, ours: usize, theirs: usize) -> (Tree, Vec<String>) {
        let empty = Tree::new();
        let base_tree = base.map_or(&empty, |b| &*self.commits[b].tree);
        let (ours_tree, theirs_tree) = (&*self.commits[ours].tree, &*self.commits[theirs].tree);
        let paths: BTreeSet<&String> = base_tree
            .keys()
            .chain(ours_tree.keys())
            .chain(theirs_tree.keys())
            .collect();
        let mut merged = Tree::new();
        let mut conflicts = Vec::new();
        for path in paths {
            let (b, o, t) = (
                base_tree.get(path),
                ours_tree.get(path),
                theirs_tree.get(path),
            );
            let result = if o == t || t == b {
                o.cloned()
            } else if o == b {
                t.cloned()
            } else if let (Some(b), Some(o), Some(t)) = (b, o, t) {
                let (bl, ol, tl) = (diff3::lines(b), diff3::lines(o), diff3::lines(t));
                match diff3::merge(&bl, &ol, &tl) {
                    diff3::Merged::Clean(lines) => Some(Arc::from(lines.concat())),
                    diff3::Merged::Conflicts(_) => {
                        conflicts.push(path.clone());
                        Some(o.clone())
                    }
                }
            } else {
                conflicts.push(path.clone());
                o.cloned()
            };
            if let Some(content) = result {
                merged.insert(path.clone(), content);
            }
        }
        (merged, conflicts)
    }

    fn reset(&mut self, refname: &str, at: usize) {
        self.refs.insert(refname.to_string(), at);
        let _ = write!(self.stream, "reset {refname}\nfrom :{}\n\n", at + 1);
    }

    fn data(&mut self, bytes: &[u8]) {
        let _ = writeln!(self.stream, "data {}", bytes.len());
        self.stream.extend_from_slice(bytes);
        self.stream.push(b'\n');
    }

    fn tag(&mut self, name: &str, at: usize, step: &Step, when: i64) {
        let refname = format!("refs/tags/{name}");
        if step.annotated {
            let tagger = step
                .author
                .clone()
                .unwrap_or_else(|| UPSTREAM_AUTHOR.into());
            let _ = write!(
                self.stream,
                "tag {name}\nfrom :{}\ntagger {tagger} {when} +0000\n",
                at + 1
            );
            let message = step
                .message
                .clone()
                .unwrap_or_else(|| format!("Release {name}\n"));
            self.data(message.as_bytes());
            self.refs.insert(refname, at);
        } else {
            self.reset(&refname, at);
        }
    }

    fn commit(
        &mut self,
        refname: &str,
        parents: Vec<usize>,
        tree: Tree,
        message: &str,
        author: &str,
        step: &Step,
    ) -> StepResult<usize> {
        let when = self.tick(step)?;
        let mark = self.commits.len() + 1;
        let _ = write!(
            self.stream,
            "commit {refname}\nmark :{mark}\nauthor {author} {when} +0000\ncommitter {author} {when} +0000\n"
        );
        let mut message = message.to_string();
        if !message.ends_with('\n') {
            message.push('\n');
        }
        self.data(message.as_bytes());
        for (index, parent) in parents.iter().enumerate() {
            let verb = if index == 0 { "from" } else { "merge" };
            let _ = writeln!(self.stream, "{verb} :{}", parent + 1);
        }
        let empty = Tree::new();
        let first_parent_tree = parents.first().map(|p| self.commits[*p].tree.clone());
        let before = first_parent_tree.as_deref().unwrap_or(&empty);
        for path in before.keys().filter(|p| !tree.contains_key(*p)) {
            let _ = writeln!(self.stream, "D {path}");
        }
        for (path, content) in &tree {
            if path.contains('\n') || path.starts_with('"') {
                return Err(format!("unsupported path {path:?}"));
            }
            if before.get(path) != Some(content) {
                let _ = writeln!(self.stream, "M 100644 inline {path}");
                self.data(content);
            }
        }
        self.stream.push(b'\n');
        self.commits.push(Commit {
            tree: Arc::new(tree),
            parents,
            message: message.trim_end().to_string(),
        });
        let commit = mark - 1;
        self.refs.insert(refname.to_string(), commit);
        Ok(commit)
    }

    fn write(self, dest: &Path) -> Result<Built> {
        let scenario = self.scenario;
        let git = Git::hermetic();
        std::fs::create_dir_all(dest)
            .io_context(|| format!("could not create {}", dest.display()))?;
        let mut init = git.command(None);
        init.arg("init").arg("--quiet").arg("--initial-branch=main");
        if scenario.bare {
            init.arg("--bare");
        }
        init.arg(dest);
        git.run(init, None)?;
        let git_dir = if scenario.bare {
            dest.to_path_buf()
        } else {
            dest.join(".git")
        };

        let marks = git_dir.join("forkdrift-marks");
        let mut import = git.command(Some(&git_dir));
        import
            .arg("fast-import")
            .arg("--quiet")
            .arg("--done")
            .arg(format!("--export-marks={}", marks.display()));
        let mut stream = self.stream.clone();
        stream.extend_from_slice(b"done\n");
        git.run(import, Some(&stream))?;
        let marks_text = std::fs::read_to_string(&marks)
            .io_context(|| "could not read fast-import marks".into())?;
        std::fs::remove_file(&marks).io_context(|| "could not remove fast-import marks".into())?;
        let by_mark: HashMap<usize, String> = marks_text
            .lines()
            .filter_map(|line| {
                let (mark, id) = line.split_once(' ')?;
                Some((
                    mark.trim_start_matches(':').parse::<usize>().ok()? - 1,
                    id.to_string(),
                ))
            })
            .collect();

        let mut ids = BTreeMap::new();
        for (label, commit) in &self.labels {
            ids.insert(label.clone(), by_mark[commit].clone());
        }
        for (refname, commit) in &self.refs {
            ids.insert(refname.clone(), by_mark[commit].clone());
        }

        let remote = &scenario.remote;
        let configure = |args: &[&str]| -> Result<()> {
            let mut command = git.command(Some(&git_dir));
            command.args(args);
            git.run(command, None).map(drop)
        };
        if scenario.configure_remote {
            configure(&["config", &format!("remote.{remote}.url"), "../upstream.git"])?;
            configure(&[
                "config",
                &format!("remote.{remote}.fetch"),
                &format!("+refs/heads/*:refs/remotes/{remote}/*"),
            ])?;
        }
        let upstream_head = format!("refs/remotes/{remote}/{}", scenario.upstream_head);
        if self.refs.contains_key(&upstream_head) {
            configure(&[
                "symbolic-ref",
                &format!("refs/remotes/{remote}/HEAD"),
                &upstream_head,
            ])?;
        }
        let head_ref = self
            .refname(&scenario.head)
            .ok()
            .filter(|r| r.starts_with("refs/heads/"));
        match head_ref {
            Some(head) if self.refs.contains_key(&head) => {
                configure(&["symbolic-ref", "HEAD", &head])?
            }
            _ => {
                let commit = self
                    .resolve(&scenario.head)
                    .map_err(|e| scenario.invalid(format!("head: {e}")))?;
                configure(&["update-ref", "--no-deref", "HEAD", &by_mark[&commit]])?;
            }
        }
        if !scenario.bare {
            let mut checkout = git.command(Some(&git_dir));
            checkout
                .arg("--work-tree")
                .arg(dest)
                .args(["reset", "--hard", "--quiet"]);
            git.run(checkout, None)?;
        }
        Ok(Built {
            path: dest.to_path_buf(),
            git_dir,
            ids,
        })
    }
}
