//! Comparing control investments: the baseline and its variants run on the same trials with the
//! same random slots (common random numbers), so each difference is a paired one.
//!
//! The engine records, per variant, the joint distribution of (baseline outcome, variant
//! outcome) over trials, where an outcome is the phase at which the chain broke or
//! "completed". Every paired 2×2 table (completion, broken at each phase) and the number of
//! trials whose outcome changed derive from that 8×8 matrix.

use crate::money::annual_cost;
use crate::phase::N_PHASES;
use crate::scenario::Scenario;
use crate::stats::figures::{Figures, LossFigures};
use crate::stats::{COMPLETED, Counts, Joint, PairedTable, Tally};

/// One arm of a comparison: the baseline or a variant.
#[derive(Debug, Clone)]
pub struct Arm<'a> {
    /// `baseline` or the variant's name.
    pub name: String,
    /// The scenario as this arm runs it.
    pub scenario: &'a Scenario,
    /// Its tally.
    pub tally: Tally,
    /// Joint outcomes against the baseline.
    pub joint: Joint,
}

impl Arm<'_> {
    /// Its figures, for the run reports.
    pub fn figures(&self) -> Figures {
        Figures::sampled(&self.tally)
    }

    /// Sum of the annual `cost` of its enabled controls.
    pub fn annual_cost(&self) -> f64 {
        annual_cost(self.scenario)
    }

    /// Completed (first) against the baseline (second).
    pub fn completion_table(&self) -> PairedTable {
        self.table(|o| o == COMPLETED)
    }

    /// Broken at phase `phase_idx` (first) against the baseline (second).
    pub fn broken_table(&self, phase_idx: usize) -> PairedTable {
        self.table(|o| o == phase_idx)
    }

    fn table(&self, yes: impl Fn(usize) -> bool) -> PairedTable {
        paired_table(&self.joint, yes)
    }

    /// Trials whose outcome differs from the baseline's.
    pub fn changed_trials(&self) -> u64 {
        let mut n = 0;
        for (base, row) in self.joint.iter().enumerate() {
            for (var, &k) in row.iter().enumerate() {
                if base != var {
                    n += k;
                }
            }
        }
        n
    }
}

/// The paired table of the outcomes `yes` picks, the arm's (first) against the baseline's
/// (second), from their joint outcomes.
pub fn paired_table(joint: &Joint, yes: impl Fn(usize) -> bool) -> PairedTable {
    let mut t = PairedTable::default();
    for (base, row) in joint.iter().enumerate() {
        for (var, &k) in row.iter().enumerate() {
            match (yes(var), yes(base)) {
                (true, true) => t.both += k,
                (true, false) => t.first_only += k,
                (false, true) => t.second_only += k,
                (false, false) => t.neither += k,
            }
        }
    }
    t
}

/// Whether two scenarios play the same campaigns: the same facts, adversary, techniques,
/// controls and loss table (names, descriptions, default trials and seed and variants aside).
pub fn plays_alike(a: &Scenario, b: &Scenario) -> bool {
    a.environment == b.environment
        && a.adversary == b.adversary
        && a.techniques == b.techniques
        && a.controls.len() == b.controls.len()
        && a.controls.iter().zip(&b.controls).all(|(x, y)| {
            // A control's cost changes no campaign.
            let priced = |c: &crate::scenario::Control| crate::scenario::Control {
                cost: None,
                ..c.clone()
            };
            priced(x) == priced(y)
        })
        && a.loss == b.loss
}

/// What the paired interval of a completion-rate change says.
pub fn verdict(lo: f64, hi: f64) -> &'static str {
    if hi < 0.0 {
        "better"
    } else if lo > 0.0 {
        "worse"
    } else {
        "no clear difference"
    }
}

/// The largest difference between two exactly evaluated rates that is taken for no difference.
/// The enumeration adds and multiplies floating-point numbers in an order that depends on the
/// scenario, so two arms that are the same in every respect that matters (two weightings that
/// every campaign exhausts, say) can differ in the last bits, some 1e-17 apart, and would be
/// called better or worse; no real difference below one campaign in 10^12 changes a decision.
pub const EXACT_TIE: f64 = 1e-12;

/// `a − b` for two exactly evaluated rates, 0 when they differ by no more than [`EXACT_TIE`].
pub(crate) fn exact_difference(a: f64, b: f64) -> f64 {
    let d = a - b;
    if d.abs() <= EXACT_TIE { 0.0 } else { d }
}

