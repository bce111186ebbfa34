//! Counts of either method (one shape, `Counts<T>`: `u64` tallies that merge associatively,
//! `f64` expectations), and rates with their confidence intervals.
//!
//! Every sampled count is a `u64` sum, so merging per-thread tallies in any order gives the same
//! bits. Invariant: tallies are only ever summed with checked arithmetic ([`Counts::try_add`],
//! which `+=` calls); a sum that does not fit is an error (a panic in process), never a wrapped
//! value.

pub mod figures;
pub mod landscape;
pub mod loss;

use std::fmt;
use std::ops::AddAssign;

use crate::phase::N_PHASES;

/// Outcome code of a completed attack; codes 0..7 are the phase where the chain broke.
pub const COMPLETED: usize = N_PHASES;

/// Two-sided 95 % standard normal quantile.
pub const Z95: f64 = 1.959_963_984_540_054;

/// A sum of counts that does not fit its integer type; names the count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CountOverflow(pub &'static str);

impl fmt::Display for CountOverflow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the sum of the {} counts overflows", self.0)
    }
}

impl std::error::Error for CountOverflow {}

/// A number that counts: added with overflow checked (`u64`), or an expectation (`f64`, which
/// cannot overflow a count's range).
pub trait Count: Copy + Default {
    /// `self + o`, `None` when it does not fit.
    fn checked_sum(self, o: Self) -> Option<Self>;
}

impl Count for u64 {
    #[inline]
    fn checked_sum(self, o: u64) -> Option<u64> {
        self.checked_add(o)
    }
}

impl Count for u128 {
    #[inline]
    fn checked_sum(self, o: u128) -> Option<u128> {
        self.checked_add(o)
    }
}

impl Count for i128 {
    #[inline]
    fn checked_sum(self, o: i128) -> Option<i128> {
        self.checked_add(o)
    }
}

impl Count for f64 {
    #[inline]
    fn checked_sum(self, o: f64) -> Option<f64> {
        Some(self + o)
    }
}

/// `*a += b`, or the overflow named `what`.
#[inline]
pub(crate) fn add_to<T: Count>(a: &mut T, b: T, what: &'static str) -> Result<(), CountOverflow> {
    *a = a.checked_sum(b).ok_or(CountOverflow(what))?;
    Ok(())
}

/// Outcome counts of one technique's attempts. `prevented + deceived + interrupted + failed +
/// succeeded = attempts`; `detected` and `evicted` count attempts on which a detection happened or
/// the chain was broken. `u64` for sampled counts; `f64` for expected counts (per trial, each a
/// probability: a technique is attempted at most once per trial).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TechniqueCounts<T = u64> {
    /// Attempts made with the technique.
    pub attempts: T,
    /// Attempts a deny control prevented.
    pub prevented: T,
    /// Attempts a deceive control diverted into a decoy.
    pub deceived: T,
    /// Attempts a disrupt control interrupted.
    pub interrupted: T,
    /// Attempts that ran and failed their success roll.
    pub failed: T,
    /// Attempts that ran and succeeded.
    pub succeeded: T,
    /// Attempts on which at least one detect control fired.
    pub detected: T,
    /// Attempts on which the chain was broken (decoy or detection response, or destroy).
    pub evicted: T,
}

impl<T: Copy> TechniqueCounts<T> {
    /// The same counts, each through `f`.
    pub fn map<U>(&self, f: impl Fn(T) -> U) -> TechniqueCounts<U> {
        TechniqueCounts {
            attempts: f(self.attempts),
            prevented: f(self.prevented),
            deceived: f(self.deceived),
            interrupted: f(self.interrupted),
            failed: f(self.failed),
            succeeded: f(self.succeeded),
            detected: f(self.detected),
            evicted: f(self.evicted),
        }
    }
}

