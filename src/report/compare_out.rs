//! Reports of a comparison: `comparison.csv`, `phase_deltas.csv`, `ranking.csv` and the ranked
//! terminal table. Pure functions of the arms' counts.

use std::fmt::Write;

use super::csv_out::{finish, record, writer};
use super::{rate6, text_cell};
use crate::compare::{Arm, verdict};
use crate::phase::{CourseOfAction, Phase};
use crate::stats::{PairedTable, Rate};

/// Column names of `comparison.csv`.
pub const COMPARISON_HEADER: [&str; 13] = [
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
];

fn money(x: f64) -> String {
    format!("{x:.2}")
}

/// `(delta, low, high)` of a paired table as cells.
fn delta_cells(t: &PairedTable) -> [String; 3] {
    match t.difference() {
        Some((d, lo, hi)) => [d, lo, hi].map(|x| format!("{x:.6}")),
        None => Default::default(),
    }
}

/// `comparison.csv`: one row per arm, baseline first.
pub fn comparison_csv(scenario: &str, seed: u64, arms: &[Arm]) -> Vec<u8> {
    let mut w = writer();
    record(&mut w, &COMPARISON_HEADER);
    let name = text_cell(scenario);
    for arm in arms {
        let t = &arm.tally;
        let rate = Rate::new(t.completed, t.trials);
        let (lo, hi) = rate.interval.unzip();
        let [d, dlo, dhi] = delta_cells(&arm.completion_table());
        record(
            &mut w,
            &[
                name.clone(),
                arm.name.clone(),
                seed.to_string(),
                t.trials.to_string(),
                money(arm.annual_cost()),
                t.completed.to_string(),
                rate6(rate.estimate),
                rate6(lo),
                rate6(hi),
                d,
                dlo,
                dhi,
                arm.changed_trials().to_string(),
            ],
        );
    }
    finish(w)
}

/// Column names of `phase_deltas.csv`.
pub const PHASE_DELTAS_HEADER: [&str; 11] = [
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
];

/// `phase_deltas.csv`: per variant (baseline excluded) and phase, the paired difference of
/// `broken_share` against the baseline.
pub fn phase_deltas_csv(scenario: &str, seed: u64, arms: &[Arm]) -> Vec<u8> {
    let mut w = writer();
    record(&mut w, &PHASE_DELTAS_HEADER);
    let name = text_cell(scenario);
    for arm in arms.iter().skip(1) {
        let n = arm.tally.trials;
        for phase in Phase::ALL {
            let i = phase.index();
            let table = arm.broken_table(i);
            let [d, dlo, dhi] = delta_cells(&table);
            let variant_share = Rate::new(table.both + table.first_only, n).estimate;
            let base_share = Rate::new(table.both + table.second_only, n).estimate;
            record(
                &mut w,
                &[
                    name.clone(),
                    arm.name.clone(),
                    seed.to_string(),
                    n.to_string(),
                    (i + 1).to_string(),
                    phase.id().to_owned(),
                    rate6(variant_share),
                    rate6(base_share),
                    d,
                    dlo,
                    dhi,
                ],
            );
        }
    }
    finish(w)
}

/// One control's marginal value, from switching it alone.
#[derive(Debug, Clone, PartialEq)]
pub struct Marginal {
    /// Control id.
    pub control: String,
    /// Its course of action.
    pub action: CourseOfAction,
    /// Whether it is enabled as written.
    pub enabled: bool,
    /// Its annual cost, if given.
    pub cost: Option<f64>,
    /// Change in completion rate when it alone is switched (off if enabled, on if not), with
    /// the paired 95 % interval.
    pub delta: (f64, f64, f64),
}

impl Marginal {
    /// Completion-rate reduction the control buys: positive when it lowers completion.
    pub fn risk_reduction(&self) -> f64 {
        if self.enabled {
            self.delta.0
        } else {
            -self.delta.0
        }
    }

    /// `delta` per 100,000 of annual cost.
    pub fn delta_per_100k(&self) -> Option<f64> {
        self.cost
            .filter(|&c| c > 0.0)
            .map(|c| self.delta.0 * 100_000.0 / c)
    }
}

/// Sorts by risk reduction per unit cost, best first; controls without a cost last (by risk
/// reduction), ties by id.
pub fn rank(marginals: &mut [Marginal]) {
    let key = |m: &Marginal| -> (bool, f64) {
        match m.cost.filter(|&c| c > 0.0) {
            Some(c) => (false, -m.risk_reduction() / c),
            None => (true, -m.risk_reduction()),
        }
    };
    marginals.sort_by(|a, b| {
        let (ka, kb) = (key(a), key(b));
        ka.0.cmp(&kb.0)
            .then(ka.1.total_cmp(&kb.1))
            .then_with(|| a.control.cmp(&b.control))
    });
}

