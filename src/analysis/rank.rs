//! `rank`: each control's marginal value, from switching it alone (off if enabled, on if not)
//! on the same trials as the scenario as written, and their order.
//!
//! Invariant: what is kept of each switch is a few numbers ([`SwitchEffect`]), never its
//! scenario, plan or counts, so ranking holds memory in proportion to the controls, not to their
//! square.

use crate::analysis::arms::ArmSummary;
use crate::money::{rosi, rosi_interval};
use crate::phase::CourseOfAction;
use crate::scenario::Scenario;
use crate::stats::figures::LossFigures;

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
    /// its simultaneous paired interval: all the controls' intervals together hold with 95 %
    /// probability (Šidák-adjusted; exact evaluation: the value itself).
    pub delta: (f64, f64, f64),
    /// The same change with its own (unadjusted) 95 % paired interval.
    pub unadjusted: (f64, f64, f64),
    /// With `[loss]`: change in expected annual loss when it alone is switched.
    pub ale_delta: Option<f64>,
    /// Its simultaneous interval (Šidák over the controls, as `delta`; exact: the value).
    pub ale_delta_ci: Option<(f64, f64)>,
    /// Its own (unadjusted) 95 % paired interval.
    pub ale_delta_unadjusted: Option<(f64, f64)>,
    /// The years and trials Cochran's rule asks for before its ALE interval is trusted, when
    /// fewer years were simulated (the year-by-year differences are skewed).
    pub ale_short: Option<(u64, u64)>,
}

impl Marginal {
    /// With `[loss]`: the expected annual loss the control saves (positive when it lowers
    /// the loss).
    pub fn ale_reduction(&self) -> Option<f64> {
        self.ale_delta.map(|d| if self.enabled { d } else { -d })
    }

    /// With `[loss]` and a cost > 0: `(ALE reduction − cost) / cost`.
    pub fn return_on_control(&self) -> Option<f64> {
        let c = self.cost.filter(|&c| c > 0.0)?;
        rosi(self.ale_reduction()?, c)
    }

    /// The simultaneous interval of [`Self::ale_reduction`].
    pub fn ale_reduction_ci(&self) -> Option<(f64, f64)> {
        let (lo, hi) = self.ale_delta_ci?;
        Some(if self.enabled { (lo, hi) } else { (-hi, -lo) })
    }

