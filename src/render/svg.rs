//! Inline SVG line charts for the HTML report, without dependencies: labelled axes (dates on
//! x, a few round values on y), one line per series, and every piece of text escaped.
//!
//! Colours come from `currentColor` and from classes (`series-0`, `series-1`, …) that the
//! page's stylesheet may restyle for dark mode; presentation attributes are the fallback.

use std::fmt::Write as _;

/// Escapes text for HTML and SVG, in element content and in quoted attribute values alike:
/// `& < > " '` become entities, and control characters (which XML forbids) become U+FFFD.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\t' | '\n' => out.push(ch),
            '\r' => out.push('\n'),
            c if c.is_control() => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// Fallback stroke colours, readable on white and on near-black backgrounds.
const PALETTE: [&str; 4] = ["#3b6fd8", "#d9480f", "#2b8a3e", "#9c36b5"];
/// Dash patterns, so that lines differ by more than colour.
const DASHES: [&str; 4] = [
    "",
    r#" stroke-dasharray="7 4""#,
    r#" stroke-dasharray="2 4""#,
    r#" stroke-dasharray="10 3 2 3""#,
];
const FONT_SIZE: f64 = 13.0;
/// Estimated advance of one character at `FONT_SIZE` (digits and dashes of a sans-serif).
const CHAR_WIDTH: f64 = 7.4;

/// A "nice" step (1, 2 or 5 times a power of ten) close to `raw`.
fn nice_step(raw: f64) -> f64 {
    if raw <= 0.0 || !raw.is_finite() {
        return 1.0;
    }
    let power = 10f64.powf(raw.log10().floor());
    let fraction = raw / power;
    let nice = if fraction <= 1.0 {
        1.0
    } else if fraction <= 2.0 {
        2.0
    } else if fraction <= 5.0 {
        5.0
    } else {
        10.0
    };
    nice * power
}

/// Ticks from below the minimum (and 0) to above the maximum, about four of them.
fn ticks(min: f64, max: f64, integral: bool) -> Vec<f64> {
    let low = min.min(0.0);
    let mut high = max.max(low);
    if high == low {
        high = low + if integral { 4.0 } else { 1.0 };
    }
    let mut step = nice_step((high - low) / 4.0);
    if integral {
        step = step.max(1.0).round();
    }
    let first = (low / step).floor() as i64;
    let last = (high / step).ceil() as i64;
    (first..=last).map(|i| i as f64 * step).collect()
}

