//! The `killchain` binary end to end: exit statuses, the exact text of every scenario-file
//! diagnostic (file, line, column, offending id), and what `run` leaves on disk.
//!
//! Fixtures live in `tests/data/invalid/` (one problem each, otherwise valid) and
//! `tests/data/valid/`. Paths are given relative to the package root, where cargo runs tests, so
//! the pinned messages show them exactly as typed.

use std::fs;
use std::path::Path;

use predicates::prelude::*;
use tempfile::TempDir;

use crate::support::{entries, invalid, killchain, refused, validate_rejects};

/// The list of phases every unknown-phase message ends with.
const PHASES: &str = "reconnaissance, weaponization, delivery, exploitation, installation, \
                      command_and_control, actions_on_objectives";

/// The keys a `[[adversary.techniques]]` table accepts, as serde lists them.
const TECHNIQUE_KEYS: &str =
    "`id`, `phase`, `name`, `attack`, `weight`, `success`, `requires`, `after`";

/// Runs `killchain run ARGS --out <fresh dir>`, asserts exit status 2, empty stdout, exactly
/// `stderr`, and that nothing at all was written under the output folder.
fn run_rejects(args: &[&str], stderr: &str) {
    refused(["run"].iter().chain(args))
        .stdout("")
        .stderr(stderr.to_owned());
}

/// Asserts that `run` and `validate` both reject `kind`'s fixture with exit status 2 and
/// exactly these diagnostics (one `error: ` line each, in this order), and `run` writes nothing.
fn rejects(kind: &str, diagnostics: &[&str]) {
    let path = invalid(kind);
    run_rejects(&[&path], &crate::support::diagnostics(&path, diagnostics));
    validate_rejects(&path, diagnostics);
}

// ---------------------------------------------------------------- one fixture per kind of problem

#[test]
fn toml_syntax_error_points_at_where_the_equals_sign_belongs() {
    rejects("toml_syntax", &["43:9: key with no value, expected `=`"]);
}

#[test]
fn unknown_key_is_rejected_with_the_valid_keys() {
    rejects(
        "unknown_key",
        &[&format!(
            "43:1: unknown field `colour`, expected one of {TECHNIQUE_KEYS}"
        )],
    );
}

#[test]
fn misspelt_key_gets_a_suggestion() {
    rejects(
        "misspelt_key",
        &[&format!(
            "43:1: unknown field `sucess`, expected one of {TECHNIQUE_KEYS}; \
             did you mean \"success\"?"
        )],
    );
}

#[test]
fn unknown_phase_is_rejected_with_the_phase_list() {
    rejects(
        "unknown_phase",
        &[&format!(
            "47:9: technique \"persist\": unknown phase \"persistence\"; phases are {PHASES}"
        )],
    );
}

#[test]
fn misspelt_phase_gets_a_suggestion() {
    rejects(
        "misspelt_phase",
        &[&format!(
            "28:9: technique \"phish\": unknown phase \"deliver\"; phases are {PHASES}; \
             did you mean \"delivery\"?"
        )],
    );
}

#[test]
fn probability_above_one_is_rejected() {
    rejects(
        "probability_out_of_range",
        &["43:11: technique \"exploit\": success 1.5 is outside [0, 1]"],
    );
}

#[test]
fn zero_weight_is_rejected() {
    rejects(
        "weight_not_positive",
        &["30:10: technique \"phish\": weight 0 must be a number > 0 and at most 1e12"],
    );
}

#[test]
fn duplicate_id_names_the_first_definition() {
    rejects(
        "duplicate_id",
        &[
            "34:6: duplicate id \"phish\": already used by the technique on line 27; \
           ids must be unique among techniques and controls",
        ],
    );
}

#[test]
fn control_naming_an_unknown_technique_lists_the_candidates() {
    rejects(
        "control_unknown_technique",
        &[
            "64:15: control \"mail-filter\": unknown technique \"spearphish\" in `techniques`; \
           techniques in its phases: phish, vpn-login",
        ],
    );
}

#[test]
fn an_after_list_naming_an_unknown_technique_lists_the_earlier_ones() {
    rejects(
        "after_unknown_technique",
        &[
            "43:10: technique \"exploit\": `after` names unknown technique \"phsh\"; \
           techniques of earlier phases: scan, build, phish, vpn-login; did you mean \"phish\"?",
        ],
    );
}

