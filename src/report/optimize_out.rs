//! `frontier.csv` and the terminal summary of `optimize`.

use std::fmt::Write as _;

use super::csv_out::{finish, record, writer};
use super::{Method, rate6, text_cell};
use crate::compare::verdict;
use crate::optimize::{Optimum, Portfolio, Problem};

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

/// What the terminal summary of a search shows.
#[derive(Debug, Clone)]
pub struct OptimizeSummary<'a> {
    /// The scenario's name.
    pub scenario: &'a str,
    /// The searched problem.
    pub problem: &'a Problem,
    /// The search's result.
    pub optimum: &'a Optimum,
    /// The seed of the trials.
    pub seed: u64,
    /// The budget.
    pub budget: f64,
    /// The scenario as written: its portfolio and completed trials.
    pub as_written: (u64, u64),
    /// Paired difference in completion rate, next better − best, with its 95 % interval.
    pub next_vs_best: Option<(f64, f64, f64)>,
    /// Paired difference in completion rate, best − as written, with its 95 % interval.
    pub best_vs_written: (f64, f64, f64),
    /// For each frontier point after the first (by cost), the paired difference in completion
    /// rate against the previous frontier point, with its 95 % interval.
    pub frontier_steps: Vec<(f64, f64, f64)>,
}

fn rate(p: &Portfolio, trials: u64) -> f64 {
    p.completed as f64 / trials.max(1) as f64
}

/// `frontier.csv`: every evaluated portfolio, by annual cost, then completion rate. The loss
/// columns are empty: the objective is the completion rate.
pub fn frontier_csv(problem: &Problem, optimum: &Optimum) -> Vec<u8> {
    let mut w = writer();
    record(&mut w, &FRONTIER_HEADER);
    for p in &optimum.portfolios {
        record(
            &mut w,
            &[
                p.mask.to_string(),
                text_cell(&problem.ids(p.mask).join(" ")),
                format!("{:.2}", p.cost),
                rate6(Some(rate(p, optimum.trials))),
                String::new(),
                String::new(),
                String::new(),
                p.on_frontier.to_string(),
                Method::MonteCarlo.id().to_owned(),
            ],
        );
    }
    finish(w)
}

/// Frontier rows the terminal shows at most.
const SHOWN: usize = 30;

fn paired(d: (f64, f64, f64)) -> String {
    let (d, lo, hi) = d;
    let word = match verdict(lo, hi) {
        "no clear difference" => "no clear difference: the paired interval contains 0",
        w => w,
    };
    format!("{d:+.4} [{lo:+.4}, {hi:+.4}] {word}")
}

/// The terminal summary: the frontier, the best portfolio within the budget, the next better one
/// above it, and the paired differences that tell whether either difference is real.
pub fn optimize_table(s: &OptimizeSummary) -> String {
    let o = s.optimum;
    let mut out = String::new();
    let n = s.problem.n_candidates();
    let _ = writeln!(
        out,
        "{} — {} candidates, {} portfolios evaluated ({}), {} trials, seed {}; objective = completion rate",
        s.scenario,
        n,
        o.portfolios.len(),
        o.search.id(),
        o.trials,
        s.seed
    );
    let frontier: Vec<&Portfolio> = o.portfolios.iter().filter(|p| p.on_frontier).collect();
    let _ = writeln!(
        out,
        "{:>14} {:>10}  {:<30}  frontier portfolio",
        "annual cost", "completion", "step [95% paired interval]"
    );
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
            "{:>14} ({first} cheaper frontier points in frontier.csv)",
            "…"
        );
    }
    let mut ties = false;
    for (i, p) in frontier.iter().enumerate().take(last).skip(first) {
        let step = match i.checked_sub(1).and_then(|j| s.frontier_steps.get(j)) {
            Some(&(d, lo, hi)) => {
                let tie = if lo <= 0.0 && hi >= 0.0 { " ≈" } else { "" };
                ties |= !tie.is_empty();
                format!("{d:+.4} [{lo:+.4}, {hi:+.4}]{tie}")
            }
            None => "—".to_owned(),
        };
        let _ = writeln!(
            out,
            "{:>14.0} {:>10.4}  {:<30}  {}",
            p.cost,
            rate(p, o.trials),
            step,
            s.problem.ids(p.mask).join(" ")
        );
    }
    if last < frontier.len() {
        let _ = writeln!(
            out,
            "{:>14} ({} dearer frontier points in frontier.csv)",
            "…",
            frontier.len() - last
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
    let _ = writeln!(
        out,
        "best within budget {:.0}: cost {:.0}, completion {:.4}: {}",
        s.budget,
        best.cost,
        rate(best, o.trials),
        list(best.mask)
    );
    match (o.next_better, s.next_vs_best) {
        (Some(i), Some(d)) => {
            let next = &o.portfolios[i];
            let _ = writeln!(
                out,
                "next better above it: cost {:.0} (+{:.0}), completion {:.4}: {}",
                next.cost,
                next.cost - best.cost,
                rate(next, o.trials),
                list(next.mask)
            );
            let _ = writeln!(out, "  next better − best: {}", paired(d));
        }
        _ => {
            let _ = writeln!(
                out,
                "next better above it: none evaluated (no dearer portfolio completes fewer trials)"
            );
        }
    }
    let (written, completed) = s.as_written;
    let _ = writeln!(
        out,
        "as written: cost {:.0}, completion {:.4}",
        s.problem.cost(written),
        completed as f64 / o.trials.max(1) as f64
    );
    let _ = writeln!(out, "  best − as written: {}", paired(s.best_vs_written));
    out
}
