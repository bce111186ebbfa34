//! A result folder's files as tables: what `report.html`, `navigator-layer.json` and
//! `results.xlsx` are rendered from, whichever command wrote them.
//!
//! The renderers read columns by name, so a file gains columns without breaking them, and a
//! file that is absent is simply not rendered.

use std::collections::BTreeMap;

/// The CSV files a result folder may hold, in the order they are rendered.
pub const CSV_FILES: [&str; 10] = [
    "phases.csv",
    "comparison.csv",
    "phase_deltas.csv",
    "controls.csv",
    "techniques.csv",
    "landscape.csv",
    "landscape_comparison.csv",
    "ranking.csv",
    "loss_exceedance.csv",
    "frontier.csv",
];

/// The columns of the CSV files that hold text; every other column holds numbers.
const TEXT_COLUMNS: [&str; 16] = [
    "scenario",
    "variant",
    "adversary",
    "phase",
    "technique",
    "attack",
    "control",
    "controls",
    "action",
    "name",
    "method",
    "currency",
    "enabled",
    "viable",
    "on_frontier",
    "portfolio",
];

/// The largest magnitude a number read from a result file may have. Every number killchain
/// writes is far below it (counts below 2^64, amounts bounded by the scenario's limits), and
/// the renderers never size anything by a number read from a file.
pub const MAX_CELL: f64 = 1e300;

/// The manifest `run`, `exact` and `merge` write.
pub const RUN_JSON: &str = "run.json";

/// What `optimize` writes beside `frontier.csv`: the budget, the best portfolio within it, the
/// next better one, the scenario as written, their paired differences and the provenance.
pub const OPTIMIZE_JSON: &str = "optimize.json";

/// One CSV file: its header and rows of text cells.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// Column names.
    pub header: Vec<String>,
    /// Rows, each as long as the header.
    pub rows: Vec<Vec<String>>,
}

impl Table {
    /// Parses CSV bytes (header row first).
    pub fn parse(bytes: &[u8]) -> Result<Table, String> {
        let mut reader = csv::ReaderBuilder::new().from_reader(bytes);
        let header = reader
            .headers()
            .map_err(|e| e.to_string())?
            .iter()
            .map(str::to_owned)
            .collect();
        let mut rows = Vec::new();
        for record in reader.records() {
            let record = record.map_err(|e| e.to_string())?;
            rows.push(record.iter().map(str::to_owned).collect());
        }
        Ok(Table { header, rows })
    }

    /// Checks that every cell of a numeric column (all but [`TEXT_COLUMNS`]) is empty or a
    /// finite number of magnitude at most [`MAX_CELL`]; the error names the row (the header is
    /// row 1) and the column.
    fn check_numbers(&self) -> Result<(), String> {
        let numeric: Vec<(usize, &String)> = self
            .header
            .iter()
            .enumerate()
            .filter(|(_, h)| !TEXT_COLUMNS.contains(&h.as_str()))
            .collect();
        for (r, row) in self.rows.iter().enumerate() {
            for &(c, name) in &numeric {
                let cell = row.get(c).map_or("", String::as_str);
                if cell.is_empty() {
                    continue;
                }
                match cell.parse::<f64>() {
                    Ok(x) if x.is_finite() && x.abs() <= MAX_CELL => {}
                    _ => {
                        return Err(format!(
                            "row {}, column \"{name}\": {cell:?} is not a finite number of magnitude at most 1e300",
                            r + 2
                        ));
                    }
                }
            }
        }
        Ok(())
    }

    /// The index of column `name`.
    pub fn col(&self, name: &str) -> Option<usize> {
        self.header.iter().position(|h| h == name)
    }

    /// A row's cell in column `name` (`""` when the column is absent).
    pub fn cell<'a>(&self, row: &'a [String], name: &str) -> &'a str {
        self.col(name)
            .and_then(|i| row.get(i))
            .map_or("", String::as_str)
    }

    /// A row's cell in column `name` as a number (`None` when empty, absent or not a number).
    pub fn num(&self, row: &[String], name: &str) -> Option<f64> {
        self.cell(row, name).parse().ok()
    }

    /// A row's text cell as the user wrote it: the `'` that guards against formulas in
    /// spreadsheets removed.
    pub fn text<'a>(&self, row: &'a [String], name: &str) -> &'a str {
        unguard(self.cell(row, name))
    }

    /// The rows grouped by `variant` (in order of first appearance); one group named
    /// `baseline` when the file has no such column.
    pub fn by_variant(&self) -> Vec<(String, Vec<&Vec<String>>)> {
        let mut groups: Vec<(String, Vec<&Vec<String>>)> = Vec::new();
        for row in &self.rows {
            let v = if self.col("variant").is_some() {
                self.text(row, "variant").to_owned()
            } else {
                crate::scenario::BASELINE.to_owned()
            };
            match groups.iter_mut().find(|(name, _)| *name == v) {
                Some((_, rows)) => rows.push(row),
                None => groups.push((v, vec![row])),
            }
        }
        groups
    }
}

