//! The protocol as a model, so that only its substance is compared.
//!
//! Documents: fields and types from code blocks written as pseudo-types (`name: type; ->
//! comment`, nested `{ }`), mapping entries from JSON-ish blocks (`"field": { "type":
//! "keyword" }`), and enum values from "Possible values for …" bullet lists. Prose, comments
//! after `->`, diagrams (```mermaid) and whitespace are not the protocol.
//! Code: values captured by a pack's patterns, optionally inside named scopes (`class
//! JobStatus(Enum):`), compared without their quotes.

use regex::Regex;
use std::collections::BTreeMap;
use std::sync::OnceLock;

/// Protocol items: `connector.api_key_id` → `string`, `JobStatus.PAUSED` → `paused`.
pub type Items = BTreeMap<String, String>;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verdict {
    None,
    Prose,
    Schema,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::None => "none",
            Verdict::Prose => "prose",
            Verdict::Schema => "schema",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemChange {
    /// `+`, `-` or `~`.
    pub op: char,
    pub key: String,
    pub before: Option<String>,
    pub after: Option<String>,
}

impl ItemChange {
    /// `+ connector.api_key_secret_id: string`, `~ JobStatus.PAUSED: "x" → "y"`.
    pub fn describe(&self) -> String {
        match (self.op, &self.before, &self.after) {
            ('+', _, Some(after)) => format!("+ {}: {after}", self.key),
            ('-', Some(before), _) => format!("- {}: {before}", self.key),
            (_, Some(before), Some(after)) => format!("~ {}: {before} → {after}", self.key),
            _ => format!("{} {}", self.op, self.key),
        }
    }
}

pub fn diff(before: &Items, after: &Items) -> Vec<ItemChange> {
    let mut out = Vec::new();
    for (key, value) in before {
        match after.get(key) {
            None => out.push(ItemChange {
                op: '-',
                key: key.clone(),
                before: Some(value.clone()),
                after: None,
            }),
            Some(new) if new != value => out.push(ItemChange {
                op: '~',
                key: key.clone(),
                before: Some(value.clone()),
                after: Some(new.clone()),
            }),
            Some(_) => {}
        }
    }
    for (key, value) in after {
        if !before.contains_key(key) {
            out.push(ItemChange {
                op: '+',
                key: key.clone(),
                before: None,
                after: Some(value.clone()),
            });
        }
    }
    out.sort_by(|a, b| a.key.cmp(&b.key).then(a.op.cmp(&b.op)));
    out
}

/// A heading as a short item prefix: "Sync job document" → `sync_job`,
/// "Elasticsearch mappings for `.elastic-connectors`" → `mappings.elastic_connectors`.
fn section_name(heading: &str) -> String {
    let stop = [
        "the",
        "document",
        "documents",
        "elasticsearch",
        "for",
        "of",
        "a",
        "an",
        "schema",
    ];
    let words: Vec<String> = heading
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_ascii_lowercase)
        .filter(|w| !stop.contains(&w.as_str()))
        .collect();
    match words.iter().position(|w| w == "mappings") {
        Some(at) => {
            let rest: Vec<&str> = words
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != at)
                .map(|(_, w)| w.as_str())
                .collect();
            if rest.is_empty() {
                "mappings".into()
            } else {
                format!("mappings.{}", rest.join("_"))
            }
        }
        None => words.join("_"),
    }
}

