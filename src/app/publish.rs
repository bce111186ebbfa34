//! A result folder's files: the four reports of one arm, the renderings asked for
//! (report.html, navigator-layer.json, results.xlsx), written together.

use crate::cli::ExportOptions;
use crate::report::{self, Arms, Figures, LossFigures, ResultFolder, RunResult};
use crate::scenario::{BASELINE, Scenario};
use crate::stats::Tally;
use crate::stats::loss::ArmLoss;

use super::destination::Destination;
use super::{Failure, io};

/// A run's figures from its counts (and, with `[loss]`, its annual losses).
pub(super) fn sampled(
    s: &Scenario,
    tally: &Tally,
    loss: Option<&ArmLoss>,
) -> (Figures, Option<LossFigures>) {
    let loss = s.loss.as_ref().zip(loss);
    (
        Figures::sampled(tally),
        loss.map(|(m, l)| LossFigures::sampled(m, l)),
    )
}

/// The run's files beside the four reports: `loss_exceedance.csv` when there are loss figures.
pub(super) fn loss_files(loss: Option<&LossFigures>) -> Vec<(&'static str, Vec<u8>)> {
    loss.map(|l| {
        (
            "loss_exceedance.csv",
            report::loss_exceedance_csv(&[(BASELINE, l)]),
        )
    })
    .into_iter()
    .collect()
}

/// The four reports of one scenario's run: phases.csv, controls.csv, techniques.csv, run.json.
pub(super) fn reports(result: &RunResult) -> Vec<(&'static str, Vec<u8>)> {
    let name = &result.scenario.name;
    let arm = Arms::Run(result.scenario, result.figures);
    vec![
        ("phases.csv", report::phases_csv(name, result.seed, &arm)),
        ("controls.csv", report::controls_csv(name, &arm)),
        ("techniques.csv", report::techniques_csv(name, &arm)),
        ("run.json", report::run_json(result)),
    ]
}

/// Writes the four reports of one scenario (and `extra` files, if any, and the renderings
/// `export` asks for) as the new set of `destination`, and prints its funnel.
pub(super) fn publish(
    result: &RunResult,
    destination: Destination,
    quiet: bool,
    extra: Vec<(&'static str, Vec<u8>)>,
    export: ExportOptions,
) -> Result<(), Failure> {
    let mut files = reports(result);
    files.extend(extra);
    let dir = destination.dir().to_path_buf();
    let rendered = render(&files, export, &dir, Vec::new())?;
    files.extend(rendered);
    destination.publish(&files)?;
    if !quiet {
        io::say(&format!(
            "{}wrote {}\n\n",
            report::funnel(result),
            dir.display()
        ))?;
    }
    Ok(())
}

/// The renderings `export` asks for, of the result files about to be written to `dir` (or
/// already in it): report.html, navigator-layer.json, results.xlsx. The same function serves
/// `run --report` and `killchain report DIR`.
///
/// `facts`: provenance that none of the files states (see [`ResultFolder::facts`]).
pub(super) fn render(
    files: &[(&str, Vec<u8>)],
    export: ExportOptions,
    dir: &std::path::Path,
    facts: Vec<(&'static str, String)>,
) -> Result<Vec<(&'static str, Vec<u8>)>, Failure> {
    if !(export.report || export.navigator || export.xlsx) {
        return Ok(Vec::new());
    }
    let borrowed: Vec<(&str, &[u8])> = files.iter().map(|(n, b)| (*n, b.as_slice())).collect();
    let mut folder = ResultFolder::parse(&borrowed)
        .map_err(|e| Failure::Input(vec![format!("{}: {e}", dir.display())]))?;
    folder.facts = facts;
    let missing = |what: &str, needs: &str| {
        Failure::Input(vec![format!(
            "{}: cannot write {what}: it needs {needs}, which this folder does not hold; run `killchain run` or `killchain compare` into it first",
            dir.display()
        )])
    };
    let mut out = Vec::new();
    if export.report {
        let html = report::report_html(&folder).ok_or_else(|| {
            missing(
                "report.html",
                "phases.csv, controls.csv, comparison.csv, loss_exceedance.csv, frontier.csv or ranking.csv",
            )
        })?;
        out.push(("report.html", html));
    }
    if export.navigator {
        let layer = report::navigator_layer(&folder)
            .ok_or_else(|| missing("navigator-layer.json", "techniques.csv"))?;
        out.push(("navigator-layer.json", layer));
    }
    if export.xlsx {
        let book = report::results_xlsx(&folder)
            .map_err(|e| Failure::Run(format!("cannot build results.xlsx: {e}")))?
            .ok_or_else(|| missing("results.xlsx", "a CSV file of results"))?;
        out.push(("results.xlsx", book));
    }
    Ok(out)
}
