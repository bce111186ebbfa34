//! Reports of a comparison: `comparison.csv`, `phase_deltas.csv`, `ranking.csv` and the ranked
//! terminal table. Pure functions of the arms' counts.

use std::fmt::Write;

use super::LossFigures;
use super::csv_out::{finish, record, writer};
use super::format::{counted, exact_change, fixed6, grouped, money, rate6, signed4, six};
use super::{Method, text_cell};
use crate::analysis::arms::{ArmSummary, verdict};
use crate::analysis::rank::Marginal;
use crate::money::{rosi, rosi_interval};
use crate::phase::Phase;
use crate::scenario::BASELINE;

/// Column names of `comparison.csv`.
pub const COMPARISON_HEADER: [&str; 16] = [
    "scenario",
    "variant",
    "seed",
    "trials",
    "annual_cost",
    "completed",
    "completion_rate",
    "ci_low",
    "ci_high",
    "delta",
    "delta_ci_low",
    "delta_ci_high",
    "changed_trials",
    "min_effect",
    "trials_for_min_effect",
    "method",
];

/// Columns `comparison.csv` gains, before `method`, when the scenario has `[loss]`.
pub const LOSS_COLUMNS: [&str; 19] = [
    "expected_annual_loss",
    "ale_ci_low",
    "ale_ci_high",
    "ale_reduction",
    "ale_reduction_ci_low",
    "ale_reduction_ci_high",
    "rosi",
    "rosi_ci_low",
    "rosi_ci_high",
    "loss_p50",
    "loss_p90",
    "loss_p99",
    "loss_p50_low",
    "loss_p50_high",
    "loss_p90_low",
    "loss_p90_high",
    "loss_p99_low",
    "loss_p99_high",
    "currency",
];

/// The loss cells of one `comparison.csv` row ([`LOSS_COLUMNS`]); `extra_cost` is the arm's
/// annual cost above the baseline's.
fn loss_cells(l: &LossFigures, extra_cost: f64) -> Vec<String> {
    if !l.defined() {
        let mut cells = LOSS_COLUMNS.map(|_| String::new()).to_vec();
        cells[LOSS_COLUMNS.len() - 1] = text_cell(&l.model.currency);
        return cells;
    }
    let (r, rlo, rhi) = l.reduction;
    let ci = rosi_interval(rlo, rhi, extra_cost);
    let p = |i: usize| l.percentiles.map(|p| p[i].to_string()).unwrap_or_default();
    let pc = |i: usize, hi: bool| {
        l.percentile_ci
            .map(|c| if hi { c[i].1 } else { c[i].0 }.to_string())
            .unwrap_or_default()
    };
    vec![
        money(l.ale.0),
        money(l.ale.1),
        money(l.ale.2),
        money(r),
        money(rlo),
        money(rhi),
        rosi(r, extra_cost).map(fixed6).unwrap_or_default(),
        ci.map(|c| fixed6(c.0)).unwrap_or_default(),
        ci.map(|c| fixed6(c.1)).unwrap_or_default(),
        p(0),
        p(1),
        p(2),
        pc(0, false),
        pc(0, true),
        pc(1, false),
        pc(1, true),
        pc(2, false),
        pc(2, true),
        text_cell(&l.model.currency),
    ]
}

/// `comparison.csv`: one row per arm, baseline first. `seed` is empty for exact evaluation.
pub fn comparison_csv(scenario: &str, seed: Option<u64>, arms: &[ArmSummary]) -> Vec<u8> {
    let mut w = writer();
    let with_loss = arms.iter().any(|a| a.loss.is_some());
    let mut header = COMPARISON_HEADER.to_vec();
    if with_loss {
        header.splice(header.len() - 1..header.len() - 1, LOSS_COLUMNS);
    }
    record(&mut w, &header);
    let name = text_cell(scenario);
    let seed = seed.map(|s| s.to_string()).unwrap_or_default();
    let base_cost = arms.first().map_or(0.0, |a| a.annual_cost);
    for arm in arms {
        let f = &arm.figures;
        let rate = f.rate(f.counts.completed, f.trials as f64);
        let [d, dlo, dhi] = six(arm.delta);
        let mut cells = vec![
            name.clone(),
            text_cell(&arm.name),
            seed.clone(),
            f.trials.to_string(),
            money(arm.annual_cost),
            f.count(f.counts.completed),
            rate6(rate.map(|r| r.0)),
            rate6(rate.map(|r| r.1)),
            rate6(rate.map(|r| r.2)),
            d,
            dlo,
            dhi,
            arm.changed_trials
                .map(|c| c.to_string())
                .unwrap_or_default(),
            fixed6(arm.min_effect),
            arm.trials_for_min_effect
                .map(|c| c.to_string())
                .unwrap_or_default(),
        ];
        if with_loss {
            match &arm.loss {
                Some(l) => cells.extend(loss_cells(l, arm.annual_cost - base_cost)),
                None => cells.extend(LOSS_COLUMNS.map(|_| String::new())),
            }
        }
        cells.push(f.method.id().to_owned());
        record(&mut w, &cells);
    }
    finish(w)
}

