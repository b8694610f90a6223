//! Unit patterns: `connectors/sources/{unit}.py`, `app/…/sources/{unit}/**`,
//! `tests/sources/fixtures/{key}/**`. The placeholder stands for part of one path segment,
//! and only literal directories may precede it, so that a pattern can both recognise a path
//! and be instantiated for a unit (where would the tests of `acme` live?).

use globset::{GlobBuilder, GlobMatcher};

#[derive(Debug, Clone)]
pub struct UnitPattern {
    pub text: String,
    /// Literal directories before the placeholder's segment.
    dirs: Vec<String>,
    prefix: String,
    suffix: String,
    /// Which placeholder the pattern uses: `unit` or `key`.
    pub placeholder: &'static str,
    /// What may follow the placeholder's segment (`**`, `*.py`); None: the segment ends the path.
    rest: Option<(String, GlobMatcher)>,
    /// The names the placeholder may take: an own path of `.forkdrift.toml` (`plugins/acme/**`)
    /// is a pattern whose unit is only `acme`.
    only: Option<GlobMatcher>,
}

impl UnitPattern {
    pub fn parse(text: &str) -> Result<UnitPattern, String> {
        let segments: Vec<&str> = text.split('/').collect();
        let placeholder_at = |needle: &str| segments.iter().position(|s| s.contains(needle));
        let (index, placeholder) = match (placeholder_at("{unit}"), placeholder_at("{key}")) {
            (Some(i), None) => (i, "unit"),
            (None, Some(i)) => (i, "key"),
            (Some(_), Some(_)) => return Err("use either {unit} or {key}, not both".into()),
            (None, None) => {
                return Err("a unit pattern needs a {unit} (or {key}) placeholder".into());
            }
        };
        let marker = format!("{{{placeholder}}}");
        let segment = segments[index];
        if text.matches(&marker).count() != 1 {
            return Err(format!("{marker} may appear once"));
        }
        let (prefix, suffix) = segment.split_once(&marker).expect("checked above");
        let glob_chars = |s: &str| s.contains(['*', '?', '[', '{']);
        if segments[..index].iter().any(|s| glob_chars(s))
            || glob_chars(prefix)
            || glob_chars(suffix)
        {
            return Err(format!("only literal directories may come before {marker}"));
        }
        let rest = rest_after(&segments, index, &marker)?;
        Ok(UnitPattern {
            text: text.to_string(),
            dirs: segments[..index].iter().map(|s| s.to_string()).collect(),
            prefix: prefix.to_string(),
            suffix: suffix.to_string(),
            placeholder,
            rest,
            only: None,
        })
    }

    /// An own path of `.forkdrift.toml` (`internal/acme/**`, `plugins/inputs/acme-*/**`,
    /// `cmd/acme/main.go`) as a pattern with one unit: the first segment that is a glob, or
    /// else the last directory, names it. Only literal directories may come before it, so that
    /// the unit's files can be listed and its copies found like any plug-in's.
    pub fn own_path(text: &str) -> Result<UnitPattern, String> {
        let segments: Vec<&str> = text.split('/').collect();
        let glob_chars = |s: &str| s.contains(['*', '?', '[', '{']);
        if segments.iter().any(|s| s.is_empty()) {
            return Err("an own path is relative to the repository root, without empty segments (`plugins/acme/**`)".into());
        }
        let first_glob = segments.iter().position(|s| glob_chars(s));
        let index = match first_glob {
            Some(0) if segments[0] == "**" => {
                return Err(
                    "an own path starts with literal directories (`plugins/acme/**`), not `**`"
                        .into(),
                );
            }
            Some(i) if segments[i] == "**" => i - 1,
            Some(i) => i,
            None if segments.len() > 1 => segments.len() - 2,
            None => 0,
        };
        let unit = segments[index];
        let only = GlobBuilder::new(unit)
            .literal_separator(true)
            .build()
            .map_err(|e| format!("`{unit}`: {e}"))?
            .compile_matcher();
        let rest = rest_after(&segments, index, &format!("`{unit}`"))?;
        Ok(UnitPattern {
            text: text.to_string(),
            dirs: segments[..index].iter().map(|s| s.to_string()).collect(),
            prefix: String::new(),
            suffix: String::new(),
            placeholder: "unit",
            rest,
            only: Some(only),
        })
    }

