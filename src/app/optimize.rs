//! `killchain optimize`: the best portfolio of controls with a `cost` within a budget, the
//! frontier of annual cost against the objective, and paired checks of the result; every figure
//! exact when each phase can be enumerated (`--method auto`, the default), else by Monte Carlo.

use std::fmt;

use crate::analysis::chains::{self, ChainTooLarge, TableTooLarge};
use crate::analysis::optimize::{self as opt, MAX_EXHAUSTIVE, Problem};
use crate::cli::{ExportOptions, OptimizeArgs, OptimizeMethodArg, SearchArg};
use crate::report;
use crate::sim::Stopped;

use super::destination::{self, Destination, Replaces};
use super::settings::Settings;
use super::{Failure, console, interrupt, io, progress, publish};

/// `killchain optimize`.
pub(super) fn optimize(args: &OptimizeArgs) -> Result<(), Failure> {
    let loaded = io::load_all(std::slice::from_ref(&args.scenario))?;
    let l = &loaded[0];
    let s = &l.scenario;
    let input = |e: &dyn fmt::Display| Failure::Input(vec![format!("{}: {e}", l.path)]);
    let problem = Problem::new(s).map_err(|e| input(&e))?;
    let n = problem.n_candidates();
    let exhaustive = match args.search {
        SearchArg::Auto => n <= MAX_EXHAUSTIVE,
        SearchArg::Exhaustive if n > MAX_EXHAUSTIVE => {
            return Err(input(&opt::OptimizeError::TooManyForExhaustive(n)));
        }
        SearchArg::Exhaustive => true,
        SearchArg::Heuristic => false,
    };
    // A landscape's or a path file's portfolios are judged exactly only.
    let sampled = problem.monte_carlo();
    let exact = match args.method {
        OptimizeMethodArg::MonteCarlo => {
            sampled.map_err(|e| input(&e))?;
            None
        }
        OptimizeMethodArg::Exact => Some(
            (problem.exact_phases())
                .map_err(|e| input(&format!("{}; use --method monte-carlo", too_large(&e))))?,
        ),
        OptimizeMethodArg::Auto => match problem.exact_phases() {
            Ok(phases) => Some(phases),
            Err(e) if sampled.is_err() => {
                return Err(input(&format!(
                    "{}; and {}",
                    too_large(&e),
                    sampled.err().map_or(String::new(), |e| e.to_string())
                )));
            }
            Err(e) => {
                if !args.output.quiet {
                    console::note(&[format!(
                        "{}: {}; optimizing by Monte Carlo",
                        l.path,
                        too_large(&e)
                    )]);
                }
                None
            }
        },
    };
    let settings = Settings::resolve(&args.trials, s);
    let seed = settings.seed;
    let dir = destination::output_dir(&args.output.out, &l.path)?;
    if exact.is_none() {
        settings.check_years(s.loss.as_ref(), &l.path)?;
    }
    let destination = Destination::prepare(&dir, Replaces::Frontier)?;
    let (optimum, verified) = match &exact {
        Some(phases) => {
            let optimum = if exhaustive {
                opt::exhaustive_exact(&problem, phases, args.budget).map_err(|e| input(&e))?
            } else {
                opt::heuristic_exact(&problem, phases, args.budget)
            };
            let verified = opt::verify_exact(&problem, phases, &optimum);
            (optimum, verified)
        }
        None => monte_carlo(args, &l.path, &problem, &settings, &dir, exhaustive)?,
    };
    let check = opt::check_seed(seed);
    let summary = report::OptimizeSummary {
        scenario: &s.name,
        problem: &problem,
        optimum: &optimum,
        seed,
        check_seed: check,
        budget: args.budget,
        as_written: verified.as_written,
        next_vs_best: verified.next_vs_best,
        best_vs_written: verified.best_vs_written,
        frontier_steps: verified.frontier_steps,
        adversaries: exact
            .as_ref()
            .filter(|_| problem.landscape())
            .map(|phases| {
                let of = |mask: u64| phases.adversaries(mask);
                let best = of(optimum.portfolios[optimum.best].mask);
                let next = (optimum.next_better).map(|i| of(optimum.portfolios[i].mask));
                let written = of(problem.as_written());
                (best.into_iter().zip(written).enumerate())
                    .map(|(a, (best, written))| report::AdversaryPicks {
                        best,
                        next: next.as_ref().map(|n| n[a].clone()),
                        written,
                    })
                    .collect()
            })
            .unwrap_or_default(),
        money: verified.money.map(|m| report::MoneySummary {
            currency: problem.loss_model().map_or("", |l| l.currency.as_str()),
            next_vs_best: m.next_vs_best,
            best_vs_written: m.best_vs_written,
            frontier_steps: m.frontier_steps,
        }),
    };
    let sha256 = io::sha256_hex(&l.source);
    let mut files = vec![
        ("frontier.csv", report::frontier_csv(&problem, &optimum)),
        (
            "optimize.json",
            report::optimize_json(&summary, &l.path, &sha256),
        ),
    ];
    let export = ExportOptions {
        report: args.report,
        navigator: false,
        xlsx: args.xlsx,
    };
    // Rendered from frontier.csv and optimize.json alone (which state the provenance): files
    // of an earlier run in the folder are not this optimization's.
    files.extend(publish::render(&files, export, &dir, Vec::new())?);
    destination.publish(&files)?;
    if !args.output.quiet {
        io::say(&format!(
            "{}wrote {}\n",
            report::optimize_table(&summary),
            dir.display()
        ))?;
    }
    Ok(())
}