/// Column names of `phase_deltas.csv`.
pub const PHASE_DELTAS_HEADER: [&str; 12] = [
    "scenario",
    "variant",
    "seed",
    "trials",
    "phase_index",
    "phase",
    "broken_share",
    "baseline_broken_share",
    "delta",
    "delta_ci_low",
    "delta_ci_high",
    "method",
];

/// `phase_deltas.csv`: per variant (baseline excluded) and phase, the difference of
/// `broken_share` against the baseline.
pub fn phase_deltas_csv(scenario: &str, seed: Option<u64>, arms: &[ArmSummary]) -> Vec<u8> {
    let mut w = writer();
    record(&mut w, &PHASE_DELTAS_HEADER);
    let name = text_cell(scenario);
    let seed = seed.map(|s| s.to_string()).unwrap_or_default();
    for arm in arms.iter().skip(1) {
        let f = &arm.figures;
        let n = f.trials as f64;
        for phase in Phase::ALL {
            let i = phase.index();
            let [d, dlo, dhi] = six(arm.phase_deltas[i]);
            record(
                &mut w,
                &[
                    name.clone(),
                    text_cell(&arm.name),
                    seed.clone(),
                    f.trials.to_string(),
                    (i + 1).to_string(),
                    phase.id().to_owned(),
                    rate6(Some(f.counts.broken[i] / n)),
                    rate6(Some(arm.baseline_shares[i])),
                    d,
                    dlo,
                    dhi,
                    f.method.id().to_owned(),
                ],
            );
        }
    }
    finish(w)
}

/// Column names of `ranking.csv`.
pub const RANKING_HEADER: [&str; 14] = [
    "scenario",
    "control",
    "action",
    "enabled",
    "annual_cost",
    "delta",
    "delta_ci_low",
    "delta_ci_high",
    "delta_unadjusted_ci_low",
    "delta_unadjusted_ci_high",
    "delta_per_100k_cost",
    "seed",
    "trials",
    "method",
];

/// Columns `ranking.csv` gains, after `delta_per_100k_cost`, when the scenario has `[loss]`.
pub const RANKING_LOSS_COLUMNS: [&str; 9] = [
    "ale_delta",
    "ale_delta_ci_low",
    "ale_delta_ci_high",
    "ale_delta_unadjusted_ci_low",
    "ale_delta_unadjusted_ci_high",
    "return_on_control",
    "return_on_control_ci_low",
    "return_on_control_ci_high",
    "currency",
];

/// `ranking.csv`, in the order given (see [`rank`]). `seed` is empty for exact evaluation;
/// `trials` are the paired trials played (exact: the trials the rates are stated for);
/// `currency` is the `[loss]` table's.
pub fn ranking_csv(
    scenario: &str,
    seed: Option<u64>,
    trials: u64,
    method: Method,
    currency: &str,
    marginals: &[Marginal],
) -> Vec<u8> {
    let mut w = writer();
    let with_loss = marginals.iter().any(|m| m.ale_delta.is_some());
    let mut header = RANKING_HEADER.to_vec();
    if with_loss {
        header.splice(11..11, RANKING_LOSS_COLUMNS);
    }
    record(&mut w, &header);
    let name = text_cell(scenario);
    let seed = seed.map(|s| s.to_string()).unwrap_or_default();
    for m in marginals {
        let [d, lo, hi] = six(m.delta);
        let [_, ulo, uhi] = six(m.unadjusted);
        let mut cells = vec![
            name.clone(),
            text_cell(&m.control),
            m.action.id().to_owned(),
            m.enabled.to_string(),
            m.cost.map(money).unwrap_or_default(),
            d,
            lo,
            hi,
            ulo,
            uhi,
            m.delta_per_100k().map(fixed6).unwrap_or_default(),
        ];
        if with_loss {
            let pair = |c: Option<(f64, f64)>, f: fn(f64) -> String| match c {
                Some((lo, hi)) => [f(lo), f(hi)],
                None => [String::new(), String::new()],
            };
            cells.push(m.ale_delta.map(money).unwrap_or_default());
            cells.extend(pair(m.ale_delta_ci, money));
            cells.extend(pair(m.ale_delta_unadjusted, money));
            cells.push(m.return_on_control().map(fixed6).unwrap_or_default());
            cells.extend(pair(m.return_on_control_ci(), fixed6));
            cells.push(text_cell(currency));
        }
        cells.extend([seed.clone(), trials.to_string(), method.id().to_owned()]);
        record(&mut w, &cells);
    }
    finish(w)
}

