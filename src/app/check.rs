//! `killchain check`: Monte Carlo against exact, as z-scores.

use crate::cli::CheckArgs;
use crate::report::Figures;
use crate::sim::Schedule;
use crate::sim::engine::Plan;

use super::exact::evaluate;
use super::settings::{self, Settings};
use super::{Failure, io};

/// `killchain check`: Monte Carlo against exact, as z-scores.
pub(super) fn check(args: &CheckArgs) -> Result<(), Failure> {
    let loaded = io::load_all(&args.scenarios)?;
    let mut failed = Vec::new();
    for l in &loaded {
        let s = &l.scenario;
        let exact = evaluate(l)?;
        let settings = Settings::resolve(&args.trials, s);
        let (seed, trials) = (settings.seed, settings.trials);
        let session = settings.session(settings.work_units())?;
        // Counts only: the exact evaluator has no year to compare with.
        let schedule = Schedule::new(None, seed, trials, None);
        let played = settings::play(&session, &[Plan::new(s)], &schedule, true, None)?;
        let sampled = Figures::sampled(&played[0].tally);
        let rows = crate::analysis::check::compare(s, &exact, &sampled);
        io::say(&crate::analysis::check::table(
            s,
            &rows,
            seed,
            sampled.trials,
            args.z_max,
        ))?;
        let worst = rows.iter().map(|r| r.z.abs()).fold(0.0, f64::max);
        if worst > args.z_max {
            failed.push(format!(
                "{}: the Monte Carlo estimate is {worst:.2} standard errors from the exact value (bound {})",
                l.path, args.z_max
            ));
        }
    }
    if failed.is_empty() {
        Ok(())
    } else {
        Err(Failure::Run(failed.join("\nerror: ")))
    }
}