/// What the reports of a comparison print about one arm, whichever method produced it.
#[derive(Debug, Clone, PartialEq)]
pub struct ArmSummary {
    /// `baseline` or the variant's name.
    pub name: String,
    /// Sum of the annual `cost` of its enabled controls.
    pub annual_cost: f64,
    /// Its run figures (counts, or expected counts for exact evaluation).
    pub figures: Figures,
    /// Change in completion rate against the baseline with its 95 % interval (paired for
    /// Monte Carlo; the value itself for exact evaluation).
    pub delta: (f64, f64, f64),
    /// Per phase: change in `broken_share` against the baseline, with its interval.
    pub phase_deltas: [(f64, f64, f64); N_PHASES],
    /// The baseline's `broken_share` per phase.
    pub baseline_shares: [f64; N_PHASES],
    /// Trials whose outcome differs from the baseline's (Monte Carlo only).
    pub changed_trials: Option<u64>,
    /// Trials a paired comparison would need to tell a difference like this one from zero
    /// (Monte Carlo only; see [`PairedTable::trials_to_tell`]).
    pub trials_to_tell: Option<u64>,
    /// Annual-loss figures, when the scenario has `[loss]` (set by the caller, which holds the
    /// loss tallies).
    pub loss: Option<LossFigures>,
}

impl ArmSummary {
    /// The summary of a Monte Carlo arm.
    pub fn sampled(arm: &Arm) -> ArmSummary {
        let zero = (0.0, 0.0, 0.0);
        let n = arm.tally.trials.max(1) as f64;
        let completion = arm.completion_table();
        ArmSummary {
            name: arm.name.clone(),
            annual_cost: arm.annual_cost(),
            figures: arm.figures(),
            delta: completion.difference().unwrap_or(zero),
            phase_deltas: std::array::from_fn(|i| arm.broken_table(i).difference().unwrap_or(zero)),
            baseline_shares: std::array::from_fn(|i| {
                let t = arm.broken_table(i);
                (t.both + t.second_only) as f64 / n
            }),
            changed_trials: Some(arm.changed_trials()),
            trials_to_tell: completion.trials_to_tell(),
            loss: None,
        }
    }

    /// The same summary for an arm that is the baseline itself, or plays exactly as it does
    /// (the same estate, adversary, controls and loss table): every change is zero, with the
    /// interval [0, 0], which is exact — on the same trials it has the same outcome in every one.
    pub fn same_as_baseline(mut self) -> ArmSummary {
        let zero = (0.0, 0.0, 0.0);
        self.delta = zero;
        self.phase_deltas = [zero; N_PHASES];
        self.trials_to_tell = None;
        if let Some(l) = self.loss.as_mut() {
            l.reduction = zero;
        }
        self
    }

    /// The summary of an exactly evaluated arm against the exactly evaluated baseline, with
    /// expected counts for `trials` trials.
    pub fn exact(
        name: &str,
        scenario: &Scenario,
        result: &Counts<f64>,
        baseline: &Counts<f64>,
        trials: u64,
    ) -> ArmSummary {
        let same = |d: f64| (d, d, d);
        let delta = exact_difference(result.completed, baseline.completed);
        // Money follows the completion rate: no difference in it, none in expected loss.
        let completed = if delta == 0.0 {
            baseline.completed
        } else {
            result.completed
        };
        ArmSummary {
            name: name.to_owned(),
            annual_cost: annual_cost(scenario),
            figures: Figures::exact(result, trials),
            delta: same(delta),
            phase_deltas: std::array::from_fn(|i| {
                same(exact_difference(result.broken[i], baseline.broken[i]))
            }),
            baseline_shares: baseline.broken,
            changed_trials: None,
            trials_to_tell: None,
            loss: scenario
                .loss
                .as_ref()
                .map(|m| LossFigures::exact(m, completed, baseline.completed)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_exact_difference_within_rounding_is_none() {
        // 0.1 + 0.2 and 0.3 are the same rate reached by two orders of arithmetic.
        assert_ne!(0.1 + 0.2 - 0.3, 0.0);
        assert_eq!(exact_difference(0.1 + 0.2, 0.3), 0.0);
        assert_eq!(exact_difference(0.3, 0.1 + 0.2), 0.0);
        let d = exact_difference(0.3 + 3e-5, 0.3);
        assert!((d - 3e-5).abs() < 1e-15, "{d}");
        assert_eq!(exact_difference(2e-12, 0.0), 2e-12);
    }
}
