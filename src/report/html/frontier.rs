//! The page of an optimization: what to buy (the best portfolio within the budget, the next
//! better one above it, the scenario as written, as a table) and the cost/risk chart of every
//! portfolio evaluated — the budget as a line, the frontier joined, those two portfolios marked
//! and labelled with their controls, cost and risk, the dominated portfolios as a density.
//!
//! Drawn from `frontier.csv` and `optimize.json`; each number is read defensively (a missing or
//! non-finite one leaves its mark out, never a wrong one in). The size of the chart does not grow
//! with the portfolios evaluated past [`CLOUD_POINTS`]: beyond that the dominated ones are counted
//! into squares of [`CELL`] pixels, drawn as one path per shade.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::Value;

use super::svg::{BROKEN, Scale, axes_at, esc, svg_open, text, unit};
use crate::analysis::arms::verdict;
use crate::math;
use crate::report::folder::{MAX_CELL, Table};
use crate::report::format::money_with as money;
use crate::report::format::{count, percent};

/// The best portfolio within the budget.
const BEST: &str = "#0072b2";
/// The next better portfolio above the budget.
const NEXT: &str = "#009e73";
/// Dominated portfolios.
const GREY: &str = "#666666";
/// Dominated portfolios drawn one by one up to this many; past it, as a density.
pub(super) const CLOUD_POINTS: usize = 200;
/// The side of a density square, in pixels.
pub(super) const CELL: usize = 8;
/// Characters of a line of text in the chart's side panel.
const PANEL_CHARS: usize = 42;
/// Lines of control ids a label shows at most.
const MAX_CONTROL_LINES: usize = 5;

/// A number of optimize.json that the page may draw: finite, of bounded magnitude.
fn num(v: &Value) -> Option<f64> {
    v.as_f64().filter(|x| x.is_finite() && x.abs() <= MAX_CELL)
}

/// What a portfolio's rate is: one adversary's completion rate, or a threat landscape's
/// expected successful attacks a year (the `attacks_per_year` column and key).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Rate {
    Completion,
    AttacksPerYear,
}

impl Rate {
    /// The rate of a frontier.csv by its columns.
    fn of(t: &Table) -> Rate {
        if t.col("attacks_per_year").is_some() {
            Rate::AttacksPerYear
        } else {
            Rate::Completion
        }
    }

    /// Its column and key.
    fn key(self) -> &'static str {
        match self {
            Rate::Completion => "completion_rate",
            Rate::AttacksPerYear => "attacks_per_year",
        }
    }

    /// Its name in the page.
    fn title(self) -> &'static str {
        match self {
            Rate::Completion => "completion rate",
            Rate::AttacksPerYear => "successful attacks a year",
        }
    }

    /// A value: a percentage, or a number of attacks.
    fn show(self, x: f64) -> String {
        match self {
            Rate::Completion => percent(x),
            Rate::AttacksPerYear => format!("{x:.3}"),
        }
    }

    /// A change: in percentage points, or in attacks a year.
    fn change(self, x: f64) -> String {
        match self {
            Rate::Completion => format!("{} points", signed_points(x)),
            Rate::AttacksPerYear if x.abs() < 0.0005 => "±0.000".to_owned(),
            Rate::AttacksPerYear if x > 0.0 => format!("+{x:.3}"),
            Rate::AttacksPerYear => format!("−{:.3}", -x),
        }
    }
}

/// One portfolio as optimize.json states it.
#[derive(Debug, Clone)]
pub(super) struct Pick {
    /// Its controls' ids, in file order.
    pub controls: Vec<String>,
    pub cost: f64,
    pub completion_rate: f64,
    /// Expected annual loss and its 95 % interval, with `[loss]`.
    pub ale: Option<(f64, f64, f64)>,
}

impl Pick {
    fn read(v: &Value) -> Option<Pick> {
        let controls = (v["controls"].as_array()?.iter())
            .map(|c| c.as_str().map(str::to_owned))
            .collect::<Option<Vec<String>>>()?;
        let ale = num(&v["expected_annual_loss"])
            .zip(num(&v["ale_ci_low"]))
            .zip(num(&v["ale_ci_high"]))
            .map(|((a, lo), hi)| (a, lo, hi));
        Some(Pick {
            controls,
            cost: num(&v["annual_cost"])?,
            completion_rate: num(&v["completion_rate"]).or_else(|| num(&v["attacks_per_year"]))?,
            ale,
        })
    }

    /// Its risk on the chart: the expected annual loss when the chart is in money.
    fn risk(&self, by_loss: bool) -> Option<f64> {
        if by_loss {
            self.ale.map(|a| a.0)
        } else {
            Some(self.completion_rate)
        }
    }
}

