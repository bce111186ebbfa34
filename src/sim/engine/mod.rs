//! The Monte Carlo engine: trials as pure functions of (plan, trial stream), and the rayon driver.
//!
//! The trial range is cut into fixed chunks of [`CHUNK_TRIALS`]; each chunk seeks the trial-key
//! stream to its first trial and runs its trials in order into a per-worker [`Tally`]. Tallies
//! are sums of integers, so the result is the same bits for any thread count, any scheduling and
//! any split of the range (see `rng` for why each trial's numbers depend only on its index).
//! No allocation happens per trial; memory does not depend on the trial count. Units are taken
//! in rounds ([`ROUND_UNITS`]) and the stop flag is read before each unit and between rounds, so
//! a stopped run ends within one unit however many trials remain.

mod batch;
mod plan;
mod simd;
mod trial;

use std::ops::Range;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use rayon::prelude::*;

pub use plan::Plan;

use crate::sim::rng::{TrialKeys, TrialStream};
use crate::sim::years::{UnitWalk, WorkUnit, YearLayout, YearSpans};
use crate::stats::COMPLETED;
use crate::stats::loss::ArmLoss;
use crate::stats::{Joint, Tally};

/// Trials per chunk: the unit of parallel work.
pub const CHUNK_TRIALS: u64 = 1 << 16;

/// Runs trials `range` of a run with `seed`, sequentially, into a new tally.
pub fn run_range(plan: &Plan, seed: u64, range: Range<u64>) -> Tally {
    let mut tally = Tally::new(plan.n_controls, plan.techniques.len());
    let mut ws = batch::Workspace::new(plan.n_controls);
    run_range_into(plan, seed, range, &mut ws, &mut tally);
    tally
}

/// The per-trial reference engine: one trial at a time, branching as the semantics read.
/// Slower than [`run_range`] and equal to it to the last count; kept as the baseline that
/// tests and benchmarks compare the batched engine with.
pub fn run_range_per_trial(plan: &Plan, seed: u64, range: Range<u64>) -> Tally {
    let mut tally = Tally::new(plan.n_controls, plan.techniques.len());
    let mut keys = TrialKeys::starting_at(seed, range.start);
    for _ in range {
        trial::run_trial(plan, keys.next_stream(), &mut tally);
    }
    tally
}

fn run_range_into(
    plan: &Plan,
    seed: u64,
    range: Range<u64>,
    ws: &mut batch::Workspace,
    tally: &mut Tally,
) {
    if range.is_empty() {
        return;
    }
    let mut keys = TrialKeys::starting_at(seed, range.start);
    batch::run_trials(plan, &mut keys, range.end - range.start, ws, tally);
}

/// Fills `keys` with the trial keys of trials `first_trial, first_trial + 1, …` of a run with
/// `seed`: the keys every engine entry point uses, so a trial here is the same trial as in a
/// session's run.
pub fn trial_keys(seed: u64, first_trial: u64, keys: &mut [u64]) {
    let mut stream = TrialKeys::starting_at(seed, first_trial);
    for k in keys {
        *k = stream.next_stream().key();
    }
}

/// Plays phase `phase_idx` alone for each trial key in `keys` (from [`trial_keys`]) and sets
/// bit `t % 64` of `passed[t / 64]` when the adversary passes it, as if every trial had reached
/// the phase. Under the semantics a phase's outcome depends only on the trial's key, the phase
/// and the controls acting in it, so a trial completes under `plan` exactly when it passes every
/// phase here; a session's run counts the same trials as completed. Bits past `keys.len()` are cleared.
/// Uses the per-trial reference engine.
pub fn play_phase(plan: &Plan, phase_idx: usize, keys: &[u64], passed: &mut [u64]) {
    assert!(
        phase_idx < crate::phase::N_PHASES,
        "phase index {phase_idx}"
    );
    assert!(passed.len() * 64 >= keys.len(), "bitset too short");
    passed.fill(0);
    let mut scratch = Tally::new(plan.n_controls, plan.techniques.len());
    for (w, chunk) in passed.iter_mut().zip(keys.chunks(64)) {
        let mut word = 0u64;
        for (b, &key) in chunk.iter().enumerate() {
            let stream = crate::sim::rng::TrialStream::from_key(key);
            let pass = trial::passes_phase(plan, phase_idx, stream, &mut scratch);
            word |= u64::from(pass) << b;
        }
        *w = word;
    }
}

/// What a caller shares with a run in progress. The engine reads `stop` before each chunk and
/// adds each finished chunk's trials to `done`; it does no I/O, so the caller decides what sets
/// `stop` (a signal, a deadline) and what shows `done` (a progress bar).
#[derive(Debug, Clone, Copy)]
pub struct Watch<'a> {
    /// Nonzero asks the run to stop: the chunks not yet started are skipped and the run returns
    /// no tally. The value is the caller's own reason (such as a signal number).
    pub stop: &'a AtomicUsize,
    /// Trials finished so far.
    pub done: &'a AtomicU64,
}

