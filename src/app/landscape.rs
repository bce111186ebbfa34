//! `run` and `exact` of a threat landscape (`[[adversaries]]`): each enabled adversary played
//! (on its own seed, derived from the run's and the adversary's id) or evaluated as a
//! one-adversary scenario; its rows in the phases, controls and techniques files under an
//! `adversary` column; the landscape's totals in `landscape.csv`.

use std::time::Instant;

use crate::cli::{CompareArgs, ExportOptions, RankArgs};
use crate::report::{
    self, AdversaryArms, AdversaryResult, Arms, Figures, LandscapeResult, LossFigures,
};
use crate::scenario::{BASELINE, LoadedScenario, Part, Scenario};
use crate::sim::engine::Plan;
use crate::sim::exact;
use crate::sim::landscape::{self, AdversaryYears};
use crate::sim::rng::adversary_seed;
use crate::sim::years::YearLayout;
use crate::sim::{ArmResult, Schedule};
use crate::stats::figures::LandscapeLoss;

use super::destination::{self, Destination, Replaces};
use super::settings::{self, Settings};
use super::{Failure, interrupt, io, publish};

/// What a landscape's command was asked that it cannot give, refused before any work: a
/// sharded run (`tally.json` holds one adversary's counts) and report.html (drawn for one
/// adversary).
pub(super) fn refusals(
    loaded: &[LoadedScenario],
    sharded: bool,
    export: ExportOptions,
) -> Result<(), Failure> {
    let mut refused = Vec::new();
    for l in loaded.iter().filter(|l| l.scenario.is_landscape()) {
        if sharded {
            refused.push(format!(
                "{}: a threat landscape ([[adversaries]]) cannot be run in shards; run it whole (each adversary's campaigns are played on all threads)",
                l.path
            ));
        }
        if export.report {
            refused.push(format!(
                "{}: report.html draws one adversary, and this file is a threat landscape ([[adversaries]]); its figures are in landscape.csv and the CSV files' `adversary` column (--xlsx and --navigator apply)",
                l.path
            ));
        }
    }
    if refused.is_empty() {
        Ok(())
    } else {
        Err(Failure::Input(refused))
    }
}

/// One adversary's figures.
struct Played {
    part: Part,
    seed: Option<u64>,
    figures: Figures,
    loss: Option<LossFigures>,
}

/// Plays every enabled adversary of `l` for `settings.trials` campaigns each and publishes the
/// landscape's files.
pub(super) fn run(
    l: &LoadedScenario,
    settings: &Settings,
    destination: Destination,
    quiet: bool,
    export: ExportOptions,
) -> Result<(), Failure> {
    let parts = l.scenario.parts();
    let session = settings.session(settings.work_units())?;
    let started = Instant::now();
    let mut played = Vec::with_capacity(parts.len());
    for part in parts {
        let seed = adversary_seed(settings.seed, &part.id);
        let s = &part.scenario;
        let schedule = Schedule::new(s.loss.as_ref(), seed, settings.trials, None);
        let plans = [Plan::new(s)];
        let arms = settings::play(&session, &plans, &schedule, !quiet, Some(destination.dir()))?;
        let ArmResult { tally, loss, .. } = arms.into_iter().next().expect("one arm");
        let (figures, loss) = publish::sampled(s, &tally, loss.as_ref());
        played.push(Played {
            part,
            seed: Some(seed),
            figures,
            loss,
        });
    }
    let total = total_years(l, &played, &session, destination.dir())?;
    let wall_seconds = started.elapsed().as_secs_f64();
    let seed = Some(settings.seed);
    publish(
        l,
        &played,
        total.as_ref(),
        seed,
        session.threads(),
        wall_seconds,
        destination,
        quiet,
        export,
    )
}

/// With `[loss]`: the landscape's annual loss year by year over the years every adversary's run
/// counts, each year the sum of the adversaries' losses in that year of their own runs (their
/// campaigns played again, on the same trials, for the years' sums).
fn total_years(
    l: &LoadedScenario,
    played: &[Played],
    session: &crate::sim::Session<'_>,
    dir: &std::path::Path,
) -> Result<Option<LandscapeLoss>, Failure> {
    if l.scenario.loss.is_none() {
        return Ok(None);
    }
    let years = (played.iter())
        .map(|p| p.loss.as_ref().map_or(0, |f| f.years))
        .min()
        .unwrap_or(0);
    let plans: Vec<Plan> = played.iter().map(|p| Plan::new(&p.part.scenario)).collect();
    let layouts: Vec<YearLayout> = (played.iter())
        .filter_map(|p| Some(YearLayout::new(p.part.scenario.loss.as_ref()?, p.seed?)))
        .collect();
    let adversaries: Vec<AdversaryYears<'_>> = (plans.iter().zip(&layouts).zip(played))
        .filter_map(|((plan, layout), p)| {
            Some(AdversaryYears {
                plan,
                seed: p.seed?,
                layout,
            })
        })
        .collect();
    let tally = session
        .run(|watch| landscape::total_years(&adversaries, years, watch))
        .map_err(|stopped| interrupt::stopped(stopped.0, Some(dir)))?;
    Ok(Some(LandscapeLoss::sampled(&tally)))
}