/// A paired difference and its 95 % interval.
type Paired = (f64, f64, f64);

fn paired(v: &Value) -> Option<Paired> {
    Some((
        num(&v["difference"])?,
        num(&v["ci_low"])?,
        num(&v["ci_high"])?,
    ))
}

/// What optimize.json says about the choice of a portfolio.
#[derive(Debug, Clone)]
pub(super) struct Choice {
    pub budget: f64,
    pub currency: String,
    /// The objective is the expected annual loss (else the rate).
    pub by_loss: bool,
    /// What the picks' rate is.
    pub rate: Rate,
    pub best: Option<Pick>,
    pub next: Option<Pick>,
    pub written: Option<Pick>,
    /// Next better − best: completion rate, and expected annual loss with `[loss]`.
    pub next_minus_best: (Option<Paired>, Option<Paired>),
    /// Best − as written: completion rate, and expected annual loss with `[loss]`.
    pub best_minus_written: (Option<Paired>, Option<Paired>),
    /// Each candidate's name (empty when the scenario gives none) and annual cost, by id.
    pub candidates: BTreeMap<String, (String, Option<f64>)>,
    /// The search, trials and seed, as a sentence's parts.
    pub search: String,
    pub trials: String,
    pub seed: String,
    /// The seed of the independent trials the figures were re-evaluated on; empty in files
    /// that do not name one.
    pub check_seed: String,
    /// Whether every figure is exact (no trials, no seed).
    pub exact: bool,
}

impl Choice {
    /// Reads optimize.json; `None` without a finite budget.
    pub fn read(v: &Value) -> Option<Choice> {
        let candidates = (v["candidates"].as_array().into_iter().flatten())
            .filter_map(|c| {
                let id = c["id"].as_str()?.to_owned();
                let name = c["name"].as_str().unwrap_or("").to_owned();
                Some((id, (name, num(&c["annual_cost"]))))
            })
            .collect();
        let both = |v: &Value| {
            (
                paired(&v["completion_rate"]).or_else(|| paired(&v["attacks_per_year"])),
                paired(&v["expected_annual_loss"]),
            )
        };
        let word = |v: &Value| match v {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            _ => String::new(),
        };
        Some(Choice {
            budget: num(&v["budget"])?,
            currency: v["currency"].as_str().unwrap_or("").to_owned(),
            by_loss: v["objective"] == "expected_annual_loss",
            rate: if v["best_within_budget"]["attacks_per_year"].is_number() {
                Rate::AttacksPerYear
            } else {
                Rate::Completion
            },
            best: Pick::read(&v["best_within_budget"]),
            next: Pick::read(&v["next_better"]),
            written: Pick::read(&v["as_written"]),
            next_minus_best: both(&v["next_better_minus_best"]),
            best_minus_written: both(&v["best_minus_as_written"]),
            candidates,
            search: word(&v["search"]),
            trials: word(&v["trials"]),
            seed: word(&v["seed"]),
            check_seed: word(&v["check_seed"]),
            exact: v["method"] == "exact",
        })
    }

    fn money(&self, x: f64) -> String {
        money(x, &self.currency)
    }
}

/// A signed whole amount: "+1,234", "−1,234", "±0".
fn signed(x: f64) -> String {
    let c = count(x.round());
    match c.as_str() {
        "0" => "±0".to_owned(),
        _ if x > 0.0 => format!("+{c}"),
        _ => c,
    }
}

/// A signed difference of rates in percentage points: "+0.12", "−0.12".
fn signed_points(x: f64) -> String {
    super::points(x)
}

/// What a paired interval of a difference in risk says, in words.
fn said(lo: f64, hi: f64) -> &'static str {
    match verdict(lo, hi) {
        "better" => "lower, clearly (the paired 95 % interval is below 0)",
        "worse" => "higher, clearly (the paired 95 % interval is above 0)",
        _ => "no clear difference (the paired 95 % interval contains 0)",
    }
}

/// What an exact difference in risk says, in words.
fn said_exact(d: f64) -> &'static str {
    if d < 0.0 {
        "lower (exact)"
    } else if d > 0.0 {
        "higher (exact)"
    } else {
        "the same (exact)"
    }
}