impl Watch<'_> {
    /// Whether the caller asked the run to stop.
    pub fn stopped(&self) -> bool {
        self.stop.load(Ordering::Relaxed) != 0
    }

    /// Adds `trials` to the finished count.
    pub fn finished(&self, trials: u64) {
        self.done.fetch_add(trials, Ordering::Relaxed);
    }
}

/// Work units taken per round of parallel work: between rounds the driver looks at the stop
/// flag, so a stopped run visits no more units (at least 16 per worker, for balance).
const ROUND_UNITS: usize = 256;

/// Units per round on the current pool.
fn round_units() -> usize {
    ROUND_UNITS.max(16 * rayon::current_num_threads())
}

/// Runs trials `range` in parallel on the current rayon pool, in fixed chunks of
/// [`CHUNK_TRIALS`] taken in rounds of [`ROUND_UNITS`]; `None` when `watch` asked it to stop
/// (no chunk is started after that, and no further round). The single-plan kernel of
/// `sim::Session::play`.
pub(crate) fn play_chunks(
    plan: &Plan,
    seed: u64,
    range: Range<u64>,
    watch: Watch<'_>,
) -> Option<Tally> {
    let new_tally = || Tally::new(plan.n_controls, plan.techniques.len());
    let empty = || (new_tally(), batch::Workspace::new(plan.n_controls));
    let n_chunks = (range.end - range.start).div_ceil(CHUNK_TRIALS);
    let round = round_units() as u64;
    let mut total = new_tally();
    let mut first = 0u64;
    while first < n_chunks && !watch.stopped() {
        let last = first.saturating_add(round).min(n_chunks);
        let tally = (first..last)
            .into_par_iter()
            .fold(empty, |(mut tally, mut ws), c| {
                if watch.stopped() {
                    return (tally, ws);
                }
                let chunk = chunk_of(&range, c);
                let n = chunk.end - chunk.start;
                run_range_into(plan, seed, chunk, &mut ws, &mut tally);
                watch.finished(n);
                (tally, ws)
            })
            .map(|(tally, _)| tally)
            .reduce(new_tally, |mut a, b| {
                a += &b;
                a
            });
        total += &tally;
        first = last;
    }
    (!watch.stopped()).then_some(total)
}

/// Chunk `c` of `range`: trials `start + c·CHUNK_TRIALS` onwards, at most [`CHUNK_TRIALS`] of
/// them, never past `range.end` (the arithmetic saturates, so the last chunk of a range ending
/// at `u64::MAX` is whole).
fn chunk_of(range: &Range<u64>, c: u64) -> Range<u64> {
    let start = c
        .checked_mul(CHUNK_TRIALS)
        .and_then(|o| range.start.checked_add(o))
        .map_or(range.end, |s| s.min(range.end));
    start..start.saturating_add(CHUNK_TRIALS).min(range.end)
}

/// The work units of a paired run, computed as they are taken (memory does not grow with the
/// trial count): fixed chunks, or whole years.
#[derive(Debug, Clone)]
pub(crate) enum Units<'a> {
    /// Chunks of [`CHUNK_TRIALS`] over trials `next..end`, without years.
    Chunks {
        /// First trial of the next chunk.
        next: u64,
        /// One past the last trial.
        end: u64,
    },
    /// Year-aligned units (see `crate::sim::years::YearLayout::units_between`).
    Years(UnitWalk<'a>),
}

impl Units<'_> {
    /// Fixed chunks over `range`.
    pub fn chunks(range: Range<u64>) -> Units<'static> {
        Units::Chunks {
            next: range.start,
            end: range.end,
        }
    }
}

impl Iterator for Units<'_> {
    type Item = WorkUnit;

    fn next(&mut self) -> Option<WorkUnit> {
        match self {
            Units::Chunks { next, end } => {
                if *next >= *end {
                    return None;
                }
                let chunk = chunk_of(&(*next..*end), 0);
                *next = chunk.end;
                Some(WorkUnit {
                    trials: chunk,
                    years: 0..0,
                })
            }
            Units::Years(walk) => walk.next(),
        }
    }
}

/// Takes the next round of units (at most `n`), looking at `watch` before each: the walk over
/// years that computes a unit is bounded, so a stop is seen within one unit's walk.
fn take_round(units: &mut Units<'_>, n: usize, watch: Watch<'_>) -> Vec<WorkUnit> {
    let mut round = Vec::with_capacity(n);
    while round.len() < n && !watch.stopped() {
        match units.next() {
            Some(u) => round.push(u),
            None => break,
        }
    }
    round
}

