//! The work plan of one simulation: which trials it plays (all of a run's, or a shard's slice),
//! how they are cut into work units (fixed chunks, or whole simulated years with `[loss]`), and
//! which trials make up which year. Every command and test that plays trials gets them from a
//! [`Schedule`], so a run, a comparison, a shard and an optimisation cut the same trials the same
//! way.
//!
//! Invariant: a schedule depends only on (loss model, seed, trials, shard), never on threads;
//! making one takes constant time, and its units are computed as they are played.

use std::fmt;
use std::ops::Range;
use std::str::FromStr;
use std::sync::OnceLock;

use crate::money::LossModel;
use crate::sim::years::{MAX_LOSS_TRIALS, MAX_YEARS, YearLayout, YearStart};

use super::engine::{Units, Watch};

/// How the trials of a schedule are cut.
#[derive(Debug, Clone)]
enum Cut {
    /// Fixed chunks over these trials (no years).
    Chunks(Range<u64>),
    /// Whole years, from year boundary `from` to `to` (the end of the run when `None`, then
    /// with the trials after the last counted year). A shard's boundaries are found by walking
    /// the years, once, when first needed.
    Years {
        layout: YearLayout,
        shard: Option<Shard>,
        bounds: OnceLock<Bounds>,
    },
}

/// Where a slice of whole years starts and ends.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Bounds {
    from: YearStart,
    to: Option<YearStart>,
    range: Range<u64>,
}

/// The trials one simulation plays and their work units.
#[derive(Debug, Clone)]
pub struct Schedule {
    seed: u64,
    trials: u64,
    cut: Cut,
}

impl Schedule {
    /// All `trials` trials of a run with `seed`, or `shard`'s slice of them; with a loss model
    /// the slice is whole years and the years are counted. Takes constant time: the years are
    /// walked as the trials are played (or, for [`Self::range`], when first asked).
    pub fn new(loss: Option<&LossModel>, seed: u64, trials: u64, shard: Option<Shard>) -> Schedule {
        let cut = match loss {
            None => Cut::Chunks(shard.map_or(0..trials, |k| k.range(trials))),
            Some(model) => {
                let bounds = OnceLock::new();
                if shard.is_none() {
                    let _ = bounds.set(Bounds {
                        from: YearStart::ZERO,
                        to: None,
                        range: 0..trials,
                    });
                }
                Cut::Years {
                    layout: YearLayout::new(model, seed),
                    shard,
                    bounds,
                }
            }
        };
        Schedule { seed, trials, cut }
    }

    /// The run's seed.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The trials this schedule plays. For a shard of a run with years this walks the years up
    /// to the shard's end the first time (bounded by [`check_trials`]); [`Session::play`]
    /// finds them under its stop flag instead.
    ///
    /// [`Session::play`]: crate::sim::Session::play
    pub fn range(&self) -> Range<u64> {
        match &self.cut {
            Cut::Chunks(r) => r.clone(),
            Cut::Years { .. } => self.bounds(&|| false).expect("never stopped").range.clone(),
        }
    }

    /// How many trials it plays, as far as known without walking the years: exact but for a
    /// shard with years whose boundaries are not found yet, then its share of the plain K/N
    /// split (within a few trials of it). For progress counters.
    pub fn estimate(&self) -> u64 {
        match &self.cut {
            Cut::Years {
                shard: Some(k),
                bounds,
                ..
            } => bounds.get().map_or_else(
                || {
                    let r = k.range(self.trials);
                    r.end - r.start
                },
                |b| b.range.end - b.range.start,
            ),
            _ => {
                let r = self.range();
                r.end - r.start
            }
        }
    }

    /// How many trials it plays (see [`Self::range`]).
    pub fn played(&self) -> u64 {
        let r = self.range();
        r.end - r.start
    }

    /// How many whole years this schedule's slice counts (0 without a loss model): a walk over
    /// its years (bounded by [`check_trials`]).
    pub fn counted_years(&self) -> u64 {
        let Cut::Years { layout, shard, .. } = &self.cut else {
            return 0;
        };
        let b = self.bounds(&|| false).expect("never stopped");
        let last = shard.is_none_or(|k| k.k() == k.n());
        layout
            .units_between(b.from, b.to, self.trials, last)
            .map(|u| u.years.end - u.years.start)
            .sum()
    }

    /// The years, with a loss model.
    pub fn years(&self) -> Option<&YearLayout> {
        match &self.cut {
            Cut::Years { layout, .. } => Some(layout),
            _ => None,
        }
    }

