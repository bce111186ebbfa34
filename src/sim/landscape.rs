//! A threat landscape's simulated years: each adversary's years on its own seed, summed year by
//! year over the adversaries.
//!
//! Year `y` of adversary `a` is year `y` of a run of `a` alone (its campaign count from the
//! year's slot of `a`'s seed, its campaigns the same trials, outcomes and impact draws), so the
//! landscape's loss in year `y` is the sum of those, and the years counted are those every
//! adversary's own run counts. Adversaries are independent, so these totals are draws of the
//! landscape's annual loss, whose percentiles and exceedance curve they give.
//!
//! Invariant: the years are cut into blocks of at most [`BLOCK_YEARS`], computed as they are
//! taken in rounds; every sum is an integer sum over complete years, so the result is the same
//! bits for any thread count, and memory does not grow with the years.

use rayon::prelude::*;

use crate::sim::engine::{self, Plan, Watch};
use crate::sim::years::{WorkUnit, YearLayout, YearStart};
use crate::stats::loss::LossTally;

/// Most years one block of work holds.
pub const BLOCK_YEARS: u64 = 1 << 14;

/// One adversary of a landscape as its years are played: its plan, its seed and its years.
#[derive(Debug, Clone, Copy)]
pub struct AdversaryYears<'a> {
    /// Its one-adversary scenario, compiled.
    pub plan: &'a Plan,
    /// Its seed (`rng::adversary_seed` of the run's).
    pub seed: u64,
    /// Its years: its rate and impact, on its seed.
    pub layout: &'a YearLayout,
}

/// The landscape's annual losses over years `0..years`, each the sum over `adversaries` of that
/// year's loss in the adversary's own run; `None` when `watch` asked to stop. Every adversary's
/// run must count those years (each must end within its trials), as the caller ensures by
/// taking the fewest years any adversary's run counts.
pub fn total_years(
    adversaries: &[AdversaryYears<'_>],
    years: u64,
    watch: Watch<'_>,
) -> Option<LossTally> {
    let block = (adversaries.iter())
        .map(|a| a.layout.years_per_unit())
        .min()
        .unwrap_or(1)
        .clamp(1, BLOCK_YEARS);
    let round = 16 * rayon::current_num_threads();
    let mut at: Vec<YearStart> = vec![YearStart::ZERO; adversaries.len()];
    let mut total = LossTally::default();
    let mut next_year = 0u64;
    while next_year < years {
        // The next round's blocks: per adversary, the trials of each block's years.
        let mut blocks: Vec<Vec<WorkUnit>> = Vec::with_capacity(round);
        while blocks.len() < round && next_year < years {
            if watch.stopped() {
                return None;
            }
            let end = next_year.saturating_add(block).min(years);
            let units = (adversaries.iter().zip(&mut at))
                .map(|(a, at)| {
                    let from = *at;
                    while at.year < end {
                        *at = a.layout.step(*at, u64::MAX).expect("a year always ends");
                    }
                    WorkUnit {
                        trials: from.trial..at.trial,
                        years: next_year..end,
                    }
                })
                .collect();
            blocks.push(units);
            next_year = end;
        }
        let sums: Vec<Option<Vec<u64>>> = blocks
            .par_iter()
            .map(|units| {
                if watch.stopped() {
                    return None;
                }
                let n = units.first().map_or(0, |u| u.years.end - u.years.start) as usize;
                let (mut sum, mut one) = (vec![0u64; n], vec![0u64; n]);
                for (a, unit) in adversaries.iter().zip(units) {
                    engine::year_losses(a.plan, a.seed, a.layout, unit, &mut one);
                    for (s, l) in sum.iter_mut().zip(&one) {
                        *s = s.saturating_add(*l);
                    }
                    watch.finished(unit.trials.end - unit.trials.start);
                }
                Some(sum)
            })
            .collect();
        for sum in sums {
            for loss in sum? {
                total.add_year(loss);
            }
        }
    }
    (!watch.stopped()).then_some(total)
}