/// The year a work unit is filling, and each arm's loss in it so far.
struct YearCursor<'a> {
    layout: &'a YearLayout,
    /// The unit's years after the current one.
    spans: YearSpans<'a>,
    /// One past the last trial of the current year; `None` once every year is closed.
    year_end: Option<u64>,
    /// Per arm: the loss of the current year so far.
    loss: Vec<u64>,
}

impl<'a> YearCursor<'a> {
    fn new(layout: &'a YearLayout, unit: &WorkUnit, arms: usize) -> YearCursor<'a> {
        let mut spans = layout.spans(unit);
        YearCursor {
            layout,
            year_end: spans.next().map(|r| r.end),
            spans,
            loss: vec![0; arms],
        }
    }

    /// Closes every year of the unit that ends at or before trial `t` into `out`.
    fn close_through(&mut self, t: u64, out: &mut [ArmLoss]) {
        while self.year_end.is_some_and(|end| end <= t) {
            let base = self.loss[0];
            for (arm, loss) in out.iter_mut().zip(&mut self.loss) {
                arm.tally.add_year(*loss);
                arm.paired.add_year(base, *loss);
                *loss = 0;
            }
            self.year_end = self.spans.next().map(|r| r.end);
        }
    }
}

/// Per-worker buffers of a paired run.
struct Scratch {
    batch_keys: Vec<u64>,
    base: Vec<u8>,
    /// With years: each batch trial's impact (`u64::MAX` until needed), and per arm and batch
    /// trial the loss it counts.
    impact: Vec<u64>,
    loss: Vec<u64>,
}

/// Plays `plans` (the baseline first) on the trials of `units` on the current rayon pool with the
/// same random slots: the trial keys are drawn once per batch and every plan plays them. With a
/// year layout, also counts each arm's annual losses over the units' years (see
/// `crate::sim::years`); the units must then be whole years, as [`YearLayout::units`] cuts them.
/// Returns each plan's tally and joint outcomes against the baseline (the baseline's own is
/// diagonal), and each arm's annual losses (empty without a layout); `None` when `watch` asked
/// it to stop. The paired kernel of `sim::Session::play`.
pub(crate) fn play_units(
    plans: &[Plan],
    seed: u64,
    units: Units<'_>,
    years: Option<&YearLayout>,
    watch: Watch<'_>,
) -> Option<PairedRun> {
    let n_arms = plans.len();
    let tallies = || -> Vec<Tally> {
        plans
            .iter()
            .map(|p| Tally::new(p.n_controls, p.techniques.len()))
            .collect()
    };
    let joints = || vec![Joint::default(); n_arms];
    let losses = || vec![ArmLoss::default(); if years.is_some() { n_arms } else { 0 }];
    let n_controls = plans.iter().map(|p| p.n_controls).max().unwrap_or(0);
    let play_round = |round: &[WorkUnit]| {
        round
            .par_iter()
            .fold(
                || {
                    let with_years = if years.is_some() { batch::BATCH } else { 0 };
                    let scratch = Scratch {
                        batch_keys: vec![0u64; batch::BATCH],
                        base: vec![0u8; batch::BATCH],
                        impact: vec![0u64; with_years],
                        loss: vec![0u64; with_years * n_arms],
                    };
                    (
                        tallies(),
                        joints(),
                        losses(),
                        batch::Workspace::new(n_controls),
                        scratch,
                    )
                },
                |(mut tallies, mut joints, mut losses, mut ws, mut scratch), unit| {
                    if watch.stopped() {
                        return (tallies, joints, losses, ws, scratch);
                    }
                    let n = unit.trials.end - unit.trials.start;
                    let mut keys = TrialKeys::starting_at(seed, unit.trials.start);
                    let mut cursor = years
                        .filter(|_| !unit.years.is_empty())
                        .map(|layout| YearCursor::new(layout, unit, n_arms));
                    let Scratch {
                        batch_keys,
                        base,
                        impact,
                        loss,
                    } = &mut scratch;
                    let mut pos = unit.trials.start;
                    let mut record = |v: usize, bkeys: &[u64], outcomes: &[u8]| {
                        if v == 0 {
                            base[..outcomes.len()].copy_from_slice(outcomes);
                        }
                        for (&b, &o) in base.iter().zip(outcomes) {
                            joints[v][b as usize][o as usize] += 1;
                        }
                        let Some(cursor) = cursor.as_mut() else {
                            return;
                        };
                        let b = outcomes.len();
                        if v == 0 {
                            impact[..b].fill(u64::MAX);
                        }
                        let row = &mut loss[v * batch::BATCH..v * batch::BATCH + b];
                        for (j, (l, &o)) in row.iter_mut().zip(outcomes).enumerate() {
                            *l = if usize::from(o) == COMPLETED {
                                if impact[j] == u64::MAX {
                                    impact[j] = cursor
                                        .layout
                                        .model
                                        .impact_of(TrialStream::from_key(bkeys[j]));
                                }
                                impact[j]
                            } else {
                                0
                            };
                        }
                        if v + 1 == n_arms {
                            for j in 0..b {
                                cursor.close_through(pos + j as u64, &mut losses);
                                for (a, year) in cursor.loss.iter_mut().enumerate() {
                                    *year += loss[a * batch::BATCH + j];
                                }
                            }
                            pos += b as u64;
                        }
                    };
                    batch::run_paired(
                        plans,
                        &mut keys,
                        n,
                        &mut ws,
                        batch_keys,
                        &mut tallies,
                        &mut record,
                    );
                    if let Some(mut cursor) = cursor {
                        cursor.close_through(u64::MAX, &mut losses);
                    }
                    watch.finished(n);
                    (tallies, joints, losses, ws, scratch)
                },
            )
            .map(|(t, j, l, ..)| (t, j, l))
            .reduce(
                || (tallies(), joints(), losses()),
                |mut a, b| {
                    add_paired(&mut a, &b);
                    a
                },
            )
    };
    // Rounds of units: the next round's years are walked while this one plays, and no round
    // starts once the run is asked to stop.
    let (mut units, n) = (units, round_units());
    let mut total = (tallies(), joints(), losses());
    let mut round = take_round(&mut units, n, watch);
    while !round.is_empty() && !watch.stopped() {
        let (played, next) =
            rayon::join(|| play_round(&round), || take_round(&mut units, n, watch));
        add_paired(&mut total, &played);
        round = next;
    }
    let (tallies, joints, losses) = total;
    (!watch.stopped()).then(|| (tallies.into_iter().zip(joints).collect(), losses))
}

/// Adds one part of a paired run's counts to another.
fn add_paired(
    (ta, ja, la): &mut (Vec<Tally>, Vec<Joint>, Vec<ArmLoss>),
    (tb, jb, lb): &(Vec<Tally>, Vec<Joint>, Vec<ArmLoss>),
) {
    for (a, b) in ta.iter_mut().zip(tb) {
        *a += b;
    }
    for (a, b) in ja.iter_mut().zip(jb) {
        for (ra, rb) in a.iter_mut().zip(b) {
            for (x, y) in ra.iter_mut().zip(rb) {
                *x += y;
            }
        }
    }
    for (a, b) in la.iter_mut().zip(lb) {
        *a += b;
    }
}

/// The loss of each of the years `unit.years` of a run of `plan` with `seed` (`unit` whole
/// years, as [`YearLayout::units_between`] cuts them): per year the sum of the impacts of its
/// completed campaigns, the same keys, outcomes and impact draws as [`play_units`] counts, so
/// year `y` here is year `y` of a run of `plan` alone. Written to `out[..years]`, sequentially.
/// A threat landscape's years are summed over its adversaries from these, year by year.
pub(crate) fn year_losses(
    plan: &Plan,
    seed: u64,
    layout: &YearLayout,
    unit: &WorkUnit,
    out: &mut [u64],
) {
    let years = (unit.years.end - unit.years.start) as usize;
    out[..years].fill(0);
    let n = unit.trials.end - unit.trials.start;
    if n == 0 {
        return;
    }
    let mut keys = TrialKeys::starting_at(seed, unit.trials.start);
    let mut ws = batch::Workspace::new(plan.n_controls);
    let mut batch_keys = vec![0u64; batch::BATCH];
    let mut tally = [Tally::new(plan.n_controls, plan.techniques.len())];
    let mut spans = layout.spans(unit);
    let mut year = 0usize;
    let mut year_end = spans.next().map_or(u64::MAX, |r| r.end);
    let mut pos = unit.trials.start;
    let mut record = |_: usize, bkeys: &[u64], outcomes: &[u8]| {
        for (key, &o) in bkeys.iter().zip(outcomes) {
            while pos >= year_end {
                year += 1;
                year_end = spans.next().map_or(u64::MAX, |r| r.end);
            }
            if usize::from(o) == COMPLETED {
                out[year] += layout.model.impact_of(TrialStream::from_key(*key));
            }
            pos += 1;
        }
    };
    batch::run_paired(
        std::slice::from_ref(plan),
        &mut keys,
        n,
        &mut ws,
        &mut batch_keys,
        &mut tally,
        &mut record,
    );
}

/// What [`run_units_watched`] returns: per plan its tally and joint outcomes against the
/// baseline, and per plan its annual losses (empty without a year layout).
pub(crate) type PairedRun = (Vec<(Tally, Joint)>, Vec<ArmLoss>);

#[cfg(test)]
mod tests;
