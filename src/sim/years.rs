//! Simulated years: which trials make up which year, and the year-aligned work units.
//!
//! A run's trials are campaigns, in trial order. Year `y` holds `N_y ~ Poisson(λ)` campaigns,
//! drawn from slot [`SlotKind::Campaigns`] of the year's own stream ([`rng::year_stream`]), and
//! its campaigns are trials `[S_y, S_y + N_y)` with `S_y = Σ_{z<y} N_z`. The years counted are
//! those that end within the run's trials; the trials after the last counted year are still
//! played (and counted in every phase figure) but belong to no year.
//!
//! Invariant: work is cut into [`WorkUnit`]s of whole years ([`YearLayout::units`]); a year is
//! never split between two units, threads or shards, so each unit closes its own years. Units
//! are computed one at a time ([`UnitWalk`], at most [`YearLayout::years_per_unit`] years each)
//! and a long walk ([`YearLayout::boundary`]) looks at its stop condition every 2^16 years:
//! nothing here holds a list that grows with the trials.

use std::ops::Range;

use crate::math::{self, special};
use crate::money::LossModel;
use crate::sim::rng::{self, Slot, SlotKind, midpoint_unit};

/// Trials a work unit aims at (whole years, so it may hold more or fewer).
pub const UNIT_TRIALS: u64 = 1 << 16;

/// The most trials a run with years may play (2^40): see `sim::schedule::check_trials`.
pub const MAX_LOSS_TRIALS: u64 = 1 << 40;

/// About the most years a run may simulate (2^32, as trials ÷ attacks per year): a walk over
/// every year of the largest run, which cutting a shard or checking one in `merge` takes, stays
/// within minutes.
pub const MAX_YEARS: u64 = 1 << 32;

/// Poisson sampling by inverse CDF: from zero for small λ, from the mode for large λ.
#[derive(Debug, Clone, PartialEq)]
struct PoissonSampler {
    lambda: f64,
    /// Start of the search: k0, F(k0), P(k0).
    k0: u64,
    f0: f64,
    p0: f64,
}

impl PoissonSampler {
    fn new(lambda: f64) -> PoissonSampler {
        if lambda < 30.0 {
            let p0 = math::exp(-lambda);
            return PoissonSampler {
                lambda,
                k0: 0,
                f0: p0,
                p0,
            };
        }
        let k0 = lambda.floor() as u64;
        let f0 = special::poisson_cdf(k0, lambda);
        let p0 =
            math::exp(k0 as f64 * math::ln(lambda) - lambda - special::ln_gamma(k0 as f64 + 1.0));
        PoissonSampler { lambda, k0, f0, p0 }
    }

    /// The smallest k with F(k) > u.
    fn sample(&self, u: f64) -> u64 {
        let (mut k, mut f, mut p) = (self.k0, self.f0, self.p0);
        if u < f {
            while k > 0 && u < f - p {
                f -= p;
                p *= k as f64 / self.lambda;
                k -= 1;
            }
        } else {
            while u >= f {
                k += 1;
                p *= self.lambda / k as f64;
                if p <= 0.0 {
                    break;
                }
                f += p;
            }
        }
        k
    }
}

/// A slice of a run's trials made of whole years (or, for the last unit, the trials after the
/// last counted year, with no years).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkUnit {
    /// Its trials.
    pub trials: Range<u64>,
    /// Its years (empty for the tail).
    pub years: Range<u64>,
}

/// Which trials make up which year, for a run with a given seed and loss model.
#[derive(Debug, Clone, PartialEq)]
pub struct YearLayout {
    seed: u64,
    poisson: PoissonSampler,
    /// The loss model the years are drawn for.
    pub model: LossModel,
}

impl YearLayout {
    /// The layout of the years of a run with `seed`.
    pub fn new(model: &LossModel, seed: u64) -> YearLayout {
        YearLayout {
            seed,
            poisson: PoissonSampler::new(model.attacks_per_year),
            model: model.clone(),
        }
    }

    /// The number of campaigns of year `year`.
    pub fn campaigns(&self, year: u64) -> u64 {
        let s = rng::year_stream(self.seed, year);
        self.poisson.sample(midpoint_unit(s.draw53(Slot::new(
            SlotKind::Campaigns,
            0,
            0,
            0,
        ))))
    }

    /// Years per work unit: about [`UNIT_TRIALS`] campaigns.
    pub fn years_per_unit(&self) -> u64 {
        ((UNIT_TRIALS as f64 / self.model.attacks_per_year).ceil() as u64).max(1)
    }

