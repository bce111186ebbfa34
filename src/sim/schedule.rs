//! The work plan of one simulation: which trials it plays (all of a run's, or a shard's slice),
//! how they are cut into work units (fixed chunks, or whole simulated years with `[loss]`), and
//! which trials make up which year. Every command and test that plays trials gets them from a
//! [`Schedule`], so a run, a comparison, a shard and an optimisation cut the same trials the same
//! way.
//!
//! Invariant: a schedule depends only on (loss model, seed, trials, shard), never on threads.

use std::fmt;
use std::ops::Range;
use std::str::FromStr;

use crate::money::LossModel;
use crate::sim::years::{WorkUnit, YearLayout};

use super::engine::Units;

/// How the trials of a schedule are cut.
#[derive(Debug, Clone)]
enum Cut {
    /// Fixed chunks over the trials (no years).
    Chunks,
    /// Year-aligned units (`YearLayout::units`), of which this slice is played.
    Years {
        layout: YearLayout,
        units: Vec<WorkUnit>,
        slice: Range<usize>,
    },
}

/// The trials one simulation plays and their work units.
#[derive(Debug, Clone)]
pub struct Schedule {
    seed: u64,
    range: Range<u64>,
    cut: Cut,
}

impl Schedule {
    /// All `trials` trials of a run with `seed`, or `shard`'s slice of them; with a loss model
    /// the slice is whole years and the years are counted.
    pub fn new(loss: Option<&LossModel>, seed: u64, trials: u64, shard: Option<Shard>) -> Schedule {
        let Some(model) = loss else {
            let range = shard.map_or(0..trials, |k| k.range(trials));
            return Schedule {
                seed,
                range,
                cut: Cut::Chunks,
            };
        };
        let layout = YearLayout::new(model, seed);
        let units = layout.units(trials);
        let (slice, range) = match shard {
            None => (0..units.len(), 0..trials),
            Some(k) => unit_slice(k, &units, trials),
        };
        Schedule {
            seed,
            range,
            cut: Cut::Years {
                layout,
                units,
                slice,
            },
        }
    }

    /// The run's seed.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The trials this schedule plays.
    pub fn range(&self) -> Range<u64> {
        self.range.clone()
    }

    /// How many trials it plays.
    pub fn played(&self) -> u64 {
        self.range.end - self.range.start
    }

    /// The years, with a loss model.
    pub fn years(&self) -> Option<&YearLayout> {
        match &self.cut {
            Cut::Chunks => None,
            Cut::Years { layout, .. } => Some(layout),
        }
    }

    /// The work units the engine plays, in trial order.
    pub(crate) fn units(&self) -> Units<'_> {
        match &self.cut {
            Cut::Chunks => Units::chunks(self.range.clone()),
            Cut::Years { units, slice, .. } => Units::List(&units[slice.clone()]),
        }
    }
}

/// The slice of a run's work units that shard `shard` plays, and its trials: units
/// `[floor((k−1)·U/n), floor(k·U/n))` of the U units. Used when shards must be whole years.
fn unit_slice(shard: Shard, units: &[WorkUnit], trials: u64) -> (Range<usize>, Range<u64>) {
    let r = shard.range(units.len() as u64);
    let r = (r.start as usize)..(r.end as usize);
    let trials = if r.is_empty() {
        let at = units.get(r.start).map_or(trials, |u| u.trials.start);
        at..at
    } else {
        units[r.start].trials.start..units[r.end - 1].trials.end
    };
    (r, trials)
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
        let bound = |i: u64| (u128::from(i) * u128::from(trials) / u128::from(self.n)) as u64;
        bound(self.k - 1)..bound(self.k)
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
