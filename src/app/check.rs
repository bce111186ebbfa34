//! `killchain check`: Monte Carlo against exact, as z-scores.

use crate::cli::CheckArgs;
use crate::report::Figures;
use crate::sim::Schedule;
use crate::sim::engine::Plan;

use super::settings::{self, Settings};
use super::{Failure, io};
use crate::scenario::Scenario;
use crate::sim::exact;
use crate::sim::rng::adversary_seed;

/// `killchain check`: Monte Carlo against exact, as z-scores.
pub(super) fn check(args: &CheckArgs) -> Result<(), Failure> {
    let loaded = io::load_all(&args.scenarios)?;
    let mut failed = Vec::new();
    for l in &loaded {
        let settings = Settings::resolve(&args.trials, &l.scenario);
        // A landscape is checked adversary by adversary, each on its own seed.
        let units: Vec<(Option<String>, Scenario, u64)> = match l.scenario.is_landscape() {
            false => vec![(None, l.scenario.clone(), settings.seed)],
            true => (l.scenario.parts().into_iter())
                .map(|p| {
                    let seed = adversary_seed(settings.seed, &p.id);
                    (Some(p.id), p.scenario, seed)
                })
                .collect(),
        };
        for (adversary, s, seed) in units {
            let exact = exact::evaluate(&s).map_err(|e| {
                let whose = adversary
                    .as_ref()
                    .map(|a| format!(" adversary \"{a}\":"))
                    .unwrap_or_default();
                Failure::Input(vec![format!("{}:{whose} {e}", l.path)])
            })?;
            let trials = settings.trials;
            let session = settings.session(settings.work_units())?;
            // Counts only: the exact evaluator has no year to compare with.
            let schedule = Schedule::new(None, seed, trials, None);
            let played = settings::play(&session, &[Plan::new(&s)], &schedule, true, None)?;
            let sampled = Figures::sampled(&played[0].tally);
            let rows = crate::analysis::check::compare(&s, &exact, &sampled);
            if let Some(a) = &adversary {
                io::say(&format!("adversary {a}:\n"))?;
            }
            io::say(&crate::analysis::check::table(
                &s,
                &rows,
                seed,
                sampled.trials,
                args.z_max,
            ))?;
            let worst = rows.iter().map(|r| r.z.abs()).fold(0.0, f64::max);
            if worst > args.z_max {
                let whose = adversary
                    .map(|a| format!(" (adversary \"{a}\")"))
                    .unwrap_or_default();
                failed.push(format!(
                    "{}{whose}: the Monte Carlo estimate is {worst:.2} standard errors from the exact value (bound {})",
                    l.path, args.z_max
                ));
            }
        }
    }
    if failed.is_empty() {
        Ok(())
    } else {
        Err(Failure::Run(failed.join("\nerror: ")))
    }
}