/// The ranked comparison table: variants by completion rate, best first, baseline included.
pub fn comparison_table(scenario: &str, seed: Option<u64>, arms: &[ArmSummary]) -> String {
    let mut out = String::new();
    let Some(first) = arms.first() else {
        return out;
    };
    let how = match seed {
        Some(seed) => format!(
            "{}, seed {seed}",
            counted(first.figures.trials, "paired trial", "paired trials")
        ),
        None => "exact".to_owned(),
    };
    let _ = writeln!(
        out,
        "{scenario} — {how}; delta = change in completion rate vs baseline"
    );
    let _ = writeln!(
        out,
        "{:<28} {:>12} {:>10}  {:<32} verdict",
        "variant",
        "annual cost",
        "completion",
        if seed.is_some() {
            "delta [95% paired interval]"
        } else {
            "delta (exact)"
        }
    );
    let rate = |a: &ArmSummary| a.figures.counts.completed / a.figures.trials.max(1) as f64;
    let mut order: Vec<&ArmSummary> = arms.iter().collect();
    order.sort_by(|a, b| rate(a).total_cmp(&rate(b)));
    let base_cost = first.annual_cost;
    let mut short = Vec::new();
    for arm in order {
        let (d, lo, hi) = arm.delta;
        let (delta, word) = if arm.name == BASELINE {
            ("—".to_owned(), String::new())
        } else if seed.is_none() {
            let word = if d < 0.0 {
                "better"
            } else if d > 0.0 {
                "worse"
            } else {
                "no difference"
            };
            let mut word = word.to_owned();
            if let Some(n) = arm.trials_to_tell_exact {
                word += &format!(
                    " (Monte Carlo tells it with 80 % power in about {})",
                    counted(n, "paired trial", "paired trials")
                );
            }
            (format!("{} (exact)", exact_change(d)), word)
        } else {
            let mut word = verdict(lo, hi).to_owned();
            if lo <= 0.0 && hi >= 0.0 {
                if let Some(n) = arm.trials_for_min_effect {
                    word += &format!(
                        " (to detect a change of {} with 80 % power: about {})",
                        points(arm.min_effect),
                        counted(n, "paired trial", "paired trials")
                    );
                }
            }
            (
                format!("{} [{}, {}]", signed4(d), signed4(lo), signed4(hi)),
                word,
            )
        };
        let _ = writeln!(
            out,
            "{:<28} {:>12.0} {:>10.4}  {:<32} {}",
            arm.name,
            arm.annual_cost,
            rate(arm),
            delta,
            word
        );
        if let Some(l) = arm.loss.as_ref().filter(|l| l.defined()) {
            let (m, lo, hi) = l.ale;
            let (r, rlo, rhi) = l.reduction;
            let mut line = format!("{:<28} expected annual loss {}", "", l.amount(m));
            if l.method == Method::MonteCarlo {
                line += &format!(" [{}, {}]", grouped(lo), grouped(hi));
            }
            if arm.name != BASELINE {
                line += &loss_change(l, (r, rlo, rhi));
                let extra = arm.annual_cost - base_cost;
                if let Some(v) = rosi(r, extra) {
                    line += &format!("; ROSI {v:+.2}");
                    if let (false, Some((lo, hi))) =
                        (l.method == Method::Exact, rosi_interval(rlo, rhi, extra))
                    {
                        line += &format!(" [{lo:+.2}, {hi:+.2}]");
                    }
                }
                if let Some(s) = l.reduction_short() {
                    short.push(s);
                }
            }
            let _ = writeln!(out, "{line}");
        }
    }
    skewed_differences(&mut out, &short, ("variant", "variants"));
    out
}

