//! One range of seeds everywhere: 0 to 2^63 − 1 (the largest TOML integer) in a scenario file,
//! on the command line and in the schema, and every other seed refused in the same words.

use std::fs;
use std::path::Path;

use tempfile::TempDir;

use crate::support::{diagnostics, killchain, read_files, refused};

const TINY: &str = "tests/data/valid/tiny.toml";
const LARGEST: &str = "9223372036854775807";
const RULE: &str = "seed must be an integer from 0 to 9223372036854775807";
const FILES: [&str; 3] = ["phases.csv", "controls.csv", "techniques.csv"];

/// tiny.toml with its `seed = 7` line written as `seed = SEED`, saved as `dir/tiny.toml`.
fn tiny_with_seed(dir: &Path, seed: &str) -> String {
    let text = fs::read_to_string(TINY).unwrap();
    assert!(text.contains("\nseed = 7\n"));
    let path = dir.join("tiny.toml");
    fs::write(
        &path,
        text.replacen("\nseed = 7\n", &format!("\nseed = {seed}\n"), 1),
    )
    .unwrap();
    path.to_string_lossy().into_owned()
}

/// The CSV files of `run PATH --trials 2000 EXTRA...`.
fn run_files(path: &str, extra: &[&str]) -> Vec<Vec<u8>> {
    let out = TempDir::new().unwrap();
    killchain()
        .args(["run", path, "--quiet", "--trials", "2000", "--threads", "2"])
        .args(extra)
        .arg("--out")
        .arg(out.path())
        .assert()
        .code(0);
    read_files(&out.path().join("tiny"), &FILES)
}

#[test]
fn the_largest_seed_gives_the_same_results_from_the_file_and_the_command_line() {
    let dir = TempDir::new().unwrap();
    let in_file = tiny_with_seed(dir.path(), LARGEST);
    let from_file = run_files(&in_file, &[]);
    let from_flag = run_files(TINY, &["--seed", LARGEST]);
    assert_eq!(from_file, from_flag);
    // The seed reached the run: another seed gives other counts.
    assert_ne!(
        from_file,
        run_files(TINY, &["--seed", "9223372036854775806"])
    );
}

#[test]
fn a_seed_beyond_the_range_is_refused_on_the_command_line_in_the_files_words() {
    for seed in [
        "9223372036854775808",
        "18446744073709551615",
        "-1",
        "1.5",
        "x",
    ] {
        let flag = format!("--seed={seed}");
        let stderr = refused(["run", TINY, "--quiet", &flag])
            .get_output()
            .stderr
            .clone();
        let stderr = String::from_utf8(stderr).unwrap();
        assert!(
            stderr.starts_with(&format!(
                "error: invalid value '{seed}' for '--seed <S>': {RULE}\n"
            )),
            "{stderr}"
        );
    }
}

/// Every kind of value the file may hold where a seed belongs, and what `validate` says of it,
/// with the seed's line and column.
#[test]
fn a_seed_outside_the_range_in_a_file_is_refused_with_its_place() {
    let dir = TempDir::new().unwrap();
    for (seed, shown) in [
        ("9223372036854775808", "9223372036854775808"),
        ("18446744073709551616", "18446744073709551616"),
        ("-1", "-1"),
        ("-9223372036854775809", "-9223372036854775809"),
        ("7.5", "7.5"),
        ("7e0", "7.0"),
        ("\"7\"", "the string \"7\""),
        ("true", "true"),
        ("[7]", "an array"),
        ("{ value = 7 }", "a table"),
        ("2026-01-01", "a date-time"),
    ] {
        let path = tiny_with_seed(dir.path(), seed);
        killchain()
            .args(["validate", &path])
            .assert()
            .code(2)
            .stdout("")
            .stderr(diagnostics(&path, &[&format!("5:8: {RULE}, got {shown}")]));
    }
    // The run refuses the file before writing anything, even with a valid `--seed`.
    let path = tiny_with_seed(dir.path(), "9223372036854775808");
    refused(["run", &path, "--quiet", "--seed", "7"]).stderr(diagnostics(
        &path,
        &[&format!("5:8: {RULE}, got 9223372036854775808")],
    ));
}

/// The schema states the same range: the largest seed is accepted, one more is refused.
#[test]
fn the_schema_states_the_range() {
    let out = killchain().arg("schema").output().unwrap();
    let schema: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let seed = &schema["$defs"]["Seed"];
    assert_eq!(seed["type"], "integer");
    assert_eq!(seed["minimum"], 0);
    assert_eq!(seed["maximum"], serde_json::json!(i64::MAX));
    assert_eq!(
        schema["$defs"]["RawMeta"]["properties"]["seed"]["$ref"],
        "#/$defs/Seed"
    );
    let validator = jsonschema::draft202012::new(&schema).unwrap();
    let text = fs::read_to_string(TINY).unwrap();
    let mut file: serde_json::Value =
        serde_json::to_value(toml::from_str::<toml::Value>(&text).unwrap()).unwrap();
    file["scenario"]["seed"] = serde_json::json!(i64::MAX as u64);
    assert!(validator.is_valid(&file));
    file["scenario"]["seed"] = serde_json::json!(i64::MAX as u64 + 1);
    assert!(!validator.is_valid(&file));
    file["scenario"]["seed"] = serde_json::json!(-1);
    assert!(!validator.is_valid(&file));
}
