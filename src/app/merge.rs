//! `killchain merge`: check that the folders hold every shard of one run, sum their tallies and
//! write what the whole run would have written.

use crate::cli::MergeArgs;
use crate::persist::tally::{self as tally_file, TallyFile};
use crate::report::{Figures, LossFigures, RunResult};
use crate::scenario::Scenario;

use super::destination::{self, Destination, Replaces};
use super::{Failure, publish};

/// `killchain merge`: checks that the folders hold all shards of one run, each once, sums their
/// tallies and writes what the whole run would have written (but tally.json). The scenario is the
/// text embedded in the shards, so merging needs neither the file nor the machine that ran it.
pub(super) fn merge(args: &MergeArgs) -> Result<(), Failure> {
    let mut shards = Vec::with_capacity(args.shards.len());
    let mut problems = Vec::new();
    for dir in &args.shards {
        let path = dir.join(tally_file::FILE_NAME);
        let name = path.display().to_string();
        match crate::input::read(&path, crate::input::TALLY) {
            Ok(bytes) => shards.push((name, bytes)),
            Err(e) => problems.push(format!(
                "{name}: cannot read the shard's tally ({}); give each shard's output folder, e.g. out/shard-1/<scenario file stem>",
                e.reason()
            )),
        }
    }
    if !problems.is_empty() {
        return Err(Failure::Input(tally_file::capped(problems)));
    }
    let name = shards.first().map(|(n, _)| n.clone()).unwrap_or_default();
    let m = merged(&shards)?;
    let result = m.result();
    let dir =
        destination::output_dir(&args.output.out, &m.first.scenario_file).map_err(|f| match f {
            Failure::Input(m) => Failure::Input(
                m.iter()
                    .map(|m| format!("{name}: scenario_file {m}"))
                    .collect(),
            ),
            other => other,
        })?;
    publish::publish(
        &result,
        Destination::prepare(&dir, Replaces::Run)?,
        args.output.quiet,
        publish::loss_files(m.loss.as_ref()),
        args.export,
    )
}

/// The whole run that checked shards add up to.
pub(super) struct Merged {
    /// The first shard (its scenario file, SHA-256 and seed are every shard's).
    pub first: TallyFile,
    /// The embedded scenario.
    pub scenario: Scenario,
    /// The run's figures.
    pub figures: Figures,
    /// With `[loss]`, its loss figures.
    pub loss: Option<LossFigures>,
    /// The most threads any shard used.
    pub threads: usize,
    /// The shards' total wall time.
    pub wall_seconds: f64,
}

impl Merged {
    /// What a single run of the whole would report.
    pub fn result(&self) -> RunResult<'_> {
        RunResult {
            scenario: &self.scenario,
            path: &self.first.scenario_file,
            sha256: &self.first.scenario_sha256,
            seed: Some(self.first.seed),
            threads: self.threads,
            wall_seconds: self.wall_seconds,
            figures: &self.figures,
            loss: self.loss.as_ref(),
        }
    }
}

/// Checks the shards' `tally.json` bytes (each with the name to report it by) and sums them:
/// pure, so the fuzz target runs exactly what `merge` runs. Problems are capped at
/// [`tally_file::MAX_PROBLEMS`] lines.
pub(super) fn merged(shards: &[(String, Vec<u8>)]) -> Result<Merged, Failure> {
    let mut files: Vec<(String, TallyFile)> = Vec::with_capacity(shards.len());
    let mut problems = Vec::new();
    for (name, bytes) in shards {
        match TallyFile::from_json(bytes) {
            Ok(f) => files.push((name.clone(), f)),
            Err(e) => problems.push(format!("{name}: {e}")),
        }
    }
    if !problems.is_empty() {
        return Err(Failure::Input(tally_file::capped(problems)));
    }
    let Some((name, first)) = files.first() else {
        return Err(Failure::Input(vec!["no shards to merge".to_owned()]));
    };
    let s = Scenario::from_toml(&first.scenario_source, &first.scenario_file).map_err(|d| {
        Failure::Input(tally_file::capped(
            d.0.iter()
                .map(|p| format!("{name}: the embedded scenario does not load: {p}"))
                .collect(),
        ))
    })?;
    let (tally, loss) =
        tally_file::merge(&files, &s).map_err(|p| Failure::Input(tally_file::capped(p)))?;
    let (figures, loss_figures) = publish::sampled(&s, &tally, loss.as_ref());
    let threads = files.iter().map(|(_, f)| f.threads).max().unwrap_or(1);
    let wall_seconds = files.iter().map(|(_, f)| f.wall_time_seconds).sum();
    let (_, first) = files.swap_remove(0);
    Ok(Merged {
        first,
        scenario: s,
        figures,
        loss: loss_figures,
        threads,
        wall_seconds,
    })
}