/// The "what to buy" section's body: a table of the best portfolio within the budget, the next
/// better one above it and the scenario as written, then the paired differences in words.
pub(super) fn choice_html(c: &Choice) -> String {
    let mut out = String::new();
    let loss_head = if c.by_loss {
        format!(
            "<th>expected annual loss{} {}</th>",
            esc(&unit(&c.currency)),
            if c.exact {
                "(exact)"
            } else {
                "[95 % interval]"
            }
        )
    } else {
        String::new()
    };
    let _ = write!(
        out,
        "<table class=\"choice\">\n<thead><tr><th></th><th>annual cost{}</th>{loss_head}<th>{}</th><th>controls</th></tr></thead>\n<tbody>\n",
        esc(&unit(&c.currency)),
        c.rate.title()
    );
    let rows = [
        (
            "best",
            format!("Best within the budget of {}", c.money(c.budget)),
            c.best.as_ref(),
        ),
        (
            "next",
            "Next better, above the budget".to_owned(),
            c.next.as_ref(),
        ),
        (
            "written",
            "The scenario as written".to_owned(),
            c.written.as_ref(),
        ),
    ];
    for (class, title, pick) in rows {
        let _ = write!(
            out,
            "<tr class=\"{class}\"><th class=\"v-row\">{}</th>",
            esc(&title)
        );
        let Some(p) = pick else {
            let cols = if c.by_loss { 4 } else { 3 };
            let why = if class == "next" {
                "none evaluated: no dearer portfolio is better"
            } else {
                "not stated"
            };
            let _ = writeln!(out, "<td colspan=\"{cols}\">{why}</td></tr>");
            continue;
        };
        let _ = write!(
            out,
            "<td class=\"num v-cost\">{}</td>",
            count(p.cost.round())
        );
        if c.by_loss {
            let ale = p.ale.map_or("—".to_owned(), |(a, lo, hi)| {
                if c.exact {
                    return count(a.round());
                }
                format!(
                    "{} [{}, {}]",
                    count(a.round()),
                    count(lo.round()),
                    count(hi.round())
                )
            });
            let _ = write!(out, "<td class=\"num v-ale\">{}</td>", esc(&ale));
        }
        let _ = write!(
            out,
            "<td class=\"num v-rate\">{}</td><td class=\"v-controls\">",
            c.rate.show(p.completion_rate)
        );
        if p.controls.is_empty() {
            out.push_str("none of the candidates");
        } else {
            out.push_str("<ul>");
            for id in &p.controls {
                let (name, cost) = c
                    .candidates
                    .get(id)
                    .map_or(("", None), |(n, k)| (n.as_str(), *k));
                let cost = cost.map_or(String::new(), |k| format!(" — {}", c.money(k)));
                let name = if name.is_empty() || name == id {
                    String::new()
                } else {
                    format!(" {}", esc(name))
                };
                let _ = write!(
                    out,
                    "<li><code class=\"v-control\">{}</code>{name}{}</li>",
                    esc(id),
                    esc(&cost)
                );
            }
            out.push_str("</ul>");
        }
        out.push_str("</td></tr>\n");
    }
    out.push_str("</tbody>\n</table>\n");
    let difference = |title: &str, d: &(Option<Paired>, Option<Paired>), extra: f64| {
        let money_part = d.1.filter(|_| c.by_loss).map(|(x, lo, hi)| {
            if c.exact {
                return format!(
                    "expected annual loss {}{} a year: {}",
                    signed(x),
                    esc(&unit_suffix(&c.currency)),
                    said_exact(x)
                );
            }
            format!(
                "expected annual loss {}{} a year [{}, {}]: {}",
                signed(x),
                esc(&unit_suffix(&c.currency)),
                signed(lo),
                signed(hi),
                said(lo, hi)
            )
        });
        let rate_part = d.0.map(|(x, lo, hi)| {
            if c.exact {
                return format!("{} {}: {}", c.rate.title(), c.rate.change(x), said_exact(x));
            }
            format!(
                "completion rate {} points [{}, {}]: {}",
                signed_points(x),
                signed_points(lo),
                signed_points(hi),
                said(lo, hi)
            )
        });
        let parts: Vec<String> = money_part.into_iter().chain(rate_part).collect();
        (!parts.is_empty()).then(|| {
            format!(
                "<p class=\"note\"><b>{title}</b> ({} a year): {}.</p>\n",
                esc(&signed_money(c, extra)),
                parts.join("; ")
            )
        })
    };
    if let (Some(best), Some(next)) = (&c.best, &c.next) {
        if let Some(p) = difference(
            "Next better − best",
            &c.next_minus_best,
            next.cost - best.cost,
        ) {
            out.push_str(&p);
        }
        let added: Vec<&str> = (next.controls.iter())
            .filter(|id| !best.controls.contains(id))
            .map(String::as_str)
            .collect();
        let dropped: Vec<&str> = (best.controls.iter())
            .filter(|id| !next.controls.contains(id))
            .map(String::as_str)
            .collect();
        let mut change = Vec::new();
        if !added.is_empty() {
            change.push(format!("adds {}", added.join(", ")));
        }
        if !dropped.is_empty() {
            change.push(format!("drops {}", dropped.join(", ")));
        }
        if !change.is_empty() {
            let _ = writeln!(
                out,
                "<p class=\"note v-change\">The next better portfolio {} (against the best within the budget).</p>",
                esc(&change.join(" and "))
            );
        }
    }
    if let (Some(best), Some(written)) = (&c.best, &c.written) {
        if let Some(p) = difference(
            "Best − as written",
            &c.best_minus_written,
            best.cost - written.cost,
        ) {
            out.push_str(&p);
        }
    }
    out
}