impl TechniqueCounts<f64> {
    /// Adds `p` times `o` to each expectation.
    pub(crate) fn add_scaled(&mut self, o: &TechniqueCounts<f64>, p: f64) {
        self.attempts += p * o.attempts;
        self.prevented += p * o.prevented;
        self.deceived += p * o.deceived;
        self.interrupted += p * o.interrupted;
        self.failed += p * o.failed;
        self.succeeded += p * o.succeeded;
        self.detected += p * o.detected;
        self.evicted += p * o.evicted;
    }
}

impl<T: Count> TechniqueCounts<T> {
    /// Adds `o` to each count; on overflow names the count (and may have added some others).
    pub fn try_add(&mut self, o: &TechniqueCounts<T>) -> Result<(), CountOverflow> {
        add_to(&mut self.attempts, o.attempts, "technique attempts")?;
        add_to(&mut self.prevented, o.prevented, "technique prevented")?;
        add_to(&mut self.deceived, o.deceived, "technique deceived")?;
        add_to(
            &mut self.interrupted,
            o.interrupted,
            "technique interrupted",
        )?;
        add_to(&mut self.failed, o.failed, "technique failed")?;
        add_to(&mut self.succeeded, o.succeeded, "technique succeeded")?;
        add_to(&mut self.detected, o.detected, "technique detected")?;
        add_to(&mut self.evicted, o.evicted, "technique evicted")
    }
}

/// In-process sums (threads, work units): counts of trials played here, which cannot reach
/// 2^64 in any feasible run; an overflow would be a bug, so it panics rather than wraps. Sums of
/// counts read from files use [`TechniqueCounts::try_add`].
impl<T: Count> AddAssign<&TechniqueCounts<T>> for TechniqueCounts<T> {
    fn add_assign(&mut self, o: &TechniqueCounts<T>) {
        self.try_add(o).unwrap_or_else(|e| panic!("{e}"));
    }
}

/// Everything counted over a set of trials, of either method: `u64` counts of sampled trials
/// ([`Tally`]), or `f64` expected counts (the exact evaluator's probabilities per trial, with
/// `trials` 1, or those scaled to a number of trials). A shard's `tally.json` holds it in a
/// form of its own (`persist::tally`), so renaming a field here does not change the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Counts<T = u64> {
    /// Trials run.
    pub trials: T,
    /// Trials that reached each phase.
    pub reached: [T; N_PHASES],
    /// Trials whose chain was broken at each phase.
    pub broken: [T; N_PHASES],
    /// Trials that passed all seven phases.
    pub completed: T,
    /// Per control (scenario order): attempts it acted on.
    pub control_fired: Vec<T>,
    /// Per control (scenario order): chains broken attributed to it.
    pub control_breaks: Vec<T>,
    /// Breaks where attempts ran out and no control ended the last attempt.
    pub breaks_technique_failed: T,
    /// Breaks at a phase where no technique was viable.
    pub breaks_no_viable: T,
    /// Per technique (scenario order).
    pub techniques: Vec<TechniqueCounts<T>>,
}

/// The counts of sampled trials; merges with `+=`.
pub type Tally = Counts<u64>;

impl<T: Copy + Default> Counts<T> {
    /// Empty counts (no trials) for a scenario with these numbers of controls and techniques.
    pub fn new(n_controls: usize, n_techniques: usize) -> Counts<T> {
        let zero = T::default();
        Counts {
            trials: zero,
            reached: [zero; N_PHASES],
            broken: [zero; N_PHASES],
            completed: zero,
            control_fired: vec![zero; n_controls],
            control_breaks: vec![zero; n_controls],
            breaks_technique_failed: zero,
            breaks_no_viable: zero,
            techniques: vec![TechniqueCounts::default(); n_techniques],
        }
    }
}

