//! Bundler's `Gemfile.lock` and a gemspec's dependency lines, read as text: no Ruby runs.
//! Only what the lockstep check needs: every locked gem with its version, platform and source
//! section, the requirements each locked gem declares on others, and RubyGems requirements
//! (`>= 2.4.0, < 2.5.0`, `~> 0.8`) to test a version against.

use super::versions::Version;

/// Where Bundler found a gem: a `GEM` section (a registry), a `GIT` checkout or a `PATH`
/// (the fork's own gemspec, in a gem's repository).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Gem,
    Git,
    Path,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Gem => "gem",
            Source::Git => "git",
            Source::Path => "path",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct LockedGem {
    pub name: String,
    /// As locked, without the platform: `0.17.0` of `0.17.0-x86_64-linux`.
    pub version: String,
    /// `x86_64-linux` for a platform-specific build.
    pub platform: Option<String>,
    pub source: Source,
    /// What the gem's own gemspec requires of other gems, as the lock records it.
    pub requires: Vec<(String, Requirement)>,
}

/// Every gem of the lock's `GEM`, `GIT` and `PATH` sections. A gem locked for several
/// platforms appears once per platform.
pub fn parse_lock(text: &str) -> Vec<LockedGem> {
    let mut gems: Vec<LockedGem> = Vec::new();
    let mut source = None;
    let mut in_specs = false;
    for line in text.lines() {
        let indent = line.len() - line.trim_start().len();
        let trimmed = line.trim();
        if indent == 0 {
            source = match trimmed {
                "GEM" => Some(Source::Gem),
                "GIT" => Some(Source::Git),
                "PATH" => Some(Source::Path),
                _ => None,
            };
            in_specs = false;
            continue;
        }
        let Some(section) = source else { continue };
        if indent == 2 {
            in_specs = trimmed == "specs:";
            continue;
        }
        if !in_specs || trimmed.is_empty() {
            continue;
        }
        let Some((name, inside)) = name_and_parenthesis(trimmed) else {
            continue;
        };
        if indent == 4 {
            let Some(inside) = inside else { continue };
            let (version, platform) = split_platform(inside);
            gems.push(LockedGem {
                name: name.to_string(),
                version,
                platform,
                source: section,
                requires: Vec::new(),
            });
        } else if indent == 6 {
            if let Some(gem) = gems.last_mut() {
                let requirement = inside.map(Requirement::parse).unwrap_or_default();
                gem.requires.push((name.to_string(), requirement));
            }
        }
    }
    gems
}

/// `karafka (2.4.0)` → (`karafka`, Some(`2.4.0`)); `rack` → (`rack`, None).
fn name_and_parenthesis(line: &str) -> Option<(&str, Option<&str>)> {
    match line.split_once(" (") {
        Some((name, rest)) => Some((name.trim_end_matches('!'), rest.strip_suffix(')'))),
        None => Some((line.trim_end_matches('!'), None)),
    }
    .filter(|(name, _)| !name.is_empty() && !name.contains(' '))
}

/// Bundler writes a platform build as `VERSION-PLATFORM`: `1.16.3-x86_64-linux-gnu`. A version
/// never contains `-`, so everything after the first is the platform.
fn split_platform(text: &str) -> (String, Option<String>) {
    match text.split_once('-') {
        Some((version, platform)) => (version.to_string(), Some(platform.to_string())),
        None => (text.to_string(), None),
    }
}

/// A RubyGems requirement: a list of `OP VERSION` that must all hold. Empty: anything.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Requirement {
    pub clauses: Vec<(Op, String)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
    /// `~> 2.4.1`: `>= 2.4.1, < 2.5`; `~> 2.4`: `>= 2.4, < 3`.
    Pessimistic,
}

