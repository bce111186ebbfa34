//! `killchain merge`: check that the folders hold every shard of one run, sum their tallies and
//! write what the whole run would have written.

use crate::cli::MergeArgs;
use crate::persist::tally::{self as tally_file, TallyFile};
use crate::report::RunResult;
use crate::scenario::Scenario;

use super::destination::{self, Destination, Replaces};
use super::{Failure, io, publish};

/// `killchain merge`: checks that the folders hold all shards of one run, each once, sums their
/// tallies and writes what the whole run would have written (but tally.json). The scenario is the
/// text embedded in the shards, so merging needs neither the file nor the machine that ran it.
pub(super) fn merge(args: &MergeArgs) -> Result<(), Failure> {
    let mut files = Vec::with_capacity(args.shards.len());
    let mut problems = Vec::new();
    for dir in &args.shards {
        let path = dir.join(tally_file::FILE_NAME);
        let name = path.display().to_string();
        let read = std::fs::read(&path)
            .map_err(|e| {
                format!(
                    "cannot read the shard's tally ({e}); give each shard's output folder, e.g. out/shard-1/<scenario file stem>"
                )
            })
            .and_then(|bytes| TallyFile::from_json(&bytes, io::sha256_hex));
        match read {
            Ok(f) => files.push((name, f)),
            Err(e) => problems.push(format!("{name}: {e}")),
        }
    }
    if !problems.is_empty() {
        return Err(Failure::Input(problems));
    }
    let (name, first) = &files[0];
    let s = Scenario::from_toml(&first.scenario_source, &first.scenario_file).map_err(|d| {
        Failure::Input(
            d.0.iter()
                .map(|p| format!("{name}: the embedded scenario does not load: {p}"))
                .collect(),
        )
    })?;
    let (tally, loss) = tally_file::merge(&files, &s).map_err(Failure::Input)?;
    let (figures, loss_figures) = publish::sampled(&s, &tally, loss.as_ref());
    let result = RunResult {
        scenario: &s,
        path: &first.scenario_file,
        sha256: &first.scenario_sha256,
        seed: Some(first.seed),
        threads: files.iter().map(|(_, f)| f.threads).max().unwrap_or(1),
        wall_seconds: files.iter().map(|(_, f)| f.wall_time_seconds).sum(),
        figures: &figures,
        loss: loss_figures.as_ref(),
    };
    let dir =
        destination::output_dir(&args.output.out, &first.scenario_file).map_err(|f| match f {
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
        publish::loss_files(loss_figures.as_ref()),
        args.export,
    )
}