/// "+5,000 USD" of extra annual cost.
fn signed_money(c: &Choice, x: f64) -> String {
    format!("{}{}", signed(x), unit_suffix(&c.currency))
}

fn unit_suffix(currency: &str) -> String {
    if currency.is_empty() {
        String::new()
    } else {
        format!(" {currency}")
    }
}

/// One portfolio of frontier.csv on the chart.
struct Point<'a> {
    controls: &'a str,
    cost: f64,
    risk: f64,
    ci: Option<(f64, f64)>,
    on_frontier: bool,
}

/// Splits `words` into lines of at most `width` characters (a longer word gets its own line).
fn wrap(words: &[&str], sep: &str, width: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut current = String::new();
    for (i, w) in words.iter().enumerate() {
        let piece = if i + 1 < words.len() {
            format!("{w}{sep}")
        } else {
            (*w).to_owned()
        };
        let len = current.chars().count() + piece.trim_end().chars().count();
        if !current.is_empty() && len > width {
            lines.push(current.trim_end().to_owned());
            current.clear();
        }
        current.push_str(&piece);
    }
    if !current.trim_end().is_empty() {
        lines.push(current.trim_end().to_owned());
    }
    lines
}

/// Ticks of a log axis from `10^lo` to `10^hi`: 1, 2 and 5 times each power of ten when the
/// axis spans at most four decades, else the powers alone.
fn log_ticks(lo: i32, hi: i32) -> Vec<f64> {
    let steps: &[f64] = if hi - lo <= 4 {
        &[1.0, 2.0, 5.0]
    } else {
        &[1.0]
    };
    let top = math::pow(10.0, f64::from(hi));
    let mut out = Vec::new();
    for e in lo..=hi {
        for m in steps {
            let t = m * math::pow(10.0, f64::from(e));
            if t <= top * (1.0 + 1e-9) {
                out.push(t);
            }
        }
    }
    out
}

