//! Copy-and-rename detection: is an added unit (or test file) a copy of an upstream one, and
//! of which file? Units are compared as wholes; then each added file is paired with the
//! source file it resembles most.

use super::similarity::{self, COPY_THRESHOLD, Corpus, LineSet};
use regex::Regex;

/// A unit's files and the names to neutralise before comparing (its own name, its class prefix).
#[derive(Debug, Clone)]
pub struct UnitText {
    pub unit: String,
    pub files: Vec<(String, Vec<u8>)>,
    pub names: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CopyMatch {
    /// Index into the corpus units.
    pub source: usize,
    pub similarity: f64,
    /// Per added file: (added path, source path, similarity).
    pub files: Vec<(String, String, f64)>,
    /// Another upstream unit nearly as close (upstream near-duplicates, like mssql/postgresql).
    pub runner_up: Option<(usize, f64)>,
}

/// The most frequent capture of `pattern`'s `name` group in a unit's files (its class prefix).
pub fn dominant_name(pattern: &Regex, files: &[(String, Vec<u8>)]) -> Option<String> {
    let mut counts: std::collections::BTreeMap<String, usize> = Default::default();
    for (_, bytes) in files {
        for caps in pattern.captures_iter(&String::from_utf8_lossy(bytes)) {
            if let Some(name) = caps.name("name") {
                *counts.entry(name.as_str().to_string()).or_default() += 1;
            }
        }
    }
    counts
        .into_iter()
        .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)))
        .map(|(name, _)| name)
}

struct Prepared {
    whole: LineSet,
    files: Vec<(String, LineSet)>,
}

fn prepare(unit: &UnitText) -> Prepared {
    let names: Vec<&str> = unit.names.iter().map(String::as_str).collect();
    let pattern = similarity::name_pattern(&names);
    let files: Vec<(String, LineSet)> = unit
        .files
        .iter()
        .map(|(path, bytes)| (path.clone(), similarity::lines(bytes, pattern.as_ref())))
        .collect();
    let whole = files
        .iter()
        .flat_map(|(_, set)| set.iter().copied())
        .collect();
    Prepared { whole, files }
}

/// How much closer to a source than its nearest upstream sibling a copy must be.
const SIBLING_MARGIN: f64 = 0.05;

pub struct CopyIndex {
    corpus: Corpus,
    sources: Vec<Prepared>,
}

impl CopyIndex {
    pub fn new(upstream: &[UnitText]) -> CopyIndex {
        let sources: Vec<Prepared> = upstream.iter().map(prepare).collect();
        let corpus = Corpus::new(sources.iter().map(|p| p.whole.clone()).collect());
        CopyIndex { corpus, sources }
    }

    /// The similarity a copy of source `index` needs. Upstream sometimes copies its own
    /// connectors (elastic's mssql, oracle and postgresql come from one template and score
    /// 0.58–0.67 with each other), so the bar for a source sits above what its closest
    /// upstream sibling reaches: no upstream unit passes for a copy of another. Computed for
    /// the sources a copy is measured against only, not for every pair of upstream units.
    pub fn bar(&self, index: usize) -> f64 {
        let sibling = self
            .corpus
            .ranked(&self.sources[index].whole, Some(index))
            .first()
            .map_or(0.0, |(_, score)| score + SIBLING_MARGIN);
        sibling.max(COPY_THRESHOLD)
    }

    /// Every nominated corpus unit with its similarity to `unit`, best first, threshold or not.
    pub fn scores(&self, unit: &UnitText, skip: Option<usize>) -> Vec<(usize, f64)> {
        self.corpus.ranked(&prepare(unit).whole, skip)
    }

    /// The upstream unit `added` was copied from, if any. `skip` leaves one corpus unit out.
    pub fn find(&self, added: &UnitText, skip: Option<usize>) -> Option<CopyMatch> {
        let prepared = prepare(added);
        let ranked = self.corpus.ranked(&prepared.whole, skip);
        let &(source, score) = ranked.first()?;
        if score < self.bar(source) {
            return None;
        }
        let runner_up = ranked
            .get(1)
            .filter(|(_, s)| *s >= COPY_THRESHOLD && score - s < 0.1)
            .map(|&(index, s)| (index, similarity::round(s)));
        let source_files = &self.sources[source].files;
        let files = prepared
            .files
            .iter()
            .filter_map(|(path, set)| {
                source_files
                    .iter()
                    .map(|(source_path, source_set)| {
                        (source_path, self.corpus.dice(set, source_set))
                    })
                    .max_by(|a, b| a.1.total_cmp(&b.1).then_with(|| b.0.cmp(a.0)))
                    .filter(|(_, s)| *s > 0.0)
                    .map(|(source_path, s)| {
                        (path.clone(), source_path.clone(), similarity::round(s))
                    })
            })
            .collect();
        Some(CopyMatch {
            source,
            similarity: similarity::round(score),
            files,
            runner_up,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(name: &str, body: &str) -> UnitText {
        UnitText {
            unit: name.into(),
            files: vec![(format!("sources/{name}.py"), body.as_bytes().to_vec())],
            names: vec![name.into()],
        }
    }

    fn connector(name: &str, topic: &str) -> String {
        let mut body = String::from(
            "from framework import Base\nclass Source(Base):\n    def ping(self):\n        return True\n",
        );
        for i in 0..30 {
            body.push_str(&format!("    def {topic}_{i}(self, {name}_client):\n        return {name}_client.fetch('{topic}/{i}')\n"));
        }
        body
    }

    #[test]
    fn a_renamed_copy_with_edits_is_found_and_an_unrelated_unit_is_not() {
        let upstream = vec![
            unit("mysql", &connector("mysql", "tables")),
            unit("jira", &connector("jira", "issues")),
        ];
        let index = CopyIndex::new(&upstream);
        let mut copy = connector("acme", "tables");
        copy = copy.replacen("fetch('tables/1')", "fetch('tables/one')", 1);
        copy = copy.replacen("fetch('tables/2')", "get('tables/2')", 1);
        let found = index.find(&unit("acme", &copy), None).expect("a copy");
        assert_eq!(found.source, 0);
        assert!(found.similarity > 0.8, "{found:?}");
        assert_eq!(found.files[0].1, "sources/mysql.py");
        assert_eq!(
            index.find(&unit("zendesk", &connector("zendesk", "tickets")), None),
            None
        );
    }

    #[test]
    fn upstream_near_duplicates_never_pass_for_copies_of_each_other() {
        // Upstream copied one template twice (as elastic did for mssql and postgresql).
        let template = connector("db", "rows");
        let upstream = vec![
            unit("mssql", &template.replacen("rows/1'", "rows/one'", 1)),
            unit("postgresql", &template.replacen("rows/2'", "rows/two'", 1)),
            unit("jira", &connector("jira", "issues")),
        ];
        let index = CopyIndex::new(&upstream);
        for (position, source) in upstream.iter().enumerate() {
            assert_eq!(index.find(source, Some(position)), None, "{}", source.unit);
        }
        assert!(index.bar(0) > COPY_THRESHOLD && index.bar(2) == COPY_THRESHOLD);
        // A fork's copy of one of them is still found when it is closer to it than its sibling is.
        let copy = unit("acme", &template.replacen("rows/1'", "rows/one'", 1));
        assert_eq!(index.find(&copy, None).map(|f| f.source), Some(0));
    }
}