/// The line that says which arms' loss differences rest on fewer simulated years than Cochran's
/// rule asks for (`short`: each one's years and trials), if any.
fn skewed_differences(out: &mut String, short: &[(u64, u64)], (one, many): (&str, &str)) {
    if let Some(&(years, trials)) = short.iter().max() {
        let _ = writeln!(
            out,
            "the year-by-year loss differences of {} are skewed beyond what these years settle \
             (Cochran's rule asks for up to {years} simulated years, about {trials} trials): \
             read their loss intervals as rough",
            counted(short.len() as u64, one, many),
        );
    }
}

/// How an arm's expected annual loss moved against the baseline's, in words that agree with the
/// sign: "; reduction 1,617,230 USD", "; increase 524 USD" (an interval turned with it), or, for
/// an exact tie, "; no change".
fn loss_change(l: &LossFigures, (r, lo, hi): (f64, f64, f64)) -> String {
    let exact = l.method == Method::Exact;
    if exact && r == 0.0 {
        return "; no change".to_owned();
    }
    let (word, r, lo, hi) = if grouped(r).starts_with('-') {
        ("increase", -r, -hi, -lo)
    } else {
        ("reduction", r, lo, hi)
    };
    let mut out = format!("; {word} {}", l.amount(r));
    if !exact {
        out += &format!(" [{}, {}]", grouped(lo), grouped(hi));
    }
    out
}

/// The ranking as a terminal table: `how` the method's words, `method` which one played.
pub fn ranking_table(
    scenario: &str,
    how: &str,
    method: Method,
    currency: &str,
    marginals: &[Marginal],
) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{scenario} — marginal value of each control ({how}); delta = change in completion rate when it alone is switched"
    );
    let interval = if method == Method::MonteCarlo {
        // Every row's interval holds at once with 95 % probability, not each alone.
        let _ = writeln!(
            out,
            "intervals are simultaneous: all {} hold together with 95 % probability (Šidák); ranking.csv also has each one's own 95 % interval",
            marginals.len()
        );
        "delta [95% simultaneous interval]"
    } else {
        "delta"
    };
    let _ = writeln!(
        out,
        "{:<28} {:<8} {:>8} {:>12}  {:<32} {:>14}",
        "control", "action", "enabled", "annual cost", interval, "per 100k cost"
    );
    for m in marginals {
        let (d, lo, hi) = m.delta;
        let _ = writeln!(
            out,
            "{:<28} {:<8} {:>8} {:>12}  {:<32} {:>14}",
            m.control,
            m.action.id(),
            m.enabled,
            m.cost.map_or("-".to_owned(), |c| format!("{c:.0}")),
            match method {
                Method::Exact => format!("{} (exact)", exact_change(d)),
                Method::MonteCarlo => format!("{} [{}, {}]", signed4(d), signed4(lo), signed4(hi)),
            },
            m.delta_per_100k().map_or("-".to_owned(), signed4)
        );
        if let Some(saved) = m.ale_reduction() {
            // A negative saving is a cost: said as one, with the amount positive.
            let (verb, amount, prep) = if grouped(saved).starts_with('-') {
                ("adds", -saved, "to")
            } else {
                ("saves", saved, "in")
            };
            let mut line = format!(
                "{:<28} {verb} {}{} a year {prep} expected loss",
                "",
                grouped(amount),
                currency_suffix(currency)
            );
            let sampled = method == Method::MonteCarlo;
            if let (true, Some((lo, hi))) = (sampled, m.ale_reduction_ci()) {
                // The interval of the saving, in the same sign as the amount shown.
                let (lo, hi) = if verb == "adds" { (-hi, -lo) } else { (lo, hi) };
                line += &format!(" [{}, {}]", grouped(lo), grouped(hi));
            }
            if let Some(r) = m.return_on_control() {
                line += &format!("; return on control {r:+.2}");
                if let (true, Some((lo, hi))) = (sampled, m.return_on_control_ci()) {
                    line += &format!(" [{lo:+.2}, {hi:+.2}]");
                }
            }
            let _ = writeln!(out, "{line}");
        }
    }
    let short: Vec<(u64, u64)> = marginals.iter().filter_map(|m| m.ale_short).collect();
    skewed_differences(&mut out, &short, ("control", "controls"));
    out
}

/// A change in completion rate in percentage points: "1 point", "0.5 points".
fn points(d: f64) -> String {
    let p = (d * 100.0 * 1e6).round() / 1e6;
    if p == 1.0 {
        "1 point".to_owned()
    } else {
        format!("{p} points")
    }
}

fn currency_suffix(currency: &str) -> String {
    if currency.is_empty() {
        String::new()
    } else {
        format!(" {currency}")
    }
}
