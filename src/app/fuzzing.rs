//! The entry points of the fuzz targets in `fuzz/`: `merge` and `report` exactly as the commands
//! run them, from bytes to bytes, without the file system. Not a stable API: it exists so that
//! the fuzz crate reaches these paths without the library widening what it exposes otherwise.

use std::path::Path;

use crate::cli::ExportOptions;
use crate::persist::tally;

use super::{Failure, merge, publish};

/// The messages of a refusal, or the one message of a failure.
fn messages(f: Failure) -> Vec<String> {
    match f {
        Failure::Input(m) => m,
        other => vec![other.to_string()],
    }
}

/// `killchain merge` of shards whose `tally.json` files hold `shards`: the files it would write
/// (phases.csv, controls.csv, techniques.csv, run.json, and loss_exceedance.csv with `[loss]`),
/// or the problems it would report.
pub fn merge_bytes(shards: &[&[u8]]) -> Result<Vec<(&'static str, Vec<u8>)>, Vec<String>> {
    let named: Vec<(String, Vec<u8>)> = (shards.iter().enumerate())
        .map(|(i, b)| (format!("shard-{}/tally.json", i + 1), b.to_vec()))
        .collect();
    let m = merge::merged(&named).map_err(messages)?;
    let mut files = publish::reports(&m.result());
    files.extend(publish::loss_files(m.loss.as_ref()));
    Ok(files)
}

/// A `tally.json` with its `content_sha256` recomputed over its content, as someone who edits
/// the counts can always do; `None` when `bytes` are not a tally file of this format. Lets a
/// fuzzer reach the checks behind the digest.
pub fn reseal(bytes: &[u8]) -> Option<Vec<u8>> {
    tally::reseal(bytes)
}

/// The names of the files `report` reads from a result folder, in its order: the CSV files,
/// then run.json and optimize.json.
pub fn folder_files() -> Vec<&'static str> {
    let csv = crate::report::folder::CSV_FILES.iter().copied();
    csv.chain([
        crate::report::folder::RUN_JSON,
        crate::report::folder::OPTIMIZE_JSON,
    ])
    .collect()
}

/// `killchain report --navigator --xlsx` of a result folder holding `files` (each a name of
/// [`folder_files`], and its bytes): the renderings that apply to it, or the problems.
pub fn report_bytes(files: &[(&str, &[u8])]) -> Result<Vec<(&'static str, Vec<u8>)>, Vec<String>> {
    let owned: Vec<(&str, Vec<u8>)> = files.iter().map(|(n, b)| (*n, b.to_vec())).collect();
    let export = ExportOptions {
        report: true,
        navigator: true,
        xlsx: true,
    };
    publish::render_available(&owned, export, Path::new("fuzz"), Vec::new())
        .map(|(rendered, _skipped)| rendered)
        .map_err(messages)
}
