//! The periodic divergence report as one self-contained HTML page: inline CSS (light and dark
//! through `prefers-color-scheme`), inline SVG charts, no external asset, readable without
//! JavaScript (a few lines of optional script sort the tables on a header click).
//!
//! Everything that comes from the repository — paths, commit subjects, author and branch
//! names, release notes — goes through `svg::escape`; nothing is ever written raw.

mod headline;
mod sections;
mod tables;

use headline::headline;
use sections::{already_upstream, notes, plan, trends};
use tables::{candidates, conflicts, connectors, framework};

use super::svg::{escape as e, line_chart};
use crate::history::Metrics;
use crate::model::*;
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::io::{self, Write};

const STYLE: &str = r#"
:root{color-scheme:light dark;--bg:#f7f7f5;--fg:#1d2126;--muted:#59636e;--card:#fff;--border:#d7dbe0;--head:#eef0f3;--accent:#2f62c9;--warn:#9a5b00;--bad:#c02626;--good:#22793a;--s0:#3b6fd8;--s1:#d9480f;--s2:#2b8a3e;--s3:#9c36b5;--shade:rgba(0,0,0,.18)}
@media (prefers-color-scheme:dark){:root{--bg:#131619;--fg:#e3e6ea;--muted:#9ba5af;--card:#1b1f24;--border:#343b43;--head:#232930;--accent:#8ab0ff;--warn:#f1a94e;--bad:#ff7b7b;--good:#6fd68a;--s0:#7ea6ff;--s1:#ff9a4d;--s2:#69db7c;--s3:#e599f7;--shade:rgba(0,0,0,.6)}}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;-webkit-text-size-adjust:100%}
main{max-width:1200px;margin:0 auto;padding:28px 24px 56px}
header p{margin:.2rem 0;color:var(--muted)}
h1{font-size:1.65rem;line-height:1.25;margin:0 0 .4rem}
h2{font-size:1.25rem;margin:2.4rem 0 .8rem;padding-bottom:.3rem;border-bottom:1px solid var(--border)}
h3{font-size:1.05rem;margin:1.4rem 0 .5rem}
a{color:var(--accent)}
code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.86em;overflow-wrap:anywhere}
td code{overflow-wrap:normal}
nav ul{list-style:none;padding:0;margin:1rem 0 0;display:flex;flex-wrap:wrap;gap:6px 14px;font-size:.92rem}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(180px,1fr));gap:12px;margin-top:1.4rem}
.card{background:var(--card);border:1px solid var(--border);border-radius:8px;padding:12px 14px;min-width:0}
.card .label{font-size:.78rem;color:var(--muted);text-transform:uppercase;letter-spacing:.04em}
.card .value{font-size:1.75rem;font-weight:650;line-height:1.25;font-variant-numeric:tabular-nums}
.card .sub{font-size:.86rem;color:var(--muted)}
.card.warn{border-left:4px solid var(--warn)}.card.bad{border-left:4px solid var(--bad)}.card.good{border-left:4px solid var(--good)}
.bar{height:6px;border-radius:3px;background:var(--head);margin:6px 0 2px;overflow:hidden}
.bar span{display:block;height:100%;background:var(--accent)}
.card.warn .bar span{background:var(--warn)}.card.bad .bar span{background:var(--bad)}
.scroll{overflow-x:auto;border:1px solid var(--border);border-radius:8px;margin:.4rem 0 1rem;background:linear-gradient(to right,var(--card) 30%,transparent) 0 0/40px 100% no-repeat local,linear-gradient(to left,var(--card) 30%,transparent) 100% 0/40px 100% no-repeat local,radial-gradient(farthest-side at 0 50%,var(--shade),transparent) 0 0/14px 100% no-repeat scroll,radial-gradient(farthest-side at 100% 50%,var(--shade),transparent) 100% 0/14px 100% no-repeat scroll,var(--card)}
.lede{color:var(--muted);font-size:.9rem;margin:.2rem 0}
.vh{position:absolute;width:1px;height:1px;margin:-1px;padding:0;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap;border:0}
table{border-collapse:collapse;width:100%;font-size:.9rem}
th,td{padding:7px 10px;text-align:left;vertical-align:top;border-top:1px solid var(--border)}
thead th{background:var(--head);white-space:nowrap;font-weight:600;border-top:none}
tbody th{font-weight:400;white-space:nowrap}
th.num,td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
td.text{min-width:13em}td.path{min-width:9em}
th.sort{cursor:pointer}th.sort:hover{color:var(--accent)}
th[aria-sort=ascending]::after{content:" \25B2";font-size:.7em}th[aria-sort=descending]::after{content:" \25BC";font-size:.7em}
.tag{display:inline-block;padding:0 6px;border-radius:4px;font-size:.8rem;border:1px solid currentColor;white-space:nowrap}
.tag.bad{color:var(--bad)}.tag.warn{color:var(--warn)}.tag.good{color:var(--good)}
.muted{color:var(--muted)}
details summary{cursor:pointer;color:var(--muted)}
details[open] summary{margin-bottom:.4rem}
ul.plain{margin:.2rem 0;padding-left:1.1rem}
.hop{background:var(--card);border:1px solid var(--border);border-radius:8px;padding:4px 16px 12px;margin:12px 0}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(100%,460px),1fr));gap:16px}
figure{margin:0;background:var(--card);border:1px solid var(--border);border-radius:8px;padding:12px 14px;min-width:0}
figcaption{font-weight:600;margin-bottom:6px}
svg.chart{display:block;width:100%;height:auto;color:var(--fg)}
.narrow{display:none}
@media (max-width:520px){.wide{display:none}.narrow{display:block}}
svg.chart .series-0{stroke:var(--s0);fill:var(--s0)}svg.chart .series-1{stroke:var(--s1);fill:var(--s1)}
svg.chart .series-2{stroke:var(--s2);fill:var(--s2)}svg.chart .series-3{stroke:var(--s3);fill:var(--s3)}
svg.chart .legend text{fill:var(--fg);stroke:none}
figure .scroll{margin:.4rem 0 0}
footer{margin-top:3rem;color:var(--muted);font-size:.85rem}
@media (max-width:640px){main{padding:18px 14px 40px}h1{font-size:1.35rem}.cards{grid-template-columns:repeat(2,minmax(0,1fr));gap:8px}.card{padding:10px}.card .value{font-size:1.35rem}th,td{padding:6px 8px}}
"#;