/// Every enabled adversary of a landscape, evaluated exactly.
pub(super) struct Evaluated {
    played: Vec<Played>,
    wall_seconds: f64,
}

/// Evaluates every enabled adversary of `l` exactly (expected counts of `trials` campaigns
/// each), or explains which adversary is too large to enumerate.
pub(super) fn evaluate(l: &LoadedScenario, trials: u64) -> Result<Evaluated, Failure> {
    let started = Instant::now();
    let mut played = Vec::new();
    for part in l.scenario.parts() {
        let s = &part.scenario;
        let counts = exact::evaluate(s).map_err(|e| {
            Failure::Input(vec![format!("{}: adversary \"{}\": {e}", l.path, part.id)])
        })?;
        let figures = Figures::exact(&counts, trials);
        let loss =
            (s.loss.as_ref()).map(|m| LossFigures::exact(m, counts.completed, counts.completed));
        played.push(Played {
            part,
            seed: None,
            figures,
            loss,
        });
    }
    let wall_seconds = started.elapsed().as_secs_f64();
    Ok(Evaluated {
        played,
        wall_seconds,
    })
}

/// Publishes an exact evaluation of `l`.
pub(super) fn publish_exact(
    l: &LoadedScenario,
    evaluated: &Evaluated,
    destination: Destination,
    quiet: bool,
    export: ExportOptions,
) -> Result<(), Failure> {
    let (played, seconds) = (&evaluated.played, evaluated.wall_seconds);
    // Independent Poisson adversaries' successful attacks are Poisson with the summed rate.
    let total = l.scenario.loss.as_ref().map(|_| {
        let successful: f64 = (played.iter())
            .map(|p| p.part.attacks_per_year * p.figures.counts.completed / p.figures.trials as f64)
            .sum();
        LandscapeLoss::exact(successful)
    });
    publish(
        l,
        played,
        total.as_ref(),
        None,
        1,
        seconds,
        destination,
        quiet,
        export,
    )
}

/// The landscape's files: phases, controls and techniques with an `adversary` column,
/// landscape.csv, run.json, and the renderings asked for.
#[allow(clippy::too_many_arguments)]
fn publish(
    l: &LoadedScenario,
    played: &[Played],
    total: Option<&LandscapeLoss>,
    seed: Option<u64>,
    threads: usize,
    wall_seconds: f64,
    destination: Destination,
    quiet: bool,
    export: ExportOptions,
) -> Result<(), Failure> {
    let sha256 = io::sha256_hex(&l.source);
    let result = LandscapeResult {
        scenario: &l.scenario,
        path: &l.path,
        sha256: &sha256,
        seed,
        threads,
        wall_seconds,
        total_loss: total,
        adversaries: (played.iter())
            .map(|p| AdversaryResult {
                part: &p.part,
                seed: p.seed,
                figures: &p.figures,
                loss: p.loss.as_ref(),
            })
            .collect(),
    };
    let arms: Vec<(&str, &crate::scenario::Scenario, &Figures)> = (played.iter())
        .map(|p| (p.part.id.as_str(), &p.part.scenario, &p.figures))
        .collect();
    let by_adversary = Arms::Landscape(&arms);
    let name = &l.scenario.name;
    let mut files = vec![
        ("phases.csv", report::phases_csv(name, seed, &by_adversary)),
        ("controls.csv", report::controls_csv(name, &by_adversary)),
        (
            "techniques.csv",
            report::techniques_csv(name, &by_adversary),
        ),
        ("landscape.csv", report::landscape_csv(&result)),
        ("run.json", report::landscape_json(&result)),
    ];
    if result.total_loss.is_some() {
        files.push((
            "loss_exceedance.csv",
            report::landscape_exceedance_csv(&result),
        ));
    }
    let dir = destination.dir().to_path_buf();
    let rendered = publish::render(&files, export, &dir, Vec::new())?;
    files.extend(rendered);
    destination.publish(&files)?;
    if !quiet {
        io::say(&format!(
            "{}wrote {}\n\n",
            report::landscape_table(&result),
            dir.display()
        ))?;
    }
    Ok(())
}

