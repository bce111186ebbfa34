//! `frontier.csv`, `optimize.json` and the terminal summary of `optimize`.

use std::fmt::Write as _;

use super::csv_out::{finish, record, writer};
use super::format::{counted, grouped, money, rate6, signed6};
use super::{Method, text_cell};
use crate::analysis::arms::{exact_difference, verdict};
use crate::analysis::chains::AdversaryValue;
use crate::analysis::optimize::{Optimum, Portfolio, Problem};

/// Column names of `frontier.csv`.
pub const FRONTIER_HEADER: [&str; 9] = [
    "portfolio",
    "controls",
    "annual_cost",
    "completion_rate",
    "expected_annual_loss",
    "ale_ci_low",
    "ale_ci_high",
    "on_frontier",
    "method",
];

/// Column names of `frontier.csv` for a threat landscape: the expected successful attacks a
/// year in place of the completion rate.
pub const LANDSCAPE_FRONTIER_HEADER: [&str; 9] = [
    "portfolio",
    "controls",
    "annual_cost",
    "attacks_per_year",
    "expected_annual_loss",
    "ale_ci_low",
    "ale_ci_high",
    "on_frontier",
    "method",
];

/// One adversary of a threat landscape under the portfolios a summary names, exact.
#[derive(Debug, Clone)]
pub struct AdversaryPicks {
    /// Under the best portfolio within the budget.
    pub best: AdversaryValue,
    /// Under the next better one above it.
    pub next: Option<AdversaryValue>,
    /// Under the scenario as written.
    pub written: AdversaryValue,
}

/// What the terminal summary of a search shows.
#[derive(Debug, Clone)]
pub struct OptimizeSummary<'a> {
    /// The scenario's name.
    pub scenario: &'a str,
    /// The searched problem.
    pub problem: &'a Problem,
    /// The search's result.
    pub optimum: &'a Optimum,
    /// The seed of the trials the portfolios were chosen on (Monte Carlo only).
    pub seed: u64,
    /// The seed of the independent trials every reported figure comes from (see
    /// [`crate::analysis::optimize::check_seed`]; Monte Carlo only).
    pub check_seed: u64,
    /// The budget.
    pub budget: f64,
    /// The scenario as written, with its figures (on the check trials, or exact).
    pub as_written: Portfolio,
    /// Paired difference in completion rate, next better − best, with its 95 % interval (exact:
    /// the difference three times).
    pub next_vs_best: Option<(f64, f64, f64)>,
    /// Paired difference in completion rate, best − as written, with its 95 % interval.
    pub best_vs_written: (f64, f64, f64),
    /// For each frontier point after the first (by cost), the paired difference in completion
    /// rate against the previous frontier point, with its 95 % interval.
    pub frontier_steps: Vec<(f64, f64, f64)>,
    /// When the objective is the expected annual loss: the same comparisons in money.
    pub money: Option<MoneySummary<'a>>,
    /// In a threat landscape: each adversary's figures under the best, the next better and the
    /// as-written portfolio (the rates above are then the landscape's successful attacks a
    /// year); empty for one adversary.
    pub adversaries: Vec<AdversaryPicks>,
}

/// The comparisons of an `optimize` summary in expected annual loss, each a paired difference
/// over the same simulated years with its 95 % interval (exact: the difference three times).
#[derive(Debug, Clone)]
pub struct MoneySummary<'a> {
    /// The currency label.
    pub currency: &'a str,
    /// Next better − best.
    pub next_vs_best: Option<(f64, f64, f64)>,
    /// Best − as written.
    pub best_vs_written: (f64, f64, f64),
    /// Each frontier point after the first − the previous frontier point.
    pub frontier_steps: Vec<(f64, f64, f64)>,
}

impl MoneySummary<'_> {
    /// "1,234,567 USD".
    fn amount(&self, x: f64) -> String {
        let mut s = grouped(x);
        if !self.currency.is_empty() {
            s.push(' ');
            s.push_str(self.currency);
        }
        s
    }

    /// A portfolio's expected annual loss with its 95 % interval, or "(exact)".
    fn ale(&self, p: &Portfolio) -> String {
        match (p.ale(), p.method()) {
            (Some((ale, _, _)), Method::Exact) => format!("{} (exact)", self.amount(ale)),
            (Some((ale, lo, hi)), Method::MonteCarlo) => {
                format!("{} [{}, {}]", self.amount(ale), grouped(lo), grouped(hi))
            }
            (None, _) => String::new(),
        }
    }
}