/// Why a scenario's phases cannot be tabulated, in the words of `optimize`.
fn too_large(e: &ChainTooLarge) -> String {
    let against =
        (e.adversary.as_ref()).map_or(String::new(), |a| format!(" of adversary \"{a}\""));
    match &e.cause {
        TableTooLarge::Enumeration(e) => format!(
            "exact evaluation of phase \"{}\"{against} would need {} sets of tried techniques ({} viable techniques, up to {} attempts; at most {})",
            e.phase, e.states, e.viable, e.attempts, e.max
        ),
        TableTooLarge::Entries {
            phase,
            subsets,
            states,
        } => format!(
            "phase \"{phase}\"{against} would need a table of {subsets} subsets of its candidates times {states} path states entering it (at most {} entries)",
            chains::MAX_ENTRIES
        ),
    }
}

/// The Monte Carlo search: chosen on the trials of the seed, every figure and check re-evaluated
/// on the independent trials of the check seed.
fn monte_carlo(
    args: &OptimizeArgs,
    path: &str,
    problem: &Problem,
    settings: &Settings,
    dir: &std::path::Path,
    exhaustive: bool,
) -> Result<(opt::Optimum, opt::Verified), Failure> {
    let (seed, trials) = (settings.seed, settings.trials);
    let input = |e: &dyn fmt::Display| Failure::Input(vec![format!("{path}: {e}")]);
    // A search's work is parallel within a block too (over phases' subsets and portfolios), so
    // its workers are not capped by the blocks.
    let session = settings.session(u64::MAX)?;
    let stopped = |e: Stopped| interrupt::stopped(e.0, Some(dir));
    // The heuristic makes an unknown number of passes over the trials: no bar for it.
    let show = exhaustive && !args.output.quiet;
    let optimum = progress::with_progress(trials, show, session.done(), || {
        session.run(|watch| {
            if exhaustive {
                opt::exhaustive(problem, seed, trials, args.budget, watch).transpose()
            } else {
                opt::heuristic(problem, seed, trials, args.budget, watch).map(Ok)
            }
        })
    })
    .map_err(stopped)?
    .map_err(|e| input(&e))?;

    // The choice was made on the trials of `seed`; its figures, from those same trials, would
    // be optimistic (the best of many noisy estimates). Every figure reported comes from the
    // independent trials of the check seed instead, and so do the paired checks.
    let check = opt::check_seed(seed);
    let show = !args.output.quiet;
    let optimum = progress::with_progress(trials, show, session.done(), || {
        session.run(|watch| optimum.reevaluated(problem, check, watch))
    })
    .map_err(stopped)?;
    let verified = progress::with_progress(2 * trials, show, session.done(), || {
        opt::verify(problem, &optimum, &session, check, trials)
    })
    .map_err(stopped)?;
    Ok((optimum, verified))
}