/// A text cell without the leading `'` that `text_cell` adds before `=`, `+`, `-`, `@`, tab or
/// carriage return.
pub fn unguard(s: &str) -> &str {
    match s.strip_prefix('\'') {
        Some(rest) if rest.starts_with(['=', '+', '-', '@', '\t', '\r']) => rest,
        _ => s,
    }
}

/// The files of one result folder.
#[derive(Debug, Clone, Default)]
pub struct ResultFolder {
    /// Each CSV file present, by file name.
    pub tables: BTreeMap<String, Table>,
    /// `run.json`, when present.
    pub run: Option<serde_json::Value>,
    /// `optimize.json`, when present (an object).
    pub optimize: Option<serde_json::Value>,
    /// Facts about the run that no file of the folder states (for a comparison, which writes
    /// no run.json: the scenario files and their SHA-256), shown first in the provenance.
    pub facts: Vec<(&'static str, String)>,
}

impl ResultFolder {
    /// Reads the known files among `files` (name, bytes); other names are ignored.
    ///
    /// `run` and `compare` write to the same folder, so a folder may hold the files of both;
    /// `phases.csv` tells which wrote last (`compare` gives it a `variant` column), and the
    /// other's files are left out so that every part of a rendering describes the same run:
    /// `run.json` after a comparison, `comparison.csv` and `phase_deltas.csv` after a run.
    pub fn parse(files: &[(&str, &[u8])]) -> Result<ResultFolder, String> {
        let mut folder = Self::parse_all(files)?;
        if let Some(phases) = folder.tables.get("phases.csv") {
            if phases.col("variant").is_some() {
                folder.run = None;
            } else {
                folder.tables.remove("comparison.csv");
                folder.tables.remove("phase_deltas.csv");
            }
        }
        Ok(folder)
    }

    fn parse_all(files: &[(&str, &[u8])]) -> Result<ResultFolder, String> {
        let mut folder = ResultFolder::default();
        for (name, bytes) in files {
            if CSV_FILES.contains(name) {
                let table = Table::parse(bytes)
                    .and_then(|t| t.check_numbers().map(|()| t))
                    .map_err(|e| format!("{name}: {e}"))?;
                folder.tables.insert((*name).to_owned(), table);
            } else if *name == RUN_JSON {
                let value = serde_json::from_slice(bytes).map_err(|e| format!("{name}: {e}"))?;
                folder.run = Some(value);
            } else if *name == OPTIMIZE_JSON {
                let value: serde_json::Value =
                    serde_json::from_slice(bytes).map_err(|e| format!("{name}: {e}"))?;
                if !value.is_object() {
                    return Err(format!("{name}: not a JSON object"));
                }
                folder.optimize = Some(value);
            }
        }
        Ok(folder)
    }

    /// The table of file `name`, if present.
    pub fn table(&self, name: &str) -> Option<&Table> {
        self.tables.get(name)
    }

    /// Whether the folder holds anything to render.
    pub fn is_empty(&self) -> bool {
        self.tables.is_empty()
    }

    /// The scenario's name, from the first file that states it.
    pub fn scenario_name(&self) -> String {
        if let Some((_, name)) = self.facts.iter().find(|(label, _)| *label == "scenario") {
            return name.clone();
        }
        for json in [&self.run, &self.optimize] {
            if let Some(name) = json.as_ref().and_then(|r| r["scenario"].as_str()) {
                return name.to_owned();
            }
        }
        self.tables
            .values()
            .find_map(|t| t.rows.first().map(|r| t.text(r, "scenario").to_owned()))
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "killchain results".to_owned())
    }