    /// The simultaneous interval of [`Self::return_on_control`], mapped from that of the ALE
    /// reduction (see [`crate::money::rosi_interval`]).
    pub fn return_on_control_ci(&self) -> Option<(f64, f64)> {
        let c = self.cost.filter(|&c| c > 0.0)?;
        let (lo, hi) = self.ale_reduction_ci()?;
        rosi_interval(lo, hi, c)
    }

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
/// reduction), ties by id. With `[loss]`, by return on control instead, those without a cost
/// last by the annual loss they save.
/// The marginal value of each control against a threat landscape: `per_adversary` holds each
/// adversary's rate and its controls' switch effects (in the order of `s.controls`). `delta`
/// becomes the change in successful attacks a year (Σ λ·Δp) and the ALE change the sum of the
/// adversaries'; each interval is the MOVER sum of the adversaries' intervals of that kind (so a
/// landscape's "simultaneous" interval sums each adversary's Šidák-adjusted ones). Ranked as
/// [`marginals`].
pub fn landscape_marginals(
    s: &Scenario,
    per_adversary: &[(f64, Vec<SwitchEffect>)],
) -> Vec<Marginal> {
    use crate::stats::landscape::{Interval, scaled, sum_of_changes};
    let pair = |(lo, hi): (f64, f64), e: f64| (e, lo, hi);
    let mut marginals: Vec<Marginal> = (s.controls.iter().enumerate())
        .map(|(ci, c)| {
            let effects: Vec<(f64, &SwitchEffect)> =
                per_adversary.iter().map(|(l, e)| (*l, &e[ci])).collect();
            let sum = |pick: &dyn Fn(f64, &SwitchEffect) -> (f64, f64, f64)| {
                sum_of_changes(&effects.iter().map(|&(l, e)| pick(l, e)).collect::<Vec<_>>())
            };
            let loss = |pick: &dyn Fn(&SwitchEffect) -> Option<Interval>| {
                let parts: Option<Vec<_>> = effects.iter().map(|(_, e)| pick(e)).collect();
                parts.map(|p| sum_of_changes(&p))
            };
            let ale = loss(&|e| e.ale_delta.zip(e.ale_delta_ci).map(|(d, ci)| pair(ci, d)));
            let unadjusted = loss(&|e| {
                e.ale_delta
                    .zip(e.ale_delta_unadjusted)
                    .map(|(d, ci)| pair(ci, d))
            });
            Marginal {
                control: c.id.clone(),
                action: c.action,
                enabled: c.enabled,
                cost: c.cost,
                delta: sum(&|l, e| scaled(l, e.delta)),
                unadjusted: sum(&|l, e| scaled(l, e.unadjusted)),
                ale_delta: ale.map(|a| a.0),
                ale_delta_ci: ale.map(|a| (a.1, a.2)),
                ale_delta_unadjusted: unadjusted.map(|a| (a.1, a.2)),
                ale_short: None,
            }
        })
        .collect();
    rank(&mut marginals);
    marginals
}

fn rank(marginals: &mut [Marginal]) {
    let key = |m: &Marginal| -> (bool, f64) {
        if let Some(saved) = m.ale_reduction() {
            return match m.return_on_control() {
                Some(r) => (false, -r),
                None => (true, -saved),
            };
        }
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

/// What ranking reads of the arm that switches one control: the change in completion rate
/// against the scenario as written (with its interval) and, with `[loss]`, the change in
/// expected annual loss.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SwitchEffect {
    /// Change in completion rate, with its simultaneous interval (see [`Marginal::delta`]).
    pub delta: (f64, f64, f64),
    /// The same change with its unadjusted 95 % interval.
    pub unadjusted: (f64, f64, f64),
    /// With `[loss]` (and figures defined): change in expected annual loss.
    pub ale_delta: Option<f64>,
    /// Its simultaneous interval.
    pub ale_delta_ci: Option<(f64, f64)>,
    /// Its unadjusted 95 % interval.
    pub ale_delta_unadjusted: Option<(f64, f64)>,
    /// See [`Marginal::ale_short`].
    pub ale_short: Option<(u64, u64)>,
}

impl SwitchEffect {
    /// The effect an arm's summary shows, `simultaneous` the change's interval at the
    /// family's level and `ale_simultaneous` that of the ALE reduction against the scenario as
    /// written (`None`: the summary's own, as for exact evaluation, where both are the value);
    /// the summary's own intervals are the unadjusted ones.
    pub fn of(
        arm: &ArmSummary,
        simultaneous: (f64, f64, f64),
        ale_simultaneous: Option<(f64, f64, f64)>,
    ) -> SwitchEffect {
        let loss = arm.loss.as_ref().filter(|l| l.defined());
        // The change in ALE is minus the reduction; its interval's ends swap.
        let delta_of = |(_, lo, hi): (f64, f64, f64)| (0.0 - hi, 0.0 - lo);
        SwitchEffect {
            delta: simultaneous,
            unadjusted: arm.delta,
            ale_delta: loss.map(|l| 0.0 - l.reduction.0),
            ale_delta_ci: loss.map(|l| delta_of(ale_simultaneous.unwrap_or(l.reduction))),
            ale_delta_unadjusted: loss.map(|l| delta_of(l.reduction)),
            ale_short: loss.and_then(LossFigures::reduction_short),
        }
    }
}

/// Each control's marginal value, ranked: `effects` are those of switching each control alone,
/// in the order of `s.controls`.
pub fn marginals(s: &Scenario, effects: &[SwitchEffect]) -> Vec<Marginal> {
    let mut marginals: Vec<Marginal> = s
        .controls
        .iter()
        .zip(effects)
        .map(|(c, e)| Marginal {
            control: c.id.clone(),
            action: c.action,
            enabled: c.enabled,
            cost: c.cost,
            delta: e.delta,
            unadjusted: e.unadjusted,
            ale_delta: e.ale_delta,
            ale_delta_ci: e.ale_delta_ci,
            ale_delta_unadjusted: e.ale_delta_unadjusted,
            ale_short: e.ale_short,
        })
        .collect();
    rank(&mut marginals);
    marginals
}
