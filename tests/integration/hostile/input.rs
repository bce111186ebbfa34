//! Reading input: non-regular files, symlinks, sizes over the limit, quadratic diagnostics, terminal escapes, amounts beyond the bounds, lost stdout, bad numeric options.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use tempfile::TempDir;

use crate::support::{killchain, killchain_process};

const TINY: &str = "tests/data/valid/tiny.toml";
const LOSS: &str = "tests/data/valid/loss.toml";

/// tiny.toml with `extra` appended, written as `name` in a fresh folder.
fn tiny_with(dir: &TempDir, name: &str, extra: &str) -> PathBuf {
    let mut text = fs::read_to_string(TINY).unwrap();
    text.push_str(extra);
    let path = dir.path().join(name);
    fs::write(&path, text).unwrap();
    path
}

/// tiny.toml with `from` replaced by `to` (which must occur), written as `name`.
fn tiny_replacing(dir: &TempDir, name: &str, from: &str, to: &str) -> PathBuf {
    let text = fs::read_to_string(TINY).unwrap();
    assert!(text.contains(from), "{from}");
    let path = dir.path().join(name);
    fs::write(&path, text.replacen(from, to, 1)).unwrap();
    path
}

fn stderr_of(a: &assert_cmd::assert::Assert) -> String {
    String::from_utf8(a.get_output().stderr.clone()).unwrap()
}

/// Runs `killchain run SCENARIO --out OUT` and returns the result folder.
fn run_into(scenario: &str, out: &Path) -> PathBuf {
    killchain()
        .args(["run", scenario, "--trials", "2000", "--quiet", "--out"])
        .arg(out)
        .assert()
        .success();
    out.join(Path::new(scenario).file_stem().unwrap())
}

#[test]
fn forty_thousand_repeated_entries_are_diagnosed_at_once_capped_and_counted() {
    // Each problem's line:column was found by rescanning the file: 40,000 repeats took seconds
    // and printed 3 MB.
    let dir = TempDir::new().unwrap();
    let phases = vec!["\"delivery\""; 40_000].join(", ");
    let path = tiny_with(
        &dir,
        "repeats.toml",
        &format!(
            "\n[[controls]]\nid = \"many\"\naction = \"deny\"\nphases = [{phases}]\neffectiveness = 0.5\n"
        ),
    );
    let started = Instant::now();
    let a = killchain().arg("validate").arg(&path).assert().code(2);
    let took = started.elapsed();
    assert!(took < Duration::from_secs(3), "validation took {took:?}");
    let err = stderr_of(&a);
    let lines: Vec<&str> = err.lines().collect();
    let shown = killchain::scenario::SHOWN_PER_KIND;
    assert_eq!(lines.len(), shown + 1, "{err}");
    let p = path.display();
    // The control's line is the file's last but one, the first repeat at column 23.
    let line = fs::read_to_string(&path).unwrap().lines().count() - 1;
    assert_eq!(
        lines[0],
        format!("error: {p}:{line}:23: control \"many\": phases lists \"delivery\" twice")
    );
    assert_eq!(
        lines[1],
        format!("error: {p}:{line}:35: control \"many\": phases lists \"delivery\" twice")
    );
    assert_eq!(
        lines[shown],
        format!(
            "error: {p}: … and 39,949 more of the same kind (39,999 problems in this file in all)"
        )
    );
}

#[test]
fn devices_and_fifos_are_refused_at_once_with_the_limit_named() {
    // `validate /dev/zero` grew to 2.1 GB; a FIFO delivered any size.
    killchain()
        .args(["validate", "/dev/zero"])
        .timeout(Duration::from_secs(20))
        .assert()
        .code(2)
        .stdout("")
        .stderr(
            "error: /dev/zero: cannot read scenario file: it is a device, not a regular file; \
             give a regular file of at most 16 MiB\n",
        );
    let dir = TempDir::new().unwrap();
    let fifo = dir.path().join("pipe.toml");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    // No writer: the read would wait forever; a writer could send any size.
    killchain()
        .arg("validate")
        .arg(&fifo)
        .timeout(Duration::from_secs(20))
        .assert()
        .code(2)
        .stderr(format!(
            "error: {}: cannot read scenario file: it is a FIFO (named pipe), not a regular file; \
             give a regular file of at most 16 MiB\n",
            fifo.display()
        ));
}