/// A signed whole amount with thousands separators: "+1,234", "-1,234", "+0".
fn signed(x: f64) -> String {
    let g = grouped(x);
    if g.starts_with('-') {
        g
    } else {
        format!("+{g}")
    }
}

fn rate(p: &Portfolio, trials: u64) -> f64 {
    p.completion_rate(trials)
}

/// `frontier.csv`: every evaluated portfolio, by annual cost, then objective. The loss columns
/// hold the expected annual loss and its 95 % interval when the scenario has `[loss]` (and the
/// trials hold a whole simulated year; exact: the value in all three); empty otherwise.
pub fn frontier_csv(problem: &Problem, optimum: &Optimum) -> Vec<u8> {
    let mut w = writer();
    let header = if problem.landscape() {
        &LANDSCAPE_FRONTIER_HEADER
    } else {
        &FRONTIER_HEADER
    };
    record(&mut w, header);
    for p in &optimum.portfolios {
        let [ale, lo, hi] = match p.ale() {
            Some((ale, lo, hi)) => [money(ale), money(lo), money(hi)],
            None => Default::default(),
        };
        record(
            &mut w,
            &[
                p.mask.to_string(),
                text_cell(&problem.ids(p.mask).join(" ")),
                format!("{:.2}", p.cost),
                rate6(Some(rate(p, optimum.trials))),
                ale,
                lo,
                hi,
                p.on_frontier.to_string(),
                p.method().id().to_owned(),
            ],
        );
    }
    finish(w)
}

/// Frontier rows the terminal shows at most.
const SHOWN: usize = 30;

/// A difference in completion rate with its paired interval and verdict; exact, the
/// difference and its sign in words.
fn paired(d: (f64, f64, f64), method: Method) -> String {
    let (d, lo, hi) = d;
    match method {
        Method::Exact => format!("{} (exact), {}", signed6(d), exact_word(d)),
        Method::MonteCarlo => format!("{d:+.4} [{lo:+.4}, {hi:+.4}] {}", word(lo, hi)),
    }
}

/// What an exact difference says.
fn exact_word(d: f64) -> &'static str {
    if d < 0.0 {
        "better"
    } else if d > 0.0 {
        "worse"
    } else {
        "the same"
    }
}

fn paired_money(m: &MoneySummary, d: (f64, f64, f64), method: Method) -> String {
    let (d, lo, hi) = d;
    let currency = if m.currency.is_empty() {
        String::new()
    } else {
        format!(" {}", m.currency)
    };
    if method == Method::Exact {
        return format!("{}{currency} a year (exact), {}", signed(d), exact_word(d));
    }
    format!(
        "{}{currency} [{}, {}] a year, {}",
        signed(d),
        signed(lo),
        signed(hi),
        word(lo, hi)
    )
}

fn word(lo: f64, hi: f64) -> &'static str {
    match verdict(lo, hi) {
        "no clear difference" => "no clear difference: the paired interval contains 0",
        w => w,
    }
}

