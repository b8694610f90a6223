//! Similarity of code on distinctive lines.
//!
//! Each text becomes a set of normalised lines (trimmed, whitespace collapsed, comments and
//! very short lines dropped, the unit's own name replaced by a placeholder). Lines are
//! weighted by rarity across an upstream corpus (IDF), so the framework boilerplate every
//! plug-in shares counts for little, and two texts are compared by weighted Dice. A rare-line
//! index finds the few candidates worth scoring, so nothing is compared all-pairs.
//! Calibrated on elastic/connectors (docs/copy-detection.md): copies with up to 40 % of their
//! lines edited score ≥ 0.48, distinct upstream connectors ≤ 0.34.

use regex::Regex;
use std::collections::{HashMap, HashSet};
use std::hash::{Hash, Hasher};

/// At or above this weighted Dice, a text is a copy of its best candidate.
pub const COPY_THRESHOLD: f64 = 0.45;
/// Lines found in at most this many corpus texts nominate candidates.
const RARE_DF: u32 = 3;
const PLACEHOLDER: &str = "\u{1}";

pub type LineSet = HashSet<u64>;

fn hash_line(line: &str) -> u64 {
    let mut hasher = std::hash::DefaultHasher::new();
    line.hash(&mut hasher);
    hasher.finish()
}

/// A unit name in any spelling, case-insensitive: `sharepoint_online` matches
/// `SharepointOnline`, `SHAREPOINT_ONLINE`, `sharepoint-online` and `Sharepoint Online`.
///
/// Every upstream unit gets one, and a tree of 10,000 connectors spent half its audit
/// compiling them as regexes: ASCII text (nearly every line of code) is matched by hand, and
/// the regex, whose Unicode case folding (`K` also matches the Kelvin sign) only other text
/// needs, is compiled the first time such text comes.
pub struct NamePattern {
    /// Each name's words, in the names' order: at one position the first name that matches
    /// wins, as in a regex alternation.
    words: Vec<Vec<String>>,
    unicode: std::sync::OnceLock<Option<Regex>>,
}

/// The words of a name may be joined by one of these, or by nothing.
const JOINERS: [u8; 3] = [b'_', b'-', b' '];

pub fn name_pattern(names: &[&str]) -> Option<NamePattern> {
    let words: Vec<Vec<String>> = names
        .iter()
        .filter(|n| n.len() >= 2)
        .map(|name| {
            name.split(['_', '-', ' '])
                .filter(|t| !t.is_empty())
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .filter(|w| !w.is_empty())
        .collect();
    (!words.is_empty()).then(|| NamePattern {
        words,
        unicode: std::sync::OnceLock::new(),
    })
}

impl NamePattern {
    fn regex(&self) -> Option<&Regex> {
        self.unicode
            .get_or_init(|| {
                let alternatives: Vec<String> = self
                    .words
                    .iter()
                    .map(|words| {
                        words
                            .iter()
                            .map(|w| regex::escape(w))
                            .collect::<Vec<_>>()
                            .join("[_\\- ]?")
                    })
                    .collect();
                Regex::new(&format!("(?i){}", alternatives.join("|"))).ok()
            })
            .as_ref()
    }

    fn ascii(&self, text: &str) -> bool {
        text.is_ascii() && self.words.iter().flatten().all(|w| w.is_ascii())
    }

    /// Where a match starting at `at` ends, trying the names in order and, between two
    /// words, a joiner before none (as the regex's greedy `[_\- ]?` does).
    fn match_at(&self, text: &[u8], at: usize) -> Option<usize> {
        fn words_at(text: &[u8], at: usize, words: &[String]) -> Option<usize> {
            let (first, rest) = words.split_first()?;
            let end = at + first.len();
            if end > text.len() || !text[at..end].eq_ignore_ascii_case(first.as_bytes()) {
                return None;
            }
            if rest.is_empty() {
                return Some(end);
            }
            if text.get(end).is_some_and(|b| JOINERS.contains(b)) {
                if let Some(found) = words_at(text, end + 1, rest) {
                    return Some(found);
                }
            }
            words_at(text, end, rest)
        }
        self.words
            .iter()
            .find_map(|words| words_at(text, at, words))
    }

    pub fn is_match(&self, text: &str) -> bool {
        if !self.ascii(text) {
            return self.regex().is_some_and(|r| r.is_match(text));
        }
        (0..text.len()).any(|at| self.match_at(text.as_bytes(), at).is_some())
    }

    /// `text` with every match replaced by `with`, leftmost first.
    pub fn replace_all<'t>(&self, text: &'t str, with: &str) -> std::borrow::Cow<'t, str> {
        if !self.ascii(text) {
            return match self.regex() {
                Some(regex) => regex.replace_all(text, with),
                None => text.into(),
            };
        }
        let bytes = text.as_bytes();
        let mut out: Option<String> = None;
        let (mut at, mut copied) = (0, 0);
        while at < bytes.len() {
            match self.match_at(bytes, at) {
                Some(end) => {
                    let out = out.get_or_insert_with(|| String::with_capacity(text.len()));
                    out.push_str(&text[copied..at]);
                    out.push_str(with);
                    (at, copied) = (end, end);
                }
                None => at += 1,
            }
        }
        match out {
            Some(mut out) => {
                out.push_str(&text[copied..]);
                out.into()
            }
            None => text.into(),
        }
    }
}