#[test]
fn a_huge_tally_or_result_file_is_refused_by_its_size() {
    // tally.json and the CSV files `report` reads had no limit at all.
    let out = TempDir::new().unwrap();
    let folder = run_into(TINY, out.path());
    let tally = folder.join("tally.json");
    fs::File::create(&tally)
        .unwrap()
        .set_len(64 * 1024 * 1024 + 1)
        .unwrap();
    let a = killchain()
        .arg("merge")
        .arg(&folder)
        .arg("--out")
        .arg(out.path().join("merged"))
        .assert()
        .code(2);
    assert!(
        stderr_of(&a).contains(&format!(
            "{}: cannot read the shard's tally (shard tally is 67108865 bytes; at most 67108864 (64 MiB) are accepted)",
            tally.display()
        )),
        "{}",
        stderr_of(&a)
    );
    let csv = folder.join("techniques.csv");
    fs::File::options()
        .write(true)
        .open(&csv)
        .unwrap()
        .set_len(64 * 1024 * 1024 + 1)
        .unwrap();
    killchain()
        .arg("report")
        .arg(&folder)
        .assert()
        .code(2)
        .stderr(format!(
            "error: {}: result file is 67108865 bytes; at most 67108864 (64 MiB) are accepted\n",
            csv.display()
        ));
}

#[cfg(unix)]
#[test]
fn report_refuses_a_result_file_that_is_a_link() {
    // A techniques.csv linked to a secret file put the secret into results.xlsx.
    let out = TempDir::new().unwrap();
    let folder = run_into(TINY, out.path());
    let secret = out.path().join("secret.csv");
    fs::write(&secret, "technique,attempts\r\nthe-secret,1\r\n").unwrap();
    let csv = folder.join("techniques.csv");
    fs::remove_file(&csv).unwrap();
    std::os::unix::fs::symlink(&secret, &csv).unwrap();
    let before = crate::support::entries(&folder);
    killchain()
        .arg("report")
        .arg(&folder)
        .arg("--xlsx")
        .assert()
        .code(2)
        .stdout("")
        .stderr(format!(
            "error: {}: result file is a symbolic link; a result folder's files must be regular files, not links\n",
            csv.display()
        ));
    assert_eq!(crate::support::entries(&folder), before);
    assert!(!folder.join("results.xlsx").exists());
}

#[cfg(unix)]
#[test]
fn a_scenario_named_on_the_command_line_may_be_a_link() {
    let dir = TempDir::new().unwrap();
    let link = dir.path().join("current.toml");
    std::os::unix::fs::symlink(fs::canonicalize(TINY).unwrap(), &link).unwrap();
    killchain()
        .arg("validate")
        .arg(&link)
        .assert()
        .success()
        .stdout(format!(
            "ok: {} (8 techniques, 2 controls)\n",
            link.display()
        ));
}

#[test]
fn a_cost_near_the_largest_float_is_refused() {
    // Costs up to f64::MAX were accepted: sums became inf and ROSI NaN.
    let dir = TempDir::new().unwrap();
    let path = tiny_replacing(
        &dir,
        "cost.toml",
        "effectiveness = 0.4\nresponse = 0.5\n",
        "effectiveness = 0.4\nresponse = 0.5\ncost = 1e308\n",
    );
    refused_at(
        &path,
        "cost = 1e308",
        8,
        "control \"edr\": cost must be an amount in [0, 1e12] (annual cost), got 1e308",
    );
}

#[test]
fn report_refuses_an_infinite_loss_without_a_huge_allocation() {
    // `inf` in a loss_exceedance.csv made report abort on a 16 GiB allocation.
    let out = TempDir::new().unwrap();
    let folder = run_into(LOSS, out.path());
    let path = folder.join("loss_exceedance.csv");
    let text = fs::read_to_string(&path).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let header: Vec<&str> = lines[0].split(',').collect();
    let col = header.iter().position(|h| *h == "annual_loss").unwrap();
    let mut cells: Vec<String> = lines[2].split(',').map(str::to_owned).collect();
    cells[col] = "inf".into();
    lines[2] = cells.join(",");
    fs::write(&path, lines.join("\r\n") + "\r\n").unwrap();
    killchain()
        .arg("report")
        .arg(&folder)
        .timeout(Duration::from_secs(20))
        .assert()
        .code(2)
        .stderr(format!(
            "error: {}: loss_exceedance.csv: row 3, column \"annual_loss\": \"inf\" is not a finite number of magnitude at most 1e300\n",
            folder.display()
        ));
}

#[test]
fn terminal_escapes_in_a_name_and_in_a_bad_id_are_shown_not_sent() {
    // A scenario name with ESC ] 0; … BEL or ESC [2J was printed raw, and so were bad ids.
    let dir = TempDir::new().unwrap();
    let named = tiny_replacing(
        &dir,
        "named.toml",
        "name = \"Tiny\"",
        "name = \"Soci\u{e9}t\u{e9} \\u001b]0;owned\\u0007\\u001b[2J\"",
    );
    let out = TempDir::new().unwrap();
    let a = killchain()
        .arg("run")
        .arg(&named)
        .args(["--trials", "100", "--out"])
        .arg(out.path())
        .assert()
        .success();
    let stdout = String::from_utf8(a.get_output().stdout.clone()).unwrap();
    assert!(
        !stdout.contains('\u{1b}') && !stdout.contains('\u{7}'),
        "{stdout:?}"
    );
    assert!(
        stdout.contains("Société \\u{1b}]0;owned\\u{7}\\u{1b}[2J"),
        "{stdout}"
    );
    let bad = tiny_replacing(&dir, "bad.toml", "id = \"scan\"", "id = \"x\\u001b[2Jy\"");
    let a = killchain().arg("validate").arg(&bad).assert().code(2);
    let err = stderr_of(&a);
    assert!(!err.contains('\u{1b}'), "{err:?}");
    assert!(
        err.contains("technique id \"x\\u{1b}[2Jy\": an id may hold only letters"),
        "{err}"
    );
}