impl<T: Copy> Counts<T> {
    /// The same counts, each through `f` (for instance `u64` counts as `f64`, or probabilities
    /// scaled to a number of trials).
    pub fn map<U>(&self, f: impl Fn(T) -> U) -> Counts<U> {
        Counts {
            trials: f(self.trials),
            reached: self.reached.map(&f),
            broken: self.broken.map(&f),
            completed: f(self.completed),
            control_fired: self.control_fired.iter().map(|&x| f(x)).collect(),
            control_breaks: self.control_breaks.iter().map(|&x| f(x)).collect(),
            breaks_technique_failed: f(self.breaks_technique_failed),
            breaks_no_viable: f(self.breaks_no_viable),
            techniques: self.techniques.iter().map(|c| c.map(&f)).collect(),
        }
    }
}

impl Tally {
    /// Trials that passed phase `phase_idx`.
    pub fn passed(&self, phase_idx: usize) -> u64 {
        self.reached[phase_idx] - self.broken[phase_idx]
    }
}

impl<T: Count> Counts<T> {
    /// Adds every count of `o` (of the same shape: `o`'s extra controls or techniques are
    /// ignored, so the caller checks the shapes); on overflow names the count, and `self` may
    /// then hold some sums and not others.
    pub fn try_add(&mut self, o: &Counts<T>) -> Result<(), CountOverflow> {
        add_to(&mut self.trials, o.trials, "trials")?;
        for i in 0..N_PHASES {
            add_to(&mut self.reached[i], o.reached[i], "reached")?;
            add_to(&mut self.broken[i], o.broken[i], "broken")?;
        }
        add_to(&mut self.completed, o.completed, "completed")?;
        for (a, b) in self.control_fired.iter_mut().zip(&o.control_fired) {
            add_to(a, *b, "control_fired")?;
        }
        for (a, b) in self.control_breaks.iter_mut().zip(&o.control_breaks) {
            add_to(a, *b, "control_breaks")?;
        }
        add_to(
            &mut self.breaks_technique_failed,
            o.breaks_technique_failed,
            "breaks_technique_failed",
        )?;
        add_to(
            &mut self.breaks_no_viable,
            o.breaks_no_viable,
            "breaks_no_viable",
        )?;
        for (a, b) in self.techniques.iter_mut().zip(&o.techniques) {
            a.try_add(b)?;
        }
        Ok(())
    }
}

/// In-process sums (threads, work units), as for [`TechniqueCounts`]: an overflow panics
/// rather than wraps. Sums of counts read from files use [`Counts::try_add`].
impl<T: Count> AddAssign<&Counts<T>> for Counts<T> {
    fn add_assign(&mut self, o: &Counts<T>) {
        self.try_add(o).unwrap_or_else(|e| panic!("{e}"));
    }
}

/// A proportion `k / n` with its Wilson score 95 % interval; all `None` when `n = 0`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate {
    /// Events.
    pub k: u64,
    /// Trials.
    pub n: u64,
    /// `k / n`.
    pub estimate: Option<f64>,
    /// Lower and upper bounds of the Wilson 95 % interval.
    pub interval: Option<(f64, f64)>,
}

impl Rate {
    /// The rate `k / n` (requires `k <= n`).
    pub fn new(k: u64, n: u64) -> Rate {
        debug_assert!(k <= n);
        if n == 0 {
            return Rate {
                k,
                n,
                estimate: None,
                interval: None,
            };
        }
        Rate {
            k,
            n,
            estimate: Some(k as f64 / n as f64),
            interval: Some(wilson(k, n, Z95)),
        }
    }
}

/// Wilson score interval for `k` successes in `n > 0` trials at normal quantile `z`.
pub fn wilson(k: u64, n: u64, z: f64) -> (f64, f64) {
    let n_f = n as f64;
    let p = k as f64 / n_f;
    let z2 = z * z;
    let denom = 1.0 + z2 / n_f;
    let centre = (p + z2 / (2.0 * n_f)) / denom;
    let half = z * (p * (1.0 - p) / n_f + z2 / (4.0 * n_f * n_f)).sqrt() / denom;
    let lo = if k == 0 {
        0.0
    } else {
        (centre - half).max(0.0)
    };
    let hi = if k == n {
        1.0
    } else {
        (centre + half).min(1.0)
    };
    (lo, hi)
}