/// The distinctive lines of a text. `names` are replaced by a placeholder first.
pub fn lines(text: &[u8], names: Option<&NamePattern>) -> LineSet {
    let text = String::from_utf8_lossy(text);
    let mut out = LineSet::new();
    for raw in text.lines() {
        let collapsed = raw.split_whitespace().collect::<Vec<_>>().join(" ");
        if collapsed.len() < 4 || collapsed.starts_with('#') || collapsed.starts_with("//") {
            continue;
        }
        let line = match names {
            Some(pattern) => pattern.replace_all(&collapsed, PLACEHOLDER).into_owned(),
            None => collapsed,
        };
        out.insert(hash_line(&line));
    }
    out
}

/// Upstream texts with line rarity.
pub struct Corpus {
    texts: Vec<LineSet>,
    df: HashMap<u64, u32>,
    rare: HashMap<u64, Vec<usize>>,
}

impl Corpus {
    pub fn new(texts: Vec<LineSet>) -> Corpus {
        let mut df: HashMap<u64, u32> = HashMap::new();
        for text in &texts {
            for line in text {
                *df.entry(*line).or_default() += 1;
            }
        }
        let mut rare: HashMap<u64, Vec<usize>> = HashMap::new();
        for (index, text) in texts.iter().enumerate() {
            for line in text {
                if df[line] <= RARE_DF {
                    rare.entry(*line).or_default().push(index);
                }
            }
        }
        Corpus { texts, df, rare }
    }

    pub fn len(&self) -> usize {
        self.texts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.texts.is_empty()
    }

    /// ln((N+1)/(df+½)); a line the corpus lacks weighs as much as one it has once, so that
    /// a copy's own edits are not over-weighted.
    pub fn weight(&self, line: u64) -> f64 {
        let n = self.texts.len() as f64 + 1.0;
        let df = self.df.get(&line).copied().unwrap_or(1).max(1) as f64;
        (n / (df + 0.5)).ln()
    }

    fn total(&self, set: &LineSet) -> f64 {
        set.iter().map(|l| self.weight(*l)).sum()
    }

    /// Weighted Dice of two line sets.
    pub fn dice(&self, a: &LineSet, b: &LineSet) -> f64 {
        let (small, large) = if a.len() <= b.len() { (a, b) } else { (b, a) };
        let shared: f64 = small
            .iter()
            .filter(|l| large.contains(l))
            .map(|l| self.weight(*l))
            .sum();
        let total = self.total(a) + self.total(b);
        if total == 0.0 {
            0.0
        } else {
            2.0 * shared / total
        }
    }