/// `killchain compare` of a threat landscape with its `[[variants]]`: each adversary's arms
/// compared as a one-adversary comparison (on the adversary's seed, every arm on the same
/// trials), their rows under an `adversary` column in comparison.csv and phase_deltas.csv, and
/// each arm's totals over the landscape in landscape_comparison.csv.
pub(super) fn compare(args: &CompareArgs, loaded: &[LoadedScenario]) -> Result<(), Failure> {
    let l = (loaded.iter().find(|l| l.scenario.is_landscape())).unwrap_or(&loaded[0]);
    if loaded.len() != 1 {
        return Err(Failure::Input(vec![format!(
            "{}: a threat landscape ([[adversaries]]) is compared with its own [[variants]], not with a second file; give it alone",
            l.path
        )]));
    }
    if l.scenario.variants.is_empty() {
        return Err(Failure::Input(vec![format!(
            "{}: no [[variants]] to compare; add some to the landscape",
            l.path
        )]));
    }
    refusals(loaded, false, args.export)?;
    unrated(l, "compare")?;
    let dir = destination::output_dir(&args.sim.output.out, &l.path)?;
    let destination = Destination::prepare(&dir, Replaces::Run)?;
    let mut arms: Vec<(String, &Scenario)> = vec![(BASELINE.to_owned(), &l.scenario)];
    arms.extend((l.scenario.variants.iter()).map(|v| (v.name.clone(), &v.scenario)));
    let parts: Vec<Vec<Part>> = arms.iter().map(|(_, s)| s.parts()).collect();
    let run_seed = Settings::resolve(&args.sim.trials, &l.scenario).seed;
    let mut summaries = Vec::new();
    let mut sampled = false;
    for (i, part) in parts[0].iter().enumerate() {
        let named: Vec<(String, &Scenario)> = (arms.iter().zip(&parts))
            .map(|((name, _), p)| (name.clone(), &p[i].scenario))
            .collect();
        let (base, seed_for) = alone(l, part);
        let (arms, seed, _) = super::compare::summarize_arms(named, args, &base, &dir, &seed_for)?;
        sampled |= seed.is_some();
        // An adversary evaluated exactly names no seed, one simulated the run's.
        summaries.push((arms, seed.map(|_| run_seed)));
    }
    let seed = sampled.then_some(run_seed);
    let name = &l.scenario.name;
    let adversaries: Vec<AdversaryArms> = (parts[0].iter().zip(&summaries))
        .map(|(part, (arms, _))| AdversaryArms { part, arms })
        .collect();
    let seeds: Vec<Option<u64>> = summaries.iter().map(|(_, seed)| *seed).collect();
    let per = |write: fn(&str, Option<u64>, &[crate::analysis::arms::ArmSummary]) -> Vec<u8>| {
        let parts: Vec<(&str, Vec<u8>)> = (adversaries.iter().zip(&seeds))
            .map(|(a, &seed)| (a.part.id.as_str(), write(name, seed, a.arms)))
            .collect();
        report::with_column("adversary", &parts)
    };
    // The one-adversary comparison files of each adversary, under its name.
    let by_arm = |write: &dyn Fn(&Arms, Option<u64>) -> Vec<u8>| {
        let files: Vec<(&str, Vec<u8>)> = (adversaries.iter().enumerate())
            .map(|(i, a)| {
                let seed = seeds[i];
                let arms: Vec<(&str, &Scenario, &Figures)> = (a.arms.iter().zip(&parts))
                    .map(|(s, p)| (s.name.as_str(), &p[i].scenario, &s.figures))
                    .collect();
                (a.part.id.as_str(), write(&Arms::Comparison(&arms), seed))
            })
            .collect();
        report::with_column("adversary", &files)
    };
    let mut files = vec![
        (
            "phases.csv",
            by_arm(&|arms, seed| report::phases_csv(name, seed, arms)),
        ),
        ("comparison.csv", per(report::comparison_csv)),
        ("phase_deltas.csv", per(report::phase_deltas_csv)),
        (
            "landscape_comparison.csv",
            report::landscape_comparison_csv(name, seed, &adversaries),
        ),
        (
            "controls.csv",
            by_arm(&|arms, _| report::controls_csv(name, arms)),
        ),
        (
            "techniques.csv",
            by_arm(&|arms, _| report::techniques_csv(name, arms)),
        ),
    ];
    let facts = vec![
        ("scenario file", l.path.clone()),
        ("scenario SHA-256", io::sha256_hex(&l.source)),
    ];
    let rendered = publish::render(&files, args.export, &dir, facts)?;
    files.extend(rendered);
    destination.publish(&files)?;
    if !args.sim.output.quiet {
        let mut text = String::new();
        for (a, &seed) in adversaries.iter().zip(&seeds) {
            text += &format!(
                "adversary {} ({}, {} a year):\n{}\n",
                a.part.id,
                a.part.scenario.adversary.name,
                a.part.attacks_per_year,
                report::comparison_table(name, seed, a.arms)
            );
        }
        text += &report::landscape_comparison_table(name, &adversaries);
        io::say(&format!("{text}wrote {}\n", dir.display()))?;
    }
    Ok(())
}

