//! Naming commits: revisions, refs and remotes, and the nearest name to a mistyped one.

use super::{Repo, commit_id, not_found};
use crate::error::{Error, GitContext, Result};
use crate::facts::CommitId;
use git2::ErrorCode;

impl Repo {
    pub fn resolve_commit(&self, rev: &str) -> Result<CommitId> {
        // An empty repository, or HEAD on a branch not born yet: say so, not "unknown HEAD".
        if rev == "HEAD" {
            if let Err(error) = self.git.head() {
                if error.code() == ErrorCode::UnbornBranch {
                    return Err(Error::NoCommits {
                        path: self.workdir().unwrap_or(&self.git_dir).to_path_buf(),
                        empty: self.git.is_empty().unwrap_or(false),
                    });
                }
            }
        }
        let object = not_found(self.git.revparse_single(rev))
            .context(|| format!("could not resolve {rev}"))?;
        let Some(object) = object else {
            let help = match self.nearest_ref(rev) {
                Some(near) => {
                    format!("did you mean `{near}`? (`git branch -a` and `git tag` list the names)")
                }
                None => self.fetch_hint(rev),
            };
            return Err(Error::UnknownRevision {
                rev: rev.to_string(),
                help,
            });
        };
        object
            .peel_to_commit()
            .map(|c| commit_id(c.id()))
            .map_err(|_| Error::UnknownRevision {
                rev: rev.to_string(),
                help: format!(
                    "{rev} names a {}, not a commit",
                    object.kind().map_or("object", |k| k.str())
                ),
            })
    }

    /// How to make `rev` known: fetch the remote it names (`origin/9.3`), else the remote
    /// upstream's branches and tags come from — `upstream` when there is one or none, the only
    /// remote when there is one, and otherwise the remotes there are.
    fn fetch_hint(&self, rev: &str) -> String {
        let check = format!("check the name with `git rev-parse --verify {rev}`");
        let remotes = self.remote_names();
        if let Some(remote) = remotes.iter().find(|r| {
            rev.strip_prefix(r.as_str())
                .is_some_and(|rest| rest.starts_with('/'))
        }) {
            return format!("{check}; {remote}'s branches need `git fetch {remote}` first");
        }
        let upstream = super::selection::DEFAULT_REMOTE;
        let fetch = match &remotes[..] {
            [] => format!("`git remote add {upstream} <url> && git fetch {upstream} --tags`"),
            names if names.iter().any(|r| r == upstream) => {
                format!("`git fetch {upstream} --tags`")
            }
            [only] => format!("`git fetch {only} --tags`"),
            names => format!(
                "`git fetch <remote> --tags` (remotes: {})",
                names.join(", ")
            ),
        };
        format!("{check}; upstream's branches and tags need {fetch} first")
    }

    /// The branch, remote branch or tag whose short name is nearest to a mistyped `rev`
    /// (at most two edits away, and at most half its length).
    fn nearest_ref(&self, rev: &str) -> Option<String> {
        let references = self.git.references().ok()?;
        let mut best: Option<(usize, String)> = None;
        for reference in references.flatten() {
            let Ok(name) = reference.name() else { continue };
            let short = ["refs/heads/", "refs/remotes/", "refs/tags/"]
                .iter()
                .find_map(|prefix| name.strip_prefix(prefix));
            let Some(short) = short else { continue };
            let distance = edit_distance(rev, short);
            if distance <= 2
                && 2 * distance <= rev.chars().count()
                && best.as_ref().is_none_or(|(d, _)| distance < *d)
            {
                best = Some((distance, short.to_string()));
            }
        }
        best.map(|(_, name)| name)
    }

    /// Whether the ref of this full name (`refs/heads/8.18`) exists.
    pub fn has_ref(&self, full: &str) -> bool {
        self.git.find_reference(full).is_ok()
    }

    pub fn has_remote(&self, name: &str) -> bool {
        self.git.find_remote(name).is_ok()
    }

    pub fn remote_names(&self) -> Vec<String> {
        self.git
            .remotes()
            .map(|names| {
                names
                    .iter()
                    .filter_map(|n| n.ok().flatten().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Every ref whose name starts with `prefix`, peeled to commits (non-commit refs skipped).
    pub fn refs_under(&self, prefix: &str) -> Result<Vec<(String, CommitId)>> {
        let mut out = Vec::new();
        let glob = format!("{prefix}*");
        for reference in self
            .git
            .references_glob(&glob)
            .context(|| format!("could not list {glob}"))?
        {
            let reference = reference.context(|| format!("could not read a ref under {prefix}"))?;
            if reference.kind() == Some(git2::ReferenceType::Symbolic) {
                continue;
            }
            let Ok(name) = reference.name() else { continue };
            if let Ok(commit) = reference.peel_to_commit() {
                out.push((name.to_string(), commit_id(commit.id())));
            }
        }
        out.sort();
        Ok(out)
    }

    /// `refs/remotes/<remote>/HEAD`'s target, else `main`, else `master`.
    pub fn default_branch(&self, remote: &str) -> Option<String> {
        let head = format!("refs/remotes/{remote}/HEAD");
        if let Ok(reference) = self.git.find_reference(&head) {
            if let Ok(Some(target)) = reference.symbolic_target() {
                return Some(target.to_string());
            }
        }
        ["main", "master"]
            .iter()
            .map(|b| format!("refs/remotes/{remote}/{b}"))
            .find(|r| self.git.find_reference(r).is_ok())
    }
}

/// Levenshtein distance over characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (above + 1)
                .min(row[j] + 1)
                .min(diagonal + usize::from(ca != *cb));
            diagonal = above;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    #[test]
    fn edit_distance_counts_insertions_deletions_and_substitutions() {
        assert_eq!(super::edit_distance("main", "main"), 0);
        assert_eq!(super::edit_distance("mian", "main"), 2);
        assert_eq!(super::edit_distance("upstream/man", "upstream/main"), 1);
        assert_eq!(super::edit_distance("", "abc"), 3);
        assert_eq!(super::edit_distance("kitten", "sitting"), 3);
    }
}
