//! Settings resolved once from the arguments and the scenario (the command line's where given,
//! else the file's), the session they start, and playing arms through it with a progress bar.

use std::path::Path;

use crate::cli::TrialOptions;
use crate::scenario::Scenario;
use crate::sim::engine::Plan;
use crate::sim::{ArmResult, Schedule, Session};

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

    /// A session of the asked-for workers, stopped by SIGINT or SIGTERM.
    pub fn session(&self) -> Result<Session<'static>, Failure> {
        Session::new(self.threads, interrupt::flag()).map_err(|e| Failure::Run(e.to_string()))
    }
}

/// Plays `plans` over `schedule` in `session`, with a progress bar when `progress` holds; an
/// interruption leaves `dir` as it was.
pub(super) fn play(
    session: &Session<'_>,
    plans: &[Plan],
    schedule: &Schedule,
    progress: bool,
    dir: Option<&Path>,
) -> Result<Vec<ArmResult>, Failure> {
    let played = progress::with_progress(schedule.played(), progress, session.done(), || {
        session.play(plans, schedule)
    });
    played.map_err(|stopped| interrupt::stopped(stopped.0, dir))
}