    /// Provenance facts (label, value) for a footer: scenario file and hash, method, seed,
    /// trials, version, from run.json (or optimize.json, which also gives the budget) or,
    /// failing that, the CSV files.
    pub fn provenance(&self) -> Vec<(&'static str, String)> {
        let mut facts = self.facts.clone();
        if let Some(opt) = self.optimize.as_ref().filter(|_| self.run.is_none()) {
            let text = |key: &str| match &opt[key] {
                serde_json::Value::Null => None,
                serde_json::Value::String(s) => Some(s.clone()),
                other => Some(other.to_string()),
            };
            let currency = opt["currency"].as_str().unwrap_or("");
            let budget = opt["budget"]
                .as_f64()
                .filter(|b| b.is_finite() && b.abs() <= MAX_CELL)
                .map(|b| super::format::money_with(b, currency));
            for (label, key) in [
                ("scenario file", "scenario_file"),
                ("scenario SHA-256", "scenario_sha256"),
            ] {
                if let Some(v) = text(key) {
                    facts.push((label, v));
                }
            }
            facts.extend(budget.map(|b| ("budget", b)));
            for (label, key) in [
                ("search", "search"),
                ("method", "method"),
                ("seed", "seed"),
                ("trials", "trials"),
                ("killchain", "killchain_version"),
            ] {
                if let Some(v) = text(key) {
                    facts.push((label, v));
                }
            }
            return facts;
        }
        if let Some(run) = &self.run {
            let text = |key: &str| match &run[key] {
                serde_json::Value::Null => None,
                serde_json::Value::String(s) => Some(s.clone()),
                other => Some(other.to_string()),
            };
            for (label, key) in [
                ("scenario file", "scenario_file"),
                ("scenario SHA-256", "scenario_sha256"),
                ("method", "method"),
                ("seed", "seed"),
                ("trials", "trials"),
                ("killchain", "killchain_version"),
            ] {
                if let Some(v) = text(key) {
                    facts.push((label, v));
                }
            }
            return facts;
        }
        if let Some((t, row)) = self
            .tables
            .values()
            .find_map(|t| t.rows.first().map(|r| (t, r)))
        {
            for (label, key) in [("method", "method"), ("seed", "seed"), ("trials", "trials")] {
                let v = t.cell(row, key);
                if !v.is_empty() && !facts.iter().any(|(l, _)| *l == label) {
                    facts.push((label, v.to_owned()));
                }
            }
        }
        facts.push(("killchain", env!("CARGO_PKG_VERSION").to_owned()));
        facts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_read_by_column_name_and_unguard_text() {
        let t = Table::parse(b"scenario,variant,x\r\n'-s,a,1.5\r\n'-s,b,\r\n'-s,a,2\r\n").unwrap();
        assert_eq!(t.text(&t.rows[0], "scenario"), "-s");
        assert_eq!(t.num(&t.rows[0], "x"), Some(1.5));
        assert_eq!(t.num(&t.rows[1], "x"), None);
        assert_eq!(t.cell(&t.rows[0], "missing"), "");
        let groups = t.by_variant();
        assert_eq!(groups.len(), 2);
        assert_eq!(groups[0].0, "a");
        assert_eq!(groups[0].1.len(), 2);
        assert_eq!(unguard("'x"), "'x");
    }

    #[test]
    fn files_of_an_earlier_command_are_left_out() {
        let run_json: &[u8] = b"{\"scenario\": \"S\"}";
        let comparison: &[u8] = b"scenario,variant\r\nS,baseline\r\n";
        let after_run = ResultFolder::parse(&[
            ("phases.csv", b"scenario,seed\r\nS,1\r\n"),
            ("run.json", run_json),
            ("comparison.csv", comparison),
            ("phase_deltas.csv", comparison),
        ])
        .unwrap();
        assert!(after_run.run.is_some());
        assert_eq!(after_run.tables.keys().collect::<Vec<_>>(), ["phases.csv"]);
        let after_compare = ResultFolder::parse(&[
            ("phases.csv", b"scenario,variant,seed\r\nS,baseline,1\r\n"),
            ("run.json", run_json),
            ("comparison.csv", comparison),
        ])
        .unwrap();
        assert!(after_compare.run.is_none());
        assert_eq!(after_compare.tables.len(), 2);
    }

    #[test]
    fn numbers_that_are_not_finite_are_refused_with_row_and_column() {
        for bad in ["inf", "NaN", "1e999", "-inf", "2e300", "12abc"] {
            let csv = format!("scenario,annual_loss\r\nS,10\r\ninf,{bad}\r\n");
            let e = ResultFolder::parse(&[("loss_exceedance.csv", csv.as_bytes())]).unwrap_err();
            assert_eq!(
                e,
                format!(
                    "loss_exceedance.csv: row 3, column \"annual_loss\": \"{bad}\" is not a finite number of magnitude at most 1e300"
                )
            );
        }
        // Text columns may hold anything, a scenario named "inf" included.
        let ok =
            ResultFolder::parse(&[("loss_exceedance.csv", b"scenario,annual_loss\r\ninf,\r\n")]);
        assert!(ok.is_ok());
    }

    #[test]
    fn unknown_files_are_ignored_and_bad_json_is_named() {
        let f =
            ResultFolder::parse(&[("notes.txt", b"hello"), ("phases.csv", b"a\r\n1\r\n")]).unwrap();
        assert_eq!(f.tables.len(), 1);
        let e = ResultFolder::parse(&[("run.json", b"{")]).unwrap_err();
        assert!(e.starts_with("run.json: "), "{e}");
        let e = ResultFolder::parse(&[("optimize.json", b"[1]")]).unwrap_err();
        assert_eq!(e, "optimize.json: not a JSON object");
        let f = ResultFolder::parse(&[(
            "optimize.json",
            b"{\"scenario\": \"S\", \"budget\": 1500.5, \"currency\": \"EUR\", \"seed\": 7}",
        )])
        .unwrap();
        assert_eq!(f.scenario_name(), "S");
        let facts = f.provenance();
        assert!(
            facts.contains(&("budget", "1,501 EUR".to_owned())),
            "{facts:?}"
        );
        assert!(facts.contains(&("seed", "7".to_owned())), "{facts:?}");
    }
}
