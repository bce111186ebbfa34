//! `killchain compare` and `killchain rank`: arms played on the same trials (or evaluated
//! exactly), the paired differences between them, and the ranking of one-control switches.

use std::path::{Path, PathBuf};

use crate::analysis::arms::{Arm, ArmSummary};
use crate::analysis::rank;
use crate::cli::{CompareArgs, MethodArg, RankArgs, SimOptions};
use crate::report::{self, Arms, Figures, LossFigures};
use crate::scenario::{self, BASELINE, LoadedScenario, Scenario};
use crate::sim::engine::Plan;
use crate::sim::{Schedule, exact};

use super::destination::{self, Destination, Replaces};
use super::settings::{self, Settings};
use super::{Failure, io, publish};

/// `killchain compare`.
pub(super) fn compare(args: &CompareArgs) -> Result<(), Failure> {
    let loaded = io::load_all(&args.scenarios)?;
    let base = &loaded[0];
    let (named, dir): (Vec<(String, &Scenario)>, PathBuf) = match &loaded[..] {
        [one] => {
            if one.scenario.variants.is_empty() {
                return Err(Failure::Input(vec![format!(
                    "{}: no [[variants]] to compare; add some, or give a second scenario file to compare with",
                    one.path
                )]));
            }
            let mut named = vec![(BASELINE.to_owned(), &one.scenario)];
            named.extend(
                one.scenario
                    .variants
                    .iter()
                    .map(|v| (v.name.clone(), &v.scenario)),
            );
            (
                named,
                destination::output_dir(&args.sim.output.out, &one.path)?,
            )
        }
        [a, b] => {
            if a.scenario.loss != b.scenario.loss {
                return Err(Failure::Input(vec![format!(
                    "{} and {}: the two scenarios must have the same [loss] table (or none) to be compared year by year",
                    a.path, b.path
                )]));
            }
            if let Some(diff) = scenario::id_difference(&a.scenario, &b.scenario) {
                return Err(Failure::Input(vec![format!(
                    "{} and {}: the two scenarios must have the same technique and control ids to be compared trial by trial; {diff}",
                    a.path, b.path
                )]));
            }
            let (sa, sb) = (destination::stem(&a.path)?, destination::stem(&b.path)?);
            let dir = args.sim.output.out.join(format!("{sa}-vs-{sb}"));
            (
                vec![(BASELINE.to_owned(), &a.scenario), (sb, &b.scenario)],
                dir,
            )
        }
        _ => unreachable!("clap takes one or two scenario files"),
    };
    let scenarios: Vec<&Scenario> = named.iter().map(|(_, s)| *s).collect();
    let destination = Destination::prepare(&dir, Replaces::Run)?;
    let (arms, seed) = summarize_arms(named, &args.sim, base, &dir)?;
    let name = &base.scenario.name;
    let with_scenario: Vec<(&str, &Scenario, &Figures)> = arms
        .iter()
        .zip(&scenarios)
        .map(|(a, s)| (a.name.as_str(), *s, &a.figures))
        .collect();
    let by_variant = Arms::Comparison(&with_scenario);
    let mut files = vec![
        ("phases.csv", report::phases_csv(name, seed, &by_variant)),
        ("comparison.csv", report::comparison_csv(name, seed, &arms)),
        (
            "phase_deltas.csv",
            report::phase_deltas_csv(name, seed, &arms),
        ),
        ("controls.csv", report::controls_csv(name, &by_variant)),
        ("techniques.csv", report::techniques_csv(name, &by_variant)),
    ];
    let curves: Vec<(&str, &LossFigures)> = arms
        .iter()
        .filter_map(|a| a.loss.as_ref().map(|l| (a.name.as_str(), l)))
        .collect();
    if !curves.is_empty() {
        files.push(("loss_exceedance.csv", report::loss_exceedance_csv(&curves)));
    }
    let facts = loaded
        .iter()
        .flat_map(|l| {
            [
                ("scenario file", l.path.clone()),
                ("scenario SHA-256", io::sha256_hex(&l.source)),
            ]
        })
        .collect();
    let rendered = publish::render(&files, args.export, &dir, facts)?;
    files.extend(rendered);
    destination.publish(&files)?;
    if !args.sim.output.quiet {
        io::say(&format!(
            "{}wrote {}\n",
            report::comparison_table(name, seed, &arms),
            dir.display()
        ))?;
    }
    Ok(())
}