    /// The year after `at`, when year `at.year` ends within the run's `trials`; `None` when it
    /// does not (it is then the first uncounted year).
    pub fn step(&self, at: YearStart, trials: u64) -> Option<YearStart> {
        let end = at.trial.checked_add(self.campaigns(at.year))?;
        (end <= trials).then_some(YearStart {
            year: at.year + 1,
            trial: end,
        })
    }

    /// The year boundary of a `trials`-trial run nearest trial `target`, walking forward from
    /// `from` (year 0, or an earlier result of this function): of the starts S_y of the counted
    /// years and the end of the last counted year, the one nearest `target` (the lower of two
    /// equally near), and of the years starting there the first (years without a campaign at a
    /// boundary belong to the later side). The walk asks `stopped` every 2^16 years and returns
    /// `None` once it holds.
    pub fn boundary(
        &self,
        from: YearStart,
        target: u64,
        trials: u64,
        stopped: &dyn Fn() -> bool,
    ) -> Option<YearStart> {
        // `first` is the first year starting at `at.trial`.
        let (mut at, mut first) = (from, from);
        if at.trial >= target {
            return Some(at);
        }
        for walked in 1u64.. {
            if walked % WALK_CHECK == 0 && stopped() {
                return None;
            }
            let Some(next) = self.step(at, trials) else {
                return Some(first);
            };
            if next.trial >= target {
                let nearer_below = target - at.trial <= next.trial - target;
                return Some(if nearer_below { first } else { next });
            }
            if next.trial > at.trial {
                first = next;
            }
            at = next;
        }
        unreachable!("a walk of 2^64 years")
    }

    /// The work units from year boundary `from` to `to` (`None`: to the first uncounted year),
    /// computed as they are taken: each at most [`Self::years_per_unit`] whole years, then, when
    /// `tail` holds, the trials after the last counted year up to `trials` (in no year), if any.
    pub fn units_between(
        &self,
        from: YearStart,
        to: Option<YearStart>,
        trials: u64,
        tail: bool,
    ) -> UnitWalk<'_> {
        UnitWalk {
            layout: self,
            at: from,
            to,
            trials,
            tail,
            counted_all: false,
            done: false,
        }
    }

    /// The work units of a `trials`-trial run, in order, computed as they are taken: whole
    /// years, then the tail of trials in no year, if any. The years counted are 0..Y, where
    /// year Y is the first that does not end within the trials. Together the units cover
    /// `0..trials` exactly once.
    pub fn units(&self, trials: u64) -> UnitWalk<'_> {
        self.units_between(YearStart::ZERO, None, trials, true)
    }
}

/// How many years a walk takes between two looks at its stop condition.
const WALK_CHECK: u64 = 1 << 16;

/// Where a year starts: year `year` begins at trial `trial` (S_y).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct YearStart {
    /// The year.
    pub year: u64,
    /// Its first trial.
    pub trial: u64,
}

impl YearStart {
    /// Year 0, at trial 0.
    pub const ZERO: YearStart = YearStart { year: 0, trial: 0 };
}

/// Year-aligned work units computed one at a time ([`YearLayout::units_between`]): memory does
/// not grow with the trials, and each unit costs a walk over at most
/// [`YearLayout::years_per_unit`] years.
#[derive(Debug, Clone)]
pub struct UnitWalk<'a> {
    layout: &'a YearLayout,
    at: YearStart,
    to: Option<YearStart>,
    trials: u64,
    tail: bool,
    /// The year at `at` does not end within the trials.
    counted_all: bool,
    done: bool,
}

impl Iterator for UnitWalk<'_> {
    type Item = WorkUnit;

    fn next(&mut self) -> Option<WorkUnit> {
        if self.done {
            return None;
        }
        let start = self.at;
        let per = self.layout.years_per_unit();
        while !self.counted_all
            && self.at.year - start.year < per
            && self.to.is_none_or(|to| self.at.year < to.year)
        {
            match self.layout.step(self.at, self.trials) {
                Some(next) => self.at = next,
                None => self.counted_all = true,
            }
        }
        if self.at.year > start.year {
            return Some(WorkUnit {
                trials: start.trial..self.at.trial,
                years: start.year..self.at.year,
            });
        }
        self.done = true;
        (self.tail && self.at.trial < self.trials).then_some(WorkUnit {
            trials: self.at.trial..self.trials,
            years: self.at.year..self.at.year,
        })
    }
}

