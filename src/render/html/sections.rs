//! The upgrade plan, the work upstream already has, the trend charts and the notes.

use super::*;

pub(super) fn plan(page: &mut String, report: &Report) {
    page.push_str(r#"<section id="plan"><h2>Upgrade plan</h2>"#);
    if let Some(plan) = &report.plan {
        let _ = write!(
            page,
            "<p>From version <strong>{}</strong>, one minor version at a time.</p>",
            e(plan.from_version.as_deref().unwrap_or("unknown"))
        );
        if plan.hops.is_empty() {
            empty(page, "Nothing to upgrade: the fork is at the target.");
        }
        for hop in &plan.hops {
            let protocol_class = match hop.protocol.as_str() {
                "schema" => "bad",
                "prose" => "warn",
                _ => "good",
            };
            let _ = write!(
                page,
                r#"<div class="hop"><h3>{} <span class="muted">(<code>{}</code> <code>{}</code>)</span></h3><p>protocol {}{} · {}</p>"#,
                e(&hop.version),
                e(&hop.name),
                e(short(&hop.commit)),
                tag(protocol_class, &hop.protocol),
                if hop.needs_acceptance {
                    format!(" {}", tag("bad", "needs accept-protocol"))
                } else {
                    String::new()
                },
                e(&crate::render::hop_conflicts(
                    hop.conflicts,
                    hop.fork_conflicts,
                    hop.merge_error.as_ref()
                )),
            );
            if !hop.notes.is_empty() {
                let mut notes: Vec<&ReleaseNote> = hop.notes.iter().collect();
                notes.sort_by_key(|n| !n.breaking);
                page.push_str(
                    r#"<details><summary>Release notes that matter</summary><ul class="plain">"#,
                );
                for note in notes {
                    let _ = write!(
                        page,
                        "<li>{}{} <span class=\"muted\">({})</span></li>",
                        if note.breaking {
                            format!("{} ", tag("bad", "breaking"))
                        } else {
                            String::new()
                        },
                        e(&note.text),
                        e(&note.source)
                    );
                }
                page.push_str("</ul></details>");
            }
            if !hop.checklist.is_empty() {
                page.push_str("<details><summary>Checklist</summary><ol>");
                for step in &hop.checklist {
                    let _ = write!(page, "<li>{}</li>", e(step));
                }
                page.push_str("</ol></details>");
            }
            page.push_str("</div>");
        }
        if let Some(stop) = &plan.stopped_at {
            let _ = write!(
                page,
                "<p>{} The plan stops at <strong>{}</strong>: the protocol changed; review it and run <code>forkdrift accept-protocol</code> to go on.</p>",
                tag("bad", "stopped"),
                e(stop)
            );
        }
    } else if !report.hops.is_empty() {
        table_start(
            page,
            "The release points between the fork point and the target.",
            &[
                ("version", false),
                ("ref", false),
                ("conflicts", true),
                ("fork-caused", true),
                ("risk", true),
                ("protocol", false),
            ],
        );
        for hop in &report.hops {
            let [conflicts, fork] = crate::render::hop_counts(
                hop.conflicts,
                hop.fork_conflicts,
                hop.merge_error.as_ref(),
            );
            let _ = write!(
                page,
                r#"<tr><td>{}</td><td><code>{}</code></td><td class="num">{}</td><td class="num">{}</td><td class="num">{}</td><td>{}</td></tr>"#,
                e(&hop.version),
                e(&hop.name),
                conflicts,
                fork,
                tag(risk_class(hop.risk.score), &hop.risk.score.to_string()),
                e(hop.protocol.as_deref().unwrap_or("—"))
            );
        }
        table_end(page);
    } else {
        empty(
            page,
            "No plan in this report: forkdrift plan lists the upgrade one minor version at a time.",
        );
    }
    page.push_str("</section>\n");
}

pub(super) fn already_upstream(page: &mut String, context: &Context) {
    let report = context.report;
    page.push_str(r#"<section id="upstream"><h2>Work already upstream</h2>"#);
    if report.already_upstream.is_empty() {
        empty(page, "Upstream has none of the fork's own commits.");
        page.push_str("</section>\n");
        return;
    }
    table_start(
        page,
        "Own commits some upstream ref already has: not divergence; they go away on the upgrade.",
        &[
            ("own commits", false),
            ("upstream commit", false),
            ("also in", false),
            ("found by", false),
            ("similarity", true),
        ],
    );
    // One row per upstream commit: a squash-merged PR branch is one piece of work.
    for a in &report.already_upstream {
        let own = if a.commits.is_empty() {
            std::slice::from_ref(&a.commit)
        } else {
            a.commits.as_slice()
        };
        let own = match own {
            [one] => context.commits(std::slice::from_ref(one)),
            many => format!(
                "<details><summary>{} commits</summary>{}</details>",
                many.len(),
                context.commits(many)
            ),
        };
        let also: Vec<String> = a
            .also_in
            .iter()
            .map(|c| {
                format!(
                    r#"<code title="{}">{}</code> {}"#,
                    e(&c.commit),
                    e(short(&c.commit)),
                    e(&c.reference)
                )
            })
            .collect();
        let _ = write!(
            page,
            r#"<tr><td class="text">{own}</td><td class="text"><code title="{}">{}</code> {}</td><td class="text">{}</td><td>{}</td><td class="num">{:.2}</td></tr>"#,
            e(&a.upstream_commit),
            e(short(&a.upstream_commit)),
            e(&a.upstream_subject),
            also.join("<br>"),
            e(&a.method),
            a.similarity
        );
    }
    table_end(page);
    page.push_str("</section>\n");
}

type Pick = fn(&Metrics) -> f64;

pub(super) fn trends(page: &mut String, history: &[&Metrics]) {
    page.push_str(r#"<section id="trends"><h2>Trends</h2>"#);
    if history.is_empty() {
        empty(
            page,
            "No history yet: every run of forkdrift report adds a point to the history file.",
        );
        page.push_str("</section>\n");
        return;
    }
    if history.len() == 1 {
        empty(
            page,
            "One point so far: the lines appear from the second run on.",
        );
    }
    let charts: [(&str, &[(&str, Pick)]); 5] = [
        (
            "Framework lines changed",
            &[("framework lines", |m| m.framework_lines as f64)],
        ),
        (
            "Commits behind upstream",
            &[("commits behind", |m| m.commits_behind as f64)],
        ),
        (
            "Conflicts of the next upgrade",
            &[
                ("total", |m| m.conflicts as f64),
                ("fork-caused", |m| m.fork_conflicts as f64),
            ],
        ),
        ("Risk score", &[("risk", |m| f64::from(m.risk))]),
        (
            "Own commits already upstream",
            &[("already upstream", |m| m.already_upstream as f64)],
        ),
    ];
    page.push_str(r#"<div class="charts">"#);
    for (title, picks) in charts {
        let series: Vec<(&str, Vec<(String, f64)>)> = picks
            .iter()
            .map(|(label, pick)| {
                (
                    *label,
                    history.iter().map(|m| (m.date.clone(), pick(m))).collect(),
                )
            })
            .collect();
        // A wide chart, and a narrow one with larger text for small screens (CSS shows one).
        let _ = write!(
            page,
            r#"<figure><figcaption>{}</figcaption><div class="wide">{}</div><div class="narrow">{}</div>"#,
            e(title),
            line_chart(title, &series, 560, 250),
            line_chart(title, &series, 340, 230)
        );
        let _ = write!(
            page,
            r#"<details><summary>The numbers</summary><div class="scroll"><table><caption class="vh">{}, by date</caption><thead><tr><th scope="col">date</th>"#,
            e(title)
        );
        for (label, _) in picks {
            let _ = write!(page, r#"<th scope="col" class="num">{}</th>"#, e(label));
        }
        page.push_str("</tr></thead><tbody>");
        for m in history {
            let _ = write!(page, r#"<tr><th scope="row">{}</th>"#, e(&m.date));
            for (_, pick) in picks {
                let _ = write!(page, r#"<td class="num">{}</td>"#, pick(m));
            }
            page.push_str("</tr>");
        }
        page.push_str("</tbody></table></div></details></figure>");
    }
    page.push_str("</div></section>\n");
}

pub(super) fn notes(page: &mut String, report: &Report) {
    page.push_str(r#"<section id="notes"><h2>Remarks</h2>"#);
    if report.notes.is_empty() {
        empty(page, "Nothing else to know.");
    } else {
        page.push_str("<ul>");
        for note in &report.notes {
            let _ = write!(page, "<li>{}</li>", e(note));
        }
        page.push_str("</ul>");
    }
    page.push_str("</section>\n");
}