fn format_value(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{}", value as i64)
    } else {
        let text = format!("{value:.2}");
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

fn text_width(text: &str) -> f64 {
    text.chars().count() as f64 * CHAR_WIDTH
}

/// The x position of each distinct date label, as a fraction 0–1 of the plot width: in
/// proportion to time when every label is an ISO date, else evenly spaced in order of
/// first appearance.
fn x_positions(labels: &[String]) -> Vec<(String, f64)> {
    let mut distinct: Vec<String> = Vec::new();
    for label in labels {
        if !distinct.contains(label) {
            distinct.push(label.clone());
        }
    }
    let times: Option<Vec<i64>> = distinct.iter().map(|l| crate::time::parse_iso(l)).collect();
    match times {
        Some(times) if times.iter().min() < times.iter().max() => {
            let mut pairs: Vec<(String, i64)> = distinct.into_iter().zip(times).collect();
            pairs.sort_by_key(|(_, t)| *t);
            let first = pairs[0].1;
            let span = (pairs[pairs.len() - 1].1 - first) as f64;
            pairs
                .into_iter()
                .map(|(label, t)| (label, (t - first) as f64 / span))
                .collect()
        }
        _ => {
            let n = distinct.len();
            distinct
                .into_iter()
                .enumerate()
                .map(|(i, label)| {
                    let x = if n > 1 {
                        i as f64 / (n - 1) as f64
                    } else {
                        0.5
                    };
                    (label, x)
                })
                .collect()
        }
    }
}

/// Which x labels to print so that none overlap: the first and the last always, the others
/// greedily when there is room. `xs` are pixel positions in ascending order.
fn visible_labels(xs: &[(String, f64)], gap: f64) -> Vec<usize> {
    let mut shown: Vec<usize> = Vec::new();
    for (i, (_, x)) in xs.iter().enumerate() {
        match shown.last() {
            None => shown.push(i),
            Some(&j) if x - xs[j].1 >= gap => shown.push(i),
            _ => {}
        }
    }
    let last = xs.len().saturating_sub(1);
    if !xs.is_empty() && shown.last() != Some(&last) {
        // Make room for the last label by giving up the one before it (never the first).
        while shown.len() > 1 && xs[last].1 - xs[*shown.last().unwrap()].1 < gap {
            shown.pop();
        }
        if shown.len() == 1 && xs[last].1 - xs[shown[0]].1 < gap {
            return shown;
        }
        shown.push(last);
    }
    shown
}

/// An inline SVG line chart. `series` are (label, points) with points as (date label, value);
/// the dates of all series share one x axis. The SVG scales down with its container (`width`
/// and `height` are its natural size and the `viewBox`). Every text is escaped.
pub fn line_chart(
    title: &str,
    series: &[(&str, Vec<(String, f64)>)],
    width: u32,
    height: u32,
) -> String {
    let (w, h) = (f64::from(width.max(200)), f64::from(height.max(120)));
    let all: Vec<&(String, f64)> = series.iter().flat_map(|(_, points)| points).collect();
    let values: Vec<f64> = all
        .iter()
        .map(|(_, v)| *v)
        .filter(|v| v.is_finite())
        .collect();
    let integral = values.iter().all(|v| v.fract() == 0.0);
    let (min, max) = values
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(*v), hi.max(*v))
        });
    let (min, max) = if values.is_empty() {
        (0.0, 0.0)
    } else {
        (min, max)
    };
    let y_ticks = ticks(min, max, integral);
    let (y_low, y_high) = (y_ticks[0], y_ticks[y_ticks.len() - 1]);
    let tick_labels: Vec<String> = y_ticks.iter().map(|t| format_value(*t)).collect();

    let dates: Vec<String> = all.iter().map(|(d, _)| d.clone()).collect();
    let fractions = x_positions(&dates);
    let widest_date = fractions
        .iter()
        .map(|(l, _)| text_width(l))
        .fold(0.0, f64::max);
    let widest_tick = tick_labels
        .iter()
        .map(|l| text_width(l))
        .fold(0.0, f64::max);

    let legend = series.len() > 1;
    let top = if legend { 34.0 } else { 14.0 };
    let left = (widest_tick + 14.0).max(widest_date / 2.0 + 4.0);
    let right = widest_date / 2.0 + 6.0;
    let bottom = 30.0;
    let plot_w = (w - left - right).max(40.0);
    let plot_h = (h - top - bottom).max(40.0);
    let x_of = |fraction: f64| left + fraction * plot_w;
    let y_of = |value: f64| top + plot_h - (value - y_low) / (y_high - y_low) * plot_h;
    let xs: Vec<(String, f64)> = fractions
        .iter()
        .map(|(label, f)| (label.clone(), x_of(*f)))
        .collect();
    let x_for = |date: &str| xs.iter().find(|(l, _)| l == date).map_or(left, |(_, x)| *x);

    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg class="chart" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img" aria-label="{title}" font-family="system-ui, -apple-system, 'Segoe UI', sans-serif" font-size="{FONT_SIZE}"><title>{title}</title>"#,
        title = escape(title)
    );
    let description = describe(series);
    let _ = write!(svg, "<desc>{}</desc>", escape(&description));

    // Grid and y axis.
    svg.push_str(r#"<g class="axis y-axis" fill="currentColor" stroke="currentColor">"#);
    for (tick, label) in y_ticks.iter().zip(&tick_labels) {
        let y = y_of(*tick);
        let _ = write!(
            svg,
            r#"<line class="grid" x1="{left:.1}" x2="{:.1}" y1="{y:.1}" y2="{y:.1}" stroke-opacity="0.15" stroke-width="1"/><text x="{:.1}" y="{:.1}" text-anchor="end" stroke="none">{}</text>"#,
            left + plot_w,
            left - 8.0,
            y + FONT_SIZE * 0.35,
            escape(label)
        );
    }
    svg.push_str("</g>");

    // x axis: a baseline, a tick per point, a label where there is room.
    let baseline = top + plot_h;
    let _ = write!(
        svg,
        r#"<g class="axis x-axis" fill="currentColor" stroke="currentColor"><line x1="{left:.1}" x2="{:.1}" y1="{baseline:.1}" y2="{baseline:.1}" stroke-opacity="0.5" stroke-width="1"/>"#,
        left + plot_w
    );
    for (_, x) in &xs {
        let _ = write!(
            svg,
            r#"<line x1="{x:.1}" x2="{x:.1}" y1="{baseline:.1}" y2="{:.1}" stroke-opacity="0.5" stroke-width="1"/>"#,
            baseline + 4.0
        );
    }
    for i in visible_labels(&xs, widest_date + 12.0) {
        let (label, x) = &xs[i];
        let _ = write!(
            svg,
            r#"<text x="{x:.1}" y="{:.1}" text-anchor="middle" stroke="none">{}</text>"#,
            baseline + 8.0 + FONT_SIZE,
            escape(label)
        );
    }
    svg.push_str("</g>");

    if values.is_empty() {
        let _ = write!(
            svg,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="middle" fill="currentColor">no data yet</text>"#,
            left + plot_w / 2.0,
            top + plot_h / 2.0
        );
    }

    // Legend.
    if legend {
        let mut x = left;
        for (i, (label, _)) in series.iter().enumerate() {
            let color = PALETTE[i % PALETTE.len()];
            let _ = write!(
                svg,
                r#"<g class="legend series-{i}"><line x1="{x:.1}" x2="{:.1}" y1="12" y2="12" stroke="{color}" stroke-width="3"{}/><text x="{:.1}" y="{:.1}" fill="currentColor">{}</text></g>"#,
                x + 18.0,
                DASHES[i % DASHES.len()],
                x + 24.0,
                12.0 + FONT_SIZE * 0.35,
                escape(label)
            );
            x += 24.0 + text_width(label) + 18.0;
        }
    }

    // The lines, then a dot per point with its value as a tooltip.
    for (i, (label, points)) in series.iter().enumerate() {
        let color = PALETTE[i % PALETTE.len()];
        let mut ordered: Vec<(f64, f64, &str)> = points
            .iter()
            .filter(|(_, v)| v.is_finite())
            .map(|(d, v)| (x_for(d), *v, d.as_str()))
            .collect();
        ordered.sort_by(|a, b| a.0.total_cmp(&b.0));
        let _ = write!(
            svg,
            r#"<g class="series series-{i}" stroke="{color}" fill="{color}">"#
        );
        if ordered.len() > 1 {
            let path: Vec<String> = ordered
                .iter()
                .map(|(x, v, _)| format!("{x:.1},{:.1}", y_of(*v)))
                .collect();
            let _ = write!(
                svg,
                r#"<polyline fill="none" stroke-width="2.5" stroke-linejoin="round" stroke-linecap="round"{} points="{}"/>"#,
                DASHES[i % DASHES.len()],
                path.join(" ")
            );
        }
        let radius = if ordered.len() > 40 { 2.0 } else { 3.5 };
        for (x, v, date) in &ordered {
            let _ = write!(
                svg,
                r#"<circle cx="{x:.1}" cy="{:.1}" r="{radius}" stroke="none"><title>{}</title></circle>"#,
                y_of(*v),
                escape(&format!("{label}, {date}: {}", format_value(*v)))
            );
        }
        svg.push_str("</g>");
    }
    svg.push_str("</svg>");
    svg
}

