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
use crate::sim::engine::Plan;
use crate::stats::figures::{Figures, LossFigures};
use crate::stats::{COMPLETED, Counts, Joint, PairedTable, Tally, Z95, paired_trials_for, wilson};

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
    /// The smallest change in completion rate worth detecting that the power figures are for.
    pub min_effect: f64,
    /// Paired trials a Monte Carlo comparison needs to detect a change of `min_effect` with 80 %
    /// power at 95 % two-sided (see [`paired_trials_for`]), the variance from the observed
    /// discordant trials (Monte Carlo) or from a paired pilot's (exact, see
    /// [`pilot_discordance`]); `None` where the arm plays as the baseline.
    pub trials_for_min_effect: Option<u64>,
    /// Exact evaluation only: paired trials a Monte Carlo comparison needs to tell the exact
    /// difference with 80 % power (from [`pilot_discordance`]); `None` for no difference.
    pub trials_to_tell_exact: Option<u64>,
    /// Annual-loss figures, when the scenario has `[loss]` (set by the caller, which holds the
    /// loss tallies).
    pub loss: Option<LossFigures>,
}

impl ArmSummary {
    /// The summary of a Monte Carlo arm, with the trials that detect a change of `min_effect`.
    pub fn sampled(arm: &Arm, min_effect: f64) -> ArmSummary {
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
            min_effect,
            trials_for_min_effect: completion.trials_for(min_effect),
            trials_to_tell_exact: None,
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
        self.trials_for_min_effect = None;
        self.trials_to_tell_exact = None;
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
            min_effect: 0.0,
            trials_for_min_effect: None,
            trials_to_tell_exact: None,
            loss: scenario
                .loss
                .as_ref()
                .map(|m| LossFigures::exact(m, completed, baseline.completed)),
        }
    }
}

impl ArmSummary {
    /// This exact summary with its power figures: the trials a Monte Carlo comparison needs to
    /// detect `min_effect`, and to tell the exact difference, when the arm's and the baseline's
    /// outcomes disagree on a share `discordant` of the trials. None of either when
    /// `discordant` is 0 (the arm plays as the baseline: no trial can differ).
    pub fn with_exact_power(mut self, min_effect: f64, discordant: f64) -> ArmSummary {
        self.min_effect = min_effect;
        if discordant > 0.0 {
            self.trials_for_min_effect = paired_trials_for(min_effect, discordant);
            self.trials_to_tell_exact = paired_trials_for(self.delta.0, discordant);
        }
        self
    }
}

/// Paired trials of the pilot whose discordant trials give an exact comparison its power
/// figures: enough to put the share of the rarest discordance that matters (about 0.16 % for the
/// ransomware scenario's mail sandbox) within a few percent.
pub const POWER_PILOT_TRIALS: u64 = 1_000_000;

/// The bit flipped in a comparison's seed to derive the seed of its power pilot: trial keys
/// are keyed by the seed, so the pilot shares no trial with a Monte Carlo run of that seed, and
/// `seed ^ 2^61` lies in the seed range 0..2^63 − 1 whenever `seed` does.
pub const PILOT_SEED_BIT: u64 = 1 << 61;

/// The seed of the power pilot of an exact comparison at `seed`.
pub fn pilot_seed(seed: u64) -> u64 {
    seed ^ PILOT_SEED_BIT
}

/// The share of discordant trials an exact comparison's power figures are for: the upper end of
/// the Wilson 95 % interval of `discordant` out of `trials` paired pilot trials, never above
/// `bound` (the [`discordance_bound`] of the two arms, which holds whatever the pilot drew) and
/// 0 when that bound is 0 (no trial can differ). An upper end, so the trials it asks for are
/// enough with 80 % power at least about 97.5 % of the time.
pub fn pilot_discordance(discordant: u64, trials: u64, bound: f64) -> f64 {
    if bound <= 0.0 || trials == 0 {
        return bound.max(0.0);
    }
    wilson(discordant, trials, Z95).1.min(bound)
}

/// An upper bound on the probability that a trial completes under exactly one of two arms
/// played on the same trials, from their exact evaluations: q = p_a + p_b − 2·P(both complete),
/// and P(both complete) is the product over phases of P(both pass the phase | both reach it),
/// since each phase's outcome reads its own random numbers. That is the pass probability
/// itself for a phase that plays alike in both arms (the same outcome on every trial), and at
/// least max(0, a + b − 1) (Fréchet) for one that does not. Never below the true share; 0 when
/// every phase plays alike. With attack paths (`after`) the phases are not independent and the
/// bound is the general min(p_a + p_b, 2 − p_a − p_b).
pub fn discordance_bound(
    a: &Scenario,
    a_result: &Counts<f64>,
    b: &Scenario,
    b_result: &Counts<f64>,
) -> f64 {
    let (plan_a, plan_b) = (Plan::new(a), Plan::new(b));
    let pass = |r: &Counts<f64>, i: usize| {
        if r.reached[i] > 0.0 {
            (1.0 - r.broken[i] / r.reached[i]).clamp(0.0, 1.0)
        } else {
            1.0
        }
    };
    let mut both = 1.0;
    for i in 0..N_PHASES {
        let (pa, pb) = (pass(a_result, i), pass(b_result, i));
        both *= if plan_a.phase_plays_alike(&plan_b, i) {
            pa.min(pb)
        } else {
            (pa + pb - 1.0).max(0.0)
        };
    }
    let (ca, cb) = (a_result.completed, b_result.completed);
    let alike = (0..N_PHASES).all(|i| plan_a.phase_plays_alike(&plan_b, i));
    if alike {
        return 0.0;
    }
    // A share of discordant trials is at least |p_a − p_b| and at most min(p_a + p_b, 2 − p_a − p_b).
    let (lo, hi) = ((ca - cb).abs(), (ca + cb).min(2.0 - ca - cb));
    if plan_a.paths.is_some() || plan_b.paths.is_some() {
        // With attack paths a phase's outcome depends on how the earlier ones were passed, so
        // the phases' product does not hold: only the general bound does.
        return hi;
    }
    (ca + cb - 2.0 * both).min(hi).max(lo)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pilots_discordant_share_is_its_wilson_upper_end_under_the_bound() {
        // 1,600 of 1,000,000: Wilson's upper end is 0.001600 + 1.96·√(0.0016·0.9984/10⁶) + O(1/n).
        let q = pilot_discordance(1_600, 1_000_000, 1.0);
        assert!((q - 0.001_680).abs() < 2e-6, "{q}");
        assert_eq!(q, wilson(1_600, 1_000_000, Z95).1);
        // The bound holds whatever the pilot drew; none at all when no trial can differ.
        assert_eq!(pilot_discordance(1_600, 1_000_000, 0.0015), 0.0015);
        assert_eq!(pilot_discordance(1_600, 1_000_000, 0.0), 0.0);
        // No discordant trial in the pilot still leaves a share above 0: 1.96²/(n + 1.96²).
        let q = pilot_discordance(0, 1_000_000, 1.0);
        assert!((q - 3.8415e-6).abs() < 1e-9, "{q}");
    }

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