    /// The unit (or key) a path belongs to under this pattern.
    pub fn match_path<'p>(&self, path: &'p str) -> Option<&'p str> {
        let mut segments = path.splitn(self.dirs.len() + 2, '/');
        for dir in &self.dirs {
            if segments.next()? != dir {
                return None;
            }
        }
        let segment = segments.next()?;
        let name = segment
            .strip_prefix(self.prefix.as_str())?
            .strip_suffix(self.suffix.as_str())?;
        if name.is_empty() || self.only.as_ref().is_some_and(|only| !only.is_match(name)) {
            return None;
        }
        match (&self.rest, segments.next()) {
            (None, None) => Some(name),
            (Some((_, matcher)), Some(remainder)) => matcher.is_match(remainder).then_some(name),
            _ => None,
        }
    }

    /// The directory holding all units (`connectors/sources`).
    pub fn base_dir(&self) -> String {
        self.dirs.join("/")
    }

    /// Where `name`'s files sit: an exact path, or a directory prefix ending in `/` when the
    /// pattern continues past the placeholder.
    pub fn instantiate(&self, name: &str) -> String {
        let mut path = self.base_dir();
        if !path.is_empty() {
            path.push('/');
        }
        path.push_str(&self.prefix);
        path.push_str(name);
        path.push_str(&self.suffix);
        if self.rest.is_some() {
            path.push('/');
        }
        path
    }
}

/// What may follow the unit's segment, as a glob; None when the segment ends the pattern.
fn rest_after(
    segments: &[&str],
    index: usize,
    unit: &str,
) -> Result<Option<(String, GlobMatcher)>, String> {
    if index + 1 == segments.len() {
        return Ok(None);
    }
    let rest = segments[index + 1..].join("/");
    let matcher = GlobBuilder::new(&rest)
        .literal_separator(true)
        .build()
        .map_err(|e| format!("after {unit}: {e}"))?
        .compile_matcher();
    Ok(Some((rest, matcher)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_modules_packages_and_test_templates() {
        let module = UnitPattern::parse("connectors/sources/{unit}.py").unwrap();
        assert_eq!(
            module.match_path("connectors/sources/mysql.py"),
            Some("mysql")
        );
        assert_eq!(module.match_path("connectors/sources/mysql.pyc"), None);
        assert_eq!(module.match_path("connectors/sources/sub/mysql.py"), None);
        assert_eq!(module.match_path("connectors/source.py"), None);
        assert_eq!(module.instantiate("acme"), "connectors/sources/acme.py");

        let package = UnitPattern::parse("app/sources/{unit}/**").unwrap();
        assert_eq!(
            package.match_path("app/sources/mysql/datasource.py"),
            Some("mysql")
        );
        assert_eq!(
            package.match_path("app/sources/mysql/deep/x.py"),
            Some("mysql")
        );
        assert_eq!(package.match_path("app/sources/__init__.py"), None);
        assert_eq!(package.instantiate("acme"), "app/sources/acme/");

        let test = UnitPattern::parse("tests/sources/test_{unit}.py").unwrap();
        assert_eq!(
            test.match_path("tests/sources/test_mysql.py"),
            Some("mysql")
        );
        assert_eq!(test.match_path("tests/sources/support.py"), None);

        let fixture = UnitPattern::parse("tests/sources/fixtures/{key}/**").unwrap();
        assert_eq!(fixture.placeholder, "key");
        assert_eq!(
            fixture.match_path("tests/sources/fixtures/dir/fixture.py"),
            Some("dir")
        );
    }

    #[test]
    fn own_paths_are_patterns_of_one_unit() {
        let dir = UnitPattern::own_path("internal/acme/**").unwrap();
        assert_eq!(dir.match_path("internal/acme/client.go"), Some("acme"));
        assert_eq!(dir.match_path("internal/acme/deep/x.go"), Some("acme"));
        assert_eq!(dir.match_path("internal/other/client.go"), None);
        assert_eq!(dir.instantiate("acme"), "internal/acme/");

        let family = UnitPattern::own_path("plugins/inputs/acme_*/**").unwrap();
        assert_eq!(
            family.match_path("plugins/inputs/acme_cpu/cpu.go"),
            Some("acme_cpu")
        );
        assert_eq!(family.match_path("plugins/inputs/cpu/cpu.go"), None);

        let file = UnitPattern::own_path("cmd/acme/main.go").unwrap();
        assert_eq!(file.match_path("cmd/acme/main.go"), Some("acme"));
        assert_eq!(file.match_path("cmd/acme/other.go"), None);

        let top = UnitPattern::own_path("acme.go").unwrap();
        assert_eq!(top.match_path("acme.go"), Some("acme.go"));

        assert!(UnitPattern::own_path("**/acme/**").is_err());
        assert!(UnitPattern::own_path("/abs/acme").is_err());
    }

    #[test]
    fn rejects_patterns_that_cannot_be_instantiated() {
        assert!(UnitPattern::parse("**/sources/{unit}.py").is_err());
        assert!(UnitPattern::parse("connectors/sources/*.py").is_err());
        assert!(UnitPattern::parse("a/{unit}/{key}").is_err());
        assert!(UnitPattern::parse("plugins/{unit}/{unit}/**").is_err());
    }
}
