//! `report.html`: one self-contained page (inline CSS and SVG, no script, nothing fetched) with
//! the kill-chain funnel, the controls that broke the chain, and, where the folder holds them,
//! the comparison's forest plot, loss exceedance curves and the cost/loss frontier.
//!
//! Every figure is drawn from the folder's CSV files ([`ResultFolder`]); a file that is absent
//! leaves its section out. Numbers printed on the charts carry a `class` (`v-reached`,
//! `v-broken`, `v-rate`, `v-breaks`, `v-delta`, …) so that tests can compare them with the CSV.

use std::fmt::Write as _;

use super::folder::{ResultFolder, Table};
use super::format::money_with as money;
pub use super::format::{count, percent, points, ratio};
use crate::analysis::frontier::pareto;
use crate::phase::{CourseOfAction, Phase};

/// Colours of the series (variants), colour-blind safe (Okabe–Ito).
const PALETTE: [&str; 8] = [
    "#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9", "#000000", "#f0e442",
];
const BROKEN: &str = "#d55e00";
const PASSED: &str = "#0072b2";

const STYLE: &str = "body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;margin:0 auto;max-width:1040px;padding:16px 24px;color:#1a1a1a;background:#fff}
h1{font-size:1.5em;margin:.2em 0}h2{font-size:1.2em;margin:1.6em 0 .3em;border-bottom:1px solid #ccc;padding-bottom:.2em}
p.note{color:#444;font-size:.9em;margin:.2em 0 .6em}p.summary{font-size:1.05em}
svg{display:block;max-width:100%;height:auto}svg text{font-family:inherit;font-size:12px;fill:#1a1a1a}
svg .axis{stroke:#555;stroke-width:1}svg .grid{stroke:#e3e3e3;stroke-width:1}svg .title{font-weight:600}
svg .small{font-size:11px;fill:#444}svg .zero{stroke:#555;stroke-dasharray:4 3}
footer{margin-top:2em;border-top:1px solid #ccc;padding-top:.5em;font-size:.85em;color:#444}
footer dl{display:grid;grid-template-columns:max-content auto;gap:2px 12px;margin:0}footer dt{font-weight:600}footer dd{margin:0;word-break:break-all}";

/// Escapes text for HTML and SVG (both XML-safe).
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() && c != '\n' && c != '\t' => {}
            c => out.push(c),
        }
    }
    out
}

/// A linear scale from a domain to a pixel range.
#[derive(Clone, Copy)]
struct Scale {
    d0: f64,
    d1: f64,
    r0: f64,
    r1: f64,
    log: bool,
}

impl Scale {
    fn linear(d0: f64, d1: f64, r0: f64, r1: f64) -> Scale {
        let d1 = if d1 > d0 { d1 } else { d0 + 1.0 };
        Scale {
            d0,
            d1,
            r0,
            r1,
            log: false,
        }
    }

    fn log(d0: f64, d1: f64, r0: f64, r1: f64) -> Scale {
        let (a, b) = (d0.log10(), d1.log10());
        let b = if b > a { b } else { a + 1.0 };
        Scale {
            d0: a,
            d1: b,
            r0,
            r1,
            log: true,
        }
    }

    fn at(&self, x: f64) -> f64 {
        let x = if self.log { x.max(1e-300).log10() } else { x };
        self.r0 + (x - self.d0) / (self.d1 - self.d0) * (self.r1 - self.r0)
    }

    /// About `n` round tick values across the domain (powers of ten on a log scale).
    fn ticks(&self, n: usize) -> Vec<f64> {
        if self.log {
            let (a, b) = (self.d0.ceil() as i32, self.d1.floor() as i32);
            return (a..=b).map(|e| 10f64.powi(e)).collect();
        }
        let span = self.d1 - self.d0;
        let raw = span / n.max(1) as f64;
        let mag = 10f64.powf(raw.log10().floor());
        let step = [1.0, 2.0, 2.5, 5.0, 10.0]
            .iter()
            .map(|m| m * mag)
            .find(|s| *s >= raw)
            .unwrap_or(raw);
        let first = (self.d0 / step).ceil() * step;
        let mut out = Vec::new();
        let mut t = first;
        while t <= self.d1 + step * 1e-9 {
            out.push(if t.abs() < step * 1e-9 { 0.0 } else { t });
            t += step;
        }
        out
    }
}

fn svg_open(out: &mut String, w: f64, h: f64, label: &str) {
    let _ = write!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img" aria-label="{}">"#,
        esc(label)
    );
}

fn text(out: &mut String, x: f64, y: f64, anchor: &str, class: &str, s: &str) {
    let class = if class.is_empty() {
        String::new()
    } else {
        format!(r#" class="{class}""#)
    };
    let _ = write!(
        out,
        r#"<text x="{x:.1}" y="{y:.1}" text-anchor="{anchor}"{class}>{}</text>"#,
        esc(s)
    );
}

fn line(out: &mut String, x1: f64, y1: f64, x2: f64, y2: f64, class: &str) {
    let _ = write!(
        out,
        r#"<line x1="{x1:.1}" y1="{y1:.1}" x2="{x2:.1}" y2="{y2:.1}" class="{class}"/>"#
    );
}

fn rect(out: &mut String, x: f64, y: f64, w: f64, h: f64, fill: &str) {
    let _ = write!(
        out,
        r#"<rect x="{x:.1}" y="{y:.1}" width="{:.1}" height="{:.1}" fill="{fill}"/>"#,
        w.max(0.0),
        h.max(0.0)
    );
}

/// A vertical axis label, rotated.
fn y_label(out: &mut String, x: f64, y: f64, s: &str) {
    let _ = write!(
        out,
        r#"<text x="{x:.1}" y="{y:.1}" text-anchor="middle" transform="rotate(-90 {x:.1} {y:.1})" class="title">{}</text>"#,
        esc(s)
    );
}

/// The rows of the first variant (the baseline) of a table.
fn first_variant(t: &Table) -> (String, Vec<&Vec<String>>) {
    t.by_variant()
        .into_iter()
        .next()
        .unwrap_or_else(|| (crate::scenario::BASELINE.to_owned(), Vec::new()))
}

/// The rows of the first variant and, for a comparison's table, the sentence that says whose
/// they are.
fn shown_for(t: &Table) -> (String, Vec<&Vec<String>>) {
    let (variant, rows) = first_variant(t);
    let whose = if t.col("variant").is_some() {
        format!(" Shown for the {variant}.")
    } else {
        String::new()
    };
    (whose, rows)
}

/// The kill-chain funnel of one block of `phases.csv` rows.
fn funnel_svg(t: &Table, rows: &[&Vec<String>]) -> String {
    let (w, h) = (1000.0, 430.0);
    let (left, right, top, bottom) = (90.0, 10.0, 50.0, 320.0);
    let trials = rows
        .first()
        .and_then(|r| t.num(r, "trials"))
        .unwrap_or(1.0)
        .max(1.0);
    let y = Scale::linear(0.0, trials, bottom, top);
    let slot = (w - left - right) / Phase::ALL.len() as f64;
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
        "trials reaching the phase",
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
            &count(reached),
        );
        let _ = write!(
            out,
            r#"<text x="{cx:.1}" y="{:.1}" text-anchor="middle" class="small">broken <tspan class="v-broken">{}</tspan></text>"#,
            y_top - 5.0,
            esc(&count(broken))
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
fn attribution_svg(t: &Table, rows: &[&Vec<String>]) -> String {
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
                "#999999"
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
                esc(&count(breaks)),
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
        "chains broken (trials), attributed to the control that broke them",
    );
    out.push_str("</svg>");
    out
}

/// How a forest plot is drawn: its accessible label, width, number of ticks, smallest padding of
/// the axis, tick labels and the caption under the axis.
struct Forest<'a> {
    label: &'a str,
    width: f64,
    ticks: usize,
    min_pad: f64,
    tick_label: fn(f64) -> String,
    caption: &'a str,
}

/// The frame shared by the forest plots: one row per variant with its name, its interval as a
/// line and its estimate as a dot, the grid at the ticks, the zero line and the caption.
/// `bounds` gives a row's (estimate, low, high); `headers` writes the column titles right of the
/// plot (given the plot's right edge and top), `cells` a row's numbers (given the right edge, the
/// row's y and its bounds).
fn forest_frame(
    t: &Table,
    rows: &[&Vec<String>],
    spec: &Forest,
    bounds: impl Fn(&Vec<String>) -> (f64, f64, f64),
    headers: impl FnOnce(&mut String, f64, f64),
    mut cells: impl FnMut(&mut String, &Vec<String>, f64, f64, (f64, f64, f64)),
) -> String {
    let (lo, hi) = rows.iter().fold((0.0f64, 0.0f64), |(lo, hi), r| {
        let (_, l, h) = bounds(r);
        (lo.min(l), hi.max(h))
    });
    let pad = ((hi - lo) * 0.08).max(spec.min_pad);
    let (left, plot_w, row_h, top) = (210.0, 430.0, 30.0, 20.0);
    let x = Scale::linear(lo - pad, hi + pad, left, left + plot_w);
    let h = top + row_h * (rows.len() as f64 + 1.0) + 50.0;
    let bottom = top + row_h * (rows.len() as f64 + 0.5);
    let mut out = String::new();
    svg_open(&mut out, spec.width, h, spec.label);
    headers(&mut out, left + plot_w, top);
    for tick in x.ticks(spec.ticks) {
        let px = x.at(tick);
        line(&mut out, px, top + 8.0, px, bottom, "grid");
        text(
            &mut out,
            px,
            bottom + 16.0,
            "middle",
            "small",
            &(spec.tick_label)(tick),
        );
    }
    line(&mut out, x.at(0.0), top + 8.0, x.at(0.0), bottom, "zero");
    line(&mut out, left, bottom, left + plot_w, bottom, "axis");
    for (i, row) in rows.iter().enumerate() {
        let cy = top + row_h * (i as f64 + 1.0);
        let colour = PALETTE[i % PALETTE.len()];
        text(
            &mut out,
            left - 10.0,
            cy + 4.0,
            "end",
            "",
            t.text(row, "variant"),
        );
        let (d, l, u) = bounds(row);
        let _ = write!(
            out,
            r#"<line x1="{:.1}" y1="{cy:.1}" x2="{:.1}" y2="{cy:.1}" stroke="{colour}" stroke-width="2"/><circle cx="{:.1}" cy="{cy:.1}" r="5" fill="{colour}"/>"#,
            x.at(l),
            x.at(u),
            x.at(d)
        );
        cells(&mut out, row, left + plot_w, cy, (d, l, u));
    }
    text(
        &mut out,
        left + plot_w / 2.0,
        bottom + 36.0,
        "middle",
        "title",
        spec.caption,
    );
    out.push_str("</svg>");
    out
}

/// Forest plot: each variant's paired change in completion rate with its interval, and cost.
fn forest_svg(t: &Table) -> String {
    let rows: Vec<&Vec<String>> = t
        .rows
        .iter()
        .filter(|r| t.text(r, "variant") != crate::scenario::BASELINE)
        .collect();
    let base_cost = t
        .rows
        .iter()
        .find(|r| t.text(r, "variant") == crate::scenario::BASELINE)
        .and_then(|r| t.num(r, "annual_cost"));
    let currency = t.rows.first().map_or("", |r| t.text(r, "currency"));
    let has_loss = t.col("expected_annual_loss").is_some();
    let spec = Forest {
        label: "paired change in completion rate per variant",
        width: if has_loss { 1180.0 } else { 1000.0 },
        ticks: 6,
        min_pad: 1e-4,
        tick_label: points,
        caption: "change in completion rate vs baseline (percentage points); left of the dashed line is better",
    };
    let bounds = |r: &Vec<String>| {
        let d = t.num(r, "delta").unwrap_or(0.0);
        (
            d,
            t.num(r, "delta_ci_low").unwrap_or(d),
            t.num(r, "delta_ci_high").unwrap_or(d),
        )
    };
    let col = |right: f64| [right + 20.0, right + 200.0, right + 380.0];
    let headers = |out: &mut String, right: f64, top: f64| {
        let cols = col(right);
        text(
            out,
            cols[0],
            top,
            "start",
            "title",
            "delta [95 % interval], pp",
        );
        text(out, cols[1], top, "start", "title", "annual cost");
        if has_loss {
            text(out, cols[2], top, "start", "title", "exp. annual loss");
        }
    };
    let cells = |out: &mut String, row: &Vec<String>, right: f64, cy: f64, (d, l, u)| {
        let cols = col(right);
        let _ = write!(
            out,
            r#"<text x="{:.1}" y="{:.1}"><tspan class="v-delta">{}</tspan> [{}, {}]</text>"#,
            cols[0],
            cy + 4.0,
            points(d),
            points(l),
            points(u)
        );
        if let Some(cost) = t.num(row, "annual_cost") {
            let diff = base_cost
                .map(|b| {
                    let d = cost - b;
                    if d == 0.0 {
                        " (±0)".to_owned()
                    } else if d > 0.0 {
                        format!(" (+{})", count(d))
                    } else {
                        format!(" ({})", count(d))
                    }
                })
                .unwrap_or_default();
            let _ = write!(
                out,
                r#"<text x="{:.1}" y="{:.1}"><tspan class="v-cost">{}</tspan><tspan class="small">{}</tspan></text>"#,
                cols[1],
                cy + 4.0,
                esc(&money(cost, currency)),
                esc(&diff)
            );
        }
        if let Some(loss) = t.num(row, "expected_annual_loss") {
            text(
                out,
                cols[2],
                cy + 4.0,
                "start",
                "v-loss",
                &money(loss, currency),
            );
        }
    };
    forest_frame(t, &rows, &spec, bounds, headers, cells)
}

/// Axes with ticks for an x–y chart; returns nothing, draws into `out`.
#[allow(clippy::too_many_arguments)]
fn axes(
    out: &mut String,
    x: &Scale,
    y: &Scale,
    x_fmt: &dyn Fn(f64) -> String,
    y_fmt: &dyn Fn(f64) -> String,
    x_label: &str,
    y_label_text: &str,
    frame: (f64, f64, f64, f64),
) {
    let (left, top, right, bottom) = frame;
    for tick in x.ticks(6) {
        let px = x.at(tick);
        line(out, px, top, px, bottom, "grid");
        text(out, px, bottom + 16.0, "middle", "small", &x_fmt(tick));
    }
    for tick in y.ticks(5) {
        let py = y.at(tick);
        line(out, left, py, right, py, "grid");
        text(out, left - 6.0, py + 4.0, "end", "small", &y_fmt(tick));
    }
    line(out, left, top, left, bottom, "axis");
    line(out, left, bottom, right, bottom, "axis");
    text(
        out,
        (left + right) / 2.0,
        bottom + 38.0,
        "middle",
        "title",
        x_label,
    );
    y_label(out, 18.0, (top + bottom) / 2.0, y_label_text);
}

/// Loss exceedance curves, one per variant, on a log-scaled loss axis.
fn exceedance_svg(t: &Table) -> Option<String> {
    let groups = t.by_variant();
    let points: Vec<(f64, f64)> = t
        .rows
        .iter()
        .filter_map(|r| Some((t.num(r, "annual_loss")?, t.num(r, "probability_exceeded")?)))
        .filter(|(l, _)| *l > 0.0)
        .collect();
    if points.is_empty() {
        return None;
    }
    let currency = t.rows.first().map_or("", |r| t.text(r, "currency"));
    let (lmin, lmax) = points
        .iter()
        .fold((f64::MAX, 0.0f64), |(a, b), (l, _)| (a.min(*l), b.max(*l)));
    let pmax = t
        .rows
        .iter()
        .filter_map(|r| t.num(r, "ci_high").or(t.num(r, "probability_exceeded")))
        .fold(0.0f64, f64::max)
        .clamp(0.01, 1.0);
    let (w, h) = (1000.0, 400.0);
    let frame = (90.0, 20.0, 760.0, 330.0);
    let x = Scale::log(
        10f64.powf(lmin.log10().floor()),
        10f64.powf(lmax.log10().ceil()),
        frame.0,
        frame.2,
    );
    let y = Scale::linear(0.0, pmax, frame.3, frame.1);
    let mut out = String::new();
    svg_open(&mut out, w, h, "loss exceedance curves");
    let unit = if currency.is_empty() {
        String::new()
    } else {
        format!(" ({currency})")
    };
    axes(
        &mut out,
        &x,
        &y,
        &|v| count(v),
        &|v| percent(v),
        &format!("annual loss{unit}, log scale"),
        "probability the annual loss exceeds it",
        frame,
    );
    for (i, (variant, rows)) in groups.iter().enumerate() {
        let colour = PALETTE[i % PALETTE.len()];
        let mut curve: Vec<(f64, f64, Option<f64>, Option<f64>)> = rows
            .iter()
            .filter_map(|r| {
                let l = t.num(r, "annual_loss")?;
                let p = t.num(r, "probability_exceeded")?;
                (l > 0.0).then(|| (l, p, t.num(r, "ci_low"), t.num(r, "ci_high")))
            })
            .collect();
        curve.sort_by(|a, b| a.0.total_cmp(&b.0));
        if curve.iter().all(|c| c.2.is_some() && c.3.is_some()) && !curve.is_empty() {
            let mut band = String::new();
            for c in &curve {
                let _ = write!(band, "{:.1},{:.1} ", x.at(c.0), y.at(c.3.unwrap_or(c.1)));
            }
            for c in curve.iter().rev() {
                let _ = write!(band, "{:.1},{:.1} ", x.at(c.0), y.at(c.2.unwrap_or(c.1)));
            }
            let _ = write!(
                out,
                r#"<polygon points="{}" fill="{colour}" fill-opacity="0.15" stroke="none"/>"#,
                band.trim_end()
            );
        }
        let path: Vec<String> = curve
            .iter()
            .map(|c| format!("{:.1},{:.1}", x.at(c.0), y.at(c.1)))
            .collect();
        let _ = write!(
            out,
            r#"<polyline points="{}" fill="none" stroke="{colour}" stroke-width="2"/>"#,
            path.join(" ")
        );
        let ly = frame.1 + 10.0 + 20.0 * i as f64;
        rect(&mut out, frame.2 + 20.0, ly - 9.0, 14.0, 10.0, colour);
        text(&mut out, frame.2 + 40.0, ly, "start", "", variant);
    }
    text(
        &mut out,
        frame.2 + 20.0,
        frame.1 + 20.0 + 20.0 * groups.len() as f64,
        "start",
        "small",
        "shaded: 95 % interval",
    );
    out.push_str("</svg>");
    Some(out)
}

/// One point of a cost/risk chart: a variant of a comparison or a portfolio of `optimize`.
struct CostPoint<'a> {
    name: &'a str,
    cost: f64,
    /// Expected annual loss, or completion rate.
    risk: f64,
    /// The 95 % interval of `risk`, drawn as a whisker.
    ci: Option<(f64, f64)>,
    on_frontier: bool,
}

/// The ` (EUR)` after an axis label, when the currency is known.
fn unit(currency: &str) -> String {
    if currency.is_empty() {
        String::new()
    } else {
        format!(" ({currency})")
    }
}

/// Annual cost against risk (expected annual loss in money when `money_axis`, else completion
/// rate), the frontier points joined. Points are labelled with their name and risk: all of
/// them when `label_all`, else those on the frontier whose labels do not overlap; these points
/// carry a tooltip with their cost and interval.
fn cost_risk_svg(
    pts: &[CostPoint],
    currency: &str,
    money_axis: bool,
    label_all: bool,
    legend: &str,
) -> String {
    let (xmin, xmax, ymax) = pts.iter().fold((f64::MAX, 0.0f64, 0.0f64), |(a, b, c), p| {
        let top = p.ci.map_or(p.risk, |(_, hi)| hi.max(p.risk));
        (a.min(p.cost), b.max(p.cost), c.max(top))
    });
    let (w, h) = (1000.0, 420.0);
    let frame = (100.0, 20.0, 900.0, 350.0);
    let xpad = ((xmax - xmin) * 0.05).max(1.0);
    let x = Scale::linear((xmin - xpad).max(0.0), xmax + xpad, frame.0, frame.2);
    let y = Scale::linear(0.0, ymax * 1.1, frame.3, frame.1);
    let fmt_risk = |v: f64| {
        if money_axis {
            money(v, currency)
        } else {
            percent(v)
        }
    };
    let mut out = String::new();
    svg_open(&mut out, w, h, "annual cost against risk");
    let y_fmt: Box<dyn Fn(f64) -> String> = if money_axis {
        Box::new(|v| count(v.round()))
    } else {
        Box::new(percent)
    };
    axes(
        &mut out,
        &x,
        &y,
        &|v| count(v.round()),
        &*y_fmt,
        &format!("annual cost of the controls{}", unit(currency)),
        &if money_axis {
            format!("expected annual loss{}", unit(currency))
        } else {
            "completion rate".to_owned()
        },
        frame,
    );
    let mut frontier: Vec<&CostPoint> = pts.iter().filter(|p| p.on_frontier).collect();
    frontier.sort_by(|a, b| a.cost.total_cmp(&b.cost).then(b.risk.total_cmp(&a.risk)));
    let path: Vec<String> = frontier
        .iter()
        .map(|p| format!("{:.1},{:.1}", x.at(p.cost), y.at(p.risk)))
        .collect();
    let _ = write!(
        out,
        r#"<polyline points="{}" fill="none" stroke="{BROKEN}" stroke-width="2"/>"#,
        path.join(" ")
    );
    // The others first, plain (an exhaustive search may have evaluated tens of thousands).
    let shown = |p: &CostPoint| label_all || p.on_frontier;
    for p in pts.iter().filter(|p| !shown(p)) {
        let _ = write!(
            out,
            r##"<circle cx="{:.1}" cy="{:.1}" r="4" fill="#888888"/>"##,
            x.at(p.cost),
            y.at(p.risk)
        );
    }
    let mut placed: Vec<(f64, f64, f64)> = Vec::new();
    for p in pts.iter().filter(|p| shown(p)) {
        let (colour, r) = if p.on_frontier {
            (BROKEN, 5)
        } else {
            ("#888888", 4)
        };
        let (px, py) = (x.at(p.cost), y.at(p.risk));
        let interval =
            p.ci.map(|(lo, hi)| format!(" [95 % interval {}, {}]", fmt_risk(lo), fmt_risk(hi)))
                .unwrap_or_default();
        let _ = write!(
            out,
            "<g><title>{}: annual cost {}, {} {}{}</title>",
            esc(p.name),
            esc(&money(p.cost, currency)),
            if money_axis {
                "expected annual loss"
            } else {
                "completion rate"
            },
            esc(&fmt_risk(p.risk)),
            esc(&interval)
        );
        if let Some((lo, hi)) = p.ci {
            let (ylo, yhi) = (y.at(lo), y.at(hi));
            let _ = write!(
                out,
                r#"<path d="M{px:.1},{ylo:.1}V{yhi:.1}M{:.1},{ylo:.1}H{:.1}M{:.1},{yhi:.1}H{:.1}" stroke="{colour}" stroke-width="1.5" fill="none"/>"#,
                px - 4.0,
                px + 4.0,
                px - 4.0,
                px + 4.0
            );
        }
        let _ = write!(
            out,
            r#"<circle cx="{px:.1}" cy="{py:.1}" r="{r}" fill="{colour}"/></g>"#
        );
        // Labels of points near the right edge go to their left, so that none is clipped.
        let label = format!("{} {}", p.name, fmt_risk(p.risk));
        let width = 6.5 * label.chars().count() as f64;
        let (lx, anchor, x0) = if px > frame.2 - 220.0 {
            (px - 8.0, "end", px - 8.0 - width)
        } else {
            (px + 8.0, "start", px + 8.0)
        };
        // A comparison's variant is labelled above its point, else below, else further out: the
        // first place inside the frame whose label overlaps no earlier one (over another where
        // it must). A frontier point is labelled above it where that is free (each point keeps
        // its tooltip), so that a long frontier stays readable.
        let free = |ly: f64| {
            !placed
                .iter()
                .any(|(qx, qw, qy)| x0 < qx + qw && *qx < x0 + width && (qy - ly).abs() < 13.0)
        };
        let places: &[f64] = if label_all {
            &[-6.0, 17.0, -20.0, 31.0]
        } else {
            &[-6.0]
        };
        let ly = match places
            .iter()
            .map(|d| py + d)
            .filter(|ly| (frame.1 + 10.0..=frame.3 - 4.0).contains(ly))
            .find(|ly| free(*ly))
        {
            Some(ly) => ly,
            None if label_all => py - 6.0,
            None => continue,
        };
        placed.push((x0, width, ly));
        let _ = write!(
            out,
            r#"<text x="{lx:.1}" y="{ly:.1}" text-anchor="{anchor}" class="small"><tspan class="v-name">{}</tspan> <tspan class="v-risk">{}</tspan></text>"#,
            esc(p.name),
            esc(&fmt_risk(p.risk))
        );
    }
    text(&mut out, frame.0 + 10.0, h - 8.0, "start", "small", legend);
    out.push_str("</svg>");
    out
}

/// `optimize`'s portfolios by annual cost and expected annual loss (or completion rate when
/// the loss cells are empty), the frontier joined, with the loss interval of frontier points.
fn frontier_svg(t: &Table) -> Option<String> {
    let use_loss = t
        .rows
        .iter()
        .any(|r| t.num(r, "expected_annual_loss").is_some());
    let y_col = if use_loss {
        "expected_annual_loss"
    } else {
        "completion_rate"
    };
    let pts: Vec<CostPoint> = t
        .rows
        .iter()
        .filter_map(|r| {
            let on_frontier = t.cell(r, "on_frontier") == "true";
            let ci = (use_loss && on_frontier)
                .then(|| t.num(r, "ale_ci_low").zip(t.num(r, "ale_ci_high")))
                .flatten();
            Some(CostPoint {
                name: t.text(r, "portfolio"),
                cost: t.num(r, "annual_cost")?,
                risk: t.num(r, y_col)?,
                ci,
                on_frontier,
            })
        })
        .collect();
    if pts.is_empty() {
        return None;
    }
    let currency = t.rows.first().map_or("", |r| t.text(r, "currency"));
    let legend = if use_loss {
        "red: portfolios on the frontier (no other is both cheaper and less risky), joined, with the 95 % interval of their loss; grey: the others"
    } else {
        "red: portfolios on the frontier (no other is both cheaper and less risky), joined; grey: the others"
    };
    Some(cost_risk_svg(&pts, currency, use_loss, false, legend))
}

/// A comparison's variants by annual cost and expected annual loss with its 95 % interval,
/// the variants that no other beats on both joined; `None` without loss figures.
fn variants_cost_loss_svg(t: &Table) -> Option<String> {
    let pts: Vec<CostPoint> = t
        .rows
        .iter()
        .filter_map(|r| {
            Some(CostPoint {
                name: t.text(r, "variant"),
                cost: t.num(r, "annual_cost")?,
                risk: t.num(r, "expected_annual_loss")?,
                ci: t.num(r, "ale_ci_low").zip(t.num(r, "ale_ci_high")),
                on_frontier: false,
            })
        })
        .collect();
    if pts.is_empty() {
        return None;
    }
    let onf = pareto(&pts.iter().map(|p| (p.cost, p.risk)).collect::<Vec<_>>());
    let pts: Vec<CostPoint> = pts
        .into_iter()
        .zip(onf)
        .map(|(p, on_frontier)| CostPoint { on_frontier, ..p })
        .collect();
    let currency = t.rows.first().map_or("", |r| t.text(r, "currency"));
    Some(cost_risk_svg(
        &pts,
        currency,
        true,
        true,
        "red: variants that no other beats on both cost and loss, joined; whiskers: the 95 % interval of the expected annual loss",
    ))
}

/// Forest plot in money: each variant's paired reduction of the expected annual loss against
/// the baseline with its interval, and its ROSI; `None` without loss figures.
fn ale_forest_svg(t: &Table) -> Option<String> {
    let rows: Vec<&Vec<String>> = t
        .rows
        .iter()
        .filter(|r| t.text(r, "variant") != crate::scenario::BASELINE)
        .filter(|r| t.num(r, "ale_reduction").is_some())
        .collect();
    if rows.is_empty() {
        return None;
    }
    let currency = t.rows.first().map_or("", |r| t.text(r, "currency"));
    let caption = format!(
        "reduction of the expected annual loss vs baseline{}; right of the dashed line is better",
        unit(currency)
    );
    let spec = Forest {
        label: "paired reduction of the expected annual loss per variant",
        width: 1000.0,
        ticks: 5,
        min_pad: 1.0,
        tick_label: |x| count(x.round()),
        caption: &caption,
    };
    let bounds = |r: &Vec<String>| {
        let d = t.num(r, "ale_reduction").unwrap_or(0.0);
        (
            d,
            t.num(r, "ale_reduction_ci_low").unwrap_or(d),
            t.num(r, "ale_reduction_ci_high").unwrap_or(d),
        )
    };
    let col = |right: f64| [right + 20.0, right + 270.0];
    let headers = |out: &mut String, right: f64, top: f64| {
        let cols = col(right);
        text(
            out,
            cols[0],
            top,
            "start",
            "title",
            &format!("reduction [95 % interval]{}", unit(currency)),
        );
        text(out, cols[1], top, "start", "title", "ROSI");
    };
    let cells = |out: &mut String,
                 row: &Vec<String>,
                 right: f64,
                 cy: f64,
                 (d, l, u): (f64, f64, f64)| {
        let cols = col(right);
        let _ = write!(
            out,
            r#"<text x="{:.1}" y="{:.1}"><tspan class="v-ale-reduction">{}</tspan> <tspan class="small v-ale-reduction-ci">[{}, {}]</tspan></text>"#,
            cols[0],
            cy + 4.0,
            esc(&count(d.round())),
            esc(&count(l.round())),
            esc(&count(u.round()))
        );
        text(
            out,
            cols[1],
            cy + 4.0,
            "start",
            "v-rosi",
            &ratio(t.num(row, "rosi")),
        );
    };
    Some(forest_frame(t, &rows, &spec, bounds, headers, cells))
}

/// The completed attacks, trials, completion rate and its interval: from run.json, or from the
/// baseline's row of comparison.csv (then prefixed "Baseline: c", else "C").
#[allow(clippy::type_complexity)]
fn summary(folder: &ResultFolder) -> Option<(&'static str, f64, f64, f64, Option<(f64, f64)>)> {
    if let Some(run) = &folder.run {
        let ci = run["completion_ci_low"]
            .as_f64()
            .zip(run["completion_ci_high"].as_f64());
        return Some((
            "C",
            run["completed"].as_f64()?,
            run["trials"].as_f64()?,
            run["completion_rate"].as_f64()?,
            ci,
        ));
    }
    let t = folder.table("comparison.csv")?;
    let row = t
        .rows
        .iter()
        .find(|r| t.text(r, "variant") == crate::scenario::BASELINE)?;
    Some((
        "Baseline: c",
        t.num(row, "completed")?,
        t.num(row, "trials")?,
        t.num(row, "completion_rate")?,
        t.num(row, "ci_low").zip(t.num(row, "ci_high")),
    ))
}

fn section(out: &mut String, title: &str, note: &str, svg: &str) {
    let _ = write!(
        out,
        "<section>\n<h2>{}</h2>\n<p class=\"note\">{}</p>\n{svg}\n</section>\n",
        esc(title),
        esc(note)
    );
}

/// The report as UTF-8 bytes; `None` when the folder has nothing to draw (none of
/// `phases.csv`, `controls.csv`, `comparison.csv`, `loss_exceedance.csv`, `frontier.csv`).
pub fn report_html(folder: &ResultFolder) -> Option<Vec<u8>> {
    let drawn = [
        "phases.csv",
        "controls.csv",
        "comparison.csv",
        "loss_exceedance.csv",
        "frontier.csv",
    ];
    if !drawn.iter().any(|f| folder.table(f).is_some()) {
        return None;
    }
    let name = folder.scenario_name();
    let mut body = String::new();
    let _ = write!(body, "<header>\n<h1>{}</h1>\n", esc(&name));
    if let Some((who, done, trials, rate, ci)) = summary(folder) {
        let ci = match ci {
            Some((lo, hi)) if lo != hi => {
                format!(" (95 % interval {} to {})", percent(lo), percent(hi))
            }
            _ => String::new(),
        };
        let _ = writeln!(
            body,
            "<p class=\"summary\">{who}ompleted attacks: <b class=\"v-completed\">{}</b> of {} campaigns = <b>{}</b>{}.</p>",
            count(done),
            count(trials),
            percent(rate),
            ci
        );
    }
    body.push_str("</header>\n");
    if let Some(t) = folder.table("phases.csv") {
        let (whose, rows) = shown_for(t);
        section(
            &mut body,
            "Kill-chain funnel",
            &format!(
                "Campaigns reaching each of the seven phases, left to right; the red part of each bar is broken there by the defender, the blue part goes on to the next phase.{whose}"
            ),
            &funnel_svg(t, &rows),
        );
    }
    if let Some(t) = folder.table("controls.csv") {
        let (whose, rows) = shown_for(t);
        section(
            &mut body,
            "Which controls broke the chain",
            &format!(
                "Chains broken attributed to each control, grouped by course of action; the last group is the adversary running out of attempts or of viable techniques.{whose}"
            ),
            &attribution_svg(t, &rows),
        );
    }
    if let Some(t) = folder.table("comparison.csv") {
        section(
            &mut body,
            "Variants against the baseline",
            "Each variant's change in the completion rate against the baseline on the same trials (a paired difference), with its 95 % interval, and its annual cost (the change against the baseline in brackets).",
            &forest_svg(t),
        );
        if let Some(svg) = ale_forest_svg(t) {
            section(
                &mut body,
                "Expected annual loss saved against the baseline",
                "Each variant's reduction of the expected annual loss against the baseline, as the mean of the paired differences of the same simulated years, with its 95 % interval, and its return on security investment: ROSI = (reduction − extra annual cost) / extra annual cost (— when the variant costs no more than the baseline does).",
                &svg,
            );
        }
        if let Some(svg) = variants_cost_loss_svg(t) {
            section(
                &mut body,
                "Cost and expected annual loss",
                "Each variant (the baseline too) by annual cost and expected annual loss, with the 95 % interval of the loss as a whisker; the variants that no other beats on both (none is at most as costly and at most as lossy, and better on one) are joined.",
                &svg,
            );
        }
    }
    if let Some(svg) = folder.table("loss_exceedance.csv").and_then(exceedance_svg) {
        section(
            &mut body,
            "Loss exceedance",
            "For each annual loss on the (logarithmic) horizontal axis, the probability that a year's loss exceeds it, per variant.",
            &svg,
        );
    }
    if let Some(svg) = folder.table("frontier.csv").and_then(frontier_svg) {
        section(
            &mut body,
            "Cost and risk frontier",
            "Each portfolio of candidate controls that `killchain optimize` evaluated, by annual cost and risk (expected annual loss when the scenario has a loss model, else completion rate); the frontier joins the portfolios that no other beats on both. Its figures come from the optimization's own trials.",
            &svg,
        );
    }
    let mut footer = String::from("<footer>\n<dl>\n");
    for (label, value) in folder.provenance() {
        let _ = writeln!(footer, "<dt>{}</dt><dd>{}</dd>", esc(label), esc(&value));
    }
    footer.push_str("</dl>\n</footer>\n");
    let page = format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\"/>\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n<title>{} — killchain report</title>\n<style>\n{STYLE}\n</style>\n</head>\n<body>\n{body}{footer}</body>\n</html>\n",
        esc(&name)
    );
    Some(page.into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_as_people_write_them() {
        assert_eq!(count(200000.0), "200,000");
        assert_eq!(count(999.0), "999");
        assert_eq!(count(1234.56), "1,234.6");
        assert_eq!(count(-1500.0), "−1,500");
        assert_eq!(percent(0.6707), "67.07%");
        assert_eq!(points(-0.0929), "−9.29");
        assert_eq!(points(0.0003), "+0.03");
        assert_eq!(points(0.0), "±0.00");
    }

    #[test]
    fn scales_map_and_tick() {
        let s = Scale::linear(0.0, 100.0, 0.0, 200.0);
        assert_eq!(s.at(50.0), 100.0);
        assert_eq!(s.ticks(4), vec![0.0, 25.0, 50.0, 75.0, 100.0]);
        let l = Scale::log(1e3, 1e6, 0.0, 300.0);
        assert!((l.at(1e4) - 100.0).abs() < 1e-9);
        assert_eq!(l.ticks(5), vec![1e3, 1e4, 1e5, 1e6]);
    }

    #[test]
    fn a_ratio_is_signed_with_two_decimals() {
        assert_eq!(ratio(Some(3.65)), "3.65");
        assert_eq!(ratio(Some(-0.3)), "−0.30");
        assert_eq!(ratio(Some(-0.001)), "0.00");
        assert_eq!(ratio(None), "—");
    }

    #[test]
    fn text_is_escaped() {
        assert_eq!(esc("<a & 'b'>"), "&lt;a &amp; &#39;b&#39;&gt;");
    }
}