/// Sorts a table on a header click (or Enter); the page reads the same without it.
const SCRIPT: &str = r#"
document.querySelectorAll('table.sortable').forEach(function (table) {
  var heads = table.tHead ? table.tHead.rows[0].cells : [];
  Array.prototype.forEach.call(heads, function (th, column) {
    th.classList.add('sort'); th.tabIndex = 0;
    function sort() {
      var body = table.tBodies[0], rows = Array.prototype.slice.call(body.rows);
      var numeric = th.classList.contains('num');
      var dir = th.getAttribute('aria-sort') === 'ascending' ? -1 : 1;
      Array.prototype.forEach.call(heads, function (h) { h.removeAttribute('aria-sort'); });
      th.setAttribute('aria-sort', dir > 0 ? 'ascending' : 'descending');
      function key(row) {
        var cell = row.cells[column], text = cell ? (cell.getAttribute('data-sort') || cell.textContent.trim()) : '';
        return numeric ? (parseFloat(text) || 0) : text.toLowerCase();
      }
      rows.sort(function (a, b) { var x = key(a), y = key(b); return (x > y ? 1 : x < y ? -1 : 0) * dir; });
      rows.forEach(function (row) { body.appendChild(row); });
    }
    th.addEventListener('click', sort);
    th.addEventListener('keydown', function (event) {
      if (event.key === 'Enter' || event.key === ' ') { event.preventDefault(); sort(); }
    });
  });
});
"#;