    /// Corpus texts sharing a rare line with `set`, best first, with their scores; `skip`
    /// leaves one text out (to test an upstream text against the others).
    pub fn ranked(&self, set: &LineSet, skip: Option<usize>) -> Vec<(usize, f64)> {
        let mut nominated: HashSet<usize> = HashSet::new();
        for line in set {
            if let Some(texts) = self.rare.get(line) {
                nominated.extend(texts.iter().filter(|t| Some(**t) != skip));
            }
        }
        let mut scored: Vec<(usize, f64)> = nominated
            .into_iter()
            .map(|t| (t, self.dice(set, &self.texts[t])))
            .collect();
        scored.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        scored
    }

    pub fn text(&self, index: usize) -> &LineSet {
        &self.texts[index]
    }
}

/// Two decimals are all a similarity needs, and they keep JSON output stable.
pub fn round(value: f64) -> f64 {
    (value * 100.0).round() / 100.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalisation_ignores_layout_comments_and_the_units_own_name() {
        let mysql = name_pattern(&["mysql"]);
        let acme = name_pattern(&["acme"]);
        let a = lines(
            b"class MySqlDataSource(Base):\n    # comment\n  x =   1 + 2\n)\n",
            mysql.as_ref(),
        );
        let b = lines(b"class AcmeDataSource(Base):\nx = 1 + 2\n", acme.as_ref());
        assert_eq!(a, b);
        assert_eq!(a.len(), 2);
    }

    #[test]
    fn name_patterns_match_as_their_regex_does() {
        let mut next = crate::test_support::xorshift(0x2545_f491_4f6c_dd1d);
        let pieces = [
            "ab", "A", "b", "_", "-", " ", "x", "AB_b", "\u{212a}", "k", ".", "a-b",
        ];
        let names = [["ab_b", "a"], ["k", "ab"], ["a.b", "b-x"], ["kk", "ab b"]];
        for round in 0..20_000 {
            let text: String = (0..next(8)).map(|_| pieces[next(pieces.len())]).collect();
            let names = names[next(names.len())];
            let pattern = name_pattern(&names).unwrap();
            let regex = pattern.regex().unwrap().clone();
            assert_eq!(
                pattern.replace_all(&text, "#"),
                regex.replace_all(&text, "#"),
                "round {round}: {names:?} in {text:?}"
            );
            assert_eq!(pattern.is_match(&text), regex.is_match(&text), "{text:?}");
        }
    }

    #[test]
    fn name_patterns_accept_every_spelling() {
        let pattern = name_pattern(&["sharepoint_online"]).unwrap();
        for spelling in [
            "SharepointOnline",
            "SHAREPOINT_ONLINE",
            "sharepoint-online",
            "Sharepoint Online",
        ] {
            assert!(pattern.is_match(spelling), "{spelling}");
        }
    }

    #[test]
    fn shared_boilerplate_weighs_less_than_distinctive_lines() {
        let boiler: Vec<String> = (0..10).map(|i| format!("boilerplate line {i}")).collect();
        let text = |own: &str| -> LineSet {
            let body: Vec<String> = boiler
                .iter()
                .cloned()
                .chain((0..10).map(|i| format!("{own} logic {i}")))
                .collect();
            lines(body.join("\n").as_bytes(), None)
        };
        let corpus = Corpus::new(
            ["alpha", "beta", "gamma", "epsilon", "zeta"]
                .map(text)
                .to_vec(),
        );
        let unrelated = text("delta");
        let best = corpus.ranked(&unrelated, None);
        assert!(
            best.is_empty(),
            "boilerplate alone nominates nothing: {best:?}"
        );
        assert!(corpus.dice(&unrelated, corpus.text(0)) < 0.2);
        let (best, score) = corpus.ranked(&text("alpha"), None)[0];
        assert_eq!(best, 0);
        assert!((score - 1.0).abs() < 1e-9);
    }
}