#[test]
fn a_landscape_adversary_whose_path_names_another_adversarys_technique_is_rejected() {
    rejects(
        "landscape_after_other_adversary",
        &[
            "45:10: technique \"p-user-exec\" of adversary \"phish-crew\": `after` names \
           \"c-login\", a technique of adversary \"cred-crew\"; a path stays within one \
           adversary's campaign; techniques of earlier phases: p-recon, p-kit, p-mail, p-link",
        ],
    );
}

#[test]
fn a_file_with_both_adversary_and_adversaries_is_rejected() {
    rejects(
        "landscape_both_tables",
        &[
            "14:1: a file has either one [adversary] or a landscape of [[adversaries]], not \
           both; move this adversary into [[adversaries]] with an `id`",
        ],
    );
}

#[test]
fn an_adversary_id_that_a_technique_uses_is_a_duplicate() {
    rejects(
        "landscape_duplicate_id",
        &[
            "69:6: duplicate id \"p-recon\": already used by the technique on line 21; ids \
           must be unique among adversaries, techniques and controls",
        ],
    );
}

#[test]
fn a_landscapes_loss_table_has_no_rate_of_its_own() {
    rejects(
        "landscape_loss_rate",
        &[
            "12:20: loss.attacks_per_year: in a landscape each adversary of [[adversaries]] \
           gives its own `attacks_per_year`; remove it here",
        ],
    );
}

#[test]
fn an_adversarys_impact_without_a_loss_table_is_rejected() {
    rejects(
        "landscape_impact_without_loss",
        &[
            "76:10: adversary \"cred-crew\": `impact` needs a [loss] table (its currency and the \
           default impact); add [loss] or remove this impact",
        ],
    );
}

#[test]
fn each_adversary_of_a_landscape_with_loss_needs_its_rate() {
    rejects(
        "landscape_no_rate",
        &[
            "69:6: adversary \"cred-crew\" has no `attacks_per_year` (expected campaigns per \
           year); every adversary needs one when the file has [loss]",
        ],
    );
}

#[test]
fn an_after_list_naming_a_technique_of_a_later_phase_is_rejected() {
    rejects(
        "after_later_phase",
        &[
            "48:21: technique \"persist\" (installation): `after` names \"beacon\", a technique \
           of phase \"command_and_control\"; a path runs forward, so `after` may name only \
           techniques of earlier phases; techniques of earlier phases: scan, build, phish, \
           vpn-login, exploit",
        ],
    );
}

#[test]
fn an_empty_after_list_is_rejected() {
    rejects(
        "after_empty",
        &[
            "43:9: technique \"exploit\": `after` is empty, so no campaign could use it; \
           omit `after` to allow every path, or name techniques of earlier phases",
        ],
    );
}

#[test]
fn phase_without_technique_points_at_the_adversary_table() {
    rejects(
        "phase_without_technique",
        &["11:1: no technique for phase \"actions_on_objectives\"; \
           every phase needs at least one [[adversary.techniques]]"],
    );
}

#[test]
fn probability_naming_an_unknown_fact_lists_the_numeric_facts() {
    rejects(
        "unknown_environment_fact",
        &[
            "31:11: technique \"phish\": success names unknown environment fact \"open_rate\"; \
           numeric facts: click_rate",
        ],
    );
}

#[test]
fn requires_naming_an_unknown_fact_lists_the_boolean_facts() {
    rejects(
        "requires_unknown_fact",
        &[
            "38:13: technique \"vpn-login\": requires names unknown environment fact \
           \"mfa_on_vpn\"; boolean facts: mfa",
        ],
    );
}

#[test]
fn boolean_fact_used_as_a_probability_is_rejected() {
    rejects(
        "boolean_fact_as_probability",
        &[
            "43:11: technique \"exploit\": success names environment fact \"mfa\" = false, \
           a boolean; a probability needs a numeric fact",
        ],
    );
}

#[test]
fn response_on_a_deny_control_is_rejected() {
    rejects(
        "response_on_deny",
        &[
            "66:12: control \"mail-filter\": response applies only to detect and deceive \
           controls; this one is \"deny\"",
        ],
    );
}

