//! `killchain exact`: evaluate each scenario exactly and write the same files a run writes.

use std::time::Instant;

use crate::cli::ExactArgs;
use crate::report::{Figures, LossFigures, RunResult};
use crate::scenario::LoadedScenario;
use crate::sim::exact;
use crate::stats::Counts;

use super::destination::{self, Destination, Replaces};
use super::{Failure, io, landscape, publish};

/// `killchain exact`.
pub(super) fn exact(args: &ExactArgs) -> Result<(), Failure> {
    let loaded = io::load_all(&args.scenarios)?;
    let dirs = destination::output_dirs(&args.output.out, &loaded)?;
    landscape::refusals(&loaded, false, args.export)?;
    // Every destination is checked (created, locked, staged) before the first evaluation.
    let destinations = dirs
        .iter()
        .map(|d| Destination::prepare(d, Replaces::Run))
        .collect::<Result<Vec<_>, _>>()?;
    // Refuse before writing anything if any scenario is too large.
    let mut results = Vec::with_capacity(loaded.len());
    let mut landscapes = Vec::new();
    for l in &loaded {
        let trials = args.trials.unwrap_or(l.scenario.trials);
        if l.scenario.is_landscape() {
            landscapes.push(landscape::evaluate(l, trials)?);
            continue;
        }
        let started = Instant::now();
        let r = evaluate(l)?;
        results.push((r, started.elapsed().as_secs_f64()));
    }
    let (mut results, mut landscapes) = (results.iter(), landscapes.iter());
    for (l, destination) in loaded.iter().zip(destinations) {
        if l.scenario.is_landscape() {
            let evaluated = landscapes.next().expect("one evaluation per landscape");
            landscape::publish_exact(l, evaluated, destination, args.output.quiet, args.export)?;
            continue;
        }
        let (r, wall_seconds) = results.next().expect("one result per scenario");
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