fn regexes() -> &'static [Regex; 4] {
    static CELL: OnceLock<[Regex; 4]> = OnceLock::new();
    CELL.get_or_init(|| {
        [
            // `name: type;   -> comment`, `[key]: {`, `name;` (type missing), `name: string:`
            Regex::new(r"^\s*(?P<name>\[?[A-Za-z_][A-Za-z0-9_]*\]?)\s*(?::\s*(?P<type>[^;,{}\[\]]*?(?:\[\])?))?\s*(?P<open>[{\[])?\s*[;:,]?\s*(?:->.*)?$").unwrap(),
            // `"name" : { "type" : "keyword" },`
            Regex::new(r#"^\s*"(?P<name>[^"]+)"\s*:\s*\{\s*"?type"?\s*:\s*["'](?P<type>[^"']+)["']\s*\}\s*,?\s*$"#).unwrap(),
            // `"name" : {` (a nested mapping object)
            Regex::new(r#"^\s*"(?P<name>[^"]+)"\s*"?\s*:\s*\{\s*$"#).unwrap(),
            // `"name" : value,` (a scalar mapping setting)
            Regex::new(r#"^\s*"(?P<name>[^"]+)"\s*:\s*(?P<value>"[^"]*"|[^,{}\s]+)\s*,?\s*$"#).unwrap(),
        ]
    })
}

/// Is a code block an example (a request to run) rather than a definition?
fn is_example(block: &[&str]) -> bool {
    block.iter().any(|line| {
        let line = line.trim_start();
        [
            "GET /", "POST /", "PUT /", "DELETE /", "PATCH /", "HEAD /", "curl ",
        ]
        .iter()
        .any(|p| line.starts_with(p))
    })
}

/// The default `enum_marker` of a pack's protocol documents: a line that opens an enum's list
/// of values and names it (group `name`), as in "**Possible values for 'status'**".
pub const ENUM_MARKER: &str =
    r"(?i)possible values for\s*[`'\x22](?P<name>[A-Za-z_][A-Za-z0-9_.]*)[`'\x22]";

/// The protocol items of a markdown document; `enum_heading` opens an enum's bullet list.
pub fn document_items(text: &str, enum_heading: &Regex) -> Items {
    let bullet = Regex::new(r"^\s*[-*]\s+`(?P<value>[^`]+)`").expect("static pattern");
    let mut items = Items::new();
    let mut section = String::from("doc");
    let mut fence: Option<(bool, Vec<&str>)> = None;
    let mut enum_name: Option<String> = None;
    let mut table: Option<Table> = None;

    for line in text.lines() {
        let trimmed = line.trim();
        if let Some(info) = trimmed
            .strip_prefix("```")
            .or_else(|| trimmed.strip_prefix("~~~"))
        {
            fence = match fence.take() {
                Some((is_schema, block)) => {
                    if is_schema && !is_example(&block) {
                        block_items(&block, &section, &mut items);
                    }
                    None
                }
                None => {
                    let info = info.trim().to_ascii_lowercase();
                    let is_schema = !matches!(
                        info.as_str(),
                        "mermaid" | "sh" | "shell" | "bash" | "console" | "text" | "http"
                    );
                    Some((is_schema, Vec::new()))
                }
            };
            enum_name = None;
            continue;
        }
        if let Some((_, block)) = &mut fence {
            block.push(line);
            continue;
        }
        if trimmed.starts_with('|') {
            let cells = table_cells(trimmed);
            match &mut table {
                None => table = Some(Table::new(cells)),
                Some(open) => open.row(&cells, &section, &mut items),
            }
            continue;
        }
        table = None;
        if trimmed.starts_with('#') {
            section = section_name(trimmed.trim_start_matches('#'));
            enum_name = None;
        } else if let Some(name) = enum_heading.captures(trimmed).and_then(|c| c.name("name")) {
            enum_name = Some(name.as_str().to_string());
        } else if let (Some(name), Some(caps)) = (&enum_name, bullet.captures(line)) {
            items.insert(
                format!("{section}.{name}[{}]", &caps["value"]),
                "enum value".into(),
            );
        }
    }
    items
}

/// A Markdown table: the first column names an item; the columns headed like a type or a set
/// of values give its value; other columns (descriptions) are prose.
struct Table {
    /// Indices of the columns that are part of the protocol.
    schema_columns: Vec<usize>,
    seen_rule: bool,
}

impl Table {
    fn new(header: Vec<String>) -> Table {
        let schema_columns = header
            .iter()
            .enumerate()
            .skip(1)
            .filter(|(_, title)| {
                let title = title.to_ascii_lowercase();
                ["type", "values", "value", "enum", "mapping", "required"]
                    .iter()
                    .any(|w| title.contains(w))
            })
            .map(|(index, _)| index)
            .collect();
        Table {
            schema_columns,
            seen_rule: false,
        }
    }

    fn row(&mut self, cells: &[String], section: &str, items: &mut Items) {
        if !self.seen_rule
            && cells
                .iter()
                .all(|c| c.chars().all(|ch| matches!(ch, '-' | ':' | ' ')))
        {
            self.seen_rule = true;
            return;
        }
        let Some(name) = cells.first().filter(|n| !n.is_empty()) else {
            return;
        };
        let value: Vec<&str> = self
            .schema_columns
            .iter()
            .filter_map(|i| cells.get(*i))
            .map(String::as_str)
            .collect();
        items.insert(
            format!("{section}.{name}"),
            if value.is_empty() {
                "listed".into()
            } else {
                value.join(" | ")
            },
        );
    }
}

/// `| a | `b` |` → ["a", "b"], code quotes and surrounding spaces removed.
fn table_cells(line: &str) -> Vec<String> {
    line.trim()
        .trim_start_matches('|')
        .trim_end_matches('|')
        .split('|')
        .map(|cell| cell.trim().trim_matches('`').trim().to_string())
        .collect()
}

/// Fields, mapping entries and settings of one schema block.
fn block_items(block: &[&str], section: &str, items: &mut Items) {
    let [field, mapping_leaf, mapping_open, mapping_scalar] = regexes();
    let mut scopes: Vec<String> = Vec::new();
    let path = |name: &str, scopes: &[String]| -> String {
        let mut key = section.to_string();
        for scope in scopes
            .iter()
            .filter(|s| !s.is_empty() && *s != "properties" && *s != "mappings")
        {
            key.push('.');
            key.push_str(scope);
        }
        key.push('.');
        key.push_str(name);
        key
    };
    for line in block {
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with("//") || trimmed.starts_with('#') {
            continue;
        }
        if trimmed.starts_with('}') || trimmed.starts_with(']') {
            scopes.pop();
            continue;
        }
        if trimmed == "{" || trimmed == "[" {
            scopes.push(String::new());
            continue;
        }
        if let Some(caps) = mapping_leaf.captures(line) {
            items.insert(path(&caps["name"], &scopes), caps["type"].to_string());
        } else if let Some(caps) = mapping_open.captures(line) {
            scopes.push(caps["name"].to_string());
        } else if let Some(caps) = mapping_scalar.captures(line) {
            items.insert(
                path(&caps["name"], &scopes),
                caps["value"].trim_matches('"').to_string(),
            );
        } else if let Some(caps) = field.captures(line) {
            let name = caps["name"].to_string();
            let kind = caps
                .name("type")
                .map_or("", |t| t.as_str())
                .trim()
                .to_string();
            match caps.name("open") {
                Some(open) => {
                    let kind = if open.as_str() == "[" {
                        "array"
                    } else {
                        "object"
                    };
                    items.insert(path(&name, &scopes), kind.into());
                    scopes.push(name);
                }
                None => {
                    items.insert(
                        path(&name, &scopes),
                        if kind.is_empty() { "any".into() } else { kind },
                    );
                }
            }
        }
    }
}

/// Values captured from code: `scope.name` → value without quotes.
pub fn code_items(text: &str, scope: Option<&Regex>, value: &Regex) -> Items {
    let mut items = Items::new();
    let mut current: Option<(String, usize)> = None;
    for line in text.lines() {
        let indent = line.len() - line.trim_start().len();
        if let Some(pattern) = scope {
            if let Some(scope) = pattern.captures(line).and_then(|c| c.name("scope")) {
                current = Some((scope.as_str().to_string(), indent));
                continue;
            }
            // A scope ends at the next line indented no deeper than its opening.
            if let Some((_, opening)) = &current {
                if !line.trim().is_empty() && indent <= *opening {
                    current = None;
                }
            }
            if current.is_none() {
                continue;
            }
        }
        let captured = value.captures(line).and_then(|caps| {
            let name = caps.name("name")?.as_str();
            Some((name, caps.name("value")?.as_str()))
        });
        if let Some((name, raw)) = captured {
            let raw = raw.trim();
            let unquoted = raw
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .or_else(|| raw.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')))
                .unwrap_or(raw);
            let key = match &current {
                Some((scope, _)) => format!("{scope}.{name}"),
                None => name.to_string(),
            };
            items.insert(key, unquoted.to_string());
        }
    }
    items
}

/// A stable fingerprint of a protocol model (its items, nothing else).
pub fn fingerprint(models: &BTreeMap<String, Items>) -> String {
    let mut canonical = String::new();
    for (anchor, items) in models {
        for (key, value) in items {
            canonical.push_str(anchor);
            canonical.push('\0');
            canonical.push_str(key);
            canonical.push('\0');
            canonical.push_str(value);
            canonical.push('\n');
        }
    }
    crate::ids::blob_hash(canonical.as_bytes()).to_string()
}

#[cfg(test)]
mod tests {
    fn marker() -> regex::Regex {
        regex::Regex::new(super::ENUM_MARKER).unwrap()
    }

    use super::*;

    const DOC: &str = r#"# Connector protocol

Some prose that recieves typos.

### Connector document

```
{
  api_key_id: string;   -> the key in use
  configuration: {
    [key]: {
      label: string;    -> shown in the UI
      value: any;
    }
  };
  status: string;       -> see below
  sync_now: boolean;
}
```

**Possible values for 'status'**
- `created` -> a new connector
- `connected` -> it works

#### Elasticsearch mappings for `.elastic-connectors`

```
"mappings": {
  "_meta": {
    "version": "1"
  },
  "properties": {
    "api_key_id": { "type": "keyword" },
    "sync_now": { "type": "boolean" }
  }
}
```

```mermaid
sequenceDiagram
  A->>B: hello
```
"#;

    #[test]
    fn reads_fields_enums_and_mappings() {
        let items = document_items(DOC, &marker());
        assert_eq!(
            items.get("connector.api_key_id").map(String::as_str),
            Some("string")
        );
        assert_eq!(
            items.get("connector.configuration").map(String::as_str),
            Some("object")
        );
        assert_eq!(
            items
                .get("connector.configuration.[key].label")
                .map(String::as_str),
            Some("string")
        );
        assert_eq!(
            items.get("connector.sync_now").map(String::as_str),
            Some("boolean")
        );
        assert!(items.contains_key("connector.status[created]"));
        assert_eq!(
            items
                .get("mappings.elastic_connectors.api_key_id")
                .map(String::as_str),
            Some("keyword")
        );
        assert_eq!(
            items
                .get("mappings.elastic_connectors._meta.version")
                .map(String::as_str),
            Some("1")
        );
        assert!(
            !items
                .keys()
                .any(|k| k.contains("hello") || k.contains("A->>B"))
        );
    }

    #[test]
    fn prose_comments_and_diagrams_are_not_the_protocol() {
        let edited = DOC
            .replace("recieves", "receives")
            .replace("-> the key in use", "-> the API key in use")
            .replace("A->>B: hello", "A->>B: hello\n  B->>A: bye");
        assert_eq!(
            document_items(DOC, &marker()),
            document_items(&edited, &marker())
        );
    }

    #[test]
    fn a_new_field_or_enum_value_is_a_schema_change() {
        let edited = DOC
            .replace(
                "  api_key_id: string;   -> the key in use\n",
                "  api_key_id: string;   -> the key in use\n  api_key_secret_id: string;\n",
            )
            .replace(
                "- `connected` -> it works\n",
                "- `connected` -> it works\n- `paused` -> on hold\n",
            );
        let changes = diff(
            &document_items(DOC, &marker()),
            &document_items(&edited, &marker()),
        );
        let described: Vec<String> = changes.iter().map(ItemChange::describe).collect();
        assert_eq!(
            described,
            vec![
                "+ connector.api_key_secret_id: string",
                "+ connector.status[paused]: enum value"
            ]
        );
    }

    #[test]
    fn tables_hold_fields_whose_descriptions_are_prose() {
        let doc = "### Sync job fields\n\n| Field | Type | Description |\n|---|---|---|\n| `status` | keyword | where the job is |\n| `worker` | keyword | who runs it |\n";
        let items = document_items(doc, &marker());
        assert_eq!(
            items.get("sync_job_fields.status").map(String::as_str),
            Some("keyword")
        );
        let reworded = doc.replace("where the job is", "the job's state");
        assert_eq!(document_items(&reworded, &marker()), items);
        let retyped = doc.replace("| `worker` | keyword |", "| `worker` | text |");
        assert_eq!(
            diff(&items, &document_items(&retyped, &marker()))[0].describe(),
            "~ sync_job_fields.worker: keyword → text"
        );
    }

    #[test]
    fn code_values_compare_without_quotes() {
        let scope = Regex::new(r"^class\s+(?P<scope>\w+)\(Enum\):").unwrap();
        let value =
            Regex::new(r"^\s+(?P<name>[A-Z][A-Z0-9_]*)\s*=\s*(?P<value>[^#]+?)\s*$").unwrap();
        let before = "class JobStatus(Enum):\n    PENDING = 'pending'\n    ERROR = 'error'\n\ndef f():\n    X = 1\n";
        let quoted = "class JobStatus(Enum):\n    PENDING = \"pending\"\n    ERROR = \"error\"\n\ndef f():\n    X = 1\n";
        let added = "class JobStatus(Enum):\n    PENDING = 'pending'\n    PAUSED = 'paused'\n    ERROR = 'error'\n";
        let items = code_items(before, Some(&scope), &value);
        assert_eq!(items.len(), 2, "{items:?}");
        assert_eq!(items, code_items(quoted, Some(&scope), &value));
        let changes = diff(&items, &code_items(added, Some(&scope), &value));
        assert_eq!(changes[0].describe(), "+ JobStatus.PAUSED: paused");
    }
}
