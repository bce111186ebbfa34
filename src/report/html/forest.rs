//! The forest plots, on one frame: a comparison's variants by their paired change in completion
//! rate with their annual cost, and by their paired reduction of the expected annual loss with
//! their ROSI; a ranking's controls by the completion rate each buys, with the loss it saves.

use std::fmt::Write as _;

use super::svg::{ArmStyle, Arms, PASSED, Scale, arm_style, esc, line, svg_open, text, unit};
use crate::report::folder::Table;
use crate::report::format::money_with as money;
use crate::report::format::{count, points, ratio};

/// How a forest plot is drawn: its accessible label, what a row is (`arm` or `control`: each
/// row's marks are a `<g data-arm="…">` or `<g data-control="…">`), width, number of ticks,
/// smallest padding of the axis, tick labels and the caption under the axis.
struct Forest<'a> {
    label: &'a str,
    series: &'a str,
    width: f64,
    ticks: usize,
    min_pad: f64,
    tick_label: fn(f64) -> String,
    caption: &'a str,
}

/// The frame shared by the forest plots: one row per variant (or control) with its name, its
/// interval as a line and its estimate as a dot in its style, the grid at the ticks, the zero
/// line in the style of what the rows are measured against, and the caption.
/// `look` gives a row's name and style, `bounds` its (estimate, low, high); `headers` writes the
/// column titles right of the plot (given the plot's right edge and top), `cells` a row's
/// numbers (given the right edge, the row's y and its bounds).
#[allow(clippy::too_many_arguments)]
fn forest_frame(
    rows: &[&Vec<String>],
    look: impl Fn(&Vec<String>) -> (String, ArmStyle),
    zero_style: ArmStyle,
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
    let zero = x.at(0.0);
    let _ = write!(
        out,
        r#"<line x1="{zero:.1}" y1="{:.1}" x2="{zero:.1}" y2="{bottom:.1}"{}/>"#,
        top + 8.0,
        zero_style.stroke(1.5)
    );
    line(&mut out, left, bottom, left + plot_w, bottom, "axis");
    for (i, row) in rows.iter().enumerate() {
        let cy = top + row_h * (i as f64 + 1.0);
        let (name, style) = look(row);
        text(&mut out, left - 10.0, cy + 4.0, "end", "v-row", &name);
        let (d, l, u) = bounds(row);
        let _ = write!(
            out,
            r#"<g data-{}="{}"><line x1="{:.1}" y1="{cy:.1}" x2="{:.1}" y2="{cy:.1}"{}/><circle cx="{:.1}" cy="{cy:.1}" r="5" fill="{}"/></g>"#,
            spec.series,
            esc(&name),
            x.at(l),
            x.at(u),
            style.stroke(2.0),
            x.at(d),
            style.colour
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
pub(super) fn forest_svg(t: &Table, arms: &Arms) -> String {
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
        series: "arm",
        width: if has_loss { 1180.0 } else { 1000.0 },
        ticks: 6,
        min_pad: 1e-4,
        tick_label: points,
        caption: "change in completion rate vs baseline (percentage points); left of the baseline's dashed line is better",
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
                        format!(" (+{})", count(d.round()))
                    } else {
                        format!(" ({})", count(d.round()))
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
    let look = |r: &Vec<String>| {
        let name = t.text(r, "variant");
        (name.to_owned(), arms.style(name))
    };
    forest_frame(&rows, look, arms.baseline(), &spec, bounds, headers, cells)
}

/// Forest plot in money: each variant's paired reduction of the expected annual loss against
/// the baseline with its interval, and its ROSI; `None` without loss figures.
pub(super) fn ale_forest_svg(t: &Table, arms: &Arms) -> Option<String> {
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
        "reduction of the expected annual loss vs baseline{}; right of the baseline's dashed line is better",
        unit(currency)
    );
    let spec = Forest {
        label: "paired reduction of the expected annual loss per variant",
        series: "arm",
        width: 1110.0,
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
        ratio_cell(
            out,
            (cols[1], cy + 4.0),
            "v-rosi",
            t.num(row, "rosi"),
            (t.num(row, "rosi_ci_low"), t.num(row, "rosi_ci_high")),
        );
    };
    let look = |r: &Vec<String>| {
        let name = t.text(r, "variant");
        (name.to_owned(), arms.style(name))
    };
    Some(forest_frame(
        &rows,
        look,
        arms.baseline(),
        &spec,
        bounds,
        headers,
        cells,
    ))
}

/// What a control of `ranking.csv` buys, in completion rate, with its interval (simultaneous
/// over the controls in a file that also has the unadjusted ones, else its own 95 %): the
/// change when it alone is switched, its sign turned for a control in place (switching it off is
/// what it prevents), so that a positive value is a lower completion rate.
pub(super) fn ranked_value(t: &Table, row: &[String]) -> (f64, f64, f64) {
    let d = t.num(row, "delta").unwrap_or(0.0);
    let (lo, hi) = (
        t.num(row, "delta_ci_low").unwrap_or(d),
        t.num(row, "delta_ci_high").unwrap_or(d),
    );
    if t.cell(row, "enabled") == "true" {
        (d, lo, hi)
    } else {
        (-d, -hi, -lo)
    }
}

/// Forest plot of a ranking: each control, in the ranking's order, by the completion rate it
/// buys with its interval, its course of action, whether it is in place, its annual cost and,
/// with `[loss]`, the expected annual loss it saves and its return on control.
pub(super) fn ranking_svg(t: &Table) -> Option<String> {
    let rows: Vec<&Vec<String>> = t.rows.iter().collect();
    if rows.is_empty() {
        return None;
    }
    let has_loss = t.col("ale_delta").is_some();
    // Simultaneous intervals (all controls' at once, 95 %) where the file says so.
    let interval_title = if t.col("delta_unadjusted_ci_low").is_some() {
        "buys [95 % joint], pp"
    } else {
        "buys [95 % interval], pp"
    };
    let currency = t.rows.first().map_or("", |r| t.text(r, "currency"));
    let spec = Forest {
        label: "completion rate each control buys",
        series: "control",
        width: if has_loss { 1330.0 } else { 1000.0 },
        ticks: 6,
        min_pad: 1e-4,
        tick_label: points,
        caption: "completion rate the control buys (percentage points); right of the dashed line (the scenario as written) is better",
    };
    let col = |right: f64| {
        [
            right + 16.0,
            right + 182.0,
            right + 246.0,
            right + 310.0,
            right + 392.0,
            right + 508.0,
        ]
    };
    let headers = |out: &mut String, right: f64, top: f64| {
        let cols = col(right);
        text(out, cols[0], top, "start", "title", interval_title);
        text(out, cols[1], top, "start", "title", "action");
        text(out, cols[2], top, "start", "title", "in place");
        text(
            out,
            cols[3],
            top,
            "start",
            "title",
            &format!("cost{}", unit(currency)),
        );
        if has_loss {
            text(
                out,
                cols[4],
                top,
                "start",
                "title",
                &format!("loss saved{}", unit(currency)),
            );
            text(out, cols[5], top, "start", "title", "return");
        }
    };
    let cells = |out: &mut String, row: &Vec<String>, right: f64, cy: f64, (d, l, u)| {
        let cols = col(right);
        let _ = write!(
            out,
            r#"<text x="{:.1}" y="{:.1}"><tspan class="v-value">{}</tspan> <tspan class="small v-value-ci">[{}, {}]</tspan></text>"#,
            cols[0],
            cy + 4.0,
            points(d),
            points(l),
            points(u)
        );
        text(out, cols[1], cy + 4.0, "start", "", t.text(row, "action"));
        let in_place = if t.cell(row, "enabled") == "true" {
            "yes"
        } else {
            "no"
        };
        text(out, cols[2], cy + 4.0, "start", "v-enabled", in_place);
        let cost = t
            .num(row, "annual_cost")
            .map_or_else(|| "—".to_owned(), |c| money(c, ""));
        text(out, cols[3], cy + 4.0, "start", "v-cost", &cost);
        if has_loss {
            let saved = t.num(row, "ale_delta").map(|a| {
                if t.cell(row, "enabled") == "true" {
                    a
                } else {
                    -a
                }
            });
            let saved = saved.map_or_else(|| "—".to_owned(), |s| money(s, ""));
            text(out, cols[4], cy + 4.0, "start", "v-saved", &saved);
            ratio_cell(
                out,
                (cols[5], cy + 4.0),
                "v-return",
                t.num(row, "return_on_control"),
                (
                    t.num(row, "return_on_control_ci_low"),
                    t.num(row, "return_on_control_ci_high"),
                ),
            );
        }
    };
    let look = |r: &Vec<String>| {
        (
            t.text(r, "control").to_owned(),
            ArmStyle {
                colour: PASSED,
                dash: "",
            },
        )
    };
    let bounds = |r: &Vec<String>| ranked_value(t, r);
    Some(forest_frame(
        &rows,
        look,
        arm_style(0),
        &spec,
        bounds,
        headers,
        cells,
    ))
}

/// A return (ROSI, return on control) with its interval in small type when the file has one
/// (Monte Carlo; an exact value has none to show), "—" without a return.
fn ratio_cell(
    out: &mut String,
    (x, y): (f64, f64),
    class: &str,
    value: Option<f64>,
    interval: (Option<f64>, Option<f64>),
) {
    match (value, interval) {
        (Some(_), (Some(lo), Some(hi))) if lo != hi => {
            let _ = write!(
                out,
                r#"<text x="{x:.1}" y="{y:.1}"><tspan class="{class}">{}</tspan> <tspan class="small {class}-ci">[{}, {}]</tspan></text>"#,
                esc(&ratio(value)),
                esc(&ratio(Some(lo))),
                esc(&ratio(Some(hi)))
            );
        }
        _ => text(out, x, y, "start", class, &ratio(value)),
    }
}
