//! `killchain init` and the shipped scenarios as starting points: the template validates (also
//! against the schema) and `run`, `compare`, `rank`, `optimize` and `check` use it as written; an
//! existing file is never replaced without `--force`; every shipped scenario has variants, costs
//! on its candidate controls and a `[loss]` table whose numbers carry a source or "assumption".

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

use predicates::prelude::*;
use tempfile::TempDir;

use killchain::phase::{CourseOfAction, Phase};
use killchain::scenario::Scenario;

use crate::support::{Csv, killchain, load};

/// `killchain init PATH` in a fresh folder; the folder and the file's path.
fn init_file() -> (TempDir, std::path::PathBuf) {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("acme.toml");
    killchain()
        .arg("init")
        .arg(&path)
        .assert()
        .success()
        .stdout(predicate::str::contains(format!(
            "wrote {}; next: killchain validate",
            path.display()
        )));
    (dir, path)
}

/// The template as standard output gives it.
fn template() -> String {
    let out = killchain().args(["init", "-"]).output().unwrap();
    assert!(out.status.success());
    assert!(out.stderr.is_empty());
    String::from_utf8(out.stdout).unwrap()
}

/// Controls a buyer would decide on: those written disabled, and those a variant switches on.
fn candidates(s: &Scenario) -> BTreeSet<String> {
    let mut ids: BTreeSet<String> = s
        .controls
        .iter()
        .filter(|c| !c.enabled)
        .map(|c| c.id.clone())
        .collect();
    for v in &s.variants {
        for (base, changed) in s.controls.iter().zip(&v.scenario.controls) {
            if changed.enabled && !base.enabled {
                ids.insert(base.id.clone());
            }
        }
    }
    ids
}

/// The lines of `[loss]` (from its header to the next table) of a scenario file's text.
fn loss_lines(text: &str) -> Vec<&str> {
    text.lines()
        .skip_while(|l| l.trim() != "[loss]")
        .skip(1)
        .take_while(|l| !l.trim_start().starts_with('['))
        .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        .collect()
}

#[test]
fn the_template_has_every_section_a_technique_per_phase_and_each_course_of_action() {
    let text = template();
    for section in [
        "[scenario]",
        "[environment]",
        "[adversary]",
        "[[adversary.techniques]]",
        "[[controls]]",
        "[loss]",
        "[[variants]]",
    ] {
        assert!(
            text.lines().any(|l| l.trim() == section),
            "no {section} in the template"
        );
    }
    let s = Scenario::from_toml(&text, "template").unwrap();
    for phase in Phase::ALL {
        let techniques: Vec<_> = s.techniques_in(phase).collect();
        assert_eq!(techniques.len(), 1, "{phase:?}");
        assert!(
            techniques[0].1.attack.is_some(),
            "{phase:?} has no ATT&CK id"
        );
    }
    let actions: Vec<CourseOfAction> = s.controls.iter().map(|c| c.action).collect();
    for action in CourseOfAction::ENGINE_ORDER {
        assert_eq!(
            actions.iter().filter(|a| **a == action).count(),
            1,
            "{action:?} in {actions:?}"
        );
    }
    assert!(
        s.controls.iter().all(|c| c.cost.is_some()),
        "a control without a cost"
    );
    assert!(
        s.controls.iter().any(|c| !c.enabled),
        "no candidate purchase"
    );
    assert!(!s.variants.is_empty());
    assert!(s.loss.is_some());
    // Every number the user must replace is marked: each line that assigns a number (not a
    // string such as an ATT&CK id) outside the variants carries "assumption:" in its comment.
    let body = text.split("[[variants]]").next().unwrap();
    let mut numbers = 0;
    for line in body.lines().filter(|l| !l.trim_start().starts_with('#')) {
        let Some((_, value)) = line.split('#').next().unwrap().split_once('=') else {
            continue;
        };
        let value = value.trim();
        if !value.starts_with('"') && value.chars().any(|c| c.is_ascii_digit()) {
            numbers += 1;
            assert!(line.contains("# assumption:"), "unmarked number: {line}");
        }
    }
    assert!(numbers >= 20, "only {numbers} numbers found");
}

