//! Settings resolved once from the arguments and the scenario (the command line's where given,
//! else the file's), the session they start, and playing arms through it with a progress bar.

use std::path::Path;

use crate::cli::TrialOptions;
use crate::money::LossModel;
use crate::scenario::Scenario;
use crate::sim::engine::{CHUNK_TRIALS, Plan};
use crate::sim::{ArmResult, Schedule, Session, schedule};

use super::{Failure, interrupt, progress};

/// Seed, trials and worker threads of one simulation.
#[derive(Debug, Clone, Copy)]
pub(super) struct Settings {
    /// The seed.
    pub seed: u64,
    /// The trials of the whole run.
    pub trials: u64,
    /// Worker threads; all cores when `None`.
    pub threads: Option<usize>,
}

impl Settings {
    /// `options` where given, else `s`'s own `seed` and `trials`.
    pub fn resolve(options: &TrialOptions, s: &Scenario) -> Settings {
        Settings {
            seed: options.seed.unwrap_or(s.seed),
            trials: options.trials.unwrap_or(s.trials),
            threads: options.threads.map(usize::from),
        }
    }

    /// Refuses (exit status 2) a trial count too large for the loss model `loss` of the
    /// scenario at `path`: walking that many simulated years would not end in bounded time
    /// (see `sim::schedule::check_trials`).
    pub fn check_years(&self, loss: Option<&LossModel>, path: &str) -> Result<(), Failure> {
        schedule::check_trials(loss, self.trials)
            .map_err(|e| Failure::Input(vec![format!("{path}: {e}")]))
    }

    /// The work units of the whole run's trials: fixed chunks of [`CHUNK_TRIALS`] (with
    /// `[loss]`, whole years of about as many). More workers than units would have nothing to do.
    pub fn work_units(&self) -> u64 {
        self.trials.div_ceil(CHUNK_TRIALS)
    }

    /// A session stopped by SIGINT or SIGTERM, of the asked-for workers (all cores when none
    /// were asked for), but at most one per unit of parallel work (`work_units`) and at most
    /// [`MAX_THREADS`]; its `threads` are those it started.
    pub fn session(&self, work_units: u64) -> Result<Session<'static>, Failure> {
        let wanted = self.threads.unwrap_or_else(|| {
            std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
        });
        let useful = usize::try_from(work_units.max(1)).unwrap_or(usize::MAX);
        let threads = wanted.min(MAX_THREADS).min(useful);
        Session::new(Some(threads), interrupt::flag()).map_err(|e| Failure::Run(e.to_string()))
    }
}

/// The most worker threads a session starts, whatever `--threads` asks for: more only cost
/// memory and process ids (results never depend on the thread count).
pub(super) const MAX_THREADS: usize = 256;

/// Plays `plans` over `schedule` in `session`, with a progress bar when `progress` holds; an
/// interruption leaves `dir` as it was.
pub(super) fn play(
    session: &Session<'_>,
    plans: &[Plan],
    schedule: &Schedule,
    progress: bool,
    dir: Option<&Path>,
) -> Result<Vec<ArmResult>, Failure> {
    let played = progress::with_progress(schedule.estimate(), progress, session.done(), || {
        session.play(plans, schedule)
    });
    played.map_err(|stopped| interrupt::stopped(stopped.0, dir))
}
