//! The CSV files: RFC 4180, UTF-8, a header row, fixed column order, plain numbers.
//!
//! A file holding any non-ASCII text starts with the UTF-8 byte order mark, so that a
//! spreadsheet's default import (Excel's double click among them) reads it as UTF-8 rather than
//! in the system's legacy code page; a file of ASCII alone has none, since it reads the same in
//! every encoding, and its bytes stay as they were. killchain's own reader skips the mark.

use super::format::rate6;
use super::{Figures, text_cell};
use crate::phase::Phase;
use crate::scenario::Scenario;

/// The UTF-8 byte order mark.
pub const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// The file's bytes: the mark first when any byte is not ASCII (see the module documentation).
pub(super) fn finish(w: csv::Writer<Vec<u8>>) -> Vec<u8> {
    let bytes = w
        .into_inner()
        .unwrap_or_else(|e| panic!("writing CSV to memory cannot fail: {e}"));
    if bytes.is_ascii() {
        bytes
    } else {
        [UTF8_BOM, &bytes].concat()
    }
}

pub(super) fn writer() -> csv::Writer<Vec<u8>> {
    csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new())
}

pub(super) fn record<T: AsRef<[u8]>>(w: &mut csv::Writer<Vec<u8>>, cells: &[T]) {
    w.write_record(cells)
        .unwrap_or_else(|e| panic!("writing CSV to memory cannot fail: {e}"));
}

/// `k / trials` with six decimals.
fn share(f: &Figures, k: f64) -> String {
    rate6(f.rate(k, f.trials as f64).map(|r| r.0))
}

/// Column names of `phases.csv`.
pub const PHASES_HEADER: [&str; 13] = [
    "scenario",
    "seed",
    "trials",
    "phase_index",
    "phase",
    "reached",
    "broken",
    "passed",
    "break_rate",
    "ci_low",
    "ci_high",
    "broken_share",
    "method",
];

/// The cells of one `phases.csv` row, in [`PHASES_HEADER`] order.
fn phase_cells(f: &Figures, name: &str, seed: &str, phase: Phase) -> Vec<String> {
    let i = phase.index();
    let rate = f.rate(f.counts.broken[i], f.counts.reached[i]);
    vec![
        name.to_owned(),
        seed.to_owned(),
        f.trials.to_string(),
        (i + 1).to_string(),
        phase.id().to_owned(),
        f.count(f.counts.reached[i]),
        f.count(f.counts.broken[i]),
        f.count(f.passed(i)),
        rate6(rate.map(|r| r.0)),
        rate6(rate.map(|r| r.1)),
        rate6(rate.map(|r| r.2)),
        share(f, f.counts.broken[i]),
        f.method.id().to_owned(),
    ]
}

/// `phases.csv`: one row per phase in chain order, for each arm.
pub fn phases_csv(scenario: &str, seed: Option<u64>, arms: &Arms) -> Vec<u8> {
    let name = text_cell(scenario);
    let seed = seed.map(|s| s.to_string()).unwrap_or_default();
    by_arm(&PHASES_HEADER, arms, |_, f| {
        Phase::ALL
            .into_iter()
            .map(|phase| phase_cells(f, &name, &seed, phase))
            .collect()
    })
}

/// Column names of `controls.csv`.
pub const CONTROLS_HEADER: [&str; 8] = [
    "scenario",
    "control",
    "name",
    "action",
    "fired",
    "breaks",
    "break_share",
    "method",
];

/// The rows of `controls.csv` ([`CONTROLS_HEADER`] order) of one scenario's figures.
fn control_rows(s: &Scenario, f: &Figures, name: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    for (i, c) in s.controls.iter().enumerate() {
        if !c.enabled {
            continue;
        }
        rows.push(vec![
            name.to_owned(),
            text_cell(&c.id),
            text_cell(&c.name),
            c.action.id().to_owned(),
            f.count(f.counts.control_fired[i]),
            f.count(f.counts.control_breaks[i]),
            share(f, f.counts.control_breaks[i]),
            f.method.id().to_owned(),
        ]);
    }
    for (id, label, k) in [
        (
            "technique-failed",
            "Attempts ran out; no control ended the last one",
            f.counts.breaks_technique_failed,
        ),
        (
            "no-viable-technique",
            "No technique was viable in the environment",
            f.counts.breaks_no_viable,
        ),
    ] {
        rows.push(vec![
            name.to_owned(),
            id.to_owned(),
            label.to_owned(),
            String::new(),
            String::new(),
            f.count(k),
            share(f, k),
            f.method.id().to_owned(),
        ]);
    }
    rows
}

/// `controls.csv`: for each arm, one row per enabled control in file order, then
/// `technique-failed` and `no-viable-technique`.
pub fn controls_csv(scenario: &str, arms: &Arms) -> Vec<u8> {
    let name = text_cell(scenario);
    by_arm(&CONTROLS_HEADER, arms, |s, f| control_rows(s, f, &name))
}

/// `techniques.csv`: for each arm, one row per technique in file order.
pub fn techniques_csv(scenario: &str, arms: &Arms) -> Vec<u8> {
    let name = text_cell(scenario);
    by_arm(&TECHNIQUES_HEADER, arms, |s, f| technique_rows(s, f, &name))
}