pub(super) fn short(id: &str) -> &str {
    &id[..id.len().min(10)]
}

/// What the page needs to look commits up by id.
pub(super) struct Context<'a> {
    report: &'a Report,
    subjects: HashMap<&'a str, &'a OwnCommit>,
}

impl Context<'_> {
    /// A commit as `<code>abcdef1234</code> subject`, everything escaped.
    fn commit(&self, id: &str) -> String {
        match self.subjects.get(id) {
            Some(c) => format!(
                r#"<code title="{}">{}</code> {}"#,
                e(&format!("{} by {} on {}", c.commit, c.author, c.date)),
                e(short(id)),
                e(&c.subject)
            ),
            None => format!(r#"<code title="{}">{}</code>"#, e(id), e(short(id))),
        }
    }

    fn commits(&self, ids: &[String]) -> String {
        match ids {
            [] => r#"<span class="muted">—</span>"#.into(),
            [one] => self.commit(one),
            many => {
                let items: String = many
                    .iter()
                    .map(|id| format!("<li>{}</li>", self.commit(id)))
                    .collect();
                format!(r#"<ul class="plain">{items}</ul>"#)
            }
        }
    }
}

pub(super) fn divergent(change: &Change) -> bool {
    change.origin != Origin::Upstream && !change.already_upstream
}

pub(super) fn origin_str(origin: Origin) -> &'static str {
    match origin {
        Origin::Fork => "fork",
        Origin::Upstream => "upstream",
        Origin::Both => "both",
    }
}

/// A path, escaped, that may break after each `/` on a narrow screen.
pub(super) fn path(text: &str) -> String {
    e(text).replace('/', "/<wbr>")
}

pub(super) fn tag(class: &str, text: &str) -> String {
    format!(r#"<span class="tag {class}">{}</span>"#, e(text))
}

pub(super) fn risk_class(score: u32) -> &'static str {
    match score {
        60.. => "bad",
        30.. => "warn",
        _ => "",
    }
}

/// Upstream commits that touched a path since the fork point, and in the six months before
/// the target.
pub(super) fn churn(risk: Option<&Risk>) -> (usize, usize) {
    risk.and_then(|r| r.upstream_churn)
        .map_or((0, 0), |churn| (churn.since_fork_point, churn.recent))
}

pub(super) fn is_conflicting<'a>(report: &'a Report, change: &Change) -> Option<&'a Conflict> {
    report
        .conflicts
        .iter()
        .find(|c| c.path == change.path || change.target_path.as_deref() == Some(c.path.as_str()))
}

pub(super) fn lines(added: u64, deleted: u64) -> String {
    format!("+{added} −{deleted}")
}

pub fn render(report: &Report, history: &[Metrics], out: &mut dyn Write) -> io::Result<()> {
    let context = Context {
        report,
        subjects: report
            .own_commits
            .iter()
            .map(|c| (c.commit.as_str(), c))
            .collect(),
    };
    let mut history: Vec<&Metrics> = history.iter().collect();
    history.sort_by(|a, b| a.date.cmp(&b.date));
    // This run's point, when the caller recorded it before rendering.
    let current = history
        .iter()
        .rposition(|m| m.fork == report.fork.commit && m.target == report.target.commit);

    let mut page = String::with_capacity(64 * 1024);
    let title = format!(
        "forkdrift: {} against {}",
        report.fork.name, report.target.name
    );
    let _ = write!(
        page,
        r#"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<meta name="color-scheme" content="light dark">
<meta name="generator" content="forkdrift {version}">
<title>{title}</title>
<style>{STYLE}</style>
</head>
<body>
<main>
"#,
        version = e(&report.tool.version),
        title = e(&title)
    );
    header(&mut page, report, current.map(|i| history[i]));
    headline(&mut page, report, &history, current);
    connectors(&mut page, &context);
    framework(&mut page, &context);
    conflicts(&mut page, &context);
    candidates(&mut page, &context);
    plan(&mut page, report);
    already_upstream(&mut page, &context);
    trends(&mut page, &history);
    notes(&mut page, report);
    let _ = write!(
        page,
        r#"<footer>Written by {} {} from a <code>{}</code> report, rule pack <code>{}</code>.</footer>
</main>
<script>{SCRIPT}</script>
</body>
</html>
"#,
        e(&report.tool.name),
        e(&report.tool.version),
        e(&report.schema),
        e(&report.pack)
    );
    out.write_all(page.as_bytes())
}

