//! The money charts: loss exceedance curves on a log axis, and a comparison's variants by annual
//! cost against their expected annual loss (`optimize`'s frontier is in `frontier`).

use std::fmt::Write as _;

use super::svg::{BROKEN, PALETTE, Scale, axes, esc, rect, svg_open, text, unit};
use crate::analysis::frontier::pareto;
use crate::math;
use crate::report::folder::Table;
use crate::report::format::money_with as money;
use crate::report::format::{count, percent};

/// Loss exceedance curves, one per variant, on a log-scaled loss axis.
pub(super) fn exceedance_svg(t: &Table) -> Option<String> {
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

/// Annual cost against risk (expected annual loss in money when `money_axis`, else completion
/// rate), the frontier points joined. Every point is labelled with its name and risk, and
/// carries a tooltip with its cost and interval.
fn cost_risk_svg(pts: &[CostPoint], currency: &str, money_axis: bool, legend: &str) -> String {
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
    let mut placed: Vec<(f64, f64, f64)> = Vec::new();
    for p in pts {
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
        // A variant is labelled above its point, else below, else further out: the first place
        // inside the frame whose label overlaps no earlier one (over another where it must).
        let free = |ly: f64| {
            !placed
                .iter()
                .any(|(qx, qw, qy)| x0 < qx + qw && *qx < x0 + width && (qy - ly).abs() < 13.0)
        };
        let ly = [-6.0, 17.0, -20.0, 31.0]
            .iter()
            .map(|d| py + d)
            .filter(|ly| (frame.1 + 10.0..=frame.3 - 4.0).contains(ly))
            .find(|ly| free(*ly))
            .unwrap_or(py - 6.0);
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

/// A comparison's variants by annual cost and expected annual loss with its 95 % interval,
/// the variants that no other beats on both joined; `None` without loss figures.
pub(super) fn variants_cost_loss_svg(t: &Table) -> Option<String> {
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
        "red: variants that no other beats on both cost and loss, joined; whiskers: the 95 % interval of the expected annual loss",
    ))
}