/// Counts of trials by (baseline outcome, variant outcome), where an outcome is the index of
/// the phase where the chain broke, or `N_PHASES` for a completed attack.
pub type Joint = [[u64; N_PHASES + 1]; N_PHASES + 1];

/// A paired 2×2 table of one yes/no outcome observed twice on the same trials (for instance
/// "attack completed" under a variant and under the baseline).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PairedTable {
    /// Yes in both.
    pub both: u64,
    /// Yes in the first only.
    pub first_only: u64,
    /// Yes in the second only.
    pub second_only: u64,
    /// Yes in neither.
    pub neither: u64,
}

impl PairedTable {
    /// The same pairs with the two sides swapped: (second, first).
    pub fn reversed(self) -> PairedTable {
        PairedTable {
            first_only: self.second_only,
            second_only: self.first_only,
            ..self
        }
    }

    /// Trials in the table.
    pub fn n(&self) -> u64 {
        self.both + self.first_only + self.second_only + self.neither
    }

    /// The difference of proportions first − second with Newcombe's (1998) square-and-add
    /// 95 % interval for paired data (his method 10: Wilson score intervals of both margins,
    /// combined with the estimated correlation φ, which is shrunk by n/2 when positive).
    /// `None` for an empty table.
    pub fn difference(&self) -> Option<(f64, f64, f64)> {
        self.difference_at(Z95)
    }

    /// [`PairedTable::difference`] with the normal quantile `z` in place of 1.96 (the two-sided
    /// level 2Φ(z) − 1), for simultaneous intervals.
    pub fn difference_at(&self, z: f64) -> Option<(f64, f64, f64)> {
        let n = self.n();
        if n == 0 {
            return None;
        }
        let nf = n as f64;
        let r1 = self.both + self.first_only; // yes in the first
        let c1 = self.both + self.second_only; // yes in the second
        let (p1, p2) = (r1 as f64 / nf, c1 as f64 / nf);
        let est = p1 - p2;
        let (l1, u1) = wilson(r1, n, z);
        let (l2, u2) = wilson(c1, n, z);
        let margins = [r1, n - r1, c1, n - c1];
        let phi = if margins.contains(&0) {
            0.0
        } else {
            let prod: f64 = margins.iter().map(|&m| m as f64).product();
            let a = self.both as f64 * self.neither as f64
                - self.first_only as f64 * self.second_only as f64;
            if a > nf / 2.0 {
                (a - nf / 2.0) / prod.sqrt()
            } else if a >= 0.0 {
                0.0
            } else {
                a / prod.sqrt()
            }
        };
        let (d1, e2) = (p1 - l1, u2 - p2);
        let (d2, e1) = (p2 - l2, u1 - p1);
        let lo = est - (d1 * d1 + e2 * e2 - 2.0 * phi * d1 * e2).max(0.0).sqrt();
        let hi = est + (d2 * d2 + e1 * e1 - 2.0 * phi * d2 * e1).max(0.0).sqrt();
        Some((est, lo.max(-1.0), hi.min(1.0)))
    }

    /// The share of trials whose two outcomes disagree, (first only + second only) / n: the
    /// variance of the per-trial differences is this minus the squared difference. `None` for an
    /// empty table.
    pub fn discordant_share(&self) -> Option<f64> {
        let n = self.n();
        (n > 0).then(|| (self.first_only + self.second_only) as f64 / n as f64)
    }

    /// Paired trials that detect a true difference of `effect` with 80 % power at 95 %
    /// two-sided, with the variance estimated from this table's discordant share (see
    /// [`paired_trials_for`]). `None` for an empty table or an effect of 0.
    pub fn trials_for(&self, effect: f64) -> Option<u64> {
        paired_trials_for(effect, self.discordant_share()?)
    }
}

