//! The kill-chain charts: the funnel of trials reaching and broken at each phase, and the
//! chains broken per control, grouped by course of action. An exact folder's counts are
//! expectations: every one is printed with one decimal and called expected.

use std::fmt::Write as _;

use super::svg::{BROKEN, GREY, PASSED, Scale, esc, line, rect, svg_open, text, y_label};
use crate::phase::{CourseOfAction, Phase};
use crate::report::folder::Table;
use crate::report::format::{count, expected_count, percent};

/// Whether a table holds the exact method's expected counts.
pub(super) fn is_exact(t: &Table) -> bool {
    t.rows
        .first()
        .is_some_and(|r| t.text(r, "method") == "exact")
}

/// How a table's counts are printed: expected ones with one decimal, the others whole.
pub(super) fn counts_of(t: &Table) -> fn(f64) -> String {
    if is_exact(t) { expected_count } else { count }
}

/// The kill-chain funnel of one block of `phases.csv` rows.
pub(super) fn funnel_svg(t: &Table, rows: &[&Vec<String>]) -> String {
    let (w, h) = (1000.0, 430.0);
    let (left, right, top, bottom) = (90.0, 10.0, 50.0, 320.0);
    let trials = rows
        .first()
        .and_then(|r| t.num(r, "trials"))
        .unwrap_or(1.0)
        .max(1.0);
    let y = Scale::linear(0.0, trials, bottom, top);
    let slot = (w - left - right) / Phase::ALL.len() as f64;
    let (fmt, expected) = (counts_of(t), if is_exact(t) { "expected " } else { "" });
    let mut out = String::new();
    svg_open(&mut out, w, h, "kill-chain funnel");
    for tick in y.ticks(4) {
        let py = y.at(tick);
        line(&mut out, left, py, w - right, py, "grid");
        text(&mut out, left - 6.0, py + 4.0, "end", "small", &count(tick));
    }
    line(&mut out, left, top, left, bottom, "axis");
    line(&mut out, left, bottom, w - right, bottom, "axis");
    y_label(
        &mut out,
        22.0,
        (top + bottom) / 2.0,
        &format!("{expected}trials reaching the phase"),
    );
    for (i, row) in rows.iter().enumerate() {
        let reached = t.num(row, "reached").unwrap_or(0.0);
        let broken = t.num(row, "broken").unwrap_or(0.0);
        let x0 = left + slot * i as f64;
        let cx = x0 + slot / 2.0;
        let bw = slot * 0.62;
        let (y_top, y_mid) = (y.at(reached), y.at(reached - broken));
        rect(&mut out, cx - bw / 2.0, y_mid, bw, bottom - y_mid, PASSED);
        rect(&mut out, cx - bw / 2.0, y_top, bw, y_mid - y_top, BROKEN);
        text(
            &mut out,
            cx,
            y_top - 18.0,
            "middle",
            "v-reached",
            &fmt(reached),
        );
        let _ = write!(
            out,
            r#"<text x="{cx:.1}" y="{:.1}" text-anchor="middle" class="small">{expected}broken <tspan class="v-broken">{}</tspan></text>"#,
            y_top - 5.0,
            esc(&fmt(broken))
        );
        let phase = Phase::from_id(t.cell(row, "phase"));
        let title = phase.map_or_else(|| t.text(row, "phase").to_owned(), |p| p.title().to_owned());
        let mut ly = bottom + 18.0;
        let words: Vec<&str> = title.split(' ').collect();
        let lines: Vec<String> = if title.len() > 14 && words.len() > 1 {
            let mid = words.len().div_ceil(2);
            vec![words[..mid].join(" "), words[mid..].join(" ")]
        } else {
            vec![title.clone()]
        };
        for l in &lines {
            text(&mut out, cx, ly, "middle", "title", l);
            ly += 15.0;
        }
        ly = bottom + 52.0;
        match t.num(row, "break_rate") {
            Some(rate) => {
                let _ = write!(
                    out,
                    r#"<text x="{cx:.1}" y="{ly:.1}" text-anchor="middle">break rate <tspan class="v-rate">{}</tspan></text>"#,
                    percent(rate)
                );
                if let (Some(lo), Some(hi)) = (t.num(row, "ci_low"), t.num(row, "ci_high")) {
                    let _ = write!(
                        out,
                        r#"<text x="{cx:.1}" y="{:.1}" text-anchor="middle" class="small v-ci">[{}, {}]</text>"#,
                        ly + 15.0,
                        percent(lo),
                        percent(hi)
                    );
                }
            }
            None => text(&mut out, cx, ly, "middle", "small", "not reached"),
        }
    }
    // Legend.
    let ly = h - 18.0;
    rect(&mut out, left, ly - 10.0, 12.0, 12.0, BROKEN);
    text(
        &mut out,
        left + 18.0,
        ly,
        "start",
        "",
        "broken at this phase (the defender stopped the campaign)",
    );
    rect(&mut out, left + 420.0, ly - 10.0, 12.0, 12.0, PASSED);
    text(
        &mut out,
        left + 438.0,
        ly,
        "start",
        "",
        "passed to the next phase; break rate with its 95 % interval below each phase",
    );
    out.push_str("</svg>");
    out
}

