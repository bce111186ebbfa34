//! The work plan of one simulation: which trials it plays (all of a run's, or a shard's slice),
//! how they are cut into work units (fixed chunks, or whole simulated years with `[loss]`), and
//! which trials make up which year. Every command and test that plays trials gets them from a
//! [`Schedule`], so a run, a comparison, a shard and an optimisation cut the same trials the same
//! way.
//!
//! Invariant: a schedule depends only on (loss model, seed, trials, shard), never on threads.

use std::ops::Range;

use crate::loss::{LossModel, WorkUnit, YearLayout};
use crate::shard::Shard;

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
    trials: u64,
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
                trials,
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
            trials,
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

    /// The whole run's trial count (of which a shard plays a slice).
    pub fn trials(&self) -> u64 {
        self.trials
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
