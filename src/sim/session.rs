//! The one driver of the engine: a [`Session`] owns the worker pool, the stop flag and the
//! progress counter, and plays arms (plans on the same trials) over a [`Schedule`]. Every command
//! plays its trials through it; optimisation searches run on its pool under its watch.
//!
//! Invariant: no I/O here; the caller decides what sets the stop flag (a signal) and what shows
//! the progress counter (a bar).

use std::fmt;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use crate::stats::loss::ArmLoss;
use crate::stats::{Joint, Tally};

use super::engine::{self, Plan, Watch};
use super::schedule::Schedule;

/// The worker pool could not be started.
#[derive(Debug)]
pub struct PoolError {
    threads: usize,
    cause: rayon::ThreadPoolBuildError,
}

impl fmt::Display for PoolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "cannot start {} worker threads: {}",
            self.threads, self.cause
        )
    }
}

impl std::error::Error for PoolError {}

/// The session was asked to stop; the value is the caller's reason (such as a signal number).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stopped(pub usize);

/// One arm's results: its counts, its joint outcomes against the first arm (the first arm's own
/// is diagonal) and, when the schedule counts years, its annual losses.
#[derive(Debug, Clone)]
pub struct ArmResult {
    /// Its counts.
    pub tally: Tally,
    /// Joint outcomes (phase broken or completed) against the first arm.
    pub joint: Joint,
    /// Annual losses, with years.
    pub loss: Option<ArmLoss>,
}

/// A worker pool, a stop flag and a count of finished trials.
pub struct Session<'a> {
    pool: rayon::ThreadPool,
    threads: usize,
    stop: &'a AtomicUsize,
    done: AtomicU64,
}

impl<'a> Session<'a> {
    /// A session of `threads` workers (all cores when `None`) that stops once `stop` is nonzero.
    pub fn new(threads: Option<usize>, stop: &'a AtomicUsize) -> Result<Session<'a>, PoolError> {
        let threads = threads.unwrap_or_else(rayon::current_num_threads);
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .map_err(|cause| PoolError { threads, cause })?;
        Ok(Session {
            pool,
            threads,
            stop,
            done: AtomicU64::new(0),
        })
    }

    /// Its worker count.
    pub fn threads(&self) -> usize {
        self.threads
    }

    /// Trials finished so far, across every call.
    pub fn done(&self) -> &AtomicU64 {
        &self.done
    }

    fn watch(&self) -> Watch<'_> {
        Watch {
            stop: self.stop,
            done: &self.done,
        }
    }

    fn stopped(&self) -> Stopped {
        Stopped(self.stop.load(Ordering::Relaxed))
    }

    /// Plays `plans` (the first is the reference of the joint outcomes) on the schedule's
    /// trials with the same random slots; one result per plan.
    pub fn play(&self, plans: &[Plan], schedule: &Schedule) -> Result<Vec<ArmResult>, Stopped> {
        let seed = schedule.seed();
        let watch = self.watch();
        let played = self.pool.install(|| match (plans, schedule.years()) {
            // One arm without years: the single-plan kernel, which keeps no joint outcomes.
            ([plan], None) => engine::play_chunks(plan, seed, schedule.range(), watch).map(|t| {
                vec![ArmResult {
                    joint: diagonal(&t),
                    tally: t,
                    loss: None,
                }]
            }),
            (_, years) => schedule
                .units(watch)
                .and_then(|units| engine::play_units(plans, seed, units, years, watch))
                .map(|(arms, losses)| {
                    let mut losses = losses.into_iter();
                    arms.into_iter()
                        .map(|(tally, joint)| ArmResult {
                            tally,
                            joint,
                            loss: losses.next(),
                        })
                        .collect()
                }),
        });
        played.ok_or_else(|| self.stopped())
    }

    /// Runs `work` on the session's pool under its watch: `Err` when it was asked to stop
    /// (`work` returns `None` then).
    pub fn run<T>(&self, work: impl FnOnce(Watch<'_>) -> Option<T> + Send) -> Result<T, Stopped>
    where
        T: Send,
    {
        let watch = self.watch();
        self.pool
            .install(|| work(watch))
            .ok_or_else(|| self.stopped())
    }
}

/// The joint outcomes of an arm against itself.
fn diagonal(t: &Tally) -> Joint {
    let mut joint = Joint::default();
    for (i, row) in joint.iter_mut().enumerate() {
        row[i] = outcome_count(t, i);
    }
    joint
}

/// Trials of `t` that ended with outcome `i` (broken at phase `i`, or completed).
fn outcome_count(t: &Tally, i: usize) -> u64 {
    if i < crate::phase::N_PHASES {
        t.broken[i]
    } else {
        t.completed
    }
}