/// Attribution bars: chains broken per control, grouped by course of action.
pub(super) fn attribution_svg(t: &Table, rows: &[&Vec<String>]) -> String {
    let mut groups: Vec<(String, Vec<&Vec<String>>)> = Vec::new();
    let order =
        |a: &str| CourseOfAction::from_id(a).map_or(usize::MAX, CourseOfAction::engine_rank);
    for row in rows {
        let action = t.text(row, "action");
        let label = if action.is_empty() {
            "no control (the adversary's own failures)".to_owned()
        } else {
            action.to_owned()
        };
        match groups.iter_mut().find(|(g, _)| *g == label) {
            Some((_, v)) => v.push(row),
            None => groups.push((label, vec![row])),
        }
    }
    groups.sort_by_key(|(g, v)| (order(t.text(v[0], "action")), g.clone()));
    let max = rows
        .iter()
        .filter_map(|r| t.num(r, "breaks"))
        .fold(0.0, f64::max);
    let (left, right, row_h, head_h) = (350.0, 190.0, 22.0, 26.0);
    let w = 1000.0;
    let n_rows = rows.len() as f64;
    let h = 20.0 + head_h * groups.len() as f64 + row_h * n_rows + 40.0;
    let x = Scale::linear(0.0, max.max(1.0), left, w - right);
    let (fmt, expected) = (counts_of(t), if is_exact(t) { "expected " } else { "" });
    let mut out = String::new();
    svg_open(&mut out, w, h, "chains broken per control");
    let mut y = 20.0;
    for (g, members) in &groups {
        text(&mut out, 8.0, y + 14.0, "start", "title", g);
        y += head_h;
        for row in members {
            let breaks = t.num(row, "breaks").unwrap_or(0.0);
            let name = t.text(row, "name");
            let id = t.text(row, "control");
            let label = if name.is_empty() || name == id {
                id.to_owned()
            } else {
                format!("{name} ({id})")
            };
            let label: String = if label.chars().count() > 50 {
                label.chars().take(49).chain(['…']).collect()
            } else {
                label
            };
            text(&mut out, left - 8.0, y + 14.0, "end", "", &label);
            let colour = if t.cell(row, "action").is_empty() {
                GREY
            } else {
                PASSED
            };
            rect(
                &mut out,
                left,
                y + 3.0,
                x.at(breaks) - left,
                row_h - 6.0,
                colour,
            );
            let share = t
                .num(row, "break_share")
                .map(|s| format!(" ({} of trials)", percent(s)))
                .unwrap_or_default();
            let _ = write!(
                out,
                r#"<text x="{:.1}" y="{:.1}" text-anchor="start"><tspan class="v-breaks">{}</tspan>{}</text>"#,
                x.at(breaks) + 6.0,
                y + 14.0,
                esc(&fmt(breaks)),
                esc(&share)
            );
            y += row_h;
        }
    }
    line(&mut out, left, y + 4.0, w - right, y + 4.0, "axis");
    text(
        &mut out,
        (left + w - right) / 2.0,
        y + 24.0,
        "middle",
        "title",
        &format!("chains broken ({expected}trials), attributed to the control that broke them"),
    );
    out.push_str("</svg>");
    out
}
