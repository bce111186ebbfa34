//! `killchain exact`: evaluate each scenario exactly and write the same files a run writes.

use std::time::Instant;

use crate::cli::ExactArgs;
use crate::report::{Figures, LossFigures, RunResult};
use crate::scenario::LoadedScenario;
use crate::sim::exact;
use crate::stats::Counts;

use super::destination::{self, Destination, Replaces};
use super::{Failure, io, publish};

/// `killchain exact`.
pub(super) fn exact(args: &ExactArgs) -> Result<(), Failure> {
    let loaded = io::load_all(&args.scenarios)?;
    let dirs = destination::output_dirs(&args.output.out, &loaded)?;
    // Every destination is checked (created, locked, staged) before the first evaluation.
    let destinations = dirs
        .iter()
        .map(|d| Destination::prepare(d, Replaces::Run))
        .collect::<Result<Vec<_>, _>>()?;
    // Refuse before writing anything if any scenario is too large.
    let mut results = Vec::with_capacity(loaded.len());
    for l in &loaded {
        let started = Instant::now();
        let r = evaluate(l)?;
        results.push((r, started.elapsed().as_secs_f64()));
    }
    for ((l, destination), (r, wall_seconds)) in loaded.iter().zip(destinations).zip(&results) {
        let figures = Figures::exact(r, args.trials.unwrap_or(l.scenario.trials));
        let loss = l
            .scenario
            .loss
            .as_ref()
            .map(|m| LossFigures::exact(m, r.completed, r.completed));
        let sha256 = io::sha256_hex(&l.source);
        let result = RunResult {
            scenario: &l.scenario,
            path: &l.path,
            sha256: &sha256,
            seed: None,
            threads: 1,
            wall_seconds: *wall_seconds,
            figures: &figures,
            loss: loss.as_ref(),
        };
        publish::publish(
            &result,
            destination,
            args.output.quiet,
            publish::loss_files(loss.as_ref()),
            args.export,
        )?;
    }
    Ok(())
}

/// Evaluates one scenario exactly, or explains why it cannot be.
pub(super) fn evaluate(l: &LoadedScenario) -> Result<Counts<f64>, Failure> {
    exact::evaluate(&l.scenario).map_err(|e| Failure::Input(vec![format!("{}: {e}", l.path)]))
}