#[test]
fn init_writes_a_file_that_validates_and_every_command_uses_as_it_is() {
    let (dir, path) = init_file();
    assert_eq!(fs::read_to_string(&path).unwrap(), template());
    killchain()
        .arg("validate")
        .arg(&path)
        .assert()
        .success()
        .stdout(predicate::str::contains("(7 techniques, 6 controls)"));

    let out = dir.path().join("out");
    let common = |cmd: &str| {
        let mut c = killchain();
        c.arg(cmd)
            .arg(&path)
            .args(["--trials", "20000", "--quiet", "--out"])
            .arg(&out);
        c
    };
    common("run").assert().success();
    let run = crate::support::manifest(&out.join("acme"));
    let completion = run["completion_rate"].as_f64().unwrap();
    assert!(completion > 0.0 && completion < 0.1, "{completion}");
    assert!(run["loss"]["expected_annual_loss"].as_f64().unwrap() > 0.0);

    common("compare").arg("--report").assert().success();
    let comparison = Csv::read(&out.join("acme").join("comparison.csv"));
    let variants = comparison.column("variant");
    assert_eq!(
        variants,
        [
            "baseline",
            "add-training",
            "add-edr",
            "training-and-edr",
            "stricter-filtering"
        ]
    );
    // Each candidate lowers the completion rate, and the money columns are filled.
    for (i, delta) in comparison.numbers("delta").iter().enumerate().skip(1) {
        assert!(*delta < 0.0, "{}: {delta}", variants[i]);
        assert!(!comparison.get(i, "rosi").is_empty(), "{}", variants[i]);
    }

    common("rank").assert().success();
    assert_eq!(
        Csv::read(&out.join("acme").join("ranking.csv"))
            .column("control")
            .len(),
        6
    );

    common("optimize")
        .args(["--budget", "100000"])
        .assert()
        .success();
    let frontier = Csv::read(&out.join("acme").join("frontier.csv"));
    assert!(frontier.column("annual_cost").len() >= 2);

    killchain()
        .arg("check")
        .arg(&path)
        .args(["--trials", "50000"])
        .assert()
        .success()
        .stdout(predicate::str::contains("the methods agree"));
}

#[test]
fn the_template_validates_against_the_schema() {
    let schema = killchain().arg("schema").output().unwrap();
    let schema: serde_json::Value = serde_json::from_slice(&schema.stdout).unwrap();
    let validator = jsonschema::draft202012::new(&schema).unwrap();
    let value: toml::Value = toml::from_str(&template()).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&serde_json::to_value(value).unwrap())
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
}

#[test]
fn init_never_replaces_a_file_without_force() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("mine.toml");
    fs::write(&path, "my own work\n").unwrap();
    killchain()
        .arg("init")
        .arg(&path)
        .assert()
        .code(2)
        .stdout("")
        .stderr(format!(
            "error: {} already exists; give --force to replace it, or another path\n",
            path.display()
        ));
    assert_eq!(fs::read_to_string(&path).unwrap(), "my own work\n");
    // Nothing else is left beside it (no temporary file).
    assert_eq!(crate::support::entries(dir.path()), ["mine.toml"]);

    // A folder is not a file, with --force or not.
    killchain()
        .arg("init")
        .arg(dir.path())
        .arg("--force")
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "is a folder; give the path of a file",
        ));

    killchain()
        .arg("init")
        .arg(&path)
        .args(["--force", "--quiet"])
        .assert()
        .success()
        .stdout("");
    assert_eq!(fs::read_to_string(&path).unwrap(), template());
    assert_eq!(crate::support::entries(dir.path()), ["mine.toml"]);

    // The file gets the permissions of any file the user creates (the umask's), not the
    // owner-only ones of a temporary file.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let plain = dir.path().join("plain");
        fs::write(&plain, "").unwrap();
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        let fresh = dir.path().join("fresh.toml");
        killchain().arg("init").arg(&fresh).assert().success();
        assert_eq!(mode(&fresh), mode(&plain));
    }
}