#[test]
fn control_technique_outside_the_controls_phases_is_rejected() {
    rejects(
        "control_technique_outside_phases",
        &[
            "71:26: control \"edr\": technique \"phish\" is in phase \"delivery\", \
           not one of the control's phases (exploitation, installation)",
        ],
    );
}

#[test]
fn attack_id_of_the_wrong_shape_is_rejected() {
    rejects(
        "attack_id_shape",
        &[
            "29:10: technique \"phish\": attack \"T1566.1\" is not an ATT&CK technique id; \
           expected T followed by four digits, optionally .NNN (e.g. T1566.001)",
        ],
    );
}

#[test]
fn requires_naming_a_numeric_fact_is_rejected() {
    rejects(
        "requires_numeric_fact",
        &[
            "38:13: technique \"vpn-login\": requires names environment fact \"click_rate\" \
           = 0.3, a number; `requires` needs a boolean fact",
        ],
    );
}

#[test]
fn zero_trials_in_the_file_is_rejected() {
    rejects("trials_zero", &["4:10: trials must be at least 1, got 0"]);
}

#[test]
fn both_problems_of_a_file_are_reported_in_file_order() {
    rejects(
        "two_problems",
        &[
            "30:10: technique \"phish\": weight -2 must be a number > 0 and at most 1e12",
            "53:11: technique \"beacon\": success 2 is outside [0, 1]",
        ],
    );
}

// ------------------------------------------------------------ bad input that is not a bad fixture

#[test]
fn missing_file_is_a_usage_error() {
    let path = "tests/data/invalid/no-such-file.toml";
    assert!(!Path::new(path).exists());
    run_rejects(
        &[path],
        &format!(
            "error: {path}: cannot read scenario file: No such file or directory (os error 2)\n"
        ),
    );
}

#[test]
fn a_folder_given_as_scenario_is_a_usage_error() {
    run_rejects(
        &["tests/data/valid"],
        "error: tests/data/valid: cannot read scenario file: it is a directory, not a regular file; \
         give a regular file of at most 16 MiB\n",
    );
}

#[test]
fn file_that_is_not_utf8_is_rejected_at_the_first_bad_byte() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("latin1.toml");
    fs::write(&path, b"[scenario]\nname = \"caf\xe9\"\n").unwrap();
    let shown = path.to_str().unwrap();
    run_rejects(
        &[shown],
        &format!("error: {shown}:2:12: scenario file is not valid UTF-8\n"),
    );
}

#[test]
fn one_bad_file_stops_every_scenario_of_the_run() {
    // tiny.toml is valid, but nothing may be written while another file has problems.
    let path = invalid("weight_not_positive");
    run_rejects(
        &["tests/data/valid/tiny.toml", &path],
        &format!(
            "error: {path}:30:10: technique \"phish\": weight 0 must be a number > 0 and at most 1e12\n"
        ),
    );
}

#[test]
fn two_scenarios_with_the_same_file_stem_are_refused_before_writing() {
    let elsewhere = TempDir::new().unwrap();
    let copy = elsewhere.path().join("tiny.toml");
    fs::copy("tests/data/valid/tiny.toml", &copy).unwrap();
    let out = TempDir::new().unwrap();
    let out_tiny = out.path().join("tiny");
    killchain()
        .args(["run", "tests/data/valid/tiny.toml"])
        .arg(&copy)
        .arg("--out")
        .arg(out.path())
        .assert()
        .code(2)
        .stdout("")
        .stderr(format!(
            "error: {}: another scenario also writes to {}; give the files different names\n",
            copy.display(),
            out_tiny.display()
        ));
    assert_eq!(entries(out.path()), Vec::<String>::new());
}

// ---------------------------------------------------------------------------------- validate

#[test]
fn every_shipped_scenario_validates() {
    let mut files: Vec<String> = fs::read_dir("scenarios")
        .unwrap()
        .map(|e| e.unwrap().path().to_str().unwrap().to_owned())
        .filter(|p| p.ends_with(".toml"))
        .collect();
    files.sort();
    assert!(
        files.len() >= 3,
        "expected the shipped scenarios, found {files:?}"
    );
    for file in &files {
        killchain()
            .args(["validate", file])
            .assert()
            .code(0)
            .stderr("")
            .stdout(
                predicate::str::starts_with(format!("ok: {file} (")).and(
                    predicate::str::is_match(
                        r"^ok: \S+ \((\d+ adversaries, )?\d+ techniques, \d+ controls\)\n$",
                    )
                    .unwrap(),
                ),
            );
    }
}