/// `optimize`'s portfolios by annual cost and expected annual loss (completion rate when the
/// loss cells are empty). With `choice` (from optimize.json): the budget as a line, the best
/// portfolio within it and the next better one marked and labelled beside the chart.
pub(super) fn frontier_svg(t: &Table, choice: Option<&Choice>) -> Option<String> {
    let by_loss = t
        .rows
        .iter()
        .any(|r| t.num(r, "expected_annual_loss").is_some());
    let rate = Rate::of(t);
    let y_col = if by_loss {
        "expected_annual_loss"
    } else {
        rate.key()
    };
    let pts: Vec<Point> = t
        .rows
        .iter()
        .filter_map(|r| {
            let on_frontier = t.cell(r, "on_frontier") == "true";
            let ci = (by_loss && on_frontier)
                .then(|| t.num(r, "ale_ci_low").zip(t.num(r, "ale_ci_high")))
                .flatten();
            Some(Point {
                controls: t.text(r, "controls"),
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
    let currency = choice.map_or("", |c| c.currency.as_str());
    let picks: Vec<(&str, &str, &Pick, f64)> = choice
        .into_iter()
        .flat_map(|c| {
            [
                ("best", "Best within the budget", c.best.as_ref()),
                ("next", "Next better, above the budget", c.next.as_ref()),
            ]
        })
        .filter_map(|(class, title, p)| {
            let p = p?;
            Some((class, title, p, p.risk(by_loss)?))
        })
        .collect();

    let (xmax, ymin, ymax) = pts.iter().fold((0.0f64, f64::MAX, 0.0f64), |(a, b, c), p| {
        let top = p.ci.map_or(p.risk, |(_, hi)| hi.max(p.risk));
        (a.max(p.cost), b.min(p.risk), c.max(top))
    });
    // The budget is drawn when it falls near the costs evaluated; one far above them all is
    // said in the legend instead of squeezing every point to the left.
    let budget = choice
        .map(|c| c.budget)
        .filter(|b| *b >= 0.0 && *b <= xmax.max(1.0) * 1.25);
    let xtop = budget.map_or(xmax, |b| b.max(xmax));
    let xpad = (xtop * 0.04).max(1.0);

    let lines_of = |p: &Pick| {
        let ids: Vec<&str> = p.controls.iter().map(String::as_str).collect();
        let mut l = if ids.is_empty() {
            vec!["none of the candidates".to_owned()]
        } else {
            wrap(&ids, ", ", PANEL_CHARS)
        };
        if l.len() > MAX_CONTROL_LINES {
            l.truncate(MAX_CONTROL_LINES - 1);
            l.push("… (every control in the table below)".to_owned());
        }
        l
    };
    // The side panel: a label per marked portfolio, then the legend.
    let label_height = |p: &Pick| 18.0 + 15.0 * (3.0 + lines_of(p).len() as f64) + 10.0;
    let panel: f64 = picks
        .iter()
        .map(|(_, _, p, _)| label_height(p) + 12.0)
        .sum();
    let h = (panel + 150.0).max(440.0);
    let w = 1000.0;
    let frame = (96.0, 20.0, 660.0, h - 60.0);
    let x = Scale::linear(0.0, xtop + xpad, frame.0, frame.2);

    let log = by_loss && ymin > 0.0 && ymax / ymin >= 20.0;
    let (y, y_ticks) = if log {
        let lo_pos = pts
            .iter()
            .flat_map(|p| [Some(p.risk), p.ci.map(|c| c.0)])
            .flatten()
            .filter(|v| *v > 0.0)
            .fold(ymin, f64::min);
        // An interval reaching far below the lowest point (a small number of years) extends
        // the axis one decade at most; its whisker is cut at the axis.
        let lowest = math::log10(ymin).floor();
        let lo = math::log10(lo_pos)
            .floor()
            .max(lowest - 1.0)
            .clamp(-300.0, 300.0) as i32;
        let hi = (math::log10(ymax).ceil().clamp(-300.0, 300.0) as i32).max(lo + 1);
        let y = Scale::log(
            math::pow(10.0, f64::from(lo)),
            math::pow(10.0, f64::from(hi)),
            frame.3,
            frame.1,
        );
        (y, log_ticks(lo, hi))
    } else {
        let y = Scale::linear(0.0, ymax * 1.08, frame.3, frame.1);
        let ticks = y.ticks(5);
        (y, ticks)
    };
    // A value on the y axis, kept inside the frame (a log axis has no place for 0).
    let at_y = |v: f64| y.at(v).clamp(frame.1, frame.3);
    let fmt_risk = |v: f64| {
        if by_loss {
            money(v, currency)
        } else {
            rate.show(v)
        }
    };

    let mut out = String::new();
    svg_open(
        &mut out,
        w,
        h,
        "annual cost against risk of every portfolio evaluated",
    );
    // Over budget: a light shade right of the budget line, under everything.
    if let Some(b) = budget {
        let bx = x.at(b);
        let _ = write!(
            out,
            r##"<rect x="{bx:.1}" y="{:.1}" width="{:.1}" height="{:.1}" fill="#000000" fill-opacity="0.04"/>"##,
            frame.1,
            (frame.2 - bx).max(0.0),
            frame.3 - frame.1
        );
    }
    let y_title = if by_loss {
        format!(
            "expected annual loss{}{}",
            unit(currency),
            if log { ", log scale" } else { "" }
        )
    } else {
        rate.title().to_owned()
    };
    let y_fmt = |v: f64| {
        if by_loss {
            count(v.round())
        } else {
            rate.show(v)
        }
    };
    axes_at(
        &mut out,
        (&x, &x.ticks(6)),
        (&y, &y_ticks),
        &|v| count(v.round()),
        &y_fmt,
        &format!("annual cost of the controls{}", unit(currency)),
        &y_title,
        frame,
    );

    // The dominated portfolios: one by one when few, else counted into squares.
    // A portfolio's tooltip: its controls, cost and risk, then `interval` (empty or " [...]").
    let tooltip = |p: &Point, interval: &str| {
        let risk = if by_loss {
            "expected annual loss"
        } else {
            rate.title()
        };
        let controls = if p.controls.is_empty() {
            "no candidate"
        } else {
            p.controls
        };
        esc(&format!(
            "{controls}: annual cost {}, {risk} {}{interval}",
            money(p.cost, currency),
            fmt_risk(p.risk)
        ))
    };
    let others: Vec<&Point> = pts.iter().filter(|p| !p.on_frontier).collect();
    if others.len() <= CLOUD_POINTS {
        for p in &others {
            let _ = write!(
                out,
                r#"<g><title>{}</title><circle cx="{:.1}" cy="{:.1}" r="2.5" fill="{GREY}" fill-opacity="0.6"/></g>"#,
                tooltip(p, ""),
                x.at(p.cost),
                at_y(p.risk)
            );
        }
    } else {
        let mut cells: BTreeMap<(usize, usize), u32> = BTreeMap::new();
        let (fw, fh) = (frame.2 - frame.0, frame.3 - frame.1);
        let (nx, ny) = ((fw / CELL as f64) as usize, (fh / CELL as f64) as usize);
        for p in &others {
            let cx = ((x.at(p.cost) - frame.0) / CELL as f64).floor().max(0.0) as usize;
            let cy = ((at_y(p.risk) - frame.1) / CELL as f64).floor().max(0.0) as usize;
            *cells.entry((cx.min(nx - 1), cy.min(ny - 1))).or_default() += 1;
        }
        // Shades by powers of four: 1, 2–4, 5–16, 17–64, 65 and more.
        let opacity = [0.12, 0.24, 0.38, 0.55, 0.75];
        let mut paths = vec![String::new(); opacity.len()];
        for ((cx, cy), n) in &cells {
            let level = match n {
                1 => 0,
                2..=4 => 1,
                5..=16 => 2,
                17..=64 => 3,
                _ => 4,
            };
            let _ = write!(
                paths[level],
                "M{} {}h{CELL}v{CELL}h-{CELL}z",
                frame.0 as usize + cx * CELL,
                frame.1 as usize + cy * CELL
            );
        }
        let _ = write!(
            out,
            "<g class=\"cloud\"><title>{} other portfolios evaluated, counted into squares: the darker, the more</title>",
            count(others.len() as f64)
        );
        for (d, o) in paths.iter().zip(opacity) {
            if !d.is_empty() {
                let _ = write!(out, r#"<path d="{d}" fill="{GREY}" fill-opacity="{o}"/>"#);
            }
        }
        out.push_str("</g>");
    }

    // The frontier, joined, each point with its interval and a tooltip.
    let mut frontier: Vec<&Point> = pts.iter().filter(|p| p.on_frontier).collect();
    frontier.sort_by(|a, b| a.cost.total_cmp(&b.cost).then(b.risk.total_cmp(&a.risk)));
    let path: Vec<String> = frontier
        .iter()
        .map(|p| format!("{:.1},{:.1}", x.at(p.cost), at_y(p.risk)))
        .collect();
    let _ = write!(
        out,
        r#"<polyline class="frontier" points="{}" fill="none" stroke="{BROKEN}" stroke-width="2"/>"#,
        path.join(" ")
    );
    for p in &frontier {
        let (px, py) = (x.at(p.cost), at_y(p.risk));
        let interval =
            p.ci.map(|(lo, hi)| format!(" [95 % interval {}, {}]", fmt_risk(lo), fmt_risk(hi)))
                .unwrap_or_default();
        let _ = write!(out, "<g><title>{}</title>", tooltip(p, &interval));
        if let Some((lo, hi)) = p.ci {
            let (ylo, yhi) = (at_y(lo), at_y(hi));
            let _ = write!(
                out,
                r#"<path d="M{px:.1},{ylo:.1}V{yhi:.1}" stroke="{BROKEN}" stroke-width="1" fill="none"/>"#
            );
        }
        let _ = write!(
            out,
            r#"<circle cx="{px:.1}" cy="{py:.1}" r="3.5" fill="{BROKEN}"/></g>"#
        );
    }

    // The budget line, labelled at its top.
    if let Some(b) = budget {
        let bx = x.at(b);
        let _ = write!(
            out,
            r#"<line x1="{bx:.1}" y1="{:.1}" x2="{bx:.1}" y2="{:.1}" class="budget"/>"#,
            frame.1, frame.3
        );
        let (lx, anchor) = if bx > frame.2 - 150.0 {
            (bx - 6.0, "end")
        } else {
            (bx + 6.0, "start")
        };
        let _ = write!(
            out,
            r#"<text x="{lx:.1}" y="{:.1}" text-anchor="{anchor}" class="v-budget">budget {}</text>"#,
            frame.1 + 14.0,
            esc(&money(b, currency))
        );
    }

    // The marked portfolios and their labels in the side panel, joined by a leader line.
    let panel_x = frame.2 + 24.0;
    let panel_w = w - panel_x - 8.0;
    let mut top = frame.1;
    for (class, title, p, risk) in &picks {
        let colour = if *class == "best" { BEST } else { NEXT };
        let (px, py) = (x.at(p.cost), at_y(*risk));
        let lines = lines_of(p);
        let box_h = label_height(p);
        let _ = write!(
            out,
            r#"<line x1="{px:.1}" y1="{py:.1}" x2="{panel_x:.1}" y2="{:.1}" stroke="{colour}" stroke-width="1" stroke-dasharray="2 2"/>"#,
            top + 14.0
        );
        if let (true, Some((_, lo, hi))) = (by_loss, p.ale) {
            let _ = write!(
                out,
                r#"<path d="M{px:.1},{:.1}V{:.1}" stroke="{colour}" stroke-width="2.5" fill="none"/>"#,
                at_y(lo),
                at_y(hi)
            );
        }
        let marker = if *class == "best" {
            format!(r#"<circle cx="{px:.1}" cy="{py:.1}" r="7""#)
        } else {
            format!(
                r#"<rect x="{:.1}" y="{:.1}" width="12" height="12""#,
                px - 6.0,
                py - 6.0
            )
        };
        let _ = write!(
            out,
            r##"<g class="pick-{class}"><title>{}</title>{marker} fill="{colour}" stroke="#ffffff" stroke-width="2"/></g>"##,
            esc(title)
        );
        let _ = write!(
            out,
            r##"<rect x="{panel_x:.1}" y="{top:.1}" width="{panel_w:.1}" height="{box_h:.1}" fill="#ffffff" stroke="{colour}" stroke-width="1.5" rx="3"/>"##
        );
        let tx = panel_x + 8.0;
        let mut ty = top + 18.0;
        let _ = write!(
            out,
            r#"<text x="{tx:.1}" y="{ty:.1}" class="title" fill="{colour}"><tspan class="v-pick-title">{}</tspan></text>"#,
            esc(title)
        );
        ty += 17.0;
        let _ = write!(
            out,
            r#"<text x="{tx:.1}" y="{ty:.1}">annual cost <tspan class="v-pick-cost">{}</tspan></text>"#,
            esc(&money(p.cost, currency))
        );
        ty += 15.0;
        match (by_loss, p.ale) {
            (true, Some((a, lo, hi))) => {
                let _ = write!(
                    out,
                    r#"<text x="{tx:.1}" y="{ty:.1}">expected annual loss <tspan class="v-pick-risk">{}</tspan></text>"#,
                    esc(&money(a, currency))
                );
                ty += 15.0;
                let _ = write!(
                    out,
                    r#"<text x="{tx:.1}" y="{ty:.1}" class="small">95 % interval <tspan class="v-pick-ci">{} – {}</tspan></text>"#,
                    esc(&count(lo.round())),
                    esc(&count(hi.round()))
                );
            }
            _ => {
                let _ = write!(
                    out,
                    r#"<text x="{tx:.1}" y="{ty:.1}">{} <tspan class="v-pick-risk">{}</tspan></text>"#,
                    rate.title(),
                    rate.show(p.completion_rate)
                );
                ty += 15.0;
                let _ = write!(
                    out,
                    r#"<text x="{tx:.1}" y="{ty:.1}" class="small">{} controls:</text>"#,
                    p.controls.len()
                );
            }
        }
        for l in &lines {
            ty += 15.0;
            let _ = write!(
                out,
                r#"<text x="{tx:.1}" y="{ty:.1}" class="small"><tspan class="v-pick-controls">{}</tspan></text>"#,
                esc(l)
            );
        }
        top += box_h + 12.0;
    }

    // The legend, below the labels.
    let mut ly = top + 14.0;
    let lx = panel_x + 30.0;
    let mut entry = |out: &mut String, swatch: String, words: &str| {
        out.push_str(&swatch.replace("{Y}", &format!("{:.1}", ly - 4.0)));
        let ws: Vec<&str> = words.split(' ').collect();
        for (i, l) in wrap(&ws, " ", PANEL_CHARS - 5).iter().enumerate() {
            let class = if i == 0 && words == "Legend" {
                "title"
            } else {
                "small"
            };
            text(out, lx, ly, "start", class, l);
            ly += 14.0;
        }
        ly += 4.0;
    };
    let sx = panel_x + 4.0;
    entry(&mut out, String::new(), "Legend");
    entry(
        &mut out,
        format!(
            r#"<line x1="{sx:.1}" y1="{{Y}}" x2="{:.1}" y2="{{Y}}" stroke="{BROKEN}" stroke-width="2"/><circle cx="{:.1}" cy="{{Y}}" r="3.5" fill="{BROKEN}"/>"#,
            sx + 20.0,
            sx + 10.0
        ),
        &format!(
            "the frontier: the {} portfolios that no other is both cheaper and less risky than{}",
            frontier.len(),
            if by_loss {
                ", each with the 95 % interval of its loss"
            } else {
                ""
            }
        ),
    );
    let cloud_words = if others.len() <= CLOUD_POINTS {
        format!("the {} other portfolios evaluated", others.len())
    } else {
        format!(
            "the {} other portfolios evaluated, counted into squares: the darker, the more",
            count(others.len() as f64)
        )
    };
    entry(
        &mut out,
        format!(
            r#"<rect x="{:.1}" y="{{Y}}" width="8" height="8" fill="{GREY}" fill-opacity="0.45" transform="translate(0 -4)"/>"#,
            sx + 6.0
        ),
        &cloud_words,
    );
    if let Some(c) = choice {
        let words = match budget {
            Some(_) => format!(
                "budget: {} a year; shaded: over it",
                money(c.budget, currency)
            ),
            None => format!(
                "budget: {} a year, above every portfolio evaluated",
                money(c.budget, currency)
            ),
        };
        entry(
            &mut out,
            format!(
                r#"<line x1="{:.1}" y1="{{Y}}" x2="{:.1}" y2="{{Y}}" class="budget" transform="rotate(90 {:.1} {{Y}})"/>"#,
                sx + 2.0,
                sx + 18.0,
                sx + 10.0
            ),
            &words,
        );
        entry(
            &mut out,
            String::new(),
            &if c.exact {
                format!("{} search, every figure exact", c.search)
            } else if c.check_seed.is_empty() {
                format!("{} search, {} trials, seed {}", c.search, c.trials, c.seed)
            } else {
                format!(
                    "{} search, {} trials, chosen on seed {}, figures from seed {}",
                    c.search, c.trials, c.seed, c.check_seed
                )
            },
        );
    }
    out.push_str("</svg>");
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_wrap_at_the_width_and_keep_every_word() {
        let ids = ["vpn-mfa", "asr-rules", "patch-sla", "builtin-av", "edr-mdr"];
        let lines = wrap(&ids, ", ", 24);
        assert_eq!(
            lines,
            ["vpn-mfa, asr-rules,", "patch-sla, builtin-av,", "edr-mdr"]
        );
        assert!(lines.iter().all(|l| l.chars().count() <= 24));
        let long = ["a-control-id-longer-than-the-width"];
        assert_eq!(wrap(&long, ", ", 10), long);
    }

    #[test]
    fn log_ticks_are_one_two_five_per_decade_up_to_four_decades() {
        assert_eq!(log_ticks(5, 7), [1e5, 2e5, 5e5, 1e6, 2e6, 5e6, 1e7]);
        assert_eq!(log_ticks(0, 6), [1.0, 10.0, 100.0, 1e3, 1e4, 1e5, 1e6]);
    }

    #[test]
    fn a_damaged_optimize_json_leaves_out_what_it_cannot_state() {
        let v = serde_json::json!({
            "budget": 100.0,
            "best_within_budget": {"controls": ["a"], "annual_cost": "x", "completion_rate": 0.1},
            "next_better": null,
            "as_written": {"controls": ["a", 7], "annual_cost": 1.0, "completion_rate": 0.1},
            "candidates": [{"id": "a", "name": 3}, {"name": "no id"}],
        });
        let c = Choice::read(&v).unwrap();
        assert!(c.best.is_none() && c.next.is_none() && c.written.is_none());
        assert_eq!(c.candidates.len(), 1);
        assert_eq!(c.candidates["a"], (String::new(), None));
        let table = choice_html(&c);
        assert_eq!(table.matches("not stated").count(), 2, "{table}");
        assert!(table.contains("none evaluated"));
        assert!(
            !table.contains("<b>"),
            "no difference without the portfolios"
        );
        // Without a budget there is no choice to show.
        for budget in [serde_json::json!("100"), serde_json::json!(null)] {
            assert!(Choice::read(&serde_json::json!({ "budget": budget })).is_none());
        }
    }

    #[test]
    fn a_page_without_a_budget_line_when_the_budget_is_far_above_every_cost() {
        let t = Table::parse(
            b"portfolio,controls,annual_cost,completion_rate,on_frontier\r\n0,,0,0.5,true\r\n1,a,10,0.2,true\r\n",
        )
        .unwrap();
        let v = serde_json::json!({
            "budget": 1000.0,
            "objective": "completion_rate",
            "best_within_budget": {"controls": ["a"], "annual_cost": 10.0, "completion_rate": 0.2},
        });
        let c = Choice::read(&v).unwrap();
        let svg = frontier_svg(&t, Some(&c)).unwrap();
        assert!(!svg.contains("v-budget"));
        assert!(svg.contains(">budget: 1,000 a year, above every</text>"));
        assert_eq!(svg.matches("class=\"pick-best\"").count(), 1);
        // Within 25 % of the dearest portfolio, the budget is a line.
        let v = serde_json::json!({"budget": 12.0});
        let svg = frontier_svg(&t, Choice::read(&v).as_ref()).unwrap();
        assert!(svg.contains(">budget 12</text>"));
    }

    #[test]
    fn signed_amounts_use_a_true_minus_and_no_sign_for_zero() {
        assert_eq!(signed(1253.2), "+1,253");
        assert_eq!(signed(-1253.2), "−1,253");
        assert_eq!(signed(0.3), "±0");
        assert_eq!(signed(-0.3), "±0");
    }
}