impl Requirement {
    /// `>= 2.4.0, < 2.5.0` (a lock's form) or `'>= 2.4.0', '< 2.5.0'` (a gemspec's).
    pub fn parse(text: &str) -> Requirement {
        let clauses = text
            .split(',')
            .filter_map(|clause| {
                let clause = clause.trim().trim_matches(['\'', '"']).trim();
                let (op, version) = [
                    (">=", Op::Ge),
                    ("<=", Op::Le),
                    ("!=", Op::Ne),
                    ("~>", Op::Pessimistic),
                    (">", Op::Gt),
                    ("<", Op::Lt),
                    ("=", Op::Eq),
                ]
                .into_iter()
                .find_map(|(token, op)| clause.strip_prefix(token).map(|rest| (op, rest)))
                .unwrap_or((Op::Eq, clause));
                let version = version.trim();
                Version::parse(version).map(|_| (op, version.to_string()))
            })
            .collect();
        Requirement { clauses }
    }

    pub fn is_empty(&self) -> bool {
        self.clauses.is_empty()
    }

    pub fn allows(&self, version: &Version) -> bool {
        self.clauses.iter().all(|(op, bound)| {
            let Some(bound) = Version::parse(bound) else {
                return true;
            };
            match op {
                Op::Eq => *version == bound,
                Op::Ne => *version != bound,
                Op::Gt => *version > bound,
                Op::Ge => *version >= bound,
                Op::Lt => *version < bound,
                Op::Le => *version <= bound,
                Op::Pessimistic => *version >= bound && *version < pessimistic_ceiling(&bound),
            }
        })
    }
}

/// RubyGems' `~>` ceiling: drop the last numeric part, bump the one before it (`2.4.1` →
/// `2.5`, `2.4` → `3`, `1.0.0.rc1` → `1.1`).
fn pessimistic_ceiling(bound: &Version) -> Version {
    let numbers: Vec<u64> = bound
        .text
        .split('.')
        .map_while(|p| p.parse::<u64>().ok())
        .collect();
    let keep = numbers.len().saturating_sub(1).max(1);
    let mut parts: Vec<u64> = numbers.into_iter().take(keep).collect();
    if let Some(last) = parts.last_mut() {
        *last += 1;
    }
    let text = parts
        .iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(".");
    Version::parse(&text).expect("numbers parse as a version")
}

impl std::fmt::Display for Requirement {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let text: Vec<String> = self
            .clauses
            .iter()
            .map(|(op, v)| {
                let op = match op {
                    Op::Eq => "=",
                    Op::Ne => "!=",
                    Op::Gt => ">",
                    Op::Ge => ">=",
                    Op::Lt => "<",
                    Op::Le => "<=",
                    Op::Pessimistic => "~>",
                };
                format!("{op} {v}")
            })
            .collect();
        f.write_str(&text.join(", "))
    }
}

/// A gemspec's runtime dependencies: `spec.add_dependency 'karafka', '>= 2.4.0', '< 2.5.0'`
/// (also `add_runtime_dependency`, parentheses, double quotes). Development dependencies do
/// not constrain a deployment and are left out.
pub fn parse_gemspec(text: &str) -> Vec<(String, Requirement)> {
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        let Some(at) = line
            .find(".add_dependency")
            .or_else(|| line.find(".add_runtime_dependency"))
        else {
            continue;
        };
        let rest = &line[at..];
        let Some(args) = rest.split_once([' ', '(']).map(|(_, a)| a) else {
            continue;
        };
        let args = args
            .split('#')
            .next()
            .unwrap_or("")
            .trim()
            .trim_end_matches(')');
        let mut strings = quoted(args).into_iter();
        let Some(name) = strings.next() else { continue };
        let requirement = Requirement::parse(&strings.collect::<Vec<_>>().join(","));
        out.push((name, requirement));
    }
    out
}