    /// The work units the engine plays, in trial order, computed as they are taken; `None` when
    /// `watch` asked to stop while a shard's boundaries were being found.
    pub(crate) fn units(&self, watch: Watch<'_>) -> Option<Units<'_>> {
        match &self.cut {
            Cut::Chunks(r) => Some(Units::chunks(r.clone())),
            Cut::Years { layout, shard, .. } => {
                let b = self.bounds(&|| watch.stopped())?;
                let last = shard.is_none_or(|k| k.k() == k.n());
                Some(Units::Years(layout.units_between(
                    b.from,
                    b.to,
                    self.trials,
                    last,
                )))
            }
        }
    }

    /// The year boundaries of a slice with years, found once; `None` when `stopped` held.
    fn bounds(&self, stopped: &dyn Fn() -> bool) -> Option<&Bounds> {
        let Cut::Years {
            layout,
            shard,
            bounds,
        } = &self.cut
        else {
            unreachable!("only a schedule with years has year boundaries")
        };
        if let Some(b) = bounds.get() {
            return Some(b);
        }
        let k = shard.expect("an unsharded schedule's bounds are set when it is made");
        let trials = self.trials;
        let target = |i: u64| k.bound(i, trials);
        let from = if k.k() == 1 {
            YearStart::ZERO
        } else {
            layout.boundary(YearStart::ZERO, target(k.k() - 1), trials, stopped)?
        };
        let to = if k.k() == k.n() {
            None
        } else {
            Some(layout.boundary(from, target(k.k()), trials, stopped)?)
        };
        let found = Bounds {
            from,
            to,
            range: from.trial..to.map_or(trials, |t| t.trial),
        };
        Some(bounds.get_or_init(|| found))
    }
}

/// Whether a run of `trials` trials may be played with the loss model `loss`: with years, at
/// most [`MAX_LOSS_TRIALS`] trials and about [`MAX_YEARS`] simulated years (trials ÷ attacks per
/// year), so that walking the years (to cut shards, or to check them in `merge`) takes bounded
/// time. Without a loss model every trial count is accepted.
pub fn check_trials(loss: Option<&LossModel>, trials: u64) -> Result<(), String> {
    let Some(model) = loss else {
        return Ok(());
    };
    let lambda = model.attacks_per_year;
    // The largest trial count whose expected years stay within the limit.
    let by_years = (MAX_YEARS as f64 * lambda).floor();
    let most = if by_years >= MAX_LOSS_TRIALS as f64 {
        MAX_LOSS_TRIALS
    } else {
        by_years as u64
    };
    if trials <= most {
        return Ok(());
    }
    Err(format!(
        "{trials} trials with [loss] at {lambda} attacks per year are too many: a run with [loss] plays at most {MAX_LOSS_TRIALS} (2^40) trials and about {MAX_YEARS} (2^32) simulated years (trials ÷ attacks_per_year), so at most {most} trials here; ask for fewer trials, or remove [loss] for phase figures only"
    ))
}

/// Shard `k` of `n` (1 ≤ k ≤ n), written `K/N`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    k: u64,
    n: u64,
}

impl Shard {
    /// Shard `k` of `n`, or why that is not one.
    pub fn new(k: u64, n: u64) -> Result<Shard, String> {
        if n == 0 {
            return Err("the number of shards N must be at least 1".to_owned());
        }
        if !(1..=n).contains(&k) {
            return Err(format!(
                "shard {k} of {n} does not exist; K runs from 1 to {n}"
            ));
        }
        Ok(Shard { k, n })
    }

    /// K, from 1.
    pub fn k(self) -> u64 {
        self.k
    }

    /// N.
    pub fn n(self) -> u64 {
        self.n
    }

    /// The trials of a `trials`-trial run that this shard plays:
    /// `[floor((k−1)·trials/n), floor(k·trials/n))`.
    pub fn range(self, trials: u64) -> Range<u64> {
        self.bound(self.k - 1, trials)..self.bound(self.k, trials)
    }

    /// `floor(i·trials/n)` for `i ≤ n`, exact (in 128 bits), so at most `trials`.
    fn bound(self, i: u64, trials: u64) -> u64 {
        let b = u128::from(i) * u128::from(trials) / u128::from(self.n);
        u64::try_from(b).expect("i ≤ n, so i·trials/n ≤ trials")
    }
}

impl FromStr for Shard {
    type Err = String;

