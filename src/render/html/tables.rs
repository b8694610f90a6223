//! The tables of the page: connectors, framework files, conflicts and PR candidates.

use super::*;

pub(super) struct ConnectorRow<'a> {
    unit: String,
    class: ChangeClass,
    changes: Vec<&'a Change>,
}

pub(super) fn connectors(page: &mut String, context: &Context) {
    let report = context.report;
    page.push_str(r#"<section id="connectors"><h2>Connectors</h2>"#);
    let mut rows: BTreeMap<(String, ChangeClass), ConnectorRow> = BTreeMap::new();
    for change in report.changes.iter().filter(|c| divergent(c)) {
        if !matches!(
            change.class,
            ChangeClass::ConnectorAdded
                | ChangeClass::ConnectorModified
                | ChangeClass::ConnectorDeleted
        ) {
            continue;
        }
        let unit = change.unit.clone().unwrap_or_else(|| change.path.clone());
        rows.entry((unit.clone(), change.class))
            .or_insert_with(|| ConnectorRow {
                unit,
                class: change.class,
                changes: Vec::new(),
            })
            .changes
            .push(change);
    }
    if rows.is_empty() {
        empty(page, "The fork adds and edits no connector.");
        page.push_str("</section>\n");
        return;
    }
    let risk_of = |row: &ConnectorRow| {
        row.changes
            .iter()
            .filter_map(|c| c.risk.as_ref().map(|r| r.score))
            .max()
            .unwrap_or(0)
    };
    let mut rows: Vec<ConnectorRow> = rows.into_values().collect();
    rows.sort_by(|a, b| {
        risk_of(b)
            .cmp(&risk_of(a))
            .then(a.class.cmp(&b.class))
            .then(a.unit.cmp(&b.unit))
    });
    table_start(
        page,
        "Connectors the fork added or edited in place, riskiest first.",
        &[
            ("connector", false),
            ("how", false),
            ("copied from", false),
            ("fixes missing", true),
            ("tests", false),
            ("files", true),
            ("lines", true),
            ("conflicts", true),
            ("risk", true),
        ],
    );
    for row in &rows {
        let how = match row.class {
            ChangeClass::ConnectorAdded => tag("", "added"),
            ChangeClass::ConnectorModified => tag("warn", "edited in place"),
            _ => tag("warn", "removed"),
        };
        let copied = row.changes.iter().find_map(|c| c.copied_from.as_ref());
        let copied_cell = match copied {
            Some(from) => format!(
                r#"<code>{}</code><br><span class="muted"><code>{}</code>, similarity {:.2}</span>"#,
                e(&from.unit),
                path(&from.path),
                from.similarity
            ),
            None if row.class == ChangeClass::ConnectorAdded => {
                r#"<span class="muted">written from scratch</span>"#.into()
            }
            None => r#"<span class="muted">—</span>"#.into(),
        };
        let stale = report.stale_copies.iter().find(|s| s.unit == row.unit);
        let (stale_sort, stale_cell) = match stale {
            Some(s) => {
                let mut cell = if s.missing.is_empty() {
                    tag("good", "up to date")
                } else {
                    let items: String = s
                        .missing
                        .iter()
                        .map(|c| {
                            format!(
                                "<li><code>{}</code> {}</li>",
                                e(short(&c.commit)),
                                e(&c.subject)
                            )
                        })
                        .collect();
                    format!(
                        r#"<details><summary>{} from <code>{}</code></summary><ul class="plain">{items}</ul></details>"#,
                        s.missing.len(),
                        e(&s.source_unit)
                    )
                };
                if !s.broken_imports.is_empty() {
                    let imports: Vec<String> = s
                        .broken_imports
                        .iter()
                        .map(|i| format!("<code>{}</code>", e(i)))
                        .collect();
                    let _ = write!(
                        cell,
                        r#"<br>{} {}"#,
                        tag("bad", "imports gone at the target"),
                        imports.join(", ")
                    );
                }
                (s.missing.len(), cell)
            }
            None => (0, r#"<span class="muted">—</span>"#.to_string()),
        };
        let tests: Vec<&Change> = report
            .changes
            .iter()
            .filter(|c| {
                c.class == ChangeClass::Test && c.unit.as_deref() == Some(row.unit.as_str())
            })
            .collect();
        let copied_tests = tests.iter().filter(|c| c.copied_from.is_some()).count();
        let tests_cell = match (tests.len(), copied_tests, row.class) {
            (0, _, ChangeClass::ConnectorAdded) if copied.is_some() => tag("bad", "not copied"),
            (0, _, ChangeClass::ConnectorAdded) => tag("warn", "none"),
            (0, _, _) => r#"<span class="muted">unchanged</span>"#.into(),
            (n, 0, _) => tag(
                "good",
                &format!("{n} file{}", if n == 1 { "" } else { "s" }),
            ),
            (n, k, _) => tag("good", &format!("{k} of {n} copied")),
        };
        let (added, deleted) = row
            .changes
            .iter()
            .fold((0, 0), |(a, d), c| (a + c.lines_added, d + c.lines_deleted));
        let conflicts = row
            .changes
            .iter()
            .filter(|c| is_conflicting(report, c).is_some())
            .count();
        let risk = risk_of(row);
        let files: String = row
            .changes
            .iter()
            .map(|c| format!("<li><code>{}</code></li>", path(&c.path)))
            .collect();
        let _ = write!(
            page,
            r#"<tr><td data-sort="{unit}"><details><summary><code>{unit}</code></summary><ul class="plain">{files}</ul></details></td><td>{how}</td><td class="path">{copied_cell}</td><td data-sort="{stale_sort}">{stale_cell}</td><td>{tests_cell}</td><td class="num">{}</td><td class="num" data-sort="{}">{}</td><td class="num">{conflicts}</td><td class="num" data-sort="{risk}">{}</td></tr>"#,
            row.changes.len(),
            added + deleted,
            lines(added, deleted),
            tag(risk_class(risk), &risk.to_string()),
            unit = e(&row.unit),
        );
    }
    table_end(page);
    if !report.in_place_edits.is_empty() {
        page.push_str(
            "<h3>Instead of editing upstream connectors in place</h3><ul class=\"plain\">",
        );
        for edit in &report.in_place_edits {
            let _ = write!(
                page,
                "<li>copy <code>{}</code> to <code>{}</code>",
                e(&edit.unit),
                e(&edit.suggested_unit)
            );
            page.push_str(r#"<ul class="plain">"#);
            for [from, to] in edit.files.iter().chain(&edit.tests) {
                let _ = write!(
                    page,
                    "<li><code>{}</code> → <code>{}</code></li>",
                    path(from),
                    path(to)
                );
            }
            if let Some(line) = &edit.registration {
                let _ = write!(page, "<li>register: <code>{}</code></li>", e(line.trim()));
            }
            if !edit.at_target.is_empty() {
                page.push_str(
                    r#"<li>upstream moved it; after the upgrade the copy belongs at:<ul class="plain">"#,
                );
                for [from, to] in &edit.at_target {
                    let _ = write!(
                        page,
                        "<li><code>{}</code> → <code>{}</code></li>",
                        path(from),
                        path(to)
                    );
                }
                page.push_str("</ul></li>");
            }
            page.push_str("</ul></li>");
        }
        page.push_str("</ul>");
    }
    page.push_str("</section>\n");
}

pub(super) fn framework(page: &mut String, context: &Context) {
    let report = context.report;
    page.push_str(r#"<section id="framework"><h2>Framework files</h2>"#);
    let mut rows: Vec<&Change> = report
        .changes
        .iter()
        .filter(|c| divergent(c) && c.class == ChangeClass::Framework)
        .collect();
    if rows.is_empty() {
        empty(page, "The fork leaves the framework alone.");
        page.push_str("</section>\n");
        return;
    }
    let score = |c: &Change| c.risk.as_ref().map_or(0, |r| r.score);
    rows.sort_by(|a, b| score(b).cmp(&score(a)).then(a.path.cmp(&b.path)));
    table_start(
        page,
        "Framework files the fork changed, riskiest first.",
        &[
            ("path", false),
            ("lines", true),
            ("risk", true),
            ("upstream churn", true),
            ("conflict", false),
            ("own commits", false),
        ],
    );
    for change in rows {
        let mut cell = format!("<code>{}</code>", path(&change.path));
        if let Some(target) = change.target_path.as_deref().filter(|t| *t != change.path) {
            let _ = write!(
                cell,
                r#"<br><span class="muted">at the target: <code>{}</code></span>"#,
                path(target)
            );
        }
        if change.orphaned {
            let _ = write!(cell, " {}", tag("bad", "orphaned"));
        }
        let risk = score(change);
        let reasons: String = change
            .risk
            .iter()
            .flat_map(|r| &r.reasons)
            .map(|r| format!("<li>{}</li>", e(r)))
            .collect();
        let risk_cell = if reasons.is_empty() {
            tag(risk_class(risk), &risk.to_string())
        } else {
            format!(
                r#"<details><summary>{}</summary><ul class="plain">{reasons}</ul></details>"#,
                tag(risk_class(risk), &risk.to_string())
            )
        };
        let (since_fork_point, recent) = churn(change.risk.as_ref());
        let churn_cell =
            format!(r#"{since_fork_point}<br><span class="muted">{recent} recent</span>"#);
        let conflict = match is_conflicting(report, change) {
            Some(c) => format!(
                "{} <span class=\"muted\">{}, cause {}</span>",
                tag(
                    if c.cause == Origin::Fork {
                        "bad"
                    } else {
                        "warn"
                    },
                    "conflicts"
                ),
                e(&c.kind),
                origin_str(c.cause)
            ),
            None => tag("good", "merges cleanly"),
        };
        let lines_cell = if change.binary {
            "binary".to_string()
        } else {
            lines(change.lines_added, change.lines_deleted)
        };
        let _ = write!(
            page,
            r#"<tr><td class="path" data-sort="{}">{cell}</td><td class="num" data-sort="{}">{lines_cell}</td><td class="num" data-sort="{risk}">{risk_cell}</td><td class="num" data-sort="{since_fork_point}">{churn_cell}</td><td>{conflict}</td><td class="text">{}</td></tr>"#,
            e(&change.path),
            change.lines_added + change.lines_deleted,
            context.commits(&change.commits),
        );
    }
    table_end(page);
    page.push_str("</section>\n");
}

pub(super) fn conflicts(page: &mut String, context: &Context) {
    let report = context.report;
    page.push_str(r#"<section id="conflicts"><h2>Conflicts of the next upgrade</h2>"#);
    if report.conflicts.is_empty() {
        empty(page, "git's merge of the fork with the target is clean.");
        page.push_str("</section>\n");
        return;
    }
    table_start(
        page,
        "As git's merge (merge-ort) reports them; cause fork means the fork's own work conflicts.",
        &[
            ("path", false),
            ("kind", false),
            ("cause", false),
            ("own commits", false),
        ],
    );
    for c in &report.conflicts {
        let mut cause = tag(
            if c.cause == Origin::Fork {
                "bad"
            } else {
                "warn"
            },
            origin_str(c.cause),
        );
        if c.already_upstream {
            let _ = write!(cause, " {}", tag("good", "take the target's side"));
        }
        let _ = write!(
            page,
            r#"<tr><td class="path"><code>{}</code></td><td>{}</td><td>{cause}</td><td class="text">{}</td></tr>"#,
            path(&c.path),
            e(&c.kind),
            context.commits(&c.commits)
        );
    }
    table_end(page);
    page.push_str("</section>\n");
}

pub(super) fn candidates(page: &mut String, context: &Context) {
    let report = context.report;
    page.push_str(r#"<section id="candidates"><h2>PR candidates</h2>"#);
    if report.pr_candidates.is_empty() {
        empty(
            page,
            "No own commit qualifies as a pull request to upstream.",
        );
        page.push_str("</section>\n");
        return;
    }
    let mut rows: Vec<&PrCandidate> = report.pr_candidates.iter().collect();
    rows.sort_by_key(|p| p.rank);
    table_start(
        page,
        "Fixes to send upstream, best first: forkdrift candidates --export DIR writes them as patch series.",
        &[
            ("rank", true),
            ("title", false),
            ("kind", false),
            ("commits", false),
            ("paths", false),
            ("tests", false),
            ("applies", false),
            ("conflicted paths", true),
        ],
    );
    for p in rows {
        let paths: String = p
            .paths
            .iter()
            .map(|p| format!("<li><code>{}</code></li>", path(p)))
            .collect();
        let title = if p.body.trim().is_empty() {
            e(&p.title)
        } else {
            format!(
                r#"{}<details><summary>suggested description</summary><pre style="white-space:pre-wrap">{}</pre></details>"#,
                e(&p.title),
                e(&p.body)
            )
        };
        let _ = write!(
            page,
            r#"<tr><td class="num">{}</td><td class="text">{title}</td><td>{}</td><td class="text">{}</td><td class="path"><ul class="plain">{paths}</ul></td><td>{}</td><td>{}</td><td class="num">{}</td></tr>"#,
            p.rank,
            e(&p.kind),
            context.commits(&p.commits),
            if p.has_tests {
                tag("good", "yes")
            } else {
                tag("warn", "no")
            },
            if p.applies_cleanly {
                tag("good", "cleanly")
            } else {
                tag("bad", "no")
            },
            p.removes_conflicts
        );
    }
    table_end(page);
    page.push_str("</section>\n");
}
