//! git's conflicting regions, read from the markers merge-ort wrote into the merged file.
//!
//! A three-way merge of our own finds other regions than xdiff's in places (op-geth's
//! `internal/ethapi/api.go`: git marks one region where a plain diff3 finds none; top-gg's
//! `tests/test_sink.py`: seven against one), and the regions are what blame attributes. The
//! markers say what each side holds in each region; where that lies in each side's file is
//! found by lining the file up with the merged file read on that side.

use similar::{Algorithm, DiffOp, capture_diff_slices};
use std::ops::Range;

/// Line ranges of one side, 0-based and half-open, one per region.
pub type Ranges = Vec<Range<usize>>;

/// One marked region: the lines of each side in the merged file.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Region {
    ours: Range<usize>,
    theirs: Range<usize>,
}

/// A line without its end: git ends a side's last line in a region even when the file did not.
fn key(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// Whether `line` is a marker of `size` characters `c`, followed by `label` (or by
/// `label:path`) when one is given, else alone or followed by anything.
fn is_marker(line: &[u8], c: u8, size: usize, label: Option<&str>) -> bool {
    let line = key(line);
    if line.len() < size || !line[..size].iter().all(|&b| b == c) {
        return false;
    }
    let rest = &line[size..];
    match label {
        Some(label) => rest
            .strip_prefix(b" ")
            .and_then(|rest| rest.strip_prefix(label.as_bytes()))
            .is_some_and(|rest| rest.is_empty() || rest[0] == b':'),
        None => rest.is_empty() || rest[0] == b' ',
    }
}

/// The regions of `merged` marked with `labels`, None when its markers do not read as git's.
fn regions(merged: &[&[u8]], [ours, theirs]: [&str; 2]) -> Option<Vec<Region>> {
    // The marker size is the first opening marker's: a `conflict-marker-size` attribute sets
    // it, below git's 7 too (markers of other sizes are a virtual merge base's, inside the
    // text). A run of `<` is a marker only with the fork's label after it.
    let size = merged.iter().find_map(|line| {
        let run = line.iter().take_while(|&&b| b == b'<').count();
        (run >= 1 && is_marker(line, b'<', run, Some(ours))).then_some(run)
    })?;
    let mut out = Vec::new();
    let mut at = 0;
    while at < merged.len() {
        if !is_marker(merged[at], b'<', size, Some(ours)) {
            at += 1;
            continue;
        }
        let ours_start = at + 1;
        let find = |from: usize, c: u8, label: Option<&str>| {
            (from..merged.len()).find(|&i| is_marker(merged[i], c, size, label))
        };
        let end = find(ours_start, b'>', Some(theirs))?;
        // The separator nearest the end: ours may hold a marker-like line of its own.
        let separator = (ours_start..end).rev().find(|&i| {
            let line = key(merged[i]);
            line.len() == size && line.iter().all(|&b| b == b'=')
        })?;
        // diff3 and zdiff3 styles put the base between ours and the separator.
        let ours_end = find(ours_start, b'|', None)
            .filter(|&b| b < separator)
            .unwrap_or(separator);
        out.push(Region {
            ours: ours_start..ours_end,
            theirs: separator + 1..end,
        });
        at = end + 1;
    }
    Some(out)
}

/// Where each region's lines of one side (`part`) lie in that side's file `side`: the merged
/// file read with that side's lines in every region lines up with the file, and each
/// region's lines are a piece of it, in order.
fn placed(
    merged: &[&[u8]],
    regions: &[Region],
    part: impl Fn(&Region) -> Range<usize>,
    side: &[&[u8]],
) -> Option<Ranges> {
    let mut read: Vec<&[u8]> = Vec::with_capacity(merged.len());
    let mut spans = Vec::with_capacity(regions.len());
    let mut at = 0;
    for region in regions {
        // The lines between regions, without the opening marker.
        read.extend(merged[at..region.ours.start - 1].iter().map(|l| key(l)));
        let lines = part(region);
        let start = read.len();
        read.extend(merged[lines.clone()].iter().map(|l| key(l)));
        spans.push(start..read.len());
        at = region.theirs.end + 1;
    }
    read.extend(merged[at..].iter().map(|l| key(l)));
    let side: Vec<&[u8]> = side.iter().map(|l| key(l)).collect();
    let mut in_side: Vec<Option<usize>> = vec![None; read.len()];
    for op in capture_diff_slices(Algorithm::Myers, &side, &read) {
        if let DiffOp::Equal {
            old_index,
            new_index,
            len,
        } = op
        {
            for k in 0..len {
                in_side[new_index + k] = Some(old_index + k);
            }
        }
    }
    let mut floor = 0;
    let mut out = Vec::with_capacity(spans.len());
    for span in spans {
        // Where the lines before the region say it starts.
        let expected = (0..span.start)
            .rev()
            .find_map(|at| in_side[at].map(|line| line + (span.start - at)))
            .unwrap_or(span.start)
            .clamp(floor, side.len());
        let placed = if span.is_empty() {
            expected..expected
        } else {
            let first = in_side[span.start].filter(|&first| {
                first >= floor
                    && span
                        .clone()
                        .enumerate()
                        .all(|(k, at)| in_side[at] == Some(first + k))
            });
            // Repetitive text (a test's fixture output) can line up elsewhere: the region's
            // lines are still the side's own, in one piece, nearest where they belong.
            let first = first.or_else(|| {
                (floor..=side.len().saturating_sub(span.len()))
                    .filter(|&p| side[p..p + span.len()] == read[span.clone()])
                    .min_by_key(|&p| p.abs_diff(expected))
            })?;
            first..first + span.len()
        };
        floor = placed.end;
        out.push(placed);
    }
    Some(out)
}

/// The conflicting line ranges of ours and theirs (0-based, half-open) as git marked them in
/// `merged`; None when the file holds no markers git's way.
pub fn conflict_ranges(
    merged: &[&[u8]],
    labels: [&str; 2],
    ours: &[&[u8]],
    theirs: &[&[u8]],
) -> Option<(Ranges, Ranges)> {
    let regions = regions(merged, labels)?;
    let ours = placed(merged, &regions, |r| r.ours.clone(), ours)?;
    let theirs = placed(merged, &regions, |r| r.theirs.clone(), theirs)?;
    Some((ours, theirs))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::diff3::lines;

    fn one(range: Range<usize>) -> Ranges {
        std::iter::once(range).collect()
    }

    fn ranges(merged: &str, ours: &str, theirs: &str) -> Option<(Ranges, Ranges)> {
        conflict_ranges(
            &lines(merged.as_bytes()),
            ["ours", "theirs"],
            &lines(ours.as_bytes()),
            &lines(theirs.as_bytes()),
        )
    }

    #[test]
    fn each_region_is_placed_in_both_sides_files() {
        let ours = "a\nb\nmine\nd\ne\nf\nmine too\nh\n";
        let theirs = "a\nb\ntheirs\nd\nnew e\nf\ntheirs too\nh\n";
        let merged = "a\nb\n<<<<<<< ours\nmine\n=======\ntheirs\n>>>>>>> theirs\nd\nnew e\nf\n\
                      <<<<<<< ours\nmine too\n=======\ntheirs too\n>>>>>>> theirs\nh\n";
        assert_eq!(
            ranges(merged, ours, theirs),
            Some((vec![2..3, 6..7], vec![2..3, 6..7]))
        );
    }

    #[test]
    fn the_base_of_a_diff3_style_region_belongs_to_neither_side() {
        let merged = "a\n<<<<<<< ours\nx\ny\n||||||| base\nb\n=======\n>>>>>>> theirs\nc\n";
        assert_eq!(
            ranges(merged, "a\nx\ny\nc\n", "a\nc\n"),
            Some((one(1..3), one(1..1)))
        );
    }

    #[test]
    fn a_last_line_without_a_newline_still_lines_up() {
        let merged = "a\n<<<<<<< ours\nx\n=======\ny\n>>>>>>> theirs\n";
        assert_eq!(ranges(merged, "a\nx", "a\ny"), Some((one(1..2), one(1..2))));
    }

    #[test]
    fn a_longer_marker_size_is_read_from_the_first_marker() {
        let merged = "<<<<<<<<< ours\n=======\n=========\nt\n>>>>>>>>> theirs\n";
        assert_eq!(
            ranges(merged, "=======\n", "t\n"),
            Some((one(0..1), one(0..1)))
        );
    }

    #[test]
    fn a_shorter_marker_size_is_read_too() {
        let merged = "a\n<<< ours\nx\n===\ny\n>>> theirs\nc\n";
        assert_eq!(
            ranges(merged, "a\nx\nc\n", "a\ny\nc\n"),
            Some((one(1..2), one(1..2)))
        );
    }

    #[test]
    fn a_marker_the_file_quotes_is_not_gits() {
        let ours = "<<<<<<< HEAD\nquoted\nmine\n";
        let theirs = "<<<<<<< HEAD\nquoted\ntheirs\n";
        let merged = "<<<<<<< HEAD\nquoted\n<<<<<<< ours\nmine\n=======\ntheirs\n>>>>>>> theirs\n";
        assert_eq!(ranges(merged, ours, theirs), Some((one(2..3), one(2..3))));
    }

    #[test]
    fn markers_that_do_not_close_are_not_read() {
        assert_eq!(ranges("<<<<<<< ours\nx\n=======\ny\n", "x\n", "y\n"), None);
        assert_eq!(ranges("plain\n", "plain\n", "plain\n"), None);
    }
}
