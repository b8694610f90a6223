//! Release versions, ordered as their ecosystems order them: numeric parts compare as numbers
//! (`0.11.10 > 0.11.9`, `8.16.0 > 8.15.4.0`), and a part with letters marks a pre-release
//! that sorts before the release (`1.0.0.rc2 < 1.0.0`, `9.0.0-rc1 < 9.0.0`), as in
//! RubyGems' `Gem::Version`. A `+build…` suffix is build metadata and is ignored.

use std::cmp::Ordering;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Number(u64),
    Text(String),
}

#[derive(Debug, Clone)]
pub struct Version {
    pub text: String,
    parts: Vec<Part>,
}

impl Version {
    /// A target no version file or release tag names (`upstream/master` with a pack whose
    /// pattern does not read its version file): it sorts as 0 and reads "unknown".
    pub fn unknown() -> Version {
        Version {
            text: "unknown".into(),
            parts: vec![Part::Number(0)],
        }
    }

    pub fn parse(text: &str) -> Option<Version> {
        let core = text.trim().trim_start_matches('v').split('+').next()?;
        let mut parts = Vec::new();
        for piece in core.split(['.', '-']) {
            if piece.is_empty() {
                return None;
            }
            let mut rest = piece;
            while !rest.is_empty() {
                let digits = rest.chars().take_while(char::is_ascii_digit).count();
                if digits > 0 {
                    parts.push(Part::Number(rest[..digits].parse().ok()?));
                    rest = &rest[digits..];
                } else {
                    let letters = rest.chars().take_while(|c| !c.is_ascii_digit()).count();
                    parts.push(Part::Text(rest[..letters].to_ascii_lowercase()));
                    rest = &rest[letters..];
                }
            }
        }
        matches!(parts.first(), Some(Part::Number(_))).then(|| Version {
            text: core.to_string(),
            parts,
        })
    }

    pub fn is_prerelease(&self) -> bool {
        self.parts.iter().any(|p| matches!(p, Part::Text(_)))
    }

    fn number(&self, index: usize) -> u64 {
        match self.parts.get(index) {
            Some(Part::Number(n)) => *n,
            _ => 0,
        }
    }

    /// (major, minor): the unit of "one minor at a time".
    pub fn minor(&self) -> (u64, u64) {
        (self.number(0), self.number(1))
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        let length = self.parts.len().max(other.parts.len());
        for index in 0..length {
            let ordering = match (self.parts.get(index), other.parts.get(index)) {
                (Some(Part::Number(a)), Some(Part::Number(b))) => a.cmp(b),
                (Some(Part::Text(a)), Some(Part::Text(b))) => a.cmp(b),
                (Some(Part::Text(_)), _) => Ordering::Less,
                (_, Some(Part::Text(_))) => Ordering::Greater,
                (Some(Part::Number(a)), None) => a.cmp(&0),
                (None, Some(Part::Number(b))) => 0.cmp(b),
                (None, None) => Ordering::Equal,
            };
            if ordering != Ordering::Equal {
                return ordering;
            }
        }
        Ordering::Equal
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Version {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Version {}

#[cfg(test)]
mod tests {
    use super::Version;

    fn v(text: &str) -> Version {
        Version::parse(text).unwrap()
    }

    #[test]
    fn orders_like_gem_versions() {
        assert!(v("0.11.10") > v("0.11.9"));
        assert!(v("1.0.0.rc2") < v("1.0.0"));
        assert!(v("1.0.0.rc2") > v("1.0.0.rc1"));
        assert!(v("1.0.0.beta2") < v("1.0.0.rc1"));
        assert!(v("2.0.0-alpha1") < v("2.0.0"));
        assert_eq!(v("1.0"), v("1.0.0"));
    }

    /// RubyGems' order (`Gem::Version#<=>`), as a table: each row is `left < right`.
    #[test]
    fn gem_order_table() {
        let ascending = [
            ("0.11.9", "0.11.10"),
            ("0.9.9", "0.10.0"),
            ("1.0.0.rc2", "1.0.0"),
            ("1.0.0.rc1", "1.0.0.rc2"),
            ("1.0.0.rc9", "1.0.0.rc10"),
            ("1.0.0.beta1", "1.0.0.rc1"),
            ("1.0.0.alpha2", "1.0.0.beta1"),
            ("1.0.0.beta1", "1.0.0.beta2"),
            ("2.4.0.beta1", "2.4.0"),
            ("2.4.0", "2.4.1"),
            ("2.3.99", "2.4.0.beta1"),
            ("1.0.0", "1.0.0.1"),
            ("1.0.0.pre", "1.0.0.pre.1"),
            ("2.5.0", "2.10.0"),
        ];
        for (low, high) in ascending {
            assert!(v(low) < v(high), "{low} < {high}");
            assert!(v(high) > v(low), "{high} > {low}");
        }
        let equal = [
            ("1.0", "1.0.0"),
            ("2.4.0", "2.4.0.0"),
            ("1.0.0.RC1", "1.0.0.rc1"),
        ];
        for (a, b) in equal {
            assert_eq!(v(a), v(b), "{a} == {b}");
        }
        assert!(v("2.4.0.beta1").is_prerelease());
        assert!(!v("0.11.10").is_prerelease());
        assert_eq!(v("0.11.10").minor(), (0, 11));
        let mut sorted: Vec<Version> = ["1.0.0", "0.11.10", "1.0.0.rc2", "0.11.9", "1.0.0.beta1"]
            .into_iter()
            .map(v)
            .collect();
        sorted.sort();
        let texts: Vec<&str> = sorted.iter().map(|v| v.text.as_str()).collect();
        assert_eq!(
            texts,
            ["0.11.9", "0.11.10", "1.0.0.beta1", "1.0.0.rc2", "1.0.0"]
        );
    }

    #[test]
    fn orders_elastic_tags_across_the_scheme_change() {
        assert!(v("v8.16.0") > v("v8.15.4.0"));
        assert!(v("8.10.0.0") < v("8.10.0.1"));
        assert!(v("v9.0.0-rc1") < v("v9.0.0"));
        assert_eq!(v("v9.3.4+build202605141021"), v("9.3.4"));
        assert_eq!(v("8.16.0").minor(), (8, 16));
        assert!(Version::parse("main").is_none());
    }
}