/// The terminal summary: the frontier, the best portfolio within the budget, the next better one
/// above it, and the paired differences that tell whether either difference is real. With
/// `[loss]` the objective, the steps and the differences are in expected annual loss.
pub fn optimize_table(s: &OptimizeSummary) -> String {
    let o = s.optimum;
    let m = s.money.as_ref();
    let mut out = String::new();
    let n = s.problem.n_candidates();
    let method = o.method();
    let exact = method == Method::Exact;
    let landscape = s.problem.landscape();
    // A landscape's rate is its expected successful attacks a year.
    let (rate_word, rate_head) = if landscape {
        ("successful attacks a year", "attacks/yr")
    } else {
        ("completion", "completion")
    };
    let counted_loss = (o.portfolios.first())
        .and_then(|p| p.counted())
        .and_then(|(_, l)| l);
    let objective = match (m, counted_loss) {
        (Some(m), None) => format!(
            "expected annual loss{}",
            if m.currency.is_empty() {
                String::new()
            } else {
                format!(" ({})", m.currency)
            }
        ),
        (Some(m), Some(l)) => format!(
            "expected annual loss ({}{})",
            if m.currency.is_empty() {
                String::new()
            } else {
                format!("{}, ", m.currency)
            },
            counted(l.years, "simulated year", "simulated years")
        ),
        (None, Some(_)) => {
            "completion rate (no whole simulated year in these trials; run more for the expected annual loss)".to_owned()
        }
        _ if landscape => "expected successful attacks a year".to_owned(),
        _ => "completion rate".to_owned(),
    };
    let evaluated = format!(
        "{} — {}, {} evaluated ({})",
        s.scenario,
        counted(n as u64, "candidate", "candidates"),
        counted(o.portfolios.len() as u64, "portfolio", "portfolios"),
        o.search.id(),
    );
    if exact {
        let _ = writeln!(out, "{evaluated}, exact; objective = {objective}");
        if landscape {
            let _ = writeln!(
                out,
                "every figure below is exact: each adversary's phases evaluated by enumeration once per subset of their candidates and per attack-path state entering them, a portfolio the chain of its phases; no trials, so no sampling error and no choice flattered by it"
            );
        } else if s.problem.has_paths() {
            let _ = writeln!(
                out,
                "every figure below is exact: each phase evaluated by enumeration once per subset of its candidates and per attack-path state entering it, a portfolio the chain of its phases; no trials, so no sampling error and no choice flattered by it"
            );
        } else {
            let _ = writeln!(
                out,
                "every figure below is exact: each phase evaluated by enumeration once per subset of its candidates, a portfolio the product of its phases; no trials, so no sampling error and no choice flattered by it"
            );
        }
    } else {
        let _ = writeln!(
            out,
            "{evaluated}, {}, seed {}; objective = {objective}",
            counted(o.trials, "trial", "trials"),
            s.seed
        );
        let _ = writeln!(
            out,
            "chosen on the trials of seed {}; every figure below re-evaluated on {} independent trials of seed {} (seed xor 2^62), so the best is not flattered by its choice",
            s.seed,
            grouped(o.trials as f64),
            s.check_seed
        );
    }
    let frontier: Vec<&Portfolio> = o.portfolios.iter().filter(|p| p.on_frontier).collect();
    let step_width = if m.is_some() { 36 } else { 30 };
    let step_head = if exact {
        "step (exact)"
    } else {
        "step [95% paired interval]"
    };
    if m.is_some() {
        let _ = writeln!(
            out,
            "{:>14} {:>14} {:>10}  {:<step_width$}  frontier portfolio",
            "annual cost", "annual loss", rate_head, step_head
        );
    } else {
        let _ = writeln!(
            out,
            "{:>14} {:>10}  {:<step_width$}  frontier portfolio",
            "annual cost", rate_head, step_head
        );
    }
    // A window of the frontier around the best portfolio within the budget.
    let at_best = (frontier.iter())
        .position(|p| p.mask == o.portfolios[o.best].mask)
        .unwrap_or(0);
    let first = at_best
        .saturating_sub(SHOWN * 2 / 3)
        .min(frontier.len().saturating_sub(SHOWN));
    let last = (first + SHOWN).min(frontier.len());
    if first > 0 {
        let _ = writeln!(
            out,
            "{:>14} ({} in frontier.csv)",
            "…",
            counted(
                first as u64,
                "cheaper frontier point",
                "cheaper frontier points"
            )
        );
    }
    let mut ties = false;
    for (i, p) in frontier.iter().enumerate().take(last).skip(first) {
        let steps = m.map_or(&s.frontier_steps, |m| &m.frontier_steps);
        let step = match i.checked_sub(1).and_then(|j| steps.get(j)) {
            Some(&(d, _, _)) if exact => {
                if m.is_some() {
                    signed(d)
                } else {
                    signed6(d)
                }
            }
            Some(&(d, lo, hi)) => {
                let tie = if lo <= 0.0 && hi >= 0.0 { " ≈" } else { "" };
                ties |= !tie.is_empty();
                if m.is_some() {
                    format!("{} [{}, {}]{tie}", signed(d), signed(lo), signed(hi))
                } else {
                    format!("{d:+.4} [{lo:+.4}, {hi:+.4}]{tie}")
                }
            }
            None => "—".to_owned(),
        };
        let ale = match p.ale() {
            Some((ale, _, _)) if m.is_some() => format!("{:>14} ", grouped(ale)),
            _ => String::new(),
        };
        let _ = writeln!(
            out,
            "{:>14.0} {ale}{:>10.4}  {:<step_width$}  {}",
            p.cost,
            rate(p, o.trials),
            step,
            s.problem.ids(p.mask).join(" ")
        );
    }
    if last < frontier.len() {
        let _ = writeln!(
            out,
            "{:>14} ({} in frontier.csv)",
            "…",
            counted(
                (frontier.len() - last) as u64,
                "dearer frontier point",
                "dearer frontier points"
            )
        );
    }
    if ties {
        let _ = writeln!(
            out,
            "{:>14} ≈: the step is within its paired interval, no clear difference from the point before",
            ""
        );
    }
    let best = &o.portfolios[o.best];
    let list = |mask: u64| {
        let ids = s.problem.ids(mask);
        if ids.is_empty() {
            "(no candidate)".to_owned()
        } else {
            ids.join(" ")
        }
    };
    // "expected annual loss …, " with [loss].
    let loss_of = |p: &Portfolio| match (m, p.ale()) {
        (Some(m), Some(_)) => format!("expected annual loss {}, ", m.ale(p)),
        _ => String::new(),
    };
    let _ = writeln!(
        out,
        "best within budget {:.0}: cost {:.0}, {}{rate_word} {:.4}: {}",
        s.budget,
        best.cost,
        loss_of(best),
        rate(best, o.trials),
        list(best.mask)
    );
    match (o.next_better, s.next_vs_best) {
        (Some(i), Some(d)) => {
            let next = &o.portfolios[i];
            let _ = writeln!(
                out,
                "next better above it: cost {:.0} (+{:.0}), {}{rate_word} {:.4}: {}",
                next.cost,
                next.cost - best.cost,
                loss_of(next),
                rate(next, o.trials),
                list(next.mask)
            );
            match m.and_then(|m| m.next_vs_best.map(|dm| (m, dm))) {
                Some((m, dm)) => {
                    let _ = writeln!(
                        out,
                        "  next better − best: {}; {rate_word} {}",
                        paired_money(m, dm, method),
                        paired(d, method)
                    );
                }
                None => {
                    let _ = writeln!(out, "  next better − best: {}", paired(d, method));
                }
            }
        }
        _ => {
            let what = if m.is_some() {
                "has a lower expected annual loss"
            } else if landscape {
                "has fewer expected successful attacks a year"
            } else {
                "completes fewer trials"
            };
            let _ = writeln!(
                out,
                "next better above it: none evaluated (no dearer portfolio {what})"
            );
        }
    }
    let _ = writeln!(
        out,
        "as written: cost {:.0}, {}{rate_word} {:.4}",
        s.as_written.cost,
        loss_of(&s.as_written),
        rate(&s.as_written, o.trials)
    );
    match m {
        Some(m) => {
            let _ = writeln!(
                out,
                "  best − as written: {}; {rate_word} {}",
                paired_money(m, m.best_vs_written, method),
                paired(s.best_vs_written, method)
            );
        }
        None => {
            let _ = writeln!(
                out,
                "  best − as written: {}",
                paired(s.best_vs_written, method)
            );
        }
    }
    adversary_lines(&mut out, s);
    out
}