/// `killchain rank` of a threat landscape: each control switched alone, each adversary's switch
/// effects on its own seed (`compare::switch_effects`), their rows in ranking.csv under an
/// `adversary` column, and the landscape's marginal values in landscape_ranking.csv.
pub(super) fn rank(args: &RankArgs, l: &LoadedScenario) -> Result<(), Failure> {
    let s = &l.scenario;
    unrated(l, "rank")?;
    let dir = destination::output_dir(&args.sim.output.out, &l.path)?;
    let destination = Destination::prepare(&dir, Replaces::Ranking)?;
    let run_seed = Settings::resolve(&args.sim.trials, s).seed;
    let currency = s.loss.as_ref().map_or("", |m| m.currency.as_str());
    let mut per_adversary = Vec::new();
    let mut rankings = Vec::new();
    let mut sampled = None;
    for part in s.parts() {
        let (base, seed_for) = alone(l, &part);
        let (baseline, effects, seed) =
            super::compare::switch_effects(&base, &args.sim, &dir, &seed_for)?;
        sampled = sampled.or(seed.map(|_| baseline.method));
        let marginals = crate::analysis::rank::marginals(&part.scenario, &effects);
        let shown_seed = seed.map(|_| run_seed);
        let csv = report::ranking_csv(
            &s.name,
            shown_seed,
            baseline.trials,
            baseline.method,
            currency,
            &marginals,
        );
        rankings.push((part.id.clone(), csv));
        per_adversary.push((part.attacks_per_year, effects));
    }
    let method = sampled.unwrap_or(crate::report::Method::Exact);
    let seed = (method == crate::report::Method::MonteCarlo).then_some(run_seed);
    let marginals = crate::analysis::rank::landscape_marginals(s, &per_adversary);
    let parts: Vec<(&str, Vec<u8>)> = (rankings.iter())
        .map(|(id, csv)| (id.as_str(), csv.clone()))
        .collect();
    destination.publish(&[
        ("ranking.csv", report::with_column("adversary", &parts)),
        (
            "landscape_ranking.csv",
            report::landscape_ranking_csv(&s.name, seed, method, &marginals),
        ),
    ])?;
    if !args.sim.output.quiet {
        let how = match seed {
            Some(seed) => format!("paired trials, seed {seed}"),
            None => "exact".to_owned(),
        };
        io::say(&format!(
            "{}wrote {}\n",
            report::landscape_ranking_table(&s.name, &how, &marginals),
            dir.display()
        ))?;
    }
    Ok(())
}

/// Refuses a landscape whose adversaries have no rate in a command that sums them by rate.
fn unrated(l: &LoadedScenario, command: &str) -> Result<(), Failure> {
    let without: Vec<&str> = (l.scenario.adversaries.iter())
        .filter(|a| a.enabled && a.attacks_per_year.is_none())
        .map(|a| a.id.as_str())
        .collect();
    match without.is_empty() {
        true => Ok(()),
        false => Err(Failure::Input(vec![format!(
            "{}: `killchain {command}` sums the adversaries by their campaigns a year, and {} gives no `attacks_per_year`; add one",
            l.path,
            without.join(", ")
        )])),
    }
}

/// One adversary of `l` as the loaded one-adversary file the one-adversary commands take, and
/// the map from the run's seed to the adversary's.
fn alone(l: &LoadedScenario, part: &Part) -> (LoadedScenario, impl Fn(u64) -> u64 + use<>) {
    let base = LoadedScenario {
        path: l.path.clone(),
        source: String::new(),
        scenario: part.scenario.clone(),
    };
    let id = part.id.clone();
    (base, move |seed: u64| adversary_seed(seed, &id))
}