#[test]
fn validate_prints_counts_for_each_good_file() {
    killchain()
        .args([
            "validate",
            "tests/data/valid/tiny.toml",
            "benches/data/reference.toml",
        ])
        .assert()
        .code(0)
        .stderr("")
        .stdout(
            "ok: tests/data/valid/tiny.toml (8 techniques, 2 controls)\n\
             ok: benches/data/reference.toml (21 techniques, 14 controls)\n",
        );
}

#[test]
fn validate_reports_the_problems_of_every_bad_file() {
    let first = invalid("weight_not_positive");
    let second = invalid("misspelt_phase");
    killchain()
        .args(["validate", &first, "tests/data/valid/tiny.toml", &second])
        .assert()
        .code(2)
        .stdout("")
        .stderr(format!(
            "error: {first}:30:10: technique \"phish\": weight 0 must be a number > 0 and at most 1e12\n\
             error: {second}:28:9: technique \"phish\": unknown phase \"deliver\"; \
             phases are {PHASES}; did you mean \"delivery\"?\n"
        ));
}

#[test]
fn every_invalid_fixture_is_rejected_by_validate() {
    let mut checked = 0;
    for entry in fs::read_dir("tests/data/invalid").unwrap() {
        let path = entry.unwrap().path();
        let shown = path.to_str().unwrap().to_owned();
        killchain()
            .args(["validate", &shown])
            .assert()
            .code(2)
            .stdout("")
            .stderr(predicate::str::starts_with(format!("error: {shown}:")));
        checked += 1;
    }
    assert_eq!(
        checked, 46,
        "a fixture was added or removed without a pinned test"
    );
}

// ---------------------------------------------------------------------------------- run

const OUTPUT_FILES: [&str; 4] = ["controls.csv", "phases.csv", "run.json", "techniques.csv"];

fn run_tiny(out: &Path, seed: &str) {
    killchain()
        .args([
            "run",
            "tests/data/valid/tiny.toml",
            "--trials",
            "2000",
            "--seed",
            seed,
        ])
        .arg("--out")
        .arg(out)
        .assert()
        .code(0)
        .stderr("")
        .stdout(
            predicate::str::starts_with(format!("Tiny — 2000 trials, seed {seed}\n")).and(
                predicate::str::ends_with(format!("wrote {}\n\n", out.join("tiny").display())),
            ),
        );
}

#[test]
fn valid_run_writes_exactly_the_four_reports() {
    let out = TempDir::new().unwrap();
    run_tiny(out.path(), "3");
    let dir = out.path().join("tiny");
    assert_eq!(entries(out.path()), ["tiny"]);
    assert_eq!(entries(&dir), OUTPUT_FILES, "temporary files left behind?");

    let phases = fs::read_to_string(dir.join("phases.csv")).unwrap();
    let lines: Vec<&str> = phases.lines().collect();
    assert_eq!(lines.len(), 8, "header and seven phases:\n{phases}");
    assert!(lines[0].starts_with("scenario,seed,trials,phase_index,phase,reached,"));
    assert!(
        lines[1].starts_with("Tiny,3,2000,1,reconnaissance,2000,"),
        "{}",
        lines[1]
    );
    assert!(lines[7].starts_with("Tiny,3,2000,7,actions_on_objectives,"));

    let techniques = fs::read_to_string(dir.join("techniques.csv")).unwrap();
    assert_eq!(techniques.lines().count(), 1 + 8);
    assert!(techniques.contains("\nTiny,phish,phish,delivery,T1566.001,true,"));

    let controls = fs::read_to_string(dir.join("controls.csv")).unwrap();
    assert!(controls.contains("\nTiny,mail-filter,mail-filter,deny,"));
    assert!(controls.contains("\nTiny,edr,edr,detect,"));

    let manifest: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(dir.join("run.json")).unwrap()).unwrap();
    assert_eq!(manifest["scenario"], "Tiny");
    assert_eq!(manifest["scenario_file"], "tests/data/valid/tiny.toml");
    assert_eq!(manifest["seed"], 3);
    assert_eq!(manifest["trials"], 2000);
}