/// A landscape's adversaries under the best portfolio and as written, with the change: a table.
fn adversary_lines(out: &mut String, s: &OptimizeSummary) {
    if s.adversaries.is_empty() {
        return;
    }
    let m = (s.money.as_ref()).filter(|_| s.adversaries.iter().all(|a| a.best.ale.is_some()));
    let width = (s.adversaries.iter())
        .map(|a| a.best.id.chars().count())
        .chain([9])
        .max()
        .unwrap_or(9);
    let currency = m
        .as_ref()
        .filter(|m| !m.currency.is_empty())
        .map_or(String::new(), |m| format!(" ({})", m.currency));
    let money_head = if m.is_some() {
        format!("expected annual loss{currency}")
    } else {
        String::new()
    };
    let _ = writeln!(out, "by adversary (exact):");
    let heads = format!(
        "{:w0$}{:<23}{:<34}{money_head}",
        "",
        "completion",
        "successful attacks a year",
        w0 = width + 4
    );
    let _ = writeln!(out, "{}", heads.trim_end());
    let money_cols = if m.is_some() {
        format!("  {:>12} {:>12} {:>12}", "best", "as written", "change")
    } else {
        String::new()
    };
    let _ = writeln!(
        out,
        "  {:<width$}  {:>8} {:>12}  {:>8} {:>12} {:>10}{money_cols}",
        "adversary", "best", "as written", "best", "as written", "change"
    );
    for a in &s.adversaries {
        let (b, w) = (&a.best, &a.written);
        let money = match (m.is_some(), b.ale, w.ale) {
            (true, Some(x), Some(y)) => format!(
                "  {:>12} {:>12} {:>12}",
                grouped(x),
                grouped(y),
                signed(x - y)
            ),
            _ => String::new(),
        };
        let _ = writeln!(
            out,
            "  {:<width$}  {:>8.4} {:>12.4}  {:>8.4} {:>12.4} {:>10}{money}",
            b.id,
            b.completion,
            w.completion,
            b.attacks_per_year,
            w.attacks_per_year,
            signed6(exact_difference(b.attacks_per_year, w.attacks_per_year)),
        );
    }
}