/// Column names of `ranking.csv`.
pub const RANKING_HEADER: [&str; 9] = [
    "scenario",
    "control",
    "action",
    "enabled",
    "annual_cost",
    "delta",
    "delta_ci_low",
    "delta_ci_high",
    "delta_per_100k_cost",
];

/// `ranking.csv`, in the order given (see [`rank`]).
pub fn ranking_csv(scenario: &str, marginals: &[Marginal]) -> Vec<u8> {
    let mut w = writer();
    record(&mut w, &RANKING_HEADER);
    let name = text_cell(scenario);
    for m in marginals {
        let (d, lo, hi) = m.delta;
        record(
            &mut w,
            &[
                name.clone(),
                m.control.clone(),
                m.action.id().to_owned(),
                m.enabled.to_string(),
                m.cost.map(money).unwrap_or_default(),
                format!("{d:.6}"),
                format!("{lo:.6}"),
                format!("{hi:.6}"),
                m.delta_per_100k()
                    .map(|x| format!("{x:.6}"))
                    .unwrap_or_default(),
            ],
        );
    }
    finish(w)
}

/// The ranked comparison table: variants by completion rate, best first, baseline included.
pub fn comparison_table(scenario: &str, seed: u64, arms: &[Arm]) -> String {
    let mut out = String::new();
    let trials = arms.first().map_or(0, |a| a.tally.trials);
    let _ = writeln!(
        out,
        "{scenario} — {trials} paired trials, seed {seed}; delta = change in completion rate vs baseline"
    );
    let _ = writeln!(
        out,
        "{:<28} {:>12} {:>10}  {:<32} verdict",
        "variant", "annual cost", "completion", "delta [95% paired interval]"
    );
    let mut order: Vec<&Arm> = arms.iter().collect();
    order.sort_by(|a, b| {
        let ra = a.tally.completed as f64 / a.tally.trials.max(1) as f64;
        let rb = b.tally.completed as f64 / b.tally.trials.max(1) as f64;
        ra.total_cmp(&rb)
    });
    for arm in order {
        let rate = Rate::new(arm.tally.completed, arm.tally.trials)
            .estimate
            .unwrap_or(0.0);
        let (delta, word) = if arm.name == "baseline" {
            (String::from("—"), String::new())
        } else {
            let table = arm.completion_table();
            match table.difference() {
                Some((d, lo, hi)) => {
                    let mut word = verdict(lo, hi).to_owned();
                    if lo <= 0.0 && hi >= 0.0 {
                        if let Some(n) = trials_to_tell(&table) {
                            word += &format!(" (about {n} trials would tell)");
                        }
                    }
                    (format!("{d:+.4} [{lo:+.4}, {hi:+.4}]"), word)
                }
                None => (String::new(), String::new()),
            }
        };
        let _ = writeln!(
            out,
            "{:<28} {:>12.0} {:>10.4}  {:<32} {}",
            arm.name,
            arm.annual_cost(),
            rate,
            delta,
            word
        );
    }
    out
}

/// Trials a paired comparison needs for a difference like the observed one to be told from
/// zero (95 % two-sided, 80 % power): n ≈ (1.96 + 0.84)² · s² / d², with d the observed
/// difference and s² the variance of the per-trial differences. `None` when d is 0.
pub fn trials_to_tell(t: &PairedTable) -> Option<u64> {
    let n = t.n() as f64;
    let d = (t.first_only as f64 - t.second_only as f64) / n;
    let var = (t.first_only + t.second_only) as f64 / n - d * d;
    (d != 0.0).then(|| ((1.96_f64 + 0.84).powi(2) * var / (d * d)).ceil() as u64)
}

/// The ranking as a terminal table.
pub fn ranking_table(scenario: &str, trials: u64, marginals: &[Marginal]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{scenario} — marginal value of each control ({trials} paired trials); delta = change in completion rate when it alone is switched"
    );
    let _ = writeln!(
        out,
        "{:<28} {:<8} {:>8} {:>12}  {:<32} {:>14}",
        "control",
        "action",
        "enabled",
        "annual cost",
        "delta [95% paired interval]",
        "per 100k cost"
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
            format!("{d:+.4} [{lo:+.4}, {hi:+.4}]"),
            m.delta_per_100k()
                .map_or("-".to_owned(), |x| format!("{x:+.4}"))
        );
    }
    out
}