pub(super) fn header(page: &mut String, report: &Report, current: Option<&Metrics>) {
    let _ = write!(
        page,
        r##"<header>
<h1>Divergence of <code>{fork}</code> from <code>{target}</code></h1>
<p>fork <code title="{fork_id}">{fork_short}</code> · target <code title="{target_id}">{target_short}</code> · merge-base <code title="{base}">{base_short}</code> · fork point <code title="{point}">{point_short}</code> · rule pack <code>{pack}</code>{date}</p>
<nav aria-label="Sections"><ul><li><a href="#connectors">Connectors</a></li><li><a href="#framework">Framework files</a></li><li><a href="#conflicts">Conflicts</a></li><li><a href="#candidates">PR candidates</a></li><li><a href="#plan">Upgrade plan</a></li><li><a href="#upstream">Already upstream</a></li><li><a href="#trends">Trends</a></li><li><a href="#notes">Remarks</a></li></ul></nav>
</header>
"##,
        fork = e(&report.fork.name),
        target = e(&report.target.name),
        fork_id = e(&report.fork.commit),
        fork_short = e(short(&report.fork.commit)),
        target_id = e(&report.target.commit),
        target_short = e(short(&report.target.commit)),
        base = e(&report.merge_base),
        base_short = e(short(&report.merge_base)),
        point = e(&report.fork_point),
        point_short = e(short(&report.fork_point)),
        pack = e(&report.pack),
        date = current
            .map(|m| format!(" · as of {}", e(&m.date)))
            .unwrap_or_default()
    );
}

pub(super) struct Card {
    label: &'static str,
    value: String,
    sub: String,
    class: &'static str,
    /// Percent for a bar under the value.
    bar: Option<u32>,
}

pub(super) fn delta(now: f64, before: Option<(f64, &str)>) -> String {
    match before {
        Some((old, date)) if old != now => {
            let diff = now - old;
            let sign = if diff > 0.0 { "+" } else { "−" };
            format!("{sign}{} since {}", diff.abs(), e(date))
        }
        Some((_, date)) => format!("unchanged since {}", e(date)),
        None => String::new(),
    }
}

/// `main` and `extra` (already escaped), joined with a line break when both are present.
pub(super) fn join_sub(main: &str, extra: &str) -> String {
    if extra.is_empty() {
        e(main)
    } else {
        format!("{}<br>{extra}", e(main))
    }
}

pub(super) fn empty(page: &mut String, text: &str) {
    let _ = write!(page, r#"<p class="muted">{}</p>"#, e(text));
}

pub(super) fn table_start(page: &mut String, caption: &str, heads: &[(&str, bool)]) {
    let _ = write!(
        page,
        r#"<p class="lede" aria-hidden="true">{caption}</p><div class="scroll"><table class="sortable"><caption class="vh">{caption}</caption><thead><tr>"#,
        caption = e(caption)
    );
    for (head, numeric) in heads {
        let class = if *numeric { r#" class="num""# } else { "" };
        let _ = write!(page, r#"<th scope="col"{class}>{}</th>"#, e(head));
    }
    page.push_str("</tr></thead><tbody>");
}

pub(super) fn table_end(page: &mut String) {
    page.push_str("</tbody></table></div>\n");
}
