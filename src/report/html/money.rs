//! The money charts: loss exceedance curves on a log axis, and a comparison's variants by annual
//! cost against their expected annual loss (`optimize`'s frontier is in `frontier`); and the
//! money block, each arm's expected annual loss and percentiles as a table.

use std::fmt::Write as _;

use super::svg::{
    Arms, BASELINE_DASH, BROKEN, GREY, JOIN, Scale, axes, colour_word, esc, svg_open, text, unit,
};
use crate::analysis::frontier::pareto;
use crate::math;
use crate::report::folder::Table;
use crate::report::format::money_with as money;
use crate::report::format::{count, percent, points};

/// A point of an exceedance curve: annual loss, probability exceeded, its interval's ends.
type CurveRow = (f64, f64, Option<f64>, Option<f64>);

/// Loss exceedance curves, one per arm in its style, on a log-scaled loss axis: the interval
/// bands first, then the variants' curves, then the baseline's on top of them all.
pub(super) fn exceedance_svg(t: &Table, arms: &Arms) -> Option<String> {
    let mut groups = t.by_variant();
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
        .filter_map(|r| {
            t.num(r, "band_high")
                .or(t.num(r, "ci_high"))
                .or(t.num(r, "probability_exceeded"))
        })
        .fold(0.0f64, f64::max)
        .clamp(0.01, 1.0);
    let (w, h) = (1000.0, 400.0);
    let frame = (90.0, 20.0, 760.0, 330.0);
    let x = Scale::log(
        math::pow(10.0, math::log10(lmin).floor()),
        math::pow(10.0, math::log10(lmax).ceil()),
        frame.0,
        frame.2,
    );
    let y = Scale::linear(0.0, pmax, frame.3, frame.1);
    let mut out = String::new();
    svg_open(&mut out, w, h, "loss exceedance curves");
    axes(
        &mut out,
        &x,
        &y,
        &|v| count(v),
        &|v| percent(v),
        &format!("annual loss{}, log scale", unit(currency)),
        "probability the annual loss exceeds it",
        frame,
    );
    // The page's order of arms, the baseline last so that it is drawn on top.
    groups.sort_by_key(|(v, _)| {
        let i = arms.index(v);
        if i == 0 { usize::MAX } else { i }
    });
    let curves: Vec<(&str, Vec<CurveRow>)> = groups
        .iter()
        .map(|(variant, rows)| {
            let mut curve: Vec<_> = rows
                .iter()
                .filter_map(|r| {
                    let l = t.num(r, "annual_loss")?;
                    let p = t.num(r, "probability_exceeded")?;
                    // The simultaneous band when the file has it, else the pointwise one.
                    let lo = t.num(r, "band_low").or(t.num(r, "ci_low"));
                    let hi = t.num(r, "band_high").or(t.num(r, "ci_high"));
                    (l > 0.0).then_some((l, p, lo, hi))
                })
                .collect();
            curve.sort_by(|a, b| a.0.total_cmp(&b.0));
            (variant.as_str(), curve)
        })
        .collect();
    for (variant, curve) in &curves {
        if curve.iter().all(|c| c.2.is_some() && c.3.is_some()) && !curve.is_empty() {
            let mut band = String::new();
            for c in curve {
                let _ = write!(band, "{:.1},{:.1} ", x.at(c.0), y.at(c.3.unwrap_or(c.1)));
            }
            for c in curve.iter().rev() {
                let _ = write!(band, "{:.1},{:.1} ", x.at(c.0), y.at(c.2.unwrap_or(c.1)));
            }
            let _ = write!(
                out,
                r#"<polygon points="{}" fill="{}" fill-opacity="0.12" stroke="none" data-arm="{}"/>"#,
                band.trim_end(),
                arms.style(variant).colour,
                esc(variant)
            );
        }
    }
    for (variant, curve) in &curves {
        let path: Vec<String> = curve
            .iter()
            .map(|c| format!("{:.1},{:.1}", x.at(c.0), y.at(c.1)))
            .collect();
        let _ = write!(
            out,
            r#"<polyline points="{}" fill="none"{} data-arm="{}"/>"#,
            path.join(" "),
            arms.style(variant).stroke(2.5),
            esc(variant)
        );
    }
    // The legend, in the page's order of arms (the baseline first).
    let mut shown: Vec<&str> = curves.iter().map(|(v, _)| *v).collect();
    shown.sort_by_key(|v| arms.index(v));
    for (i, variant) in shown.iter().enumerate() {
        let ly = frame.1 + 10.0 + 20.0 * i as f64;
        let _ = write!(
            out,
            r#"<line x1="{:.1}" y1="{:.1}" x2="{:.1}" y2="{:.1}"{} data-arm="{}"/>"#,
            frame.2 + 14.0,
            ly - 4.0,
            frame.2 + 44.0,
            ly - 4.0,
            arms.style(variant).stroke(2.5),
            esc(variant)
        );
        text(&mut out, frame.2 + 50.0, ly, "start", "", variant);
    }
    text(
        &mut out,
        frame.2 + 14.0,
        frame.1 + 20.0 + 20.0 * shown.len() as f64,
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
    /// The colour of the point and its whisker; else the frontier's colour on the frontier,
    /// grey off it.
    colour: Option<&'a str>,
}

/// Annual cost against risk (expected annual loss in money when `money_axis`, else completion
/// rate), the frontier points joined. Points are labelled with their name and risk: all of
/// them when `label_all`, else those on the frontier whose labels do not overlap; these points
/// carry a tooltip with their cost and interval. `join` is the colour of the line.
fn cost_risk_svg(
    pts: &[CostPoint],
    currency: &str,
    money_axis: bool,
    label_all: bool,
    join: &str,
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
        r#"<polyline points="{}" fill="none" stroke="{join}" stroke-width="2"/>"#,
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
        let r = if p.on_frontier { 5 } else { 4 };
        let colour = match p.colour {
            Some(c) => c,
            None if p.on_frontier => BROKEN,
            None => GREY,
        };
        let (px, py) = (x.at(p.cost), y.at(p.risk));
        let interval =
            p.ci.map(|(lo, hi)| format!(" [95 % interval {}, {}]", fmt_risk(lo), fmt_risk(hi)))
                .unwrap_or_default();
        let arm = if p.colour.is_some() {
            format!(r#" data-arm="{}""#, esc(p.name))
        } else {
            String::new()
        };
        let _ = write!(
            out,
            "<g{arm}><title>{}: annual cost {}, {} {}{}</title>",
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

/// A comparison's arms by annual cost and expected annual loss with its 95 % interval, each in
/// its style, the arms that no other beats on both joined; `None` without loss figures.
pub(super) fn variants_cost_loss_svg(t: &Table, arms: &Arms) -> Option<String> {
    let pts: Vec<CostPoint> = t
        .rows
        .iter()
        .filter_map(|r| {
            let name = t.text(r, "variant");
            Some(CostPoint {
                name,
                cost: t.num(r, "annual_cost")?,
                risk: t.num(r, "expected_annual_loss")?,
                ci: t.num(r, "ale_ci_low").zip(t.num(r, "ale_ci_high")),
                on_frontier: false,
                colour: Some(arms.style(name).colour),
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
    let legend = format!(
        "{} line: the arms (the baseline among them) that no other beats on both cost and loss; whiskers: the 95 % interval of the loss",
        colour_word(JOIN)
    );
    Some(cost_risk_svg(&pts, currency, true, true, JOIN, &legend))
}

/// One arm's row of the money block: the expected annual loss with its interval and the
/// percentiles of annual loss, as the terminal prints them.
pub(super) struct MoneyRow<'a> {
    /// The arm's name; `None` on a run's page (one arm, named by the page).
    pub(super) name: Option<&'a str>,
    /// Expected annual loss, its 95 % interval; `None` when no whole simulated year was played.
    pub(super) ale: Option<(f64, f64, f64)>,
    /// P50, P90 and P99 of annual loss; `None` when not computed (the exact method).
    pub(super) percentiles: Option<[f64; 3]>,
    /// Their distribution-free 95 % intervals, when the folder has them.
    pub(super) percentile_ci: Option<[(f64, f64); 3]>,
}

/// The money block: per arm, the expected annual loss, its 95 % interval (or "exact") and the
/// P50, P90 and P99 of annual loss, in the currency (named in the header); each arm's name
/// beside a swatch of its style. An HTML table, so that the figures read as text.
pub(super) fn money_block(rows: &[MoneyRow], currency: &str, exact: bool, arms: &Arms) -> String {
    let amount = |x: f64| money(x, "");
    let mut out = String::from("<table class=\"money\">\n<tr>");
    if rows.iter().any(|r| r.name.is_some()) {
        out.push_str("<th></th>");
    }
    let _ = writeln!(
        out,
        "<th>expected annual loss{}</th><th>95 % interval</th><th>P50</th><th>P90</th><th>P99</th></tr>",
        esc(&unit(currency))
    );
    for r in rows {
        out.push_str("<tr>");
        if let Some(name) = r.name {
            out.push_str(&arm_cell(name, arms));
        }
        match r.ale {
            Some((m, lo, hi)) => {
                let interval = if exact {
                    "exact".to_owned()
                } else {
                    format!(
                        r#"<span class="v-ale-low">{}</span> to <span class="v-ale-high">{}</span>"#,
                        esc(&amount(lo)),
                        esc(&amount(hi))
                    )
                };
                let _ = write!(
                    out,
                    r#"<td class="v-ale">{}</td><td>{interval}</td>"#,
                    esc(&amount(m))
                );
            }
            None => out.push_str(
                "<td colspan=\"2\">no whole simulated year in these trials; run more</td>",
            ),
        }
        for (i, class) in ["v-p50", "v-p90", "v-p99"].iter().enumerate() {
            let cell = r
                .percentiles
                .map_or_else(|| "—".to_owned(), |p| amount(p[i]));
            let _ = write!(out, r#"<td class="{class}">{}"#, esc(&cell));
            if let (Some(_), Some(ci)) = (r.percentiles, r.percentile_ci) {
                let (lo, hi) = ci[i];
                let _ = write!(
                    out,
                    r#"<br><span class="small {class}-ci">{} to {}</span>"#,
                    esc(&amount(lo)),
                    esc(&amount(hi))
                );
            }
            out.push_str("</td>");
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</table>\n");
    out
}

/// A table row's header cell: the arm's name beside a swatch of its style.
fn arm_cell(name: &str, arms: &Arms) -> String {
    let style = arms.style(name);
    let border = match style.dash {
        "" => "solid",
        BASELINE_DASH => "dashed",
        _ => "dotted",
    };
    format!(
        r#"<th class="arm" data-arm="{}"><span class="swatch" style="border-top:3px {border} {}"></span>{}</th>"#,
        esc(name),
        style.colour,
        esc(name)
    )
}

/// The power table of a comparison (from comparison.csv's `min_effect` and
/// `trials_for_min_effect`): per variant, the paired trials a Monte Carlo comparison needs to
/// detect a change of `min_effect` in completion rate with 80 % power at 95 % two-sided, "—"
/// for a variant that plays as the baseline. `None` when the file has no such figure (an older
/// file, or every variant plays as the baseline).
pub(super) fn power_table(t: &Table, arms: &Arms) -> Option<String> {
    t.col("trials_for_min_effect")?;
    let rows: Vec<&Vec<String>> = t
        .rows
        .iter()
        .filter(|r| t.text(r, "variant") != crate::scenario::BASELINE)
        .collect();
    if rows
        .iter()
        .all(|r| t.num(r, "trials_for_min_effect").is_none())
    {
        return None;
    }
    let mut out = String::from(
        "<table class=\"money\">\n<tr><th></th><th>smallest change worth detecting</th><th>paired trials for 80 % power</th></tr>\n",
    );
    for r in rows {
        let effect = t.num(r, "min_effect").map_or_else(
            || "—".to_owned(),
            |e| format!("{} pp", points(e).trim_start_matches('+')),
        );
        let trials = t
            .num(r, "trials_for_min_effect")
            .map_or_else(|| "—".to_owned(), count);
        let _ = writeln!(
            out,
            r#"<tr>{}<td>{}</td><td class="v-trials">{}</td></tr>"#,
            arm_cell(t.text(r, "variant"), arms),
            esc(&effect),
            esc(&trials)
        );
    }
    out.push_str("</table>\n");
    Some(out)
}
