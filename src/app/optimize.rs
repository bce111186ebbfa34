//! `killchain optimize`: the best portfolio of controls with a `cost` within a budget, the
//! frontier of annual cost against the objective, and paired checks of the result.

use std::fmt;

use crate::analysis::arms::Arm;
use crate::analysis::optimize::{self as opt, MAX_EXHAUSTIVE, Problem};
use crate::cli::{ExportOptions, OptimizeArgs, SearchArg};
use crate::report;
use crate::sim::engine::Plan;
use crate::sim::{ArmResult, Schedule, Stopped};

use super::settings::Settings;
use super::{Failure, interrupt, io, progress, publish};

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
    let settings = Settings::resolve(&args.trials, s);
    let (seed, trials) = (settings.seed, settings.trials);
    let dir = io::output_dir(&args.output.out, &l.path);
    let session = settings.session()?;
    let stopped = |e: Stopped| interrupt::stopped(e.0, Some(&dir));
    // The heuristic makes an unknown number of passes over the trials: no bar for it.
    let show = exhaustive && !args.output.quiet;
    let optimum = progress::with_progress(trials, show, session.done(), || {
        session.run(|watch| {
            if exhaustive {
                opt::exhaustive(&problem, seed, trials, args.budget, watch).transpose()
            } else {
                opt::heuristic(&problem, seed, trials, args.budget, watch).map(Ok)
            }
        })
    })
    .map_err(stopped)?
    .map_err(|e| input(&e))?;

    // Paired comparisons on the same trials: best (the reference), as written, next better.
    let best = optimum.portfolios[optimum.best];
    let next = optimum.next_better.map(|i| optimum.portfolios[i]);
    let written = problem.as_written();
    let mut arms = vec![problem.apply(best.mask), problem.apply(written)];
    arms.extend(next.map(|p| problem.apply(p.mask)));
    let plans: Vec<Plan> = arms.iter().map(Plan::new).collect();
    // And each frontier point against the previous one.
    let frontier: Vec<u64> = (optimum.portfolios.iter())
        .filter(|p| p.on_frontier)
        .map(|p| p.mask)
        .collect();
    let steps: Vec<(u64, u64)> = frontier.windows(2).map(|w| (w[1], w[0])).collect();
    // With [loss], the same years too: each arm's annual losses against the best's.
    let schedule = Schedule::new(problem.loss_model(), seed, trials, None);
    let (results, step_tables) =
        progress::with_progress(2 * trials, !args.output.quiet, session.done(), || {
            let results = session.play(&plans, &schedule)?;
            let tables = session.run(|watch| problem.paired(seed, trials, &steps, watch))?;
            Ok((results, tables))
        })
        .map_err(stopped)?;
    let losses: Vec<_> = results.iter().filter_map(|r| r.loss.clone()).collect();
    let table = |i: usize| {
        let ArmResult { tally, joint, .. } = results[i].clone();
        Arm {
            name: String::new(),
            scenario: &arms[i],
            tally,
            joint,
        }
        .completion_table()
    };
    let zero = (0.0, 0.0, 0.0);
    // The arm's table is (arm, best); best − as written swaps its two sides.
    let mut w = table(1);
    std::mem::swap(&mut w.first_only, &mut w.second_only);
    let summary = report::OptimizeSummary {
        scenario: &s.name,
        problem: &problem,
        optimum: &optimum,
        seed,
        budget: args.budget,
        as_written: (written, results[1].tally.completed),
        next_vs_best: next.map(|_| table(2).difference().unwrap_or(zero)),
        best_vs_written: w.difference().unwrap_or(zero),
        frontier_steps: step_tables
            .iter()
            .map(|t| t.completion.difference().unwrap_or(zero))
            .collect(),
        money: match (optimum.by_loss(), problem.loss_model()) {
            (true, Some(model)) => {
                // Each arm's paired loss is best − arm, year by year.
                let flip = |(d, lo, hi): (f64, f64, f64)| (-d, -hi, -lo);
                Some(report::MoneySummary {
                    currency: &model.currency,
                    as_written: losses[1].tally.sums(),
                    next_vs_best: losses.get(2).map(|l| flip(l.paired.reduction())),
                    best_vs_written: losses[1].paired.reduction(),
                    frontier_steps: step_tables
                        .iter()
                        .map(|t| t.loss.map_or(zero, |l| l.reduction()))
                        .collect(),
                })
            }
            _ => None,
        },
    };
    let mut files = vec![("frontier.csv", report::frontier_csv(&problem, &optimum))];
    let export = ExportOptions {
        report: args.report,
        navigator: false,
        xlsx: args.xlsx,
    };
    let facts = vec![
        ("scenario", s.name.clone()),
        ("scenario file", l.path.clone()),
        ("scenario SHA-256", io::sha256_hex(&l.source)),
        ("budget", args.budget.to_string()),
        ("seed", seed.to_string()),
        ("trials", trials.to_string()),
    ];
    // Rendered from frontier.csv alone: files of an earlier run in the folder are not this
    // optimization's.
    files.extend(publish::render(&files, export, &dir, facts)?);
    io::write_all_atomically(&dir, &files)?;
    if !args.output.quiet {
        io::say(&format!(
            "{}wrote {}\n",
            report::optimize_table(&summary),
            dir.display()
        ));
    }
    Ok(())
}