#[test]
fn init_without_a_path_writes_scenario_toml_in_the_current_folder() {
    let dir = TempDir::new().unwrap();
    killchain()
        .arg("init")
        .current_dir(dir.path())
        .assert()
        .success();
    assert_eq!(
        fs::read_to_string(dir.path().join("scenario.toml")).unwrap(),
        template()
    );
    killchain()
        .arg("init")
        .current_dir(dir.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("scenario.toml already exists"));
}

#[test]
fn every_shipped_scenario_has_variants_loss_and_costs_on_its_candidates() {
    let mut files: Vec<_> = fs::read_dir("scenarios")
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    assert_eq!(files.len(), 4, "{files:?}");
    for path in &files {
        let shown = path.display().to_string();
        let s = load(&shown);
        assert!(s.variants.len() >= 2, "{shown}: fewer than two variants");
        assert!(s.loss.is_some(), "{shown}: no [loss]");
        let candidates = candidates(&s);
        assert!(!candidates.is_empty(), "{shown}: no candidate purchase");
        for id in &candidates {
            let c = s.controls.iter().find(|c| &c.id == id).unwrap();
            assert!(c.cost.is_some(), "{shown}: candidate {id} has no cost");
        }
        // Every variant changes something a buyer pays for or a fact it changes.
        for v in &s.variants {
            assert_ne!(
                v.scenario.controls, s.controls,
                "{shown}: {} changes no control",
                v.name
            );
        }
        // Every number of [loss] says where it comes from.
        let text = fs::read_to_string(path).unwrap();
        let lines = loss_lines(&text);
        assert!(lines.len() >= 2, "{shown}: {lines:?}");
        for line in lines {
            if line.chars().any(|c| c.is_ascii_digit()) {
                assert!(
                    line.contains('#'),
                    "{shown}: [loss] line without a source: {line}"
                );
            }
        }
    }
}

#[test]
fn compare_and_money_figures_work_on_every_shipped_scenario() {
    for path in [
        "scenarios/saas-credential-phishing.toml",
        "scenarios/industrial-state-actor.toml",
    ] {
        let out = TempDir::new().unwrap();
        let assert = killchain()
            .args(["compare", path, "--trials", "20000", "--out"])
            .arg(out.path())
            .assert()
            .success();
        let text = String::from_utf8_lossy(&assert.get_output().stdout).into_owned();
        assert!(text.contains("expected annual loss"), "{path}: {text}");
        let stem = Path::new(path).file_stem().unwrap();
        let comparison = Csv::read(&out.path().join(stem).join("comparison.csv"));
        assert!(comparison.column("variant").len() >= 3, "{path}");
        assert!(
            comparison.numbers("expected_annual_loss")[0] > 0.0,
            "{path}"
        );
    }
}

/// `--force` replaces a file, never a FIFO (or a device) a rename would put a regular file in
/// place of; a folder that does not exist is named once, without the temporary file's path.
#[cfg(unix)]
#[test]
fn init_replaces_only_a_regular_file_and_names_a_missing_folder_once() {
    use std::os::unix::fs::FileTypeExt;
    let dir = TempDir::new().unwrap();
    let fifo = dir.path().join("pipe.toml");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    killchain()
        .arg("init")
        .arg(&fifo)
        .arg("--force")
        .assert()
        .code(2)
        .stderr(format!(
            "error: {} is not a regular file, so --force does not replace it; give the path of a file\n",
            fifo.display()
        ));
    assert!(fs::symlink_metadata(&fifo).unwrap().file_type().is_fifo());
    assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);

    let missing = dir.path().join("no-such-folder/x.toml");
    killchain()
        .arg("init")
        .arg(&missing)
        .assert()
        .code(1)
        .stderr(format!(
            "error: cannot write {}: No such file or directory (os error 2)\n",
            missing.display()
        ));
}
