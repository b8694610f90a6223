//! Three-way line merge in git's manner: changes of both sides that overlap or touch in the
//! base conflict unless they are identical. Used to report conflicting line ranges on both
//! sides of a merge whose conflicting paths git itself decided, and by the fixture builder.

use similar::{Algorithm, DiffOp, capture_diff_slices};
use std::ops::Range;

/// One conflicting region: 0-based half-open line ranges in each version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConflictRegion {
    pub base: Range<usize>,
    pub ours: Range<usize>,
    pub theirs: Range<usize>,
}

pub enum Merged<'a> {
    Clean(Vec<&'a [u8]>),
    Conflicts(Vec<ConflictRegion>),
}

/// A change of one side: base lines `base` became side lines `side`.
#[derive(Debug, Clone)]
struct Change {
    base: Range<usize>,
    side: Range<usize>,
}

pub fn lines(bytes: &[u8]) -> Vec<&[u8]> {
    bytes.split_inclusive(|&b| b == b'\n').collect()
}

fn changes(base: &[&[u8]], side: &[&[u8]]) -> Vec<Change> {
    let mut out: Vec<Change> = Vec::new();
    for op in capture_diff_slices(Algorithm::Myers, base, side) {
        let (base_range, side_range) = match op {
            DiffOp::Equal { .. } => continue,
            DiffOp::Delete {
                old_index,
                old_len,
                new_index,
            } => (old_index..old_index + old_len, new_index..new_index),
            DiffOp::Insert {
                old_index,
                new_index,
                new_len,
            } => (old_index..old_index, new_index..new_index + new_len),
            DiffOp::Replace {
                old_index,
                old_len,
                new_index,
                new_len,
            } => (
                old_index..old_index + old_len,
                new_index..new_index + new_len,
            ),
        };
        // similar may split one replacement into a delete and an adjacent insert.
        match out.last_mut() {
            Some(last)
                if last.base.end == base_range.start && last.side.end == side_range.start =>
            {
                last.base.end = base_range.end;
                last.side.end = side_range.end;
            }
            _ => out.push(Change {
                base: base_range,
                side: side_range,
            }),
        }
    }
    out
}

/// Where base line `at` lands on a side, given that side's changes before it.
fn shift(changes: &[Change], at: usize) -> usize {
    let mut offset: isize = 0;
    for change in changes {
        if change.base.end <= at && change.base.start < at || change.base.end < at {
            offset += change.side.len() as isize - change.base.len() as isize;
        }
    }
    (at as isize + offset) as usize
}

/// The side's lines standing for base lines `range`, given the side's changes inside it.
fn side_range(all: &[Change], inside: &[Change], range: &Range<usize>) -> Range<usize> {
    let before: Vec<Change> = all
        .iter()
        .filter(|c| {
            c.base.end <= range.start && !(c.base.is_empty() && c.base.start == range.start)
        })
        .cloned()
        .collect();
    let start = shift(&before, range.start);
    let grown: isize = inside
        .iter()
        .map(|c| c.side.len() as isize - c.base.len() as isize)
        .sum();
    start..(start as isize + range.len() as isize + grown) as usize
}

pub fn merge<'a>(base: &[&'a [u8]], ours: &[&'a [u8]], theirs: &[&'a [u8]]) -> Merged<'a> {
    let ours_changes = changes(base, ours);
    let theirs_changes = changes(base, theirs);

    // Walk both change lists in base order, grouping changes that overlap or touch.
    let mut tagged: Vec<(bool, &Change)> = ours_changes
        .iter()
        .map(|c| (true, c))
        .chain(theirs_changes.iter().map(|c| (false, c)))
        .collect();
    tagged.sort_by_key(|(is_ours, c)| (c.base.start, c.base.end, !is_ours));

    let mut output: Vec<&'a [u8]> = Vec::new();
    let mut conflicts = Vec::new();
    let mut base_cursor = 0;
    let mut index = 0;
    while index < tagged.len() {
        let mut group_range = tagged[index].1.base.clone();
        let mut group_end = index + 1;
        while group_end < tagged.len() && tagged[group_end].1.base.start <= group_range.end {
            group_range.end = group_range.end.max(tagged[group_end].1.base.end);
            group_end += 1;
        }
        let group = &tagged[index..group_end];
        index = group_end;

        output.extend_from_slice(&base[base_cursor..group_range.start]);
        base_cursor = group_range.end;

        let inside = |want_ours: bool| -> Vec<Change> {
            group
                .iter()
                .filter(|(is_ours, _)| *is_ours == want_ours)
                .map(|(_, c)| (*c).clone())
                .collect()
        };
        let ours_inside = inside(true);
        let theirs_inside = inside(false);
        let ours_range = if ours_inside.is_empty() {
            None
        } else {
            Some(side_range(&ours_changes, &ours_inside, &group_range))
        };
        let theirs_range = if theirs_inside.is_empty() {
            None
        } else {
            Some(side_range(&theirs_changes, &theirs_inside, &group_range))
        };
        match (ours_range, theirs_range) {
            (Some(o), None) => output.extend_from_slice(&ours[o]),
            (None, Some(t)) => output.extend_from_slice(&theirs[t]),
            (Some(o), Some(t)) if ours[o.clone()] == theirs[t.clone()] => {
                output.extend_from_slice(&ours[o]);
            }
            (Some(o), Some(t)) => conflicts.push(trim_common(group_range, o, t, ours, theirs)),
            (None, None) => unreachable!("a group holds at least one change"),
        }
    }
    output.extend_from_slice(&base[base_cursor.min(base.len())..]);

    if conflicts.is_empty() {
        Merged::Clean(output)
    } else {
        Merged::Conflicts(conflicts)
    }
}

