//! Where did a file go? For a path the target no longer has, the file added upstream since
//! the merge-base that holds most of its lines: this follows plain moves, renames with edits,
//! and the split of a module into a package (into which file of the package most of it went).

use super::similarity::{self, LineSet};
use std::collections::HashMap;

/// Below this share of its distinctive lines, no candidate counts as the file's new home:
/// lower for a candidate whose path keeps the file's name as a directory or as its file name
/// (`mysql.py` → `mysql/datasource.py`), where a split leaves only part of the lines in each
/// new file, than for any other, which must hold most of them — `Dockerfile.fips` sharing a
/// third of `Dockerfile` is another file, not its new home.
const MIN_NAMED: f64 = 0.3;
const MIN_UNNAMED: f64 = 0.6;
/// Lines found in more candidates than this (licence headers, boilerplate) decide nothing.
const COMMON_LINE: usize = 20;

pub struct Relocator {
    paths: Vec<String>,
    index: HashMap<u64, Vec<usize>>,
    /// Lines too common to decide anything; they count on neither side of a share.
    common: std::collections::HashSet<u64>,
}

impl Relocator {
    /// `candidates`: the files the target added since the merge-base, with their contents.
    pub fn new(candidates: Vec<(String, Vec<u8>)>) -> Relocator {
        let mut index: HashMap<u64, Vec<usize>> = HashMap::new();
        let mut paths = Vec::with_capacity(candidates.len());
        for (position, (path, content)) in candidates.into_iter().enumerate() {
            for line in similarity::lines(&content, None) {
                index.entry(line).or_default().push(position);
            }
            paths.push(path);
        }
        let common = index
            .iter()
            .filter(|(_, files)| files.len() > COMMON_LINE)
            .map(|(line, _)| *line)
            .collect();
        index.retain(|_, files| files.len() <= COMMON_LINE);
        Relocator {
            paths,
            index,
            common,
        }
    }

    /// The best new home of a file with these contents, and the share of its lines found there.
    pub fn locate(&self, content: &[u8], old_path: &str) -> Option<(String, f64)> {
        self.locate_named(content, stem(old_path), old_path)
    }

    /// As [`Relocator::locate`], with the name that tells the file apart given: for a file
    /// whose own name many files share (`fixtures/mysql/connector.json`) that is its unit's
    /// directory, not `connector`.
    pub fn locate_named(
        &self,
        content: &[u8],
        stem: &str,
        old_path: &str,
    ) -> Option<(String, f64)> {
        let old_file = old_path.rsplit('/').next().unwrap_or(old_path);
        let lines: LineSet = similarity::lines(content, None);
        let indexed: Vec<&Vec<usize>> = lines.iter().filter_map(|l| self.index.get(l)).collect();
        let considered = lines
            .iter()
            .filter(|l| !self.common.contains(l))
            .count()
            .max(1);
        let mut hits: HashMap<usize, usize> = HashMap::new();
        for files in indexed {
            for file in files {
                *hits.entry(*file).or_default() += 1;
            }
        }
        hits.into_iter()
            .map(|(file, count)| (file, count as f64 / considered as f64))
            .filter(|(file, share)| {
                *share
                    > if keeps_name(&self.paths[*file], stem, old_file) {
                        MIN_NAMED
                    } else {
                        MIN_UNNAMED
                    }
            })
            // Ties go to the candidate whose path still names the old file's stem.
            .max_by(|a, b| {
                a.1.total_cmp(&b.1)
                    .then_with(|| {
                        keeps_name(&self.paths[a.0], stem, old_file).cmp(&keeps_name(
                            &self.paths[b.0],
                            stem,
                            old_file,
                        ))
                    })
                    .then_with(|| self.paths[b.0].cmp(&self.paths[a.0]))
            })
            .map(|(file, share)| (self.paths[file].clone(), similarity::round(share)))
    }
}

/// A directory of `path` is named `name`, or its file is `old_file` under another directory.
fn keeps_name(path: &str, name: &str, old_file: &str) -> bool {
    let mut parts = path.split('/').rev();
    parts.next() == Some(old_file) || parts.any(|dir| dir == name)
}

pub fn stem(path: &str) -> &str {
    let name = path.rsplit('/').next().unwrap_or(path);
    name.split('.').next().unwrap_or(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn follows_a_module_split_into_a_package() {
        let module: String = (0..40)
            .map(|i| format!("def function_{i}(): return {i}\n"))
            .collect();
        let datasource: String = (0..28)
            .map(|i| format!("def function_{i}(): return {i}\n"))
            .collect();
        let client: String = (28..40)
            .map(|i| format!("def function_{i}(): return {i}\n"))
            .collect();
        let relocator = Relocator::new(vec![
            ("pkg/mysql/client.py".into(), client.into_bytes()),
            ("pkg/mysql/datasource.py".into(), datasource.into_bytes()),
            ("pkg/other.py".into(), b"unrelated line of code\n".to_vec()),
        ]);
        let (path, share) = relocator
            .locate(module.as_bytes(), "sources/mysql.py")
            .unwrap();
        assert_eq!(path, "pkg/mysql/datasource.py");
        assert_eq!(share, 0.7);
        assert_eq!(relocator.locate(b"nothing in common here\n", "x.py"), None);
        // A share at the bar is not above it, even under the same file name.
        let third: String = (0..12)
            .map(|i| format!("def function_{i}(): return {i}\n"))
            .chain((0..28).map(|i| format!("own_{i} = {i}\n")))
            .collect();
        assert_eq!(
            relocator.locate(third.as_bytes(), "sources/client.py"),
            None
        );
        // Sharing a third of its lines is not enough for a file of another name.
        assert_eq!(
            relocator.locate(module.as_bytes(), "sources/postgresql.py"),
            Some(("pkg/mysql/datasource.py".into(), 0.7))
        );
        let shared: String = (0..12)
            .map(|i| format!("def function_{i}(): return {i}\n"))
            .chain((0..28).map(|i| format!("unique_{i} = {i}\n")))
            .collect();
        assert_eq!(
            relocator.locate(shared.as_bytes(), "sources/postgresql.py"),
            None
        );
    }
}
