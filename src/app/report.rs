//! `killchain report`: render report.html (and navigator-layer.json, results.xlsx when asked
//! for) from the files of an existing result folder, published as a new set: the folder's
//! files and the new renderings. A rendering asked for that does not apply to the folder (a
//! Navigator layer of an optimize or rank folder) is not written, and a note says why; the
//! command succeeds when report.html is written.

use crate::cli::{ExportOptions, ReportArgs};
use crate::report;

use super::destination::{Destination, Replaces};
use super::{Failure, io, publish};

/// `killchain report`: renders report.html (and navigator-layer.json, results.xlsx when asked
/// for) from the files of an existing result folder.
pub(super) fn report(args: &ReportArgs) -> Result<(), Failure> {
    let dir = &args.dir;
    if !dir.is_dir() {
        return Err(Failure::Input(vec![format!(
            "{}: not a folder; give a result folder such as output/<scenario file stem>",
            dir.display()
        )]));
    }
    // Under the folder's lock from here on, so the files read are one set, and the renderings
    // go into a copy of that same set. The canonical path names the folder even as `.`.
    let target = std::fs::canonicalize(dir)
        .map_err(|e| Failure::Run(format!("cannot read {}: {e}", dir.display())))?;
    let destination = Destination::prepare(&target, Replaces::Renderings)?;
    let mut files: Vec<(&str, Vec<u8>)> = Vec::new();
    for name in report::folder::CSV_FILES
        .iter()
        .chain([&report::folder::RUN_JSON, &report::folder::OPTIMIZE_JSON])
    {
        // A result folder's files must be regular files of bounded size, never links: a link
        // would put another file's content into what is rendered and shared.
        match crate::input::read(&dir.join(name), crate::input::RESULT_FILE) {
            Ok(bytes) => files.push((name, bytes)),
            Err(e) if e.is_not_found() => {}
            Err(e) => return Err(Failure::Input(vec![e.to_string()])),
        }
    }
    if files.is_empty() {
        return Err(Failure::Input(vec![format!(
            "{}: no result files (phases.csv, comparison.csv, frontier.csv, ...) to report on; run `killchain run`, `compare` or `optimize` into it first",
            dir.display()
        )]));
    }
    let export = ExportOptions {
        report: true,
        navigator: args.navigator,
        xlsx: args.xlsx,
    };
    let (rendered, skipped) = publish::render_available(&files, export, dir, Vec::new())?;
    destination.publish(&rendered)?;
    let notes: Vec<String> = skipped.iter().map(publish::Skipped::line).collect();
    super::console::note(&notes);
    if !args.quiet {
        let names: Vec<&str> = rendered.iter().map(|(n, _)| *n).collect();
        io::say(&format!(
            "wrote {} in {}\n",
            names.join(", "),
            dir.display()
        ))?;
    }
    Ok(())
}