#[test]
fn terminal_escapes_in_a_command_line_argument_are_shown_not_sent() {
    // clap echoes a bad argument in its usage error; at a colour terminal it wrote it raw.
    // Its plain rendering drops escape sequences (ESC … BEL), and what is left of the control
    // characters is shown escaped.
    for (arg, shown) in [
        ("--bo\u{1b}]0;owned\u{7}gus", "--bogus"),
        ("--over\rwrite", "--over\\u{d}write"),
        ("--rtl\u{202e}txt", "--rtl\\u{202e}txt"),
    ] {
        let a = killchain()
            .env("CLICOLOR_FORCE", "1")
            .args(["run", arg])
            .assert()
            .code(2);
        let err = stderr_of(&a);
        assert!(!err.chars().any(|c| c.is_control() && c != '\n'), "{err:?}");
        assert!(
            err.starts_with(&format!("error: unexpected argument '{shown}' found\n")),
            "{err:?}"
        );
    }
}

#[cfg(target_os = "linux")]
#[test]
fn output_lost_on_a_full_device_is_a_failure() {
    // `killchain schema > /dev/full` (and validate, check, completions) exited 0.
    for args in [
        &["schema"][..],
        &["validate", TINY],
        &["completions", "bash"],
        &["check", TINY, "--trials", "200"],
    ] {
        let full = fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap();
        let out = killchain_process()
            .args(args)
            .stdout(Stdio::from(full))
            .stderr(Stdio::piped())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert_eq!(
            String::from_utf8(out.stderr).unwrap(),
            "error: cannot write to standard output: No space left on device (os error 28)\n",
            "{args:?}"
        );
    }
}

#[test]
fn a_z_bound_that_is_not_a_finite_positive_number_is_refused() {
    // `check --z-max nan` could never fail.
    for bad in ["nan", "inf", "0", "-1"] {
        let a = killchain()
            .args(["check", TINY, "--trials", "100"])
            .arg(format!("--z-max={bad}"))
            .assert()
            .code(2);
        let err = stderr_of(&a);
        assert!(
            err.contains(&format!(
                "`{bad}` is not a z bound; give a finite number above 0, e.g. 4"
            )),
            "{err}"
        );
    }
}

#[test]
fn an_empty_technique_list_on_a_control_is_refused() {
    // `techniques = []` was accepted and the control acted on nothing.
    let dir = TempDir::new().unwrap();
    let path = tiny_replacing(
        &dir,
        "empty.toml",
        "techniques = [\"phish\"]",
        "techniques = []",
    );
    refused_at(
        &path,
        "techniques = []",
        14,
        "control \"mail-filter\": techniques is empty, so the control would act on nothing; \
         omit `techniques` to act on every technique of its phases, or name at least one",
    );
}

/// `validate path` fails with status 2 and exactly one error, `message`, at column `column` of
/// the line of the file that reads `line_text`.
fn refused_at(path: &Path, line_text: &str, column: usize, message: &str) {
    let line = fs::read_to_string(path)
        .unwrap()
        .lines()
        .position(|l| l == line_text)
        .unwrap_or_else(|| panic!("no line {line_text:?} in {}", path.display()))
        + 1;
    killchain()
        .arg("validate")
        .arg(path)
        .assert()
        .code(2)
        .stderr(format!(
            "error: {}:{line}:{column}: {message}\n",
            path.display()
        ));
}

#[test]
fn an_io_error_names_its_path_once() {
    // "cannot create a file in DIR: Permission denied (os error 13) at path \"DIR/.phases.csv.X\"":
    // tempfile's own copy of the path is left out.
    let out = TempDir::new().unwrap();
    let blocker = out.path().join("tiny");
    fs::create_dir_all(blocker.join("phases.csv")).unwrap();
    let a = killchain()
        .args(["run", TINY, "--trials", "100", "--quiet", "--out"])
        .arg(out.path())
        .assert()
        .code(1);
    let err = stderr_of(&a);
    let folder = blocker.display().to_string();
    assert_eq!(err.matches(&folder).count(), 1, "{err}");
}
