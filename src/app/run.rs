//! `killchain run`: simulate each scenario (or a shard of its trials) and write its results.

use std::time::Instant;

use crate::cli::RunArgs;
use crate::persist::tally::{self as tally_file, TallyFile};
use crate::report::RunResult;
use crate::sim::engine::Plan;
use crate::sim::{ArmResult, Schedule};

use super::destination::{self, Destination, Replaces};
use super::settings::{self, Settings};
use super::{Failure, io, landscape, publish};

/// `killchain run`.
pub(super) fn run(args: &RunArgs) -> Result<(), Failure> {
    let loaded = io::load_all(&args.scenarios)?;
    let dirs = destination::output_dirs(&args.output.out, &loaded)?;
    landscape::refusals(&loaded, args.shard.is_some(), args.export)?;
    // Every scenario's trial count is checked before the first is played (in a landscape, for
    // each adversary's rate).
    let refused: Vec<String> = (loaded.iter())
        .flat_map(|l| {
            let settings = Settings::resolve(&args.trials, &l.scenario);
            let models = match l.scenario.is_landscape() {
                false => vec![l.scenario.loss.clone()],
                true => (l.scenario.parts().into_iter())
                    .map(|p| p.scenario.loss)
                    .collect(),
            };
            (models.iter()).find_map(|m| settings.check_years(m.as_ref(), &l.path).err())
        })
        .flat_map(|f| match f {
            Failure::Input(m) => m,
            other => vec![other.to_string()],
        })
        .collect();
    if !refused.is_empty() {
        return Err(Failure::Input(refused));
    }
    // Every destination is checked (created, locked, staged) before the first trial.
    let destinations = dirs
        .iter()
        .map(|d| Destination::prepare(d, Replaces::Run))
        .collect::<Result<Vec<_>, _>>()?;
    for (l, destination) in loaded.iter().zip(destinations) {
        let dir = destination.dir();
        let s = &l.scenario;
        let settings = Settings::resolve(&args.trials, s);
        if s.is_landscape() {
            let quiet = args.output.quiet;
            landscape::run(l, &settings, destination, quiet, args.export)?;
            continue;
        }
        let session = settings.session(settings.work_units())?;
        let (seed, trials, threads) = (settings.seed, settings.trials, session.threads());
        let schedule = Schedule::new(s.loss.as_ref(), seed, trials, args.shard);
        let started = Instant::now();
        let plans = [Plan::new(s)];
        let played = settings::play(&session, &plans, &schedule, !args.output.quiet, Some(dir))?;
        let wall_seconds = started.elapsed().as_secs_f64();
        // Found while playing (a shard with [loss] ends on the year boundary nearest its share).
        let range = schedule.range();
        let ArmResult { tally, loss, .. } = played.into_iter().next().expect("one arm");
        let (figures, loss_figures) = publish::sampled(s, &tally, loss.as_ref());
        let sha256 = io::sha256_hex(&l.source);
        let extra = match args.shard {
            None => publish::loss_files(loss_figures.as_ref()),
            Some(k) => {
                let file = TallyFile {
                    format_version: tally_file::FORMAT_VERSION,
                    killchain_version: env!("CARGO_PKG_VERSION").to_owned(),
                    scenario: s.name.clone(),
                    scenario_file: l.path.clone(),
                    scenario_sha256: sha256.clone(),
                    scenario_source: l.source.clone(),
                    seed,
                    trials,
                    shard: k.k(),
                    shards: k.n(),
                    trial_start: range.start,
                    trial_end: range.end,
                    threads,
                    wall_time_seconds: wall_seconds,
                    tally,
                    loss,
                };
                let mut files = publish::loss_files(loss_figures.as_ref());
                files.push((tally_file::FILE_NAME, file.to_json()));
                files
            }
        };
        let result = RunResult {
            scenario: s,
            path: &l.path,
            sha256: &sha256,
            seed: Some(seed),
            threads,
            wall_seconds,
            figures: &figures,
            loss: loss_figures.as_ref(),
        };
        if let (Some(k), false) = (args.shard, args.output.quiet) {
            let which = if range.is_empty() && trials < k.n() {
                "no trials (fewer trials than shards)".to_owned()
            } else if range.is_empty() {
                "no trials (its share lies within one simulated year, played by a neighbouring shard)".to_owned()
            } else if range.end - range.start == 1 {
                format!("trial {}", range.start)
            } else {
                format!("trials {} to {}", range.start, range.end - 1)
            };
            let merge = match k.n() {
                1 => "`killchain merge` of this one folder gives the run's files".to_owned(),
                n => format!("`killchain merge` sums all {n} shards' folders"),
            };
            io::say(&format!(
                "shard {k} of a {trials}-trial run: {which}; {merge}\n"
            ))?;
        }
        publish::publish(&result, destination, args.output.quiet, extra, args.export)?;
    }
    Ok(())
}