    fn from_str(s: &str) -> Result<Shard, String> {
        let expected = || format!("expected K/N, e.g. 2/8 for the second of 8 shards, not {s:?}");
        let (k, n) = s.split_once('/').ok_or_else(expected)?;
        let num = |t: &str| {
            t.parse::<u64>()
                .ok()
                .filter(|_| t.bytes().all(|b| b.is_ascii_digit()))
        };
        match (num(k), num(n)) {
            (Some(k), Some(n)) => Shard::new(k, n),
            _ => Err(expected()),
        }
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.k, self.n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_cover_the_range_once_in_order() {
        for trials in [0, 1, 5, 7, 100, 1_000_003, u64::MAX] {
            for n in [1, 2, 3, 7, 64] {
                let mut next = 0;
                for k in 1..=n {
                    let r = Shard::new(k, n).unwrap().range(trials);
                    assert_eq!(r.start, next);
                    assert!(r.end >= r.start);
                    next = r.end;
                }
                assert_eq!(next, trials);
            }
        }
        assert_eq!(Shard::new(2, 3).unwrap().range(10), 3..6);
    }

    #[test]
    fn shards_with_years_tile_the_run_on_the_nearest_year_boundaries() {
        use crate::money::Impact;
        use crate::money::tests::model;
        use crate::sim::engine::Watch;
        use std::sync::atomic::{AtomicU64, AtomicUsize};
        let (stop, done) = (AtomicUsize::new(0), AtomicU64::new(0));
        let watch = Watch {
            stop: &stop,
            done: &done,
        };
        for (lambda, trials, n) in [(6.0, 200_000, 8), (0.05, 3_000, 7), (2500.0, 10_000, 9)] {
            let m = LossModel {
                attacks_per_year: lambda,
                ..model(Impact::Fixed(1.0))
            };
            let layout = YearLayout::new(&m, 11);
            let mut next = (0, 0);
            for k in 1..=n {
                let shard = Shard::new(k, n).unwrap();
                let sched = Schedule::new(Some(&m), 11, trials, Some(shard));
                let range = sched.range();
                let units: Vec<_> = sched.units(watch).unwrap().collect();
                assert_eq!(range.start, next.0, "λ {lambda}: {shard}");
                // The units are whole years, contiguous, and cover the range.
                let (mut t, mut y) = next;
                for u in &units {
                    assert_eq!((u.trials.start, u.years.start), (t, y));
                    let sum: u64 = u.years.clone().map(|y| layout.campaigns(y)).sum();
                    if !u.years.is_empty() {
                        assert_eq!(sum, u.trials.end - u.trials.start);
                    }
                    (t, y) = (u.trials.end, u.years.end);
                }
                assert_eq!(t, range.end, "λ {lambda}: {shard}");
                // The end is a year start nearest the ideal cut: no other year start is nearer.
                let ideal = shard.range(trials).end;
                if k < n {
                    let mut at = YearStart::ZERO;
                    while let Some(s) = layout.step(at, trials) {
                        assert!(
                            s.trial.abs_diff(ideal) >= range.end.abs_diff(ideal),
                            "λ {lambda}: {shard} ends at {}, {} is nearer {ideal}",
                            range.end,
                            s.trial
                        );
                        at = s;
                    }
                }
                next = (t, y);
            }
            assert_eq!(next.0, trials);
        }
    }

    #[test]
    fn a_stopped_walk_gives_no_units() {
        use crate::money::Impact;
        use crate::money::tests::model;
        use crate::sim::engine::Watch;
        use std::sync::atomic::{AtomicU64, AtomicUsize};
        let (stop, done) = (AtomicUsize::new(2), AtomicU64::new(0));
        let watch = Watch {
            stop: &stop,
            done: &done,
        };
        let m = model(Impact::Fixed(1.0));
        let shard = Shard::new(3, 3).unwrap();
        let sched = Schedule::new(Some(&m), 1, MAX_LOSS_TRIALS, Some(shard));
        assert!(sched.units(watch).is_none());
    }

    #[test]
    fn the_trials_with_years_are_bounded() {
        use crate::money::Impact;
        use crate::money::tests::model;
        let m = LossModel {
            attacks_per_year: 6.0,
            ..model(Impact::Fixed(1.0))
        };
        assert!(check_trials(Some(&m), 6 << 32).is_ok());
        assert!(check_trials(Some(&m), (6 << 32) + 1).is_err());
        assert!(check_trials(None, u64::MAX).is_ok());
        let busy = LossModel {
            attacks_per_year: 1e6,
            ..m
        };
        assert!(check_trials(Some(&busy), MAX_LOSS_TRIALS).is_ok());
        assert!(check_trials(Some(&busy), MAX_LOSS_TRIALS + 1).is_err());
    }

    #[test]
    fn k_of_n_is_parsed_strictly() {
        assert_eq!("2/8".parse::<Shard>(), Shard::new(2, 8));
        assert_eq!("1/1".parse::<Shard>().unwrap().to_string(), "1/1");
        for bad in [
            "x", "0/3", "4/3", "1/0", "/3", "1/", "+1/3", "1/3/5", " 1/3", "-1/3",
        ] {
            assert!(bad.parse::<Shard>().is_err(), "{bad} accepted");
        }
        assert_eq!(
            "4/3".parse::<Shard>().unwrap_err(),
            "shard 4 of 3 does not exist; K runs from 1 to 3"
        );
    }
}