/// `optimize.json`: what the page of an optimization shows beside the frontier — the budget,
/// the candidates (id, name, annual cost), the best portfolio within the budget, the next better
/// one above it and the scenario as written (each with its controls, cost, completion rate and,
/// with `[loss]`, expected annual loss and its 95 % interval), the paired differences the
/// terminal prints, and the run's provenance. Pretty JSON with sorted keys; a pure function of
/// the search's result.
pub fn optimize_json(s: &OptimizeSummary, scenario_file: &str, scenario_sha256: &str) -> Vec<u8> {
    use serde_json::{Value, json};
    let o = s.optimum;
    let m = s.money.as_ref();
    let trials = o.trials;
    let exact = o.method() == Method::Exact;
    let loss_json = |p: &Portfolio| match p.ale().filter(|_| m.is_some()) {
        Some((ale, lo, hi)) => {
            json!({"expected_annual_loss": ale, "ale_ci_low": lo, "ale_ci_high": hi})
        }
        None => json!({"expected_annual_loss": null, "ale_ci_low": null, "ale_ci_high": null}),
    };
    let landscape = s.problem.landscape();
    let rate_key = if landscape {
        "attacks_per_year"
    } else {
        "completion_rate"
    };
    let adversary_json = |v: &AdversaryValue| {
        json!({
            "id": v.id,
            "completion_rate": v.completion,
            "attacks_per_year": v.attacks_per_year,
            "expected_annual_loss": v.ale.filter(|_| m.is_some()),
        })
    };
    let of = |p: &Portfolio, adversaries: Option<Vec<&AdversaryValue>>| {
        let mut v = json!({
            "portfolio": p.mask,
            "controls": s.problem.ids(p.mask),
            "annual_cost": p.cost,
            rate_key: p.completion_rate(trials),
        });
        if let (Value::Object(a), Value::Object(b)) = (&mut v, loss_json(p)) {
            a.extend(b);
        }
        if let (Value::Object(a), Some(list)) = (&mut v, adversaries.filter(|_| landscape)) {
            let list: Vec<Value> = list.into_iter().map(adversary_json).collect();
            a.insert("adversaries".to_owned(), Value::Array(list));
        }
        v
    };
    let diff = |d: (f64, f64, f64)| json!({"difference": d.0, "ci_low": d.1, "ci_high": d.2});
    let paired = |rate: Option<(f64, f64, f64)>, money: Option<(f64, f64, f64)>| match rate {
        Some(r) => json!({
            rate_key: diff(r),
            "expected_annual_loss": money.map(diff),
        }),
        None => Value::Null,
    };
    let best = &o.portfolios[o.best];
    let next = o.next_better.map(|i| &o.portfolios[i]);
    let objective = if m.is_some() && best.by_loss() {
        "expected_annual_loss"
    } else {
        rate_key
    };
    let names = s.problem.candidate_names();
    let candidates: Vec<Value> = (s.problem.candidate_ids().into_iter().enumerate())
        .map(|(k, id)| {
            json!({"id": id, "name": names[k], "annual_cost": s.problem.candidate_cost(k)})
        })
        .collect();
    let value = json!({
        "killchain_version": env!("CARGO_PKG_VERSION"),
        "scenario": s.scenario,
        "scenario_file": scenario_file,
        "scenario_sha256": scenario_sha256,
        "method": o.method().id(),
        "seed": (!exact).then_some(s.seed),
        "check_seed": (!exact).then_some(s.check_seed),
        "trials": (!exact).then_some(trials),
        "search": o.search.id(),
        "candidates": candidates,
        "portfolios_evaluated": o.portfolios.len(),
        "budget": s.budget,
        "objective": objective,
        "currency": m.map(|m| m.currency),
        "best_within_budget": of(best, Some(s.adversaries.iter().map(|a| &a.best).collect())),
        "next_better": next.map(|n| of(n, s.adversaries.iter().map(|a| a.next.as_ref()).collect())),
        "as_written": of(&s.as_written, Some(s.adversaries.iter().map(|a| &a.written).collect())),
        "next_better_minus_best": paired(
            s.next_vs_best.filter(|_| next.is_some()),
            m.and_then(|m| m.next_vs_best),
        ),
        "best_minus_as_written": paired(
            Some(s.best_vs_written),
            m.map(|m| m.best_vs_written),
        ),
    });
    let mut bytes = serde_json::to_vec_pretty(&value).expect("a JSON value serializes");
    bytes.push(b'\n');
    bytes
}
