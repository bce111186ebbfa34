//! Reports of a comparison: `comparison.csv`, `phase_deltas.csv`, `ranking.csv` and the ranked
//! terminal table. Pure functions of the arms' counts.

use std::fmt::Write;

use super::csv_out::{finish, record, writer};
use super::{Method, rate6, text_cell};
use crate::compare::{ArmSummary, verdict};
use crate::phase::{CourseOfAction, Phase};
use crate::scenario::BASELINE;

/// Column names of `comparison.csv`.
pub const COMPARISON_HEADER: [&str; 14] = [
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
    "method",
];

fn money(x: f64) -> String {
    format!("{x:.2}")
}

fn six((a, b, c): (f64, f64, f64)) -> [String; 3] {
    [a, b, c].map(|x| format!("{x:.6}"))
}

/// `comparison.csv`: one row per arm, baseline first. `seed` is empty for exact evaluation.
pub fn comparison_csv(scenario: &str, seed: Option<u64>, arms: &[ArmSummary]) -> Vec<u8> {
    let mut w = writer();
    record(&mut w, &COMPARISON_HEADER);
    let name = text_cell(scenario);
    let seed = seed.map(|s| s.to_string()).unwrap_or_default();
    for arm in arms {
        let f = &arm.figures;
        let rate = f.rate(f.completed, f.trials as f64);
        let [d, dlo, dhi] = six(arm.delta);
        record(
            &mut w,
            &[
                name.clone(),
                text_cell(&arm.name),
                seed.clone(),
                f.trials.to_string(),
                money(arm.annual_cost),
                f.count(f.completed),
                rate6(rate.map(|r| r.0)),
                rate6(rate.map(|r| r.1)),
                rate6(rate.map(|r| r.2)),
                d,
                dlo,
                dhi,
                arm.changed_trials
                    .map(|c| c.to_string())
                    .unwrap_or_default(),
                f.method.id().to_owned(),
            ],
        );
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
                    rate6(Some(f.broken[i] / n)),
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
pub const RANKING_HEADER: [&str; 10] = [
    "scenario",
    "control",
    "action",
    "enabled",
    "annual_cost",
    "delta",
    "delta_ci_low",
    "delta_ci_high",
    "delta_per_100k_cost",
    "method",
];

/// `ranking.csv`, in the order given (see [`rank`]).
pub fn ranking_csv(scenario: &str, method: Method, marginals: &[Marginal]) -> Vec<u8> {
    let mut w = writer();
    record(&mut w, &RANKING_HEADER);
    let name = text_cell(scenario);
    for m in marginals {
        let (d, lo, hi) = m.delta;
        record(
            &mut w,
            &[
                name.clone(),
                text_cell(&m.control),
                m.action.id().to_owned(),
                m.enabled.to_string(),
                m.cost.map(money).unwrap_or_default(),
                format!("{d:.6}"),
                format!("{lo:.6}"),
                format!("{hi:.6}"),
                m.delta_per_100k()
                    .map(|x| format!("{x:.6}"))
                    .unwrap_or_default(),
                method.id().to_owned(),
            ],
        );
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
        Some(seed) => format!("{} paired trials, seed {seed}", first.figures.trials),
        None => "exact".to_owned(),
    };
    let _ = writeln!(
        out,
        "{scenario} — {how}; delta = change in completion rate vs baseline"
    );
    let _ = writeln!(
        out,
        "{:<28} {:>12} {:>10}  {:<32} verdict",
        "variant", "annual cost", "completion", "delta [95% paired interval]"
    );
    let rate = |a: &ArmSummary| a.figures.completed / a.figures.trials.max(1) as f64;
    let mut order: Vec<&ArmSummary> = arms.iter().collect();
    order.sort_by(|a, b| rate(a).total_cmp(&rate(b)));
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
            (format!("{d:+.4} (exact)"), word.to_owned())
        } else {
            let mut word = verdict(lo, hi).to_owned();
            if lo <= 0.0 && hi >= 0.0 {
                if let Some(n) = arm.trials_to_tell {
                    word += &format!(" (about {n} trials would tell)");
                }
            }
            (format!("{d:+.4} [{lo:+.4}, {hi:+.4}]"), word)
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
    }
    out
}

/// The ranking as a terminal table.
pub fn ranking_table(scenario: &str, how: &str, marginals: &[Marginal]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{scenario} — marginal value of each control ({how}); delta = change in completion rate when it alone is switched"
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