/// Every arm's summary by the method asked for: paired Monte Carlo trials (with the seed used)
/// or exact evaluation (no seed).
fn summarize_arms(
    named: Vec<(String, &Scenario)>,
    sim: &SimOptions,
    base: &LoadedScenario,
    dir: &Path,
) -> Result<(Vec<ArmSummary>, Option<u64>), Failure> {
    match sim.method {
        MethodArg::MonteCarlo => {
            let settings = Settings::resolve(&sim.trials, &base.scenario);
            settings.check_years(base.scenario.loss.as_ref(), &base.path)?;
            let session = settings.session(settings.work_units())?;
            // Every arm plays the same trials; with the baseline's [loss], the same years too.
            let schedule = Schedule::new(
                base.scenario.loss.as_ref(),
                settings.seed,
                settings.trials,
                None,
            );
            let plans: Vec<Plan> = named.iter().map(|(_, s)| Plan::new(s)).collect();
            let played = settings::play(&session, &plans, &schedule, !sim.output.quiet, Some(dir))?;
            let summaries = named
                .into_iter()
                .zip(played)
                .map(|((name, scenario), r)| {
                    let loss = base.scenario.loss.as_ref().zip(r.loss.as_ref());
                    let mut summary = ArmSummary::sampled(&Arm {
                        name,
                        scenario,
                        tally: r.tally,
                        joint: r.joint,
                    });
                    summary.loss = loss.map(|(model, l)| LossFigures::sampled(model, l));
                    summary
                })
                .collect();
            Ok((summaries, Some(settings.seed)))
        }
        MethodArg::Exact => {
            let trials = sim.trials.trials.unwrap_or(base.scenario.trials);
            let mut results = Vec::with_capacity(named.len());
            for (name, s) in &named {
                let r = exact::evaluate(s)
                    .map_err(|e| Failure::Input(vec![format!("{} ({name}): {e}", base.path)]))?;
                results.push(r);
            }
            let arms = named
                .iter()
                .zip(&results)
                .map(|((name, s), r)| ArmSummary::exact(name, s, r, &results[0], trials))
                .collect();
            Ok((arms, None))
        }
    }
}

/// `killchain rank`.
pub(super) fn rank(args: &RankArgs) -> Result<(), Failure> {
    let loaded = io::load_all(std::slice::from_ref(&args.scenario))?;
    let l = &loaded[0];
    let s = &l.scenario;
    let switched = scenario::one_control_switches(s);
    let mut named = vec![(BASELINE.to_owned(), s)];
    named.extend(switched.iter().map(|(id, v)| (id.clone(), v)));
    let dir = destination::output_dir(&args.sim.output.out, &l.path)?;
    let destination = Destination::prepare(&dir, Replaces::Ranking)?;
    let (arms, seed) = summarize_arms(named, &args.sim, l, &dir)?;
    let marginals = rank::marginals(s, &arms);
    let method = arms[0].figures.method;
    let how = match seed {
        Some(seed) => format!("{} paired trials, seed {seed}", arms[0].figures.trials),
        None => "exact".to_owned(),
    };
    destination.publish(&[(
        "ranking.csv",
        report::ranking_csv(&s.name, method, &marginals),
    )])?;
    if !args.sim.output.quiet {
        io::say(&format!(
            "{}wrote {}\n",
            report::ranking_table(
                &s.name,
                &how,
                s.loss.as_ref().map_or("", |m| m.currency.as_str()),
                &marginals
            ),
            dir.display()
        ))?;
    }
    Ok(())
}