#[test]
fn same_run_twice_gives_identical_tables() {
    let a = TempDir::new().unwrap();
    let b = TempDir::new().unwrap();
    run_tiny(a.path(), "3");
    run_tiny(b.path(), "3");
    for name in ["phases.csv", "controls.csv", "techniques.csv"] {
        assert_eq!(
            fs::read(a.path().join("tiny").join(name)).unwrap(),
            fs::read(b.path().join("tiny").join(name)).unwrap(),
            "{name} differs between two runs with the same seed"
        );
    }
}

#[test]
fn second_run_replaces_every_file_of_the_first() {
    let out = TempDir::new().unwrap();
    let dir = out.path().join("tiny");
    run_tiny(out.path(), "3");
    let first = fs::read_to_string(dir.join("phases.csv")).unwrap();
    run_tiny(out.path(), "4");
    assert_eq!(entries(&dir), OUTPUT_FILES, "temporary files left behind?");

    let second = fs::read_to_string(dir.join("phases.csv")).unwrap();
    assert_ne!(first, second, "a different seed should change phases.csv");
    assert!(
        second
            .lines()
            .skip(1)
            .all(|l| l.starts_with("Tiny,4,2000,")),
        "{second}"
    );
    let manifest: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(dir.join("run.json")).unwrap()).unwrap();
    assert_eq!(manifest["seed"], 4);
    // controls.csv and techniques.csv have no seed column: compare them with a fresh seed-4 run.
    let fresh = TempDir::new().unwrap();
    run_tiny(fresh.path(), "4");
    for name in ["phases.csv", "controls.csv", "techniques.csv"] {
        assert_eq!(
            fs::read(dir.join(name)).unwrap(),
            fs::read(fresh.path().join("tiny").join(name)).unwrap(),
            "{name} still holds (part of) the first run's results"
        );
    }
}

#[test]
fn rejected_run_leaves_previous_results_untouched() {
    let out = TempDir::new().unwrap();
    let dir = out.path().join("tiny");
    run_tiny(out.path(), "3");
    let read_all = || -> Vec<Vec<u8>> {
        OUTPUT_FILES
            .iter()
            .map(|f| fs::read(dir.join(f)).unwrap())
            .collect()
    };
    let before = read_all();
    // A broken scenario with the same file stem would write to the same folder.
    let elsewhere = TempDir::new().unwrap();
    let broken = elsewhere.path().join("tiny.toml");
    fs::copy(invalid("probability_out_of_range"), &broken).unwrap();
    killchain()
        .arg("run")
        .arg(&broken)
        .args(["--seed", "4", "--out"])
        .arg(out.path())
        .assert()
        .code(2)
        .stdout("")
        .stderr(format!(
            "error: {}:43:11: technique \"exploit\": success 1.5 is outside [0, 1]\n",
            broken.display()
        ));
    assert_eq!(read_all(), before);
    assert_eq!(entries(&dir), OUTPUT_FILES);
}

// ---------------------------------------------------------------------------------- help

#[test]
fn help_exits_zero_and_lists_the_commands() {
    killchain()
        .arg("--help")
        .assert()
        .code(0)
        .stderr("")
        .stdout(
            predicate::str::starts_with("Monte Carlo simulation of attack scenarios")
                .and(predicate::str::contains("Usage: killchain <COMMAND>"))
                .and(predicate::str::contains("\n  run "))
                .and(predicate::str::contains("\n  validate ")),
        );
}

#[test]
fn run_help_exits_zero_and_documents_the_options() {
    killchain()
        .args(["run", "--help"])
        .assert()
        .code(0)
        .stderr("")
        .stdout(
            predicate::str::contains("--trials <N>")
                .and(predicate::str::contains("--seed <S>"))
                .and(predicate::str::contains("--threads <T>"))
                .and(predicate::str::contains("--out <DIR>")),
        );
}

#[test]
fn no_arguments_is_a_usage_error() {
    killchain()
        .assert()
        .code(2)
        .stdout("")
        .stderr(predicate::str::contains("Usage: killchain <COMMAND>"));
}

