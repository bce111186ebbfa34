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
/// `run --report` and the other commands that render what they have just computed, where every
/// rendering asked for applies; a rendering that cannot be built is a failure.
///
/// `facts`: provenance that none of the files states (see [`ResultFolder::facts`]).
pub(super) fn render(
    files: &[(&str, Vec<u8>)],
    export: ExportOptions,
    dir: &std::path::Path,
    facts: Vec<(&'static str, String)>,
) -> Result<Vec<(&'static str, Vec<u8>)>, Failure> {
    let (out, skipped) = render_available(files, export, dir, facts)?;
    match skipped.first() {
        None => Ok(out),
        Some(s) => Err(Failure::Input(vec![format!(
            "{}: cannot write {}: it needs {}, which this folder does not hold; run `killchain run` or `killchain compare` into it first",
            dir.display(),
            s.file,
            s.needs
        )])),
    }
}

/// Renderings by file name.
pub(super) type Rendered = Vec<(&'static str, Vec<u8>)>;

/// A rendering asked for that the folder's files cannot give.
pub(super) struct Skipped {
    /// The rendering's file name.
    pub file: &'static str,
    /// The files it is built from.
    pub needs: &'static str,
    /// What the folder holds instead ("an optimize folder has none").
    pub folder: &'static str,
}

impl Skipped {
    /// "navigator-layer.json: not written: it needs techniques.csv ..., and an optimize folder
    /// has none".
    pub fn line(&self) -> String {
        format!(
            "{}: not written: it needs {}, and {}",
            self.file, self.needs, self.folder
        )
    }
}

/// The renderings `export` asks for that the files can give, and each one they cannot: for
/// `killchain report`, which writes what applies to the folder. report.html is not optional:
/// a folder with nothing it draws is an error.
pub(super) fn render_available(
    files: &[(&str, Vec<u8>)],
    export: ExportOptions,
    dir: &std::path::Path,
    facts: Vec<(&'static str, String)>,
) -> Result<(Rendered, Vec<Skipped>), Failure> {
    if !(export.report || export.navigator || export.xlsx) {
        return Ok((Vec::new(), Vec::new()));
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
    let mut skipped = Vec::new();
    let landscape = (folder.table("phases.csv")).is_some_and(|t| t.col("adversary").is_some());
    if export.report && landscape {
        return Err(Failure::Input(vec![format!(
            "{}: cannot write report.html: the folder holds a threat landscape (an `adversary` column), and report.html draws one adversary; landscape.csv and the CSV files hold every figure",
            dir.display()
        )]));
    }
    if export.report {
        let html = report::report_html(&folder).ok_or_else(|| {
            missing(
                "report.html",
                "phases.csv, controls.csv, comparison.csv, loss_exceedance.csv, frontier.csv, optimize.json or ranking.csv",
            )
        })?;
        out.push(("report.html", html));
    }
    if export.navigator {
        match report::navigator_layer(&folder) {
            Some(layer) => out.push(("navigator-layer.json", layer)),
            None => skipped.push(Skipped {
                file: "navigator-layer.json",
                needs: "techniques.csv (the per-technique figures of run, exact, merge or compare)",
                folder: what_folder(&folder),
            }),
        }
    }
    if export.xlsx {
        match report::results_xlsx(&folder)
            .map_err(|e| Failure::Run(format!("cannot build results.xlsx: {e}")))?
        {
            Some(book) => out.push(("results.xlsx", book)),
            None => skipped.push(Skipped {
                file: "results.xlsx",
                needs: "a CSV file of results",
                folder: "this folder holds none",
            }),
        }
    }
    Ok((out, skipped))
}

/// "an optimize folder has none" and the like: what the folder holds instead.
fn what_folder(folder: &ResultFolder) -> &'static str {
    match (
        folder.table("frontier.csv").is_some(),
        folder.table("ranking.csv").is_some(),
    ) {
        (true, true) => "this folder holds an optimization and a ranking, which have none",
        (true, false) => "an optimize folder has none",
        (false, true) => "a rank folder has none",
        (false, false) => "this folder holds none",
    }
}
