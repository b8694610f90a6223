//! The headline: the figures a manager reads first, each with its change since the last report.

use super::*;

pub(super) fn headline(
    page: &mut String,
    report: &Report,
    history: &[&Metrics],
    current: Option<usize>,
) {
    let now = Metrics::from_report(report, "", 0, 0);
    let recorded = current.map(|i| history[i]);
    let previous = current.and_then(|i| i.checked_sub(1)).map(|i| history[i]);
    let since = |pick: fn(&Metrics) -> f64, value: f64| {
        delta(value, previous.map(|p| (pick(p), p.date.as_str())))
    };
    let mut cards = Vec::new();
    match recorded {
        Some(m) => {
            cards.push(Card {
                label: "Commits behind",
                value: m.commits_behind.to_string(),
                sub: join_sub(
                    "upstream commits the fork lacks",
                    &since(|p| p.commits_behind as f64, m.commits_behind as f64),
                ),
                class: "",
                bar: None,
            });
            cards.push(Card {
                label: "Commits ahead",
                value: m.commits_ahead.to_string(),
                sub: join_sub(
                    "on the fork since the merge-base",
                    &since(|p| p.commits_ahead as f64, m.commits_ahead as f64),
                ),
                class: "",
                bar: None,
            });
        }
        None => cards.push(Card {
            label: "Commits behind / ahead",
            value: "—".into(),
            sub: "not recorded in the history for this fork and target".into(),
            class: "",
            bar: None,
        }),
    }
    cards.push(Card {
        label: "Own commits",
        value: now.own_commits.to_string(),
        sub: join_sub(
            "reachable from no upstream ref",
            &since(|p| p.own_commits as f64, now.own_commits as f64),
        ),
        class: "",
        bar: None,
    });
    cards.push(Card {
        label: "Framework lines changed",
        value: now.framework_lines.to_string(),
        sub: join_sub(
            &format!(
                "in {} file{}",
                now.framework_files,
                if now.framework_files == 1 { "" } else { "s" }
            ),
            &since(|p| p.framework_lines as f64, now.framework_lines as f64),
        ),
        class: if now.framework_files > 0 {
            "warn"
        } else {
            "good"
        },
        bar: None,
    });
    cards.push(Card {
        label: "Connectors",
        value: format!("{} + {}", now.connectors_added, now.connectors_modified),
        sub: format!(
            "{} added · {} edited in place",
            now.connectors_added, now.connectors_modified
        ),
        class: if now.connectors_modified > 0 {
            "warn"
        } else {
            ""
        },
        bar: None,
    });
    cards.push(Card {
        label: "Conflicts",
        value: now.conflicts.to_string(),
        sub: join_sub(
            &format!("{} caused by the fork", now.fork_conflicts),
            &since(|p| p.conflicts as f64, now.conflicts as f64),
        ),
        class: match (now.fork_conflicts, now.conflicts) {
            (0, 0) => "good",
            (0, _) => "warn",
            _ => "bad",
        },
        bar: None,
    });
    let (protocol_sub, protocol_class) = match &report.protocol {
        Some(p) if p.verdict == "schema" && p.accepted => ("changed; accepted".to_string(), "warn"),
        Some(p) if p.verdict == "schema" => (
            "changed: needs review and accept-protocol".to_string(),
            "bad",
        ),
        Some(p) if p.verdict == "prose" => ("only the prose changed".to_string(), "warn"),
        Some(p) => (
            format!("unchanged from {} to {}", short(&p.from), short(&p.to)),
            "good",
        ),
        None => ("the rule pack has no protocol anchors".to_string(), ""),
    };
    cards.push(Card {
        label: "Protocol",
        value: e(&now.protocol),
        sub: e(&protocol_sub),
        class: protocol_class,
        bar: None,
    });
    cards.push(Card {
        label: "Risk",
        value: format!("{}<span class=\"sub\">/100</span>", now.risk),
        sub: since(|p| f64::from(p.risk), f64::from(now.risk)),
        class: risk_class(now.risk),
        bar: Some(now.risk.min(100)),
    });
    cards.push(Card {
        label: "PR candidates",
        value: now.pr_candidates.to_string(),
        sub: "fixes waiting to go upstream".into(),
        class: "",
        bar: None,
    });
    cards.push(Card {
        label: "Already upstream",
        value: now.already_upstream.to_string(),
        sub: join_sub(
            "own commits upstream has",
            &since(|p| p.already_upstream as f64, now.already_upstream as f64),
        ),
        class: if now.already_upstream > 0 { "good" } else { "" },
        bar: None,
    });

    page.push_str(r#"<section aria-label="Summary" class="cards">"#);
    for card in cards {
        let bar = card
            .bar
            .map(|p| {
                format!(
                    r#"<div class="bar" aria-hidden="true"><span style="width:{p}%"></span></div>"#
                )
            })
            .unwrap_or_default();
        let _ = write!(
            page,
            r#"<div class="card {}"><div class="label">{}</div><div class="value">{}</div>{bar}<div class="sub">{}</div></div>"#,
            card.class, card.label, card.value, card.sub
        );
    }
    page.push_str("</section>\n");
}
