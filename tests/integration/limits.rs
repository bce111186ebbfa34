//! The limits on what killchain accepts, each refused with a clear message and exit status 2
//! before anything is written: file size, techniques per phase, and the numeric options.

use std::fmt::Write as _;
use std::fs;

use predicates::prelude::*;
use tempfile::TempDir;

use crate::support::{killchain, refused};

const TINY: &str = "tests/data/valid/tiny.toml";

#[test]
fn a_file_over_16_mib_is_refused_before_it_is_read() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("big.toml");
    // Sparse: the size is checked before any byte is read.
    fs::File::create(&path)
        .unwrap()
        .set_len(16 * 1024 * 1024 + 1)
        .unwrap();
    let out = dir.path().join("out");
    killchain()
        .args(["run"])
        .arg(&path)
        .arg("--out")
        .arg(&out)
        .assert()
        .code(2)
        .stdout("")
        .stderr(format!(
            "error: {}: scenario file is 16777217 bytes; at most 16777216 (16 MiB) are accepted\n",
            path.display()
        ));
    assert!(!out.exists());
}

#[test]
fn a_file_of_exactly_16_mib_is_accepted() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("padded.toml");
    let mut text = fs::read_to_string(TINY).unwrap();
    let limit = 16 * 1024 * 1024;
    text.push('#');
    text.push_str(&" ".repeat(limit - text.len() - 1));
    text.push('\n');
    assert_eq!(text.len(), limit);
    fs::write(&path, text).unwrap();
    killchain()
        .arg("validate")
        .arg(&path)
        .assert()
        .success()
        .stdout(predicate::str::ends_with("(8 techniques, 2 controls)\n"));
}

#[test]
fn more_than_64_techniques_in_a_phase_are_refused() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("many.toml");
    let mut text = fs::read_to_string(TINY).unwrap();
    for i in 0..64 {
        let _ = write!(
            text,
            "\n[[adversary.techniques]]\nid = \"scan{i}\"\nphase = \"reconnaissance\"\nsuccess = 0.5\n"
        );
    }
    fs::write(&path, text).unwrap();
    killchain()
        .arg("validate")
        .arg(&path)
        .assert()
        .code(2)
        .stdout("")
        .stderr(format!(
            "error: {}:11:1: phase \"reconnaissance\" has 65 techniques; at most 64 are supported\n",
            path.display()
        ));
}

/// `killchain run tiny.toml ARGS` is a usage error with this first line, and writes nothing.
fn usage_error(args: &[&str], first_line: &str) {
    refused(["run", TINY].iter().chain(args))
        .stdout("")
        .stderr(predicate::str::starts_with(format!("{first_line}\n")));
}

/// `killchain run tiny.toml ARGS` is a usage error with exactly this stderr, and writes nothing.
fn usage_error_exactly(args: &[&str], stderr: &str) {
    refused(["run", TINY].iter().chain(args))
        .stdout("")
        .stderr(stderr.to_owned());
}

#[test]
fn a_trial_count_beyond_u64_is_a_usage_error() {
    usage_error(
        &["--trials", "18446744073709551616"],
        "error: invalid value '18446744073709551616' for '--trials <N>': number too large to fit in target type",
    );
}

#[test]
fn zero_trials_on_the_command_line_is_a_usage_error() {
    usage_error_exactly(
        &["--trials", "0"],
        "error: invalid value '0' for '--trials <N>': 0 is not in 1..18446744073709551615\n\
         \n\
         For more information, try '--help'.\n",
    );
}

#[test]
fn zero_threads_on_the_command_line_is_a_usage_error() {
    usage_error_exactly(
        &["--threads", "0"],
        "error: invalid value '0' for '--threads <T>': 0 is not in 1..=65535\n\
         \n\
         For more information, try '--help'.\n",
    );
}

#[test]
fn more_threads_than_65535_is_a_usage_error() {
    usage_error(
        &["--threads", "65536"],
        "error: invalid value '65536' for '--threads <T>': 65536 is not in 1..=65535",
    );
}

/// Small inputs kept from fuzzing `Scenario::from_toml` (see `fuzz/`): each goes through
/// `validate` (exit 0 or 2, never a panic) and, when valid UTF-8, through the library as the
/// fuzz target does: parse, and for a valid scenario and each variant, exact evaluation and a
/// few simulated trials.
#[test]
fn fuzzed_inputs_are_accepted_or_refused_never_a_crash() {
    let mut paths: Vec<_> = fs::read_dir("tests/data/fuzz")
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    paths.sort();
    assert!(paths.len() >= 10, "{paths:?}");
    let mut valid = 0;
    for path in &paths {
        let output = killchain().arg("validate").arg(path).output().unwrap();
        let code = output.status.code();
        assert!(
            matches!(code, Some(0 | 2)),
            "{}: exit {code:?}\n{}",
            path.display(),
            String::from_utf8_lossy(&output.stderr)
        );
        let Ok(source) = String::from_utf8(fs::read(path).unwrap()) else {
            continue;
        };
        let shown = path.display().to_string();
        let Ok(s) = killchain::scenario::Scenario::from_toml(&source, &shown) else {
            assert_eq!(code, Some(2), "{shown}");
            continue;
        };
        assert_eq!(code, Some(0), "{shown}");
        valid += 1;
        for arm in std::iter::once(&s).chain(s.variants.iter().map(|v| &v.scenario)) {
            let _ = killchain::exact::evaluate(arm);
            let plan = killchain::engine::Plan::new(arm);
            assert_eq!(killchain::engine::run_range(&plan, 1, 0..64).trials, 64);
        }
    }
    assert!(valid >= 1, "no fuzzed input is a valid scenario");
}
