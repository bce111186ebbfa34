//! Helpers every test module shares: the binary under test and the paths of fixtures.

use assert_cmd::Command;

/// The `killchain` binary built for this test run, started in the crate's root so that the
/// fixtures' relative paths (and the `scenario_file` written into run.json) are the same on
/// every machine.
pub fn killchain() -> Command {
    let mut cmd = assert_cmd::cargo::cargo_bin_cmd!("killchain");
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"));
    cmd
}

/// `tests/data/invalid/KIND.toml`.
pub fn invalid(kind: &str) -> String {
    format!("tests/data/invalid/{kind}.toml")
}