/// A broken technique does not hide the problems of the controls after it.
#[test]
fn problems_in_techniques_and_controls_are_reported_together() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("both.toml");
    let text = fs::read_to_string("tests/data/valid/tiny.toml")
        .unwrap()
        .replacen("success = 0.9", "success = 1.5", 1)
        + "\n[[controls]]\nid = \"late\"\naction = \"deny\"\nphases = [\"delivery\"]\neffectiveness = 2\n";
    fs::write(&path, text).unwrap();
    let out = killchain().arg("validate").arg(&path).assert().code(2);
    let stderr = String::from_utf8(out.get_output().stderr.clone()).unwrap();
    assert_eq!(stderr.lines().count(), 2, "{stderr}");
    assert!(stderr.contains("success 1.5 is outside [0, 1]"), "{stderr}");
    assert!(
        stderr.contains("control \"late\": effectiveness 2 is outside [0, 1]"),
        "{stderr}"
    );
}

/// Weights are relative; a weight so large that a phase's sum would overflow is refused.
#[test]
fn an_enormous_weight_is_refused_with_a_readable_number() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("huge.toml");
    let text = fs::read_to_string("tests/data/valid/tiny.toml")
        .unwrap()
        .replacen("success = 0.9", "success = 0.9\nweight = 1e308", 1);
    fs::write(&path, text).unwrap();
    let out = killchain().arg("validate").arg(&path).assert().code(2);
    let stderr = String::from_utf8(out.get_output().stderr.clone()).unwrap();
    assert!(
        stderr.contains("weight 1e308 must be a number > 0 and at most 1e12"),
        "{stderr}"
    );
}

// ---------------------------------------------------------------- [loss]

const IMPACT_SHAPE: &str = "loss.impact must be an amount, { low = …, high = … } (lognormal 5th \
                            and 95th percentiles) or { min = …, mode = …, max = … } (PERT)";

#[test]
fn loss_attacks_per_year_out_of_range_is_rejected() {
    rejects(
        "loss_attacks_out_of_range",
        &[
            "75:20: loss.attacks_per_year must be a number in [0.01, 1000000] (expected campaigns per year), got 0",
        ],
    );
}

#[test]
fn loss_without_impact_is_rejected() {
    rejects(
        "loss_missing_impact",
        &[
            "74:1: [loss] has no `impact`; give an amount, { low = …, high = … } (lognormal 5th and 95th percentiles) or { min = …, mode = …, max = … } (PERT)",
        ],
    );
}

#[test]
fn loss_lognormal_low_above_high_is_rejected() {
    rejects(
        "loss_lognormal_order",
        &["76:10: loss.impact: low (4000000) must be above 0 and below high (250000)"],
    );
}

#[test]
fn loss_pert_out_of_order_is_rejected() {
    rejects(
        "loss_pert_order",
        &[
            "76:10: loss.impact: a PERT impact needs min <= mode <= max and min < max, got min 50000, mode 9000000, max 6000000",
        ],
    );
}

#[test]
fn loss_negative_fixed_impact_is_rejected() {
    rejects(
        "loss_negative_impact",
        &["76:10: loss.impact must be an amount in [0, 1e12], got -5"],
    );
}

#[test]
fn loss_impact_unknown_key_gets_a_suggestion() {
    rejects(
        "loss_impact_unknown_key",
        &[
            "76:10: loss.impact: unknown key \"mdoe\"; keys are low and high (lognormal) or min, mode and max (PERT); did you mean \"mode\"?",
        ],
    );
}

#[test]
fn loss_impact_mixing_kinds_is_rejected() {
    rejects(
        "loss_impact_mixed",
        &[&format!(
            "76:10: {IMPACT_SHAPE}; it cannot mix lognormal and PERT keys"
        )],
    );
}

#[test]
fn loss_impact_infinite_bound_is_rejected() {
    rejects(
        "loss_impact_not_finite",
        &["76:10: loss.impact.high must be an amount in [0, 1e12], got inf"],
    );
}

#[test]
fn loss_currency_that_is_a_formula_is_rejected() {
    rejects(
        "loss_currency_formula",
        &[
            "77:12: loss.currency must be a label of 1 to 16 letters, digits, `.`, `_` or `-` such as \"USD\", got \"=1+1\"",
        ],
    );
}

#[test]
fn loss_unknown_key_gets_a_suggestion() {
    rejects(
        "loss_unknown_key",
        &[
            "77:1: unknown field `curency`, expected one of `attacks_per_year`, `impact`, `currency`; did you mean \"currency\"?",
        ],
    );
}