/// The arms a CSV file lays out. A run is a comparison of one arm whose files have no
/// `variant` column.
#[derive(Debug, Clone, Copy)]
pub enum Arms<'a> {
    /// A run's one arm: the scenario it played and its figures.
    Run(&'a Scenario, &'a Figures),
    /// A comparison's arms, baseline first: `(variant name, its scenario, figures)`, named in a
    /// `variant` column after `scenario`.
    Comparison(&'a [(&'a str, &'a Scenario, &'a Figures)]),
    /// A threat landscape's adversaries in file order: `(adversary id, its one-adversary
    /// scenario, figures)`, named in an `adversary` column after `scenario`.
    Landscape(&'a [(&'a str, &'a Scenario, &'a Figures)]),
}

impl<'a> Arms<'a> {
    /// Each arm with its variant name (`None` for a run's).
    fn each(&self) -> Vec<(Option<&'a str>, &'a Scenario, &'a Figures)> {
        match *self {
            Arms::Run(s, f) => vec![(None, s, f)],
            Arms::Comparison(arms) | Arms::Landscape(arms) => {
                arms.iter().map(|&(v, s, f)| (Some(v), s, f)).collect()
            }
        }
    }

    /// The name of the column that names each arm, if the file has one.
    fn column(&self) -> Option<&'static str> {
        match self {
            Arms::Run(..) => None,
            Arms::Comparison(_) => Some("variant"),
            Arms::Landscape(_) => Some("adversary"),
        }
    }
}

/// A file of `header` (with `variant` after its first column in a comparison, `adversary` in a
/// landscape) and the `rows` of
/// each arm in turn.
fn by_arm(
    header: &[&str],
    arms: &Arms,
    rows: impl Fn(&Scenario, &Figures) -> Vec<Vec<String>>,
) -> Vec<u8> {
    let mut w = writer();
    let mut header = header.to_vec();
    if let Some(column) = arms.column() {
        header.insert(1, column);
    }
    record(&mut w, &header);
    for (variant, s, f) in arms.each() {
        for mut cells in rows(s, f) {
            if let Some(variant) = variant {
                cells.insert(1, text_cell(variant));
            }
            record(&mut w, &cells);
        }
    }
    finish(w)
}

/// Column names of `techniques.csv`.
pub const TECHNIQUES_HEADER: [&str; 16] = [
    "scenario",
    "technique",
    "name",
    "phase",
    "attack",
    "viable",
    "attempts",
    "successes",
    "success_rate",
    "prevented",
    "deceived",
    "interrupted",
    "failed",
    "detected",
    "evicted",
    "method",
];

/// The rows of `techniques.csv` ([`TECHNIQUES_HEADER`] order) of one scenario's figures.
fn technique_rows(s: &Scenario, f: &Figures, name: &str) -> Vec<Vec<String>> {
    s.techniques
        .iter()
        .zip(&f.counts.techniques)
        .map(|(t, c)| {
            vec![
                name.to_owned(),
                text_cell(&t.id),
                text_cell(&t.name),
                t.phase.id().to_owned(),
                t.attack.clone().unwrap_or_default(),
                if t.viable { "true" } else { "false" }.to_owned(),
                f.count(c.attempts),
                f.count(c.succeeded),
                rate6(f.rate(c.succeeded, c.attempts).map(|r| r.0)),
                f.count(c.prevented),
                f.count(c.deceived),
                f.count(c.interrupted),
                f.count(c.failed),
                f.count(c.detected),
                f.count(c.evicted),
                f.method.id().to_owned(),
            ]
        })
        .collect()
}

/// Several CSV files of one header as one file with a column `column` after the first (each
/// file's rows under its name, in order): a landscape's per-adversary comparison files.
pub fn with_column(column: &str, parts: &[(&str, Vec<u8>)]) -> Vec<u8> {
    let mut w = writer();
    let mut header_written = false;
    for (name, bytes) in parts {
        let bytes = bytes.strip_prefix(UTF8_BOM).unwrap_or(bytes);
        let mut r = csv::Reader::from_reader(bytes);
        if !header_written {
            let mut header: Vec<String> = (r.headers())
                .unwrap_or_else(|e| panic!("reading CSV written in memory cannot fail: {e}"))
                .iter()
                .map(str::to_owned)
                .collect();
            header.insert(1.min(header.len()), column.to_owned());
            record(&mut w, &header);
            header_written = true;
        }
        for row in r.records() {
            let row =
                row.unwrap_or_else(|e| panic!("reading CSV written in memory cannot fail: {e}"));
            let mut cells: Vec<String> = row.iter().map(str::to_owned).collect();
            cells.insert(1.min(cells.len()), text_cell(name));
            record(&mut w, &cells);
        }
    }
    finish(w)
}

#[cfg(test)]
mod tests {
    use super::super::folder::Table;
    use super::*;

    fn file(name: &str) -> Vec<u8> {
        let mut w = writer();
        record(&mut w, &["scenario", "seed"]);
        record(&mut w, &[name, "1"]);
        finish(w)
    }

    #[test]
    fn only_a_file_with_non_ascii_text_starts_with_the_mark_and_the_reader_skips_it() {
        assert_eq!(file("Acme"), b"scenario,seed\r\nAcme,1\r\n");
        let bytes = file("Société");
        assert_eq!(
            bytes,
            [UTF8_BOM, "scenario,seed\r\nSociété,1\r\n".as_bytes()].concat()
        );
        let t = Table::parse(&bytes).unwrap();
        assert_eq!(t.header, ["scenario", "seed"]);
        assert_eq!(t.rows, [["Société", "1"]]);
    }
}
