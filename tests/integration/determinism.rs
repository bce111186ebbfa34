//! Same scenario + seed + trial count → byte-identical CSV at any thread count; and the CSV's
//! shape: header and column order as documented, parseable back with the csv crate.

use std::path::Path;

use crate::support::{killchain, manifest, records};

const SCENARIO: &str = "scenarios/saas-credential-phishing.toml";
const FILES: [&str; 3] = ["phases.csv", "controls.csv", "techniques.csv"];

fn run(out: &Path, extra: &[&str]) {
    run_seed(out, "77", extra);
}

fn run_seed(out: &Path, seed: &str, extra: &[&str]) {
    killchain()
        .args([
            "run", SCENARIO, "--quiet", "--trials", "300001", "--seed", seed,
        ])
        .arg("--out")
        .arg(out)
        .args(extra)
        .assert()
        .success();
}

fn read(out: &Path, file: &str) -> Vec<u8> {
    std::fs::read(out.join("saas-credential-phishing").join(file)).unwrap()
}

#[test]
fn thread_count_does_not_change_a_byte() {
    let dirs: Vec<_> = (0..4).map(|_| tempfile::tempdir().unwrap()).collect();
    run(dirs[0].path(), &["--threads", "1"]);
    run(dirs[1].path(), &["--threads", "2"]);
    run(dirs[2].path(), &["--threads", "8"]);
    run(dirs[3].path(), &["--threads", "2"]);
    for file in FILES {
        let first = read(dirs[0].path(), file);
        assert!(first.len() > 100, "{file} is nearly empty");
        for d in &dirs[1..] {
            assert!(first == read(d.path(), file), "{file} differs");
        }
    }
    let manifest = |d: &Path| manifest(&d.join("saas-credential-phishing"));
    assert_eq!(manifest(dirs[0].path()), manifest(dirs[2].path()));
}

#[test]
fn another_seed_gives_other_numbers() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    run(a.path(), &[]);
    run_seed(b.path(), "78", &[]);
    assert_ne!(read(a.path(), "phases.csv"), read(b.path(), "phases.csv"));
}

#[test]
fn csv_files_have_the_documented_columns_and_parse_back() {
    let dir = tempfile::tempdir().unwrap();
    run(dir.path(), &[]);
    let expect: [(&str, &[&str]); 3] = [
        (
            "phases.csv",
            &[
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
            ],
        ),
        (
            "controls.csv",
            &[
                "scenario",
                "control",
                "name",
                "action",
                "fired",
                "breaks",
                "break_share",
                "method",
            ],
        ),
        (
            "techniques.csv",
            &[
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
            ],
        ),
    ];
    for (file, header) in expect {
        let bytes = read(dir.path(), file);
        let mut r = csv::Reader::from_reader(bytes.as_slice());
        assert_eq!(r.headers().unwrap(), *header, "{file}");
        let rows: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
        assert!(!rows.is_empty());
        assert!(rows.iter().all(|row| row.len() == header.len()));
        assert!(std::str::from_utf8(&bytes).is_ok());
    }

    let rows = records(&read(dir.path(), "phases.csv"));
    assert_eq!(rows.len(), 7);
    let num = |row: &csv::StringRecord, i: usize| row[i].parse::<f64>().unwrap();
    let mut reached = 300001.0;
    let mut broken_total = 0.0;
    for (i, row) in rows.iter().enumerate() {
        assert_eq!(row[3], (i + 1).to_string());
        assert_eq!(num(row, 5), reached, "reached at phase {}", i + 1);
        let (b, p) = (num(row, 6), num(row, 7));
        assert_eq!(b + p, reached);
        let rate = num(row, 8);
        assert!((rate - b / reached).abs() <= 5e-7);
        assert!(num(row, 9) <= rate && rate <= num(row, 10));
        // Six decimals, plain numbers.
        assert_eq!(row[8].split('.').nth(1).map(str::len), Some(6));
        broken_total += b;
        reached = p;
    }
    assert_eq!(broken_total + reached, 300001.0);
}

/// Every shipped scenario validates and runs to a full set of reports.
#[test]
fn every_shipped_scenario_runs() {
    let out = tempfile::tempdir().unwrap();
    let mut n = 0;
    for entry in std::fs::read_dir("scenarios").unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "toml") {
            continue;
        }
        n += 1;
        killchain()
            .args(["run", "--quiet", "--trials", "20000", "--out"])
            .arg(out.path())
            .arg(&path)
            .assert()
            .success();
        let stem = path.file_stem().unwrap();
        let rows = records(&std::fs::read(out.path().join(stem).join("phases.csv")).unwrap());
        let s = crate::support::load(path.to_str().unwrap());
        assert_eq!(rows.len(), 7 * s.parts().len().max(1), "{}", path.display());
        // `reached` of the first phase: every trial (after an `adversary` column in a landscape).
        let reached = if s.is_landscape() { 6 } else { 5 };
        assert_eq!(&rows[0][reached], "20000");
    }
    assert!(
        n >= 3,
        "expected at least three shipped scenarios, found {n}"
    );
}

/// Attack paths are played trial by trial with the campaign's path state: the same bytes for
/// 1 and 2 threads, and three shards merged give the whole run.
#[test]
fn attack_paths_give_the_same_bytes_for_any_threads_or_shards() {
    const PATHS: &str = "tests/data/exact/paths.toml";
    let root = tempfile::tempdir().unwrap();
    let play = |dir: &str, extra: &[&str]| {
        let out = root.path().join(dir);
        killchain()
            .args(["run", PATHS, "--quiet", "--trials", "200003", "--seed", "5"])
            .arg("--out")
            .arg(&out)
            .args(extra)
            .assert()
            .success();
        out.join("paths")
    };
    let one = play("one", &["--threads", "1"]);
    let two = play("two", &["--threads", "2"]);
    let shards: Vec<_> = (1..=3)
        .map(|k| play(&format!("shard-{k}"), &["--shard", &format!("{k}/3")]))
        .collect();
    let merged = root.path().join("merged");
    killchain()
        .arg("merge")
        .args(&shards)
        .arg("--out")
        .arg(&merged)
        .arg("--quiet")
        .assert()
        .success();
    for file in FILES {
        let first = std::fs::read(one.join(file)).unwrap();
        assert!(first.len() > 100, "{file} is nearly empty");
        assert!(
            first == std::fs::read(two.join(file)).unwrap(),
            "{file}: threads"
        );
        assert!(
            first == std::fs::read(merged.join("paths").join(file)).unwrap(),
            "{file}: shards"
        );
    }
}