/// The years of a work unit in order, each as the trials it holds: the one walk over simulated
/// years that the engine and `optimize` share.
#[derive(Debug, Clone)]
pub struct YearSpans<'a> {
    layout: &'a YearLayout,
    years: Range<u64>,
    start: u64,
}

impl Iterator for YearSpans<'_> {
    type Item = Range<u64>;

    fn next(&mut self) -> Option<Range<u64>> {
        let year = self.years.next()?;
        let end = self.start + self.layout.campaigns(year);
        let span = self.start..end;
        self.start = end;
        Some(span)
    }
}

impl YearLayout {
    /// The years of `unit` (one of [`Self::units`]), each as its trials.
    pub fn spans(&self, unit: &WorkUnit) -> YearSpans<'_> {
        YearSpans {
            layout: self,
            years: unit.years.clone(),
            start: unit.trials.start,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::Impact;
    use crate::money::tests::model;

    #[test]
    fn campaign_counts_are_poisson() {
        for lambda in [0.05, 6.0, 45.5, 2500.0] {
            let l = YearLayout::new(
                &LossModel {
                    attacks_per_year: lambda,
                    ..model(Impact::Fixed(1.0))
                },
                9,
            );
            let years = 100_000u64;
            let (mut s, mut zeros) = (0u64, 0u64);
            for y in 0..years {
                let n = l.campaigns(y);
                s += n;
                zeros += u64::from(n == 0);
            }
            let mean = s as f64 / years as f64;
            let se = (lambda / years as f64).sqrt();
            assert!((mean - lambda).abs() < 4.0 * se, "λ {lambda}: mean {mean}");
            let p0 = math::exp(-lambda);
            let se0 = (p0 * (1.0 - p0) / years as f64).sqrt().max(1e-9);
            let share0 = zeros as f64 / years as f64;
            assert!(
                (share0 - p0).abs() < 4.0 * se0 + 1e-9,
                "λ {lambda}: P(0) {share0}"
            );
        }
    }

    /// Value stability: for seed 7, the first sixteen years' campaign counts at a small λ (6,
    /// from zero) and two large ones (45.5 and 2,500, from the mode), and the bits of where each
    /// search starts (F and P at k0). A change of the math behind them shows here.
    #[test]
    fn year_sizes_are_pinned() {
        let mut got = Vec::new();
        let mut starts = Vec::new();
        for lambda in [6.0, 45.5, 2500.0] {
            let l = YearLayout::new(
                &LossModel {
                    attacks_per_year: lambda,
                    ..model(Impact::Fixed(1.0))
                },
                7,
            );
            got.push((0..16).map(|y| l.campaigns(y)).collect::<Vec<u64>>());
            starts.push((l.poisson.k0, l.poisson.f0.to_bits(), l.poisson.p0.to_bits()));
        }
        let want = [
            [4, 3, 6, 8, 9, 5, 6, 4, 7, 6, 2, 7, 5, 10, 11, 4],
            [
                40, 38, 44, 52, 52, 42, 44, 41, 49, 44, 34, 47, 43, 57, 58, 40,
            ],
            [
                2460, 2443, 2493, 2551, 2551, 2474, 2493, 2465, 2527, 2493, 2411, 2514, 2485, 2581,
                2592, 2459,
            ],
        ];
        assert_eq!(got, want, "{got:?}");
        let want_starts = [
            (0, 0x3f64_4e51_f113_d4d6, 0x3f64_4e51_f113_d4d6),
            (45, 0x3fe0_50f3_9250_c554, 0x3fae_4f1c_85cc_9f27),
            (2500, 0x3fe0_2b92_aa1f_e17e, 0x3f80_5712_d55a_d677),
        ];
        assert_eq!(starts, want_starts, "{starts:#x?}");
    }

    #[test]
    fn units_are_whole_years_covering_the_trials() {
        let l = YearLayout::new(&model(Impact::Fixed(1.0)), 5);
        let trials = 300_001;
        let units: Vec<WorkUnit> = l.units(trials).collect();
        let mut next = 0;
        let mut year = 0;
        for u in &units {
            assert_eq!(u.trials.start, next);
            assert_eq!(u.years.start, year);
            let n: u64 = u.years.clone().map(|y| l.campaigns(y)).sum();
            if !u.years.is_empty() {
                assert_eq!(n, u.trials.end - u.trials.start);
            }
            next = u.trials.end;
            year = u.years.end;
        }
        assert_eq!(next, trials);
        // the first uncounted year does not end within the trials
        let counted_end = units.iter().rev().find(|u| !u.years.is_empty()).unwrap();
        assert!(counted_end.trials.end + l.campaigns(year) > trials);
    }
}