/// The string literals of an argument list, in order.
fn quoted(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\'' || c == '"' {
            let literal: String = chars.by_ref().take_while(|d| *d != c).collect();
            out.push(literal);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOCK: &str = "\
GIT
  remote: https://github.com/karafka/waterdrop.git
  revision: 0123456789abcdef
  branch: master
  specs:
    waterdrop (2.7.0)
      karafka-core (>= 2.4.0, < 3.0.0)

PATH
  remote: .
  specs:
    karafka-web (0.8.2)
      erubi (~> 1.4)
      karafka (>= 2.3.0, < 2.4.0)
      karafka-core (>= 2.3.0, < 2.4.0)

GEM
  remote: https://rubygems.org/
  specs:
    karafka (2.4.3)
      karafka-core (>= 2.4.0, < 2.5.0)
      waterdrop (>= 2.7.0)
    karafka-core (2.4.0)
      karafka-rdkafka (>= 0.15.0, < 0.16.0)
    karafka-rdkafka (0.15.1)
      ffi (~> 1.15)
    karafka-rdkafka (0.15.1-x86_64-linux)
      ffi (~> 1.15)
    rdkafka (0.12.0)
    nokogiri (1.16.3-x86_64-linux-gnu)
      racc (~> 1.4)

PLATFORMS
  ruby
  x86_64-linux

DEPENDENCIES
  karafka-web!
  rspec

BUNDLED WITH
   2.5.3
";

    #[test]
    fn reads_gem_git_and_path_sections_with_platforms() {
        let gems = parse_lock(LOCK);
        let names: Vec<(&str, &str, Option<&str>, Source)> = gems
            .iter()
            .map(|g| {
                (
                    g.name.as_str(),
                    g.version.as_str(),
                    g.platform.as_deref(),
                    g.source,
                )
            })
            .collect();
        assert_eq!(
            names,
            [
                ("waterdrop", "2.7.0", None, Source::Git),
                ("karafka-web", "0.8.2", None, Source::Path),
                ("karafka", "2.4.3", None, Source::Gem),
                ("karafka-core", "2.4.0", None, Source::Gem),
                ("karafka-rdkafka", "0.15.1", None, Source::Gem),
                (
                    "karafka-rdkafka",
                    "0.15.1",
                    Some("x86_64-linux"),
                    Source::Gem
                ),
                ("rdkafka", "0.12.0", None, Source::Gem),
                ("nokogiri", "1.16.3", Some("x86_64-linux-gnu"), Source::Gem),
            ]
        );
        let web = &gems[1];
        assert_eq!(web.requires[1].0, "karafka");
        assert_eq!(web.requires[1].1.to_string(), ">= 2.3.0, < 2.4.0");
        assert!(gems[6].requires.is_empty());
    }

    #[test]
    fn requirements_follow_rubygems() {
        let v = |t: &str| Version::parse(t).unwrap();
        let range = Requirement::parse(">= 2.4.0, < 2.5.0");
        assert!(range.allows(&v("2.4.0")));
        assert!(range.allows(&v("2.4.10")));
        assert!(!range.allows(&v("2.5.0")));
        assert!(!range.allows(&v("2.3.9")));
        // A pre-release of 2.5 sorts below 2.5.0, as RubyGems compares it.
        assert!(range.allows(&v("2.5.0.beta1")));
        let twiddle = Requirement::parse("~> 2.4.1");
        assert!(twiddle.allows(&v("2.4.9")));
        assert!(!twiddle.allows(&v("2.5.0")));
        let minor = Requirement::parse("~> 0.8");
        assert!(minor.allows(&v("0.11.0")));
        assert!(!minor.allows(&v("1.0.0")));
        assert!(Requirement::parse("= 1.0.0").allows(&v("1.0")));
        assert!(Requirement::parse("1.0.0").allows(&v("1.0.0")));
        assert!(!Requirement::parse("!= 1.0.0").allows(&v("1.0.0")));
        assert!(Requirement::parse("").allows(&v("9.9")));
    }

    #[test]
    fn reads_gemspec_runtime_dependencies() {
        let spec = r#"
Gem::Specification.new do |spec|
  spec.add_dependency 'erubi', '~> 1.4'
  spec.add_dependency 'karafka', '>= 2.4.0', '< 2.5.0' # the lockstep
  spec.add_runtime_dependency("karafka-core", ">= 2.4.0", "< 2.5.0")
  spec.add_development_dependency 'rspec'
end
"#;
        let deps = parse_gemspec(spec);
        let text: Vec<(String, String)> = deps
            .iter()
            .map(|(n, r)| (n.clone(), r.to_string()))
            .collect();
        assert_eq!(
            text,
            [
                ("erubi".to_string(), "~> 1.4".to_string()),
                ("karafka".to_string(), ">= 2.4.0, < 2.5.0".to_string()),
                ("karafka-core".to_string(), ">= 2.4.0, < 2.5.0".to_string()),
            ]
        );
    }
}