/// A sentence for screen readers: each series' first and latest value.
fn describe(series: &[(&str, Vec<(String, f64)>)]) -> String {
    let parts: Vec<String> = series
        .iter()
        .filter_map(|(label, points)| {
            let first = points.first()?;
            let last = points.last()?;
            Some(format!(
                "{label}: {} on {}, {} on {}",
                format_value(first.1),
                first.0,
                format_value(last.1),
                last.0
            ))
        })
        .collect();
    if parts.is_empty() {
        "No data yet.".into()
    } else {
        format!("{}.", parts.join("; "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dated(values: &[f64]) -> Vec<(String, f64)> {
        values
            .iter()
            .enumerate()
            .map(|(i, v)| (format!("2024-{:02}-01", i + 1), *v))
            .collect()
    }

    #[test]
    fn escape_covers_html_and_attribute_contexts() {
        assert_eq!(
            escape(r#"<script>"a" & 'b'</script>"#),
            "&lt;script&gt;&quot;a&quot; &amp; &#39;b&#39;&lt;/script&gt;"
        );
        assert_eq!(escape("]]></svg>"), "]]&gt;&lt;/svg&gt;");
        assert_eq!(escape("a\u{0}b\u{1b}c"), "a\u{FFFD}b\u{FFFD}c");
        assert_eq!(escape("plain ü"), "plain ü");
    }

    #[test]
    fn nice_ticks_start_at_zero_and_cover_the_maximum() {
        assert_eq!(ticks(3.0, 37.0, true), vec![0.0, 10.0, 20.0, 30.0, 40.0]);
        assert_eq!(ticks(0.0, 0.0, true), vec![0.0, 1.0, 2.0, 3.0, 4.0]);
        assert_eq!(ticks(0.0, 3.0, true), vec![0.0, 1.0, 2.0, 3.0]);
        assert_eq!(
            ticks(0.0, 0.3, false),
            vec![0.0, 0.1, 0.2, 0.30000000000000004]
        );
        assert_eq!(format_value(0.30000000000000004), "0.3");
        assert_eq!(ticks(0.0, 100.0, true).last(), Some(&100.0));
    }

    #[test]
    fn a_chart_has_title_axes_labels_and_one_line_per_series() {
        let svg = line_chart(
            "Conflicts",
            &[
                ("total", dated(&[1.0, 4.0, 2.0])),
                ("fork-caused", dated(&[0.0, 2.0, 1.0])),
            ],
            520,
            260,
        );
        assert!(svg.starts_with("<svg "));
        assert!(svg.ends_with("</svg>"));
        assert!(svg.contains(r#"role="img""#));
        assert!(svg.contains(r#"aria-label="Conflicts""#));
        assert!(svg.contains("<title>Conflicts</title>"));
        assert!(svg.contains("<desc>total: 1 on 2024-01-01, 2 on 2024-03-01;"));
        assert_eq!(svg.matches("<polyline").count(), 2);
        assert_eq!(svg.matches("<circle").count(), 6);
        assert!(svg.contains(">2024-01-01</text>"));
        assert!(svg.contains(">2024-03-01</text>"));
        assert!(svg.contains(">fork-caused</text>"));
        assert!(svg.contains(">4</text>"));
        assert!(!svg.contains("http"), "no namespace or external reference");
    }

    #[test]
    fn date_labels_never_overlap_and_keep_the_ends() {
        let points = dated(&[1.0; 12]);
        let svg = line_chart("Risk", &[("risk", points)], 390, 200);
        let label_xs: Vec<f64> = svg
            .split(r#"<text x=""#)
            .skip(1)
            .filter(|chunk| chunk.contains(r#"text-anchor="middle""#) && chunk.contains(">2024-"))
            .map(|chunk| chunk.split('"').next().unwrap().parse().unwrap())
            .collect();
        assert!(label_xs.len() >= 2, "{svg}");
        assert!(label_xs.len() < 12);
        for pair in label_xs.windows(2) {
            assert!(pair[1] - pair[0] >= 10.0 * CHAR_WIDTH, "{label_xs:?}");
        }
        assert!(svg.contains(">2024-01-01</text>"));
        assert!(svg.contains(">2024-12-01</text>"));
    }

    #[test]
    fn dates_are_placed_in_proportion_to_time() {
        let xs = x_positions(&[
            "2024-01-01".to_string(),
            "2024-01-02".to_string(),
            "2024-01-11".to_string(),
        ]);
        assert_eq!(xs[0].1, 0.0);
        assert!((xs[1].1 - 0.1).abs() < 1e-9);
        assert_eq!(xs[2].1, 1.0);
        let labels = x_positions(&["b".to_string(), "a".to_string(), "b".to_string()]);
        assert_eq!(labels, vec![("b".to_string(), 0.0), ("a".to_string(), 1.0)]);
    }

    #[test]
    fn every_text_is_escaped() {
        let evil = r#"<script>alert(1)</script>"onload=]]></svg>"#;
        let svg = line_chart(
            evil,
            &[(evil, vec![(evil.to_string(), 1.0), ("x".into(), 2.0)])],
            400,
            200,
        );
        assert!(!svg.contains("<script>"));
        assert!(!svg.contains("\"onload="));
        assert!(!svg.contains("]]>"));
        assert_eq!(svg.matches("</svg>").count(), 1);
    }

    #[test]
    fn empty_and_single_point_charts_render() {
        let empty = line_chart("Nothing", &[("a", vec![])], 400, 200);
        assert!(empty.contains("no data yet"));
        let one = line_chart("One", &[("a", dated(&[5.0]))], 400, 200);
        assert_eq!(one.matches("<circle").count(), 1);
        assert!(!one.contains("<polyline"));
        assert!(!one.contains("NaN"));
    }
}
