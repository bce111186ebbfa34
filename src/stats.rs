//! Tallies that merge associatively, and rates with their confidence intervals.
//!
//! Every count is a `u64` sum, so merging per-thread tallies in any order gives the same bits.

use std::ops::AddAssign;

use crate::phase::N_PHASES;

/// Two-sided 95 % standard normal quantile.
pub const Z95: f64 = 1.959_963_984_540_054;

/// Outcome counts of one technique's attempts. `prevented + deceived + interrupted + failed +
/// succeeded = attempts`; `detected` and `evicted` count attempts on which a detection happened or
/// the chain was broken.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TechniqueCounts {
    /// Attempts made with the technique.
    pub attempts: u64,
    /// Attempts a deny control prevented.
    pub prevented: u64,
    /// Attempts a deceive control diverted into a decoy.
    pub deceived: u64,
    /// Attempts a disrupt control interrupted.
    pub interrupted: u64,
    /// Attempts that ran and failed their success roll.
    pub failed: u64,
    /// Attempts that ran and succeeded.
    pub succeeded: u64,
    /// Attempts on which at least one detect control fired.
    pub detected: u64,
    /// Attempts on which the chain was broken (decoy or detection response, or destroy).
    pub evicted: u64,
}

impl AddAssign<&TechniqueCounts> for TechniqueCounts {
    fn add_assign(&mut self, o: &TechniqueCounts) {
        self.attempts += o.attempts;
        self.prevented += o.prevented;
        self.deceived += o.deceived;
        self.interrupted += o.interrupted;
        self.failed += o.failed;
        self.succeeded += o.succeeded;
        self.detected += o.detected;
        self.evicted += o.evicted;
    }
}

/// Everything counted over a set of trials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tally {
    /// Trials run.
    pub trials: u64,
    /// Trials that reached each phase.
    pub reached: [u64; N_PHASES],
    /// Trials whose chain was broken at each phase.
    pub broken: [u64; N_PHASES],
    /// Trials that passed all seven phases.
    pub completed: u64,
    /// Per control (scenario order): attempts it acted on.
    pub control_fired: Vec<u64>,
    /// Per control (scenario order): chains broken attributed to it.
    pub control_breaks: Vec<u64>,
    /// Breaks where attempts ran out and no control ended the last attempt.
    pub breaks_technique_failed: u64,
    /// Breaks at a phase where no technique was viable.
    pub breaks_no_viable: u64,
    /// Per technique (scenario order).
    pub techniques: Vec<TechniqueCounts>,
}

impl Tally {
    /// An empty tally for a scenario with these numbers of controls and techniques.
    pub fn new(n_controls: usize, n_techniques: usize) -> Tally {
        Tally {
            trials: 0,
            reached: [0; N_PHASES],
            broken: [0; N_PHASES],
            completed: 0,
            control_fired: vec![0; n_controls],
            control_breaks: vec![0; n_controls],
            breaks_technique_failed: 0,
            breaks_no_viable: 0,
            techniques: vec![TechniqueCounts::default(); n_techniques],
        }
    }

    /// Trials that passed phase `phase_idx`.
    pub fn passed(&self, phase_idx: usize) -> u64 {
        self.reached[phase_idx] - self.broken[phase_idx]
    }
}

impl AddAssign<&Tally> for Tally {
    fn add_assign(&mut self, o: &Tally) {
        self.trials += o.trials;
        for i in 0..N_PHASES {
            self.reached[i] += o.reached[i];
            self.broken[i] += o.broken[i];
        }
        self.completed += o.completed;
        for (a, b) in self.control_fired.iter_mut().zip(&o.control_fired) {
            *a += b;
        }
        for (a, b) in self.control_breaks.iter_mut().zip(&o.control_breaks) {
            *a += b;
        }
        self.breaks_technique_failed += o.breaks_technique_failed;
        self.breaks_no_viable += o.breaks_no_viable;
        for (a, b) in self.techniques.iter_mut().zip(&o.techniques) {
            *a += b;
        }
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
