//! Counts in the terminal's words agree with their number: "1 control", "1 trial",
//! "1 candidate", never "1 controls".

use std::fs;
use std::path::Path;

use tempfile::TempDir;

use crate::support::killchain;

const TINY: &str = "tests/data/valid/tiny.toml";

/// tiny.toml with only its first control (`mail-filter`), given a `cost` so that it is an
/// `optimize` candidate, saved as `dir/one.toml`.
fn one_control(dir: &Path) -> String {
    let text = fs::read_to_string(TINY).unwrap();
    let edr = text.rfind("[[controls]]").unwrap();
    assert!(text[edr..].contains("id = \"edr\""));
    let one = text[..edr].replacen(
        "effectiveness = 0.5\n",
        "effectiveness = 0.5\ncost = 10\n",
        1,
    );
    assert_eq!(one.matches("[[controls]]").count(), 1);
    let path = dir.join("one.toml");
    fs::write(&path, one).unwrap();
    path.to_string_lossy().into_owned()
}

/// The first line `args` print on stdout, with the exit status expected.
fn first_line(args: &[&str], code: i32) -> String {
    let out = killchain()
        .args(args)
        .assert()
        .code(code)
        .get_output()
        .stdout
        .clone();
    String::from_utf8(out)
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .to_owned()
}

#[test]
fn a_count_of_one_is_singular_in_every_command() {
    let dir = TempDir::new().unwrap();
    let path = one_control(dir.path());
    let out = dir.path().join("out");
    let out = out.to_str().unwrap();
    assert_eq!(
        first_line(&["validate", &path], 0),
        format!("ok: {path} (8 techniques, 1 control)")
    );
    let one = ["--trials", "1", "--threads", "1", "--out", out];
    fn with<'a>(command: &[&'a str], one: &[&'a str]) -> Vec<&'a str> {
        [command, one].concat()
    }
    assert_eq!(
        first_line(&with(&["run", &path], &one), 0),
        "Tiny — 1 trial, seed 7"
    );
    assert_eq!(
        first_line(&["exact", &path, "--trials", "1", "--out", out], 0),
        "Tiny — exact, as expected counts of 1 trial"
    );
    assert_eq!(
        first_line(
            &with(
                &[
                    "optimize",
                    &path,
                    "--budget",
                    "20",
                    "--method",
                    "monte-carlo"
                ],
                &one
            ),
            0
        ),
        "Tiny — 1 candidate, 2 portfolios evaluated (exhaustive), 1 trial, seed 7; \
         objective = completion rate"
    );
    assert_eq!(
        first_line(&with(&["optimize", &path, "--budget", "20"], &one), 0),
        "Tiny — 1 candidate, 2 portfolios evaluated (exhaustive), exact; objective = completion rate"
    );
    let shard = first_line(&with(&["run", &path, "--shard", "1/1"], &one), 0);
    assert!(
        shard.ends_with("; `killchain merge` of this one folder gives the run's files"),
        "{shard}"
    );
}
