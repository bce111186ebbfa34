//! CSV injection: every cell that comes from the scenario file (names, ids, variant names, file
//! stems) and begins with `=`, `+`, `-`, `@`, tab or carriage return is written with a leading
//! `'`, in every CSV of every command; numbers (negative differences) are left as numbers.

use std::fs;
use std::path::Path;

use tempfile::TempDir;

use crate::support::{killchain, validate_rejects};

const SCENARIO: &str = "tests/data/formula/formula.toml";

/// Every cell of every CSV file under `dir`, parsed back, with its file name.
fn cells(dir: &Path) -> Vec<(String, String)> {
    let mut all = Vec::new();
    let mut paths: Vec<_> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    paths.sort();
    for path in paths {
        if let Some(sub) = path.is_dir().then_some(&path) {
            all.extend(cells(sub));
            continue;
        }
        if path.extension().is_none_or(|e| e != "csv") {
            continue;
        }
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let mut reader = csv::Reader::from_path(&path).unwrap();
        for record in reader.records() {
            for cell in &record.unwrap() {
                all.push((name.clone(), cell.to_owned()));
            }
        }
    }
    all
}

/// No cell of any CSV under `dir` can start a formula; returns the cells for further checks.
fn assert_neutral(dir: &Path) -> Vec<(String, String)> {
    let all = cells(dir);
    assert!(!all.is_empty(), "no CSV under {}", dir.display());
    for (file, cell) in &all {
        if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
            assert!(
                cell.parse::<f64>().is_ok(),
                "{file}: cell {cell:?} would start a formula"
            );
        }
    }
    all
}

fn has(all: &[(String, String)], file: &str, cell: &str) {
    assert!(
        all.iter().any(|(f, c)| f == file && c == cell),
        "{file} has no cell {cell:?}"
    );
}

#[test]
fn run_and_exact_neutralise_every_text_cell() {
    for command in ["run", "exact"] {
        let out = TempDir::new().unwrap();
        killchain()
            .args([command, SCENARIO, "--quiet", "--out"])
            .arg(out.path())
            .assert()
            .success();
        let all = assert_neutral(out.path());
        let name = "'=HYPERLINK(\"http://example.invalid\",\"click\")";
        for file in ["phases.csv", "controls.csv", "techniques.csv"] {
            has(&all, file, name);
        }
        for cell in [
            "'-scan",
            "'=1+1",
            "'+build",
            "'-phish",
            "'@SUM(A1:A9)",
            "'\tpersist",
            "'\rbeacon",
        ] {
            has(&all, "techniques.csv", cell);
        }
        for cell in ["'-filter", "'=filter", "'\t@edr"] {
            has(&all, "controls.csv", cell);
        }
    }
}

#[test]
fn compare_and_rank_neutralise_every_text_cell() {
    for method in ["monte-carlo", "exact"] {
        let out = TempDir::new().unwrap();
        killchain()
            .args(["compare", SCENARIO, "--quiet", "--method", method, "--out"])
            .arg(out.path())
            .assert()
            .success();
        killchain()
            .args(["rank", SCENARIO, "--quiet", "--method", method, "--out"])
            .arg(out.path())
            .assert()
            .success();
        let all = assert_neutral(out.path());
        for file in ["phases.csv", "comparison.csv", "phase_deltas.csv"] {
            has(&all, file, "'-with-sandbox");
        }
        for cell in ["'-filter", "edr", "sandbox"] {
            has(&all, "ranking.csv", cell);
        }
    }
}

#[test]
fn a_second_scenario_file_named_like_a_formula_is_neutralised() {
    let out = TempDir::new().unwrap();
    let second = out.path().join("@second.toml");
    fs::copy(SCENARIO, &second).unwrap();
    killchain()
        .args(["compare", SCENARIO])
        .arg(&second)
        .args(["--quiet", "--out"])
        .arg(out.path())
        .assert()
        .success();
    let all = assert_neutral(out.path());
    has(&all, "comparison.csv", "'@second");
}

#[test]
fn ids_that_would_start_a_formula_are_rejected() {
    let path = "tests/data/invalid/id_formula.toml";
    validate_rejects(
        path,
        &[
            "9:6: technique id \"=cmd\": an id may hold only letters, digits, '.', '_' and '-'",
            "44:6: control id \"@edr\": an id may hold only letters, digits, '.', '_' and '-'",
        ],
    );
}