/// Paired trials a comparison needs to detect a true difference `effect` between two
/// proportions with 80 % power at 95 % two-sided, when the two outcomes of a trial disagree
/// with probability `discordant` (q): n = (z₀.₉₇₅ + z₀.₈)² · s² / D², with s² = max(q, |D|) − D²
/// the variance of the per-trial differences at the alternative D (a difference of D needs at
/// least a share |D| of discordant trials). The variance is taken at D, never from the observed
/// difference: n does not grow as 1/d̂² when the observed difference is small. `None` for an
/// effect of 0 (or not finite): no number of trials tells a difference that is not there.
pub fn paired_trials_for(effect: f64, discordant: f64) -> Option<u64> {
    let d = effect.abs();
    if d == 0.0 || !d.is_finite() || !discordant.is_finite() {
        return None;
    }
    let z = Z95 + crate::math::special::normal_quantile(0.8);
    let var = discordant.max(d).min(1.0) - d * d;
    let n = (z * z * var / (d * d)).ceil();
    Some(if n >= u64::MAX as f64 {
        u64::MAX
    } else {
        (n as u64).max(1)
    })
}

/// The normal quantile that gives each of `m` two-sided intervals the Šidák level
/// 0.95^(1/m), so that all `m` hold together with probability at least 95 %: for estimates
/// that are jointly normal, whatever their correlation (Šidák 1967), which the paired
/// differences of arms played on the same trials are for many trials. `Z95` for `m` ≤ 1.
pub fn sidak_z(m: usize) -> f64 {
    if m <= 1 {
        return Z95;
    }
    let level = crate::math::pow(0.95, 1.0 / m as f64);
    crate::math::special::normal_quantile(0.5 + level / 2.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sidak_quantiles_match_tables() {
        assert!((sidak_z(1) - 1.959964).abs() < 1e-6);
        // 1 − 0.95^(1/15) = 0.0034137; Φ⁻¹(1 − 0.0034137/2) = 2.92773.
        assert!((sidak_z(15) - 2.92773).abs() < 1e-4, "{}", sidak_z(15));
        assert!((sidak_z(2) - 2.23648).abs() < 1e-4, "{}", sidak_z(2));
        let t = PairedTable {
            both: 30,
            first_only: 40,
            second_only: 10,
            neither: 920,
        };
        let (d, lo, hi) = t.difference().unwrap();
        let (d2, lo2, hi2) = t.difference_at(sidak_z(15)).unwrap();
        assert_eq!(d, d2);
        assert!(lo2 < lo && hi2 > hi, "{lo2} {lo} {hi} {hi2}");
    }

    #[test]
    fn trials_for_an_effect_take_the_variance_at_the_effect_not_the_observed_difference() {
        // (z.975 + z.8)^2 = (1.959964 + 0.841621)^2 = 7.848879.
        // q = 0.05, D = 0.01: s^2 = 0.0499, n = 7.848879 * 0.0499 / 0.0001 = 3916.59.
        assert_eq!(paired_trials_for(0.01, 0.05), Some(3917));
        assert_eq!(paired_trials_for(-0.01, 0.05), Some(3917));
        // Fewer discordant trials than D: a difference of D needs a share D of them at least;
        // s^2 = 0.01 - 0.0001, n = 7.848879 * 99 = 777.04.
        assert_eq!(paired_trials_for(0.01, 0.001), Some(778));
        assert_eq!(paired_trials_for(0.01, 0.0), Some(778));
        assert_eq!(paired_trials_for(0.0, 0.05), None);
        assert_eq!(paired_trials_for(f64::NAN, 0.05), None);
        // The same discordant share with observed differences of +0.03 and 0: the same answer.
        let skewed = PairedTable {
            both: 100,
            first_only: 40,
            second_only: 10,
            neither: 850,
        };
        let even = PairedTable {
            first_only: 25,
            second_only: 25,
            ..skewed
        };
        assert_eq!(skewed.discordant_share(), Some(0.05));
        assert_eq!(skewed.trials_for(0.01), Some(3917));
        assert_eq!(even.trials_for(0.01), Some(3917));
        assert_eq!(PairedTable::default().trials_for(0.01), None);
    }

    #[test]
    fn wilson_matches_published_values() {
        // Newcombe (1998), Table I, example: 81 of 263 -> 0.2553 to 0.3662.
        let (lo, hi) = wilson(81, 263, Z95);
        assert!(
            (lo - 0.2553).abs() < 5e-5 && (hi - 0.3662).abs() < 5e-5,
            "{lo} {hi}"
        );
        // 0 of 10 -> 0 to 0.2775 (Newcombe, Table I).
        let (lo, hi) = wilson(0, 10, Z95);
        assert_eq!(lo, 0.0);
        assert!((hi - 0.2775).abs() < 5e-5, "{hi}");
        let (lo, hi) = wilson(10, 10, Z95);
        assert!((lo - 0.7225).abs() < 5e-5, "{lo}");
        assert_eq!(hi, 1.0);
    }

    #[test]
    fn rate_of_nothing_is_empty() {
        let r = Rate::new(0, 0);
        assert_eq!(r.estimate, None);
        assert_eq!(r.interval, None);
    }

    #[test]
    fn merging_adds_every_count() {
        let mut a = Tally::new(2, 1);
        a.trials = 3;
        a.reached[0] = 3;
        a.broken[0] = 1;
        a.control_fired[1] = 4;
        a.techniques[0].attempts = 5;
        let mut b = a.clone();
        b.completed = 2;
        b += &a;
        assert_eq!(b.trials, 6);
        assert_eq!(b.passed(0), 4);
        assert_eq!(b.control_fired, vec![0, 8]);
        assert_eq!(b.techniques[0].attempts, 10);
        assert_eq!(b.completed, 2);
    }

    #[test]
    fn a_sum_that_does_not_fit_is_an_error_naming_the_count() {
        let mut a = Tally::new(1, 1);
        a.control_breaks[0] = u64::MAX;
        let mut b = Tally::new(1, 1);
        b.control_breaks[0] = 1;
        assert_eq!(a.try_add(&b), Err(CountOverflow("control_breaks")));
        let mut t = Tally::new(0, 1);
        t.techniques[0].evicted = u64::MAX - 1;
        let mut one = Tally::new(0, 1);
        one.techniques[0].evicted = 1;
        assert_eq!(t.try_add(&one), Ok(()));
        assert_eq!(t.techniques[0].evicted, u64::MAX);
        assert_eq!(
            t.try_add(&one).unwrap_err().to_string(),
            "the sum of the technique evicted counts overflows"
        );
    }

    /// The two paired examples of Fagerland, Lydersen & Laake, "Statistical Analysis of
    /// Contingency Tables", ch. 8 (Bentur et al. 2009; Cavo et al. 2012), as computed by the
    /// published square-and-add formula.
    #[test]
    fn newcombe_paired_interval_matches_worked_examples() {
        let t = PairedTable {
            both: 1,
            first_only: 1,
            second_only: 7,
            neither: 12,
        };
        let (d, lo, hi) = t.difference().unwrap();
        assert!((d + 0.285714).abs() < 1e-6);
        assert!(
            (lo + 0.506920).abs() < 1e-6 && (hi + 0.025559).abs() < 1e-6,
            "{lo} {hi}"
        );
        let t = PairedTable {
            both: 59,
            first_only: 6,
            second_only: 16,
            neither: 80,
        };
        let (_, lo, hi) = t.difference().unwrap();
        assert!(
            (lo + 0.118621).abs() < 1e-6 && (hi + 0.004625).abs() < 1e-6,
            "{lo} {hi}"
        );
    }

    #[test]
    fn identical_outcomes_give_a_zero_difference_with_a_tight_interval() {
        let t = PairedTable {
            both: 300,
            first_only: 0,
            second_only: 0,
            neither: 700,
        };
        let (d, lo, hi) = t.difference().unwrap();
        assert_eq!(d, 0.0);
        assert!(lo <= 0.0 && hi >= 0.0 && hi - lo < 0.01, "{lo} {hi}");
        assert_eq!(PairedTable::default().difference(), None);
    }
}
