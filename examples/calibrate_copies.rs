//! Calibrates copy detection on a real upstream (docs/copy-detection.md):
//!
//!     cargo run --release --example calibrate_copies -- /path/to/connectors v8.10.0.0 v9.2.0 main
//!
//! For each revision: every upstream connector scored against all the others (two distinct
//! connectors should not pass for copies), and synthetic copies of each connector — renamed
//! to `acme` everywhere, with 10/15/20/30/40 % of their remaining lines edited — scored
//! against the whole corpus (a copy should, and should name its true source).
#![allow(clippy::print_stdout)]

use forkdrift::analysis::classify::{UnitIndex, parse_registrations};
use forkdrift::analysis::copies::{CopyIndex, UnitText, dominant_name};
use forkdrift::analysis::similarity::COPY_THRESHOLD;
use forkdrift::facts::Objects;
use forkdrift::repo::Repo;
use forkdrift::rules::Pack;
use std::collections::BTreeMap;

fn units(repo: &Repo, pack: &Pack, rev: &str) -> Vec<UnitText> {
    let tree = repo.tree_of(repo.resolve_commit(rev).unwrap()).unwrap();
    let files = repo.files(tree).unwrap();
    let mut registrations = Vec::new();
    let mut has = Vec::new();
    for (family, spec) in pack.families.iter().enumerate() {
        let text = spec
            .registration
            .as_ref()
            .and_then(|r| repo.read(tree, &r.path).unwrap());
        has.push(text.is_some());
        if let Some(text) = text {
            registrations.extend(parse_registrations(
                pack,
                family,
                &String::from_utf8_lossy(&text),
            ));
        }
    }
    let keys = || files.keys().map(String::as_str);
    let index = UnitIndex::new(
        pack,
        [registrations, Vec::new(), Vec::new()],
        has,
        keys(),
        keys(),
    );
    let mut grouped: BTreeMap<(usize, String), Vec<String>> = BTreeMap::new();
    for path in files.keys().filter(|p| p.ends_with(".py")) {
        if let Some((family, unit)) = index.unit_of(pack, path) {
            if !index.is_helper(family, &unit) {
                grouped
                    .entry((family, unit))
                    .or_default()
                    .push(path.clone());
            }
        }
    }
    grouped
        .into_iter()
        .map(|((family, unit), paths)| {
            let files: Vec<(String, Vec<u8>)> = paths
                .iter()
                .map(|p| (p.clone(), repo.blob(files[p]).unwrap()))
                .collect();
            let mut names = vec![unit.clone()];
            if let Some(pattern) = &pack.families[family].class_name {
                names.extend(dominant_name(pattern, &files));
            }
            UnitText { unit, files, names }
        })
        .collect()
}

/// A copy renamed to `acme`, with every n-th remaining content line edited.
fn synthetic(unit: &UnitText, edit_share: f64) -> UnitText {
    let pattern = forkdrift::analysis::similarity::name_pattern(
        &unit.names.iter().map(String::as_str).collect::<Vec<_>>(),
    )
    .unwrap();
    let files = unit
        .files
        .iter()
        .map(|(path, bytes)| {
            let renamed = pattern
                .replace_all(&String::from_utf8_lossy(bytes), "Acme")
                .into_owned();
            let mut counter = 0.0;
            let edited: Vec<String> = renamed
                .lines()
                .map(|line| {
                    if line.trim().len() < 4 {
                        return line.to_string();
                    }
                    counter += edit_share;
                    if counter >= 1.0 {
                        counter -= 1.0;
                        format!("{line}  # acme")
                    } else {
                        line.to_string()
                    }
                })
                .collect();
            (
                path.replace(&unit.unit, "acme"),
                edited.join("\n").into_bytes(),
            )
        })
        .collect();
    UnitText {
        unit: "acme".into(),
        files,
        names: vec!["acme".into(), "Acme".into()],
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let repo = Repo::open(std::path::Path::new(&args[1])).unwrap();
    let pack = Pack::builtin("elastic-connectors").unwrap();
    for rev in &args[2..] {
        let corpus = units(&repo, &pack, rev);
        let index = CopyIndex::new(&corpus);
        let started = std::time::Instant::now();
        let mut pairs: Vec<(f64, String, String)> = Vec::new();
        for (position, unit) in corpus.iter().enumerate() {
            // Against all the others, ignoring the threshold: the closest distinct unit.
            let scored = index.scores(unit, Some(position));
            if let Some((other, score)) = scored.first() {
                pairs.push((*score, unit.unit.clone(), corpus[*other].unit.clone()));
            }
            // With the whole corpus but itself as sources, no upstream unit may pass for a copy.
            assert!(
                index.find(unit, Some(position)).is_none(),
                "{} passes for a copy",
                unit.unit
            );
        }
        pairs.sort_by(|a, b| b.0.total_cmp(&a.0));
        println!(
            "{rev}: {} connectors, scored in {:?}",
            corpus.len(),
            started.elapsed()
        );
        for (score, a, b) in pairs.iter().take(6) {
            let bar = corpus
                .iter()
                .position(|u| &u.unit == b)
                .map_or(COPY_THRESHOLD, |i| index.bar(i));
            let flag = if *score >= COPY_THRESHOLD {
                format!("  (over 0.45: the bar for copies of {b} is {bar:.2})")
            } else {
                String::new()
            };
            println!("  closest distinct  {a:<20} {b:<20} {score:.2}{flag}");
        }
        for share in [0.10, 0.15, 0.20, 0.30, 0.40] {
            let mut lowest = f64::MAX;
            let mut wrong = 0;
            let mut missed = Vec::new();
            for (position, unit) in corpus.iter().enumerate() {
                let copy = synthetic(unit, share);
                match index.scores(&copy, None).first() {
                    Some((best, score)) if *best == position => lowest = lowest.min(*score),
                    Some(_) => wrong += 1,
                    None => lowest = 0.0,
                }
                match index.find(&copy, None) {
                    Some(found) if found.source == position => {}
                    _ => missed.push(unit.unit.clone()),
                }
            }
            println!(
                "  copies with {:>2.0} % edited: true source ranked first in {}/{}, lowest score {lowest:.2}; found as copies {}/{}{}",
                share * 100.0,
                corpus.len() - wrong,
                corpus.len(),
                corpus.len() - missed.len(),
                corpus.len(),
                if missed.is_empty() {
                    String::new()
                } else {
                    format!(" (missed: {})", missed.join(", "))
                }
            );
        }
    }
}