/// Lines both sides agree on at the edges of a conflict are not part of it (git's "zealous" level).
fn trim_common(
    base: Range<usize>,
    mut ours_range: Range<usize>,
    mut theirs_range: Range<usize>,
    ours: &[&[u8]],
    theirs: &[&[u8]],
) -> ConflictRegion {
    while !ours_range.is_empty()
        && !theirs_range.is_empty()
        && ours[ours_range.start] == theirs[theirs_range.start]
    {
        ours_range.start += 1;
        theirs_range.start += 1;
    }
    while !ours_range.is_empty()
        && !theirs_range.is_empty()
        && ours[ours_range.end - 1] == theirs[theirs_range.end - 1]
    {
        ours_range.end -= 1;
        theirs_range.end -= 1;
    }
    ConflictRegion {
        base,
        ours: ours_range,
        theirs: theirs_range,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(base: &str, ours: &str, theirs: &str) -> Result<String, Vec<ConflictRegion>> {
        let (b, o, t) = (
            lines(base.as_bytes()),
            lines(ours.as_bytes()),
            lines(theirs.as_bytes()),
        );
        match merge(&b, &o, &t) {
            Merged::Clean(out) => Ok(String::from_utf8(out.concat()).unwrap()),
            Merged::Conflicts(c) => Err(c),
        }
    }

    #[test]
    fn separate_changes_merge_cleanly() {
        let base = "a\nb\nc\nd\ne\n";
        assert_eq!(
            run(base, "A\nb\nc\nd\ne\n", "a\nb\nc\nd\nE\n").unwrap(),
            "A\nb\nc\nd\nE\n"
        );
        assert_eq!(
            run(base, "a\nb\nx\nc\nd\ne\n", "a\nb\nc\nd\ne\nend\n").unwrap(),
            "a\nb\nx\nc\nd\ne\nend\n"
        );
    }

    #[test]
    fn identical_changes_merge_cleanly() {
        assert_eq!(
            run("a\nb\nc\n", "a\nB\nc\n", "a\nB\nc\n").unwrap(),
            "a\nB\nc\n"
        );
    }

    #[test]
    fn overlapping_changes_conflict_with_ranges_on_both_sides() {
        let conflicts = run(
            "a\nb\nc\nd\n",
            "a\nb\nours1\nours2\nd\n",
            "a\nb\ntheirs\nd\n",
        )
        .unwrap_err();
        assert_eq!(
            conflicts,
            vec![ConflictRegion {
                base: 2..3,
                ours: 2..4,
                theirs: 2..3
            }]
        );
    }

    #[test]
    fn changes_to_adjacent_lines_conflict_as_in_git() {
        let conflicts = run("a\nb\nc\nd\n", "a\nB\nc\nd\n", "a\nb\nC\nd\n").unwrap_err();
        assert_eq!(conflicts.len(), 1);
        assert_eq!(conflicts[0].ours, 1..3);
        assert_eq!(conflicts[0].theirs, 1..3);
    }

    #[test]
    fn insertions_at_the_same_place_conflict() {
        let conflicts = run("a\nz\n", "a\nmine\nz\n", "a\nyours\nz\n").unwrap_err();
        assert_eq!(conflicts[0].ours, 1..2);
        assert_eq!(conflicts[0].theirs, 1..2);
    }

    #[test]
    fn line_numbers_account_for_earlier_changes() {
        // `git merge-file` reports the same two conflicts: an insertion next to a deletion
        // at the top, and the replaced line further down.
        let base = "1\n2\n3\n4\n5\n6\n7\n8\n";
        let ours = "0\n1\n2\n3\n4\n5\nO\n7\n8\n";
        let theirs = "2\n3\n4\n5\nT\n7\n8\n";
        let conflicts = run(base, ours, theirs).unwrap_err();
        assert_eq!(
            conflicts,
            vec![
                ConflictRegion {
                    base: 0..1,
                    ours: 0..2,
                    theirs: 0..0
                },
                ConflictRegion {
                    base: 5..6,
                    ours: 6..7,
                    theirs: 4..5
                },
            ]
        );
    }
}
