//! The conflicts of a merge, as git's merge-ort decided them: which paths, of which kind, and
//! for content conflicts the conflicting line ranges of both sides. Paths and kinds come from
//! git; line ranges from the conflict markers git wrote into the merged file, placed in the
//! stages git recorded.

use super::{diff3, markers};
use crate::facts::{BlobId, MergeMessage, MergeOutcome, Objects};
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq)]
pub struct RawConflict {
    pub path: String,
    pub kind: String,
    /// 0-based half-open ranges in the fork's (ours) and target's (theirs) versions.
    pub ours: Vec<std::ops::Range<usize>>,
    pub theirs: Vec<std::ops::Range<usize>>,
    pub message: String,
}

/// merge-ort's stable conflict types, in the words forkdrift reports.
pub fn kind_of(message_type: &str) -> String {
    let inner = message_type
        .strip_prefix("CONFLICT (")
        .and_then(|t| t.strip_suffix(')'))
        .unwrap_or(message_type);
    match inner {
        "contents" | "content" => "content".into(),
        "directory rename suggested" | "file location" => "file-location".into(),
        "rename involved in collision" => "rename-collision".into(),
        other => other.replace(' ', "-"),
    }
}

fn message_for<'m>(messages: &'m [MergeMessage], path: &str) -> Option<&'m MergeMessage> {
    messages
        .iter()
        .filter(|m| m.kind.starts_with("CONFLICT") && m.paths.iter().any(|p| p == path))
        // The most specific type wins: binary, then content, then rename notices.
        .min_by_key(|m| match () {
            _ if m.kind.contains("binary") => 0,
            _ if m.kind.contains("content") => 1,
            _ => 2,
        })
}

fn is_binary(bytes: &[u8]) -> bool {
    bytes.iter().take(8000).any(|&b| b == 0)
}

/// Conflicts of one merge (its stage contents read from `objects`).
pub fn conflicts(outcome: &MergeOutcome, objects: &dyn Objects) -> crate::Result<Vec<RawConflict>> {
    let read = |id: BlobId| objects.blob(id);
    let mut stages: BTreeMap<&str, [Option<BlobId>; 3]> = BTreeMap::new();
    for entry in &outcome.entries {
        let slot = stages.entry(entry.path.as_str()).or_default();
        if (1..=3).contains(&entry.stage) {
            slot[usize::from(entry.stage) - 1] = Some(entry.id);
        }
    }
    let labels = [outcome.labels[0].as_str(), outcome.labels[1].as_str()];
    let mut out = Vec::with_capacity(stages.len());
    for (path, [base, ours, theirs]) in stages {
        let message = message_for(&outcome.messages, path);
        let mut kind = message.map_or_else(|| "content".to_string(), |m| kind_of(&m.kind));
        // merge-ort files add/add under the stable type "contents"; the stages tell them apart.
        if kind == "content" && base.is_none() && ours.is_some() && theirs.is_some() {
            kind = "add/add".into();
        }
        let (mut ours_ranges, mut theirs_ranges) = (Vec::new(), Vec::new());
        if let (Some(ours), Some(theirs)) = (ours, theirs) {
            let base_bytes = match base {
                Some(id) => read(id)?,
                None => Vec::new(),
            };
            let (ours_bytes, theirs_bytes) = (read(ours)?, read(theirs)?);
            if ![&base_bytes, &ours_bytes, &theirs_bytes]
                .iter()
                .any(|b| is_binary(b))
            {
                let (b, o, t) = (
                    diff3::lines(&base_bytes),
                    diff3::lines(&ours_bytes),
                    diff3::lines(&theirs_bytes),
                );
                let merged = match objects.entry(outcome.tree, path)? {
                    Some(id) => read(id)?,
                    None => Vec::new(),
                };
                if let Some((ours, theirs)) =
                    markers::conflict_ranges(&diff3::lines(&merged), labels, &o, &t)
                {
                    (ours_ranges, theirs_ranges) = (ours, theirs);
                } else if let diff3::Merged::Conflicts(regions) = diff3::merge(&b, &o, &t) {
                    // No markers git's way (a union or custom merge driver, a binary
                    // attribute): a three-way merge of our own places the regions.
                    for region in regions {
                        ours_ranges.push(region.ours);
                        theirs_ranges.push(region.theirs);
                    }
                }
            }
        }
        out.push(RawConflict {
            path: path.to_string(),
            kind,
            ours: ours_ranges,
            theirs: theirs_ranges,
            message: message
                .map(|m| m.text.trim().to_string())
                .unwrap_or_default(),
        });
    }
    Ok(out)
}

/// `[first, last]`, 1-based and inclusive; an empty range `[n+1, n]` sits between lines n and n+1.
pub fn one_based(range: &std::ops::Range<usize>) -> [u64; 2] {
    [range.start as u64 + 1, range.end as u64]
}

#[cfg(test)]
mod tests {
    #[test]
    fn conflict_types_read_as_short_kinds() {
        assert_eq!(super::kind_of("CONFLICT (contents)"), "content");
        assert_eq!(super::kind_of("CONFLICT (modify/delete)"), "modify/delete");
        assert_eq!(
            super::kind_of("CONFLICT (directory rename suggested)"),
            "file-location"
        );
        assert_eq!(
            super::kind_of("CONFLICT (distinct types)"),
            "distinct-types"
        );
    }
}
